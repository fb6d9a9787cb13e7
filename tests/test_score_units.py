"""``score`` (what ``GridSearchCV`` ranks by) does not depend on the data's units.

A column constant in training got the scale 1 in the user's units, so its errors on new
rows weighed 255 times more in 0-255 images than in 0-1 ones (72% of an MNIST score came
from the constant border pixels) and a grid search ranked settings differently by units.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from ae_anomaly import Autoencoder, ImageAutoencoder

RNG = np.random.default_rng(0)
IMAGES = (RNG.random((200, 1, 6, 6)) * 255).round()
IMAGES[:, :, 0, :] = 0  # a border constant in training
NEW = IMAGES[:40].copy()
NEW[:, :, 0, :] = 255  # ink on the border


@pytest.mark.parametrize("units", [1 / 255, 1000.0])
def test_score_is_the_same_in_other_units(units):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = ImageAutoencoder(max_iter=3, random_state=0).fit(IMAGES)
        scaled = ImageAutoencoder(max_iter=3, random_state=0).fit(IMAGES * units)
    np.testing.assert_allclose(scaled.score(NEW * units), plain.score(NEW), rtol=1e-6)


def test_a_grid_search_ranks_settings_the_same_in_either_units():
    grid = {"n_components": [2, 4, 8], "max_iter": [2, 6]}
    ranks = []
    for data in (IMAGES, IMAGES / 255.0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            search = GridSearchCV(ImageAutoencoder(random_state=0), grid, cv=2).fit(data)
        ranks.append(search.cv_results_["rank_test_score"].tolist())
    assert ranks[0] == ranks[1]


def test_the_scale_of_a_constant_column_is_the_median_of_the_others():
    X = np.column_stack([RNG.normal(size=(50, 4)) * [1, 2, 3, 4], np.zeros(50)])
    model = Autoencoder(max_iter=1, random_state=0).fit(X)
    assert model.feature_scale_[-1] == np.median(X[:, :4].std(axis=0))
