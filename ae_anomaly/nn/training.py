"""THE training loop: one step function, one epoch driver, one stopping rule.

Every estimator trains through :func:`fit_epochs`, whatever feeds it: an in-memory array
(``fit``, ``partial_fit``), a stream of chunks read from files or Dask partitions
(``fit_stream``), or the codes of a lower layer (stacked pretraining). A variant never
writes a loop: it hands the driver its network, a per-sample loss
``loss_fn(module, x_batch, generator) -> tensor of shape (batch,)`` and a factory of one
epoch's batches (skorch's ``train_step`` / ``get_loss`` split).

Nothing here knows about scikit-learn or the estimators.
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from .runtime import inference_threads, intra_op_threads, make_adam


class TrainingDivergedError(FloatingPointError, ValueError):
    """The training loss became NaN or infinite, or blew up far above its start."""


#: An epoch's loss above this many times the untrained network's loss (that of the first
#: batch, before any step) means the training diverged (e.g. a learning rate far too high).
DIVERGENCE_FACTOR = 1e3
#: "Still clearly falling": each of the last ``IMPROVING_EPOCHS`` epochs lowered the
#: monitored loss by more than ``IMPROVING_RATE`` of the previous epoch's value, and the
#: loss is still above ``IMPROVING_LEFT`` times its first epoch's value (training has not
#: even halved it). A short budget stopping a loss that has already fallen far is by design
#: (on 12 ADBench sets the default 20 epochs end with the loss 51% to 89% below its first
#: epoch's, still falling 1% to 6% per epoch): that does not warn.
IMPROVING_EPOCHS, IMPROVING_RATE, IMPROVING_LEFT = 3, 0.01, 0.5


@dataclass
class History:
    """What one call of :func:`fit_epochs` observed, epoch by epoch."""

    loss: list = field(default_factory=list)
    validation_loss: list = field(default_factory=list)
    best_loss: float = math.inf
    n_iter: int = 0
    converged: bool = False


def make_optimizer(params, lr, weight_decay):
    """The optimizer of every training run: Adam with ``lr`` and L2 ``weight_decay``.

    :func:`~ae_anomaly.nn.runtime.make_adam`: torch's fused Adam step, bitwise, without
    the seconds ``torch.optim.Optimizer`` spends importing the compiler on first use.

    Examples
    --------
    >>> from torch import nn
    >>> make_optimizer(nn.Linear(2, 1).parameters(), 1e-2, 0.0).defaults["lr"]
    0.01
    """
    return make_adam(params, lr=lr, weight_decay=weight_decay)


#: Held while torch's global RNG is forked and seeded: a fork restores the state it saved,
#: so two on different threads would restore each other's (and the caller's RNG changed).
_SEEDED = threading.RLock()


@contextlib.contextmanager
def seeded(seed, device):
    """Seed torch's global RNG inside a fork, leaving the caller's RNG state untouched.

    Weight initialization draws from the global RNG (for a moment: building a network);
    everything the training loop draws (shuffling, noise, dropout) comes from an explicit
    ``torch.Generator``. One seeded block at a time across threads.
    """
    devices = [torch.device(device)] if torch.device(device).type == "cuda" else []
    with _SEEDED, torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


@contextlib.contextmanager
def autograd_on():
    """Gradients on in the block, whatever the caller's mode (``fit`` called inside
    ``torch.no_grad()`` or ``torch.inference_mode()``); the caller's mode is back after."""
    with torch.inference_mode(False), torch.enable_grad():
        yield


def shuffled_batches(X, batch_size, generator):
    """One epoch of mini-batches of the tensor ``X``, rows shuffled with ``generator``.

    The last partial batch is kept, so data smaller than ``batch_size`` still trains.
    The permutation is drawn when the iteration starts.

    Examples
    --------
    >>> import torch
    >>> batches = shuffled_batches(torch.arange(5.0), 2, torch.Generator().manual_seed(0))
    >>> [len(b) for b in batches]
    [2, 2, 1]
    """
    order = torch.randperm(X.shape[0], generator=generator, device=generator.device)
    for start in range(0, X.shape[0], batch_size):
        yield X[order[start : start + batch_size]]


