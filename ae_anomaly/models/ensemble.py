"""An ensemble of small autoencoders trained at once, each on its own rows and columns."""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch

from ..nn.ensemble_nets import EnsembleNet
from ..nn.training import predict_batches
from ._docs import COMMON_PARAMETERS
from ._sklearn_compat import Interval, StrOptions
from .base import BaseAutoencoder
from .scoring import MAD_TO_SD

#: Columns per member with ``max_features="auto"``: all of them up to this many, else a
#: random subset of this size (the members' cost then does not grow with the width).
AUTO_MAX_FEATURES = 32
#: The scoring statistics are medians and MADs over at most this many training rows.
STATISTICS_ROWS = 2048
#: Absolute floor of every scale the anomaly error divides by. On constant training data
#: the spreads are 0, and a floor as small as the smallest float turned rounding noise
#: into infinite scores; the errors are in standardized units, where this is negligible.
FLOOR = float(np.finfo(np.float64).eps)


_PARAMETERS = (
    COMMON_PARAMETERS.replace("Size of the code (bottleneck)", "Code size of each member")
    .replace(
        """the network from ``n_features``: one hidden layer of ``n_features // 2`` units,
    clipped to [64, 256].""",
        """each member from its ``k`` columns: one hidden layer of ``k`` units, clipped to
    [8, 32].""",
    )
    .replace("None uses ``ceil(sqrt(n_features))``", "None uses ``ceil(sqrt(k))``")
    .replace("kept below ``n_features``", "kept below ``k``")
    .replace('"auto" is 1024 (256 for the convolutional models)', '"auto" is 64')
    .replace(
        "max_iter : int, default=20\n    Maximum number of epochs "
        "(100 for the convolutional models).",
        "max_iter : int, default=40\n    Maximum number of epochs (each member: one pass over its "
        "``max_samples_`` rows).",
    )
    .replace(
        'scaling : {"standard", "robust", "mad", "minmax"} or None, default="standard"',
        'scaling : {"standard", "robust", "mad", "minmax"} or None, default="mad"\n    '
        "(median and MAD: the best scaling on both folds of ADBench, "
        "``benchmarks/results/ensemble_scoring_levers/choice.md``)",
    )
    .replace(
        "early_stopping : bool, default=True",
        "early_stopping : bool, default=False\n    (False here: a short fixed budget, "
        "``max_iter``, stops training before the members learn the anomalies.)",
    )
)


