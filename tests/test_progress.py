"""verbose=1 shows a progress bar on stderr when it is a terminal, and nothing otherwise."""

import io
import sys

import numpy as np

from ae_anomaly import Autoencoder

X = np.random.RandomState(0).normal(size=(80, 4))


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    Autoencoder(max_iter=3, verbose=1, random_state=0).fit(X)
    output = terminal.getvalue()
    assert "Autoencoder" in output and "3/3" in output
    assert "epoch/s" in output
    assert "loss=" in output and "val_loss=" in output


def test_quiet_when_stderr_is_not_a_terminal(monkeypatch):
    pipe = io.StringIO()  # isatty() is False, as for a file or a pipe
    monkeypatch.setattr(sys, "stderr", pipe)
    Autoencoder(max_iter=3, verbose=1, early_stopping=False, tol=10, random_state=0).fit(X)
    assert pipe.getvalue() == ""


def test_quiet_by_default(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    Autoencoder(max_iter=3, early_stopping=False, tol=10, random_state=0).fit(X)
    assert terminal.getvalue() == ""
