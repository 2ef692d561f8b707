"""Helpers shared by the op families: scalars, dtype promotion, dimension arguments."""

from __future__ import annotations

import math
import numbers

import numpy as np

from chainrule import dtypes
from chainrule.autograd.function import Function
from chainrule.backend import to_device
from chainrule.tensor import Tensor, tensor


def as_tensor_like(value, like: Tensor) -> Tensor:
    """``value`` (Tensor, array, list) as a Tensor on ``like``'s device."""
    if isinstance(value, Tensor):
        return value
    return tensor(value, device=like._device)


def binary_operands(a, b, op: str):
    """Prepare the operands of a binary op: a Tensor first or second, the other a Tensor or a
    Python scalar, with PyTorch's type promotion applied (casts are differentiable).

    Returns ``(a, b)`` where each is a Tensor or a Python scalar of the common dtype.
    """
    # Fast path, the common case: a float tensor and a Python float (stays the tensor's dtype).
    if type(b) is float and isinstance(a, Tensor) and a.data.dtype.kind == "f":
        return a, constant_like(b, a.data)
    a_t, b_t = isinstance(a, Tensor), isinstance(b, Tensor)
    if a_t and b_t:
        if a.data.dtype is b.data.dtype or a.data.dtype == b.data.dtype:
            return a, b
        dt = dtypes.result_type(a.dtype, a.data.ndim, b.dtype, b.data.ndim)
        return cast(a, dt), cast(b, dt)
    if not a_t and not b_t:
        a = tensor(a)
        a_t = True
    t, s = (a, b) if a_t else (b, a)
    if isinstance(s, numbers.Number) and not hasattr(s, "dtype"):
        dt = dtypes.scalar_result_type(t.dtype, s)
        if dt.np != t.data.dtype:
            t = cast(t, dt)
        if dt.is_floating_point:
            s = float(s)
        return (t, s) if a_t else (s, t)
    s = tensor(s, device=t._device)  # NumPy arrays, lists, NumPy scalars: tensors
    return binary_operands(a if a_t else s, s if a_t else b, op)


_scalar_arrays: dict = {}


def constant_like(value: float, arr):
    """``value`` as a cached read-only 0-d array of ``arr``'s dtype when ``arr`` is a NumPy
    array; otherwise ``value`` itself (CuPy takes Python scalars as kernel arguments).

    NumPy converts a Python float on every call: ``x * 1.5`` costs twice ``x * c`` with ``c`` a
    0-d array, for the same result (NEP 50: the float is cast to x's dtype either way). On small
    tensors that is most of an op's arithmetic, forward and backward.
    """
    if type(arr) is not np.ndarray or value == 0.0:  # 0.0 == -0.0: one entry would serve both
        return value
    dt = arr.dtype
    per_dtype = _scalar_arrays.get(dt)
    if per_dtype is None:
        per_dtype = _scalar_arrays[dt] = {}
    c = per_dtype.get(value)
    if c is None:
        if len(per_dtype) >= 512:  # values that change every step (a decaying lr) must not pile up
            per_dtype.clear()
        c = np.array(value, dtype=dt)
        c.flags.writeable = False
        per_dtype[value] = c
    return c


class Cast(Function):
    """y = x converted to another dtype;  dy/dx = 1 (the gradient is cast back)."""

    rule = "d cast(x)/dx = 1 (the gradient is converted back to x's dtype)"

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad

    @staticmethod
    def backward_graph(ctx, grad):
        return grad  # the engine casts it back to the input's dtype


class LinearAdjoint(Function):
    """The backward of an op that is linear in its first input (indexing, gather, narrow, flip,
    cumsum, embedding lookup...), recorded as an op for ``create_graph=True``:
    y = node.backward(g). Being linear in g, its own VJP is the original op applied to the
    cotangent: dL/dg = node.forward(dL/dy), and that op's differentiable backward is this one
    again, so derivatives of any order stay in the graph."""

    rule = "d backward(g)/dg = the op itself: the adjoint of a linear map's adjoint is the map"

    @staticmethod
    def forward(ctx, grad, node):
        ctx.node = node
        out = node.fn.backward(node, grad)
        return out[0] if type(out) is tuple else out

    # An op whose backward is linear in the gradient but whose forward is not the adjoint of
    # that backward (max pooling routes the gradient to saved argmax positions) names the
    # adjoint itself: ``backward_adjoint(node, array)`` and ``backward_adjoint_graph(node,
    # tensor)``.

    @staticmethod
    def backward(ctx, grad):
        node = ctx.node
        adjoint = getattr(node.fn, "backward_adjoint", None)
        return adjoint(node, grad) if adjoint is not None else rerun_forward(node, grad)

    @staticmethod
    def backward_graph(ctx, grad):
        node = ctx.node
        adjoint = getattr(node.fn, "backward_adjoint_graph", None)
        if adjoint is not None:
            return adjoint(node, grad)
        return node.fn.apply(grad, *_constants(node), **node.attrs)


def _constants(node) -> tuple:
    """The node's inputs after the first, as constants (the op is linear in the first)."""
    return tuple(x.detach() if isinstance(x, Tensor) else x for x in node.inputs[1:])


