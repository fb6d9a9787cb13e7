"""scikit-learn's own estimator checks, with no waivers."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from ae_anomaly import Autoencoder, DenoisingAutoencoder, VariationalAutoencoder

ESTIMATORS = [
    Autoencoder(max_iter=5),
    DenoisingAutoencoder(max_iter=5),
    VariationalAutoencoder(max_iter=5),
]


@pytest.mark.filterwarnings("ignore::UserWarning")
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
