"""ae_anomaly: autoencoders for anomaly detection and denoising, as scikit-learn estimators."""

from .autoencoder import Autoencoder
from .contractive import ContractiveAutoencoder
from .conv import ConvAutoencoder, ConvDenoisingAutoencoder, ConvVariationalAutoencoder
from .denoising import DenoisingAutoencoder
from .onnx import export_onnx
from .outofcore import fit_chunks
from .persistence import load, save
from .sparse import SparseAutoencoder
from .stacked import StackedAutoencoder
from .variational import VariationalAutoencoder

__version__ = "0.1.0"

__all__ = [
    "Autoencoder",
    "ContractiveAutoencoder",
    "ConvAutoencoder",
    "ConvDenoisingAutoencoder",
    "ConvVariationalAutoencoder",
    "DenoisingAutoencoder",
    "SparseAutoencoder",
    "StackedAutoencoder",
    "VariationalAutoencoder",
    "__version__",
    "export_onnx",
    "fit_chunks",
    "load",
    "save",
]
