"""dtypes with PyTorch's names and promotion rules.

Rules (as in PyTorch): Python floats give float32 (the default dtype), Python ints give int64,
a NumPy array keeps its dtype, and a Python scalar never upcasts a tensor of its own category
(``float32_tensor * 2.5`` stays float32; ``int_tensor * 2.5`` becomes float32).
"""

from __future__ import annotations

import builtins

import numpy as np


class DType:
    """A tensor element type; ``.np`` is the matching NumPy dtype."""

    __slots__ = ("name", "np", "is_floating_point", "itemsize", "_rank")

    def __init__(self, name: str, np_dtype, rank: int):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.itemsize = self.np.itemsize
        self._rank = rank  # order inside a category, for promotion

    def __repr__(self) -> str:
        return f"chainrule.{self.name}"

    def __reduce__(self):
        return (get, (self.name,))


bool_ = DType("bool", np.bool_, 0)
uint8 = DType("uint8", np.uint8, 1)
int8 = DType("int8", np.int8, 1)
int16 = DType("int16", np.int16, 2)
int32 = DType("int32", np.int32, 3)
int64 = DType("int64", np.int64, 4)
float16 = DType("float16", np.float16, 1)
float32 = DType("float32", np.float32, 2)
float64 = DType("float64", np.float64, 3)

half, float, double = float16, float32, float64  # noqa: A001 - PyTorch's aliases
short, int, long = int16, int32, int64  # noqa: A001

_by_np = {d.np: d for d in (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)}
_by_name = {d.name: d for d in _by_np.values()} | {
    "half": float16,
    "float": float32,
    "double": float64,
    "long": int64,
    "int": int32,
    "short": int16,
    "bool_": bool_,
}

_default_float = float32


def get_default_dtype() -> DType:
    return _default_float


def set_default_dtype(d) -> None:
    global _default_float
    d = get(d)
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating point types are allowed, got {d}")
    _default_float = d


def get(d) -> DType:
    """Normalise a DType, NumPy dtype, Python type or name into a DType."""
    if isinstance(d, DType):
        return d
    if d is None or d is builtins.float:
        return _default_float
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool_
    if isinstance(d, str):
        if d in _by_name:
            return _by_name[d]
        raise TypeError(f"unknown dtype {d!r}")
    try:
        nd = np.dtype(d)
    except TypeError:
        raise TypeError(f"unknown dtype {d!r}") from None
    if nd in _by_np:
        return _by_np[nd]
    raise TypeError(f"dtype {nd} is not supported by chainrule")


def from_numpy(nd) -> DType:
    """The DType of a NumPy dtype."""
    d = _by_np.get(nd)
    if d is None:
        raise TypeError(f"dtype {nd} is not supported by chainrule")
    return d


def _category(d: DType) -> int:
    return 2 if d.is_floating_point else (0 if d is bool_ else 1)


def promote_types(a: DType, b: DType) -> DType:
    """The dtype of ``a op b`` for two tensors (PyTorch's rule: the higher category wins)."""
    if a is b:
        return a
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    if a is uint8 or b is uint8:  # uint8 with a signed int: the next signed type up
        other = b if a is uint8 else a
        return int16 if other is int8 else other
    return a if a._rank >= b._rank else b


def result_type(a: DType, a_dim: int, b: DType, b_dim: int) -> DType:
    """Promotion where a 0-d tensor does not upcast a dimensioned tensor of its category."""
    if a is b:
        return a
    if (a_dim == 0) != (b_dim == 0) and _category(a) == _category(b):
        return b if a_dim == 0 else a
    return promote_types(a, b)


def scalar_result_type(tensor_dtype: DType, value) -> DType:
    """The dtype of ``tensor op python_scalar``: the scalar only lifts the category."""
    if isinstance(value, bool):
        return tensor_dtype
    if isinstance(value, builtins.float):
        return tensor_dtype if tensor_dtype.is_floating_point else _default_float
    if isinstance(value, complex):
        raise TypeError("complex numbers are not supported by chainrule")
    # int
    return int64 if tensor_dtype is bool_ else tensor_dtype


def infer(data) -> DType:
    """The dtype ``chainrule.tensor(data)`` gives to Python data (lists, scalars)."""
    if isinstance(data, bool):
        return bool_
    if isinstance(data, builtins.int):
        return int64
    if isinstance(data, builtins.float):
        return _default_float
    arr = np.asarray(data)
    if arr.dtype.kind == "f":
        return _default_float
    if arr.dtype.kind in "iu":
        return int64
    if arr.dtype.kind == "b":
        return bool_
    raise TypeError(f"cannot build a tensor from data of NumPy dtype {arr.dtype}")