def train_step(module, batch, loss_fn, optimizer, generator):
    """One optimizer step on ``batch``; return the batch's mean loss (detached, no sync)."""
    loss = loss_fn(module, batch, generator).mean()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


def run_epoch(module, batches, loss_fn, optimizer, generator):
    """Train on every batch of ``batches``; return the epoch's mean loss per row (a float).

    The batch losses stay on the device until the end of the epoch: one host sync.
    """
    module.train()
    losses, sizes = [], []
    for batch in batches:
        losses.append(train_step(module, batch, loss_fn, optimizer, generator))
        sizes.append(batch.shape[0])
    if not losses:
        raise ValueError("An epoch had no rows to train on.")
    weights = torch.tensor(sizes, dtype=losses[0].dtype, device=losses[0].device)
    return float(torch.stack(losses) @ weights) / sum(sizes)


class EarlyStopping:
    """``MLPRegressor``'s stopping rule: stop once the monitored loss has not improved by
    ``tol`` for ``n_iter_no_change`` epochs in a row (None: never stop early).

    With ``keep_best``, the weights of the best epoch are kept to be restored at the end.

    Examples
    --------
    >>> rule = EarlyStopping(tol=0.1, n_iter_no_change=2)
    >>> [rule.update(loss) for loss in (1.0, 0.95, 0.5, 0.45, 0.41)]
    [False, False, False, False, True]
    >>> rule.best
    0.41
    >>> rule.still_improving()  # falling more than 1% per epoch, but already below half
    False
    >>> slow = EarlyStopping(tol=0.0, n_iter_no_change=None)
    >>> _ = [slow.update(loss) for loss in (1.0, 0.95, 0.9, 0.85)]
    >>> slow.still_improving()  # falling more than 1% per epoch, not yet halved
    True
    """

    def __init__(self, tol, n_iter_no_change, *, keep_best=False):
        self.tol, self.n_iter_no_change, self.keep_best = tol, n_iter_no_change, keep_best
        self.best, self.best_state, self._stall = math.inf, None, 0
        self.monitored = []

    def still_improving(self):
        """True when the monitored loss is still clearly falling: each of the last
        ``IMPROVING_EPOCHS`` (3) epochs lowered it by more than ``IMPROVING_RATE`` (1%) of
        the previous epoch's value, and it is still above ``IMPROVING_LEFT`` (half) of its
        first epoch's value."""
        last = self.monitored[-(IMPROVING_EPOCHS + 1) :]
        if len(last) <= IMPROVING_EPOCHS or last[-1] <= IMPROVING_LEFT * self.monitored[0]:
            return False
        pairs = zip(last[:-1], last[1:], strict=True)
        return all(new < old * (1 - IMPROVING_RATE) for old, new in pairs)

    def update(self, monitored, module=None):
        """Record one epoch's monitored loss; return True when training should stop."""
        self.monitored.append(monitored)
        self._stall = 0 if monitored < self.best - self.tol else self._stall + 1
        if monitored < self.best:
            self.best = monitored
            if self.keep_best:
                self.best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
        return self.n_iter_no_change is not None and self._stall >= self.n_iter_no_change


