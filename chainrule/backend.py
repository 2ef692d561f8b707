"""Devices and the few places where NumPy and CuPy differ.

A :class:`Device` is ``cpu`` (NumPy) or ``cuda[:i]`` (CuPy, imported on first use). Ops never
import numpy themselves: they use ``ctx.xp``, the array module of their inputs' device.
"""

from __future__ import annotations

import numpy as np

_cupy = None


def _import_cupy():
    global _cupy
    if _cupy is None:
        try:
            import cupy
        except ImportError as e:  # pragma: no cover - depends on the machine
            raise RuntimeError(
                "device 'cuda' needs CuPy, which is not installed: "
                "pip install cupy-cuda12x (or the wheel matching your CUDA version)"
            ) from e
        _cupy = cupy
    return _cupy


class Device:
    """Where a tensor's array lives: ``Device("cpu")`` or ``Device("cuda:0")``."""

    __slots__ = ("type", "index", "_xp")

    def __init__(self, type: str, index: int | None = None):
        self.type = type
        self.index = index
        self._xp = np if type == "cpu" else None  # CuPy is imported on first use

    @property
    def xp(self):
        """The array module: numpy on cpu, cupy on cuda."""
        xp = self._xp
        if xp is None:
            xp = self._xp = _import_cupy()
        return xp

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (
            f", index={self.index})" if self.index is not None else ")"
        )

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, Device):
            return NotImplemented
        return self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self) -> int:
        return hash((self.type, self.index or 0))


cpu = Device("cpu")
_devices: dict = {"cpu": cpu, None: cpu}


def device(spec: str | Device | None = None) -> Device:
    """Parse ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a Device into a Device."""
    if isinstance(spec, Device):
        return spec
    d = _devices.get(spec)
    if d is not None:
        return d
    if not isinstance(spec, str):
        raise TypeError(f"device must be a string like 'cpu' or 'cuda:0', got {spec!r}")
    kind, _, idx = spec.partition(":")
    if kind not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {spec!r}: expected 'cpu', 'cuda' or 'cuda:<index>'")
    d = Device(kind, int(idx) if idx else (0 if kind == "cuda" else None))
    _devices[spec] = d
    return d


def device_of(array) -> Device:
    """The Device an array lives on."""
    if isinstance(array, np.ndarray | np.generic):
        return cpu
    dev = getattr(array, "device", None)
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return device(f"cuda:{dev.id}")
    return cpu


def is_cuda_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    try:
        cupy = _import_cupy()
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def to_numpy(array) -> np.ndarray:
    """A NumPy array with the same values (copies from the GPU when needed)."""
    if isinstance(array, np.ndarray):
        return array
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy.asnumpy(array)
    return np.asarray(array)


def to_device(array, dev: Device):
    """Move an array to ``dev`` (no copy when it is already there)."""
    if dev.type == "cpu":
        return to_numpy(array)
    cupy = _import_cupy()
    with cupy.cuda.Device(dev.index or 0):
        return cupy.asarray(array)


def scatter_add(xp, target, index, values) -> None:
    """``target[index] += values`` with repeated indices accumulated (unbuffered)."""
    if xp is np:
        if (
            isinstance(index, np.ndarray)
            and index.ndim == 1
            and index.dtype.kind in "iu"
            and target.ndim >= 2
            and target.flags.c_contiguous
        ):
            # NOTE: np.add.at over whole rows is ~10x slower than over single elements, so
            # rows (an Embedding's backward) are scattered as flat element positions.
            row = int(np.prod(target.shape[1:]))
            flat = (index.astype(np.intp)[:, None] * row + np.arange(row)).ravel()
            values = np.broadcast_to(values, (len(index),) + target.shape[1:])
            np.add.at(target.reshape(-1), flat, values.reshape(-1))
            return
        np.add.at(target, index, values)
    else:  # pragma: no cover - GPU only
        import cupyx

        cupyx.scatter_add(target, index, values)
