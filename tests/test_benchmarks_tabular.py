"""The tabular benchmark harness: protocol, baselines, resumable runs, reports."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from benchmarks import fit_ratio, report, tabular
from benchmarks.baselines import PyODPCA, detectors, tabular_autoencoders
from benchmarks.protocol import Dataset, adbench_suite, split


def test_split_follows_adbench_sizes_and_scaling():
    rng = np.random.RandomState(0)
    small_y = (rng.rand(200) < 0.1).astype(int)
    X_train, X_test, y_train, y_test = split(rng.rand(200, 4), small_y, seed=1)
    assert (len(X_train), len(X_test)) == (700, 300)  # bootstrapped up to 1,000 rows
    assert X_train.min() == 0 and X_train.max() == 1  # MinMaxScaler fitted on train
    assert abs(y_train.mean() - y_test.mean()) < 0.02  # stratified

    big_y = (rng.rand(12_000) < 0.05).astype(int)
    X_train, X_test, _, _ = split(rng.rand(12_000, 3), big_y, seed=1)
    assert len(X_train) + len(X_test) == 10_000  # subsampled down to 10,000 rows

    X = rng.rand(200, 4)
    first, again = split(X, small_y, seed=2), split(X, small_y, seed=2)
    np.testing.assert_array_equal(first[0], again[0])  # the seed alone fixes the draws


def test_pyod_style_pca_matches_pyod():
    pyod_pca = pytest.importorskip("pyod.models.pca")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 6))
    X[:, 5] = X[:, 0] + X[:, 1]  # collinear: a zero variance direction
    ours = PyODPCA().fit(X).decision_function(X[:20])
    theirs = pyod_pca.PCA(svd_solver="full").fit(X).decision_function(X[:20])
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_image_only_autoencoders_are_skipped():
    names = {cls.__name__ for cls in tabular_autoencoders()}
    assert {"Autoencoder", "DenoisingAutoencoder", "VariationalAutoencoder"} <= names
    assert not any(name.startswith("Conv") for name in names)
    assert "ImageAutoencoder" not in names


def test_published_check_reports_the_mean_difference():
    results = pd.DataFrame(
        {
            "dataset": ["1_a", "1_a", "2_b", "2_b"],
            "model": ["PCA", "IsolationForest"] * 2,
            "family": "baseline",
            "seed": 1,
            "roc_auc": [0.70, 0.80, 0.90, 0.60],
            "aucpr": 0.5,
            "fit_s": 0.1,
        }
    )
    published = pd.DataFrame(
        {
            "file": ["1_a.npz", "2_b.npz", "1_a.npz", "2_b.npz"],
            "model": ["PCA", "PCA", "IForest", "IForest"],
            "metric": "roc_auc",
            "value": [0.68, 0.90, 0.80, 0.64],
        }
    )
    table, differences = report.published_check(results, published)
    assert differences["PCA"] == pytest.approx(0.01)
    assert differences["IsolationForest"] == pytest.approx(-0.02)
    assert list(table.index) == ["1_a", "2_b"]


def test_quick_run_writes_tables_figures_and_resumes(tmp_path, capsys):
    assert tabular.main(["--quick", "--out", str(tmp_path), "--no-progress", "--jobs", "2"]) == 0
    raw = pd.read_csv(tmp_path / "offline_quick_raw.csv")
    models = set(raw["model"])
    assert {"Autoencoder", "PCA", "IsolationForest"} <= models
    assert len(raw) == 3 * len(models)  # three datasets, one seed, every model once
    assert raw["roc_auc"].between(0, 1).all() and (raw["fit_s"] > 0).all()
    # Each autoencoder beats a coin flip on the offline suite on average.
    ours = raw[raw["family"] == "ae_anomaly"].groupby("model")["roc_auc"].mean()
    assert (ours > 0.6).all(), ours
    text = (tmp_path / "offline_quick.md").read_text()
    assert "mean rank" in text and "± " in text
    assert (tmp_path / "offline_quick_roc_box.png").stat().st_size > 0
    assert (tmp_path / "offline_quick_time_vs_roc.png").stat().st_size > 0
    assert "Autoencoder" in capsys.readouterr().out

    # A second run finds every row done and measures nothing again.
    tabular.main(["--quick", "--out", str(tmp_path), "--no-progress"])
    assert len(pd.read_csv(tmp_path / "offline_quick_raw.csv")) == len(raw)


def test_worker_processes_give_the_rows_of_the_sequential_run(tmp_path):
    # The offline suite's three smallest datasets, seed 1, every model: in this process
    # (--jobs 1), then in two spawned workers that take the tasks in another order.
    rows = {}
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}"
        tabular.main(["--quick", "--out", str(out), "--no-progress", "--jobs", str(jobs)])
        raw = pd.read_csv(out / "offline_quick_raw.csv")
        rows[jobs] = raw.drop(columns=["fit_s", "score_s"]).sort_values(
            ["dataset", "model", "seed"], ignore_index=True
        )
    assert len(rows[1]) == 3 * rows[1]["model"].nunique()
    pd.testing.assert_frame_equal(rows[1], rows[2], check_exact=True)


def test_tasks_are_scheduled_costliest_first(tmp_path, monkeypatch):
    order = []

    def fake_results(jobs, include_pyod, tasks):
        for dataset, model, seed, key in tasks:
            order.append((dataset.name, model, seed))
            yield {
                "dataset": dataset.name,
                "model": model,
                "family": "baseline",
                "seed": seed,
                "roc_auc": 0.5,
                "aucpr": 0.5,
                "fit_s": 0.1,
                "score_s": 0.1,
                "n_train": 1,
                "n_test": 1,
                "n_features": 1,
                "params": key,
                "source": "measured",
            }

    monkeypatch.setattr(tabular, "_results", fake_results)
    for name, shape in (("1_narrow", (2_000, 3)), ("2_wide", (2_000, 300))):
        np.savez(tmp_path / f"{name}.npz", X=np.zeros(shape), y=np.zeros(shape[0]))
    models = [m for m in detectors(include_pyod=False) if m.name in ("PCA", "Autoencoder")]
    datasets = adbench_suite(tmp_path)
    raw_path = tmp_path / "out" / "raw.csv"
    results = tabular.run(datasets, models, [1, 2], raw_path, progress=False, jobs=2)
    # The wide dataset first, seed by seed; the narrow one after it.
    assert [(d, s) for d, _, s in order[::2]] == [
        ("2_wide", 1),
        ("2_wide", 2),
        ("1_narrow", 1),
        ("1_narrow", 2),
    ]
    # Rows come back in suite order whatever order they finished in.
    assert list(results["dataset"]) == ["1_narrow"] * 4 + ["2_wide"] * 4
    assert list(results["model"][:2]) == [models[0].name] * 2
    assert len(pd.read_csv(raw_path)) == 8


def test_dataset_loads_npz(tmp_path):
    path = tmp_path / "7_toy.npz"
    np.savez(path, X=np.ones((5, 2)), y=np.array([0, 0, 0, 0, 1]))
    X, y = Dataset("7_toy", path).load()
    assert X.dtype == np.float64 and y.tolist() == [0, 0, 0, 0, 1]
    assert Dataset("7_toy", path).shape() == (5, 2)  # from the header, without loading


def test_folds_alternate_in_adbench_order():
    from benchmarks.protocol import assign_folds

    names = ["10_cover", "2_annthyroid", "1_ALOI", "4_breastw", "extra"]
    folds = assign_folds(names)
    assert folds == {
        "1_ALOI": "A",
        "2_annthyroid": "B",
        "4_breastw": "A",
        "10_cover": "B",
        "extra": "A",  # names without a number come last
    }


def test_versus_counts_wins_ties_losses_and_tests_the_pairs():
    datasets = [f"{i}_d" for i in range(1, 13)]
    roc = pd.DataFrame(
        {
            "IsolationForest": np.full(12, 0.80),
            "Better": np.r_[np.full(10, 0.85), 0.802, 0.70],  # 10 wins, 1 tie, 1 loss
        },
        index=datasets,
    )
    table = report.versus(roc)
    assert table.loc["Better", "W/T/L vs IsolationForest"] == "10/1/1"
    assert float(table.loc["Better", "Wilcoxon p"]) < 0.05
    assert table.loc["IsolationForest", "Wilcoxon p"] == ""


def test_cross_dataset_choice_never_looks_at_the_fold_it_reports():
    # "Fits A" is best on fold A only, "fits B" on fold B only: each fold gets the other.
    index = ["1_a", "2_b", "3_a", "4_b"]  # folds A, B, A, B
    roc = pd.DataFrame({"fits A": [0.9, 0.5, 0.9, 0.5], "fits B": [0.6, 0.8, 0.6, 0.8]}, index)
    pr = roc / 2
    folds = {"1_a": "A", "2_b": "B", "3_a": "A", "4_b": "B"}
    out_roc, out_pr, chosen = report.cross_dataset(roc, pr, ["fits A", "fits B"], folds)
    assert chosen == {"A": "fits B", "B": "fits A"}
    assert list(out_roc) == [0.6, 0.5, 0.6, 0.5]  # worse than either model in-sample
    assert list(out_pr) == [0.3, 0.25, 0.3, 0.25]


def test_mcd_scores_degenerate_and_wide_tables():
    from benchmarks.baselines import MCD

    rng = np.random.RandomState(0)
    binary = (rng.rand(300, 6) < 0.1).astype(float)  # singular h-subsets
    binary[:, 5] = 1.0  # and a constant column
    wide = rng.normal(size=(120, 200))  # more columns than MinCovDet can take
    for X in (binary, wide):
        scores = MCD(random_state=0).fit(X).decision_function(X)
        assert scores.shape == (len(X),) and np.all(np.isfinite(scores))
    clean = rng.normal(size=(500, 3))
    clean[:10] += 8.0
    scores = MCD(random_state=0).fit(clean).decision_function(clean)
    assert scores[:10].min() > np.percentile(scores[10:], 99)


def test_fit_time_ratio_times_both_models_on_each_dataset():
    from sklearn.ensemble import IsolationForest

    datasets = [Dataset("wine")]
    table = fit_ratio.fit_time_ratio(
        datasets, lambda seed: IsolationForest(n_estimators=10, random_state=seed), repeats=1
    )
    assert list(table.index) == ["wine"]
    assert (table[["model", "IsolationForest", "ratio"]] > 0).all(axis=None)


def test_rerun_measures_named_models_again_and_keeps_the_others(tmp_path, capsys):
    # A row whose code changed but whose parameters (and so its hash) did not would be
    # kept by the resume logic; --rerun drops and measures the named model's rows again.
    args = ["--quick", "--out", str(tmp_path), "--no-progress", "--jobs", "1"]
    args += ["--models", "PCA,Autoencoder"]
    assert tabular.main(args) == 0
    raw_path = tmp_path / "offline_quick_raw.csv"
    raw = pd.read_csv(raw_path)
    stale = raw.copy()
    stale["roc_auc"] = 0.123  # what an old version of the code might have measured
    stale.to_csv(raw_path, index=False)
    assert tabular.main([*args, "--rerun", "PCA"]) == 0
    again = pd.read_csv(raw_path)
    assert len(again) == len(raw)  # the stale PCA rows replaced, not kept beside the new
    pca = again[again["model"] == "PCA"].sort_values("dataset", ignore_index=True)
    expected = raw[raw["model"] == "PCA"].sort_values("dataset", ignore_index=True)
    pd.testing.assert_series_equal(pca["roc_auc"], expected["roc_auc"])
    assert (again.loc[again["model"] == "Autoencoder", "roc_auc"] == 0.123).all()
    with pytest.raises(SystemExit) as stop:  # a model this run does not measure: refused
        tabular.main([*args, "--rerun", "IsolationForest"])
    assert stop.value.code == 2 and "--rerun" in capsys.readouterr().err


def _exit_status(capsys, function, argv):
    """Exit status and stderr of ``function(argv)``, which must exit (not raise)."""
    with pytest.raises(SystemExit) as stop:
        function(argv)
    err = capsys.readouterr().err
    return stop.value.code, err


def test_missing_data_pyod_and_models_fail_in_one_line(tmp_path, capsys, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    for argv in (["--data-dir", str(tmp_path / "absent")], ["--data-dir", str(empty)]):
        code, err = _exit_status(capsys, tabular.main, [*argv, "--out", str(tmp_path)])
        assert code == 2 and "--data-dir" in err and "Traceback" not in err
    # --pyod run without PyOD: refused, not run with the PyOD rows silently left out.
    monkeypatch.setattr(tabular, "_pyod_available", lambda: False)
    code, err = _exit_status(capsys, tabular.main, ["--quick", "--pyod", "run"])
    assert code == 2 and "PyOD" in err
    # A PyOD model named without PyOD nor anchors: one line, not a KeyError.
    np.savez(empty / "1_tiny.npz", X=np.zeros((50, 2)), y=np.zeros(50))
    argv = ["--data-dir", str(empty), "--models", "PyOD-AutoEncoder,PCA", "--out", str(tmp_path)]
    code, err = _exit_status(capsys, tabular.main, argv)
    assert code == 2 and "PyOD-AutoEncoder" in err and "--pyod" in err


def test_report_without_our_models(tmp_path, capsys):
    # Only baselines: no rule to choose from our rows; the report is written anyway.
    args = ["--quick", "--out", str(tmp_path), "--no-progress", "--jobs", "1"]
    assert tabular.main([*args, "--models", "IsolationForest,MCD"]) == 0
    text = (tmp_path / "offline_quick.md").read_text()
    assert "IsolationForest" in text and "Threshold rules" not in text


def test_rerun_interrupted_while_rewriting_the_results_loses_no_row(tmp_path, monkeypatch):
    """``--rerun`` rewrote the raw results in place: an interruption mid-write left a
    truncated file, and the rows of every other model were gone."""
    raw_path = tmp_path / "raw.csv"
    rows = pd.DataFrame({"dataset": ["a", "b"], "model": ["PCA", "MCD"], "seed": [1, 1],
                         "roc_auc": [0.5, 0.6]})  # fmt: skip
    rows.to_csv(raw_path, index=False)
    before = raw_path.read_bytes()
    monkeypatch.setattr(tabular, "read_done", lambda path: pd.read_csv(path))

    def interrupted(frame, path, **kwargs):
        Path(path).write_text("dataset,mo")  # part of the header, then the interruption
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tabular.forget(raw_path, ["PCA"], [SimpleNamespace(name="a")], [1])
    assert raw_path.read_bytes() == before
