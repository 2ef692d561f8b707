"""MNIST-1D (Greydanus & Kobak 2020): 4,000 train / 1,000 test signals of length 40.

The ``mnist1d-mlp/cnn/gru`` recipes are the paper's own setup (``notebooks/train.py`` of
github.com/greydanus/mnist1d): Adam lr 1e-2, batch 100, 6,000 steps (150 epochs of 40
steps), minibatches taken in order without reshuffling, the test set evaluated as it goes,
the accuracy at the last step reported. Published band: MLP 63-68%, CNN 92-94%, GRU 89-92%.

``mnist1d-cnn-tuned`` is ours: a wider CNN with BatchNorm, shuffled minibatches, AdamW and a
one-cycle schedule. It trains on the same 4,000 signals and reports the last epoch's test
accuracy (no early stopping or checkpoint selection on the test set).

The data file ``mnist1d_data.npz`` is read from ``data_dir`` (or ``data_dir/mnist1d/``);
when it is missing, the data are generated procedurally instead (seed 42, the published
arguments: the same arrays up to 1e-15, about 2 s, no network).
"""

from __future__ import annotations

from chainrule.data.datasets import MNIST1D
from chainrule.models.mnist1d import MNIST1DCNN, MNIST1DGRU, MNIST1DMLP, MNIST1DTunedCNN
from chainrule.recipes.base import Recipe, RecipeData
from chainrule.recipes.runner import loader, subset


def mnist1d_data(cfg: dict, data_dir: str) -> RecipeData:
    try:
        train, test = MNIST1D(data_dir, train=True), MNIST1D(data_dir, train=False)
    except FileNotFoundError:
        print("mnist1d_data.npz not found in the data dir: generating MNIST-1D (seed 42)")
        train, test = MNIST1D(generate=True, train=True), MNIST1D(generate=True, train=False)
    train = subset(train, cfg.get("train_subset"))
    test_loader = loader(subset(test, cfg.get("test_subset")), cfg, train=False)
    return RecipeData(
        train=loader(train, cfg, train=True),
        val=test_loader,  # the paper tracks the test accuracy during training
        test=test_loader,
        input_size=(40,),
    )


PAPER = dict(
    epochs=150,
    batch_size=100,
    lr=1e-2,
    optimizer="adam",
    schedule="constant",
    shuffle=False,
    seed=42,
)
FAST = dict(epochs=15)

MNIST1D_MLP = Recipe(
    name="mnist1d-mlp",
    dataset="MNIST-1D (paper setup)",
    model="MLP 40-100-(residual 100)-10",
    target="test accuracy >= 63% (paper: 64-68%)",
    config=dict(PAPER),
    fast=FAST,
    make_data=mnist1d_data,
    make_model=lambda cfg: MNIST1DMLP(),
)

MNIST1D_CNN = Recipe(
    name="mnist1d-cnn",
    dataset="MNIST-1D (paper setup)",
    model="CNN 3 x Conv1d(25 ch, k5/3/3, s2, p1) + Linear 125-10",
    target="test accuracy >= 92% (paper: 92-94%)",
    config=dict(PAPER),
    fast=FAST,
    make_data=mnist1d_data,
    make_model=lambda cfg: MNIST1DCNN(),
)

MNIST1D_GRU = Recipe(
    name="mnist1d-gru",
    dataset="MNIST-1D (paper setup)",
    model="bidirectional GRU (hidden 6) + Linear 480-10",
    target="test accuracy >= 89% (paper: 89-92%)",
    config=dict(PAPER),
    fast=dict(epochs=1, train_subset=500, test_subset=200),
    make_data=mnist1d_data,
    make_model=lambda cfg: MNIST1DGRU(),
)

MNIST1D_CNN_TUNED = Recipe(
    name="mnist1d-cnn-tuned",
    dataset="MNIST-1D",
    model="CNN 3 x [2 x (Conv1d k3-BN-ReLU)-maxpool] (32/64/128 ch), GAP, dropout",
    target="test accuracy > 94% (the paper's best CNN figure)",
    config=dict(
        epochs=60,
        batch_size=64,
        lr=3e-3,
        optimizer="adamw",
        weight_decay=5e-2,
        schedule="onecycle",
        seed=0,
        channels=[32, 64, 128],
        dropout=0.2,
    ),
    fast=FAST,
    make_data=mnist1d_data,
    make_model=lambda cfg: MNIST1DTunedCNN(tuple(cfg["channels"]), cfg["dropout"]),
)

RECIPES = [MNIST1D_MLP, MNIST1D_CNN, MNIST1D_GRU, MNIST1D_CNN_TUNED]