def fit_epochs(
    module,
    batches,
    loss_fn,
    *,
    optimizer,
    max_iter,
    generator,
    X_val=None,
    val_fn=None,
    tol=1e-4,
    n_iter_no_change=10,
    convergence_warning=None,
    warn_only_if_improving=False,
    divergence_advice="Lower learning_rate_init, or scale the inputs.",
    verbose=False,
    desc="training",
):
    """Train ``module`` for at most ``max_iter`` epochs; THE epoch loop of the package.

    Each epoch trains on the batches of ``batches()`` (a fresh iterable per epoch: an
    in-memory array shuffled by :func:`shuffled_batches`, chunks streamed from files,
    codes of a lower layer...) with :func:`train_step`.

    Stopping follows ``MLPRegressor`` (:class:`EarlyStopping`): when ``X_val`` is given,
    the epoch's mean ``val_fn(module, X_val)`` is monitored and the best weights are
    restored at the end; otherwise the training loss is monitored. Training stops once the
    monitored value has not improved by ``tol`` for ``n_iter_no_change`` epochs
    (``converged=True``); ``n_iter_no_change=None`` runs every epoch.

    Parameters
    ----------
    module : torch.nn.Module
    batches : callable
        ``batches()`` returns an iterable of the tensors of one epoch.
    loss_fn : callable ``(module, x_batch, generator) -> Tensor (batch,)``
    optimizer : torch.optim.Optimizer
        From :func:`make_optimizer`.
    max_iter : int
        Number of epochs at most.
    generator : torch.Generator
        Handed to ``loss_fn`` (and used by ``batches`` to shuffle, when it shuffles).
    X_val : torch.Tensor, optional
    val_fn : callable ``(module, x) -> Tensor (n,)``, required with ``X_val``
    tol : float, default=1e-4
    n_iter_no_change : int or None, default=10
    convergence_warning : type of Warning, optional
        Issued, naming ``desc``, when ``max_iter`` epochs ran without converging
        (scikit-learn's ``ConvergenceWarning`` for the estimators). None: no warning.
    warn_only_if_improving : bool, default=False
        Issue ``convergence_warning`` only when the monitored loss is still clearly
        falling (:meth:`EarlyStopping.still_improving`: each of the last 3 epochs lowered
        it by more than 1% and it is still above half its first epoch's value), not merely
        because a deliberately short budget ran out.
    divergence_advice : str
        Appended to the :class:`TrainingDivergedError` message.
    verbose : bool
        Show a progress bar on stderr (only when stderr is a terminal).
    desc : str
        The progress bar's and the warning's label.

    Returns
    -------
    History

    Raises
    ------
    TrainingDivergedError
        When an epoch's loss is NaN or infinite, or above ``DIVERGENCE_FACTOR`` (1e3) times
        the untrained network's loss (that of the first batch).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> X = torch.randn(64, 3, generator=torch.Generator().manual_seed(0))
    >>> net = nn.Linear(3, 3)
    >>> g = torch.Generator().manual_seed(0)
    >>> history = fit_epochs(net, lambda: shuffled_batches(X, 16, g),
    ...                      lambda m, x, g: (m(x) - x).pow(2).mean(dim=1),
    ...                      optimizer=make_optimizer(net.parameters(), 1e-2, 0.0),
    ...                      max_iter=5, generator=g)
    >>> history.n_iter, len(history.loss), history.loss[-1] < history.loss[0]
    (5, 5, True)
    """
    history = History()
    rule = EarlyStopping(tol, n_iter_no_change, keep_best=X_val is not None)
    bar = tqdm(
        range(max_iter),
        desc=desc,
        unit="epoch",
        file=sys.stderr,
        disable=None if verbose else True,  # None: hidden when stderr is not a terminal
        leave=True,  # the last line stays: epochs run and final losses
    )
    start = []  # the untrained network's loss: that of the very first batch

    def tracked_loss(module, x, generator):
        loss = loss_fn(module, x, generator)
        if not start:
            start.append(float(loss.detach().mean()))  # one host sync per fit
        return loss

    for epoch in bar:
        epoch_loss = run_epoch(module, batches(), tracked_loss, optimizer, generator)
        if not math.isfinite(epoch_loss):
            raise TrainingDivergedError(
                f"Training diverged: the loss became {epoch_loss} at epoch {epoch + 1}. "
                f"{divergence_advice}"
            )
        if math.isfinite(start[0]) and epoch_loss > DIVERGENCE_FACTOR * max(start[0], 1e-12):
            raise TrainingDivergedError(
                f"Training diverged: the loss rose from {start[0]:.3g} to {epoch_loss:.3g} "
                f"at epoch {epoch + 1}. {divergence_advice}"
            )
        history.loss.append(epoch_loss)
        history.n_iter = epoch + 1
        monitored = epoch_loss
        if X_val is not None:
            monitored = float(predict_batches(val_fn, module, X_val).mean())
            history.validation_loss.append(monitored)
        history.converged = rule.update(monitored, module)
        if verbose:
            postfix = {"loss": f"{epoch_loss:.4g}"}
            if X_val is not None:
                postfix["val_loss"] = f"{monitored:.4g}"
            bar.set_postfix(postfix, refresh=False)
        if history.converged:
            break
    bar.close()
    history.best_loss = rule.best
    if rule.best_state is not None:
        module.load_state_dict(rule.best_state)
    module.eval()
    quiet = warn_only_if_improving and not rule.still_improving()
    if convergence_warning is not None and not history.converged and not quiet:
        warnings.warn(
            f"{desc}: maximum iterations ({max_iter}) reached and the optimization hasn't "
            "converged yet.",
            convergence_warning,
            stacklevel=_caller_outside_package(),
        )
    return history


