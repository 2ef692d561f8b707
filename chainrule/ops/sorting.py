"""Sorting and searching: sort, argsort, topk, unique, nonzero, count_nonzero.

The indices come from NumPy (not differentiable); the values are gathered from the input with
``take_along_dim``, so their gradient flows back to the positions they came from.
"""

from __future__ import annotations

from collections import namedtuple

from chainrule import dtypes
from chainrule.ops.common import normalize_dim
from chainrule.ops.indexing import take_along_dim
from chainrule.tensor import Tensor

SortResult = namedtuple("SortResult", ["values", "indices"])  # torch.return_types.sort
TopKResult = namedtuple("TopKResult", ["values", "indices"])


def _order(x: Tensor, dim: int, descending: bool, stable: bool):
    """Indices that sort x along dim (ties keep their order when ``stable``)."""
    xp = x._device.xp
    data = x.data
    if x.ndim == 0:
        return xp.zeros((), dtype=xp.int64)
    kind = "stable" if stable else None
    if descending:
        # NOTE: argsort of the negation would reorder ties and break bools/unsigned ints;
        # a stable ascending sort of the reversed array, reversed back, keeps ties in order.
        n = data.shape[dim]
        rev = xp.flip(data, axis=dim)
        idx = xp.argsort(rev, axis=dim, kind="stable")
        idx = (n - 1) - xp.flip(idx, axis=dim)
        return idx.astype(xp.int64)
    return xp.argsort(data, axis=dim, kind=kind).astype(xp.int64)


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """(values, indices) of x sorted along ``dim``; values are differentiable.

    Example:
        >>> chainrule.tensor([3.0, 1.0, 2.0]).sort()
        SortResult(values=tensor([1., 2., 3.]), indices=tensor([1, 2, 0]))
    """
    dim = normalize_dim(dim, x.ndim, "sort")
    idx = Tensor._make(_order(x, dim, descending, stable), x._device)
    if x.ndim == 0:
        return SortResult(x.clone(), idx)
    return SortResult(take_along_dim(x, idx, dim), idx)


def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort x along ``dim`` (int64, not differentiable)."""
    dim = normalize_dim(dim, x.ndim, "argsort")
    return Tensor._make(_order(x, dim, descending, stable), x._device)


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The ``k`` largest (or smallest) values along ``dim`` and their indices.

    Example:
        >>> chainrule.tensor([1.0, 5.0, 3.0]).topk(2)
        TopKResult(values=tensor([5., 3.]), indices=tensor([1, 2]))
    """
    dim = normalize_dim(dim, x.ndim, "topk")
    n = x.shape[dim] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: k ({k}) is out of range for dimension {dim} of size {n}")
    xp = x._device.xp
    order = _order(x, dim, descending=largest, stable=True)
    idx = order if x.ndim == 0 else xp.take(order, xp.arange(k), axis=dim)
    idx = Tensor._make(xp.ascontiguousarray(idx), x._device)
    values = x.clone() if x.ndim == 0 else take_along_dim(x, idx, dim)
    return TopKResult(values, idx)


def unique(
    x: Tensor,
    sorted: bool = True,  # noqa: A002
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
):
    """The distinct values of x (flattened, or distinct slices along ``dim``), sorted; with
    ``return_inverse`` the index of each element's value, with ``return_counts`` how often each
    occurs. Not differentiable."""
    xp = x._device.xp
    axis = None if dim is None else normalize_dim(dim, x.ndim, "unique")
    out = xp.unique(x.data, return_inverse=return_inverse, return_counts=return_counts, axis=axis)
    if not (return_inverse or return_counts):
        return Tensor._make(out, x._device)
    values, *rest = out
    result = [Tensor._make(values, x._device)]
    if return_inverse:
        inverse = rest.pop(0)
        shape = x.data.shape if axis is None else (x.data.shape[axis],)
        result.append(Tensor._make(inverse.reshape(shape).astype(xp.int64), x._device))
    if return_counts:
        result.append(Tensor._make(rest.pop(0).astype(xp.int64), x._device))
    return tuple(result)


def nonzero(x: Tensor, as_tuple: bool = False):
    """Indices of the non-zero elements: an (n, x.ndim) int64 tensor, or a tuple of x.ndim
    index tensors with ``as_tuple=True`` (usable as ``x[...]``)."""
    xp = x._device.xp
    data = x.data if x.ndim else x.data.reshape(1)
    where = xp.nonzero(data)
    if as_tuple:
        return tuple(Tensor._make(w.astype(xp.int64), x._device) for w in where)
    return Tensor._make(xp.stack(where, axis=1).astype(xp.int64), x._device)


def count_nonzero(x: Tensor, dim=None) -> Tensor:
    """The number of non-zero elements (over ``dim``, an int or a tuple)."""
    xp = x._device.xp
    axis = dim if dim is None else (dim if isinstance(dim, int) else tuple(dim))
    return Tensor._make(xp.asarray(xp.count_nonzero(x.data, axis=axis), dtype=xp.int64), x._device)


