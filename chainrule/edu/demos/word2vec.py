"""Demo: word2vec (skip-gram, negative sampling) on tiny Shakespeare.

Claim: trained only to tell real (word, neighbour) pairs from random ones, the word vectors
put words used alike near each other: nearest neighbours make sense, and cosine similarity
tracks the corpus's own co-occurrence statistics (PMI; see
``chainrule.models.word2vec.corpus_similarity_pairs``).

The demo trains :class:`chainrule.models.word2vec.Word2Vec`, prints the nearest neighbours
of a few words, saves a 2-D PCA plot of chosen words, and reports the loss drop and the
Spearman correlation between cosine similarity and PMI.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from chainrule.edu.demos._common import Evidence, finish
from chainrule.models.word2vec import Word2Vec, _spearman, corpus_similarity_pairs, read_corpus

CLAIM = (
    "skip-gram word vectors trained on Shakespeare give sensible nearest neighbours and a "
    "cosine similarity that correlates with the corpus's PMI"
)
QUERY_WORDS = ["king", "love", "father", "night", "sword"]
PLOT_WORDS = [
    "king", "queen", "prince", "duke", "lord", "lady",
    "father", "mother", "son", "daughter", "brother", "sister",
    "one", "two", "three", "four", "five",
    "day", "night", "morning", "sun", "moon",
    "thou", "thee", "thy", "you", "your",
]  # fmt: skip


def default_corpus_path() -> Path:
    """``<data dir>/tinyshakespeare/input.txt``; the data dir is ``$CHAINRULE_DATA`` or
    ``~/.cache/chainrule/data`` (the same default as ``chainrule train --data-dir``)."""
    root = os.environ.get("CHAINRULE_DATA") or Path.home() / ".cache" / "chainrule" / "data"
    return Path(root) / "tinyshakespeare" / "input.txt"


def _pca_2d(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    return x @ vt[:2].T


def run(fast: bool = False, out_dir=None, path=None) -> Evidence:
    """Train, print neighbours, plot PCA; ``fast``: 2 epochs of 50-d vectors (5 of 100-d)."""
    path = Path(path) if path is not None else default_corpus_path()
    if not path.exists():
        raise FileNotFoundError(
            f"tiny Shakespeare not found at {path}: put input.txt (github.com/karpathy/char-rnn, "
            "data/tinyshakespeare/input.txt) there, or set CHAINRULE_DATA to a folder holding "
            "tinyshakespeare/input.txt"
        )
    sentences = read_corpus(path)
    epochs, size = (2, 50) if fast else (5, 100)
    model = Word2Vec(sentences, vector_size=size, window=5, min_count=5, epochs=epochs, seed=1)
    wv = model.wv

    rows = []
    for w in QUERY_WORDS:
        if w in wv:
            rows.append([w, ", ".join(n for n, _ in wv.most_similar(w, topn=5))])

    pairs = corpus_similarity_pairs(sentences, window=5, seed=0)
    sims = [wv.similarity(a, b) for a, b, _ in pairs]
    rho = _spearman(np.array(sims), np.array([s for _, _, s in pairs]))[0]
    first, last = model.loss_history[0], model.loss_history[-1]

    figures = []
    words = [w for w in PLOT_WORDS if w in wv]
    if len(words) >= 3:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        xy = _pca_2d(np.stack([wv.get_vector(w, norm=True) for w in words]))
        fig, ax = plt.subplots(figsize=(7, 6))
        ax.scatter(xy[:, 0], xy[:, 1], s=12)
        for (x, y), w in zip(xy, words):
            ax.annotate(w, (x, y), fontsize=9, xytext=(3, 3), textcoords="offset points")
        ax.set_title("word2vec on tiny Shakespeare: PCA of unit word vectors")
        out = Path(out_dir) if out_dir is not None else Path("demo-output")
        out.mkdir(parents=True, exist_ok=True)
        figure = out / "word2vec_pca.png"
        fig.savefig(figure, dpi=110, bbox_inches="tight")
        plt.close(fig)
        figures.append(figure)

    holds = bool(last < first and rho > 0.3)
    rows.append(["loss per example", f"{first:.3f} -> {last:.3f}"])
    rows.append(["Spearman(cosine, PMI)", f"{rho:.3f} over {len(pairs)} pairs"])
    return finish(
        Evidence(
            name="word2vec",
            claim=CLAIM,
            claim_holds=holds,
            numbers={
                "spearman_pmi": float(rho),
                "first_loss": first,
                "last_loss": last,
                "vocab_size": len(wv),
                "words_per_second": sum(map(len, sentences))
                * epochs
                / max(model.train_seconds, 1e-9),
            },
            headers=["word", "nearest neighbours / measure"],
            rows=rows,
            figures=figures,
        )
    )
