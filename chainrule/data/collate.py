"""``default_collate``: a list of samples -> one batch (PyTorch's rules).

By the type of the first sample, recursively:

* Tensor, NumPy array -> stacked along a new first axis, dtype kept (float64 stays float64);
* NumPy scalar -> 1-D tensor of its dtype;
* Python float -> float64 tensor; int -> int64; bool -> bool (PyTorch's dtypes);
* str / bytes -> the list unchanged;
* dict (Mapping) -> dict of collated values; namedtuple -> namedtuple of collated fields;
* tuple / list -> a **list** of collated fields (tuples become lists, as in PyTorch).
"""

from __future__ import annotations

import collections.abc

import numpy as np

from chainrule import dtypes
from chainrule.tensor import Tensor

_ERR = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _from_numpy(arr: np.ndarray) -> Tensor:
    dtypes.from_numpy(arr.dtype)  # raises for dtypes chainrule does not support
    return Tensor._make(arr)


def default_collate(batch):
    """Collate a list of samples into a batch (see the module docstring for the rules).

    Example:
        >>> b = default_collate([(np.zeros(3), 1), (np.ones(3), 2)])
        >>> b[0].shape, b[1].dtype
        ((2, 3), chainrule.int64)
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        dev = elem.device
        xp = dev.xp
        return Tensor._make(xp.stack([b.data for b in batch]), dev)
    if isinstance(elem, np.ndarray | np.generic) and not isinstance(elem, np.str_ | np.bytes_):
        if elem.dtype.char in "SaUO":
            raise TypeError(_ERR.format(elem.dtype))
        return _from_numpy(np.stack([np.asarray(b) for b in batch]))
    if isinstance(elem, float):
        return Tensor._make(np.array(batch, dtype=np.float64))
    if isinstance(elem, bool):
        return Tensor._make(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return Tensor._make(np.array(batch, dtype=np.int64))
    if isinstance(elem, str | bytes):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        out = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(out)
        except TypeError:
            return out
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = [list(s) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return [default_collate(s) for s in transposed]
        try:
            return type(elem)([default_collate(s) for s in transposed])
        except TypeError:
            return [default_collate(s) for s in transposed]
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data):
    """Turn NumPy arrays inside ``data`` into Tensors (used when ``batch_size=None``)."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray | np.generic) and not isinstance(data, np.str_ | np.bytes_):
        if data.dtype.char in "SaUO":
            return data
        return _from_numpy(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        out = {k: default_convert(v) for k, v in data.items()}
        try:
            return type(data)(out)
        except TypeError:
            return out
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, str | bytes):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
