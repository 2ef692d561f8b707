"""Word2Vec: skip-gram and CBOW with negative sampling, as a chainrule ``nn.Module``.

Word2vec (Mikolov et al. 2013) learns a vector per word by a fake prediction task. In
skip-gram every word ``c`` of the text predicts the words ``o`` around it; with negative
sampling the prediction is a logistic regression: "is (c, o) a real pair, or (c, w_k) a pair
with a random word w_k?". For input vectors v (``in_embed``, word2vec.c's syn0) and output
vectors u (``out_embed``, syn1neg) the loss of one example is

    loss = -log sigma(u_o . v_c) - sum_k log sigma(-u_k . v_c),      k = 1..negative

with gradients  d loss/d v_c = (sigma(u_o.v_c) - 1) u_o + sum_k sigma(u_k.v_c) u_k,
d loss/d u_o = (sigma(u_o.v_c) - 1) v_c  and  d loss/d u_k = sigma(u_k.v_c) v_c.
CBOW swaps the roles: the mean of the context words' input vectors predicts the center word.

The interface follows gensim 4 (``Word2Vec(sentences, vector_size=100, window=5, ...)``,
``model.wv.most_similar(...)``); the details below follow gensim / word2vec.c:

- Vocabulary: words with count >= ``min_count``, sorted by descending count. Ties keep
  gensim 4's order exactly: ``np.lexsort((-first_seen, -count))``, i.e. among equally frequent
  words the one seen *last* comes first.
- Subsampling of frequent words (gensim's ``prepare_vocab``): with t = sample * N (N = the
  total count of retained words) a word of count f is kept with probability
  ``p_keep = min(1, (sqrt(f / t) + 1) * t / f)``; ``sample=0`` keeps everything.
  Dropped words are removed *before* the windows are taken, as in word2vec.c and gensim.
- Negative sampling draws from the unigram distribution raised to ``ns_exponent`` (0.75):
  ``P(w) = count(w)^0.75 / sum_v count(v)^0.75``. A negative that equals the positive target
  is redrawn (word2vec.c and gensim skip it instead; the effect is the same to first order).
- Dynamic window: with ``shrink_windows=True`` each center word uses a window b drawn
  uniformly from [1, window]; pairs never cross sentence boundaries.
- Learning rate: decays linearly from ``alpha`` to ``min_alpha`` with the fraction of the
  ``epochs * total_words`` raw words processed, set once per chunk of ``batch_words`` words
  (gensim sets it once per job of ``batch_words`` words).
- Initialisation as word2vec.c: input vectors uniform in [-0.5/D, 0.5/D] (gensim 4 uses
  [-1/D, 1/D]), output vectors zero.
- CBOW (``sg=0``) with ``cbow_mean=1`` averages the context vectors, and, like word2vec.c and
  gensim, adds the hidden-layer error to *every* context vector undivided (the exact gradient
  of the mean would divide it by the number of context words). The loss writes this as
  ``h = s - (s - mean).detach()`` (s the sum), whose value is the mean and whose gradient is
  word2vec's rule. ``cbow_mean=0`` uses the sum, with its exact gradient.

Batched training. Pairs are built with array operations per chunk of ``batch_words`` words
(subsampling mask, random windows, one pass per window offset 1..window), cut into
minibatches of ``batch_size`` examples, and the negatives of a minibatch are drawn in one
call. The loss of a minibatch is the **sum** over its examples, so one SGD step with
learning rate alpha applies the sum of word2vec.c's per-pair updates (computed at the same
parameters, not one after the other).

Sparse updates (the fast path, ``sparse=True``, the default). chainrule's ``Embedding``
backward builds a dense (V, D) gradient table that is zero except the rows looked up (its
scatter-add is ``np.add.at`` on 2-D rows, slow in NumPy), and ``optim.SGD`` then updates all
V rows: O(V D) work per step for a step that touches a few thousand rows. So each training
step instead gathers the vectors it uses with NumPy (``W_in[center]``, ``W_out[context]``,
``W_out[negatives]``), makes them leaf Tensors, computes the *same* loss
(:func:`negative_sampling_loss`) and its gradients with chainrule's autograd, and then takes
an explicit sparse SGD step outside autograd: the gradients of repeated rows are summed
(:func:`_scatter_rows`, a 1-D ``np.add.at``) and ``W[rows] -= lr * summed`` touches only those
rows. ``sparse=False`` trains the textbook way instead:
``loss = model(center, context, negatives); loss.backward(); optimizer.step()`` with
``optim.SGD`` whose ``lr`` is set in its param group every chunk; both give the same update
(tests/models/test_word2vec.py checks it).

Evaluation. ``model.wv.evaluate_word_pairs`` and ``evaluate_word_analogies`` read the usual
wordsim353 / questions-words.txt formats. For a corpus without a gold set,
:func:`corpus_similarity_pairs` builds a *corpus-derived similarity benchmark*: word pairs
scored by their pointwise mutual information (PMI) within the same window on the corpus
itself; a model is scored by the Spearman correlation between its cosine similarities and
that PMI. It measures how well the vectors capture the corpus's co-occurrence statistics
(which SGNS implicitly factorises), not human judgements of similarity.

Example:
    >>> sentences = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 50
    >>> model = Word2Vec(sentences, vector_size=16, min_count=1, epochs=2)
    >>> model.wv.most_similar("cat", topn=1)  # doctest: +SKIP
    [('dog', 0.83)]
"""

