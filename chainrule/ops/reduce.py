"""Reductions: sum, mean, prod, var/std, max/min, amax/amin, logsumexp, norm, cumsum, all/any.

A reduction over some dims sends each output's gradient back to every input element that fed
it: backward reshapes the gradient to the ``keepdim`` shape (size 1 in the reduced dims) and
broadcasts it to the input's shape, times the local derivative.

``dim`` is an int, a tuple of ints, or None (every dim), as in PyTorch; a 0-d tensor accepts
``dim=0`` or ``-1`` and reduces to itself.
"""

from __future__ import annotations

import builtins
import math
from typing import NamedTuple

from chainrule import dtypes
from chainrule.autograd.function import Function, graph_inputs, no_grad
from chainrule.ops.common import (
    cast,
    linear_backward_graph,
    normalize_dim,
    normalize_dims,
)
from chainrule.ops.elementwise import _ignore_errors, abs, div, maximum, minimum, square, sub
from chainrule.tensor import Tensor

# ---------------------------------------------------------------- shape helpers


def _axes(x: Tensor, dim, op: str) -> tuple | None:
    """The NumPy ``axis`` of a reduction over ``dim``: None for every dim, else sorted dims.

    ``dim=()`` means every dim (PyTorch's convention for sum/mean/amax); on a 0-d tensor the
    only valid dims (0 and -1) name the tensor itself, which reduces to itself.
    """
    dims = normalize_dims(dim, x.data.ndim, op)
    if dims is None or len(dims) == 0 or x.data.ndim == 0:
        return None
    return dims


