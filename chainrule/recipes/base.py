"""What a recipe is: a dataset, a model builder, an optimizer, a schedule and a target.

A recipe file (``digits.py``, ``mnist.py``...) declares :class:`Recipe` objects; the runner
(``chainrule.recipes.runner``) turns one into a training run. Every hyperparameter lives in
the recipe's ``config`` dict, which is saved in the checkpoint, so ``evaluate`` and
``sample`` can rebuild the exact model later.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def default_data_dir() -> str:
    """Where datasets are looked for: ``$CHAINRULE_DATA``, else ``~/.cache/chainrule/data``."""
    return os.environ.get("CHAINRULE_DATA") or os.path.join(
        os.path.expanduser("~"), ".cache", "chainrule", "data"
    )


@dataclass
class RecipeData:
    """The loaders of a run. ``val`` is evaluated after every epoch, ``test`` once at the end.

    ``input_size`` is one sample's shape (for ``nn.summary``); ``input_dtype`` "int64" for
    token ids.
    """

    train: Any
    val: Any = None
    test: Any = None
    input_size: tuple = ()
    input_dtype: str = "float32"
    test_name: str = "test"  # what the final evaluation is called ("test" or "val")


@dataclass
class Recipe:
    """A named, reproducible training setup.

    Args:
        name: the CLI name (``digits-cnn``).
        dataset, model, target: one line each for ``chainrule recipes``.
        config: every hyperparameter: ``epochs``, ``batch_size``, ``lr``, ``optimizer``
            ("adam", "adamw", "sgd"), ``weight_decay``, ``schedule`` ("constant",
            "onecycle", "cosine", "warmup-cosine"), ``grad_clip``, and whatever the model
            and data builders read.
        fast: overrides of ``config`` for ``--fast`` (a tiny subset and one epoch, for tests).
        make_data: ``make_data(config, data_dir) -> RecipeData`` (may add keys to config,
            e.g. the vocabulary of a text).
        make_model: ``make_model(config) -> Module``.
        task: "classify" (cross-entropy, accuracy), "language-model" (cross-entropy per
            token, val loss in nats/char) or "external" (``run`` does everything).
        run: for "external" recipes, ``run(config, data_dir, out_dir) -> metrics dict``.
        available: ``available() -> None`` when the recipe can run, else a note why not.
        metric: the number the target refers to ("accuracy" or "loss").
    """

    name: str
    dataset: str
    model: str
    target: str
    config: dict
    make_data: Callable | None = None
    make_model: Callable | None = None
    fast: dict = field(default_factory=dict)
    task: str = "classify"
    run: Callable | None = None
    available: Callable[[], str | None] = lambda: None
    metric: str = "accuracy"
    description: str = ""

    def resolved_config(self, fast: bool = False, **overrides) -> dict:
        """The config with the ``--fast`` overrides and the command-line overrides applied
        (None values are ignored)."""
        cfg = dict(self.config)
        if fast:
            cfg.update(self.fast)
        cfg.update({k: v for k, v in overrides.items() if v is not None})
        cfg["recipe"] = self.name
        cfg["fast"] = bool(fast)
        return cfg
