"""Tensor factories: ``zeros``, ``ones``, ``arange``, ``randn``... with PyTorch's signatures.

Random factories draw from a seeded NumPy generator (the global one unless ``generator=`` is
given) on the CPU and move the result to the target device.
"""

from __future__ import annotations

import numpy as np

from chainrule import dtypes
from chainrule.backend import device as _parse_device
from chainrule.backend import to_device
from chainrule.random import rng
from chainrule.tensor import Tensor, _shape_args, tensor


def _finish(arr: np.ndarray, dtype, device, requires_grad: bool) -> Tensor:
    dt = dtypes.get(dtype)
    dev = _parse_device(device)
    arr = arr.astype(dt.np, copy=False)
    t = Tensor._make(to_device(arr, dev) if dev.type != "cpu" else arr, dev)
    if requires_grad:
        t.requires_grad = True
    return t


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array of the same dtype and device."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    if isinstance(data, np.ndarray) and (dtype is None or dtypes.get(dtype).np == data.dtype):
        if device is None or _parse_device(device).type == "cpu":
            return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (same dtype; writes show through both ways)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    dtypes.from_numpy(array.dtype)  # raises for unsupported dtypes
    return Tensor._make(array)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.zeros(_shape_args(size), dtypes.get(dtype).np), dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.ones(_shape_args(size), dtypes.get(dtype).np), dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.empty(_shape_args(size), dtypes.get(dtype).np), dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from the value)."""
    if dtype is None:
        dtype = dtypes.infer(fill_value)
    return _finish(
        np.full(tuple(size), fill_value, dtypes.get(dtype).np), dtype, device, requires_grad
    )


def _like(t: Tensor, dtype, device):
    return (dtype if dtype is not None else t.dtype), (device if device is not None else t.device)


def zeros_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dt, dev = _like(t, dtype, device)
    return zeros(t.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dt, dev = _like(t, dtype, device)
    return ones(t.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def empty_like(t: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    dt, dev = _like(t, dtype, device)
    return empty(t.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def full_like(t: Tensor, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt, dev = _like(t, dtype, device)
    return full(t.shape, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values from start (inclusive) to end (exclusive) by step; int64 unless a float is given."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = dtypes.get_default_dtype() if is_float else dtypes.int64
    return _finish(np.arange(start, end, step), dtype, device, requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from start to end, both included."""
    return _finish(np.linspace(start, end, steps), dtype, device, requires_grad)


def logspace(start, end, steps: int, base=10.0, dtype=None, device=None) -> Tensor:
    return _finish(np.logspace(start, end, steps, base=base), dtype, device, False)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.eye(n, m), dtype, device, requires_grad)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """The (2, N) coordinates of the lower triangle (on and below diagonal ``offset``) of a
    row x col matrix, row by row."""
    return _finish(
        np.stack(np.tril_indices(row, offset, col)), dtype or dtypes.int64, device, False
    )


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """The (2, N) coordinates of the upper triangle (on and above diagonal ``offset``) of a
    row x col matrix, row by row."""
    return _finish(
        np.stack(np.triu_indices(row, offset, col)), dtype or dtypes.int64, device, False
    )


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform samples in [0, 1)."""
    return _finish(rng(generator).random(_shape_args(size)), dtype, device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples N(0, 1)."""
    return _finish(rng(generator).standard_normal(_shape_args(size)), dtype, device, requires_grad)


def randint(low, high=None, size=None, generator=None, dtype=None, device=None) -> Tensor:
    """Integers uniform in [low, high): ``randint(10, (3,))`` or ``randint(2, 10, (3,))``."""
    if size is None:
        if high is None or not isinstance(high, tuple | list):
            raise TypeError(
                "randint() needs a size: randint(high, size) or randint(low, high, size)"
            )
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    arr = rng(generator).integers(low, high, size=tuple(size))
    return _finish(arr, dtype if dtype is not None else dtypes.int64, device, False)


def rand_like(t: Tensor, generator=None, dtype=None, device=None) -> Tensor:
    dt, dev = _like(t, dtype, device)
    return rand(t.shape, generator=generator, dtype=dt, device=dev)


def randn_like(t: Tensor, generator=None, dtype=None, device=None) -> Tensor:
    dt, dev = _like(t, dtype, device)
    return randn(t.shape, generator=generator, dtype=dt, device=dev)


def randint_like(t: Tensor, low, high=None, generator=None, dtype=None, device=None) -> Tensor:
    dt, dev = _like(t, dtype, device)
    return randint(low, high, t.shape, generator=generator, dtype=dt, device=dev)


def randperm(n: int, generator=None, dtype=None, device=None) -> Tensor:
    """A random permutation of 0..n-1."""
    return _finish(rng(generator).permutation(n), dtype or dtypes.int64, device, False)


def normal(mean=0.0, std=1.0, size=None, generator=None, dtype=None, device=None) -> Tensor:
    if size is None:
        raise TypeError("normal(): this version needs float mean and std and a size")
    return _finish(rng(generator).normal(mean, std, tuple(size)), dtype, device, False)


def bernoulli(p: Tensor, generator=None) -> Tensor:
    """1 with probability p (elementwise), else 0."""
    u = rng(generator).random(p.shape)
    return _finish(u < np.asarray(p.detach().numpy()), p.dtype, p.device, False)


def multinomial(probs: Tensor, num_samples: int, replacement: bool = False, generator=None):
    """Sample indices from the rows of ``probs`` (non-negative weights), like torch.multinomial."""
    p = np.asarray(probs.detach().numpy(), dtype=np.float64)
    squeeze = p.ndim == 1
    p = np.atleast_2d(p)
    if np.any(p < 0) or np.any(~np.isfinite(p)) or np.any(p.sum(-1) <= 0):
        raise RuntimeError(
            "multinomial: probabilities must be finite, non-negative, with a positive sum per row"
        )
    g = rng(generator)
    p = p / p.sum(-1, keepdims=True)
    if replacement:
        # Inverse-CDF sampling, all rows at once.
        cdf = np.cumsum(p, axis=-1)
        u = g.random((p.shape[0], num_samples))
        out = np.minimum((u[:, :, None] > cdf[:, None, :]).sum(-1), p.shape[1] - 1)
    else:
        if num_samples > p.shape[1]:
            raise RuntimeError(
                "multinomial: cannot sample more than the number of categories without replacement"
            )
        # Gumbel top-k: sampling without replacement proportional to p, vectorised.
        with np.errstate(divide="ignore"):
            keys = np.log(p) - np.log(-np.log(g.random(p.shape)))
        out = np.argsort(-keys, axis=-1)[:, :num_samples]
    out = out[0] if squeeze else out
    return _finish(out, dtypes.int64, probs.device, False)
