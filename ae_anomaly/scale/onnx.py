"""Export a fitted autoencoder to ONNX, to serve it without Python's torch.

The graph takes the raw feature matrix and does everything ``score_samples`` does: the
input scaling, the network, and the score itself (computed by the estimator's own
``_anomaly_error``, traced, so the graph cannot drift from the Python scores). Needs the
optional extra ``pip install "ae-anomaly[onnx]"`` (onnx and onnxscript for
``torch.onnx.export``; onnxruntime to run the file).
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import math

import numpy as np
import torch
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MinMaxScaler,
    RobustScaler,
    StandardScaler,
)
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .._quiet import quiet_warnings
from ..models.base import BaseAutoencoder
from ..models.scalers import MADScaler
from ..tables.writer import atomic_path

#: The name of the graph's input and outputs.
INPUT, SCORE, RECONSTRUCTION = "X", "score", "reconstruction"
DTYPES = {"float64": torch.float64, "float32": torch.float32}
_CONVOLUTIONS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
                 nn.ConvTranspose3d)  # fmt: skip


def export_onnx(model, path, *, reconstruction=True, dtype=None, opset_version=18):
    """Write ``model`` as an ONNX graph: raw features in, ``score_samples`` out.

    Parameters
    ----------
    model : fitted autoencoder, or Pipeline
        An ae_anomaly estimator, or a ``Pipeline`` ending in one whose only other step is a
        ``ColumnTransformer`` that passes numeric columns through (what ``ae-anomaly fit``
        builds for numeric data). One-hot encoding and imputation cannot be exported.
    path : str or path-like
        The ``.onnx`` file to write (atomically).
    reconstruction : bool, default=True
        Add a second output, the reconstruction in the original units (``reconstruct``).
    dtype : {"float64", "float32"}, default=None
        The graph's input and arithmetic type. ``"float64"`` reproduces ``score_samples``
        to rounding; ``"float32"`` is faster to run and about 1e-6 off relative to the
        scores' scale (more relative to a score near 0: EnsembleAutoencoder's scores are
        centered, ~1e-6 off in absolute terms, up to 2e-3 relative on a row). None
        means float64, except for convolutional models and image models scoring with
        the structural error (``error="ssim"``): onnxruntime has no float64 convolution
        or average-pooling kernels, so they are exported in float32.
    opset_version : int, default=18

    Returns
    -------
    path : str
        Where the graph was written. Its input ``"X"`` has shape ``(n_samples,
        n_features)``; its outputs are ``"score"`` (higher = more normal, as
        ``score_samples``) and optionally ``"reconstruction"``. The file's metadata holds
        the feature names, ``offset_`` (a row is an outlier when ``score < offset``), the
        estimator's class and parameters, and the library version.

    Raises
    ------
    ValueError
        When the model or a pipeline step cannot be expressed in the graph.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> import onnxruntime as ort  # doctest: +SKIP
    >>> from ae_anomaly import Autoencoder, export_onnx
    >>> X = np.random.RandomState(0).normal(size=(200, 4))
    >>> ae = Autoencoder(max_iter=5, random_state=0).fit(X)
    >>> path = export_onnx(ae, pathlib.Path(tempfile.mkdtemp()) / "ae.onnx")  # doctest: +SKIP
    >>> session = ort.InferenceSession(path)  # doctest: +SKIP
    >>> score, reconstruction = session.run(None, {"X": X})  # doctest: +SKIP
    >>> bool(np.allclose(score, ae.score_samples(X), rtol=1e-12))  # doctest: +SKIP
    True
    """
    estimator, feature_names = _unwrap(model)
    # onnxruntime has no float64 kernels for convolutions, nor for the average pooling of
    # the structural ("ssim") pixel error, which a dense image model has too
    float32_only = getattr(estimator, "error", None) == "ssim" or any(
        isinstance(m, _CONVOLUTIONS) for m in estimator.module_.modules()
    )
    if dtype is None:
        dtype = "float32" if float32_only else "float64"
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}.")
    if float32_only and dtype == "float64":
        raise ValueError(
            f"{type(estimator).__name__} has convolutions or an SSIM error (average "
            "pooling), which onnxruntime cannot run in float64: export it with "
            "dtype='float32' (the default for it)."
        )
    graph = ScoringGraph(estimator, reconstruction=reconstruction, dtype=DTYPES[dtype]).eval()
    example = torch.zeros((2, estimator.n_features_in_), dtype=DTYPES[dtype])
    outputs = [SCORE, RECONSTRUCTION] if reconstruction else [SCORE]
    n_samples = torch.export.Dim("n_samples")
    # quiet: the exporter's notes about its internals
    with atomic_path(path) as tmp, quiet_warnings(), _quiet_exporter():
        try:
            program = torch.onnx.export(
                graph,
                (example,),
                dynamo=True,
                custom_translation_table=_translations(),
                input_names=[INPUT],
                output_names=outputs,
                dynamic_shapes=({0: n_samples},),
                opset_version=opset_version,
                verbose=False,
                optimize=True,
            )
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                'ONNX export needs onnx and onnxscript: pip install "ae-anomaly[onnx]".'
            ) from exc
        program.model.metadata_props.update(_metadata(estimator, feature_names, dtype))
        program.save(tmp)
    return str(path)


def _translations():
    """The exporter's translations replaced here: ``aten.scalar_tensor`` (see below)."""
    return {torch.ops.aten.scalar_tensor.default: _scalar_tensor}


