"""Hostile outputs: refused devices, links, full disks, read-only folders, concurrent
and killed runs; one line on stderr, the right exit status, no traceback, and no partial
output left behind or file of the user's lost."""

import errno
import io
import os
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ae_anomaly.tables.formats import OutputError
from ae_anomaly.tables.writer import PART_SUFFIX, TableWriter, atomic_path, clean_stale_parts
from tests.cli_checks import (
    FAST,
    ROOT,
    assert_error,
    cli_subprocess,
    no_leftovers,
    one_line_error,
    run,
    train_model,
)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return train_model(tmp_path_factory.mktemp("model"))


# ------------------------------------------------------------------------------- outputs
def test_parquet_gz_output_refused(model, tmp_path):
    out = tmp_path / "scores.parquet.gz"
    assert_error(run("score", model, model.parent / "train.csv", "-o", out), 2, "drop .gz")
    assert not out.exists()


def test_output_to_a_device_or_a_terminal_link_refused(model, tmp_path):
    data = model.parent / "train.csv"
    device = tmp_path / "full.csv"
    device.symlink_to("/dev/full")
    assert_error(run("score", model, data, "-o", device, "--force"), 2, "not a regular file")
    link = tmp_path / "out.csv"
    link.symlink_to("/proc/self/fd/1")
    result = cli_subprocess("score", model, data, "-o", link, "--force")
    one_line_error(result, 2, "not a regular file", "-o -")
    assert link.is_symlink()


def test_output_without_extension_needs_the_delimiter_the_advice_names(model, tmp_path):
    data = model.parent / "train.csv"
    out = tmp_path / "scores"
    assert_error(run("score", model, data, "-o", out), 2, "pass --delimiter")
    assert not out.exists()
    result = run("score", model, data, "-o", out, "--delimiter", ",")
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines()[0] == "id,anomaly_score,is_anomaly"
    # with the format settled, a device is refused as a device
    assert_error(run("score", model, data, "-o", "/dev/full", "--delimiter", ","), 2,
                 "not a regular file")  # fmt: skip


def test_full_disk_leaves_nothing(model, tmp_path):
    out = tmp_path / "scores.csv"
    result = cli_subprocess("score", model, model.parent / "train.csv", "-o", out,
                            limits={resource.RLIMIT_FSIZE: 200})  # fmt: skip
    one_line_error(result, 1, "Cannot write", "File too large")
    assert not out.exists()
    no_leftovers(tmp_path)


def test_symlinked_output_to_another_directory_writes_the_target(model, tmp_path):
    """``-o link.csv --force`` replaces the file the link points to and keeps the link
    (writing beside the target: no cross-device rename, EXDEV, when it is elsewhere)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "real.csv"
    target.write_text("old\n")
    target.chmod(0o640)  # neither mkstemp's 0600 nor the umask's 0644
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    result = run("score", model, model.parent / "train.csv", "-o", link, "--force")
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and target.read_text().startswith("id,anomaly_score")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # --force keeps the mode
    no_leftovers(tmp_path)
    no_leftovers(elsewhere)
    plain = tmp_path / "plain.csv"  # a plain file: replaced, its mode kept
    plain.write_text("old\n")
    plain.chmod(0o640)
    result = run("score", model, model.parent / "train.csv", "-o", plain, "--force")
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(plain.stat().st_mode) == 0o640
    assert plain.read_text().startswith("id,anomaly_score")


def test_symlinked_output_to_another_filesystem_is_no_cross_device_rename(model, tmp_path):
    """The issue's EXDEV case: the link's target on another filesystem (a tmpfs), where a
    temporary file written beside the link could not be renamed onto the target."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK):
        pytest.skip("no writable /dev/shm")
    if shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("/dev/shm is on the same filesystem as the temporary directory")
    elsewhere = Path(tempfile.mkdtemp(dir=shm))
    try:
        target = elsewhere / "real.csv"
        target.write_text("old\n")
        link = tmp_path / "link.csv"
        link.symlink_to(target)
        result = run("score", model, model.parent / "train.csv", "-o", link, "--force")
        assert result.exit_code == 0, result.output
        assert link.is_symlink() and target.read_text().startswith("id,anomaly_score")
        no_leftovers(tmp_path)
        no_leftovers(elsewhere)
    finally:
        shutil.rmtree(elsewhere)


