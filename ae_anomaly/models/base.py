"""The estimator template every autoencoder shares.

``fit`` = validate -> scale -> build the network -> train (the one epoch driver,
:func:`ae_anomaly.nn.training.fit_epochs`) -> calibrate ``offset_``. A variant overrides
:meth:`BaseAutoencoder._build_module` and/or :meth:`BaseAutoencoder._training_loss`;
it never touches the loop or the scoring methods. Scoring lives in
:mod:`ae_anomaly.models.scoring`, input checks in :mod:`ae_anomaly.models._validation`,
the float32 training / float64 scoring networks and their pickling in
:mod:`ae_anomaly.models._state`.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn import config_context
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    OutlierMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler
from sklearn.utils import check_random_state

from ..nn.losses import reconstruction_error
from ..nn.nets import ACTIVATIONS, dropout_generator, mlp_autoencoder
from ..nn.runtime import choose_threads, forward_macs, intra_op_threads
from ..nn.training import (
    autograd_on,
    fit_epochs,
    make_optimizer,
    predict_batches,
    seeded,
    shuffled_batches,
)
from ._sklearn_compat import Interval, StrOptions, _fit_context
from ._state import (
    SCORE_DTYPE,
    TRAIN_DTYPE,
    _NetworkStateMixin,
    all_or_nothing,
    reads_model,
    state_guard,
)
from ._validation import (
    check_prefitted_scaler,
    check_trainable,
    check_trainable_stream,
    default_sizes,
    resolve_device,
    resolve_sizes,
    validate_rows,
    warn_identical_rows,
    warn_invisible_columns,
)
from .scalers import MADScaler, resolve_constant_columns
from .scoring import _ScoringMixin, feature_scale

__all__ = ["SCORE_DTYPE", "TRAIN_DTYPE", "BaseAutoencoder", "default_sizes", "seeded"]

_SCALERS = {
    "standard": StandardScaler,
    "robust": RobustScaler,
    "mad": MADScaler,
    "minmax": MinMaxScaler,
}
#: Scalers whose ``partial_fit`` gives exactly the scaler fitted on all the data at once.
_STREAMING_SCALERS = ("standard", "minmax")
#: ``partial_fit`` calibrates (the score's scales, ``offset_``) on at least this many of
#: the latest rows: its chunk, and as many rows of the chunks before it as that takes...
CALIBRATION_ROWS = 1000
#: ...and keeps the calibration it has when it has fewer than this many of them.
MIN_CALIBRATION_ROWS = 100


class BaseAutoencoder(
    _ScoringMixin,
    _NetworkStateMixin,
    OutlierMixin,
    TransformerMixin,
    ClassNamePrefixFeaturesOutMixin,
    BaseEstimator,
):
    """Template for the autoencoder detectors; see :class:`ae_anomaly.Autoencoder`.

    Notes
    -----
    **Thread safety.** The scoring methods (``score_samples``, ``decision_function``, ``predict``,
    ``score``, ``transform``, ``inverse_transform``, ``reconstruct``, ``feature_scores``)
    may run in several threads at once, also while ``partial_fit`` trains in another:
    training changes only the float32 training network, and the new scoring network with
    its statistics (``error_scale_``..., ``offset_``) is published in one step, so each
    scoring call sees the model before or after a ``partial_fit`` step, never half of
    each. ``fit``, ``fit_stream`` and a first ``partial_fit`` make scoring calls wait
    until they finish; training calls on one estimator run one at a time. The lock
    (:func:`ae_anomaly.models._state.state_guard`) is not stored on the estimator: pickle,
    ``clone`` and ``copy.deepcopy`` are unaffected. Setting fitted attributes by hand
    while other threads score is not covered.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [None, "array-like", Interval(Integral, 1, None, closed="left")],
        "n_components": [None, Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "scaling": [StrOptions(set(_SCALERS)), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "score_statistics": [StrOptions({"median", "mean"})],
        "device": [StrOptions({"auto", "cpu", "cuda"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    #: True: score with the two-part error of :meth:`score_samples` (per-feature standardized
    #: reconstruction error + standardized code distance); False: plain reconstruction error.
    _error_statistics = True

    #: The batch size that ``batch_size="auto"`` stands for.
    _auto_batch_size = 1024

    #: True when the training objective itself keeps the network from copying its input
    #: (noise, a KL term, a sparsity or contractive penalty): no identity warning then.
    _regularized = False

    def __init__(
        self,
        *,
        hidden_layer_sizes=None,
        n_components=None,
        activation="relu",
        dropout=0.0,
        scaling="standard",
        max_iter=20,
        batch_size="auto",
        learning_rate_init=1e-2,
        alpha=0.0,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        contamination="auto",
        score_statistics="median",
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.n_components = n_components
        self.activation = activation
        self.dropout = dropout
        self.scaling = scaling
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.alpha = alpha
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.contamination = contamination
        self.score_statistics = score_statistics
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ what a variant supplies

    # ------------------------------------------------------------------ what a variant supplies
    def _build_module(self, n_features):
        """The untrained network for ``n_features`` inputs (uses the fitted sizes)."""
        return mlp_autoencoder(
            n_features,
            self.hidden_layer_sizes_,
            self.n_components_,
            activation=self.activation,
            dropout=self.dropout,
        )

    def _training_loss(self, module, X, generator):
        """Per-sample training objective for a batch ``X`` of scaled inputs."""
        return reconstruction_error(module(X), X)

    def _input_width(self, n_features):
        """How many columns one network reconstructs: all of them."""
        return n_features

    def _default_sizes(self, n_features):
        """``(hidden_layer_sizes, n_components)`` used for the parameters left at None."""
        return default_sizes(n_features)

    def _make_scaler(self, X):
        """The input scaler fitted on ``X`` (None when ``scaling`` is None); a
        ``StandardScaler`` tells constant columns from their values' rounding
        (:func:`~ae_anomaly.models.scalers.resolve_constant_columns`)."""
        if self.scaling is None:
            return None
        return resolve_constant_columns(_SCALERS[self.scaling]().fit(X))

    def _streaming_scaler(self):
        """An unfitted scaler whose ``partial_fit`` over chunks equals ``_make_scaler`` on
        all the rows, or None when the scaling cannot stream exactly."""
        return _SCALERS[self.scaling]() if self.scaling in _STREAMING_SCALERS else None

    #: Whether an epoch trains on a few rows drawn from the data (the ensemble's members,
    #: ``max_samples`` each): then :meth:`fit_stream` trains on its uniform sample of the
    #: rows instead of reading every chunk every epoch.
    _trains_on_sample = False

    def _training_rows(self, X, n_rows=None):
        """What an epoch trains on, from the scaled training rows ``X`` (``n_rows``: the
        number of rows they are a uniform sample of, in :meth:`fit_stream`): all of them."""
        return X

    def _set_input_attributes(self, X, rows):
        """Fitted attributes describing the training input ``X`` besides
        ``n_features_in_`` and ``feature_names_in_`` (image models: its shape)."""

    # ------------------------------------------------------------------------- fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the autoencoder on ``X`` (unlabeled; it may hold a few outliers).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, numeric, without NaN or infinity.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        guard = state_guard(self)
        with guard.training, guard.writing(), self._training_call():  # scoring calls wait
            rows = self._fit_input(X)
            with np.errstate(over="ignore", invalid="ignore"):  # refused just below
                scaler = self._make_scaler(rows)
            self._initialize(rows, scaler)
            warn_identical_rows(self, rows)  # not in partial_fit: more rows come there
            X_scaled = self._scale_for_training(rows, X)
            warn_invisible_columns(self, rows, X_scaled)
            X_train, X_val = self._validation_split(X_scaled)
            if X_val is not None:
                X_val = torch.tensor(X_val, dtype=TRAIN_DTYPE, device=self.device_)
            self._train(
                self._array_batches(X_train), max_iter=self._epochs(len(X_train)), X_val=X_val
            )
            self._publish(X_scaled)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, *, scaler=None):
        """Train for one epoch on ``X``, keeping the weights and optimizer state.

        The first call sets up the scaler (fitted on that first chunk, unless ``scaler`` is
        given), the network and the optimizer; later calls continue training. The score's
        scales and ``offset_`` are recomputed from the latest rows: the chunk, and when it
        holds fewer than :data:`CALIBRATION_ROWS` (1,000), the rows of the calls just
        before it up to that many. With fewer than :data:`MIN_CALIBRATION_ROWS` (100) of
        them (a small chunk after :meth:`fit`, or after loading: those rows are kept in
        memory only, never in a model file), the calibration stays as it was: a few rows
        would set the threshold alone. To train on data that does not fit in memory,
        :meth:`fit_stream` (or :func:`ae_anomaly.fit_chunks`, from files) streams it in
        chunks, epoch after epoch. Other threads may score meanwhile (see "Thread safety"
        in the class documentation).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One chunk of training data.
        y : Ignored
            Not used, present for API consistency by convention.
        scaler : fitted transformer, default=None
            Used by the first call only: the input scaler to use instead of one fitted on
            that chunk, e.g. a ``StandardScaler`` fitted on all the data with its own
            ``partial_fit`` in a streaming pass. Needs ``scaling`` not None.

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        guard = state_guard(self)
        with guard.training:  # one training call at a time
            first = not hasattr(self, "module_")
            # a first call sets everything up: scoring calls wait for it; later ones train
            # while scoring goes on, and wait only for the new network to be published
            writing = guard.writing() if first else contextlib.nullcontext()
            with writing, self._training_call(in_place=not first):
                if first:
                    rows = self._fit_input(X)
                    if scaler is not None:
                        scaler = resolve_constant_columns(check_prefitted_scaler(self, scaler))
                    self._initialize(rows, self._make_scaler(rows) if scaler is None else scaler)
                else:
                    rows = self._fit_input(X, reset=False)
                X_scaled = self._scale_for_training(rows, X)
                warn_invisible_columns(self, rows, X_scaled)
                epoch = self._array_batches(self._training_rows(X_scaled))
                self._train(epoch, max_iter=1, warn=False)
                latest = self._latest_rows(X_scaled)
                self._publish(latest if first or len(latest) >= MIN_CALIBRATION_ROWS else None)
        return self

    def _latest_rows(self, X_scaled):
        """``X_scaled`` after the rows of the chunks before it, at least
        :data:`CALIBRATION_ROWS` of them when there were that many; the last ones kept."""
        before = self.__dict__.get("_latest_scaled")
        if before is not None and len(X_scaled) < CALIBRATION_ROWS:
            X_scaled = np.concatenate([before[len(X_scaled) - CALIBRATION_ROWS :], X_scaled])
        self._latest_scaled = X_scaled[-CALIBRATION_ROWS:].copy()
        return X_scaled

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_stream(self, chunks, *, sample, epochs=None):
        """Fit on data streamed in chunks, never all in memory (out-of-core training).

        1. One pass validates every chunk, fits the input scaler (``"standard"`` and
           ``"minmax"`` with their own ``partial_fit``: the scaler of all the rows) and
           fills ``sample`` with a uniform sample of the rows.
        2. Each epoch trains on every chunk in turn, through the same epoch driver as
           :meth:`fit` (rows are shuffled within a chunk, not across chunks); a model
           whose epoch trains on a few rows drawn from the data (the ensemble) trains
           on the sample instead.
        3. What :meth:`fit` computes from all training rows after training (the score's
           scales, then ``offset_``), and a scaler that cannot stream (``"robust"``), are
           computed from the sample.

        A value that overflows in training is refused as :meth:`fit` refuses it, in one
        line naming it, its column and its row (the chunk's index label): after the first
        pass, a statistic fitted (the scaler's, ``feature_scale_``) and, for a model that
        trains on the sample, the scaled sample; each chunk as it is trained on otherwise.

        Parameters
        ----------
        chunks : callable
            ``chunks()`` returns an iterable of chunks (arrays or DataFrames of the
            training columns); it is called once per pass.
        sample : object
            A uniform sampler of rows: ``sample.add(rows)`` takes a validated chunk and
            ``sample.sample`` is the sample (e.g. :class:`ae_anomaly.tables.sources.Reservoir`).
        epochs : int, default=None
            Passes of training over the data. None: up to ``max_iter``, stopping early
            once the epoch's mean training loss has not improved by ``tol`` for
            ``n_iter_no_change`` epochs (as :meth:`fit` does without a validation set).

        Returns
        -------
        self : object
            The fitted estimator: ``loss_curve_`` holds one mean training loss per epoch.

        Examples
        --------
        >>> import numpy as np
        >>> from ae_anomaly import Autoencoder
        >>> from ae_anomaly.tables.sources import Reservoir
        >>> X = np.random.RandomState(0).normal(size=(1000, 4))
        >>> def chunks():
        ...     return (X[i : i + 250] for i in range(0, len(X), 250))
        >>> sample = Reservoir(500, np.random.default_rng(0))
        >>> ae = Autoencoder(random_state=0).fit_stream(chunks, sample=sample, epochs=3)
        >>> ae.n_iter_, len(sample.sample), bool(np.allclose(ae.scaler_.mean_, X.mean(0)))
        (3, 500, True)
        """
        guard = state_guard(self)
        with guard.training, guard.writing(), self._training_call():  # scoring calls wait
            return self._fit_stream(chunks, sample, epochs)

    def _fit_stream(self, chunks, sample, epochs):
        scaler, n_rows = self._streaming_scaler(), 0
        for chunk in chunks():
            first = n_rows == 0
            rows = self._fit_input(chunk, reset=first)
            n_rows += len(rows)
            if scaler is not None and len(rows):
                with np.errstate(over="ignore", invalid="ignore"):  # refused below, in a line
                    scaler.partial_fit(rows)
            sample.add(rows)
        if n_rows == 0:
            raise ValueError("The data has no rows to fit on.")
        calibration = sample.sample
        if scaler is None:
            with np.errstate(over="ignore", invalid="ignore"):
                scaler = self._make_scaler(calibration)
        scaler = resolve_constant_columns(scaler)
        self._initialize(calibration, scaler)
        warn_identical_rows(self, calibration)
        self.validation_loss_curve_ = None  # nothing held out: the training loss is monitored
        with np.errstate(over="ignore", invalid="ignore"):  # refused just below
            scaled_sample = self._scale(calibration)
        check_trainable_stream(  # as fit checks its rows: the sample path trains on no chunk
            self, calibration, scaled_sample, whole=not self._trains_on_sample,
            read=lambda: ((self._fit_input(chunk, reset=False), chunk) for chunk in chunks()),
        )  # fmt: skip
        warn_invisible_columns(self, calibration, scaled_sample)  # once: not per chunk
        if self._trains_on_sample:  # each epoch on the uniform sample: the data read once
            batches = self._array_batches(self._training_rows(scaled_sample, n_rows))
        else:
            batch_size = self._batch_size()

            def batches(generator):
                for chunk in chunks():
                    rows = self._fit_input(chunk, reset=False)
                    X = self._to_tensor(self._scale_for_training(rows, chunk))
                    yield from shuffled_batches(X, batch_size, generator)

        fixed = epochs is not None
        max_iter = epochs if fixed else self._epochs(n_rows)
        self._train(batches, max_iter=max_iter, stop_early=not fixed, warn=not fixed)
        self._publish(scaled_sample)
        return self

    # Defined on this class, not a mixin, so that set_output(transform="pandas") wraps it.
    @reads_model
    def transform(self, X):
        """Encode ``X`` to its latent codes (for the VAE: the posterior mean).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components_)
        """
        X_scaled = self._scale(self._checked(X))
        return predict_batches(lambda module, x: module.encode(x), self.module_, X_scaled)

    # ------------------------------------------------------------------------- internals
    @contextlib.contextmanager
    def _training_call(self, *, in_place=False):
        """A training call's block: gradients on whatever the caller's torch mode, and the
        estimator left as it was if the block raises (:func:`all_or_nothing`)."""
        with all_or_nothing(self, in_place=in_place), autograd_on():
            yield

    def _fit_input(self, X, *, reset=True):
        """The training input, validated and row-major; with ``reset`` (a first call) it
        sets ``n_features_in_`` and ``feature_names_in_`` and describes the input
        (:meth:`_set_input_attributes`). Row-major whatever ``X``'s layout (a DataFrame's
        values are column-major): the scaler's sums and torch's products follow the layout
        in their last bits, and the same rows must train the same network."""
        rows = np.ascontiguousarray(self._validate_input(X, reset=reset))
        if reset:
            self._set_input_attributes(X, rows)
        return rows

    def _initialize(self, X, scaler):
        """Fresh fitted state for the validated rows ``X``: sizes, device, the network and
        its optimizer, empty curves; ``scaler`` (fitted, or None) becomes ``scaler_``."""
        self.hidden_layer_sizes_, self.n_components_ = resolve_sizes(self, X.shape[1])
        self.device_ = resolve_device(self.device)
        self._rng = check_random_state(self.random_state)
        self.scaler_ = scaler
        self.feature_scale_ = feature_scale(X)
        with seeded(self._draw_seed(), self.device_):
            self._training_module = self._build_module(X.shape[1]).to(self.device_, TRAIN_DTYPE)
        self._optimizer = make_optimizer(
            self._training_module.parameters(), self.learning_rate_init, self.alpha
        )
        self.__dict__.pop("_optimizer_state", None)  # a loaded model's, now stale
        self.__dict__.pop("_latest_scaled", None)  # partial_fit's rows, of another fit
        self.loss_curve_ = []
        self.validation_loss_curve_ = [] if self.early_stopping else None
        self.best_loss_ = math.inf
        self.n_iter_ = 0

    def _draw_seed(self):
        return int(self._rng.randint(np.iinfo(np.int32).max))

    def _batch_size(self):
        """The training batch size: ``batch_size``, or the class's choice for "auto"."""
        return self._auto_batch_size if self.batch_size == "auto" else self.batch_size

    def _to_tensor(self, X):
        return torch.tensor(X, dtype=TRAIN_DTYPE, device=self.device_)

    def _array_batches(self, X):
        """``batches(generator)``: one epoch of shuffled mini-batches of the array ``X``."""
        X, batch_size = self._to_tensor(X), self._batch_size()
        return lambda generator: shuffled_batches(X, batch_size, generator)

    def _validation_split(self, X):
        """Hold out ``validation_fraction`` of the rows when early stopping, else none."""
        if not self.early_stopping:
            return X, None
        n_samples = X.shape[0]
        n_val = math.ceil(self.validation_fraction * n_samples)
        if n_samples - n_val < 1:
            warnings.warn(
                f"Only {n_samples} sample(s): too few for a validation split, so early "
                "stopping monitors the training loss instead.",
                UserWarning,
                stacklevel=3,
            )
            return X, None
        order = self._rng.permutation(n_samples)
        return X[order[n_val:]], X[order[:n_val]]

    def _train(self, batches, *, max_iter, X_val=None, stop_early=True, warn=True):
        """Train the float32 network on ``batches(generator)`` (one epoch's tensors) and
        extend the curves; :meth:`_publish` then makes it the scoring network."""
        module, optimizer = self._training_state()
        history = self._fit_epochs(
            module,
            optimizer,
            batches,
            self._training_loss,
            max_iter=max_iter,
            X_val=X_val,
            stop_early=stop_early,
            warn=warn,
        )
        self.loss_curve_.extend(history.loss)
        if self.validation_loss_curve_ is not None:
            self.validation_loss_curve_.extend(history.validation_loss)
        self.best_loss_ = min(self.best_loss_, history.best_loss)
        self.n_iter_ += history.n_iter

    def _fit_epochs(
        self, module, optimizer, batches, loss_fn, *, max_iter, X_val, stop_early, warn, desc=None
    ):
        """:func:`~ae_anomaly.nn.training.fit_epochs` with this estimator's settings, a
        fresh seed (shuffling, noise, dropout) and ``batches(generator)`` as its batches."""
        seed = self._draw_seed()
        generator = torch.Generator(device=self.device_).manual_seed(seed)
        # nothing in the loop draws from torch's process-wide RNG: fits on threads repeat
        with dropout_generator(module, generator), intra_op_threads(self._training_threads()):
            return fit_epochs(
                module,
                lambda: batches(generator),
                loss_fn,
                optimizer=optimizer,
                max_iter=max_iter,
                generator=generator,
                X_val=X_val,
                val_fn=self._reconstruction_error,
                tol=self.tol,
                n_iter_no_change=self.n_iter_no_change if stop_early else None,
                convergence_warning=ConvergenceWarning if warn else None,
                warn_only_if_improving=not self._max_iter_set(),
                divergence_advice=self._divergence_advice(),
                verbose=bool(self.verbose),
                desc=desc or type(self).__name__,
            )

    def _epochs(self, n_rows):
        """The epoch budget for training on ``n_rows`` rows: ``max_iter``."""
        return self.max_iter

    def _max_iter_set(self):
        """True when ``max_iter`` differs from the class default: then reaching it warns
        (``ConvergenceWarning``) even when the loss has flattened; the default budget warns
        only while the loss is still clearly falling."""
        default = inspect.signature(type(self).__init__).parameters.get("max_iter")
        return default is None or self.max_iter != default.default

    def _divergence_advice(self):
        """What to change when training diverges: only advice that applies."""
        advice = f"Lower learning_rate_init (now {self.learning_rate_init:g})"
        if self.scaling != "standard":
            advice += f", or standardize the inputs (scaling='standard'; now {self.scaling!r})"
        return advice + "."

    def _training_threads(self):
        """Intra-op threads for training (:func:`~ae_anomaly.nn.runtime.choose_threads`):
        one for the small networks of tabular data, which only lose from more threads;
        the caller's ``torch.get_num_threads()`` is restored afterwards."""
        macs = forward_macs(self._training_module, (self.n_features_in_,))
        return choose_threads(macs, self._batch_size(), device=self.device_)

    # ------------------------------------------------------------------------- input
    def _validate_input(self, X, *, reset):
        """``validate_data`` plus messages that name the offending column, row and value."""
        return validate_rows(self, X, reset=reset)

    def _scale_for_training(self, rows, X=None):
        """``rows`` scaled for training; refuses values that overflow (one line naming the
        row, as ``X``'s index label when it is a DataFrame, the column and the value)."""
        with np.errstate(over="ignore", invalid="ignore"):
            X_scaled = self._scale(rows)
        check_trainable(self, rows, X_scaled, X)
        return X_scaled

    def _scale(self, X):
        if self.scaler_ is None:
            return X
        with config_context(transform_output="default"):  # arrays, whatever the user's setting
            return self.scaler_.transform(X)

    def _unscale(self, X):
        return X if self.scaler_ is None else self.scaler_.inverse_transform(X)
