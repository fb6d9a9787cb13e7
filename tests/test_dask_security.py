"""The local Dask engine opens no door: no TCP listener, no dashboard, nothing to connect to.

Dask's default ``LocalCluster`` listens on TCP without authentication (anyone on the machine
could ``Client(address).run(...)`` code in it) and serves a dashboard on 8787 even with
``dashboard_address=None``. ``open_client()`` must start none of that.
"""

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")

from ae_anomaly.scale import dask as ae_dask  # noqa: E402


def _listening():
    """Every socket this process (and its children) listens on, TCP or Unix."""
    me = psutil.Process()
    found = set()
    for proc in [me, *me.children(recursive=True)]:
        for conn in proc.net_connections(kind="all"):
            if conn.status == psutil.CONN_LISTEN:
                found.add((proc.pid, conn.family, str(conn.laddr)))
    return found


def test_local_cluster_has_no_listener_and_still_computes():
    before = _listening()
    with ae_dask.open_client() as client:
        opened = _listening() - before
        assert opened == set(), f"open_client() listens on {opened}"
        assert client.scheduler.address.startswith("inproc://")
        assert client.submit(sum, [1, 2, 3]).result() == 6
        assert len(client.scheduler_info()["workers"]) == 1
        assert not client.dashboard_link  # no dashboard
        # the in-process address means nothing to another process: nothing to connect to
        assert "inproc" in client.scheduler.address


def test_second_client_from_another_process_cannot_connect(tmp_path):
    import subprocess
    import sys

    with ae_dask.open_client() as client:
        address = client.scheduler.address
        probe = (
            "import sys, distributed\n"
            "try:\n"
            f"    distributed.Client({address!r}, timeout='3s')\n"
            "except Exception as exc:\n"
            "    print('refused', type(exc).__name__); sys.exit(0)\n"
            "sys.exit(1)\n"
        )
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                timeout=120)  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        assert "refused" in result.stdout


def test_worker_processes_refused():
    with pytest.raises(ValueError, match="threads of this process"):
        with ae_dask.open_client(processes=True):
            pass


def test_cli_score_engine_dask_without_scheduler_opens_no_port(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from ae_anomaly.cli import cli

    rng = np.random.RandomState(0)
    table = pd.DataFrame(rng.normal(size=(300, 3)), columns=list("abc"))
    table.to_parquet(tmp_path / "all.parquet", index=False)
    model = tmp_path / "m.skops"
    runner = CliRunner()
    fitted = runner.invoke(cli, ["fit", str(tmp_path / "all.parquet"), "-o", str(model),
                                 "--set", "max_iter=2"])  # fmt: skip
    assert fitted.exit_code == 0, fitted.output

    real = ae_dask.open_client
    seen = {}

    def spy(*args, **kwargs):
        before = _listening()
        with real(*args, **kwargs) as client:
            seen["opened"] = _listening() - before
            yield client

    import contextlib

    monkeypatch.setattr(ae_dask, "open_client", contextlib.contextmanager(spy))
    out = tmp_path / "scores"
    result = runner.invoke(cli, ["score", str(model), str(tmp_path / "all.parquet"),
                                 "--engine", "dask", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert seen["opened"] == set()
    assert sum(len(pd.read_parquet(p)) for p in out.glob("*.parquet")) == 300
