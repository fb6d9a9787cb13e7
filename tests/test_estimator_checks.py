"""scikit-learn's own estimator checks over every estimator ``ae_anomaly`` exports.

Driven by the registry (``tests/instances.py``): a new exported estimator is checked
without editing this file.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from tests.instances import SLOW, estimator_classes, expected_failed_checks, tiny_instance

FAST = [tiny_instance(cls) for cls in estimator_classes() if cls.__name__ not in SLOW]
LONG = [tiny_instance(cls) for cls in estimator_classes() if cls.__name__ in SLOW]


def test_every_exported_estimator_is_checked():
    assert {type(e) for e in FAST + LONG} == set(estimator_classes())


@pytest.mark.filterwarnings("ignore::UserWarning")
@parametrize_with_checks(FAST, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::UserWarning")
@parametrize_with_checks(LONG, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator_slow(estimator, check):
    check(estimator)