def _keepdim_shape(shape: tuple, axes: tuple | None) -> tuple:
    """``shape`` with the reduced dims set to 1."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _reduced_shape(shape: tuple, axes: tuple | None) -> tuple:
    """``shape`` with the reduced dims removed."""
    if axes is None:
        return ()
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _count(shape: tuple, axes: tuple | None) -> int:
    """How many input elements feed each output element."""
    return math.prod(shape if axes is None else (shape[a] for a in axes))


def _broadcast_back(xp, grad, shape: tuple, axes: tuple | None, keepdim: bool):
    """The gradient of a reduction's output spread over the input's shape (a read-only view)."""
    if not keepdim:
        grad = grad.reshape(_keepdim_shape(shape, axes))
    return xp.broadcast_to(grad, shape)


def _require_float(x: Tensor, op: str, what: str) -> None:
    if x.data.dtype.kind != "f":
        raise RuntimeError(f"{op}(): {what}. Got: {x.dtype.name}")


# ---------------------------------------------------------------- primitives


class Sum(Function):
    """y = sum_i x_i over the reduced dims;  dy/dx_i = 1."""

    rule = "d sum(x)/dx_i = 1 (the gradient is broadcast back over the summed dims)"

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        if dtype is None and x.dtype == ctx.xp.float16:
            # float16 sums accumulate in float32 and round once, as PyTorch does
            return ctx.xp.sum(x, axis=axes, keepdims=keepdim, dtype=ctx.xp.float32).astype(x.dtype)
        return ctx.xp.sum(x, axis=axes, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        return _broadcast_back(ctx.xp, grad, ctx.shape, ctx.axes, ctx.keepdim)

    @staticmethod
    def backward_graph(ctx, grad):
        if not ctx.keepdim:
            grad = grad.reshape(_keepdim_shape(ctx.shape, ctx.axes))
        return grad.expand(*ctx.shape)


class Prod(Function):
    """y = prod_i x_i over the reduced dims;  dy/dx_i = prod_{j != i} x_j."""

    rule = "d prod(x)/dx_i = product of the other x_j (y / x_i when no x_j is 0)"

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        out = ctx.xp.prod(x, axis=axes, keepdims=True, dtype=dtype)
        ctx.save_for_backward(x, out)
        ctx.axes = axes
        return out if keepdim else out.reshape(_reduced_shape(x.shape, axes))

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        xp = ctx.xp
        grad = grad.reshape(out.shape)
        is_zero = x == 0
        if not is_zero.any():
            return grad * out / x
        # NOTE: y / x_i is the product of the others only when no factor is 0. In a slice with
        # exactly one zero, that zero's derivative is the product of the non-zero factors and
        # every other derivative is 0 (a zero remains among their factors); with two or more
        # zeros every derivative is 0. Computed without dividing by 0.
        zeros = is_zero.sum(axis=ctx.axes, keepdims=True)
        nonzero = xp.where(is_zero, 1, x)
        prod_nonzero = xp.prod(nonzero, axis=ctx.axes, keepdims=True)
        one_zero = xp.where(is_zero & (zeros == 1), prod_nonzero, 0)
        return grad * xp.where(zeros == 0, out / nonzero, one_zero)


class Amax(Function):
    """y = max_i x_i over the reduced dims;  dy/dx_i = 1/k for each of the k maximal x_i, else 0."""

    rule = "d amax(x)/dx_i = 1/k if x_i is one of the k elements equal to the max, else 0"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        return _extreme_forward(ctx, x, axes, keepdim, ctx.xp.amax)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        grad = grad.reshape(out.shape)
        # NOTE: ties share the gradient evenly (PyTorch's amax/amin and full max/min), so the
        # result is the average of the one-sided derivatives, symmetric in the tied elements.
        mask = x == out
        if x.dtype.kind == "f" and ctx.xp.isnan(out).any():
            # A NaN maximum came from the NaNs of its slice: they share the gradient (PyTorch's
            # max(); its amax() gives NaN gradients there instead).
            mask |= ctx.xp.isnan(x) & ctx.xp.isnan(out)
        ties = mask.sum(axis=ctx.axes, keepdims=True, dtype=grad.dtype)
        return mask * (grad / ties)

    @staticmethod
    def backward_graph(ctx, grad):
        x, out = ctx.saved_tensors
        share = Amax.backward(ctx, ctx.xp.ones(out.shape, out.dtype))  # mask / ties
        return grad.reshape(out.shape) * Tensor._make(share, ctx.device)


class Amin(Amax):
    """y = min_i x_i over the reduced dims;  dy/dx_i = 1/k for each of the k minimal x_i, else 0."""

    rule = "d amin(x)/dx_i = 1/k if x_i is one of the k elements equal to the min, else 0"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        return _extreme_forward(ctx, x, axes, keepdim, ctx.xp.amin)


def _extreme_forward(ctx, x, axes, keepdim, reduce):
    out = reduce(x, axis=axes, keepdims=True)
    ctx.save_for_backward(x, out)
    ctx.axes = axes
    return out if keepdim else out.reshape(_reduced_shape(x.shape, axes))


class MaxDim(Function):
    """(y, i) = the max of x along one dim and its index;  dy/dx = 1 at the index i, else 0."""

    rule = "d max(x, dim)/dx_j = 1 if j is the returned index, else 0"

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        return _select_forward(ctx, x, axis, keepdim, ctx.xp.argmax)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        xp = ctx.xp
        axis, shape = ctx.axis, ctx.shape
        n = index.ndim
        positions = xp.arange(ctx.length).reshape([-1 if d == axis else 1 for d in range(n)])
        # Only the selected element moved the output: a one-hot mask along the dim.
        out = xp.where(positions == index, grad.reshape(index.shape), grad.dtype.type(0))
        return out.reshape(shape)

    # create_graph: the backward puts the gradient at the index; its adjoint reads it there
    backward_graph = staticmethod(linear_backward_graph)

    @staticmethod
    def backward_adjoint(node, grad):
        (index,) = node.saved_tensors
        x1 = grad.reshape(index.shape[: node.axis] + (node.length,) + index.shape[node.axis + 1 :])
        return node.xp.take_along_axis(x1, index, axis=node.axis).reshape(node.out_shape)

    @staticmethod
    def backward_adjoint_graph(node, grad):
        from chainrule.ops.indexing import take_along_dim

        (index,) = node.saved_tensors
        x1 = grad.reshape(index.shape[: node.axis] + (node.length,) + index.shape[node.axis + 1 :])
        picked = take_along_dim(x1, Tensor._make(index, node.device), node.axis)
        return picked.reshape(node.out_shape)


class MinDim(MaxDim):
    """(y, i) = the min of x along one dim and its index;  dy/dx = 1 at the index i, else 0."""

    rule = "d min(x, dim)/dx_j = 1 if j is the returned index, else 0"

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        return _select_forward(ctx, x, axis, keepdim, ctx.xp.argmin)


def _select_forward(ctx, x, axis, keepdim, pick):
    """Values and int64 indices of ``pick`` (argmax/argmin) along ``axis``."""
    xp = ctx.xp
    x1 = x.reshape(1) if x.ndim == 0 else x  # a 0-d tensor is its own max along dim 0
    index = xp.expand_dims(pick(x1, axis=axis), axis)
    values = xp.take_along_axis(x1, index, axis=axis)
    ctx.save_for_backward(index)
    ctx.axis, ctx.shape, ctx.length = axis, x.shape, x1.shape[axis]
    if x.ndim == 0:
        out_shape = ()
    elif keepdim:
        out_shape = index.shape
    else:
        out_shape = _reduced_shape(x.shape, (axis,))
    ctx.out_shape = out_shape
    return values.reshape(out_shape), index.reshape(out_shape).astype(xp.int64)


class LogSumExp(Function):
    """y = log sum_i e^(x_i) over the reduced dims;  dy/dx_i = e^(x_i - y) (the softmax)."""

    rule = "d logsumexp(x)/dx_i = exp(x_i - logsumexp(x)) = softmax(x)_i"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = ctx.xp
        keep = _keepdim_shape(x.shape, axes)
        m = xp.amax(x, axis=axes, keepdims=True) if x.size else xp.zeros(keep, x.dtype)
        # NOTE: log sum e^x = m + log sum e^(x - m) with m the max: every e^(x - m) <= 1, so
        # nothing overflows and the largest term is exactly 1 (logsumexp([1e4, -1e4]) is 1e4,
        # not inf). An infinite max (all -inf, or some +inf) is replaced by 0 so that
        # inf - inf never makes a NaN: the result is then -inf or +inf, as it should be.
        m = xp.where(xp.isfinite(m), m, x.dtype.type(0))
        with _ignore_errors(xp):  # log(0) = -inf for an all -inf (or empty) slice is intended
            out = xp.log(xp.sum(xp.exp(x - m), axis=axes, keepdims=True)) + m
        ctx.save_for_backward(x, out)
        return out if keepdim else out.reshape(_reduced_shape(x.shape, axes))

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        return grad.reshape(out.shape) * ctx.xp.exp(x - out)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)[:1]
        _, out = ctx.saved_tensors
        dims = tuple(i for i in range(x.ndim) if out.shape[i] == 1 and x.shape[i] != 1)
        lse = x.logsumexp(dims or tuple(range(x.ndim)), keepdim=True) if x.ndim else x
        return grad.reshape(out.shape) * (x - lse).exp()


class Norm(Function):
    """y = (sum_i |x_i|^p)^(1/p) for a finite p > 0;  dy/dx_i = sign(x_i) |x_i|^(p-1) / y^(p-1)."""

    rule = "d ||x||_p/dx_i = sign(x_i) * |x_i|^(p-1) / ||x||_p^(p-1)  (x_i / ||x|| for p = 2)"

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        xp = ctx.xp
        if p == 2:
            out = xp.sqrt(xp.sum(x * x, axis=axes, keepdims=True))
        elif p == 1:
            out = xp.sum(xp.abs(x), axis=axes, keepdims=True)
        else:
            out = xp.sum(xp.abs(x) ** p, axis=axes, keepdims=True) ** (1 / p)
        ctx.save_for_backward(x, out)
        ctx.p = p
        return out if keepdim else out.reshape(_reduced_shape(x.shape, axes))

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        xp = ctx.xp
        p = ctx.p
        grad = grad.reshape(out.shape)
        # NOTE: a norm has no derivative at the zero vector; like PyTorch we use 0 there (the
        # smallest subgradient) rather than 0/0 = NaN: the denominator becomes 1 where y = 0,
        # and the numerator is 0 there since every x_i is 0.
        safe = xp.where(out == 0, out.dtype.type(1), out)
        if p == 2:
            return grad * (x / safe)
        if p == 1:
            return grad * xp.sign(x)
        with _ignore_errors(xp):  # |0|^(p-1) is inf for p < 1; where() replaces it with 0
            local = xp.sign(x) * xp.abs(x) ** (p - 1) / safe ** (p - 1)
        return grad * xp.where(x == 0, x.dtype.type(0), local)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)[:1]
        _, out = ctx.saved_tensors
        p = ctx.p
        g = grad.reshape(out.shape)
        if p == 1:
            return g * x.sign()
        dims = tuple(i for i in range(x.ndim) if out.shape[i] == 1 and x.shape[i] != 1)
        norm = x.norm(p, dim=dims or None, keepdim=True) if x.ndim else x.abs()
        safe = norm.masked_fill(Tensor._make(out == 0, ctx.device), 1.0)  # 0 at the zero vector
        if p == 2:
            return g * x / safe
        return g * x.sign() * x.abs() ** (p - 1) / safe ** (p - 1)


class Cumsum(Function):
    """y_i = sum_{j <= i} x_j along one dim;  dL/dx_j = sum_{i >= j} dL/dy_i (a reversed cumsum)."""

    rule = "d cumsum(x)_i/dx_j = 1 if j <= i else 0"

    @staticmethod
    def forward(ctx, x, axis, dtype):
        ctx.axis = axis
        if dtype is None and x.dtype == ctx.xp.float16:  # float32 running sums, as PyTorch
            return (
                ctx.xp.cumsum(x, axis=axis, dtype=ctx.xp.float32).astype(x.dtype).reshape(x.shape)
            )
        return ctx.xp.cumsum(x, axis=axis, dtype=dtype).reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        if ctx.axis is None:  # a 0-d input: y = x
            return grad
        xp, axis = ctx.xp, ctx.axis
        return xp.flip(xp.cumsum(xp.flip(grad, axis), axis=axis), axis)

    backward_graph = staticmethod(linear_backward_graph)


class Cumprod(Function):
    """y_i = prod_{j <= i} x_j along one dim;
    dL/dx_j = E_j S_j with E_j = prod_{k < j} x_k and S_j = g_j + x_(j+1) S_(j+1) (from the end),
    exact where x has zeros (no division by x)."""

    rule = "d cumprod(x)_i/dx_j = prod_{k <= i, k != j} x_k for j <= i, else 0"

    @staticmethod
    def forward(ctx, x, axis, dtype):
        ctx.axis = axis
        ctx.save_for_backward(x)
        return ctx.xp.cumprod(x, axis=axis, dtype=dtype).reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        if ctx.axis is None:  # a 0-d input: y = x
            return grad
        xp, axis = ctx.xp, ctx.axis
        (x,) = ctx.saved_tensors
        xm = xp.moveaxis(x, axis, 0)
        gm = xp.moveaxis(grad, axis, 0)
        n = xm.shape[0]
        # E_j: the product of the elements before j (exclusive; 1 for the first)
        excl = xp.empty_like(gm)
        excl[0] = 1
        if n > 1:
            excl[1:] = xp.cumprod(xm[:-1], axis=0)
        # S_j = g_j + x_(j+1) S_(j+1), a reverse recurrence: one step per position along dim
        # (vectorised over every other dim), so zeros in x need no special case
        s = xp.empty_like(gm)
        s[n - 1] = gm[n - 1]
        for j in range(n - 2, -1, -1):
            s[j] = gm[j] + xm[j + 1] * s[j + 1]
        return xp.moveaxis(excl * s, 0, axis)


# ---------------------------------------------------------------- public functions


def sum(x: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:  # noqa: A001
    """The sum of the elements over ``dim`` (every dim by default).

    Math: y = sum_i x_i;  dy/dx_i = 1.

    Args:
        x: the input tensor.
        dim: an int or a tuple of ints; None reduces every dim.
        keepdim: keep the reduced dims with size 1.
        dtype: convert ``x`` to this dtype first. By default bool and integer tensors sum
            to int64 (as in PyTorch); floating point tensors keep their dtype.

    Example:
        >>> chainrule.tensor([[1.0, 2.0], [3.0, 4.0]]).sum(dim=0)
        tensor([4., 6.])
    """
    axes = _axes(x, dim, "sum")
    acc = None
    if dtype is not None:
        x = cast(x, dtype)
    elif x.data.dtype.kind in "biu":
        acc = dtypes.int64.np
    return Sum.apply(x, axes=axes, keepdim=keepdim, dtype=acc)


def mean(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The mean of the elements over ``dim`` (every dim by default): sum(x) / n.

    Example:
        >>> chainrule.tensor([[1.0, 2.0], [3.0, 4.0]]).mean(dim=1)
        tensor([1.5000, 3.5000])
    """
    if dtype is not None:
        x = cast(x, dtype)
    _require_float(
        x,
        "mean",
        "could not infer output dtype. Input dtype must be either a floating point "
        "or complex dtype",
    )
    axes = _axes(x, dim, "mean")
    with _ignore_errors(x._device.xp):  # the mean of nothing is 0/0 = nan, silently as in torch
        return div(sum(x, dim, keepdim), float(_count(x.shape, axes)))