def _scalar_tensor(s: float, dtype: int = 1, layout: str = "", device: str = "",
                   pin_memory: bool = False):  # fmt: skip
    """``aten.scalar_tensor`` as one constant of ``dtype``, built from the Python number.

    The exporter turns each Python float meeting a tensor (``x * 3.2``, ``x + eps``) into
    ``scalar_tensor(3.2, dtype=x.dtype)``, which onnxscript's translation writes as a float32
    constant cast to ``dtype``: in a float64 graph every constant not exact in float32
    (``error_cap / k = 3.2``, ``error_cap=10.1``) was rounded to float32, ~3e-8 relative.

    Parameters
    ----------
    s : float, int or bool, or an ONNX value (a symbolic number)
    dtype : int, default=1
        The ONNX element type (1 = float32; the exporter passes the tensor's).
    layout, device, pin_memory
        Ignored (the signature of ``aten.scalar_tensor``).

    Returns
    -------
    onnx value
    """
    from onnxscript import ir
    from onnxscript import opset18 as op

    dtype = ir.DataType(1 if dtype is None or dtype == -1 else dtype)
    if isinstance(s, ir.Value):  # a symbolic number: already a tensor in the graph
        return op.Cast(s, to=dtype)
    return op.Constant(value=ir.tensor(s, dtype=dtype))


