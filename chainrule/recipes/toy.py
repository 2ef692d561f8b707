"""Two-dimensional toy problems (generated, no files): XOR and interleaved spirals.

Train and test sets are drawn with different seeds; the validation set is the test
distribution drawn once more.
"""

from __future__ import annotations

from chainrule.data.datasets import toy
from chainrule.models import MLP
from chainrule.recipes.base import Recipe, RecipeData
from chainrule.recipes.runner import loader


def toy_data(cfg: dict, data_dir: str) -> RecipeData:
    make = {"xor": toy.xor, "spirals": toy.spirals}[cfg["problem"]]
    kwargs = {"noise": cfg["noise"], "as_dataset": True}
    if cfg["problem"] == "spirals":
        kwargs["n_classes"] = cfg["classes"]
    n = cfg["samples"]
    return RecipeData(
        train=loader(make(n, seed=1, **kwargs), cfg, train=True),
        val=loader(make(n // 2, seed=2, **kwargs), cfg, train=False),
        test=loader(make(n, seed=3, **kwargs), cfg, train=False),
        input_size=(2,),
    )


XOR_MLP = Recipe(
    name="xor-mlp",
    dataset="XOR, 2-D points in [-1, 1]^2 (generated)",
    model="MLP 2-16-16-2, tanh",
    target="test accuracy >= 97%",
    config=dict(
        problem="xor",
        samples=1000,
        noise=0.0,
        epochs=100,
        batch_size=50,
        lr=1e-2,
        optimizer="adam",
        schedule="constant",
        seed=0,
        hidden=[16, 16],
        activation="tanh",
    ),
    fast=dict(epochs=5, samples=200),
    make_data=toy_data,
    make_model=lambda cfg: MLP([2, *cfg["hidden"], 2], activation=cfg["activation"]),
)

SPIRALS_MLP = Recipe(
    name="spirals-mlp",
    dataset="3 interleaved spirals, noise 0.2 (generated, CS231n)",
    model="MLP 2-64-64-3, ReLU",
    target="test accuracy >= 97%",
    config=dict(
        problem="spirals",
        classes=3,
        samples=1500,
        noise=0.2,
        epochs=150,
        batch_size=50,
        lr=1e-2,
        optimizer="adam",
        schedule="cosine",
        seed=0,
        hidden=[64, 64],
        activation="relu",
    ),
    fast=dict(epochs=5, samples=300),
    make_data=toy_data,
    make_model=lambda cfg: MLP([2, *cfg["hidden"], cfg["classes"]], activation=cfg["activation"]),
)

RECIPES = [XOR_MLP, SPIRALS_MLP]
