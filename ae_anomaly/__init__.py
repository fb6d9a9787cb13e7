"""ae_anomaly: autoencoders for anomaly detection and denoising, as scikit-learn estimators.

The public names are imported on first use (PEP 562), so ``import ae_anomaly`` and
``ae-anomaly --help`` do not pay for torch and scikit-learn.
"""

import importlib

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS = {
    "Autoencoder": ".models.autoencoder",
    "ContractiveAutoencoder": ".models.contractive",
    "ConvAutoencoder": ".models.conv",
    "ConvDenoisingAutoencoder": ".models.conv",
    "ConvVariationalAutoencoder": ".models.conv",
    "DenoisingAutoencoder": ".models.denoising",
    "EnsembleAutoencoder": ".models.ensemble",
    "ImageAutoencoder": ".models.image_autoencoder",
    "MADScaler": ".models.scalers",
    "SparseAutoencoder": ".models.sparse",
    "StackedAutoencoder": ".models.stacked",
    "TableEncoder": ".tables.encoder",
    "VariationalAutoencoder": ".models.variational",
    "export_onnx": ".scale.onnx",
    "feature_scores_by_column": ".tables.pipeline",
    "fit_chunks": ".scale.outofcore",
    "load": ".persistence",
    "make_table_pipeline": ".tables.pipeline",
    "save": ".persistence",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__})
