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
    """tiny Shakespeare in the shared data folder (CHAINRULE_DATA overrides the folder)."""
    root = os.environ.get("CHAINRULE_DATA")
    if root:
        return Path(root) / "tinyshakespeare" / "input.txt"
    here = Path(__file__).resolve()
    return here.parents[3] / "shared" / "data" / "tinyshakespeare" / "input.txt"


def _pca_2d(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    return x @ vt[:2].T


def run_demo(fast: bool = False, out_dir=None, path=None) -> Evidence:
    """Train, print neighbours, plot PCA; ``fast`` uses 10000 lines and 3 epochs."""
    path = Path(path) if path is not None else default_corpus_path()
    if not path.exists():
        raise FileNotFoundError(f"tiny Shakespeare not found at {path}")
    sentences = read_corpus(path, max_lines=10000 if fast else None)
    epochs = 3 if fast else 5
    model = Word2Vec(sentences, vector_size=100, window=5, min_count=5, epochs=epochs, seed=1)
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
            numbers={"spearman_pmi": float(rho), "first_loss": first, "last_loss": last,
                     "vocab_size": len(wv), "words_per_second":
                     sum(map(len, sentences)) * epochs / max(model.train_seconds, 1e-9)},
            headers=["word", "nearest neighbours / measure"],
            rows=rows,
            figures=figures,
        )
    )


run = run_demo  # the demos registry calls ``run(fast, out_dir)``
