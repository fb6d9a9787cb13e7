"""The one list of estimators the CLI offers and model files may hold: ``ae_anomaly.__all__``.

A new variant exported from ``ae_anomaly/__init__.py`` appears in ``ae-anomaly fit --model``
and becomes loadable from model files with no other change.
"""

from __future__ import annotations

import re

from sklearn.base import BaseEstimator

from .base import BaseAutoencoder


def type_name(cls):
    """``module.QualName`` of a class, as skops names types."""
    return f"{cls.__module__}.{cls.__qualname__}"


def cli_name(cls):
    """``DenoisingAutoencoder`` -> ``"denoising"``; ``Autoencoder`` -> ``"autoencoder"``.

    Examples
    --------
    >>> from ae_anomaly import VariationalAutoencoder
    >>> cli_name(VariationalAutoencoder)
    'variational'
    """
    stem = re.sub(r"Autoencoder$", "", cls.__name__) or cls.__name__
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", stem).lower()


def public_estimators():
    """Every estimator class exported by ``ae_anomaly`` (trusted when loading a model file)."""
    import ae_anomaly

    objects = (getattr(ae_anomaly, name) for name in ae_anomaly.__all__)
    return [obj for obj in objects if isinstance(obj, type) and issubclass(obj, BaseEstimator)]


def autoencoders():
    """``{cli name: class}`` of the autoencoders exported by ``ae_anomaly``, in export order.

    Examples
    --------
    >>> autoencoders()["denoising"].__name__
    'DenoisingAutoencoder'
    """
    return {cli_name(cls): cls for cls in public_estimators() if issubclass(cls, BaseAutoencoder)}
