"""The estimator template every autoencoder shares.

``fit`` = validate -> scale -> build the network -> train
(:func:`ae_anomaly.nn.training.fit_module`) -> set ``offset_``. A variant overrides
:meth:`BaseAutoencoder._build_module` and/or :meth:`BaseAutoencoder._training_loss`;
it never touches the loop or the scoring methods.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    OutlierMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ..nn.losses import reconstruction_error
from ..nn.nets import ACTIVATIONS, AutoencoderNet
from ..nn.training import fit_module, predict_batches
from ._sklearn_compat import Interval, StrOptions, _fit_context
from .scoring import error_statistics

#: Networks train in float32 (fast) and score in float64, so that a row's score does not
#: depend on which other rows share its batch (float32 matmuls differ by an ulp or so).
TRAIN_DTYPE = torch.float32
SCORE_DTYPE = torch.float64

#: Parameters added after models were first saved, with the value that reproduces what
#: those models did: a model loaded from an older file gets it.
_PARAMETERS_ADDED = {"score_statistics": "mean"}

_SCALERS = {"standard": StandardScaler, "robust": RobustScaler, "minmax": MinMaxScaler}


def default_sizes(n_features):
    """Network sizes used when ``hidden_layer_sizes`` / ``n_components`` are None.

    The code has ``ceil(sqrt(n_features))`` units (strictly fewer than ``n_features`` when
    there are two features or more) and one hidden layer of ``n_features // 2`` units,
    clipped to [64, 256], on each side of it.
    """
    n_components = max(1, min(n_features - 1, math.ceil(math.sqrt(n_features))))
    hidden = (int(np.clip(n_features // 2, 64, 256)),)
    return hidden, n_components


def resolve_device(device):
    """Map ``"auto"`` to ``"cuda"`` when available, else ``"cpu"``; check ``"cuda"`` exists."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested, but PyTorch sees no CUDA device.")
    return device


@contextlib.contextmanager
def seeded(seed, device):
    """Seed torch's global RNG inside a fork, leaving the caller's RNG state untouched.

    Weight initialization and dropout draw from the global RNG; everything else the loop
    draws comes from an explicit ``torch.Generator``.
    """
    devices = [torch.device(device)] if torch.device(device).type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def _reject_non_numeric_columns(X):
    """Name the non-numeric columns of a DataFrame instead of failing on a cast later."""
    if not isinstance(X, pd.DataFrame):
        return
    bad = [
        f"{column!r} ({dtype})"
        for column, dtype in X.dtypes.items()
        if not pd.api.types.is_numeric_dtype(dtype)
    ]
    if bad:
        raise ValueError(
            f"Non-numeric column(s) {', '.join(bad)}: autoencoders need numbers. "
            "Encode them first (e.g. OneHotEncoder in a ColumnTransformer) or drop them."
        )


def _first_bad_cell(X, is_bad):
    """``(row, column)`` of the first cell where ``is_bad`` holds, in row-major order."""
    rows, cols = np.nonzero(is_bad)
    return int(rows[0]), int(cols[0])


