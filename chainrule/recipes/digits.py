"""The 8x8 Digits (bundled with chainrule: no download): an MLP and the default CNN.

1,438 train / 359 test images (fixed stratified split, see ``chainrule.data.datasets.Digits``);
the last 10% of a seeded shuffle of the training images is the validation set.
"""

from __future__ import annotations

import numpy as np

from chainrule import nn
from chainrule.data import Subset
from chainrule.data.datasets import Digits
from chainrule.models import MLP
from chainrule.models.cnn import DigitsCNN
from chainrule.recipes.base import Recipe, RecipeData
from chainrule.recipes.runner import loader, subset


def digits_data(cfg: dict, data_dir: str) -> RecipeData:
    train_all, test = Digits(train=True), Digits(train=False)  # bundled: data_dir not needed
    n_val = int(round(cfg.get("val_fraction", 0.1) * len(train_all)))
    perm = np.random.default_rng(0).permutation(len(train_all))
    train = Subset(train_all, np.sort(perm[n_val:]).tolist())
    val = Subset(train_all, np.sort(perm[:n_val]).tolist())
    train = subset(train, cfg.get("train_subset"))
    cfg.setdefault("pixel_max", 16)
    return RecipeData(
        train=loader(train, cfg, train=True),
        val=loader(val, cfg, train=False),
        test=loader(test, cfg, train=False),
        input_size=(1, 8, 8),
    )


DIGITS_MLP = Recipe(
    name="digits-mlp",
    dataset="Digits 8x8 (bundled)",
    model="MLP 64-128-64-10, ReLU, dropout 0.1",
    target="test accuracy >= 96%",
    config=dict(
        epochs=40, batch_size=32, lr=3e-3, optimizer="adam", schedule="onecycle", seed=0,
        hidden=[128, 64], dropout=0.1,
    ),  # fmt: skip
    fast=dict(epochs=1, train_subset=300),
    make_data=digits_data,
    make_model=lambda cfg: nn.Sequential(
        nn.Flatten(), MLP([64, *cfg["hidden"], 10], dropout=cfg["dropout"])
    ),
)

DIGITS_CNN = Recipe(
    name="digits-cnn",
    dataset="Digits 8x8 (bundled)",
    model="CNN conv32-BN-conv64-BN-maxpool-linear (DigitsCNN)",
    target="test accuracy >= 98%",
    config=dict(
        epochs=20, batch_size=32, lr=3e-3, optimizer="adam", schedule="onecycle", seed=0,
        channels=[32, 64], dropout=0.3, batch_norm=True,
    ),  # fmt: skip
    fast=dict(epochs=1, train_subset=300),
    make_data=digits_data,
    make_model=lambda cfg: DigitsCNN(
        tuple(cfg["channels"]), dropout=cfg["dropout"], batch_norm=cfg["batch_norm"]
    ),
)

RECIPES = [DIGITS_CNN, DIGITS_MLP]
