"""Quality floors on planted-anomaly tasks built from offline data, with default parameters."""

import pytest
from sklearn.metrics import roc_auc_score

from ae_anomaly import Autoencoder, DenoisingAutoencoder, VariationalAutoencoder
from ae_anomaly.datasets import load_split, make_synthetic

ESTIMATORS = [Autoencoder, DenoisingAutoencoder, VariationalAutoencoder]


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_breast_cancer_planted_anomalies(estimator_class):
    # Benign tumours are normal; 5% malignant ones are planted, unlabeled, in the training
    # data; the test part holds unseen benign rows and the other malignant rows.
    X_train, X_test, y_test = load_split("breast_cancer", contamination=0.05, random_state=0)
    model = estimator_class(random_state=0).fit(X_train)
    auc = roc_auc_score(y_test, -model.score_samples(X_test))
    assert auc >= 0.90, f"{estimator_class.__name__}: ROC-AUC {auc:.3f} < 0.90"


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_synthetic_manifold_anomalies(estimator_class):
    # Raw columns spanning five orders of magnitude: the internal scaling must cope.
    X, y = make_synthetic(n_samples=600, random_state=0)
    model = estimator_class(random_state=0).fit(X)
    auc = roc_auc_score(y, -model.score_samples(X))
    assert auc >= 0.95, f"{estimator_class.__name__}: ROC-AUC {auc:.3f} < 0.95"
