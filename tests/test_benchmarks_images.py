"""The image benchmarks run offline end to end in their --quick mode."""

import pandas as pd
import pytest


@pytest.fixture
def images_dir(shared_dir, monkeypatch):
    path = shared_dir / "data" / "images"
    if not (path / "mnist.npz").is_file():
        pytest.skip("shared/data/images/mnist.npz not found")
    return path


@pytest.mark.slow
def test_one_class_quick(images_dir, tmp_path):
    from benchmarks import images

    df = images.main(["--quick", "--elpv", "--out", str(tmp_path), "--tag", "q"])
    models = {"ImageAutoencoder", "ConvAutoencoder", "ConvAutoencoder (dense)", "ConvVAE",
              "ConvDAE", "MLP Autoencoder", "PCA", "IsolationForest"}  # fmt: skip
    assert set(df["model"]) == models
    assert set(df["dataset"]) == {"mnist", "elpv"}
    assert df["auroc"].between(0, 1).all()
    saved = pd.read_csv(tmp_path / "q.csv")
    assert len(saved) == len(df) == 16
    text = (tmp_path / "q.md").read_text()
    assert "python -m benchmarks.images --quick" in text and "Deep SVDD" in text
    assert (tmp_path / "q_elpv_heatmaps.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_denoising_quick(images_dir, tmp_path):
    from benchmarks import denoising

    df = denoising.main(["--quick", "--out", str(tmp_path), "--tag", "q"])
    assert set(df["method"]) == {"noisy", "median 3x3", "PCA", "ConvDAE", "MLP DAE",
                                 "ConvDAE reconstruct", "MLP DAE reconstruct"}  # fmt: skip
    assert set(df["noise"]) == set(denoising.SETTINGS)
    assert df["psnr"].gt(0).all() and df["ssim"].between(-1, 1).all()
    # The median filter beats doing nothing on salt-and-pepper noise, by far.
    sp = df[df["noise"] == "salt & pepper 10%"].set_index("method")["psnr"]
    assert sp["median 3x3"] > sp["noisy"] + 3
    assert "PSNR" in (tmp_path / "q.md").read_text()
    assert (tmp_path / "q_mnist.png").is_file()


def test_noise_models():
    import numpy as np

    from benchmarks.denoising import add_noise

    X = np.full((200, 28, 28), 0.5)
    rng = np.random.RandomState(0)
    gauss = add_noise(X, "gaussian", 0.2, rng)
    assert abs((gauss - X).std() - 0.2) < 0.01
    sp = add_noise(X, "salt_pepper", 0.1, rng)
    assert abs((sp != X).mean() - 0.1) < 0.01
    assert abs((sp == 0).mean() - (sp == 1).mean()) < 0.01


def test_protocol_presets():
    from benchmarks.images import parse_args

    full = parse_args(["--protocol", "full"])
    assert (full.n_train, full.n_test, full.seeds) == (0, 2000, [0, 1, 2])
    assert full.max_iter == 12 and full.dense == [1024]
    assert full.min_steps == 1000 and full.early_stopping is False
    assert full.models == ["ImageAutoencoder", "PCA", "IsolationForest"]
    # an option given on the command line wins over the preset
    mine = parse_args(["--protocol", "full", "--seeds", "4", "--n-train", "300"])
    assert (mine.n_train, mine.n_test, mine.seeds) == (300, 2000, [4])
    assert parse_args([]).n_train == 1000  # the reduced protocol stays the default


def test_markdown_full_protocol():
    from benchmarks.images import markdown

    rows = [
        dict(dataset="mnist", normal_class=c, model=m, seed=s, auroc=0.9 + 0.01 * s,
             fit_seconds=1.0, n_train=5900 + c, n_test=2000)
        for c in (0, 1) for m in ("PCA", "ConvAutoencoder") for s in (0, 1, 2)
    ]  # fmt: skip
    text = markdown(pd.DataFrame(rows), "python -m benchmarks.images --protocol full")
    assert "n_train=5900-5901 (all) per class" in text and "3 seed(s)" in text
    assert "sd (seeds)" in text and "| 91.0 |" in text  # mean over seeds 0.90/0.91/0.92
    assert "MemAE: 97.5" in text and "OCGAN: 97.5" in text


def test_from_csv_merges_seeds(tmp_path):
    from benchmarks.images import main

    for seed in (0, 1):
        rows = [dict(dataset="mnist", normal_class=c, model="PCA", seed=seed, auroc=0.9 + seed / 10,
                     fit_seconds=1.0, n_train=100, n_test=200) for c in (0, 1)]  # fmt: skip
        pd.DataFrame(rows).to_csv(tmp_path / f"s{seed}.csv", index=False)
    df = main(["--from-csv", str(tmp_path / "s0.csv"), str(tmp_path / "s1.csv"),
               "--out", str(tmp_path), "--tag", "merged"])  # fmt: skip
    assert len(df) == 4
    text = (tmp_path / "merged.md").read_text()
    assert "2 seed(s)" in text and "| 95.0 | 5.0 |" in text  # mean 95, seed sd 5


@pytest.mark.parametrize("module", ["images", "denoising"])
def test_empty_image_folder_fails_in_one_line(module, tmp_path, monkeypatch, capsys):
    import importlib

    from benchmarks import image_data

    monkeypatch.setattr(image_data, "DATA_DIR", tmp_path)
    main = importlib.import_module(f"benchmarks.{module}").main
    with pytest.raises(SystemExit) as stop:
        main(["--datasets", "mnist", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "mnist.npz not found" in err and "AE_ANOMALY_IMAGES" in err
    assert not (tmp_path / "out").exists()


def test_denoising_scripts_refuse_bad_arguments_in_one_line(tmp_path, capsys):
    from benchmarks import denoising_blend_variants, denoising_tabular

    with pytest.raises(SystemExit) as stop:
        denoising_tabular.main(["--seeds", "0", "--out", str(tmp_path)])
    assert stop.value.code == 2 and "--seeds" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        denoising_blend_variants.parse_args(["--help"])
    assert stop.value.code == 0 and "datasets" in capsys.readouterr().out
    args = denoising_blend_variants.parse_args(["digits,lowrank", "0,1", "0", "out.csv"])
    assert args.seeds == [0, 1] and args.conv == "0"
