"""EnsembleAutoencoder: the sklearn contract, its batched members, persistence, quality."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import parametrize_with_checks

import ae_anomaly
from ae_anomaly.datasets import load_split, make_synthetic
from ae_anomaly.models.ensemble import EnsembleAutoencoder
from ae_anomaly.nn.ensemble_nets import EnsembleNet


@pytest.mark.filterwarnings("ignore::UserWarning")
@parametrize_with_checks([EnsembleAutoencoder(n_estimators=3, max_iter=3)])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_batched_members_equal_separate_networks():
    # Member m of the batched module is an ordinary MLP autoencoder on its own columns.
    torch.manual_seed(0)
    index = torch.tensor([[0, 2, 3], [1, 3, 4]])
    net = EnsembleNet(5, index, (4,), 2).double()
    x = torch.randn(6, 5, dtype=torch.float64)
    for m in range(2):
        h = x[:, index[m]]
        for layers in (net.encoder, net.decoder):
            for i, (w, b) in enumerate(zip(layers.weights, layers.biases, strict=True)):
                h = h @ w[m] + b[m]
                if i < len(layers.weights) - 1:
                    h = torch.relu(h)
        expected = (h - x[:, index[m]]).pow(2).mean(dim=1)
        torch.testing.assert_close(net.member_errors(x)[:, m], expected)
    # Per-member batches: row i of member m at [i, m].
    stacked = torch.stack([x, x.flip(0)], dim=1)
    torch.testing.assert_close(net.member_errors(stacked)[:, 1], net.member_errors(x.flip(0))[:, 1])


@pytest.mark.parametrize("grad", [True, False])
def test_members_on_every_column_take_the_shared_batch_path(grad):
    # Every member on every column, in order: the shared batch is not gathered, the first
    # layers are one matrix product, and (without autograd) the errors are made in place.
    # The members' own networks must give the same errors and codes, to rounding.
    torch.manual_seed(0)
    index = torch.arange(4).expand(3, 4)
    net = EnsembleNet(4, index, (5,), 2).double()
    assert net.shares_columns and net.row_elements == 3 * 5
    assert not EnsembleNet(4, torch.tensor([[0, 1, 3]]), (5,), 2).shares_columns
    x = torch.randn(7, 4, dtype=torch.float64)
    net.train(grad)  # inference: eval mode without autograd (ReLU in place)
    with torch.set_grad_enabled(grad):
        squared, codes = net.member_parts(x)
    per_member = x[:, None, :].expand(7, 3, 4)  # per-member batches: the baddbmm path
    with torch.no_grad():
        expected_squared, expected_codes = net.member_parts(per_member)
    torch.testing.assert_close(squared, expected_squared, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(codes, expected_codes, rtol=1e-12, atol=1e-14)
    assert squared.requires_grad == grad


def test_members_get_their_own_rows_and_columns():
    X = np.random.RandomState(0).normal(size=(1000, 12))
    model = EnsembleAutoencoder(
        n_estimators=6, max_samples=100, max_features=0.5, max_iter=2, random_state=0
    ).fit(X)
    index = model.module_.feature_index.numpy()
    assert index.shape == (6, 6) and model.max_features_ == 6 and model.max_samples_ == 100
    assert len({tuple(row) for row in index}) > 1  # different column subsets
    assert model.transform(X[:3]).shape == (3, 6 * model.n_components_)
    assert model.inverse_transform(model.transform(X[:3])).shape == (3, 12)
    # feature_scores splits the score over the columns exactly
    np.testing.assert_allclose(
        model.feature_scores(X[:50]).mean(axis=1), -model.score_samples(X[:50])
    )


def test_training_rows_are_dealt_per_member():
    X = np.arange(40, dtype=float).reshape(20, 2)
    model = EnsembleAutoencoder(n_estimators=4, max_samples=5, random_state=0)
    model._rng = np.random.RandomState(0)
    model.hidden_layer_sizes_, model.n_components_ = (4,), 1
    model._training_module = model._build_module(2)  # its columns: both
    stacked, X_val = model._validation_split(X)
    assert X_val is None and stacked.shape == (5, 4, 2)
    for m in range(4):  # each member: 5 distinct rows of X
        assert len({tuple(row) for row in stacked[:, m]}) == 5
    # on a wide table, each member's rows on its own columns only
    wide = EnsembleAutoencoder(n_estimators=3, max_samples=5, max_features=2, random_state=0)
    wide._rng = np.random.RandomState(0)
    wide.hidden_layer_sizes_, wide.n_components_ = (4,), 1
    wide._training_module = wide._build_module(6)
    X = np.arange(60, dtype=float).reshape(10, 6)
    stacked, _ = wide._validation_split(X)
    assert stacked.shape == (5, 3, 2)
    for m, columns in enumerate(wide._training_module.feature_index.numpy()):
        rows = {tuple(row) for row in X[:, columns]}
        assert all(tuple(row) in rows for row in stacked[:, m])


def test_reproducible_and_pickles(tmp_path):
    X, _ = make_synthetic(n_samples=400, random_state=0)
    first = EnsembleAutoencoder(n_estimators=8, random_state=3).fit(X)
    again = EnsembleAutoencoder(n_estimators=8, random_state=3).fit(X)
    np.testing.assert_array_equal(first.score_samples(X), again.score_samples(X))
    restored = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(restored.score_samples(X), first.score_samples(X))


def test_save_and_load(tmp_path, monkeypatch):
    # ae_anomaly.save/load trust the classes ae_anomaly exports: export it as the package will.
    if "EnsembleAutoencoder" not in ae_anomaly.__all__:
        monkeypatch.setattr(ae_anomaly, "EnsembleAutoencoder", EnsembleAutoencoder, raising=False)
        monkeypatch.setattr(ae_anomaly, "__all__", [*ae_anomaly.__all__, "EnsembleAutoencoder"])
    X, _ = make_synthetic(n_samples=300, random_state=0)
    model = EnsembleAutoencoder(n_estimators=5, random_state=0).fit(X)
    path = tmp_path / "ensemble.skops"
    ae_anomaly.save(model, path)
    loaded = ae_anomaly.load(path)
    assert type(loaded) is EnsembleAutoencoder
    np.testing.assert_array_equal(loaded.score_samples(X), model.score_samples(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_trimmed_loss_drops_the_worst_rows():
    model = EnsembleAutoencoder(n_estimators=2, trim=0.25)
    net = EnsembleNet(3, torch.tensor([[0, 1, 2], [0, 1, 2]]), (4,), 1)
    x = torch.zeros(8, 3)
    x[0] = 100.0  # one gross outlier in the batch
    trimmed = model._training_loss(net, x, None).detach()
    assert float(trimmed[0]) == 0.0  # left out of every member's loss
    assert float(model.set_params(trim=0.0)._training_loss(net, x, None)[0].detach()) > 1.0


def test_quality_floor_on_planted_anomalies():
    # Benign tumours are normal; 5% malignant ones are planted, unlabeled, in the training
    # data; the test part holds unseen benign rows and the other malignant rows.
    X_train, X_test, y_test = load_split("breast_cancer", contamination=0.05, random_state=0)
    model = EnsembleAutoencoder(random_state=0).fit(X_train)
    auc = roc_auc_score(y_test, -model.score_samples(X_test))
    assert auc >= 0.90, f"ROC-AUC {auc:.3f} < 0.90"
    X, y = make_synthetic(n_samples=600, random_state=0)
    auc = roc_auc_score(y, -EnsembleAutoencoder(random_state=0).fit(X).score_samples(X))
    assert auc >= 0.95, f"ROC-AUC {auc:.3f} < 0.95"


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("shape", [(4, 1), (4, 2), (50, 3)])
def test_constant_training_data_scores_finite(shape):
    # Zero spreads once divided rounding noise by the smallest float: every training row
    # scored -inf, and the CLI's training-score quantiles had no finite score left.
    X = np.full(shape, 7.0)
    model = EnsembleAutoencoder(max_iter=2, random_state=0).fit(X)
    scores = model.score_samples(X)
    assert np.isfinite(scores).all() and np.isfinite(model.offset_)
    assert (model.predict(X) == 1).all()
    # a training row scored alone or in a batch of another size: rounded otherwise, and
    # still not flagged; a row off the constant is
    for value in (7.0, 1e-6):
        X = np.full((100, 3), value)
        model = EnsembleAutoencoder(max_iter=3, random_state=0).fit(X)
        assert all((model.predict(X[:k]) == 1).all() for k in (1, 2, 3, 7))
        assert model.predict(X[:1] * 1.5) == -1


def test_error_cap_makes_one_wild_column_count_logarithmically():
    # Normal rows on a 2-D plane in 8 columns; one column of a normal row pushed 40 and
    # then 400 standard deviations off. Squared errors grow ~100-fold with it; the soft
    # cap counts errors beyond 16 median errors logarithmically, so the score grows by a
    # few units only, and a row moderately off in every column is no longer drowned.
    # (Reconstruction errors only: the code distance is not capped.)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(600, 2)) @ rng.normal(size=(2, 8)) + 0.1 * rng.normal(size=(600, 8))
    wild = np.repeat(X[:1], 2, axis=0)
    wild[:, 3] += np.array([40, 400]) * X[:, 3].std()
    broad = X[1:2] + 1.5 * X.std(axis=0) * np.sign(rng.normal(size=8))
    plain = EnsembleAutoencoder(error_cap=None, code_distance=False, random_state=0).fit(X)
    capped = EnsembleAutoencoder(code_distance=False, random_state=0).fit(X)
    growth = [m.score_samples(wild[1:])[0] / m.score_samples(wild[:1])[0] for m in (plain, capped)]
    assert growth[0] > 50 and growth[1] < 3, growth
    share = [m.score_samples(broad)[0] / m.score_samples(wild[:1])[0] for m in (plain, capped)]
    assert share[1] > 10 * share[0], share
    # Far below the cap the two scores agree.
    loose = EnsembleAutoencoder(error_cap=1e9, code_distance=False, random_state=0).fit(X)
    np.testing.assert_allclose(loose.score_samples(X[:50]), plain.score_samples(X[:50]), rtol=1e-6)


@pytest.mark.parametrize("hidden", [(), (5,)])
def test_inference_residual_is_the_output_minus_its_target(hidden):
    # Inference accumulates the last layer's product into target - bias in place; it must
    # equal the plain difference, for a decoder with and without hidden layers and for a
    # shared 2-D batch (the encoder's input), on a broadcast view of the target too.
    torch.manual_seed(0)
    net = EnsembleNet(4, torch.arange(4).expand(3, 4), hidden, 2).double().eval()
    x, codes = torch.randn(7, 4, dtype=torch.float64), torch.randn(3, 7, 2, dtype=torch.float64)
    with torch.no_grad():
        for layers, inputs, target in (
            (net.decoder, codes, x.expand(3, 7, 4)),
            (net.encoder, x, torch.randn(3, 7, 2, dtype=torch.float64)),
        ):
            expected = layers(inputs) - target
            result = layers.residual(inputs, target)
            torch.testing.assert_close(result, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("error_cap", [16.0, None])
def test_member_error_is_the_mean_of_weighted_errors_also_where_a_product_overflows(error_cap):
    # One logarithm per member (of the product of 1 + u) instead of one per column: the same
    # up to rounding; a product past the float range (a member error above 709 * cap / k)
    # falls back to the sum of the logarithms, so wild rows keep finite, equal errors.
    X = np.random.RandomState(0).normal(size=(300, 6))
    model = EnsembleAutoencoder(n_estimators=4, error_cap=error_cap, max_iter=2, random_state=0)
    model.fit(X)
    k = model.module_.n_inputs
    squared = torch.rand(4, 9, k, dtype=torch.float64)
    squared[1, 2] = 1e80  # every column of member 1, row 2: the product overflows
    squared[2, 5, 0] = 1e300  # one huge column: finite either way
    squared[3, 7] = 0.0
    expected = model._weighted(squared.clone(), squared).mean(dim=2)
    result = model._member_error(squared.clone(), squared)
    torch.testing.assert_close(result, expected, rtol=1e-13, atol=0)
    assert torch.isfinite(result).all()
    if error_cap is not None:
        assert torch.isinf(model._scaled(squared.clone(), squared)[0].add_(1).prod(dim=2)).any()


def test_explanations_charge_the_code_distance_to_the_columns_that_move_the_code():
    # The ensemble's error is centered on the training rows' (member_center_): no part of
    # it is the code distance alone, so occlusion charges that part to the columns whose
    # typical value removes it (a separate term took 100% of a wine row planted in one
    # column, and named 'alcohol' next at 0%)
    rng = np.random.default_rng(0)
    z = rng.normal(size=(400, 1))
    X = np.hstack([z, 2 * z, -z, rng.normal(size=(400, 1))]) + 0.05 * rng.normal(size=(400, 4))
    frame = pd.DataFrame(X, columns=list("abcd"))
    pipeline = ae_anomaly.make_table_pipeline(EnsembleAutoencoder(random_state=0)).fit(frame)
    odd = pd.DataFrame([[6.0, 12.0, -6.0, 0.0], [0.0, 0.0, 0.0, 6.0]], columns=list("abcd"))
    shares = ae_anomaly.feature_scores_by_column(pipeline, odd)
    assert (shares["_code_distance"] == 0).all()
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    assert shares.loc[0, ["a", "b", "c"]].sum() > 0.75 and shares.loc[1, "d"] > 0.9

def test_identity_warning_compares_the_code_with_each_members_columns():
    X = np.random.RandomState(0).normal(size=(200, 40))
    with pytest.warns(UserWarning, match=r"n_components=8 >= the 8 columns each member sees"):
        EnsembleAutoencoder(n_components=8, max_features=8, max_iter=1).fit(X)
    with pytest.warns(UserWarning, match=r"n_components=32 >= the 32 columns each member sees"):
        EnsembleAutoencoder(n_components=32, max_iter=1).fit(X)  # "auto": 32 of 40
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        EnsembleAutoencoder(n_components=7, max_features=8, max_iter=1).fit(X)
    assert not [w for w in caught if "identity" in str(w.message)]
