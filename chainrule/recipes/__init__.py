"""Named training recipes: ``chainrule train <name>`` runs one.

A recipe (:class:`~chainrule.recipes.base.Recipe`) is a dataset, a model builder, an
optimizer, a learning-rate schedule, the number of epochs and the batch size, and the
result it is expected to reach. Each family lives in its own short file:

- ``digits.py``: the bundled 8x8 digits (``digits-cnn`` is the default recipe).
- ``toy.py``: XOR and spirals.
- ``mnist.py``: MNIST and Fashion-MNIST.
- ``mnist1d.py``: MNIST-1D, the paper's setup and a tuned CNN.
- ``shakespeare.py``: character language models and word2vec on tiny Shakespeare.

``chainrule.recipes.runner`` runs them (the same Trainer loop you would write by hand).

Example:
    >>> from chainrule import recipes
    >>> recipes.get("digits-cnn").config["epochs"]
    20
"""

from __future__ import annotations

from chainrule.recipes import digits, mnist, mnist1d, shakespeare, toy
from chainrule.recipes.base import Recipe, RecipeData, default_data_dir

DEFAULT = "digits-cnn"

REGISTRY: dict[str, Recipe] = {}


def register(recipe: Recipe) -> Recipe:
    """Add a recipe to the registry (names are unique)."""
    if recipe.name in REGISTRY:
        raise ValueError(f"recipe {recipe.name!r} is already registered")
    REGISTRY[recipe.name] = recipe
    return recipe


for _family in (digits, toy, mnist, mnist1d, shakespeare):
    for _recipe in _family.RECIPES:
        register(_recipe)


def get(name: str) -> Recipe:
    """The recipe called ``name``; a KeyError listing the known names otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown recipe {name!r}; known recipes: {', '.join(REGISTRY)}") from None


def names() -> list[str]:
    return list(REGISTRY)


__all__ = [
    "DEFAULT",
    "REGISTRY",
    "Recipe",
    "RecipeData",
    "default_data_dir",
    "get",
    "names",
    "register",
]
