"""MNIST and Fashion-MNIST (28x28, 60,000 train / 10,000 test): MLPs and CNNs.

The files are read from ``--data-dir`` (``data_dir/mnist/`` or ``data_dir/fashion-mnist/``,
see ``chainrule.data.datasets.MNIST``); the last 5,000 training images (after a seeded
shuffle) are the validation set.
"""

from __future__ import annotations

import numpy as np

from chainrule import nn
from chainrule.data import Subset
from chainrule.data.datasets import MNIST, FashionMNIST
from chainrule.models import MLP
from chainrule.models.cnn import SimpleCNN
from chainrule.models.lenet import LeNet5
from chainrule.recipes.base import Recipe, RecipeData
from chainrule.recipes.runner import loader, subset


def mnist_data(cfg: dict, data_dir: str) -> RecipeData:
    cls = {"mnist": MNIST, "fashion": FashionMNIST}[cfg["dataset"]]
    train_all, test = cls(data_dir, train=True), cls(data_dir, train=False)
    n_val = cfg.get("val_size", 5000)
    perm = np.random.default_rng(0).permutation(len(train_all))
    train = subset(Subset(train_all, np.sort(perm[n_val:]).tolist()), cfg.get("train_subset"))
    val = subset(Subset(train_all, np.sort(perm[:n_val]).tolist()), cfg.get("val_subset"))
    test = subset(test, cfg.get("test_subset"))
    cfg.setdefault("pixel_max", 255)
    return RecipeData(
        train=loader(train, cfg, train=True),
        val=loader(val, cfg, train=False),
        test=loader(test, cfg, train=False),
        input_size=(1, 28, 28),
    )


def mlp(cfg: dict) -> nn.Module:
    return nn.Sequential(nn.Flatten(), MLP([784, *cfg["hidden"], 10], dropout=cfg["dropout"]))


FAST = dict(epochs=1, train_subset=10000, val_subset=1000, test_subset=2000)

MNIST_MLP = Recipe(
    name="mnist-mlp",
    dataset="MNIST",
    model="MLP 784-512-512-10, ReLU, dropout 0.2",
    target="test accuracy >= 98.0%",
    config=dict(
        dataset="mnist",
        epochs=15,
        batch_size=128,
        lr=2e-3,
        optimizer="adam",
        schedule="onecycle",
        seed=0,
        hidden=[512, 512],
        dropout=0.2,
    ),
    fast=FAST,
    make_data=mnist_data,
    make_model=mlp,
)

MNIST_LENET5 = Recipe(
    name="mnist-lenet5",
    dataset="MNIST",
    model="LeNet-5 (ReLU, max-pool)",
    target="test accuracy >= 99.0%",
    config=dict(
        dataset="mnist",
        epochs=12,
        batch_size=64,
        lr=2e-3,
        optimizer="adam",
        schedule="onecycle",
        seed=0,
    ),
    fast=FAST,
    make_data=mnist_data,
    make_model=lambda cfg: LeNet5(),
)

FASHION_MLP = Recipe(
    name="fashion-mlp",
    dataset="Fashion-MNIST",
    model="MLP 784-512-256-10, ReLU, dropout 0.2",
    target="test accuracy >= 88%",
    config=dict(
        dataset="fashion",
        epochs=20,
        batch_size=128,
        lr=2e-3,
        optimizer="adam",
        schedule="onecycle",
        seed=0,
        hidden=[512, 256],
        dropout=0.2,
    ),
    fast=FAST,
    make_data=mnist_data,
    make_model=mlp,
)

FASHION_CNN = Recipe(
    name="fashion-cnn",
    dataset="Fashion-MNIST",
    model="CNN [conv32-BN-pool, conv64-BN-pool]-FC128-dropout (SimpleCNN)",
    target="test accuracy >= 90.5%",
    config=dict(
        dataset="fashion",
        epochs=12,
        batch_size=64,
        lr=2e-3,
        optimizer="adam",
        schedule="onecycle",
        seed=0,
        channels=[32, 64],
        hidden=128,
        dropout=0.3,
        batch_norm=True,
    ),
    fast=FAST,
    make_data=mnist_data,
    make_model=lambda cfg: SimpleCNN(
        tuple(cfg["channels"]), cfg["hidden"], cfg["dropout"], cfg["batch_norm"]
    ),
)

RECIPES = [MNIST_MLP, MNIST_LENET5, FASHION_MLP, FASHION_CNN]