def prod(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The product of the elements along ``dim`` (an int; every element by default).

    Math: y = prod_i x_i;  dy/dx_i = prod_{j != i} x_j, exact when some x_j are 0.

    Example:
        >>> chainrule.tensor([1.0, 2.0, 3.0]).prod()
        tensor(6.)
    """
    if dim is not None and not isinstance(dim, int) and not hasattr(dim, "__index__"):
        raise TypeError(f"prod(): dim must be a single int (as in PyTorch), got {dim!r}")
    axes = _axes(x, dim, "prod")
    acc = None
    if dtype is not None:
        x = cast(x, dtype)
    elif x.data.dtype.kind in "biu":
        acc = dtypes.int64.np
    return Prod.apply(x, axes=axes, keepdim=keepdim, dtype=acc)


def _correction(op: str, unbiased, correction) -> float:
    if unbiased is not None and correction is not None:
        raise RuntimeError(f"{op}(): give either unbiased or correction, not both")
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


def var(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """The variance over ``dim``: sum((x - mean)^2) / (n - correction).

    ``correction`` defaults to 1 (Bessel's correction, the unbiased estimate), as in PyTorch;
    ``unbiased=False`` is ``correction=0``. ``var(x, True)`` reads the bool as ``unbiased``.

    Example:
        >>> chainrule.tensor([1.0, 2.0, 3.0, 4.0]).var()
        tensor(1.6667)
    """
    if isinstance(dim, bool):  # torch.var(x, unbiased)
        dim, unbiased = None, dim
    _require_float(x, "var", "std and var only support floating point dtypes")
    c = _correction("var", unbiased, correction)
    n = _count(x.shape, _axes(x, dim, "var"))
    centered = sub(x, mean(x, dim, keepdim=True))
    # NOTE: two passes (the mean first) avoid the cancellation of E[x^2] - E[x]^2.
    with _ignore_errors(x._device.xp):  # n <= correction gives inf/nan, as in PyTorch
        return div(sum(square(centered), dim, keepdim), float(builtins.max(0, n - c)))


def std(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """The standard deviation over ``dim``: ||x - mean||_2 / sqrt(n - correction).

    Written with the 2-norm so that the gradient of a constant input is 0 (as in PyTorch),
    not 0/0.

    Example:
        >>> chainrule.tensor([1.0, 2.0, 3.0, 4.0]).std()
        tensor(1.2910)
    """
    if isinstance(dim, bool):  # torch.std(x, unbiased)
        dim, unbiased = None, dim
    _require_float(x, "std", "std and var only support floating point dtypes")
    c = _correction("std", unbiased, correction)
    n = _count(x.shape, _axes(x, dim, "std"))
    centered = sub(x, mean(x, dim, keepdim=True))
    with _ignore_errors(x._device.xp):
        return div(norm(centered, 2, dim, keepdim), math.sqrt(builtins.max(0, n - c)))


class ValuesIndices(NamedTuple):
    """What ``max(x, dim)`` and ``min(x, dim)`` return: ``values, indices = x.max(1)``."""

    values: Tensor
    indices: Tensor


def _check_nonempty(x: Tensor, op: str, axes) -> None:
    """PyTorch's errors for a max/min over nothing (there is no identity to return)."""
    if axes is None and x.data.size == 0:
        raise RuntimeError(
            f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
            "Specify the reduction dim with the 'dim' argument."
        )
    for axis in axes or ():
        if x.data.shape[axis] == 0:
            raise IndexError(
                f"{op}(): Expected reduction dim {axis} to have non-zero size "
                f"(input of shape {tuple(x.shape)})."
            )


def _max_or_min(x, dim, keepdim, op, elementwise, full, along):
    if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
        return elementwise(x, dim)
    if dim is None:
        _check_nonempty(x, op, None)
        return full.apply(x, axes=None, keepdim=keepdim)
    if not isinstance(dim, int) and not hasattr(dim, "__index__"):
        raise TypeError(f"{op}(): dim must be a single int, got {dim!r} (use a{op} for tuples)")
    axis = normalize_dim(dim, x.data.ndim, op)
    _check_nonempty(x, op, (axis,) if x.data.ndim else ())
    values, indices = along.apply(x, axis=axis, keepdim=keepdim)
    return ValuesIndices(values, indices)


def max(x: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """The largest element, or ``(values, indices)`` along ``dim``.

    - ``max(x)``: a 0-d tensor; ties share the gradient evenly.
    - ``max(x, dim)``: a named tuple ``(values, indices)``; the gradient goes to the element at
      the returned index (the first maximal one).
    - ``max(a, b)`` with a tensor ``b``: the elementwise maximum.

    Example:
        >>> values, indices = chainrule.tensor([[1.0, 5.0], [7.0, 2.0]]).max(dim=1)
        >>> indices
        tensor([1, 0])
    """
    return _max_or_min(x, dim, keepdim, "max", maximum, Amax, MaxDim)


def min(x: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """The smallest element, or ``(values, indices)`` along ``dim`` (see ``max``)."""
    return _max_or_min(x, dim, keepdim, "min", minimum, Amin, MinDim)


def amax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The maximum over ``dim`` (int or tuple; every dim by default); ties share the gradient.

    Example:
        >>> chainrule.tensor([[1.0, 5.0], [7.0, 2.0]]).amax(dim=0)
        tensor([7., 5.])
    """
    axes = _axes(x, dim, "amax")
    _check_nonempty(x, "amax", axes)
    return Amax.apply(x, axes=axes, keepdim=keepdim)


def amin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The minimum over ``dim`` (int or tuple; every dim by default); ties share the gradient."""
    axes = _axes(x, dim, "amin")
    _check_nonempty(x, "amin", axes)
    return Amin.apply(x, axes=axes, keepdim=keepdim)


def _arg_extreme(x: Tensor, dim, keepdim: bool, op: str, pick) -> Tensor:
    xp = x._device.xp
    if x.data.dtype == bool:
        raise RuntimeError(f"{op}(): does not support bool input (as in PyTorch); use .int()")
    if dim is None:
        _check_nonempty(x, op, None)
        index = pick(x.data.reshape(-1))
        if keepdim:
            index = index.reshape((1,) * x.data.ndim)
        return Tensor._make(xp.asarray(index, dtype=xp.int64), x._device)
    axis = normalize_dim(dim, x.data.ndim, op)
    if x.data.ndim == 0:
        return Tensor._make(xp.zeros((), dtype=xp.int64), x._device)
    _check_nonempty(x, op, (axis,))
    index = pick(x.data, axis=axis)
    if keepdim:
        index = xp.expand_dims(index, axis)
    return Tensor._make(index.astype(xp.int64), x._device)


def argmax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The index of the (first) largest element, of the flattened tensor or along ``dim``.

    Not differentiable (an index is piecewise constant).

    Example:
        >>> chainrule.tensor([[1.0, 5.0], [7.0, 2.0]]).argmax(dim=1)
        tensor([1, 0])
    """
    return _arg_extreme(x, dim, keepdim, "argmax", x._device.xp.argmax)


def argmin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The index of the (first) smallest element, of the flattened tensor or along ``dim``."""
    return _arg_extreme(x, dim, keepdim, "argmin", x._device.xp.argmin)


def logsumexp(x: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, computed without overflow.

    Math: y = log sum_i e^(x_i);  dy/dx_i = softmax(x)_i.

    Example:
        >>> chainrule.tensor([10000.0, 10000.0]).logsumexp(0)
        tensor(10000.6934)
    """
    if x.data.dtype.kind != "f":
        x = cast(x, dtypes.get_default_dtype())
    return LogSumExp.apply(x, axes=_axes(x, dim, "logsumexp"), keepdim=keepdim)


def norm(x: Tensor, p=2, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """The vector p-norm over ``dim`` (every element by default): (sum_i |x_i|^p)^(1/p).

    Args:
        p: 2 or ``'fro'`` (Euclidean), 1, ``inf`` (max |x_i|), ``-inf`` (min |x_i|), 0 (the
            number of non-zero elements, not differentiable), or any positive float.
        dim: an int or a tuple of ints.

    At the zero vector the gradient is 0 (PyTorch's choice), not NaN.

    Example:
        >>> chainrule.tensor([3.0, 4.0]).norm()
        tensor(5.)
    """
    if dtype is not None:
        x = cast(x, dtype)
    if x.data.dtype.kind != "f":
        raise RuntimeError(f"norm(): Expected a floating point tensor as input. Got {x.dtype.name}")
    if p == "fro":
        p = 2
    if isinstance(p, str):
        raise NotImplementedError(f"norm(): p={p!r} is not supported (use 2/'fro', 1, inf, ...)")
    axes = _axes(x, dim, "norm")
    if p == math.inf:
        return amax(abs(x), dim, keepdim)
    if p == -math.inf:
        return amin(abs(x), dim, keepdim)
    if p == 0:
        nonzero = x._device.xp.sum(x.data != 0, axis=axes, keepdims=keepdim)
        return Tensor._make(x._device.xp.asarray(nonzero, dtype=x.data.dtype), x._device)
    if not p > 0:
        raise NotImplementedError(f"norm(): p={p} is not supported; p must be positive or inf")
    return Norm.apply(x, p=p, axes=axes, keepdim=keepdim)


def cumsum(x: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sums along ``dim``: y_i = x_0 + ... + x_i (bool/int inputs give int64).

    Example:
        >>> chainrule.tensor([1.0, 2.0, 3.0]).cumsum(0)
        tensor([1., 3., 6.])
    """
    axis = normalize_dim(dim, x.data.ndim, "cumsum")
    acc = None
    if dtype is not None:
        x = cast(x, dtype)
    elif x.data.dtype.kind in "biu":
        acc = dtypes.int64.np
    return Cumsum.apply(x, axis=axis if x.data.ndim else None, dtype=acc)


def cumprod(x: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running products along ``dim``: y_i = x_0 * ... * x_i (bool/int inputs give int64).

    Example:
        >>> chainrule.tensor([1.0, 2.0, 3.0]).cumprod(0)
        tensor([1., 2., 6.])
    """
    axis = normalize_dim(dim, x.data.ndim, "cumprod")
    acc = None
    if dtype is not None:
        x = cast(x, dtype)
    elif x.data.dtype.kind in "biu":
        acc = dtypes.int64.np
    return Cumprod.apply(x, axis=axis if x.data.ndim else None, dtype=acc)


def _truth(x: Tensor, dim, keepdim: bool, op: str) -> Tensor:
    xp = x._device.xp
    out = xp.asarray(getattr(xp, op)(x.data, axis=_axes(x, dim, op), keepdims=keepdim))
    # PyTorch keeps uint8 for uint8 inputs (a legacy of uint8 masks); bool otherwise.
    return Tensor._make(out.astype(xp.uint8) if x.data.dtype == xp.uint8 else out, x._device)


def all(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every element over ``dim`` is non-zero (a bool tensor; not differentiable)."""
    return _truth(x, dim, keepdim, "all")


def any(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where some element over ``dim`` is non-zero (a bool tensor; not differentiable)."""
    return _truth(x, dim, keepdim, "any")


def nansum(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The sum, nan elements counted as 0."""
    from chainrule.ops.elementwise import isnan, where

    return sum(where(isnan(x), 0.0, x), dim=dim, keepdim=keepdim)


def nanmean(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The mean of the elements that are not nan."""
    from chainrule.ops.elementwise import div, isnan, logical_not

    count = sum(logical_not(isnan(x)), dim=dim, keepdim=keepdim)
    return div(nansum(x, dim=dim, keepdim=keepdim), count)


def _kth_along(x: Tensor, k, dim, keepdim: bool, op: str, nan: str = "last"):
    """(values, indices) of the k-th smallest element (0-based) along ``dim``. NaN sorts last;
    ``nan="propagate"`` picks the first NaN of a slice that has one (``median``), and
    ``nan="omit"`` takes ``k`` as a function of each slice's count of numbers (``nanmedian``)."""
    from chainrule.ops.indexing import take_along_dim
    from chainrule.ops.sorting import argsort

    xp = x._device.xp
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError(f"{op}(): expected a non-empty tensor")
        values, idx = _kth_along(x.reshape(-1), k, 0, False, op, nan)
        return values, idx
    axis = normalize_dim(dim, x.ndim, op)
    if x.ndim == 0:
        return x.clone(), Tensor._make(xp.zeros((), dtype=xp.int64), x._device)
    n = x.shape[axis]
    order = argsort(x, axis, stable=True).data
    if nan == "last" or x.data.dtype.kind != "f":
        kk = k if isinstance(k, int) else k(n)
        if not 0 <= kk < n:
            raise RuntimeError(f"{op}(): selected number k out of range for dimension {axis}")
        idx = xp.take(order, [kk], axis=axis)
    else:
        # NaNs are sorted last, in their original order: the first NaN sits at position n - #nan.
        nans = xp.isnan(x.data).sum(axis=axis, keepdims=True)
        if nan == "propagate":
            kk = xp.where(nans > 0, n - nans, k(n))
        else:
            numbers = n - nans
            kk = xp.where(numbers > 0, k(xp.maximum(numbers, 1)), 0)
        idx = xp.take_along_axis(order, kk, axis=axis)
    values = take_along_dim(x, Tensor._make(idx, x._device), axis)
    if not keepdim:
        values, idx = values.squeeze(axis), xp.squeeze(idx, axis)
    return values, Tensor._make(idx, x._device)


def _lower_middle(n):
    return (n - 1) // 2


class ChosenValue(Function):
    """y = v, a value of x chosen by rank (the median of all elements);
    dy/dx_i = 1/k for each of the k elements equal to v (the NaNs when v is NaN), else 0."""

    rule = "d median(x)/dx_i = 1/k if x_i is one of the k elements equal to the median, else 0"

    @staticmethod
    def forward(ctx, x, value):
        xp = ctx.xp
        mask = (x == value) | (xp.isnan(x) & xp.isnan(value))
        ctx.save_for_backward(mask)
        return value.copy()

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return mask * (grad / mask.sum(dtype=grad.dtype)), None


def _median_of_all(x: Tensor, op: str, nan: str) -> Tensor:
    """The median of every element as a 0-d tensor; ties share its gradient, as in PyTorch."""
    with no_grad():
        value, _ = _kth_along(x, _lower_middle, None, False, op, nan=nan)
    return ChosenValue.apply(x, value.data)


def median(x: Tensor, dim=None, keepdim: bool = False):
    """The lower median (the smaller middle element for an even count); NaN where a slice has
    a NaN, as in PyTorch. Without ``dim``: a 0-d tensor; with ``dim``: (values, indices).
    Values are differentiable."""
    if dim is None:
        return _median_of_all(x, "median", "propagate")
    values, indices = _kth_along(x, _lower_middle, dim, keepdim, "median", nan="propagate")
    from chainrule.ops.sorting import SortResult

    return SortResult(values, indices)


def nanmedian(x: Tensor, dim=None, keepdim: bool = False):
    """``median`` ignoring NaNs (NaN only where a slice is all NaN)."""
    if dim is None:
        return _median_of_all(x, "nanmedian", "omit")
    values, indices = _kth_along(x, _lower_middle, dim, keepdim, "nanmedian", nan="omit")
    from chainrule.ops.sorting import SortResult

    return SortResult(values, indices)


def kthvalue(x: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """(values, indices) of the k-th smallest element (1-based k) along ``dim``."""
    from chainrule.ops.sorting import SortResult

    return SortResult(*_kth_along(x, k - 1, dim, keepdim, "kthvalue"))


# ---------------------------------------------------------------- running extremes and friends


class LogCumSumExp(Function):
    """y_i = log sum_{j <= i} e^(x_j) along one dim (a running logaddexp, no overflow);
    dL/dx_j = sum_{i >= j} dL/dy_i e^(x_j - y_i), summed in log space by the sign of dL/dy."""

    rule = "d logcumsumexp(x)_i/dx_j = exp(x_j - y_i) if j <= i else 0"

    @staticmethod
    def forward(ctx, x, axis):
        out = ctx.xp.logaddexp.accumulate(x, axis=axis)
        ctx.save_for_backward(x, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        xp, axis = ctx.xp, ctx.axis

        def reversed_logcumsumexp(v):
            return xp.flip(xp.logaddexp.accumulate(xp.flip(v, axis), axis=axis), axis)

        with _ignore_errors(xp):  # log(0) = -inf for the zero parts of the split gradient
            pos = reversed_logcumsumexp(xp.log(xp.maximum(grad, 0)) - out)
            neg = reversed_logcumsumexp(xp.log(xp.maximum(-grad, 0)) - out)
            return (xp.exp(x + pos) - xp.exp(x + neg)).astype(x.dtype, copy=False)


def logcumsumexp(x: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(x))) along ``dim``, computed without overflow or underflow."""
    from chainrule.ops.elementwise import _to_float

    x = _to_float(x)
    if x.ndim == 0:
        return x.clone()
    return LogCumSumExp.apply(x, axis=normalize_dim(dim, x.ndim, "logcumsumexp"))


def _running_extreme(x: Tensor, dim: int, op: str, accumulate):
    """(values, indices) of the running max/min along ``dim``: the index is the last position
    that reached the current extreme (ties and NaN included), as in PyTorch."""
    from chainrule.ops.indexing import gather

    xp = x._device.xp
    if x.ndim == 0:
        return ValuesIndices(x.clone(), Tensor._make(xp.zeros((), xp.int64), x._device))
    axis = normalize_dim(dim, x.ndim, op)
    a = x.data
    running = accumulate(a, axis=axis)
    hit = a == running
    if a.dtype.kind == "f":
        hit |= xp.isnan(a)
    shape = [1] * a.ndim
    shape[axis] = a.shape[axis]
    positions = xp.where(hit, xp.arange(a.shape[axis]).reshape(shape), 0)
    index = Tensor._make(xp.maximum.accumulate(positions, axis=axis), x._device)
    return ValuesIndices(gather(x, axis, index), index)


def cummax(x: Tensor, dim: int):
    """(values, indices) of the running maximum along ``dim``; values are differentiable."""
    return _running_extreme(x, dim, "cummax", x._device.xp.maximum.accumulate)


def cummin(x: Tensor, dim: int):
    """(values, indices) of the running minimum along ``dim``; values are differentiable."""
    return _running_extreme(x, dim, "cummin", x._device.xp.minimum.accumulate)


class MinMax(NamedTuple):
    """What ``aminmax`` returns."""

    min: Tensor
    max: Tensor


def aminmax(x: Tensor, *, dim=None, keepdim: bool = False) -> MinMax:
    """(min, max) over ``dim`` (every element by default)."""
    return MinMax(amin(x, dim, keepdim), amax(x, dim, keepdim))


def var_mean(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """(var, mean) over ``dim`` (see ``var``)."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return var(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def std_mean(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """(std, mean) over ``dim`` (see ``std``)."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return std(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def dist(a: Tensor, b: Tensor, p=2) -> Tensor:
    """The p-norm of a - b (broadcasting)."""
    return norm(sub(a, b), p)


def _quantile(x: Tensor, q, dim, keepdim: bool, interpolation: str, op: str, ignore_nan: bool):
    from chainrule.ops.elementwise import where
    from chainrule.ops.indexing import gather
    from chainrule.ops.sorting import sort

    modes = ("linear", "lower", "higher", "midpoint", "nearest")
    if interpolation not in modes:
        raise ValueError(f"{op}() interpolation must be one of {modes}, got '{interpolation}'")
    if x.data.dtype.kind != "f":
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype")
    xp = x._device.xp
    scalar_q = not isinstance(q, Tensor)
    qs = xp.asarray([q] if scalar_q else q.data, dtype=x.data.dtype).reshape(-1)
    if not scalar_q and q.ndim > 1:
        raise RuntimeError(f"{op}() q must be a scalar or 1D tensor, got shape {list(q.shape)}")
    if ((qs < 0) | (qs > 1)).any():
        raise RuntimeError(f"{op}() q values must be in the range [0, 1]")
    if x.numel() == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty")
    if dim is None:
        src, axis = x.reshape(-1), 0
    else:
        axis = normalize_dim(dim, x.ndim, op) if x.ndim else 0
        src = x.reshape(1) if x.ndim == 0 else x
    moved = src.movedim(axis, -1)
    ordered = sort(moved, -1).values  # NaN last
    n = ordered.shape[-1]
    nans = xp.isnan(moved.data).sum(axis=-1, keepdims=True)  # (..., 1)
    valid = (n - nans) if ignore_nan else xp.full_like(nans, n)
    rank = qs * xp.maximum(valid - 1, 0).astype(x.data.dtype)  # (..., len(q))
    if interpolation == "lower":
        rank = xp.floor(rank)
    elif interpolation == "higher":
        rank = xp.ceil(rank)
    elif interpolation == "nearest":
        rank = xp.round(rank)  # half to even, as PyTorch
    below = xp.floor(rank).astype(xp.int64)
    above = xp.minimum(below + 1, xp.maximum(valid - 1, 0))
    lo = gather(ordered, -1, Tensor._make(below, x._device))
    hi = gather(ordered, -1, Tensor._make(above, x._device))
    weight = rank - below
    if interpolation == "midpoint":
        weight = xp.where(rank > below, 0.5, 0.0).astype(x.data.dtype)
    w = Tensor._make(weight.astype(x.data.dtype), x._device)
    out = lo + (hi - lo) * w
    # A NaN in the slice makes quantile NaN; nanquantile is NaN only for an all-NaN slice.
    bad = (nans > 0) if not ignore_nan else (valid == 0)
    if bad.any():
        out = where(Tensor._make(xp.broadcast_to(bad, out.shape), x._device), float("nan"), out)
    out = out.movedim(-1, 0)  # (len(q), ...)
    if keepdim:
        if dim is None:
            out = out.reshape((out.shape[0],) + (1,) * x.ndim)
        else:
            out = out.unsqueeze(axis + 1) if x.ndim else out
    return out[0] if scalar_q else out


def quantile(x: Tensor, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):
    """The q-th quantiles (q a number or a 1-D tensor in [0, 1]) over ``dim`` (every element by
    default), interpolating between order statistics; NaN where a slice holds a NaN. With a
    tensor q, the quantiles form a new first dim. Differentiable through the sorted values."""
    return _quantile(x, q, dim, keepdim, interpolation, "quantile", ignore_nan=False)


def nanquantile(x: Tensor, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):
    """``quantile`` ignoring NaNs (NaN only for an all-NaN slice)."""
    return _quantile(x, q, dim, keepdim, interpolation, "nanquantile", ignore_nan=True)


def mode(x: Tensor, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
    """(values, indices) of the most frequent value along ``dim`` (the smallest among equally
    frequent ones) and the last position where it occurs; values are differentiable."""
    from chainrule.ops.indexing import gather
    from chainrule.ops.sorting import argsort

    xp = x._device.xp
    if x.ndim == 0:
        return ValuesIndices(x.clone(), Tensor._make(xp.zeros((), xp.int64), x._device))
    axis = normalize_dim(dim, x.ndim, "mode")
    a = xp.moveaxis(x.data, axis, -1)
    n = a.shape[-1]
    if n == 0:
        raise IndexError(f"mode(): Expected reduction dim {axis} to have non-zero size")
    order = argsort(Tensor._make(a, x._device), -1, stable=True).data
    s = xp.take_along_axis(a, order, -1)
    pos = xp.broadcast_to(xp.arange(n), s.shape)
    new_run = xp.concatenate([xp.ones(s.shape[:-1] + (1,), bool), s[..., 1:] != s[..., :-1]], -1)
    run_start = xp.maximum.accumulate(xp.where(new_run, pos, 0), axis=-1)
    ends = xp.concatenate([new_run[..., 1:], xp.ones(s.shape[:-1] + (1,), bool)], -1)
    run_end = xp.flip(xp.minimum.accumulate(xp.flip(xp.where(ends, pos, n), -1), axis=-1), -1)
    counts = run_end - run_start + 1
    best = xp.argmax(counts, axis=-1)[..., None]  # first, i.e. smallest value, of the longest
    last = xp.take_along_axis(run_end, best, -1)  # the run's last sorted position...
    index = xp.take_along_axis(order, last, -1)  # ...is the value's last original position
    index = xp.moveaxis(index, -1, axis)
    values = gather(x, axis, Tensor._make(index, x._device))
    if not keepdim:
        values, index = values.squeeze(axis), xp.squeeze(index, axis)
    return ValuesIndices(values, Tensor._make(index, x._device))


def cov(x: Tensor, *, correction: int = 1, fweights=None, aweights=None) -> Tensor:
    """The covariance matrix of the variables in x's rows (observations in columns); a 1-D x
    is one variable. ``fweights`` (integer) and ``aweights`` weigh the observations."""
    from chainrule.ops.linalg import matmul

    if x.ndim > 2:
        raise ValueError(
            f"cov(): expected input to have two or fewer dimensions but got an "
            f"input with {x.ndim} dimensions"
        )
    obs = x.reshape(1, -1) if x.ndim < 2 else x
    if obs.data.dtype.kind != "f":
        from chainrule.ops.elementwise import _to_float

        obs = _to_float(obs)
    n = obs.shape[1]
    w = None
    if fweights is not None:
        w = fweights
    if aweights is not None:
        w = aweights if w is None else w * aweights
    if w is None:
        avg = mean(obs, 1, keepdim=True)
        norm_factor = n - correction
        centered = sub(obs, avg)
        weighted = centered
    else:
        w = w.to(obs.dtype)
        w_sum = sum(w)
        avg = div(sum(obs * w, 1, keepdim=True), w_sum)
        if aweights is None or correction == 0:
            norm_factor = w_sum - correction
        else:
            norm_factor = w_sum - correction * sum(w * aweights) / w_sum
        centered = sub(obs, avg)
        weighted = centered * w
    if not isinstance(norm_factor, Tensor):
        norm_factor = float(builtins.max(norm_factor, 0))
    else:
        norm_factor = norm_factor.clamp(min=0)
    with _ignore_errors(x._device.xp):
        c = div(matmul(weighted, centered.transpose(0, 1)), norm_factor)
    return c.reshape(()) if x.ndim < 2 else c


def corrcoef(x: Tensor) -> Tensor:
    """Pearson correlation coefficients of the variables in x's rows, clipped to [-1, 1]."""
    from chainrule.ops.elementwise import sqrt

    c = cov(x)
    if c.ndim == 0:
        return div(c, c)
    d = c.diagonal()
    with _ignore_errors(x._device.xp):
        r = div(div(c, sqrt(d).unsqueeze(1)), sqrt(d).unsqueeze(0))
    return r.clamp(-1.0, 1.0)


def _trapezoids(y: Tensor, x, dx, dim: int, op: str):
    """The trapezoids' areas along ``dim`` (one fewer than y's samples there) and that axis:
    (y_i + y_(i+1)) / 2 times the spacing (``dx``, 1 by default, or the gaps of ``x``)."""
    axis = normalize_dim(dim, y.ndim, op)
    n = builtins.max(y.shape[axis] - 1, 0)
    heights = y.narrow(axis, 0, n) + y.narrow(axis, 1, n)
    if isinstance(x, Tensor):
        gaps = x.diff(dim=-1 if x.ndim == 1 else axis)
        if x.ndim == 1:
            shape = [1] * y.ndim
            shape[axis] = n
            gaps = gaps.reshape(shape)
        return heights * gaps / 2.0, axis
    spacing = 1.0 if x is None and dx is None else float(x if x is not None else dx)
    return heights * (spacing / 2.0), axis


def trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The trapezoidal rule along ``dim``: the sum of the trapezoids between samples, with
    spacing ``dx`` (1 by default) or the sample points ``x``."""
    areas, axis = _trapezoids(y, x, dx, dim, "trapezoid")
    return sum(areas, axis)


trapz = trapezoid


def cumulative_trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The running trapezoidal rule along ``dim`` (one element fewer than y there)."""
    areas, axis = _trapezoids(y, x, dx, dim, "cumulative_trapezoid")
    return cumsum(areas, axis)


def equal(a: Tensor, b: Tensor) -> bool:
    """True if a and b have the same shape and the same values (NaN never equals)."""
    if tuple(a.shape) != tuple(b.shape):
        return False
    return bool((a.data == b.data).all())