def argwhere(x: Tensor) -> Tensor:
    """The indices of the non-zero elements, one row each: (n, x.ndim) int64."""
    return nonzero(x)


def searchsorted(
    sorted_sequence: Tensor, values, *, right: bool = False, side: str | None = None
) -> Tensor:
    """Where ``values`` would be inserted into the (last dim of the) sorted sequence to keep it
    sorted: the first such index, or the last with ``right=True`` / ``side='right'``."""
    xp = sorted_sequence._device.xp
    seq = sorted_sequence.data
    vals = values.data if isinstance(values, Tensor) else xp.asarray(values)
    s = side or ("right" if right else "left")
    if seq.ndim == 1:
        out = xp.searchsorted(seq, vals, side=s)
    else:
        lead = seq.shape[:-1]
        flat_seq = seq.reshape(-1, seq.shape[-1])
        flat_vals = vals.reshape(flat_seq.shape[0], -1)
        out = xp.stack([xp.searchsorted(r, v, side=s) for r, v in zip(flat_seq, flat_vals)])
        out = out.reshape(lead + vals.shape[len(lead) :])
    return Tensor._make(xp.asarray(out, dtype=xp.int64), sorted_sequence._device)


def bincount(x: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value 0..max occurs in the 1-D non-negative int tensor x (weighted)."""
    xp = x._device.xp
    if x.ndim != 1 or x.data.dtype.kind not in "iu":
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    w = None if weights is None else weights.data
    out = xp.bincount(x.data, weights=w, minlength=minlength)
    if w is None:
        out = out.astype(xp.int64)
    return Tensor._make(out, x._device)


def histc(x: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """Counts of x's elements in ``bins`` equal bins over [min, max] (the data's own range
    when min == max); elements outside are ignored. The counts have x's dtype."""
    xp = x._device.xp
    data = x.data.reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi and data.size:
        lo, hi = float(data.min()), float(data.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"histc: max ({hi}) must be larger than min ({lo})")
    counts, _ = xp.histogram(data, bins=int(bins), range=(lo, hi))
    return Tensor._make(counts.astype(x.data.dtype), x._device)


def msort(x: Tensor) -> Tensor:
    """x sorted along dim 0 (the values of ``sort(x, dim=0)``)."""
    return sort(x, dim=0).values


def bucketize(x, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each value of x among the sorted 1-D ``boundaries``: i with
    b[i-1] < v <= b[i] (``right=True``: b[i-1] <= v < b[i])."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    if not isinstance(x, Tensor):
        x = Tensor._make(boundaries._device.xp.asarray(x), boundaries._device)
    out = searchsorted(boundaries, x, right=right)
    return out.to(dtypes.int32) if out_int32 else out


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """True where an element of ``elements`` occurs in ``test_elements`` (either may be a
    number)."""
    ref = elements if isinstance(elements, Tensor) else test_elements
    xp = ref._device.xp
    a = elements.data if isinstance(elements, Tensor) else xp.asarray(elements)
    b = test_elements.data if isinstance(test_elements, Tensor) else xp.asarray(test_elements)
    found = xp.isin(a, b, assume_unique=assume_unique, invert=invert)
    return Tensor._make(xp.asarray(found), ref._device)


def unique_consecutive(
    x: Tensor, return_inverse: bool = False, return_counts: bool = False, dim: int | None = None
):
    """x with each run of equal consecutive values (along ``dim``, or of the flattened x)
    collapsed to one, plus the run number of every element and the run lengths if asked."""
    xp = x._device.xp
    if dim is None:
        flat = x.data.reshape(-1)
        change = flat[1:] != flat[:-1]
        shape_inverse = x.shape
    else:
        axis = normalize_dim(dim, x.ndim, "unique_consecutive")
        moved = xp.moveaxis(x.data, axis, 0).reshape(x.shape[axis], -1)
        flat = moved
        change = (moved[1:] != moved[:-1]).any(axis=1)
        shape_inverse = (x.shape[axis],)
    n = flat.shape[0]
    starts = xp.flatnonzero(xp.concatenate([xp.ones(min(n, 1), bool), change]))
    if dim is None:
        values = Tensor._make(flat[starts], x._device)
    else:
        picked = xp.take(x.data, starts, axis=axis)
        values = Tensor._make(picked, x._device)
    out = [values]
    if return_inverse:
        run = xp.cumsum(xp.concatenate([xp.zeros(min(n, 1), xp.int64), change]))
        out.append(Tensor._make(run.astype(xp.int64).reshape(shape_inverse), x._device))
    if return_counts:
        counts = xp.diff(xp.concatenate([starts, xp.asarray([n])])).astype(xp.int64)
        out.append(Tensor._make(counts, x._device))
    return out[0] if len(out) == 1 else tuple(out)
