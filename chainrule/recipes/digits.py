"""The 8x8 Digits (bundled with chainrule: no download): an MLP and the default CNN.

1,438 train / 359 test images (fixed stratified split, see ``chainrule.data.datasets.Digits``);
10% of the training images (a fixed seeded choice) are the validation set. Training images
are shifted at random by up to one pixel (``max_shift``): on 8x8 images this augmentation is
worth about half a point of test accuracy.
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


class RandomShift:
    """Wraps a training loader: shifts each image by up to ``max_shift`` pixels in x and y
    (zeros fill in), a new shift per image and epoch. Cheap data augmentation for 8x8 digits.
    """

    def __init__(self, inner, max_shift: int, seed: int) -> None:
        self.inner, self.max_shift = inner, max_shift
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.inner)

    def __iter__(self):
        m = self.max_shift
        for x, y in self.inner:
            img = np.pad(x.numpy(), ((0, 0), (0, 0), (m, m), (m, m)))
            h, w = img.shape[-2] - 2 * m, img.shape[-1] - 2 * m
            dy, dx = self.rng.integers(0, 2 * m + 1, size=(2, len(img)))
            out = np.stack([im[:, a : a + h, b : b + w] for im, a, b in zip(img, dy, dx)])
            yield out, y

    # resume support: the Trainer saves and restores these with the checkpoint
    def state_dict(self) -> dict:
        return {"loader": self.inner.generator.get_state(), "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.inner.generator.set_state(state["loader"])
        self.rng.bit_generator.state = state["rng"]


def digits_data(cfg: dict, data_dir: str) -> RecipeData:
    train_all, test = Digits(train=True), Digits(train=False)  # bundled: data_dir not needed
    n_val = int(round(cfg.get("val_fraction", 0.1) * len(train_all)))
    perm = np.random.default_rng(0).permutation(len(train_all))
    train = Subset(train_all, np.sort(perm[n_val:]).tolist())
    val = Subset(train_all, np.sort(perm[:n_val]).tolist())
    train = subset(train, cfg.get("train_subset"))
    cfg.setdefault("pixel_max", 16)
    train_loader = loader(train, cfg, train=True)
    if cfg.get("max_shift"):
        train_loader = RandomShift(train_loader, cfg["max_shift"], cfg["seed"])
    return RecipeData(
        train=train_loader,
        val=loader(val, cfg, train=False),
        test=loader(test, cfg, train=False),
        input_size=(1, 8, 8),
    )


DIGITS_MLP = Recipe(
    name="digits-mlp",
    dataset="Digits 8x8 (bundled)",
    model="MLP 64-256-128-10, ReLU, dropout 0.2",
    target="test accuracy >= 97%",
    config=dict(
        epochs=80,
        batch_size=32,
        lr=3e-3,
        optimizer="adam",
        schedule="onecycle",
        seed=0,
        hidden=[256, 128],
        dropout=0.2,
        max_shift=1,
    ),
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
        epochs=20,
        batch_size=32,
        lr=3e-3,
        optimizer="adam",
        schedule="onecycle",
        seed=0,
        channels=[32, 64],
        dropout=0.3,
        batch_norm=True,
        max_shift=1,
    ),
    fast=dict(epochs=1, train_subset=300),
    make_data=digits_data,
    make_model=lambda cfg: DigitsCNN(
        tuple(cfg["channels"]), dropout=cfg["dropout"], batch_norm=cfg["batch_norm"]
    ),
)

RECIPES = [DIGITS_CNN, DIGITS_MLP]