_OWN_FRAMES = ("ae_anomaly", "sklearn")


def _caller_outside_package():
    """The ``stacklevel`` that points a warning at the caller of ae_anomaly (and of the
    scikit-learn wrappers around its ``fit`` methods)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith(_OWN_FRAMES):
        frame, level = frame.f_back, level + 1
    return level


#: Elements per inference batch on a CPU: activations of a few layers then stay in the
#: cache. Scoring 300k x 30 rows took 0.34 s with 2,048-row batches against 0.48 s with
#: 65,536-row batches (float64, one thread, this project's 2-core CI machine).
CPU_BATCH_ELEMENTS = 1 << 16
#: Activation values per inference batch on a CPU for a network whose layers are wider than
#: its input (an ensemble's members side by side): 2 MiB of float64 per activation. The
#: default ensemble on 140,000 x 30 rows, two scoring threads: 12.1 s per million rows with
#: 128-row batches, 9.0 s with 436 (fewer, larger torch calls hold the GIL less often).
CPU_ACTIVATION_ELEMENTS = 1 << 18
#: Rows per inference batch on a GPU, where large batches pay.
GPU_BATCH_ROWS = 1 << 16


def inference_batch_size(X, device, row_elements=0):
    """Rows per batch for :func:`predict_batches`: cache-sized on a CPU, large on a GPU.

    On a CPU a batch holds about :data:`CPU_BATCH_ELEMENTS` values of ``X``, and at most
    :data:`CPU_ACTIVATION_ELEMENTS` activation values where a network has ``row_elements``
    of them per row (an ensemble's members side by side: ``EnsembleNet.row_elements``).

    Examples
    --------
    >>> import numpy as np, torch
    >>> inference_batch_size(np.zeros((10, 30)), torch.device("cpu"))
    2184
    >>> inference_batch_size(np.zeros((10, 1, 28, 28)), torch.device("cpu"))
    128
    >>> inference_batch_size(np.zeros((10, 30)), torch.device("cpu"), row_elements=20 * 30)
    436
    """
    if torch.device(device).type != "cpu":
        return GPU_BATCH_ROWS
    rows = CPU_BATCH_ELEMENTS // max(math.prod(X.shape[1:]), 1)
    if row_elements:
        rows = min(rows, CPU_ACTIVATION_ELEMENTS // row_elements)
    return max(128, rows)


def predict_batches(fn, module, X, batch_size=None):
    """Apply ``fn(module, x_batch)`` to ``X`` batch by batch, in eval and inference mode.

    ``X`` may be a tensor (the result stays a tensor on its device) or a NumPy array (it is
    moved to the module's device and dtype batch by batch; the result is a NumPy array).
    ``batch_size`` defaults to :func:`inference_batch_size`. Intra-op threads follow
    :func:`~ae_anomaly.nn.runtime.inference_threads` (one for the small dense networks of
    tabular data, which only lose from more on a busy machine); the caller's
    ``torch.get_num_threads()`` is restored afterwards.
    """
    was_training = module.training
    module.eval()
    param = next(module.parameters())
    as_numpy = isinstance(X, np.ndarray)
    row_elements = getattr(module, "row_elements", 0)
    batch_size = batch_size or inference_batch_size(X, param.device, row_elements)
    threads = inference_threads(module, min(batch_size, X.shape[0]), device=param.device)
    outputs = []
    with torch.inference_mode(), intra_op_threads(threads):
        for start in range(0, X.shape[0], batch_size):
            batch = X[start : start + batch_size]
            if as_numpy:  # rows contiguous whatever X's layout: the same products
                batch = torch.tensor(
                    np.ascontiguousarray(batch), device=param.device, dtype=param.dtype
                )
            outputs.append(fn(module, batch))
    module.train(was_training)
    if not outputs:
        raise ValueError("Cannot predict on an empty input.")
    result = torch.cat(outputs)
    return result.cpu().numpy() if as_numpy else result