from __future__ import annotations

import math
import os
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

import chainrule
from chainrule.autograd.function import no_grad
from chainrule.nn import functional as F
from chainrule.nn.embedding import Embedding
from chainrule.nn.module import Module
from chainrule.optim.sgd import SGD
from chainrule.tensor import Tensor

__all__ = [
    "KeyedVectors",
    "Word2Vec",
    "corpus_similarity_pairs",
    "negative_sampling_loss",
    "read_corpus",
    "tokenize",
    "train_shakespeare_word2vec",
    "write_word_pairs",
]

_WORD_RE = re.compile(r"[a-z']+")


# ---------------------------------------------------------------- text
def tokenize(text: str) -> list[str]:
    """Lowercase words made of letters and apostrophes: ``re.findall("[a-z']+", text.lower())``.

    Example:
        >>> tokenize("Speak, speak. We know't!")
        ['speak', 'speak', 'we', "know't"]
    """
    return _WORD_RE.findall(text.lower())


def read_corpus(path, max_lines: int | None = None) -> list[list[str]]:
    """One sentence per non-empty line of a text file, tokenised by :func:`tokenize`."""
    sentences = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if max_lines is not None and i >= max_lines:
                break
            words = tokenize(line)
            if words:
                sentences.append(words)
    return sentences


# ---------------------------------------------------------------- the loss
def negative_sampling_loss(v: Tensor, target: Tensor, negatives: Tensor) -> Tensor:
    """sum_batch [-log sigma(target . v) - sum_k log sigma(-negatives_k . v)], chainrule ops.

    Args:
        v: (B, D) input vectors (skip-gram: the center word's; CBOW: the context's mean).
        target: (B, D) output vectors of the words to predict (skip-gram: the context word;
            CBOW: the center word).
        negatives: (B, K, D) output vectors of the negative samples.

    Returns: a 0-d Tensor, the **sum** over the batch (so SGD with word2vec's alpha applies
    the sum of its per-example updates).
    """
    pos_score = (v * target).sum(-1)  # (B,)
    neg_score = (negatives * v.unsqueeze(1)).sum(-1)  # (B, K)
    return -(F.logsigmoid(pos_score).sum() + F.logsigmoid(-neg_score).sum())


def cbow_hidden(context_vectors: Tensor, context_mask: Tensor, mean: bool = True) -> Tensor:
    """CBOW's hidden vector: the masked mean (or sum) of the context vectors (B, C, D) -> (B, D).

    With ``mean`` the value is the mean but the gradient reaching each context vector is the
    hidden error undivided (word2vec.c's and gensim's update rule, see the module notes):
    ``h = s - (s - mean).detach()`` has the value of the mean and the gradient of the sum.
    """
    s = (context_vectors * context_mask.unsqueeze(-1)).sum(1)
    if not mean:
        return s
    avg = s / context_mask.sum(1, keepdim=True)
    return s - (s - avg).detach()


