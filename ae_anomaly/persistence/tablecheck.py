"""Checks of a loaded table model (``TableEncoder -> estimator``): the columns the encoder
makes are those the estimator takes, no column has more categories than fitting allows,
and the whole pipeline scores; also the two-row scoring check every loaded estimator gets.
Called by :func:`.audit.check_payload`; split from it to keep the tables' knowledge in one
place.
"""

from __future__ import annotations

import numpy as np

from .._quiet import quiet_warnings
from .archive import ModelFileError


def check_table_pipeline(model, final, name):
    """The columns the pipeline's transformers make are those the estimator takes, and no
    table column has more categories than fitting allows (each is a float column for every
    row scored: a crafted list of categories would be a memory bomb)."""
    from ..tables.encoder import MAX_CATEGORIES, TableEncoder, encoded_width
    from ..tables.errors import escape

    encoder = model.steps[0][1] if len(model.steps) == 2 else None
    fitted_encoder = isinstance(encoder, TableEncoder) and "columns_" in vars(encoder)
    if fitted_encoder:
        for column, spec in encoder.columns_.items():
            if len(spec.get("categories") or ()) > MAX_CATEGORIES:
                raise ModelFileError(
                    f"{name}: its column {escape(repr(column))} has over {MAX_CATEGORIES} "
                    "categories: refusing it."
                )
        try:
            width = encoded_width(encoder.columns_)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ModelFileError(f"{name}: its table encoder is malformed ({exc}).") from None
    else:
        try:
            width = len(model[:-1].get_feature_names_out())
        except Exception:  # transformers that cannot name their outputs: scoring decides
            return
    n_features = getattr(final, "n_features_in_", None)
    if n_features is not None and width != n_features:
        raise ModelFileError(
            f"{name}: its transformers make {width} columns but its estimator takes "
            f"{n_features}: refusing it."
        )
    if fitted_encoder:
        _check_table_scores(model, encoder, name)


def _check_table_scores(model, encoder, name):
    """The whole pipeline scores two typed rows (a number or a percentage, a known category,
    a boolean, a date per column): finite scores, no exception, whatever a crafted encoder holds."""
    import pandas as pd

    def cell(spec):
        kind = spec.get("kind")
        if kind == "categorical":
            return (list(spec.get("categories") or ()) or ["x"])[0]
        if spec.get("percent"):  # written as the table was: numbers would be refused
            return "0%"
        zone = None if spec.get("zone") in (None, "naive") else "UTC"  # a zone, or none
        return {"boolean": True, "datetime": pd.Timestamp("2000-01-01", tz=zone)}.get(kind, 0.0)

    names = [str(c) for c in encoder.feature_names_in_]
    frame = pd.DataFrame({c: [cell(encoder.columns_.get(c, {}))] * 2 for c in names})
    check_scores_two_rows(model, frame, name, "table pipeline")


def check_scores_two_rows(model, rows, name, what):
    """``model.score_samples(rows)`` (two rows) gives two finite scores and raises nothing;
    else :class:`ModelFileError` naming the file ``name`` and the part ``what``."""
    try:
        with quiet_warnings():  # e.g. "X does not have valid feature names"
            scores = np.asarray(model.score_samples(rows))
    except Exception as exc:  # whatever the crafted state makes the scoring code raise
        raise ModelFileError(
            f"{name}: its {what} cannot score ({type(exc).__name__}): refusing it."
        ) from None
    if scores.shape != (2,) or not np.all(np.isfinite(scores)):
        raise ModelFileError(f"{name}: its {what} scores NaN or infinity.")