@contextlib.contextmanager
def _quiet_exporter():
    """Silence the exporter's log lines (e.g. "torchvision is not installed")."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


class ScoringGraph(nn.Module):
    """``X -> (score_samples(X), reconstruct(X))`` as one torch module, ready to trace.

    Parameters
    ----------
    estimator : fitted BaseAutoencoder
    reconstruction : bool, default=True
    dtype : torch.dtype, default=torch.float64
    """

    def __init__(self, estimator, *, reconstruction=True, dtype=torch.float64):
        super().__init__()
        self.net = _exportable(copy.deepcopy(estimator.module_).cpu().to(dtype), dtype)
        self.error = estimator._anomaly_error  # the estimator's own score, traced
        self.reconstruction = reconstruction
        shift, scale, mode = _scaler_parameters(estimator.scaler_, estimator.n_features_in_)
        self.divide = mode == "divide"
        self.register_buffer("shift", torch.as_tensor(shift, dtype=dtype))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=dtype))

    def forward(self, X):
        # the same operations, in the same order, as the sklearn scaler's transform
        X_scaled = (X - self.shift) / self.scale if self.divide else X * self.scale + self.shift
        score = -self.error(self.net, X_scaled)
        if not self.reconstruction:
            return score
        X_hat = self.net(X_scaled)
        X_hat = (
            X_hat * self.scale + self.shift if self.divide else (X_hat - self.shift) / self.scale
        )
        return score, X_hat


def _scaler_parameters(scaler, n_features):
    """``(shift, scale, mode)`` of a fitted scaler as sklearn applies it.

    StandardScaler and RobustScaler compute ``(X - shift) / scale`` ("divide"),
    MinMaxScaler ``X * scale + shift`` ("multiply"); no scaler is the identity.
    """
    zeros, ones = np.zeros(n_features), np.ones(n_features)
    if scaler is None:
        return zeros, ones, "divide"
    if type(scaler) is StandardScaler:
        mean = zeros if scaler.mean_ is None else scaler.mean_
        scale = ones if scaler.scale_ is None else scaler.scale_
        return mean, scale, "divide"
    if type(scaler) in (RobustScaler, MADScaler):  # the same transform
        center = zeros if scaler.center_ is None else scaler.center_
        scale = ones if scaler.scale_ is None else scaler.scale_
        return center, scale, "divide"
    if type(scaler) is MinMaxScaler and not scaler.clip:
        return scaler.min_, scaler.scale_, "multiply"
    raise ValueError(
        f"Cannot export the input scaler {scaler!r}: only StandardScaler, RobustScaler, "
        "MADScaler and MinMaxScaler(clip=False) are supported."
    )


class _GELU(nn.Module):
    """Exact GELU with ``erf`` in float32: onnxruntime has no float64 ``Erf`` kernel.

    ``x * Phi(x)`` stays float64; only Phi is rounded to float32 (~6e-8 relative).
    """

    def forward(self, x):
        phi = 0.5 * (1.0 + torch.erf((x / math.sqrt(2.0)).float()))
        return x * phi.to(x.dtype)


def _exportable(module, dtype):
    """Swap the layers onnxruntime cannot run in ``dtype`` for equivalent ones."""
    if dtype != torch.float64:
        return module.eval()
    for name, child in list(module.named_modules()):
        if isinstance(child, nn.GELU):
            if child.approximate != "none":
                continue
            parent_name, _, attr = name.rpartition(".")
            setattr(module.get_submodule(parent_name), attr, _GELU())
    return module.eval()


def _unwrap(model):
    """``(estimator, feature names)`` of an estimator or an exportable Pipeline."""
    if isinstance(model, Pipeline):
        estimator, steps = model.steps[-1][1], [s for _, s in model.steps[:-1]]
        names = None
        for step in steps:
            if step in (None, "passthrough"):
                continue
            if not isinstance(step, ColumnTransformer):
                raise ValueError(
                    f"Cannot export a Pipeline step {type(step).__name__}: only numeric "
                    "columns passed through to the autoencoder can go in the graph."
                )
            names = _passthrough_columns(step)
    else:
        estimator, names = model, None
    if not isinstance(estimator, BaseAutoencoder):
        raise ValueError(
            f"export_onnx needs an ae_anomaly autoencoder, got {type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    if names is None:
        names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        names = [f"x{i}" for i in range(estimator.n_features_in_)]
    return estimator, [str(n) for n in names]


def _passthrough_columns(transformer):
    check_is_fitted(transformer)
    names = []
    for name, step, columns in transformer.transformers_:
        if name == "remainder" and step == "drop":
            continue
        if not _is_identity(step):
            kind = type(step).__name__ if not isinstance(step, str) else repr(step)
            raise ValueError(
                f"Cannot export the {name!r} columns ({kind}): one-hot encoding and "
                "imputation are not in the graph. Fit on numeric columns without --impute."
            )
        names.extend(columns)
    return names


def _is_identity(step):
    """``"passthrough"``, which a fitted ColumnTransformer holds as a FunctionTransformer."""
    if isinstance(step, str):
        return step == "passthrough"
    return isinstance(step, FunctionTransformer) and step.func is None


def _metadata(estimator, feature_names, dtype):
    from .. import __version__

    params = {k: v for k, v in estimator.get_params().items() if _is_plain(v)}
    return {
        "ae_anomaly_version": __version__,
        "estimator": type(estimator).__name__,
        "params": json.dumps(params),
        "feature_names": json.dumps(feature_names),
        "offset": repr(float(estimator.offset_)),
        "dtype": dtype,
        "score": "score_samples: higher = more normal; an outlier when score < offset",
    }


def _is_plain(value):
    try:
        json.dumps(value)
    except TypeError:
        return False
    return True