def _scatter_rows(index: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum the rows of ``values`` (n, D) that share an index: (unique rows, summed (r, D)).

    A 1-D ``np.add.at`` over flat (row, column) positions: NumPy's fast path for 1-D
    targets, several times faster than ``np.add.at`` on 2-D rows (which loops per row).
    """
    rows, inv = np.unique(index, return_inverse=True)
    D = values.shape[-1]
    flat = (inv.reshape(-1, 1) * D + np.arange(D)).ravel()
    summed = np.zeros(len(rows) * D, dtype=values.dtype)
    np.add.at(summed, flat, values.reshape(-1))
    return rows, summed.reshape(len(rows), D)


# ---------------------------------------------------------------- statistics helpers
def _rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank (scipy.stats.rankdata's default)."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    ranks = np.empty(len(x), dtype=np.float64)
    boundaries = np.r_[0, np.flatnonzero(np.diff(xs)) + 1, len(x)]
    for a, b in zip(boundaries[:-1], boundaries[1:]):
        ranks[order[a:b]] = (a + b + 1) / 2.0
    return ranks


def _pearson(a: np.ndarray, b: np.ndarray) -> tuple[float, float | None]:
    """Pearson r and its two-sided p-value (t-test with n-2 dof; scipy if installed, else None)."""
    a = np.asarray(a, np.float64) - np.mean(a)
    b = np.asarray(b, np.float64) - np.mean(b)
    denom = math.sqrt(float(a @ a) * float(b @ b))
    r = float(a @ b) / denom if denom > 0 else float("nan")
    n = len(a)
    p = None
    try:
        from scipy import stats

        if n > 2 and abs(r) < 1:
            t = r * math.sqrt((n - 2) / (1 - r * r))
            p = float(2 * stats.t.sf(abs(t), n - 2))
        elif n > 2:
            p = 0.0
    except ImportError:
        pass
    return r, p


def _spearman(a: np.ndarray, b: np.ndarray) -> tuple[float, float | None]:
    """Spearman's rho: Pearson's r of the ranks (same p-value approximation)."""
    return _pearson(_rankdata(a), _rankdata(b))


# ---------------------------------------------------------------- KeyedVectors
class KeyedVectors:
    """Word vectors with gensim's lookup and similarity API (``model.wv``).

    Args:
        index_to_key: the words, row order of ``vectors``.
        vectors: (V, D) float array (shared, not copied: a trained model's table).

    Example:
        >>> kv = KeyedVectors(["a", "b"], np.array([[1.0, 0.0], [0.6, 0.8]], np.float32))
        >>> round(kv.similarity("a", "b"), 3)
        0.6
    """

    def __init__(self, index_to_key: Sequence[str], vectors: np.ndarray):
        self.index_to_key = list(index_to_key)
        self.key_to_index = {w: i for i, w in enumerate(self.index_to_key)}
        self.vectors = vectors

    # -- lookup
    @property
    def vector_size(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, key: str) -> bool:
        return key in self.key_to_index

    def get_index(self, key: str) -> int:
        try:
            return self.key_to_index[key]
        except KeyError:
            raise KeyError(f"Key '{key}' not present in vocabulary") from None

    def get_vector(self, key: str, norm: bool = False) -> np.ndarray:
        v = np.array(self.vectors[self.get_index(key)])
        if norm:
            v = v / max(float(np.linalg.norm(v)), 1e-12)
        return v

    def __getitem__(self, key):
        if isinstance(key, str):
            return self.get_vector(key)
        return np.stack([self.get_vector(k) for k in key])

    def get_normed_vectors(self) -> np.ndarray:
        norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
        return self.vectors / np.maximum(norms, 1e-12)

    # -- similarity
    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words' vectors."""
        return float(self.get_vector(w1, norm=True) @ self.get_vector(w2, norm=True))

    def n_similarity(self, ws1: Sequence[str], ws2: Sequence[str]) -> float:
        a = np.mean([self.get_vector(w, norm=True) for w in ws1], axis=0)
        b = np.mean([self.get_vector(w, norm=True) for w in ws2], axis=0)
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

    def most_similar(
        self,
        positive=None,
        negative=None,
        topn: int | None = 10,
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """The words nearest (by cosine) to mean(positive) - mean(negative) of unit vectors.

        3CosAdd for analogies: ``most_similar(positive=["woman", "king"], negative=["man"])``.
        The input words are excluded. Entries may be words or vectors (as gensim allows).
        """
        if isinstance(positive, str | np.ndarray):
            positive = [positive]
        if isinstance(negative, str | np.ndarray):
            negative = [negative]
        positive, negative = list(positive or []), list(negative or [])
        items = [(w, 1.0) for w in positive] + [(w, -1.0) for w in negative]
        if not items:
            raise ValueError("cannot compute similarity with no input")
        vecs, exclude = [], set()
        for w, weight in items:
            if isinstance(w, str):
                vecs.append(weight * self.get_vector(w, norm=True))
                exclude.add(self.key_to_index[w])
            else:
                vecs.append(weight * np.asarray(w, dtype=np.float64))
        query = np.mean(vecs, axis=0)
        query = query / max(float(np.linalg.norm(query)), 1e-12)
        normed = self.get_normed_vectors()
        if restrict_vocab is not None:
            normed = normed[:restrict_vocab]
        dists = normed @ query.astype(normed.dtype)
        if topn is None:
            return dists
        order = np.argsort(-dists, kind="stable")[: topn + len(exclude)]
        out = [(self.index_to_key[i], float(dists[i])) for i in order if i not in exclude]
        return out[:topn]

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The word furthest from the mean of the (unit) vectors of ``words``."""
        words = [w for w in words if w in self.key_to_index]
        if not words:
            raise ValueError("cannot select a word from an empty list")
        vecs = np.stack([self.get_vector(w, norm=True) for w in words])
        mean = vecs.mean(axis=0)
        mean /= max(float(np.linalg.norm(mean)), 1e-12)
        return words[int(np.argmin(vecs @ mean))]

    # -- evaluation
    def evaluate_word_pairs(
        self, pairs, delimiter: str = "\t", case_insensitive: bool = True
    ) -> tuple[tuple[float, float | None], tuple[float, float | None], float]:
        """Correlation of cosine similarity with human (or other) scores, like gensim.

        ``pairs``: a wordsim353-format file (``word1<TAB>word2<TAB>score``, ``#`` comments).
        Pairs with an out-of-vocabulary word are skipped (gensim's ``dummy4unknown=False``).

        Returns ``((pearson_r, p), (spearman_rho, p), oov_percent)``. p-values are the
        two-sided t-test approximation (scipy) or None without scipy; oov is a percentage,
        as in gensim.
        """
        model_sims, gold, oov, total = [], [], 0, 0
        with open(pairs, encoding="utf-8") as f:
            for line in f:
                if not line.strip() or line.startswith("#"):
                    continue
                parts = line.rstrip("\n").split(delimiter)
                if len(parts) < 3:
                    continue
                a, b = parts[0], parts[1]
                if case_insensitive:
                    a, b = a.lower(), b.lower()
                total += 1
                if a not in self.key_to_index or b not in self.key_to_index:
                    oov += 1
                    continue
                model_sims.append(self.similarity(a, b))
                gold.append(float(parts[2]))
        if len(gold) < 3:
            raise ValueError("fewer than 3 in-vocabulary pairs to evaluate")
        return _pearson(model_sims, gold), _spearman(model_sims, gold), 100.0 * oov / total

    def evaluate_word_analogies(
        self, analogies, restrict_vocab: int = 300000, case_insensitive: bool = True
    ) -> tuple[float, list[dict[str, Any]]]:
        """Accuracy on ``a b c d`` analogy questions (questions-words.txt format), like gensim.

        The prediction for "a is to b as c is to ?" is 3CosAdd:
        ``most_similar(positive=[b, c], negative=[a])[0]``. Questions with a word outside
        the first ``restrict_vocab`` words are skipped. Returns ``(score, sections)``: each
        section ``{"section", "correct", "incorrect"}`` (lists of 4-tuples), the last one
        ``"Total accuracy"``.
        """
        ok_vocab = set(self.index_to_key[:restrict_vocab])
        sections: list[dict[str, Any]] = []
        section = None
        with open(analogies, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                if line.startswith(":"):
                    if section is not None:
                        sections.append(section)
                    section = {"section": line[1:].strip(), "correct": [], "incorrect": []}
                    continue
                if section is None:
                    raise ValueError("analogy file must start with a ': section' line")
                words = line.lower().split() if case_insensitive else line.split()
                if len(words) != 4 or any(w not in ok_vocab for w in words):
                    continue
                a, b, c, expected = words
                sims = self.most_similar(
                    positive=[b, c], negative=[a], topn=5, restrict_vocab=restrict_vocab
                )
                predicted = next((w for w, _ in sims if w not in (a, b, c)), None)
                (section["correct"] if predicted == expected else section["incorrect"]).append(
                    (a, b, c, expected)
                )
        if section is not None:
            sections.append(section)
        correct = list(chain.from_iterable(s["correct"] for s in sections))
        incorrect = list(chain.from_iterable(s["incorrect"] for s in sections))
        sections.append({"section": "Total accuracy", "correct": correct, "incorrect": incorrect})
        n = len(correct) + len(incorrect)
        return (len(correct) / n if n else 0.0), sections

    # -- the word2vec C tool's file formats
    def save_word2vec_format(self, fname, binary: bool = False) -> None:
        """Write the C tool's format: a ``"V D"`` header line, then one word per line.

        Text: ``word v1 v2 ...`` with each float32 written by ``str`` (the shortest decimal
        that reads back to the same float32, as gensim writes), so text round-trips exactly.
        Binary: ``word``, a space, D little-endian float32 and a newline (word2vec.c's
        layout; gensim writes no newline but reads both).
        """
        vecs = np.asarray(self.vectors, dtype=np.float32)
        with open(fname, "wb") as f:
            f.write(f"{len(self.index_to_key)} {vecs.shape[1]}\n".encode())
            for word, row in zip(self.index_to_key, vecs):
                if binary:
                    f.write(word.encode("utf-8") + b" " + row.astype("<f4").tobytes() + b"\n")
                else:
                    f.write(f"{word} {' '.join(str(v) for v in row)}\n".encode())

    @classmethod
    def load_word2vec_format(cls, fname, binary: bool = False) -> KeyedVectors:
        """Read a file written by :meth:`save_word2vec_format`, word2vec.c or gensim."""
        with open(fname, "rb") as f:
            vocab_size, dim = (int(x) for x in f.readline().split())
            words, vectors = [], np.empty((vocab_size, dim), dtype=np.float32)
            if binary:
                data = f.read()
                pos, nbytes = 0, 4 * dim
                for i in range(vocab_size):
                    space = data.index(b" ", pos)
                    words.append(data[pos:space].decode("utf-8").lstrip("\n"))
                    start = space + 1
                    if len(data) - start < nbytes:
                        raise EOFError("unexpected end of input in word2vec binary file")
                    vectors[i] = np.frombuffer(data, dtype="<f4", count=dim, offset=start)
                    pos = start + nbytes
            else:
                for i in range(vocab_size):
                    parts = f.readline().decode("utf-8").rstrip().split(" ")
                    if len(parts) != dim + 1:
                        raise ValueError(f"line {i + 2}: expected a word and {dim} numbers")
                    words.append(parts[0])
                    vectors[i] = np.array(parts[1:], dtype=np.float32)
        return cls(words, vectors)


# ---------------------------------------------------------------- the model
class Word2Vec(Module):
    """Skip-gram / CBOW word vectors trained with negative sampling (gensim 4's interface).

    Args (as gensim's):
        sentences: an iterable of lists of words; if given (or ``corpus_file``), the
            vocabulary is built and the model trained at once.
        corpus_file: a text file, one sentence per line, words separated by spaces.
        vector_size: D.  window: the largest distance between center and context word.
        min_count: words rarer than this are dropped.  max_vocab_size: keep only the
            most frequent words (None: no limit).
        sg: 1 skip-gram, 0 CBOW.  cbow_mean: CBOW averages (1) or sums (0) the context.
        negative: negatives per example.  ns_exponent: exponent of the sampling distribution.
        sample: subsampling threshold (0 disables).  epochs: passes over the corpus.
        alpha, min_alpha: learning rate, decayed linearly from alpha to min_alpha.
        batch_words: words per chunk (one learning rate per chunk).
        seed: seeds the initialisation and every random draw.  workers: accepted, ignored.
        shrink_windows: draw a window size in [1, window] for each center word.
    Args (chainrule's):
        batch_size: examples per SGD step (a minibatch is cut from a chunk's examples).
        sparse: update only the rows used (default) or train through ``optim.SGD``.

    Shape of ``forward(center, context, negatives, context_mask=None)``: skip-gram center
    (B,), context (B,), negatives (B, K) -> a 0-d loss (sum over the batch); CBOW context
    (B, C) with a (B, C) 0/1 mask.

    Example:
        >>> model = Word2Vec([["a", "b", "c"]] * 20, vector_size=8, min_count=1, epochs=1)
        >>> model.wv["a"].shape
        (8,)
    """

    def __init__(
        self,
        sentences: Iterable[Sequence[str]] | None = None,
        corpus_file=None,
        vector_size: int = 100,
        window: int = 5,
        min_count: int = 5,
        sg: int = 1,
        negative: int = 5,
        ns_exponent: float = 0.75,
        sample: float = 1e-3,
        epochs: int = 5,
        alpha: float = 0.025,
        min_alpha: float = 0.0001,
        batch_words: int = 10000,
        seed: int = 1,
        workers: int = 1,
        max_vocab_size: int | None = None,
        shrink_windows: bool = True,
        cbow_mean: int = 1,
        batch_size: int = 1024,
        sparse: bool = True,
    ):
        super().__init__()
        if negative < 1:
            raise ValueError("only negative sampling is implemented: negative must be >= 1")
        self.vector_size, self.window, self.min_count = vector_size, window, min_count
        self.sg, self.cbow_mean, self.negative = int(sg), int(cbow_mean), negative
        self.ns_exponent, self.sample, self.epochs = ns_exponent, sample, epochs
        self.alpha, self.min_alpha, self.batch_words = alpha, min_alpha, batch_words
        self.seed, self.workers, self.max_vocab_size = seed, workers, max_vocab_size
        self.shrink_windows, self.batch_size, self.sparse = shrink_windows, batch_size, sparse
        self.index_to_key: list[str] = []
        self.key_to_index: dict[str, int] = {}
        self.counts = np.zeros(0, dtype=np.int64)
        self.keep_prob = np.zeros(0)
        self.neg_cdf = np.zeros(0)
        self.corpus_total_words = 0
        self.loss_history: list[float] = []  # mean loss per example, one entry per chunk
        self.train_seconds = 0.0
        self._rng = np.random.default_rng(seed)
        self._kv: KeyedVectors | None = None
        self.in_embed = Embedding(1, vector_size)
        self.out_embed = Embedding(1, vector_size)
        if corpus_file is not None:
            sentences = _LineSentences(corpus_file)
        if sentences is not None:
            self.build_vocab(sentences)
            self.train(sentences, total_examples=self.corpus_count, epochs=self.epochs)

    # ------------------------------------------------------------ vocabulary
    def build_vocab(self, sentences: Iterable[Sequence[str]]) -> None:
        """Count words, keep those with count >= min_count (sorted as gensim does), compute
        the subsampling keep-probabilities and the negative-sampling distribution, and
        initialise the two tables."""
        counts: Counter = Counter()
        self.corpus_count = 0
        for s in sentences:
            counts.update(s)
            self.corpus_count += 1
        self.corpus_total_words = int(sum(counts.values()))
        words = list(counts)  # first-appearance order (Counter keeps insertion order)
        c = np.array([counts[w] for w in words], dtype=np.int64)
        keep = np.flatnonzero(c >= self.min_count)
        # gensim 4's sort_by_descending_frequency: lexsort((-first_seen, -count))
        order = keep[np.lexsort((-keep, -c[keep]))]
        if self.max_vocab_size is not None:
            order = order[: self.max_vocab_size]
        self.index_to_key = [words[i] for i in order]
        self.key_to_index = {w: i for i, w in enumerate(self.index_to_key)}
        self.counts = c[order]
        if len(self.counts) == 0:
            raise RuntimeError("you must first build vocabulary before training the model")
        self.keep_prob = subsample_keep_prob(self.counts, self.sample)
        self.neg_probs = negative_sampling_probs(self.counts, self.ns_exponent)
        self.neg_cdf = np.cumsum(self.neg_probs)
        self.neg_cdf[-1] = 1.0
        V, D = len(self.index_to_key), self.vector_size
        self.in_embed = Embedding(V, D)
        self.out_embed = Embedding(V, D)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """word2vec.c's init: input vectors uniform in [-0.5/D, 0.5/D], output vectors 0."""
        rng = np.random.default_rng(self.seed)
        V, D = self.in_embed.weight.shape
        with no_grad():
            self.in_embed.weight.data[...] = (rng.random((V, D)) - 0.5) / D
            self.out_embed.weight.data[...] = 0.0
        self._kv = None

    @property
    def wv(self) -> KeyedVectors:
        """The input vectors as :class:`KeyedVectors` (sharing the table: stays current)."""
        table = self.in_embed.weight.data
        if self._kv is None or self._kv.vectors is not table:
            self._kv = KeyedVectors(self.index_to_key, table)
        return self._kv

    # ------------------------------------------------------------ the network
    def forward(self, center, context, negatives, context_mask=None) -> Tensor:
        """The summed negative-sampling loss of a batch (see :func:`negative_sampling_loss`).

        Skip-gram: ``in_embed(center)`` predicts ``out_embed(context)``. CBOW (``context``
        (B, C) with ``context_mask``): the context's mean predicts ``out_embed(center)``.
        """
        center, context, negatives = _as_index(center), _as_index(context), _as_index(negatives)
        if context_mask is None:
            v, target = self.in_embed(center), self.out_embed(context)
        else:
            v = cbow_hidden(self.in_embed(context), _as_float(context_mask), bool(self.cbow_mean))
            target = self.out_embed(center)
        return negative_sampling_loss(v, target, self.out_embed(negatives))

    # ------------------------------------------------------------ batches
    def _encode(self, sentences: Iterable[Sequence[str]]) -> tuple[np.ndarray, np.ndarray, int]:
        """Vocabulary indices of all words (OOV dropped), their sentence ids, raw word count."""
        k2i = self.key_to_index
        ids, sent, raw = [], [], 0
        for n, s in enumerate(sentences):
            raw += len(s)
            row = [k2i[w] for w in s if w in k2i]
            ids.extend(row)
            sent.extend([n] * len(row))
        return np.array(ids, dtype=np.int64), np.array(sent, dtype=np.int64), raw

    def _draw_negatives(self, positives: np.ndarray) -> np.ndarray:
        """(B, K) draws from P(w) ~ count^ns_exponent; draws equal to the positive are redrawn."""
        rng, cdf = self._rng, self.neg_cdf
        neg = np.searchsorted(cdf, rng.random((len(positives), self.negative)), side="right")
        np.minimum(neg, len(cdf) - 1, out=neg)
        for _ in range(10):  # rare after the first pass; bounded for a one-word vocabulary
            clash = neg == positives[:, None]
            if not clash.any() or len(cdf) == 1:
                break
            redraw = np.searchsorted(cdf, rng.random(int(clash.sum())), side="right")
            neg[clash] = np.minimum(redraw, len(cdf) - 1)
        return neg

    def subsample(self, ids: np.ndarray, sent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Drop each occurrence of word w with probability 1 - keep_prob[w] (one array op)."""
        if not self.sample:
            return ids, sent
        kept = self._rng.random(len(ids)) < self.keep_prob[ids]
        return ids[kept], sent[kept]

    def make_examples(self, ids: np.ndarray, sent: np.ndarray):
        """Training examples of one chunk, vectorised: subsample, draw windows, pair up.

        Returns skip-gram ``(center, context)`` or CBOW ``(center, context, mask)`` arrays.
        """
        rng = self._rng
        ids, sent = self.subsample(ids, sent)
        n, W = len(ids), self.window
        if self.shrink_windows:
            b = rng.integers(1, W + 1, size=n)  # this center's window, uniform in [1, W]
        else:
            b = np.full(n, W)
        if self.sg:
            centers, contexts = [], []
            for o in range(1, W + 1):
                same = sent[o:] == sent[:-o] if o < n else np.zeros(0, bool)
                fwd = np.flatnonzero(same & (b[:-o] >= o))  # center i, context i + o
                bwd = np.flatnonzero(same & (b[o:] >= o)) + o  # center i + o, context i
                centers += [fwd, bwd]
                contexts += [fwd + o, bwd - o]
            pos_c = np.concatenate(centers)
            pos_o = np.concatenate(contexts)
            order = np.argsort(pos_c, kind="stable")  # text order
            return ids[pos_c[order]], ids[pos_o[order]]
        # CBOW: one example per center, its context words in a (n, 2W) padded matrix
        context = np.zeros((n, 2 * W), dtype=np.int64)
        mask = np.zeros((n, 2 * W), dtype=np.float32)
        pos = np.arange(n)
        for col, o in enumerate([o for o in range(-W, W + 1) if o != 0]):
            j = pos + o
            inside = (j >= 0) & (j < n)
            jj = np.where(inside, j, 0)
            valid = inside & (sent[jj] == sent) & (b >= abs(o))
            context[valid, col] = ids[jj[valid]]
            mask[valid, col] = 1.0
        has = mask.sum(1) > 0
        return ids[has], context[has], mask[has]

    # ------------------------------------------------------------ training
    def train(
        self,
        sentences: Iterable[Sequence[str]] | None = None,
        total_examples: int | None = None,
        epochs: int | None = None,
        corpus_file=None,
        total_words: int | None = None,
        start_alpha: float | None = None,
        end_alpha: float | None = None,
    ) -> tuple[int, int]:
        """Train for ``epochs`` passes; returns (effective words, raw words) like gensim.

        The learning rate falls linearly from ``alpha`` to ``min_alpha`` over all the raw
        words of all epochs. ``total_examples`` is accepted for gensim compatibility.
        """
        if corpus_file is not None:
            sentences = _LineSentences(corpus_file)
        if sentences is None:
            raise ValueError("train() needs sentences or corpus_file")
        if not self.index_to_key:
            raise RuntimeError("you must first build vocabulary before training the model")
        epochs = self.epochs if epochs is None else epochs
        alpha0 = self.alpha if start_alpha is None else start_alpha
        alpha1 = self.min_alpha if end_alpha is None else end_alpha
        ids, sent, raw = self._encode(sentences)
        total = max(1, (total_words or raw) * epochs)
        raw_per_id = raw / max(1, len(ids))  # raw words (OOV included) per in-vocab word
        optimizer = None
        if not self.sparse:
            optimizer = SGD(self.parameters(), lr=alpha0)
        t0 = time.perf_counter()
        effective = 0
        for epoch in range(epochs):
            done = epoch * raw
            for start in range(0, len(ids), self.batch_words):
                stop = min(start + self.batch_words, len(ids))
                progress = (done + start * raw_per_id) / total
                lr = alpha0 - (alpha0 - alpha1) * progress
                lr = max(lr, alpha1)
                examples = self.make_examples(ids[start:stop], sent[start:stop])
                effective += stop - start
                self._train_chunk(examples, lr, optimizer)
        self.train_seconds = time.perf_counter() - t0
        self._kv = None
        return effective, raw * epochs

    def _train_chunk(self, examples, lr: float, optimizer) -> None:
        n = len(examples[0])
        if n == 0:
            return
        loss_sum = 0.0
        for s in range(0, n, self.batch_size):
            batch = [a[s : s + self.batch_size] for a in examples]
            target = batch[1] if self.sg else batch[0]
            negatives = self._draw_negatives(target)
            loss_sum += self.training_step(
                *batch[:2], negatives, None if self.sg else batch[2], lr, optimizer
            )
        self.loss_history.append(loss_sum / n)

    def training_step(self, center, context, negatives, context_mask, lr, optimizer=None):
        """One SGD step on a batch; returns the summed loss. Sparse: see the module notes."""
        if not self.sparse:
            optimizer.param_groups[0]["lr"] = lr
            optimizer.zero_grad()
            loss = self(center, context, negatives, context_mask)
            loss.backward()
            optimizer.step()
            return float(loss.item())
        W_in, W_out = self.in_embed.weight.data, self.out_embed.weight.data
        in_idx = center if self.sg else context
        out_idx = context if self.sg else center
        # gather with numpy; the gathered vectors are the leaves autograd differentiates
        v_in = Tensor._make(W_in[in_idx]).requires_grad_(True)  # (B, D) or CBOW (B, C, D)
        target = Tensor._make(W_out[out_idx]).requires_grad_(True)  # (B, D)
        u_neg = Tensor._make(W_out[negatives]).requires_grad_(True)  # (B, K, D)
        if self.sg:
            v = v_in
        else:
            v = cbow_hidden(v_in, _as_float(context_mask), bool(self.cbow_mean))
        loss = negative_sampling_loss(v, target, u_neg)
        loss.backward()
        # explicit sparse SGD: add up the gradients of each row used, update only those rows
        D = W_in.shape[1]
        rows, g = _scatter_rows(in_idx.ravel(), v_in.grad.data.reshape(-1, D))
        W_in[rows] -= lr * g
        out_all = np.concatenate([out_idx.ravel(), negatives.ravel()])
        out_grad = np.concatenate([target.grad.data, u_neg.grad.data.reshape(-1, D)])
        rows, g = _scatter_rows(out_all, out_grad)
        W_out[rows] -= lr * g
        return float(loss.item())

    def extra_repr(self) -> str:
        return (
            f"vocab={len(self.index_to_key)}, vector_size={self.vector_size}, "
            f"{'sg' if self.sg else 'cbow'}, window={self.window}, negative={self.negative}"
        )


def subsample_keep_prob(counts: np.ndarray, sample: float) -> np.ndarray:
    """gensim's keep probability: t = sample * sum(counts); min(1, (sqrt(f/t) + 1) * t / f).

    (``sample >= 1`` is gensim's shorthand t = sample * (3 + sqrt 5) / 2; 0 keeps all.)
    """
    counts = np.asarray(counts, dtype=np.float64)
    if not sample:
        return np.ones_like(counts)
    t = sample * counts.sum() if sample < 1.0 else int(sample * (3 + math.sqrt(5)) / 2)
    return np.minimum(1.0, (np.sqrt(counts / t) + 1) * t / counts)


def negative_sampling_probs(counts: np.ndarray, ns_exponent: float = 0.75) -> np.ndarray:
    """P(w) = count(w)^ns_exponent / sum_v count(v)^ns_exponent."""
    p = np.asarray(counts, dtype=np.float64) ** ns_exponent
    return p / p.sum()


def _as_index(a) -> Tensor:
    return a if isinstance(a, Tensor) else Tensor._make(np.asarray(a, dtype=np.int64))


def _as_float(a) -> Tensor:
    return a if isinstance(a, Tensor) else Tensor._make(np.asarray(a, dtype=np.float32))


class _LineSentences:
    """A corpus file, one sentence per line, words separated by whitespace (re-iterable)."""

    def __init__(self, path):
        self.path = path

    def __iter__(self):
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                words = line.split()
                if words:
                    yield words


# ---------------------------------------------------------------- corpus-derived benchmark
def corpus_similarity_pairs(
    sentences: Sequence[Sequence[str]],
    window: int = 5,
    min_count: int = 20,
    skip_top: int = 50,
    min_cooccur: int = 5,
    n_pairs: int = 2000,
    seed: int = 0,
) -> list[tuple[str, str, float]]:
    """A word-pair similarity set scored by PMI on the corpus itself (deterministic).

    Words: those with count >= ``min_count``, minus the ``skip_top`` most frequent (function
    words, whose PMI is flat). Co-occurrence C(a, b): how often a and b are within ``window``
    positions in one sentence (both orders counted; no subsampling, no dynamic window).
    PMI(a, b) = log(C(a, b) * N / (C(a) C(b))), with C(a) = sum_b C(a, b) and N = sum C.
    Pairs with C(a, b) >= ``min_cooccur`` (so PMI is estimated from a few counts at least)
    are sampled, ``n_pairs`` of them without replacement by a seeded generator, and
    returned as ``(a, b, pmi)`` sorted by (a, b).
    """
    counts = Counter(chain.from_iterable(sentences))
    ranked = sorted(counts, key=lambda w: (-counts[w], w))
    chosen = [w for w in ranked[skip_top:] if counts[w] >= min_count]
    index = {w: i for i, w in enumerate(chosen)}
    ids, sent = [], []
    for n, s in enumerate(sentences):
        row = [index.get(w, -1) for w in s]
        ids.extend(row)
        sent.extend([n] * len(row))
    ids, sent = np.array(ids), np.array(sent)
    m = len(chosen)
    codes = []
    for o in range(1, window + 1):
        a, b = ids[:-o], ids[o:]
        ok = (sent[:-o] == sent[o:]) & (a >= 0) & (b >= 0)
        codes += [a[ok] * m + b[ok], b[ok] * m + a[ok]]
    code, c_ab = np.unique(np.concatenate(codes), return_counts=True)
    a_idx, b_idx = code // m, code % m
    row_tot = np.bincount(a_idx, weights=c_ab, minlength=m)
    total = c_ab.sum()
    pmi = np.log(c_ab * total / (row_tot[a_idx] * row_tot[b_idx]))
    pick = np.flatnonzero((a_idx < b_idx) & (c_ab >= min_cooccur))
    rng = np.random.default_rng(seed)
    if len(pick) > n_pairs:
        pick = np.sort(rng.choice(pick, n_pairs, replace=False))
    return [(chosen[a_idx[i]], chosen[b_idx[i]], float(pmi[i])) for i in pick]


def write_word_pairs(pairs: Iterable[tuple[str, str, float]], path, comment: str = "") -> Path:
    """Write pairs in the wordsim353 format read by ``evaluate_word_pairs`` (gensim's too)."""
    path = Path(path)
    with open(path, "w", encoding="utf-8") as f:
        if comment:
            f.write(f"# {comment}\n")
        for a, b, score in pairs:
            f.write(f"{a}\t{b}\t{score:.6f}\n")
    return path


# ---------------------------------------------------------------- recipe entry point
def train_shakespeare_word2vec(
    path,
    out_dir=None,
    epochs: int = 5,
    seed: int = 1,
    fast: bool = False,
    **kwargs,
) -> dict[str, Any]:
    """Train skip-gram vectors on tiny Shakespeare and score them on the PMI benchmark.

    Words are ``[a-z']+`` of the lowercased text, one sentence per non-empty line.
    ``fast`` trains 50-d vectors for at most 2 epochs. Writes ``word2vec.safetensors``
    (the state_dict), ``vectors.txt`` (word2vec text format) and ``pmi_pairs.txt`` into
    ``out_dir`` when given. Returns a summary dict (model, score, words/s, loss).
    """
    sentences = read_corpus(path)
    if fast:
        epochs = min(epochs, 2)
    params = {
        "vector_size": 50 if fast else 100,
        "window": 5,
        "min_count": 5,
        "sg": 1,
        "negative": 5,
        "sample": 1e-3,
        "seed": seed,
    }
    params.update(kwargs)
    model = Word2Vec(sentences, epochs=epochs, **params)
    raw = sum(len(s) for s in sentences)
    summary: dict[str, Any] = {
        "model": model,
        "vocab_size": len(model.index_to_key),
        "words_per_second": raw * epochs / max(model.train_seconds, 1e-9),
        "first_loss": model.loss_history[0],
        "last_loss": model.loss_history[-1],
    }
    pairs = corpus_similarity_pairs(sentences, window=params["window"], seed=0)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        os.makedirs(out, exist_ok=True)
        pair_file = write_word_pairs(pairs, out / "pmi_pairs.txt", "corpus-derived PMI pairs")
        chainrule.save(model.state_dict(), out / "word2vec.safetensors")
        model.wv.save_word2vec_format(out / "vectors.txt")
        summary["files"] = [out / "word2vec.safetensors", out / "vectors.txt", pair_file]
    sims = np.array([model.wv.similarity(a, b) for a, b, _ in pairs])
    summary["pmi_spearman"] = _spearman(sims, np.array([s for _, _, s in pairs]))[0]
    return summary
