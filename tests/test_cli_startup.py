"""``ae-anomaly --help`` and ``--version`` start without torch or scikit-learn.

``info`` verifies the whole model file, as ``load`` does (SECURITY.md): that builds the
estimator, so it imports torch; it must still answer, and print the header.
"""

import gc
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ae_anomaly
from ae_anomaly.cli.options import kind_of, model_names
from ae_anomaly.models.registry import autoencoders, cli_name, public_estimators, type_name

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import gc, json, sys
from ae_anomaly.cli import main
try:
    main(sys.argv[1:])
except SystemExit as stop:
    code = stop.code
heavy = [name for name in ("torch", "sklearn", "skops") if name in sys.modules]
frozen = gc.get_freeze_count() > 0
seen = {"code": code, "heavy": heavy, "frozen": frozen, "collecting": gc.isenabled()}
sys.stderr.write("\\nPROBE " + json.dumps(seen) + "\\n")
"""


def probe(*args):
    """Run the CLI in a fresh interpreter: its exit code, the heavy modules it imported and
    whether it froze the objects alive (``gc.freeze``) on its way out."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *map(str, args)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    line = [row for row in result.stderr.splitlines() if row.startswith("PROBE ")]
    assert line, result.stderr
    return result.stdout, json.loads(line[-1].removeprefix("PROBE "))


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["--version"], ["fit", "--help"]])
def test_help_and_version_import_neither_torch_nor_sklearn(args):
    stdout, seen = probe(*args)
    assert seen == {"code": 0, "heavy": [], "frozen": True, "collecting": True}, seen
    assert "ae-anomaly" in stdout or "0.1.0" in stdout


@pytest.mark.parametrize("extra, code", [([], 0), (["--contamination", "2"], 2)])
def test_a_command_freezes_its_objects_on_the_way_out(tmp_path, extra, code):
    # The interpreter's exit then skips the cycle collection over torch's and scikit-learn's
    # objects; the output is written and closed before that.
    data, out = tmp_path / "d.csv", tmp_path / "o.csv"
    frame = np.random.RandomState(0).normal(size=(60, 3))
    np.savetxt(data, frame, delimiter=",", header="a,b,c", comments="")
    _, seen = probe("detect", data, "-o", out, "--set", "max_iter=2", *extra)
    assert seen["code"] == code and seen["frozen"] and seen["collecting"], seen
    assert out.exists() == (code == 0)
    if code == 0:
        assert len(out.read_text().splitlines()) == 61


def test_a_command_run_in_the_callers_process_leaves_its_collector_alone(tmp_path):
    from click.testing import CliRunner

    from ae_anomaly.cli import cli

    data = tmp_path / "d.csv"
    np.savetxt(data, np.random.RandomState(0).normal(size=(60, 3)), delimiter=",",
               header="a,b,c", comments="")  # fmt: skip
    frozen = gc.get_freeze_count()
    result = CliRunner().invoke(cli, ["detect", str(data), "--set", "max_iter=2"])
    assert result.exit_code == 0, result.output
    assert gc.get_freeze_count() == frozen and gc.isenabled()


def test_info_verifies_the_file_and_prints_the_header(tmp_path):
    path = tmp_path / "model.skops"
    X = np.random.RandomState(0).normal(size=(40, 3))
    ae_anomaly.save(ae_anomaly.Autoencoder(max_iter=1, random_state=0).fit(X), path)
    stdout, seen = probe("info", path)
    assert seen["code"] == 0, seen
    assert "autoencoder (ae_anomaly.models.autoencoder.Autoencoder)" in stdout


def test_model_choices_derived_without_imports_equal_the_registry():
    assert model_names() == list(autoencoders())
    for cls in public_estimators():
        expected = cli_name(cls) if cls in autoencoders().values() else "-"
        assert kind_of(type_name(cls)) == expected


def test_lazy_exports_keep_the_public_names():
    assert ae_anomaly.__version__ == "0.1.0"
    for name in ae_anomaly.__all__:
        assert getattr(ae_anomaly, name) is not None
        assert name in dir(ae_anomaly)
    from ae_anomaly import Autoencoder, fit_chunks  # noqa: F401

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        ae_anomaly.Nope  # noqa: B018