def rerun_forward(node, x, **overrides):
    """``node``'s op applied to the array x with the node's other inputs and attributes
    (``overrides`` replacing some of the attributes)."""
    from chainrule.autograd.function import Context

    ctx = Context(node.fn, (False,) * len(node.inputs), node.device, recording=False)
    others = tuple(t.data if isinstance(t, Tensor) else t for t in node.inputs[1:])
    out = node.fn.forward(ctx, x, *others, **{**node.attrs, **overrides})
    return out[0] if type(out) is tuple else out


def piecewise_linear_backward_graph(ctx, grad):
    """``backward_graph`` of an op whose derivative is constant between kinks (maximum,
    leaky_relu, hardtanh...): the gradient times the local slopes, which are constants (their
    own derivative is 0), read off the op's backward applied to ones."""
    slopes = ctx.fn.backward(ctx, ctx.xp.ones(grad.shape, grad.data.dtype))
    if type(slopes) is not tuple:
        slopes = (slopes,)
    return tuple(None if s is None else grad * Tensor._make(s, ctx.device) for s in slopes)


def linear_backward_graph(ctx, grad):
    """``backward_graph`` of any op linear in its first input: see ``LinearAdjoint``."""
    return LinearAdjoint.apply(grad, node=ctx)


class ToDevice(Function):
    """y = x moved to another device;  dy/dx = 1 (the gradient moves back)."""

    rule = "d to(x)/dx = 1 (the gradient moves back to x's device)"

    @staticmethod
    def forward(ctx, x, dev):
        ctx.source = ctx.device
        ctx.device = dev  # the output lives on the target device
        return to_device(x, dev)

    @staticmethod
    def backward(ctx, grad):
        return to_device(grad, ctx.source)


def cast(x: Tensor, dtype) -> Tensor:
    """``x`` converted to ``dtype``; differentiable when both are floating point."""
    dt = dtypes.get(dtype)
    if x.data.dtype == dt.np:
        return x
    if dt.is_floating_point and x.data.dtype.kind == "f":
        return Cast.apply(x, dtype=dt.np)
    return Tensor._make(x.data.astype(dt.np), x._device)


def to_device_op(x: Tensor, dev) -> Tensor:
    """x moved to device ``dev`` (differentiable: the gradient moves back)."""
    return ToDevice.apply(x, dev=dev)


def normalize_dim(dim: int, ndim: int, op: str) -> int:
    """A dimension index in ``[0, ndim)``; negative dims count from the end."""
    n = max(ndim, 1)
    if not isinstance(dim, int) and not hasattr(dim, "__index__"):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    dim = int(dim)
    if not -n <= dim < n:
        raise IndexError(
            f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
            f"but got {dim})"
        )
    return dim % n


def normalize_dims(dim, ndim: int, op: str) -> tuple | None:
    """``None`` (all dims) or a sorted tuple of non-negative dims."""
    if dim is None:
        return None
    if isinstance(dim, int) or hasattr(dim, "__index__"):
        return (normalize_dim(dim, ndim, op),)
    dims = tuple(sorted(normalize_dim(d, ndim, op) for d in dim))
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"{op}: dim {tuple(dim)} appears multiple times in the list of dims")
    return dims


def constant(x: Tensor):
    """The raw array of a Tensor used as a constant (indices, masks)."""
    return x.data if isinstance(x, Tensor) else x


def sum_keepdims(xp, a, axis):
    """``a.sum(axis=axis, keepdims=True)``. Along the last axis of a C-contiguous NumPy array
    with rows of up to 4096 elements it sums with einsum instead: NumPy's ``sum`` along the
    last axis is 3-5x slower there (softmax, cross-entropy, norms and attention all sum rows).
    """
    # NOTE: einsum accumulates each row in float32 lanes rather than pairwise; capping the row
    # length keeps its rounding error within a few ulps of the pairwise sum's.
    if (
        type(a) is np.ndarray
        and isinstance(axis, int)
        and a.ndim
        and axis in (-1, a.ndim - 1)
        and 0 < a.shape[-1] <= 4096
        and a.flags.c_contiguous
    ):
        return xp.einsum("...j->...", a)[..., None]
    return a.sum(axis=axis, keepdims=True)


_log_tiny_cache: dict = {}


def exp_no_underflow(xp, t):
    """e^t; when NumPy reports underflow (``errstate(under=...)`` other than the default
    'ignore'), results below the smallest normal number of t's dtype are flushed to exactly 0
    so that nothing is reported."""
    # NOTE: e^t for t < log(tiny) (about -87.3 in float32, -708 in float64) is a subnormal or 0
    # and raises NumPy's underflow flag, an error under errstate(all="raise"); products of such
    # subnormals underflow again in backward. Those values are 0 to the dtype's precision, so
    # exponentiating only where t >= log(tiny) gives the same numbers, warning-free. Under the
    # default error state the flag is ignored and the extra pass (t.min()) is skipped. CuPy has
    # no floating-point flags.
    if xp.__name__ != "numpy" or xp.geterr()["under"] == "ignore":
        return xp.exp(t)
    low = _log_tiny_cache.get(t.dtype)
    if low is None:
        low = _log_tiny_cache[t.dtype] = math.log(float(xp.finfo(t.dtype).tiny))
    t = xp.asarray(t)
    if t.size == 0 or t.min() >= low:
        return xp.exp(t)
    out = xp.zeros_like(t)
    xp.exp(t, out=out, where=~(t < low))  # NaN stays NaN
    return out