class BaseAutoencoder(
    OutlierMixin, TransformerMixin, ClassNamePrefixFeaturesOutMixin, BaseEstimator
):
    """Template for the autoencoder detectors; see :class:`ae_anomaly.Autoencoder`."""

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
    def _build_module(self, n_features):
        """The untrained network for ``n_features`` inputs (uses the fitted sizes)."""
        return AutoencoderNet(
            n_features,
            self.hidden_layer_sizes_,
            self.n_components_,
            activation=self.activation,
            dropout=self.dropout,
        )

    def _training_loss(self, module, X, generator):
        """Per-sample training objective for a batch ``X`` of scaled inputs."""
        return reconstruction_error(module(X), X)

    def _default_sizes(self, n_features):
        """``(hidden_layer_sizes, n_components)`` used for the parameters left at None."""
        return default_sizes(n_features)

    def _make_scaler(self, X):
        """The input scaler fitted on ``X`` (None when ``scaling`` is None)."""
        return None if self.scaling is None else _SCALERS[self.scaling]().fit(X)

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
        X = self._validate_input(X, reset=True)
        self._initialize(X)
        X_scaled = self._scale(X)
        X_train, X_val = self._validation_split(X_scaled)
        self._train(X_train, X_val, max_iter=self.max_iter, warn=True)
        self._fit_error_statistics(X_scaled)
        self._set_offset(self._score_scaled(X_scaled))
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, *, scaler=None):
        """Train for one epoch on ``X``, keeping the weights and optimizer state.

        The first call sets up the scaler (fitted on that first chunk, unless ``scaler`` is
        given), the network and the optimizer; later calls continue training, so data that
        does not fit in memory can be streamed in chunks (:func:`ae_anomaly.fit_chunks`
        does it from files). ``offset_`` is recomputed from the scores of the latest chunk.

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
        first_call = not hasattr(self, "module_")
        X = self._validate_input(X, reset=first_call)
        if first_call:
            self._initialize(X)
            if scaler is not None:
                self.scaler_ = self._check_prefitted_scaler(scaler)
        X_scaled = self._scale(X)
        self._train(X_scaled, None, max_iter=1, warn=False)
        self._fit_error_statistics(X_scaled)
        self._set_offset(self._score_scaled(X_scaled))
        return self

    def _check_prefitted_scaler(self, scaler):
        if self.scaling is None:
            raise ValueError("A scaler was given to partial_fit, but scaling=None.")
        check_is_fitted(scaler)
        if getattr(scaler, "n_features_in_", self.n_features_in_) != self.n_features_in_:
            raise ValueError(
                f"The scaler was fitted on {scaler.n_features_in_} features, but X has "
                f"{self.n_features_in_}."
            )
        return scaler

    def _initialize(self, X):
        n_samples, n_features = X.shape
        hidden, n_components = self._default_sizes(n_features)
        if self.hidden_layer_sizes is not None:
            hidden = self.hidden_layer_sizes
            hidden = (hidden,) if isinstance(hidden, Integral) else tuple(hidden)
            if not all(isinstance(h, Integral) and h > 0 for h in hidden):
                raise ValueError(
                    "hidden_layer_sizes must hold positive integers, "
                    f"got {self.hidden_layer_sizes!r}."
                )
        if self.n_components is not None:
            n_components = self.n_components
        if n_components >= n_features and not self._regularized:
            warnings.warn(
                f"n_components={n_components} >= n_features={n_features}: with no regularizer "
                "the autoencoder can learn the identity and reconstruct outliers as well as "
                "inliers. Use a smaller n_components or a regularized variant "
                "(e.g. DenoisingAutoencoder).",
                UserWarning,
                stacklevel=3,
            )
        self.hidden_layer_sizes_ = tuple(int(h) for h in hidden)
        self.n_components_ = int(n_components)
        self.device_ = resolve_device(self.device)
        self._rng = check_random_state(self.random_state)
        self.scaler_ = self._make_scaler(X)
        with seeded(self._draw_seed(), self.device_):
            self.module_ = self._build_module(n_features).to(self.device_, SCORE_DTYPE)
        # fused: one kernel per step instead of one per parameter tensor, about 30% less
        # time per step for these small networks on a CPU (benchmarks/README.md)
        self._optimizer = torch.optim.Adam(
            self.module_.parameters(),
            lr=self.learning_rate_init,
            weight_decay=self.alpha,
            fused=True,
        )
        self.loss_curve_ = []
        self.validation_loss_curve_ = [] if self.early_stopping else None
        self.best_loss_ = math.inf
        self.n_iter_ = 0

    def _draw_seed(self):
        return int(self._rng.randint(np.iinfo(np.int32).max))

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

    def _train(self, X_train, X_val, *, max_iter, warn):
        seed = self._draw_seed()
        device = self.device_
        batch_size = self._auto_batch_size if self.batch_size == "auto" else self.batch_size
        module = self.module_.to(TRAIN_DTYPE)
        try:
            with seeded(seed, device):
                history = fit_module(
                    module,
                    torch.tensor(X_train, dtype=TRAIN_DTYPE, device=device),
                    self._training_loss,
                    optimizer=self._optimizer,
                    max_iter=max_iter,
                    batch_size=batch_size,
                    generator=torch.Generator(device=device).manual_seed(seed),
                    X_val=None
                    if X_val is None
                    else torch.tensor(X_val, dtype=TRAIN_DTYPE, device=device),
                    val_fn=self._reconstruction_error,
                    tol=self.tol,
                    n_iter_no_change=self.n_iter_no_change,
                    verbose=bool(self.verbose),
                    desc=type(self).__name__,
                )
        finally:
            module.to(SCORE_DTYPE)
        self.loss_curve_.extend(history.loss)
        if self.validation_loss_curve_ is not None:
            self.validation_loss_curve_.extend(history.validation_loss)
        self.best_loss_ = min(self.best_loss_, history.best_loss)
        self.n_iter_ += history.n_iter
        if warn and not history.converged:
            warnings.warn(
                f"{type(self).__name__}: maximum iterations ({max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _set_offset(self, scores):
        """``offset_`` from the training scores (see the ``contamination`` parameter)."""
        if self.contamination == "auto":
            # Tukey's fence on the reconstruction errors: Q3 + 1.5 * IQR.
            q1, q3 = np.percentile(-scores, [25, 75])
            self.offset_ = -float(q3 + 1.5 * (q3 - q1))
        else:
            self.offset_ = float(np.percentile(scores, 100.0 * self.contamination))

    # ------------------------------------------------------------------------- input
    def _validate_input(self, X, *, reset):
        """``validate_data`` plus messages that name the offending column, row and value."""
        _reject_non_numeric_columns(X)
        try:
            X = validate_data(self, X, reset=reset, dtype=np.float64, ensure_all_finite=False)
        except ValueError as exc:
            if "could not convert" not in str(exc):
                raise
            raw = np.asarray(X, dtype=object)
            as_number = np.vectorize(_is_number, otypes=[bool])
            row, col = _first_bad_cell(raw, ~as_number(raw))
            raise ValueError(
                f"Non-numeric value {raw[row, col]!r} at row {row}, {self._column_name(col)}."
            ) from exc
        finite = np.isfinite(X)
        if not finite.all():
            row, col = _first_bad_cell(X, ~finite)
            kind = "NaN" if np.isnan(X[row, col]) else "infinity"
            raise ValueError(
                f"Input X contains {kind} at row {row}, {self._column_name(col)} "
                f"({(~finite).sum()} non-finite value(s) in all). Impute or drop them first "
                "(e.g. sklearn.impute.SimpleImputer in a Pipeline)."
            )
        return X

    def _column_name(self, col):
        names = getattr(self, "feature_names_in_", None)
        return f"column {names[col]!r}" if names is not None else f"column {col}"

    def _scale(self, X):
        return X if self.scaler_ is None else self.scaler_.transform(X)

    def _unscale(self, X):
        return X if self.scaler_ is None else self.scaler_.inverse_transform(X)

    # ------------------------------------------------------------------------- scoring
    def _reconstruction_error(self, module, X):
        """Per-sample mean squared reconstruction error of scaled inputs (early stopping)."""
        return reconstruction_error(module(X), X)

    def _fit_error_statistics(self, X_scaled):
        """Fit the scales of the two-part score on the training rows (see score_samples):
        ``error_scale_``, ``code_mean_`` and ``code_scale_`` by
        :func:`~ae_anomaly.models.scoring.error_statistics` with ``score_statistics``."""
        self.error_scale_ = self.code_mean_ = self.code_scale_ = None
        if not self._error_statistics:
            return

        def parts(module, x):
            code = module.encode(x)
            return torch.cat([(module.decode(code) - x).pow(2), code], dim=1)

        stats = predict_batches(parts, self.module_, X_scaled)
        errors, codes = stats[:, : X_scaled.shape[1]], stats[:, X_scaled.shape[1] :]
        self.error_scale_, self.code_mean_, self.code_scale_ = error_statistics(
            errors, codes, self.score_statistics
        )

    def _error_parts(self, module, X):
        """``(per-feature errors, per-sample code distance)`` of scaled inputs ``X``.

        Without fitted statistics (while training, or for models whose
        ``_error_statistics`` is False) these are the plain squared errors and zeros.
        """
        stats = self.__dict__.get("error_scale_")
        if stats is None:
            return (module(X) - X).pow(2), torch.zeros(X.shape[0], dtype=X.dtype, device=X.device)

        def constant(values):
            return torch.as_tensor(values, dtype=X.dtype, device=X.device)

        code = module.encode(X)
        errors = (module.decode(code) - X).pow(2) / constant(self.error_scale_)
        distance = (code - constant(self.code_mean_)).pow(2) / constant(self.code_scale_)
        return errors, distance.mean(dim=1)

    def _anomaly_error(self, module, X):
        """Per-sample anomaly error of scaled inputs (the negated score)."""
        errors, distance = self._error_parts(module, X)
        return errors.flatten(1).mean(dim=1) + distance

    def _score_scaled(self, X_scaled):
        return -predict_batches(self._anomaly_error, self.module_, X_scaled)

    def _checked(self, X):
        check_is_fitted(self)
        return self._validate_input(X, reset=False)

    def score_samples(self, X):
        """Opposite of the anomaly error: the higher, the more normal.

        The error has two parts, both measured after the estimator's internal scaling and
        both about 1 for a typical training row (with the default
        ``score_statistics="median"``, each part has median 1 over the training rows):

        - off the learned manifold: the squared difference between a row and its
          reconstruction, each column divided by its typical value on the training rows
          (median; "mean": mean), averaged over the columns (the Q or SPE statistic of PCA
          monitoring);
        - along it: the squared distance of the row's code from the central code (median;
          "mean": mean), each unit divided by its spread on the training rows (squared MAD;
          "mean": variance), averaged over the units (Hotelling's T^2 on the code).

        Medians and MADs keep the scales from being inflated by the unlabeled outliers of
        the training data.

        A ReLU network extrapolates linearly, so it can reconstruct rows lying far out along
        the manifold as well as typical ones; the second part still flags them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return self._score_scaled(self._scale(self._checked(X)))

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers, positive for inliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        decision : ndarray of shape (n_samples,)
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """+1 for inliers, -1 for outliers (where ``decision_function`` is negative).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,), dtype int
        """
        return np.where(self.decision_function(X) < 0, -1, 1)

    def score(self, X, y=None):
        """Mean of ``score_samples(X)``: lets ``GridSearchCV`` tune without labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

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

    def inverse_transform(self, X):
        """Decode latent codes back to the input space, in the original units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components_)
            Codes, e.g. from :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features_in_)
        """
        check_is_fitted(self)
        codes = check_array(X, dtype=np.float64)
        if codes.shape[1] != self.n_components_:
            raise ValueError(
                f"Codes have {codes.shape[1]} columns, but this model's code has "
                f"n_components_={self.n_components_}."
            )
        decoded = predict_batches(lambda module, z: module.decode(z), self.module_, codes)
        return self._unscale(decoded)

    def reconstruct(self, X):
        """Reconstruct ``X`` through the autoencoder, in the original units.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_hat : ndarray of shape (n_samples, n_features)
        """
        X_scaled = self._scale(self._checked(X))
        return self._unscale(predict_batches(lambda module, x: module(x), self.module_, X_scaled))

    def feature_scores(self, X):
        """Per-feature share of the anomaly error (after scaling): which columns are off.

        Each column's squared reconstruction error divided by its scale from the training
        rows (``error_scale_``), plus an equal share of the code distance (see
        :meth:`score_samples`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        errors : ndarray or DataFrame of shape (n_samples, n_features)
            A DataFrame with the training column names when the model was fitted on one.
            Each row's mean is the negated :meth:`score_samples`.
        """
        X_scaled = self._scale(self._checked(X))

        def shares(module, x):
            errors, distance = self._error_parts(module, x)
            return errors + distance[:, None]

        errors = predict_batches(shares, self.module_, X_scaled)
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            return errors
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(errors, columns=names, index=index)

    def latent_traversal(self, x, dim, values):
        """Decode the code of ``x`` with code unit ``dim`` set to each of ``values``.

        The other code units keep ``x``'s values (for the VAE: its posterior mean), so the
        output shows what that one unit controls (a "latent perturbation").

        Parameters
        ----------
        x : array-like of shape (1, n_features)
            One sample, as a batch of one (image models: one image, e.g. ``(1, H, W)``).
        dim : int
            The code unit to vary, in ``[0, n_components_)``.
        values : array-like of float
            The values given to that unit.

        Returns
        -------
        decoded : DataFrame of shape (len(values), n_features_in_), or images
            One decoded row per value, indexed by the values, with the training column
            names (``x0``, ``x1``, ... when the model was fitted without names). Image
            models return images in their training layout.
        """
        codes = self.transform(x)
        if codes.shape[0] != 1:
            raise ValueError(f"x must hold one sample, got {codes.shape[0]}.")
        if not 0 <= dim < self.n_components_:
            raise ValueError(f"dim={dim} is not a code unit: n_components_={self.n_components_}.")
        values = np.asarray(values, dtype=np.float64).ravel()
        grid = np.repeat(codes, len(values), axis=0)
        grid[:, dim] = values
        decoded = self.inverse_transform(grid)
        if decoded.ndim != 2 or hasattr(self, "image_shape_"):
            return decoded
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            names = [f"x{i}" for i in range(decoded.shape[1])]
        return pd.DataFrame(decoded, columns=names, index=pd.Index(values, name=f"z{dim}"))

    @property
    def _n_features_out(self):
        return self.n_components_

    # ------------------------------------------------------------------------- pickling
    # The state is plain data (NumPy arrays, numbers, strings), so pickle, joblib and the
    # safe skops format (ae_anomaly.save) all work; the network is rebuilt on load and the
    # optimizer on first use (building one imports torch's compiler: seconds, for scoring).
    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: object's is the live __dict__
        module = state.pop("module_", None)
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
        for name, value in _PARAMETERS_ADDED.items():  # a model saved before they existed
            state.setdefault(name, value)
        super().__setstate__(state)
        if module_state is None:
            return
        if getattr(self, "device_", "cpu") != "cpu" and not torch.cuda.is_available():
            self.device_ = "cpu"
        with seeded(0, self.device_):  # the weights are overwritten: leave the caller's RNG
            module = self._build_module(self.n_features_in_).to(self.device_, SCORE_DTYPE)
        module.load_state_dict(_to_torch(module_state))
        self.module_ = module.eval()

    def __getattr__(self, name):
        # Only reached when normal lookup fails: rebuild a loaded model's optimizer.
        if name == "_optimizer" and "_optimizer_state" in self.__dict__:
            self._optimizer = self._restore_optimizer(self.__dict__.pop("_optimizer_state"))
            return self._optimizer
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _restore_optimizer(self, saved_state):
        # The class name comes from the file: only the optimizer we create is accepted.
        if saved_state["class"] != "Adam":
            raise ValueError(f"Unsupported optimizer {saved_state['class']!r} in saved state.")
        params = list(self.module_.parameters())
        optimizer = torch.optim.Adam(params)
        optimizer.load_state_dict({"param_groups": saved_state["param_groups"], "state": {}})
        # Set directly rather than through load_state_dict, which would cast Adam's moments
        # to the resting float64: they keep the dtype they were trained in.
        for param, saved in zip(params, saved_state["state"], strict=True):
            if saved:
                optimizer.state[param] = {
                    key: value.to(param.device) if value.dim() else value
                    for key, value in _to_torch(saved).items()
                }
        return optimizer


def _to_numpy(tensors):
    return {name: t.detach().cpu().numpy().copy() for name, t in tensors.items()}


def _to_torch(arrays):
    return {name: torch.from_numpy(np.array(a)) for name, a in arrays.items()}


def _is_number(value):
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
