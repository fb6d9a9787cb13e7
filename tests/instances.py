"""Tiny instances of every exported estimator, and their declared exceptions, in one place.

Like scikit-learn's ``utils/_test_common/instance_generator.py``: the estimator checks and
the signature tests iterate over ``public_estimators()``, so a new estimator exported from
``ae_anomaly`` is checked without editing any list. Only an estimator that needs other
settings to be tiny, or that departs from the template, is named here.
"""

from ae_anomaly.models._conv_base import _ConvMixin
from ae_anomaly.models.base import BaseAutoencoder
from ae_anomaly.models.conv import EXPECTED_FAILED_CHECKS
from ae_anomaly.models.registry import public_estimators

#: Settings that keep each check fast (every estimator gets ``max_iter=2``).
TINY = {"max_iter": 2}
TINY_BY_CLASS = {
    "ConvAutoencoder": {"channels": (2,)},
    "ConvDenoisingAutoencoder": {"channels": (2,)},
    "ConvVariationalAutoencoder": {"channels": (2,)},
    "ImageAutoencoder": {"hidden_layer_sizes": (8,)},
}
#: Checks a (non-image) estimator is known to fail, and why.
WAIVERS = {
    "TableEncoder": {
        "check_estimators_nan_inf": "infinity at transform time goes on to the detector, "
        "which flags the row (refused at fit time)",
    },
}
#: Estimators whose checks take minutes: run with the slow tests only.
SLOW = {"ConvDenoisingAutoencoder", "ConvVariationalAutoencoder"}

#: Template parameters a subclass declares with another default, and why.
DEFAULT_OVERRIDES = {
    # images: one scale for every pixel, longer training at a lower rate
    "images": {"scaling": "global", "max_iter": 100, "learning_rate_init": 1e-3},
    # the image model chosen on the one-class benchmarks (benchmarks/results/
    # images_levers.md): a dense network, a budget of epochs and optimizer steps, batches
    # of 64, no held-out early stopping
    "ImageAutoencoder": {"hidden_layer_sizes": (1024,), "max_iter": "auto", "batch_size": 64,
                         "early_stopping": False},
    # a fixed short budget per member and median/MAD scaling, chosen on both ADBench
    # folds (benchmarks/README.md, benchmarks/results/adbench_levers/)
    "EnsembleAutoencoder": {"max_iter": 40, "early_stopping": False, "scaling": "mad"},
}
#: Template parameters a subclass does not take, and why.
REMOVED = {
    # image models score with the plain pixel error: no statistics to choose
    "images": {"score_statistics"},
}


def _declared(table, cls):
    """What ``table`` declares for ``cls``: its image-model group's entry (every
    ``_ConvMixin`` class), updated by the class's own."""
    group = table.get("images") if issubclass(cls, _ConvMixin) else None
    declared = [part for part in (group, table.get(cls.__name__)) if part]
    merged = declared[0].copy() if declared else {}
    for part in declared[1:]:
        merged.update(part)  # dict or set alike
    return merged


def default_overrides(cls):
    return _declared(DEFAULT_OVERRIDES, cls)


def removed_parameters(cls):
    return set(_declared(REMOVED, cls))


def tiny_instance(cls):
    tiny = TINY if issubclass(cls, BaseAutoencoder) else {}
    return cls(**tiny, **TINY_BY_CLASS.get(cls.__name__, {}))


def expected_failed_checks(estimator):
    """The checks an estimator is known to fail: the image models, whose inputs are images
    rather than arbitrary 2-D data (listed with the reason in ``ae_anomaly.models.conv``)."""
    if isinstance(estimator, _ConvMixin):
        return EXPECTED_FAILED_CHECKS
    return WAIVERS.get(type(estimator).__name__, {})


def estimator_classes():
    return public_estimators()
