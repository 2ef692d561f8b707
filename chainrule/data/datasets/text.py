"""Text corpora for language models: a vocabulary, encode/decode, and (x, y) batches.

Character level follows nanoGPT's ``shakespeare_char/prepare.py``: the vocabulary is the sorted
set of characters, the first 90% of the token stream is train and the last 10% val, and a batch
is ``batch_size`` random windows ``x = data[i:i+T]`` with targets ``y = data[i+1:i+T+1]``.
"""

from __future__ import annotations

import os
import re
from collections import Counter

import numpy as np

from chainrule.data.dataset import Dataset, _numpy_rng
from chainrule.tensor import Tensor

UNK = "<unk>"
# Words (letters, digits, apostrophes) or single punctuation marks; whitespace is dropped.
_WORD_RE = re.compile(r"[A-Za-z0-9']+|[^\sA-Za-z0-9']")


def _long(arr: np.ndarray, device=None) -> Tensor:
    t = Tensor._make(np.ascontiguousarray(arr, dtype=np.int64))
    return t if device is None else t.to(device)


class SequenceDataset(Dataset):
    """Windows of a token stream for next-token prediction: item ``i`` is ``(x, y)``.

    ``x = data[s : s + block_size]``, ``y = data[s + 1 : s + block_size + 1]`` with
    ``s = i * stride``; ``stride`` defaults to ``block_size`` (non-overlapping windows).
    Items are int64 Tensors (block_size,); a DataLoader batches them with one fancy-index.
    """

    def __init__(self, data, block_size: int, stride: int | None = None):
        self.data = np.asarray(data, dtype=np.int64)
        self.block_size = int(block_size)
        self.stride = int(stride) if stride is not None else self.block_size
        if self.block_size <= 0 or self.stride <= 0:
            raise ValueError("block_size and stride must be positive")
        if len(self.data) < self.block_size + 1:
            raise ValueError(
                f"SequenceDataset: {len(self.data)} tokens are too few for block_size "
                f"{self.block_size} (need at least block_size + 1)"
            )

    def __len__(self) -> int:
        return (len(self.data) - self.block_size - 1) // self.stride + 1

    def __getitem__(self, index: int):
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} windows")
        s = index * self.stride
        return _long(self.data[s : s + self.block_size]), _long(
            self.data[s + 1 : s + self.block_size + 1]
        )

    def _get_batch(self, indices):
        starts = np.asarray(indices, dtype=np.int64) * self.stride
        rows = starts[:, None] + np.arange(self.block_size)
        return [_long(self.data[rows]), _long(self.data[rows + 1])]


