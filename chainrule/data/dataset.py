"""Datasets: anything with ``__getitem__`` and ``__len__`` (map-style) or ``__iter__`` (iterable).

As in ``torch.utils.data``: :class:`Dataset` is the map-style base class, :class:`TensorDataset`
wraps tensors that share their first dimension, :class:`Subset`, :class:`ConcatDataset` and
:func:`random_split` combine and split datasets.

A dataset may also define ``_get_batch(indices) -> batch``: the already-collated batch for an
array of indices, built with one fancy-index per array. ``DataLoader`` uses it (when the collate
function is the default) instead of one Python call per sample; it must return exactly what
``default_collate([dataset[i] for i in indices])`` would.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

import numpy as np

from chainrule.random import Generator
from chainrule.tensor import Tensor


class Dataset:
    """A map-style dataset: ``dataset[i]`` is the i-th sample, ``len(dataset)`` their number.

    Subclasses override ``__getitem__`` (and ``__len__``, which samplers need).
    ``dataset_a + dataset_b`` concatenates.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream: override ``__iter__``.

    With ``num_workers > 0`` every worker iterates its own copy; use
    :func:`chainrule.data.get_worker_info` inside ``__iter__`` to give each worker its share.
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Iterable datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)

    def __iter__(self):
        for d in self.datasets:
            yield from d


def _as_batchable(index):
    """Indices as an int64 array for fancy indexing."""
    return np.asarray(index, dtype=np.int64)


class TensorDataset(Dataset):
    """Samples are tuples ``(t[i] for t in tensors)``; all tensors share their first dimension.

    Accepts Tensors or NumPy arrays (kept as Tensors). A DataLoader over it with the default
    collate builds each batch with one fancy-index per tensor.

    Example:
        >>> ds = TensorDataset(chainrule.randn(100, 3), chainrule.arange(100))
        >>> x, y = ds[0]
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        tensors = tuple(
            t if isinstance(t, Tensor) else Tensor._make(np.asarray(t)) for t in tensors
        )
        n = tensors[0].shape[0] if tensors[0].ndim else None
        for t in tensors:
            if t.ndim == 0 or t.shape[0] != n:
                raise ValueError(
                    "Size mismatch between tensors: every tensor needs the same first dimension, "
                    f"got shapes {[tuple(x.shape) for x in tensors]}"
                )
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def _get_batch(self, indices):
        out = []
        for t in self.tensors:
            idx = _as_batchable(indices)
            if t.device.type != "cpu":
                idx = t.device.xp.asarray(idx)
            out.append(Tensor._make(t.data[idx], t.device))
        return out


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self) -> int:
        return len(self.indices)

    def __getattr__(self, name):
        # Only the fast path is forwarded, and only when the wrapped dataset has one.
        if name == "_get_batch" and hasattr(self.dataset, "_get_batch"):
            base = np.asarray(self.indices, dtype=np.int64)
            inner = self.dataset._get_batch
            return lambda indices: inner(base[_as_batchable(indices)])
        raise AttributeError(name)


class ConcatDataset(Dataset):
    """Datasets one after the other: index ``i`` goes to the dataset whose range holds it."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        k = bisect.bisect_right(self.cumulative_sizes, idx)
        start = 0 if k == 0 else self.cumulative_sizes[k - 1]
        return self.datasets[k][idx - start]


def _numpy_rng(generator) -> np.random.Generator:
    """The NumPy generator behind a chainrule Generator, a NumPy Generator, or None (global)."""
    if generator is None:
        from chainrule.random import default_generator

        return default_generator.rng
    if isinstance(generator, Generator):
        return generator.rng
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(
        "generator must be a chainrule.Generator or a numpy.random.Generator, "
        f"got {type(generator).__name__}"
    )


def random_split(dataset: Dataset, lengths, generator=None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    ``lengths`` are sizes summing to ``len(dataset)``, or fractions summing to 1: each subset
    then gets ``floor(fraction * n)`` samples and the remainder is handed out one by one,
    round-robin from the first subset (PyTorch's rule).

    Example:
        >>> train, val = random_split(range(10), [0.8, 0.2], generator=chainrule.Generator())
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = []
        for frac in lengths:
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {len(sizes)} is not between 0 and 1")
            sizes.append(int(math.floor(n * frac)))
        remainder = n - sum(sizes)
        for i in range(remainder):
            sizes[i % len(sizes)] += 1
        lengths = sizes
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    perm = _numpy_rng(generator).permutation(n).tolist()
    out, offset = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[offset : offset + length]))
        offset += length
    return out
