"""Training rows that do not vary (all identical, or one row): warned about at fit, and
scored finitely, whatever the batch.

A DenoisingAutoencoder fitted on 200 identical rows gave no warning, and a training row
scored -1.0027 alone but -1.0000 in a batch of 5 (predict flipped): the code's spread on
the training rows was 0, and dividing by it amplified the 1e-16 rounding differences of
matrix products of other sizes. An Autoencoder fitted on one row scored rows at -1e306.
"""

import warnings

import numpy as np
import pytest

from ae_anomaly import Autoencoder, DenoisingAutoencoder, EnsembleAutoencoder

from .test_tiny_columns import fit_warnings

X = np.random.default_rng(0).normal(size=(200, 3))
SAME = np.repeat(X[:1], 200, axis=0)


def _fit(model, rows):
    return fit_warnings(model, rows, "learns nothing")


@pytest.mark.parametrize("cls", [Autoencoder, DenoisingAutoencoder, EnsembleAutoencoder])
def test_identical_training_rows_warn_and_score_alike_in_any_batch(cls):
    model = cls(max_iter=3, random_state=0)
    (message,) = _fit(model, SAME)
    assert message.startswith(f"{cls.__name__}: fitted on 200 identical rows: ")
    assert "\n" not in message
    for k in (1, 2, 5, 17, 200):
        assert model.score_samples(SAME[:k])[0] == pytest.approx(
            model.score_samples(SAME)[0], rel=1e-9, abs=1e-9  # the ensemble centers on 0
        )
        assert model.predict(SAME[:k])[0] == model.predict(SAME)[0] == 1


def test_one_training_row_warns_and_scores_finitely():
    model = Autoencoder(max_iter=3, random_state=0)
    (message,) = _fit(model, X[:1])
    assert message.startswith("Autoencoder: fitted on a single row: ")
    scores = model.score_samples(X[:50])
    assert np.all(np.isfinite(scores)) and np.all(scores > -1e30)
    assert scores[0] == pytest.approx(model.score_samples(X[:1])[0], rel=1e-9)
    assert model.predict(X[:1])[0] == 1 and np.all(model.predict(X[1:50]) == -1)


def test_rows_that_vary_do_not_warn_even_a_few():
    assert _fit(Autoencoder(max_iter=2, random_state=0), X[:2]) == []
    assert _fit(Autoencoder(max_iter=2, random_state=0), X) == []


def test_a_first_partial_fit_on_one_row_is_not_warned_about():
    """partial_fit learns from the rows to come: its first call on one row (a model
    updated row by row) is not a fit on a single row."""
    model = Autoencoder(max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model.partial_fit(X[:1])
    assert len(fit_warnings(Autoencoder(max_iter=2, random_state=0), X[:1], "learns nothing")) == 1
