"""The undercomplete (vanilla, multilayer/deep) autoencoder."""

from ._docs import COMMON_ATTRIBUTES, COMMON_PARAMETERS
from .base import BaseAutoencoder


class Autoencoder(BaseAutoencoder):
    __doc__ = f"""Undercomplete MLP autoencoder for anomaly detection.

The network learns to squeeze rows through a narrow code and back; rows unlike the
training data reconstruct badly. ``score_samples`` is minus the reconstruction error
(higher is more normal), ``predict`` gives +1 for inliers and -1 for outliers, and
``transform`` gives the codes.

Parameters
----------
{COMMON_PARAMETERS}
Attributes
----------
{COMMON_ATTRIBUTES}
See Also
--------
DenoisingAutoencoder : Trained to undo input corruption.
VariationalAutoencoder : A probabilistic code with a KL term.
sklearn.ensemble.IsolationForest : A tree-based detector with the same API.

Notes
-----
With ``hidden_layer_sizes=()``, ``activation`` is unused and the model is linear: it
learns the same subspace as PCA with ``n_components`` components.

Thread safety: scoring methods may run in several threads while ``partial_fit`` trains
in another; each call sees the model before or after a training step, never half of
each (every estimator of the package; see ``BaseAutoencoder``).

Examples
--------
>>> import numpy as np
>>> from ae_anomaly import Autoencoder
>>> rng = np.random.RandomState(0)
>>> X = rng.normal(size=(200, 5))
>>> X[:, 1] = 2 * X[:, 0]  # inliers follow a linear rule...
>>> outlier = np.array([[3.0, -6.0, 0.0, 0.0, 0.0]])  # ...that this row breaks
>>> ae = Autoencoder(n_components=4, max_iter=50, random_state=0).fit(X)
>>> ae.predict(outlier)
array([-1])
>>> ae.transform(X[:2]).shape
(2, 4)
"""
