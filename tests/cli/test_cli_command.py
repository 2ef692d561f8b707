"""The ``chainrule`` command, run as a subprocess (``python -m chainrule ...``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_helpers import run_cli  # tests/cli is on sys.path (no __init__)


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits-fast")
    proc = run_cli("train", "--fast", "--out", str(out))
    return proc, out


def test_train_fast_digits_writes_the_run_folder(digits_run):
    proc, out = digits_run
    assert proc.returncode == 0, proc.stderr
    for name in ("checkpoint.safetensors", "metrics.json", "history.csv", "curves.png"):
        assert (out / name).is_file(), name
    assert "Total params" in proc.stdout  # the model summary
    assert "epoch 1/1" in proc.stdout  # the per-epoch line (stdout is not a terminal)
    assert "val_accuracy" in proc.stdout
    assert "test accuracy" in proc.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["recipe"] == "digits-cnn"
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    header = (out / "history.csv").read_text().splitlines()[0].split(",")
    assert {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"} <= set(header)


def test_checkpoint_holds_model_optimizer_config_and_recipe(digits_run):
    import chainrule

    _, out = digits_run
    state = chainrule.load(out / "checkpoint.safetensors")
    assert state["recipe"] == "digits-cnn"
    assert state["epoch"] == 1
    assert state["config"]["fast"] is True
    assert "model" in state and "optimizer" in state and "scheduler" in state


def test_evaluate_rebuilds_the_model_from_the_checkpoint(digits_run):
    _, out = digits_run
    proc = run_cli("evaluate", str(out / "checkpoint.safetensors"))
    assert proc.returncode == 0, proc.stderr
    assert "test accuracy" in proc.stdout
    saved = json.loads((out / "metrics.json").read_text())["test_accuracy"]
    assert f"{100 * saved:.2f}%" in proc.stdout  # same number as at the end of training


def test_predict_prints_one_class_per_image(digits_run, tmp_path):
    from chainrule.data.datasets import Digits

    _, out = digits_run
    images = Digits(train=False).data[:5]  # raw uint8 pixels 0..16, (5, 8, 8)
    np.save(tmp_path / "x.npy", images)
    proc = run_cli("predict", str(out / "checkpoint.safetensors"), str(tmp_path / "x.npy"))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 5
    assert all(0 <= int(line.split()[1]) <= 9 for line in lines)


def test_resume_continues_from_the_saved_epoch(digits_run, tmp_path):
    _, out = digits_run
    proc = run_cli(
        "train",
        "--resume",
        str(out / "checkpoint.safetensors"),
        "--epochs",
        "2",
        "--out",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    assert "resumed from" in proc.stdout
    assert "epoch 2/2" in proc.stdout and "epoch 1/" not in proc.stdout
    assert len((tmp_path / "history.csv").read_text().strip().splitlines()) == 1 + 2


def test_recipes_lists_every_recipe():
    from chainrule import recipes

    proc = run_cli("recipes")
    assert proc.returncode == 0, proc.stderr
    for name, recipe in recipes.REGISTRY.items():
        if recipe.available() is None:
            assert name in proc.stdout
        else:
            assert f"{name}: skipped" in proc.stdout
    assert "digits-cnn (default)" in proc.stdout
    assert ">= 98%" in proc.stdout


def test_missing_dataset_says_where_to_put_it(tmp_path):
    proc = run_cli(
        "train", "mnist-mlp", "--fast", "--data-dir", str(tmp_path), "--out", str(tmp_path / "run")
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "Put train-images-idx3-ubyte.gz" in proc.stderr
    assert str(tmp_path) in proc.stderr


def test_missing_text_says_where_to_download_it(tmp_path):
    proc = run_cli("train", "shakespeare-char-lstm", "--fast", "--data-dir", str(tmp_path))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "input.txt" in proc.stderr and "https://" in proc.stderr


def test_unknown_recipe_is_a_usage_error():
    proc = run_cli("train", "no-such-recipe")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "digits-cnn" in proc.stderr  # the known names are listed


def test_demo_lists_the_demos():
    from chainrule.edu import demos

    proc = run_cli("demo")
    assert proc.returncode == 0, proc.stderr
    for name, _ in demos.list_demos():
        assert name in proc.stdout


def test_info():
    proc = run_cli("info")
    assert proc.returncode == 0, proc.stderr
    assert "numpy" in proc.stdout and "data dir" in proc.stdout


@pytest.mark.slow
def test_default_train_reaches_98_percent_on_digits(tmp_path):
    """The main job: ``chainrule train`` with no arguments, on the bundled digits."""
    proc = run_cli("train", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["recipe"] == "digits-cnn"
    assert metrics["epochs"] == 20
    assert metrics["test_accuracy"] >= 0.98, metrics