class TextCorpus:
    """A text, its vocabulary, and its token stream split into train and val.

    Args:
        source: a path to a text file (UTF-8), or the text itself (a string that is not an
            existing file path). ``text=`` forces the string to be the text.
        level: "char" (vocabulary: the sorted distinct characters, as nanoGPT) or "word"
            (tokens: runs of letters/digits/apostrophes and single punctuation marks; the
            vocabulary is sorted by decreasing count, then alphabetically).
        val_fraction: the last fraction of the token stream is the val split.
        lowercase: lower-case the text first.
        min_count: tokens seen fewer times become ``"<unk>"`` (id 0 when present).

    Attributes:
        stoi, itos, vocab_size, counts (occurrences per id), data (int64 token ids),
        train_data, val_data.

    Example:
        >>> corpus = TextCorpus("shared/data/tinyshakespeare/input.txt")
        >>> corpus.vocab_size, corpus.decode(corpus.encode("Hi"))
        (65, 'Hi')
        >>> x, y = corpus.batches("train", batch_size=4, block_size=8)   # (4, 8) int64 each
    """

    def __init__(
        self, source=None, level: str = "char", val_fraction: float = 0.1,
        lowercase: bool = False, min_count: int = 1, *, text: str | None = None,
    ):  # fmt: skip
        if level not in ("char", "word"):
            raise ValueError(f"level must be 'char' or 'word', got {level!r}")
        if not 0 <= val_fraction < 1:
            raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
        if text is None:
            if source is None:
                raise ValueError("TextCorpus: pass a file path or the text")
            if isinstance(source, os.PathLike) or (
                isinstance(source, str) and "\n" not in source and os.path.isfile(source)
            ):
                self.path = os.fspath(source)
                with open(self.path, encoding="utf-8") as f:
                    text = f.read()
            else:
                self.path = None
                text = source
        else:
            self.path = None
        if lowercase:
            text = text.lower()
        self.level = level
        self.lowercase = lowercase
        self.min_count = min_count
        self.val_fraction = val_fraction
        tokens = self.tokenize(text)
        counts = Counter(tokens)
        if level == "char":
            vocab = sorted(t for t, c in counts.items() if c >= min_count)
        else:
            kept = [(t, c) for t, c in counts.items() if c >= min_count]
            vocab = [t for t, _ in sorted(kept, key=lambda tc: (-tc[1], tc[0]))]
        n_unk = sum(c for t, c in counts.items() if c < min_count)
        if n_unk:
            vocab = [UNK] + vocab
        self.itos = vocab
        self.stoi = {t: i for i, t in enumerate(vocab)}
        self.counts = np.array(
            [n_unk if t == UNK and n_unk else counts[t] for t in vocab], dtype=np.int64
        )
        self.text = text
        self.data = self._ids(tokens)
        n = int(len(self.data) * (1 - val_fraction))
        self.train_data = self.data[:n]
        self.val_data = self.data[n:]

    @property
    def vocab_size(self) -> int:
        return len(self.itos)

    def tokenize(self, text: str) -> list[str]:
        """The tokens of ``text`` (characters, or words and punctuation)."""
        return list(text) if self.level == "char" else _WORD_RE.findall(text)

    def _ids(self, tokens) -> np.ndarray:
        unk = self.stoi.get(UNK)
        try:
            return np.fromiter((self.stoi[t] for t in tokens), dtype=np.int64, count=len(tokens))
        except KeyError:
            if unk is None:
                missing = sorted({t for t in tokens if t not in self.stoi})[:10]
                raise KeyError(f"tokens not in the vocabulary: {missing}") from None
            return np.array([self.stoi.get(t, unk) for t in tokens], dtype=np.int64)

    def encode(self, s: str) -> list[int]:
        """Token ids of ``s`` (unknown tokens -> ``<unk>`` when the vocabulary has it)."""
        if self.lowercase:
            s = s.lower()
        return self._ids(self.tokenize(s)).tolist()

    def decode(self, ids) -> str:
        """The text of a sequence of ids (words are joined by single spaces)."""
        if isinstance(ids, Tensor):
            ids = ids.tolist()
        ids = np.asarray(ids, dtype=np.int64).reshape(-1).tolist()
        sep = "" if self.level == "char" else " "
        return sep.join(self.itos[i] for i in ids)

    def split(self, split: str) -> np.ndarray:
        if split == "train":
            return self.train_data
        if split == "val":
            return self.val_data
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")

    def batches(self, split: str, batch_size: int, block_size: int, generator=None, device=None):
        """One random batch ``(x, y)`` of int64 Tensors (batch_size, block_size).

        Each row is a window starting at a uniform random offset; ``y`` is ``x`` shifted by one
        token (nanoGPT's ``get_batch``). ``generator``: chainrule or NumPy generator (global
        chainrule generator when None).
        """
        data = self.split(split)
        if len(data) <= block_size:
            raise ValueError(
                f"the {split} split has {len(data)} tokens, too few for block_size {block_size}"
            )
        ix = _numpy_rng(generator).integers(0, len(data) - block_size, size=batch_size)
        rows = ix[:, None] + np.arange(block_size)
        return _long(data[rows], device), _long(data[rows + 1], device)

    get_batch = batches

    def iter_batches(self, split, batch_size, block_size, num_batches, generator=None, device=None):
        """``num_batches`` random batches, one after the other."""
        for _ in range(num_batches):
            yield self.batches(split, batch_size, block_size, generator, device)

    def dataset(self, split: str, block_size: int, stride: int | None = None) -> SequenceDataset:
        """A :class:`SequenceDataset` of the split's windows (for a DataLoader)."""
        return SequenceDataset(self.split(split), block_size, stride)

    def __repr__(self) -> str:
        return (
            f"TextCorpus(level={self.level!r}, tokens={len(self.data)}, "
            f"vocab_size={self.vocab_size}, train={len(self.train_data)}, "
            f"val={len(self.val_data)})"
        )
