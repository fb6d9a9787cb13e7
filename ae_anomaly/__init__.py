"""ae_anomaly: autoencoders for anomaly detection and denoising, as scikit-learn estimators."""

from .autoencoder import Autoencoder
from .denoising import DenoisingAutoencoder
from .variational import VariationalAutoencoder

__version__ = "0.1.0"

__all__ = [
    "Autoencoder",
    "DenoisingAutoencoder",
    "VariationalAutoencoder",
    "__version__",
]