class EnsembleAutoencoder(BaseAutoencoder):
    __doc__ = f"""Ensemble of small autoencoders, each on a random sample of rows and columns.

Built for training data that holds unlabeled anomalies. ``n_estimators`` small MLP
autoencoders are trained at once, as one batched network (:mod:`ae_anomaly.nn.
ensemble_nets`): each member trains on its own random subsample of ``max_samples`` rows
(IsolationForest's subsampling: a small sample holds few anomalies, and a member that
never saw an anomaly cannot learn to reconstruct it) and sees its own random subset of
``max_features`` columns (feature bagging). Each member's anomaly error on a row is its
reconstruction error on its columns plus the standardized distance of its code from the
median code. A column's error is its squared error divided by the column's median
squared error on the training rows, ``e``, soft-capped: ``error_cap * log(1 + e /
error_cap)``, which is ``e`` for small errors and grows only logarithmically beyond
``error_cap`` (a robust, Cauchy-type score: one wild column of a row weighs
logarithmically, not quadratically, against rows off in many columns; the code
distance is not capped). The member's error is normalized by its
median and MAD on the training rows, and the normalized errors are averaged over the
members. ``score_samples`` is minus that average.
An epoch is one pass of every member over its own ``max_samples_`` rows: of the chunk for
``partial_fit``; for :meth:`fit_stream` (and :func:`ae_anomaly.fit_chunks`), of its uniform
sample of the rows, read in one pass, so that a streamed fit costs what ``fit`` does.

Parameters
----------
n_estimators : int, default=20
    Number of member autoencoders. 20 with ``max_iter=40`` is the cheapest setting
    within 0.005 mean ROC-AUC of the best measured one on both folds of ADBench's 36
    sets (50 members: +0.003 on fold A, -0.001 on B, at 3x the fit time; 10 members
    fall 0.006 short on A at 40 epochs, 0.009 on B at 20; ``python -m benchmarks.levers
    --seeds 1,2,3``).
max_samples : "auto", int or float, default="auto"
    Rows each member trains on, drawn without replacement from the training rows
    (after the validation split): an int is a count, a float a share, "auto" is
    ``min(256, n_samples)`` as in IsolationForest.
max_features : "auto", int or float, default="auto"
    Columns each member sees and reconstructs: an int is a count, a float a share
    (at least one column), "auto" all of them up to 32, else a random 32 (feature
    bagging on wide tables, which also keeps a member's cost independent of the width).
trim : float in [0, 1), default=0.0
    Share of the rows of each batch with the largest error that a member leaves out of
    its loss (loss trimming): rows that reconstruct worst, likely the anomalies, do
    not pull the members towards them.
code_distance : bool, default=True
    Add each member's standardized code distance to its reconstruction error.
error_cap : float or None, default=16.0
    Soft cap on each column's error, in units of the column's median squared error
    (see above); None scores plain squared errors. Chosen looking at both of ADBench's
    folds (the folds' own rule picks None): with the
    default scaling, 16 lifts mean AUCPR from 0.428 to 0.456 at equal ROC-AUC (0.822
    vs 0.819; 4 and 64 within 0.004; ``benchmarks/results/ensemble_scoring_levers/
    choice.md``).
{_PARAMETERS}
Attributes
----------
module_ : EnsembleNet
    The trained members (see :mod:`ae_anomaly.nn.ensemble_nets`); ``module_.
    feature_index`` holds each member's columns.
scaler_ : StandardScaler, RobustScaler, MinMaxScaler or None
    The fitted input scaler.
offset_ : float
    Threshold on ``score_samples``: ``decision_function = score_samples - offset_``.
column_scale_ : ndarray of shape (n_features_in_,)
    Median (``score_statistics="mean"``: mean) squared reconstruction error of each
    column on the training rows, averaged over the members that see it.
code_center_, code_scale_ : ndarray of shape (n_estimators, n_components_)
    Median and squared MAD (mean and variance) of each member's code units.
member_center_, member_scale_ : ndarray of shape (n_estimators,)
    Median and MAD (mean and standard deviation) of each member's anomaly error on the
    training rows: the per-member normalization.
max_samples_, max_features_ : int
    Rows and columns per member.
hidden_layer_sizes_ : tuple of int
    The hidden layer widths of each member.
n_components_ : int
    The code size of each member.
loss_curve_ : list of float
    Training loss per epoch.
validation_loss_curve_ : list of float or None
    Mean reconstruction error of the held-out rows per epoch.
best_loss_ : float
    Best value of the monitored loss.
n_iter_ : int
    Number of epochs run.
device_ : str
    The device the network lives on.
n_features_in_ : int
    Number of features seen during ``fit``.
feature_names_in_ : ndarray of shape (n_features_in_,)
    Names of features seen during ``fit``, when they are all strings.

See Also
--------
Autoencoder : One network on every row.
sklearn.ensemble.IsolationForest : The subsampled tree ensemble this mirrors.

Notes
-----
``transform`` returns the members' codes side by side (``n_estimators * n_components_``
columns) and ``inverse_transform`` decodes them, each column averaged over the members
that see it.

References
----------
Chen, Sathe, Aggarwal and Turaga (2017), "Outlier detection with autoencoder
ensembles", SDM. Lazarevic and Kumar (2005), "Feature bagging for outlier detection",
KDD. Liu, Ting and Zhou (2008), "Isolation forest", ICDM.

Examples
--------
>>> import numpy as np
>>> from ae_anomaly.models.ensemble import EnsembleAutoencoder
>>> rng = np.random.RandomState(0)
>>> X = rng.normal(size=(300, 5))
>>> X[:, 1] = 2 * X[:, 0]
>>> model = EnsembleAutoencoder(n_estimators=10, random_state=0).fit(X)
>>> model.predict(np.array([[3.0, -6.0, 0.0, 0.0, 0.0]]))
array([-1])
>>> model.transform(X[:2]).shape
(2, 30)
"""

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "max_samples": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 0, 1, closed="right"),
        ],
        "max_features": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 0, 1, closed="right"),
        ],
        "trim": [Interval(Real, 0, 1, closed="left")],
        "code_distance": ["boolean"],
        "error_cap": [Interval(Real, 0, None, closed="neither"), None],
    }
    _auto_batch_size = 64

    def __init__(
        self,
        *,
        n_estimators=20,
        max_samples="auto",
        max_features="auto",
        trim=0.0,
        code_distance=True,
        error_cap=16.0,
        hidden_layer_sizes=None,
        n_components=None,
        activation="relu",
        dropout=0.0,
        scaling="mad",
        max_iter=40,
        batch_size="auto",
        learning_rate_init=1e-2,
        alpha=0.0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        contamination="auto",
        score_statistics="median",
        device="auto",
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            n_components=n_components,
            activation=activation,
            dropout=dropout,
            scaling=scaling,
            max_iter=max_iter,
            batch_size=batch_size,
            learning_rate_init=learning_rate_init,
            alpha=alpha,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            contamination=contamination,
            score_statistics=score_statistics,
            device=device,
            random_state=random_state,
            verbose=verbose,
        )
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.max_features = max_features
        self.trim = trim
        self.code_distance = code_distance
        self.error_cap = error_cap

    # ------------------------------------------------------------------ sizes and network
    def _n_inputs(self, n_features):
        if self.max_features == "auto":
            return min(n_features, AUTO_MAX_FEATURES)
        if isinstance(self.max_features, Integral):
            return min(int(self.max_features), n_features)
        return max(1, math.ceil(self.max_features * n_features))

    _input_width = _n_inputs

    def _default_sizes(self, n_features):
        k = self._n_inputs(n_features)
        n_components = max(1, min(k - 1, math.ceil(math.sqrt(k))))
        return (int(np.clip(k, 8, 32)),), n_components

    def _initialize(self, X, scaler):
        self.max_features_ = self._n_inputs(X.shape[1])
        super()._initialize(X, scaler)

    def _build_module(self, n_features):
        k = self._n_inputs(n_features)
        index = torch.stack(
            [
                torch.randperm(n_features, device="cpu")[:k].sort().values
                for _ in range(self.n_estimators)
            ]
        )
        return EnsembleNet(
            n_features,
            index,
            self.hidden_layer_sizes_,
            self.n_components_,
            activation=self.activation,
            dropout=self.dropout,
        )

    _trains_on_sample = True

    def _validation_split(self, X):
        """The base split, then each member's own training rows (:meth:`_training_rows`)."""
        X_train, X_val = super()._validation_split(X)
        return self._training_rows(X_train), X_val

    def _training_rows(self, X, n_rows=None):
        """Each member's own ``max_samples_`` rows of ``X`` on its own columns, stacked as
        ``(max_samples_, n_estimators, k)``: the loop's batches then hand every member a
        batch of its own rows. ``n_rows``: the size of the data ``X`` is a uniform sample
        of (a streamed fit), which a float ``max_samples`` is a share of."""
        n = X.shape[0]
        total = n if n_rows is None else n_rows
        if self.max_samples == "auto":
            size = min(256, total)
        elif isinstance(self.max_samples, Integral):
            size = min(int(self.max_samples), total)
        else:
            size = max(1, int(self.max_samples * total))
        if size > n:
            warnings.warn(
                f"max_samples={self.max_samples!r} asks for {size:,} rows per member; a "
                f"streamed fit draws them from its uniform sample of {n:,} rows of the "
                f"{total:,}, so each member trains on {n:,}.",
                UserWarning,
                stacklevel=5,
            )
            size = n
        self.max_samples_ = size
        rows = np.stack([self._rng.permutation(n)[:size] for _ in range(self.n_estimators)])
        # each member's own columns only, (max_samples_, n_estimators, k): on wide tables
        # shuffling all n_features every epoch cost more than the training steps
        network = self.__dict__.get("_training_module")
        if network is None:  # a loaded model's: rebuilt from module_
            network = self._training_state()[0]
        columns = network.feature_index.cpu().numpy()
        return X[rows.T[:, :, None], columns[None, :, :]]

    # ------------------------------------------------------------------ training
    def _training_loss(self, module, X, generator):
        errors = module.member_squared_errors(X).mean(dim=2)  # (members, batch)
        if self.trim > 0 and errors.shape[1] > 1:
            cut = torch.quantile(errors.detach(), 1.0 - self.trim, dim=1, keepdim=True)
            errors = errors * (errors.detach() <= cut)
        return errors.mean(dim=0)

    def _reconstruction_error(self, module, X):
        return module.member_errors(X).mean(dim=1)

    # ------------------------------------------------------------------ scoring
    def _code_distance(self, codes, X):
        if not self.code_distance:
            return codes.new_zeros(codes.shape[:2])
        center = torch.as_tensor(self.code_center_, dtype=X.dtype, device=X.device)
        scale = torch.as_tensor(self.code_scale_, dtype=X.dtype, device=X.device)
        # the mean over the code of squared / scale as one batched product with
        # 1 / (scale * width): cheaper than a division and a reduction
        weights = (1.0 / (scale * codes.shape[2]))[:, :, None]
        return torch.bmm(torch.sub(codes, center[:, None, :]).square_(), weights).squeeze(2)

    def _fit_error_statistics(self, X_scaled):
        """Column scales, code centers and scales, then each member's center and scale."""
        for name in ("column_scale_", "code_center_", "code_scale_"):
            self.__dict__.pop(name, None)
        self.member_center_ = self.member_scale_ = None
        module, median = self.module_, self.score_statistics == "median"

        def columns(module, x):
            squared, codes = module.member_parts(x)
            flat = codes.permute(1, 0, 2).reshape(x.shape[0], -1)
            return torch.cat([module.to_columns(squared) / module.coverage.clamp(min=1), flat], 1)

        if X_scaled.shape[0] > STATISTICS_ROWS:  # medians of a seeded sample of the rows
            rows = np.sort(self._rng.choice(X_scaled.shape[0], STATISTICS_ROWS, replace=False))
            X_scaled = X_scaled[rows]
        parts = predict_batches(columns, module, X_scaled)
        errors, codes = parts[:, : X_scaled.shape[1]], parts[:, X_scaled.shape[1] :]
        codes = codes.reshape(len(codes), self.n_estimators, -1)
        scale = np.median(errors, axis=0) if median else errors.mean(axis=0)
        self.column_scale_ = scale + 1e-3 * scale.mean() + FLOOR
        self.code_center_, spread = _center_spread(codes, median)
        self.code_scale_ = spread**2 + 1e-3 * np.mean(spread**2) + FLOOR

        def member_errors(module, x):
            squared, codes = module.member_parts(x)
            return (self._member_error(squared, x) + self._code_distance(codes, x)).T

        center, spread = _center_spread(predict_batches(member_errors, module, X_scaled), median)
        self.member_center_ = center
        # a spread below 1e-5 of the center is rounding (constant data), not variation:
        # a training row scored in a batch of another size differs from the center by
        # an ulp or so (2.3e-16 of it at most over 75 constant tables), which the
        # threshold's 1e-9 margin then absorbs (a floor of 1e-12 flagged the row)
        self.member_scale_ = spread + 1e-3 * np.mean(spread) + 1e-5 * np.abs(center) + FLOOR

    def _weighted(self, squared, X):
        """Squared errors divided by their column's scale, soft-capped at ``error_cap``;
        computed in place in ``squared`` (a fresh tensor of ``EnsembleNet.member_parts``)."""
        errors, cap = self._scaled(squared, X)
        if self.error_cap is None:
            return errors
        # log(1 + u) rather than log1p(u): they differ by the rounding of 1 + u (about
        # 1e-16 against terms of order 1), and torch's float64 log is 2-4x cheaper
        return errors.add_(1.0).log_().mul_(cap)

    def _member_error(self, squared, X):
        """Each member's mean of :meth:`_weighted` over its ``k`` columns, ``(n_members,
        batch)``, in place in ``squared``: ``cap / k * log(prod(1 + u))``, one logarithm per
        member instead of one per column (equal up to rounding, ~1e-15); where a product
        overflows (a member error above ``709 * cap / k``), the sum of the logarithms."""
        factors, cap = self._scaled(squared, X)
        scale = cap / factors.shape[2]
        if self.error_cap is None:
            return factors.sum(dim=2).mul_(scale)
        factors.add_(1.0)
        if _traced():  # a graph (ONNX export) cannot branch on the data
            return factors.log_().sum(dim=2).mul_(scale)
        total = factors.prod(dim=2).log_()
        overflow = torch.isinf(total)
        if overflow.any():
            total = torch.where(overflow, factors.log().sum(dim=2), total)
        return total.mul_(scale)

    def _scaled(self, squared, X):
        """``(squared / (column scale * cap), cap)``, in place in ``squared``."""
        column = torch.as_tensor(self.column_scale_, dtype=X.dtype, device=X.device)
        cap = self.error_cap or 1.0
        weights = (1.0 / (column[self.module_.feature_index] * cap))[:, None, :]
        return squared.mul_(weights), cap

    def _member_statistics(self, X):
        """``member_center_`` and ``member_scale_`` as tensors like ``X``."""
        return (torch.as_tensor(value, dtype=X.dtype, device=X.device)
                for value in (self.member_center_, self.member_scale_))  # fmt: skip

    def _anomaly_error(self, module, X):
        """The anomaly error alone, without the per-column split of :meth:`_error_parts`
        (the same sum in another order): the scoring hot path."""
        if self.__dict__.get("member_scale_") is None:
            return super()._anomaly_error(module, X)
        squared, codes = module.member_parts(X)
        center, scale = self._member_statistics(X)
        errors = self._member_error(squared, X) + self._code_distance(codes, X)
        return ((errors - center[:, None]) / scale[:, None]).mean(dim=0)

    def _error_parts(self, module, X):
        """``(per-column part (batch, n_features), per-row part (batch,))`` of the anomaly
        error: their column mean plus the row part is the mean over members of
        ``(member error - member_center_) / member_scale_``."""
        squared, codes = module.member_parts(X)
        n_members, _, k = squared.shape
        factor = self.n_features_in_ / (n_members * k)
        if self.__dict__.get("member_scale_") is None:  # while training: plain errors
            return module.to_columns(squared) * factor, X.new_zeros(X.shape[0])
        center, scale = self._member_statistics(X)
        errors = module.to_columns(self._weighted(squared, X) / scale[:, None, None]) * factor
        rest = (self._code_distance(codes, X) - center[:, None]) / scale[:, None]
        return errors, rest.mean(dim=0)

    # ------------------------------------------------------------------ codes
    @property
    def _n_features_out(self):
        return self.n_estimators * self.n_components_


def _traced():
    """Whether torch is tracing a graph (``torch.export``, ONNX export) rather than running."""
    compiling = getattr(torch.compiler, "is_compiling", None)  # torch >= 2.3
    return torch.jit.is_tracing() or (compiling is not None and compiling())


def _center_spread(values, median):
    """Median and MAD scaled to a standard deviation (the SD where the MAD is 0), or mean and
    SD, along axis 0."""
    if not median:
        return values.mean(axis=0), values.std(axis=0)
    center = np.median(values, axis=0)
    spread = MAD_TO_SD * np.median(np.abs(values - center), axis=0)
    return center, np.where(spread > 0, spread, values.std(axis=0))