def test_a_run_never_replaces_a_file_another_run_created_meanwhile(tmp_path):
    out = tmp_path / "scores.csv"
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    with pytest.raises(OutputError, match="created by someone else"):
        with TableWriter(out) as writer:
            writer.write(frame)
            out.write_text("the other run's result\n")  # the faster run finished first
    assert out.read_text() == "the other run's result\n"
    no_leftovers(tmp_path)
    with TableWriter(out) as writer:  # it existed at the start: replaced (--force)
        writer.write(frame)
    assert out.read_text().startswith("a\n")


def test_two_runs_without_force_the_slower_does_not_replace_the_faster(model, tmp_path,
                                                                      monkeypatch):  # fmt: skip
    """Both found no output when they started (``check_output``); the faster one wrote it
    before the slower one even opened its output: the slower fails, the file is kept."""
    import ae_anomaly.persistence.modelfile as modelfile
    import ae_anomaly.tables.scoring as scoring

    out = tmp_path / "scores.csv"
    chunks = scoring._chunks

    def faster_run_finishes_first(*args, **kwargs):
        out.write_text("the faster run's scores\n")
        return chunks(*args, **kwargs)

    monkeypatch.setattr(scoring, "_chunks", faster_run_finishes_first)
    result = run("score", model, model.parent / "train.csv", "-o", out)
    assert_error(result, 1, "created by someone else while this ran")
    assert out.read_text() == "the faster run's scores\n"
    no_leftovers(tmp_path)
    result = run("score", model, model.parent / "train.csv", "-o", out, "--force")
    assert result.exit_code == 0, result.output  # --force: replacing it is asked for
    assert out.read_text().startswith("id,anomaly_score")

    saved = tmp_path / "m.skops"
    loadable = modelfile._check_loadable

    def faster_fit_finishes_first(*args):
        saved.write_bytes(b"the faster run's model")
        return loadable(*args)

    monkeypatch.setattr(modelfile, "_check_loadable", faster_fit_finishes_first)
    result = run("fit", model.parent / "train.csv", "-o", saved, "--id-col", "id", *FAST)
    assert_error(result, 1, "created by someone else while this ran")
    assert saved.read_bytes() == b"the faster run's model"
    no_leftovers(tmp_path)


def test_stale_part_files_of_killed_runs_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    stale = tmp_path / f".out.csv.{dead}.abc{PART_SUFFIX}"
    stale.write_text("half a result")
    mine = tmp_path / f".out.csv.{os.getpid()}.abc{PART_SUFFIX}"
    mine.write_text("being written")
    other = tmp_path / ".other.csv.1.abc.part"
    other.write_text("not ours")
    assert clean_stale_parts(tmp_path / "out.csv") == [stale]
    assert mine.exists() and other.exists()
    with atomic_path(tmp_path / "out.csv") as tmp:
        assert Path(tmp).name.startswith(f".out.csv.{os.getpid()}.")
        assert Path(tmp).name.endswith(PART_SUFFIX)
        Path(tmp).write_text("done")
    assert not stale.exists()


