"""Shortened trainings of the bigger recipes (``--fast``: a subset, few steps), each well
under 30 s, with thresholds that a broken recipe, model or data pipeline would miss.

The full recipes and their measured results are listed by ``chainrule recipes``.
"""

from __future__ import annotations

import json
import os

import pytest
from cli_helpers import DATA_DIR, run_cli  # tests/cli is on sys.path (no __init__)

needs_data = pytest.mark.skipif(
    not os.path.isdir(DATA_DIR), reason=f"the shared datasets are not at {DATA_DIR}"
)

# recipe, metric in metrics.json, bound; --fast results measured: 91.2%, 92.2%, 75.3%,
# 88.1% (15 epochs of the paper setup), 2.27 nats/char.
FAST_CASES = [
    ("mnist-mlp", "test_accuracy", 0.85),
    ("mnist-lenet5", "test_accuracy", 0.85),
    ("fashion-mlp", "test_accuracy", 0.68),
    ("mnist1d-cnn", "test_accuracy", 0.75),
]


@pytest.mark.slow
@needs_data
@pytest.mark.parametrize("recipe, key, bound", FAST_CASES)
def test_fast_recipe_learns(recipe, key, bound, tmp_path):
    proc = run_cli(
        "train", recipe, "--fast", "--quiet", "--data-dir", DATA_DIR, "--out", str(tmp_path)
    )
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics[key] >= bound, metrics


@pytest.mark.slow
@needs_data
def test_fast_char_lstm_learns_and_samples(tmp_path):
    proc = run_cli(
        "train",
        "shakespeare-char-lstm",
        "--fast",
        "--quiet",
        "--data-dir",
        DATA_DIR,
        "--out",
        str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["val_loss"] < 2.6, metrics  # a unigram model sits at about 3.3
    proc = run_cli(
        "sample",
        str(tmp_path / "checkpoint.safetensors"),
        "--prompt",
        "ROMEO:",
        "--length",
        "50",
        "--seed",
        "1",
    )
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.rstrip("\n")
    assert text.startswith("ROMEO:") and len(text) == len("ROMEO:") + 50
    evaluated = run_cli(
        "evaluate", str(tmp_path / "checkpoint.safetensors"), "--data-dir", DATA_DIR
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert f"{metrics['val_loss']:.4f}" in evaluated.stdout
