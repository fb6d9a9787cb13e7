"""Estimators from text: ``"max_iter=50"`` settings and a kind name such as ``"denoising"``."""

from __future__ import annotations

import ast

from .errors import ParameterError, escape, literal


def parse_settings(estimator_class, settings):
    """``["key=value", ...]`` -> ``{key: value}``, each value read as a Python literal.

    A value that is not a literal (``activation=relu``) stays a string, but for ``true``,
    ``false``, ``none`` and ``null`` in any case; ``-`` in a key reads as ``_``.
    Validating the values is the estimator's job, at ``fit``.

    Parameters
    ----------
    estimator_class : type
        A scikit-learn estimator class; the keys must be its parameters.
    settings : iterable of str
        ``"key=value"`` strings.

    Returns
    -------
    params : dict

    Raises
    ------
    ParameterError
        For a string without ``=`` or a key that is not a parameter, naming it.

    Examples
    --------
    >>> from ae_anomaly import Autoencoder
    >>> parse_settings(Autoencoder, ["max_iter=50", "hidden_layer_sizes=64,16", "activation=tanh"])
    {'max_iter': 50, 'hidden_layer_sizes': (64, 16), 'activation': 'tanh'}
    >>> parse_settings(Autoencoder, ["early_stopping=false", "scaling=none"])
    {'early_stopping': False, 'scaling': None}
    >>> parse_settings(Autoencoder, ["max_itr=5"])
    Traceback (most recent call last):
    ...
    ae_anomaly.tables.errors.ParameterError: settings: Autoencoder has no parameter 'max_itr'; ...
    """
    valid = estimator_class().get_params(deep=False)
    params = {}
    for setting in settings:
        key, sep, raw = setting.partition("=")
        key = key.strip().replace("-", "_")
        if not sep:
            raise ParameterError(
                f"{{settings}}: {literal(setting)} is not KEY=VALUE (e.g. max_iter=50)."
            )
        if key not in valid:
            raise ParameterError(
                f"{{settings}}: {estimator_class.__name__} has no parameter {literal(key)}; it "
                f"has {', '.join(sorted(valid))}."
            )
        try:
            params[key] = ast.literal_eval(raw.strip())
        except (ValueError, SyntaxError):  # a shell's spelling of True, False and None too
            params[key] = _WORDS.get(raw.strip().lower(), raw.strip())
    return params


_WORDS = {"true": True, "false": False, "none": None, "null": None}


def make_estimator(kind, settings=(), **params):
    """The autoencoder named ``kind``, with ``settings`` then ``params`` as parameters.

    ``random_state`` defaults to 0 here, so that a table fitted twice gives one model.

    Parameters
    ----------
    kind : str
        A name from :func:`ae_anomaly.models.registry.autoencoders` (``"autoencoder"``,
        ``"denoising"``, ``"variational"``...).
    settings : iterable of str
        ``"key=value"`` strings (see :func:`parse_settings`).
    **params
        Parameters that override the settings.

    Raises
    ------
    ParameterError
        For an unknown kind, a setting :func:`parse_settings` refuses, or a value outside
        what the parameter accepts (scikit-learn's message, before any data is read).

    Examples
    --------
    >>> make_estimator("denoising", ["max_iter=5"], contamination=0.01)
    DenoisingAutoencoder(contamination=0.01, max_iter=5, random_state=0)
    >>> make_estimator("autoencoder", ["max_iter=abc"])
    Traceback (most recent call last):
    ...
    ae_anomaly.tables.errors.ParameterError: The 'max_iter' parameter of Autoencoder must be ...
    """
    from ..models._sklearn_compat import InvalidParameterError
    from ..models.registry import autoencoders

    classes = autoencoders()
    if kind not in classes:
        raise ParameterError(
            f"{{kind}}: no autoencoder named {literal(kind)}; the kinds are "
            f"{', '.join(classes)}."
        )
    estimator_class = classes[kind]
    values = {"random_state": 0, **parse_settings(estimator_class, settings), **params}
    estimator = estimator_class(**values)
    try:  # what fit would refuse, refused as the usage error it is
        estimator._validate_params()
    except InvalidParameterError as exc:
        raise ParameterError(escape(str(exc).splitlines()[0])) from None
    return estimator


__all__ = ["make_estimator", "parse_settings"]
