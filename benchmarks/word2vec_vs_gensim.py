"""Word2Vec: chainrule vs gensim on tiny Shakespeare — training speed and vector quality.

    python benchmarks/word2vec_vs_gensim.py [--path input.txt] [--epochs 5] [--sg 1]
                                            [--vector-size 100] [--lines N]

Corpus: tiny Shakespeare, lowercased, words ``[a-z']+``, one sentence per non-empty line.
Both libraries get the same sentences and hyperparameters (gensim with ``workers=1``, so
both use one thread of Python-level work; gensim's inner loop is compiled Cython).

Speed: raw corpus words x epochs / seconds spent in ``train`` (vocabulary building excluded
for both), in words per second.

Quality: the *corpus-derived similarity benchmark* of
``chainrule.models.word2vec.corpus_similarity_pairs``: up to 2000 word pairs, seeded, drawn
from words seen >= 20 times (minus the 50 most frequent) that co-occur >= 5 times within the
window, scored by their PMI on the corpus. A model's score is the Spearman correlation
between its cosine similarities and that PMI, computed by chainrule's
``KeyedVectors.evaluate_word_pairs`` for both models (gensim's own evaluator is printed as a
cross-check). It measures how well the vectors capture the corpus's co-occurrence
statistics, not human similarity judgements. gensim is not a chainrule dependency:
``pip install gensim`` to run this script.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from chainrule.models.word2vec import (
    KeyedVectors,
    Word2Vec,
    corpus_similarity_pairs,
    read_corpus,
    write_word_pairs,
)

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "shared/data/tinyshakespeare/input.txt"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--path", default=os.environ.get("SHAKESPEARE", str(DEFAULT_PATH)))
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--sg", type=int, default=1)
    ap.add_argument("--vector-size", type=int, default=100)
    ap.add_argument("--lines", type=int, default=None, help="use only the first N lines")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    try:
        import gensim
    except ImportError:
        raise SystemExit("gensim is not installed: pip install gensim") from None

    sentences = read_corpus(args.path, max_lines=args.lines)
    raw_words = sum(len(s) for s in sentences)
    params = dict(
        vector_size=args.vector_size,
        window=5,
        min_count=5,
        sg=args.sg,
        negative=5,
        sample=1e-3,
        alpha=0.025,
        min_alpha=0.0001,
        seed=args.seed,
    )
    print(f"corpus: {len(sentences)} sentences, {raw_words} words; epochs={args.epochs}; {params}")

    ours = Word2Vec(**params, epochs=args.epochs)
    ours.build_vocab(sentences)
    t0 = time.perf_counter()
    ours.train(sentences, total_examples=len(sentences), epochs=args.epochs)
    t_ours = time.perf_counter() - t0

    theirs = gensim.models.Word2Vec(**params, epochs=args.epochs, workers=1)
    theirs.build_vocab(sentences)
    t0 = time.perf_counter()
    theirs.train(sentences, total_examples=len(sentences), epochs=args.epochs)
    t_theirs = time.perf_counter() - t0

    pairs = corpus_similarity_pairs(sentences, window=5, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        pair_file = write_word_pairs(pairs, Path(tmp) / "pmi_pairs.txt")
        ours_eval = ours.wv.evaluate_word_pairs(pair_file)
        theirs_eval = KeyedVectors(theirs.wv.index_to_key, theirs.wv.vectors).evaluate_word_pairs(
            pair_file
        )
        gensim_own = theirs.wv.evaluate_word_pairs(str(pair_file))

    wps_ours = raw_words * args.epochs / t_ours
    wps_theirs = raw_words * args.epochs / t_theirs
    print(f"vocabulary: chainrule {len(ours.wv)}, gensim {len(theirs.wv)}; {len(pairs)} PMI pairs")
    print(f"{'':10s} {'words/s':>10s} {'train s':>8s} {'Spearman':>9s} {'Pearson':>8s}")
    print(
        f"{'chainrule':10s} {wps_ours:10.0f} {t_ours:8.2f} {ours_eval[1][0]:9.4f} "
        f"{ours_eval[0][0]:8.4f}"
    )
    print(
        f"{'gensim':10s} {wps_theirs:10.0f} {t_theirs:8.2f} {theirs_eval[1][0]:9.4f} "
        f"{theirs_eval[0][0]:8.4f}"
    )
    print(f"gensim's own evaluate_word_pairs on gensim's vectors: Spearman {gensim_own[1][0]:.4f}")
    print(
        f"chainrule / gensim: speed {wps_ours / wps_theirs:.3f}x, "
        f"quality {ours_eval[1][0] / theirs_eval[1][0]:.3f}"
    )
    for word in ("king", "love", "night"):
        if word in ours.wv and word in theirs.wv:
            print(f"{word:6s} chainrule: {[w for w, _ in ours.wv.most_similar(word, topn=5)]}")
            print(f"{'':6s} gensim:    {[w for w, _ in theirs.wv.most_similar(word, topn=5)]}")


if __name__ == "__main__":
    main()