def test_kill_9_leaves_a_recognisable_part_cleaned_on_the_next_run(model, tmp_path):
    rng = np.random.RandomState(0)
    big = pd.DataFrame(rng.normal(size=(150_000, 3)), columns=["amount", "age", "score"])
    big.insert(0, "id", range(len(big)))
    data = tmp_path / "big.csv"
    big.to_csv(data, index=False)
    out = tmp_path / "scores.csv"
    process = subprocess.Popen([sys.executable, "-m", "ae_anomaly", "score", str(model),
                                str(data), "-o", str(out)], cwd=ROOT,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    for _ in range(600):  # wait for its temporary output to appear, then kill it hard
        parts = list(tmp_path.glob(f".scores.csv.*{PART_SUFFIX}"))
        if parts or process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    process.wait()
    if not parts:
        pytest.skip("the run finished before it could be killed")
    assert not out.exists()
    result = run("score", model, model.parent / "train.csv", "-o", out)
    assert result.exit_code == 0, result.output
    assert not any(p.exists() for p in parts)
    no_leftovers(tmp_path)


@pytest.fixture
def read_only_folder(tmp_path, monkeypatch):
    """A directory this process cannot write into. Root writes anywhere (CI runs as root),
    so there the kernel's answer for this one directory is replaced by "no" (EACCES);
    elsewhere the directory really is mode 0500."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:
        real_access = os.access

        def access(path, mode, **kwargs):
            if os.path.realpath(path) == os.path.realpath(folder) and mode & os.W_OK:
                return False
            return real_access(path, mode, **kwargs)

        monkeypatch.setattr(os, "access", access)
        yield folder
    else:
        folder.chmod(0o500)
        try:
            yield folder
        finally:
            folder.chmod(0o700)


@pytest.mark.parametrize(
    "command",
    [
        ["score", "{model}", "{data}", "-o", "{out}/s.csv"],
        ["fit", "{data}", "-o", "{out}/m.skops", "--id-col", "id"],
        [
            "detect",
            "{data}",
            "-o",
            "{tmp}/d.csv",
            "--save-model",
            "{out}/m.skops",
            "--id-col",
            "id",
        ],
    ],
    ids=["score", "fit", "detect --save-model"],
)
def test_unwritable_directory_refused_before_work(model, tmp_path, read_only_folder,
                                                  monkeypatch, command):  # fmt: skip
    from ae_anomaly.models.base import BaseAutoencoder

    def no_training(*args, **kwargs):
        raise AssertionError("trained before the output directory was checked")

    monkeypatch.setattr(BaseAutoencoder, "fit", no_training)
    names = dict(model=model, data=model.parent / "train.csv", out=read_only_folder,
                 tmp=tmp_path)  # fmt: skip
    result = run(*(part.format(**names) for part in command))
    assert_error(result, 2, "read-only")
    assert list(read_only_folder.iterdir()) == []
    assert not (tmp_path / "d.csv").exists()


# --------------------------------------------------------------------------------- stdout
def cli_with_stdout(stdout, *args):
    """``python -m ae_anomaly`` with its stdout on a full disk (``> /dev/full``) or closed
    (``>&-``, as cron or a daemon may start it)."""
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [sys.executable, "-m", "ae_anomaly", *map(str, args)], cwd=ROOT, text=True,
            stdout=full if stdout == "full" else subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=None if stdout == "full" else lambda: os.close(1), timeout=300,
        )  # fmt: skip
    result.stdout = ""
    return result


@pytest.mark.parametrize("stdout", ["full", "closed"])
@pytest.mark.parametrize("command", ["score", "info"])
def test_stdout_on_a_full_disk_or_closed_is_one_line(model, stdout, command):
    """The scores (stdout by default) or the model's description to a full disk ended in a
    traceback (OSError ENOSPC) after all the work; to a closed stdout in another
    (AttributeError on None), and ``info`` printed nothing with status 0. A closed stdout is
    refused before any work (status 2), a failed write is an error (status 1)."""
    args = [model, model.parent / "train.csv"] if command == "score" else [model]
    result = cli_with_stdout(stdout, command, *args)
    if stdout == "full":
        one_line_error(result, 1, "Cannot write to stdout: No space left on device")
    else:
        one_line_error(result, 2, "stdout is closed")


class _Failing(io.RawIOBase):
    """A stdout whose every write fails with ``error`` (while it is set)."""

    def __init__(self, error):
        self.error = error

    def writable(self):
        return True

    def write(self, data):
        if self.error is not None:
            raise self.error
        return len(data)


@pytest.mark.parametrize("error", [OSError(errno.EIO, "Input/output error"),
                                   BrokenPipeError(errno.EPIPE, "Broken pipe")])  # fmt: skip
def test_a_failed_write_to_stdout_is_an_output_error_a_gone_reader_a_broken_pipe(
    monkeypatch, error
):
    """A library caller (and the CLI's one-line errors) gets an :class:`OutputError`; a
    reader that went away (``| head``) stays a BrokenPipeError, which click ends quietly,
    with status 1, as it did."""
    failing = _Failing(error)  # buffered, as sys.stdout is: the flush on closing fails too
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BufferedWriter(failing)))
    expected = BrokenPipeError if isinstance(error, BrokenPipeError) else OutputError
    with pytest.raises(expected, match="Input/output error|Broken pipe"):
        with TableWriter("-") as writer:
            writer.write(pd.DataFrame({"a": np.arange(100_000.0)}))
    failing.error = None  # what is left in the buffer may go now
    monkeypatch.setattr(sys, "stdout", None)
    with pytest.raises(OutputError, match="stdout: it is closed"):
        TableWriter("-").__enter__()


class _Short(io.RawIOBase):
    """A raw stdout (``python -u``'s ``sys.stdout.buffer``) taking at most 1000 bytes per
    write, as a pipe does when its reader leaves during a large write."""

    def __init__(self):
        self.data = bytearray()

    def writable(self):
        return True

    def write(self, data):
        self.data += bytes(memoryview(data)[:1000])
        return min(1000, memoryview(data).nbytes)


def test_a_short_write_to_a_raw_stdout_is_written_on(monkeypatch, tmp_path):
    """Arrow ignores a write's count: a raw stdout's short writes lost the rest of the
    chunk, and the run reported success."""
    frame = pd.DataFrame({"a": np.arange(20_000.0), "b": "x"})
    short = _Short()
    monkeypatch.setattr(sys, "stdout", type("Stdout", (), {"buffer": short})())
    with TableWriter("-") as writer:
        writer.write(frame)
    with TableWriter(tmp_path / "whole.csv") as writer:
        writer.write(frame)
    assert bytes(short.data) == (tmp_path / "whole.csv").read_bytes()


@pytest.fixture(scope="module")
def big_input(model):
    """A file whose scores (560 KB) fill a pipe's 64 KiB many times, in one chunk."""
    path = model.parent / "big.csv"
    rows = "".join(f"{i},{i % 7}.5,{i % 5}.25,{i % 3}.125\n" for i in range(20_000))
    path.write_text("id,amount,age,score\n" + rows)
    return path


@pytest.mark.parametrize("unbuffered", ["1", None])
@pytest.mark.parametrize("taken", [0, 100, 5000])
def test_a_reader_that_leaves_early_gets_a_quiet_failure_never_a_success(
    model, big_input, unbuffered, taken
):
    """``score ... | head``: a reader that takes ``taken`` bytes and closes the pipe. Under
    ``python -u`` the run printed its summary ('wrote stdout') with status 0 though most of
    the table was never written; it ends with status 1 and nothing on stderr, as a
    reader gone away ends Unix tools. A small output (the training file) too, its reader
    gone before it starts."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env.update({"PYTHONUNBUFFERED": unbuffered} if unbuffered else {})
    data = big_input if taken else model.parent / "train.csv"
    read, write = os.pipe()
    process = subprocess.Popen([sys.executable, "-m", "ae_anomaly", "score", model, data],
                               cwd=ROOT, env=env, stdout=write, stderr=subprocess.PIPE)  # fmt: skip
    os.close(write)
    got = b""
    while len(got) < taken:  # at least the header and the first rows, then leave
        piece = os.read(read, taken - len(got))
        if not piece:
            break
        got += piece
    os.close(read)
    stderr = process.communicate(timeout=300)[1].decode()
    assert len(got) == taken
    assert process.returncode == 1, stderr
    assert stderr == ""
