"""Tiny Shakespeare (1,115,394 characters, karpathy/char-rnn): character language models and
word vectors.

Character level as nanoGPT's ``shakespeare_char``: 65 symbols, the first 90% of the text is
train and the last 10% val. An "epoch" here is ``steps_per_epoch`` random windows batches
(nanoGPT's ``get_batch``); after each, the loss is measured on ``eval_windows`` fixed
windows of the val split, and at the end on the whole val split (non-overlapping windows):
that final number is the recipe's metric, in nats per character.
"""

from __future__ import annotations

import os

import numpy as np

from chainrule.data import Subset
from chainrule.data.datasets import TextCorpus
from chainrule.models.char_lstm import CharLSTM
from chainrule.models.minigpt import MiniGPT
from chainrule.recipes.base import Recipe, RecipeData
from chainrule.recipes.runner import loader

URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"


def find_text(data_dir: str) -> str:
    candidates = [
        os.path.join(data_dir, "tinyshakespeare", "input.txt"),
        os.path.join(data_dir, "shakespeare_char", "input.txt"),
        os.path.join(data_dir, "input.txt"),
    ]
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        f"tiny Shakespeare: input.txt not found (looked for {candidates}). Put the file at "
        f"{candidates[0]!r}; download it from {URL}"
    )


class RandomWindows:
    """``steps`` batches of ``batch_size`` random windows (x, y = x shifted by one token).

    Re-iterable (one pass = one epoch); ``generator`` is saved in Trainer checkpoints.
    """

    def __init__(self, data: np.ndarray, batch_size: int, block_size: int, steps: int, seed: int):
        self.data, self.batch_size, self.block_size = data, batch_size, block_size
        self.steps = steps
        self.generator = np.random.default_rng(seed)

    def __len__(self) -> int:
        return self.steps

    def __iter__(self):
        offsets = np.arange(self.block_size)
        for _ in range(self.steps):
            ix = self.generator.integers(0, len(self.data) - self.block_size, self.batch_size)
            rows = ix[:, None] + offsets
            yield self.data[rows], self.data[rows + 1]


def char_data(cfg: dict, data_dir: str) -> RecipeData:
    corpus = TextCorpus(find_text(data_dir), level="char")
    cfg["vocab"] = list(corpus.itos)
    cfg["vocab_size"] = corpus.vocab_size
    block = cfg["block_size"]
    train = RandomWindows(
        corpus.train_data, cfg["batch_size"], block, cfg["steps_per_epoch"], cfg["seed"]
    )
    val_all = corpus.dataset("val", block)  # non-overlapping windows
    n_eval = min(cfg["eval_windows"], len(val_all))
    every = np.linspace(0, len(val_all) - 1, n_eval).astype(int).tolist()
    test = (
        val_all
        if cfg.get("test_windows") is None
        else Subset(val_all, list(range(min(cfg["test_windows"], len(val_all)))))
    )
    return RecipeData(
        train=train,
        val=loader(Subset(val_all, every), cfg, train=False, batch_size=64),
        test=loader(test, cfg, train=False, batch_size=64),
        input_size=(block,),
        input_dtype="int64",
        test_name="val",
    )


CHAR_LSTM = Recipe(
    name="shakespeare-char-lstm",
    dataset="tiny Shakespeare, characters",
    model="CharLSTM: embedding 64, LSTM 1x512, linear",
    target="val loss < 1.7 nats/char",
    metric="loss",
    task="language-model",
    config=dict(
        block_size=64,
        batch_size=32,
        steps_per_epoch=250,
        epochs=16,
        lr=3e-3,
        optimizer="adam",
        schedule="warmup-cosine",
        warmup_steps=100,
        min_lr_ratio=0.1,
        grad_clip=1.0,
        seed=0,
        embed_dim=64,
        hidden_size=512,
        num_layers=1,
        dropout=0.0,
        eval_windows=200,
    ),
    fast=dict(
        epochs=1,
        steps_per_epoch=200,
        warmup_steps=20,
        hidden_size=128,
        eval_windows=20,
        test_windows=100,
        block_size=32,
    ),
    make_data=char_data,
    make_model=lambda cfg: CharLSTM(
        cfg["vocab_size"], cfg["embed_dim"], cfg["hidden_size"], cfg["num_layers"], cfg["dropout"]
    ),
)

CHAR_GPT = Recipe(
    name="shakespeare-char-gpt",
    dataset="tiny Shakespeare, characters",
    model="MiniGPT: 4 layers, 4 heads, width 128, context 64",
    target="val loss < 1.7 nats/char",
    metric="loss",
    task="language-model",
    config=dict(
        block_size=64,
        batch_size=32,
        steps_per_epoch=250,
        epochs=16,
        lr=2e-3,
        optimizer="adamw",
        betas=[0.9, 0.99],
        weight_decay=0.1,
        schedule="warmup-cosine",
        warmup_steps=100,
        min_lr_ratio=0.1,
        grad_clip=1.0,
        seed=0,
        n_layer=4,
        n_head=4,
        n_embd=128,
        dropout=0.0,
        eval_windows=200,
    ),
    fast=dict(
        epochs=1,
        steps_per_epoch=20,
        n_layer=2,
        n_embd=64,
        eval_windows=20,
        test_windows=40,
        block_size=32,
    ),
    make_data=char_data,
    make_model=lambda cfg: MiniGPT(
        cfg["vocab_size"],
        cfg["block_size"],
        cfg["n_layer"],
        cfg["n_head"],
        cfg["n_embd"],
        cfg["dropout"],
    ),
)


def _word2vec_available() -> str | None:
    try:
        from chainrule.models.word2vec import train_shakespeare_word2vec  # noqa: F401
    except ImportError:
        return "chainrule.models.word2vec.train_shakespeare_word2vec is not available"
    return None


def _run_word2vec(cfg: dict, data_dir: str, out_dir: str) -> dict:
    from chainrule.models.word2vec import train_shakespeare_word2vec

    result = train_shakespeare_word2vec(
        find_text(data_dir), out_dir, epochs=cfg["epochs"], seed=cfg["seed"], fast=cfg["fast"]
    )
    keep = (int, float, str, bool)
    summary = {k: v for k, v in result.items() if isinstance(v, keep)}
    for k, v in summary.items():
        print(f"{k}: {v}")
    return summary


WORD2VEC = Recipe(
    name="shakespeare-word2vec",
    dataset="tiny Shakespeare, lower-cased words",
    model="word2vec skip-gram, negative sampling, 100-d",
    target="Spearman vs corpus PMI pairs >= 0.5 (no published reference)",
    metric="pmi_spearman",
    task="external",
    config=dict(epochs=5, seed=1),
    fast=dict(epochs=1),
    run=_run_word2vec,
    available=_word2vec_available,
)

RECIPES = [CHAR_LSTM, CHAR_GPT, WORD2VEC]
