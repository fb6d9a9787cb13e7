"""ae_anomaly: autoencoders for anomaly detection and denoising, as scikit-learn estimators."""

from .models.autoencoder import Autoencoder
from .models.contractive import ContractiveAutoencoder
from .models.conv import ConvAutoencoder, ConvDenoisingAutoencoder, ConvVariationalAutoencoder
from .models.denoising import DenoisingAutoencoder
from .models.sparse import SparseAutoencoder
from .models.stacked import StackedAutoencoder
from .models.variational import VariationalAutoencoder
from .persistence import load, save
from .scale.onnx import export_onnx
from .scale.outofcore import fit_chunks

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
