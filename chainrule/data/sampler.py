"""Samplers: the order in which a DataLoader visits a dataset's indices (PyTorch's classes).

Random samplers take ``generator=`` (a ``chainrule.Generator`` or a ``numpy.random.Generator``).
Each pass (``iter(sampler)``) draws a fresh 63-bit seed from that generator, or from the global
chainrule generator when it is None, and shuffles with a new NumPy generator built from it:
two passes give different orders, and re-seeding gives the same orders again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from chainrule.data.dataset import _numpy_rng


def _epoch_rng(generator) -> np.random.Generator:
    """A fresh NumPy generator seeded from ``generator`` (global when None)."""
    seed = int(_numpy_rng(generator).integers(0, 2**63 - 1))
    return np.random.default_rng(seed)


class Sampler:
    """Base class: ``__iter__`` yields indices, ``__len__`` says how many."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices each pass (or draws with replacement).

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw ``num_samples`` indices independently (with replacement).
        num_samples: how many indices per pass (default ``len(data_source)``); without
            replacement, more than the length concatenates several permutations.
        generator: source of the per-pass seed (global chainrule generator when None).
    """

    def __init__(self, data_source, replacement: bool = False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got {replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(
                f"num_samples should be a positive integer value, but got {self.num_samples}"
            )

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        rng = _epoch_rng(self.generator)
        if self.replacement:
            order = rng.integers(0, n, size=self.num_samples)
        else:
            full, rest = divmod(self.num_samples, n)
            parts = [rng.permutation(n) for _ in range(full)]
            parts.append(rng.permutation(n)[:rest])
            order = np.concatenate(parts)
        return iter(order.tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order (a new order each pass)."""

    def __init__(self, indices: Sequence[int], generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        perm = _epoch_rng(self.generator).permutation(len(self.indices))
        return (self.indices[i] for i in perm.tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """Indices 0..len(weights)-1 drawn with probability proportional to ``weights``.

    The usual cure for class imbalance: weight each sample by ``1 / count(its class)``.

    Example:
        >>> list(WeightedRandomSampler([0.1, 0.9, 0.4], 5, replacement=True))  # doctest: +SKIP
        [1, 1, 2, 1, 0]
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(
                f"num_samples should be a positive integer value, but got num_samples={num_samples}"
            )
        if not isinstance(replacement, bool):
            raise ValueError(
                f"replacement should be a boolean value, but got replacement={replacement}"
            )
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(
                f"weights should be a 1d sequence but given weights have shape {w.shape}"
            )
        if np.any(w < 0) or not np.all(np.isfinite(w)) or w.sum() <= 0:
            raise ValueError("weights must be finite, non-negative, and not all zero")
        if not replacement and num_samples > int(np.count_nonzero(w)):
            raise RuntimeError(
                "cannot sample num_samples > number of non-zero weights without replacement"
            )
        self.weights = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        rng = _epoch_rng(self.generator)
        p = self.weights / self.weights.sum()
        order = rng.choice(len(p), size=self.num_samples, replace=self.replacement, p=p)
        return iter(order.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    Example:
        >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        if self.drop_last:
            return n // self.batch_size
        return (n + self.batch_size - 1) // self.batch_size
