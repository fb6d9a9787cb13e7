"""What a fitted estimator holds beyond plain attributes, and how it is saved and restored.

A fitted estimator holds two torch objects:

- ``module_``: the network scoring uses, in float64, so that a row's score does not depend
  on which other rows share its batch (float32 matmuls differ by an ulp or so);
- ``_training_module`` and ``_optimizer``: the float32 network being trained and its Adam
  state, kept so that ``partial_fit`` continues where training stopped. ``module_`` is a
  float64 copy of ``_training_module``, made once after each training call: every float32
  number is exact in float64, so the one derives from the other without loss.

Scoring may run in several threads while ``partial_fit`` trains in another (thread safety):
training changes only the float32 network; the new scoring copy and the statistics computed
with it (``error_scale_``..., ``offset_``) are published together under a lock
(:func:`state_guard`), so a scoring call sees the model before or after a training step,
never half of each. The lock lives outside the estimator (a weak mapping), so it never
reaches pickle, ``clone`` or ``__dict__``.

The saved state is plain data (NumPy arrays, numbers, strings), so pickle, joblib and the
safe skops format (:func:`ae_anomaly.save`) all work. ``module_`` is rebuilt on load; the
training network and optimizer only when training continues (:meth:`_training_state`),
which a scoring job does not need.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import threading
import weakref

import numpy as np
import torch

from ..nn.training import make_optimizer, seeded

#: Networks train in float32 (fast) and score in float64 (see the module docstring).
TRAIN_DTYPE = torch.float32
SCORE_DTYPE = torch.float64

#: Parameters added after models were first saved, with the value that reproduces what
#: those models did: a model loaded from an older file gets it.
#: (The image models' ``error`` default became "ssim"; their older files scored "squared".)
_PARAMETERS_ADDED = {"score_statistics": "mean", "error": "squared"}


def scoring_copy(module):
    """A float64 copy of the trained ``module`` for scoring, in eval mode, without grads."""
    scorer = copy.deepcopy(module)
    for param in scorer.parameters():
        param.grad = None
    return scorer.to(SCORE_DTYPE).eval()


class _StateGuard:
    """Many scoring calls at once, or one publication of new fitted state; plus one
    training call at a time (``training``).

    Re-entrant in a thread: a scoring method calling another, a training call publishing
    (or scoring) its own state. A publication waiting keeps new scoring calls waiting,
    so a stream of them cannot starve it.
    """

    def __init__(self):
        self._condition = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = None  # the publishing thread's id
        self._writer_depth = 0
        self._writers_waiting = 0
        self._local = threading.local()
        self.training = threading.RLock()

    @contextlib.contextmanager
    def reading(self):
        """Hold the fitted state still while a scoring method runs."""
        depth = getattr(self._local, "depth", 0)
        if depth or self._writer == threading.get_ident():
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth = depth
            return
        with self._condition:
            while self._writer is not None or self._writers_waiting:
                self._condition.wait()
            self._readers += 1
        self._local.depth = 1
        try:
            yield
        finally:
            self._local.depth = 0
            with self._condition:
                self._readers -= 1
                if not self._readers:
                    self._condition.notify_all()

    @contextlib.contextmanager
    def writing(self):
        """Change the fitted state that scoring reads, no scoring call running."""
        me = threading.get_ident()
        if getattr(self._local, "depth", 0):
            raise RuntimeError("A scoring method cannot change the fitted state it is reading.")
        with self._condition:
            if self._writer != me:
                self._writers_waiting += 1
                try:
                    while self._writer is not None or self._readers:
                        self._condition.wait()
                finally:
                    self._writers_waiting -= 1
                self._writer = me
            self._writer_depth += 1
        try:
            yield
        finally:
            with self._condition:
                self._writer_depth -= 1
                if not self._writer_depth:
                    self._writer = None
                    self._condition.notify_all()


_GUARDS = weakref.WeakKeyDictionary()
_GUARDS_LOCK = threading.Lock()


def state_guard(estimator):
    """The :class:`_StateGuard` of ``estimator`` (made on first use; gone with it)."""
    with _GUARDS_LOCK:
        guard = _GUARDS.get(estimator)
        if guard is None:
            guard = _GUARDS[estimator] = _StateGuard()
        return guard


@contextlib.contextmanager
def all_or_nothing(estimator, *, in_place=False):
    """Leave ``estimator`` as it was when the block raises (a diverged, interrupted or
    refused training call): its attributes and, with ``in_place`` (a ``partial_fit`` that
    continues), the training network and optimizer that it steps in place. A first fit
    that fails leaves it unfitted; a refit that fails keeps the previous model whole, never
    its new scaler with its old network."""
    before = {key: list(value) if type(value) is list else value
              for key, value in estimator.__dict__.items()}
    if "_rng" in before:  # drawn from in place
        before["_rng"] = copy.deepcopy(before["_rng"])
    network, optimizer = before.get("_training_module"), before.get("_optimizer")
    trained = None if optimizer is None or not in_place else copy.deepcopy(
        (network.state_dict(), optimizer.state_dict())
    )
    try:
        yield
    except BaseException:
        with state_guard(estimator).writing():  # scoring threads see it before or after
            estimator.__dict__.clear()
            estimator.__dict__.update(before)
            if trained is not None:
                network.load_state_dict(trained[0])
                optimizer.load_state_dict(trained[1])
        raise


def reads_model(method):
    """Decorate a method that reads the fitted state: it runs under :func:`state_guard`'s
    ``reading``, so a concurrent ``partial_fit`` step is seen whole or not at all."""

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        with state_guard(self).reading():
            return method(self, *args, **kwargs)

    return guarded


class _NetworkStateMixin:
    """Pickling of ``module_`` and the optimizer as plain data; explicit restoration."""

    def _publish(self, X_scaled):
        """Make the trained float32 network the scoring one (a float64 copy) and calibrate
        it on ``X_scaled`` (None: keep the calibration), in one step as far as scoring
        threads can see."""
        scorer = scoring_copy(self._training_module)
        with state_guard(self).writing():
            self.module_ = scorer
            if X_scaled is not None:
                self._calibrate(X_scaled)

    def _training_state(self):
        """``(float32 network, optimizer)`` to train; restored for a model loaded from a file.

        The network is a float32 copy of ``module_`` (exact: its float64 weights were
        float32 ones), the optimizer Adam with the saved moments, when there are some.
        """
        if "_optimizer" not in self.__dict__:
            module = copy.deepcopy(self.module_).to(TRAIN_DTYPE)
            saved = self.__dict__.pop("_optimizer_state", None)
            self._training_module = module
            self._optimizer = _restore_optimizer(
                module, saved, lr=self.learning_rate_init, weight_decay=self.alpha
            )
        return self._training_module, self._optimizer

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: object's is the live __dict__
        module = state.pop("module_", None)
        state.pop("_training_module", None)  # a float32 copy of module_: rebuilt on demand
        state.pop("_latest_scaled", None)  # partial_fit's latest rows: never in a file
        optimizer = state.pop("_optimizer", None)
        if module is not None:
            state["_module_state"] = _to_numpy(module.state_dict())
        if optimizer is not None:
            saved = optimizer.state_dict()
            n_params = sum(len(group["params"]) for group in saved["param_groups"])
            state["_optimizer_state"] = {
                "class": type(optimizer).__name__,
                "param_groups": saved["param_groups"],
                "state": [_to_numpy(saved["state"].get(i, {})) for i in range(n_params)],
            }
        return state

    def __setstate__(self, state):
        state = dict(state)
        module_state = state.pop("_module_state", None)
        names = self._get_param_names()
        for name, value in _PARAMETERS_ADDED.items():  # a model saved before they existed
            if name in names:
                state.setdefault(name, value)
        super().__setstate__(state)
        if module_state is None:
            return
        if getattr(self, "device_", "cpu") != "cpu" and not torch.cuda.is_available():
            self.device_ = "cpu"
        with seeded(0, self.device_):  # the weights are overwritten: leave the caller's RNG
            module = self._build_module(self.n_features_in_).to(self.device_, SCORE_DTYPE)
        module.load_state_dict(_renamed_keys(_to_torch(module_state), module))
        self.module_ = module.eval()


def _renamed_keys(saved, module):
    """Map the state-dict keys of older files onto ``module``'s.

    The MLP VAE's encoder once lived at the top of the network (``body.*``, ``mu.*``,
    ``logvar.*``); it is now the composed network's ``encoder`` (``encoder.body.*`` ...).
    """
    expected = set(module.state_dict())
    return {
        (f"encoder.{key}" if key not in expected and f"encoder.{key}" in expected else key): value
        for key, value in saved.items()
    }


def _restore_optimizer(module, saved_state, *, lr, weight_decay):
    optimizer = make_optimizer(module.parameters(), lr, weight_decay)
    if saved_state is None:
        return optimizer
    # The class name comes from the file: only the optimizer we create is accepted.
    if saved_state["class"] != type(optimizer).__name__:
        raise ValueError(f"Unsupported optimizer {saved_state['class']!r} in saved state.")
    # load_state_dict casts the moments to the parameters' dtype: float32, as trained.
    state = {i: _to_torch(saved) for i, saved in enumerate(saved_state["state"]) if saved}
    optimizer.load_state_dict({"param_groups": saved_state["param_groups"], "state": state})
    return optimizer


def _to_numpy(tensors):
    return {name: t.detach().cpu().numpy().copy() for name, t in tensors.items()}


def _to_torch(arrays):
    return {name: torch.from_numpy(np.array(a)) for name, a in arrays.items()}
