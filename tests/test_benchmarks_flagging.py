import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sklearn")
from sklearn.ensemble import IsolationForest  # noqa: E402

from benchmarks import flagging, tabular  # noqa: E402
from benchmarks.baselines import Detector  # noqa: E402


def test_medcouple_is_zero_for_symmetric_and_positive_for_right_skewed_data():
    rng = np.random.RandomState(0)
    assert flagging.medcouple(np.linspace(-1, 1, 201)) == pytest.approx(0.0, abs=1e-12)
    assert flagging.medcouple(rng.exponential(size=3000)) == pytest.approx(1 / 3, abs=0.05)
    assert flagging.medcouple(-rng.exponential(size=500)) < -0.2


def test_rules_threshold_from_training_scores():
    scores = np.arange(1000.0)
    q1, q3 = np.percentile(scores, [25, 75])
    assert flagging.RULES["tukey 1.5"](scores) == pytest.approx(q3 + 1.5 * (q3 - q1))
    assert flagging.RULES["tukey 3"](scores) == pytest.approx(q3 + 3 * (q3 - q1))
    assert np.mean(scores > flagging.RULES["share 0.1"](scores)) == pytest.approx(0.1, abs=1e-3)
    # Symmetric scores: the adjusted boxplot is Tukey's fence.
    assert flagging.RULES["adjusted boxplot"](scores) == pytest.approx(q3 + 1.5 * (q3 - q1))


def test_flag_stats_count_recall_and_false_positives():
    rng = np.random.RandomState(0)
    X_train = rng.normal(size=(500, 3))
    X_test = np.vstack([rng.normal(size=(90, 3)), rng.normal(size=(10, 3)) + 8])
    y_test = np.r_[np.zeros(90, int), np.ones(10, int)]
    detector = Detector("IF", lambda s: IsolationForest(random_state=s)).build(0).fit(X_train)
    row = flagging.flag_stats(detector, X_train, X_test, y_test)
    assert set(row) == set(flagging.FIELDS)
    assert row["anomaly_share"] == 0.1
    flags = detector.estimator_.predict(X_test) == -1
    assert row["flagged auto"] == flags.mean()
    assert row["recall auto"] == flags[90:].mean() == 1.0
    assert row["fpr auto"] == flags[:90].mean()
    assert row["recall share 0.05"] == 1.0 and row["fpr share 0.05"] < 0.1


def test_detectors_without_predict_have_no_flag_stats():
    class Scores:
        def fit(self, X):
            return self

        def decision_function(self, X):
            return X[:, 0]

    detector = Detector("s", lambda s: Scores(), method="decision_function", sign=1.0)
    detector = detector.build(0).fit(np.zeros((5, 2)))
    assert flagging.flag_stats(detector, np.zeros((5, 2)), np.zeros((5, 2)), np.zeros(5)) == {}


def _rows(shares, flagged):
    rows = []
    for i, (real, flag) in enumerate(zip(shares, flagged, strict=True)):
        row = {"dataset": f"{i + 1}_d", "model": "M", "seed": 1, "anomaly_share": real}
        for rule in flagging.RULE_NAMES:
            value = flag if rule == "tukey 3" else real + 0.2 + 0.1 * (rule == "share 0.1")
            row.update({f"flagged {rule}": value, f"recall {rule}": 1.0, f"fpr {rule}": 0.0})
        rows.append(row)
    return pd.DataFrame(rows)


def test_rule_choice_uses_the_other_fold_only():
    results = _rows([0.1] * 4, [0.1, 0.5, 0.1, 0.5])  # fold A: datasets 1 and 3
    table = flagging.rule_table(results, ["M"])
    assert table.loc["tukey 3", "gap A"] == pytest.approx(0.0)
    assert table.loc["tukey 3", "gap B"] == pytest.approx(0.4)
    choice = flagging.rule_choice(table)
    assert choice["B"][0] == "tukey 3" and choice["B"][1] == pytest.approx(0.4)
    assert choice["A"][0] == "auto" and choice["A"][1] == pytest.approx(0.2)  # first of the ties


def test_old_results_files_gain_the_new_columns(tmp_path):
    path = tmp_path / "raw.csv"
    old = [f for f in tabular.FIELDS if f not in flagging.FIELDS]
    pd.DataFrame([dict.fromkeys(old, 1)]).to_csv(path, index=False)
    done = tabular.read_done(path)
    assert list(done.columns) == list(tabular.FIELDS)
    assert list(pd.read_csv(path).columns) == list(tabular.FIELDS)
    assert done["flagged auto"].isna().all() and done["roc_auc"].iloc[0] == 1
