"""Movement ops: reshape, permute, expand, cat/stack, narrow/split, flip, roll, pad, tril/triu,
clone.

None of these changes a value, only where it sits, so every backward moves the gradient back
to where its input element came from, summing where one input element fed several outputs
(expand, the edges of reflect/replicate/circular padding).

As in PyTorch, reshape (when the memory allows it), permute/transpose, expand,
squeeze/unsqueeze/flatten and narrow/split/chunk/unbind return views that share memory and
the version counter with their input; flip, roll, cat, stack, pad, repeat, tril/triu and
clone return new memory.
"""

from __future__ import annotations

import math

from chainrule import dtypes
from chainrule.autograd.function import Function
from chainrule.backend import scatter_add
from chainrule.ops.common import (
    cast,
    linear_backward_graph,
    normalize_dim,
    normalize_dims,
    rerun_forward,
)
from chainrule.tensor import Tensor

# ---------------------------------------------------------------- helpers


def _as_view(out: Tensor, x: Tensor) -> Tensor:
    """Mark ``out`` as a view of ``x`` when its array really shares x's memory, so that an
    in-place change of one bumps the version counter both see."""
    base = out.data.base
    if base is not None:
        # NumPy (and CuPy) point a view's base at the array that owns the memory.
        root = x.data.base if x.data.base is not None else x.data
        if base is root:
            out._mark_view(x)
    return out


def _shares_memory(out: Tensor, x: Tensor) -> bool:
    base = out.data.base
    return base is not None and base is (x.data.base if x.data.base is not None else x.data)


def _ints(values, op: str) -> tuple:
    """A tuple of Python ints from an int, a sequence or a Size (Tensors with __index__ too)."""
    if isinstance(values, int) or hasattr(values, "__index__"):
        return (int(values),)
    try:
        return tuple(int(v) for v in values)
    except TypeError:
        raise TypeError(f"{op}: expected an int or a sequence of ints, got {values!r}") from None


def _along(axis: int, index) -> tuple:
    """The index tuple that applies ``index`` to dim ``axis`` and takes everything elsewhere."""
    return (slice(None),) * axis + (index,)


def _infer_shape(shape: tuple, x: Tensor, op: str) -> tuple:
    """``shape`` with a -1 replaced by the size that keeps the number of elements."""
    numel = x.data.size
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred, got shape {list(shape)}")
    if any(s < -1 for s in shape):
        raise RuntimeError(f"{op}: invalid shape dimension in {list(shape)}")
    known = math.prod(s for s in shape if s != -1)
    if unknown:
        if known == 0:
            raise RuntimeError(
                f"{op}: cannot reshape tensor of 0 elements into shape {list(shape)} because "
                "the unspecified dimension size -1 can be any value and is ambiguous"
            )
        if numel % known == 0:
            shape = shape[: unknown[0]] + (numel // known,) + shape[unknown[0] + 1 :]
            known = numel
    if known != numel:
        raise RuntimeError(
            f"{op}: shape {list(shape)} is invalid for input of shape {list(x.shape)} "
            f"(size {numel})"
        )
    return shape


def _promote(tensors, op: str) -> list:
    """The tensors converted to their common dtype (PyTorch's promotion for cat/stack)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"{op}(): expected a sequence of Tensors, got {type(t).__name__} at {i}"
            )
    first = tensors[0].data.dtype
    if all(t.data.dtype == first for t in tensors):
        return tensors
    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = dtypes.promote_types(dt, t.dtype)
    return [cast(t, dt) for t in tensors]


# ---------------------------------------------------------------- primitives


class Reshape(Function):
    """y = x with a new shape (the same elements in row-major order);  dy/dx = 1."""

    rule = "d reshape(x)/dx = 1 (the gradient is reshaped back)"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)

    @staticmethod
    def backward_graph(ctx, grad):
        return grad.reshape(ctx.shape)


class Permute(Function):
    """y = x with its dims reordered, y.shape[i] = x.shape[dims[i]];  dy/dx = 1."""

    rule = "d permute(x, dims)/dx = 1 (the gradient takes the inverse permutation)"

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return ctx.xp.transpose(x, dims)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return ctx.xp.transpose(grad, inverse)

    @staticmethod
    def backward_graph(ctx, grad):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return grad.permute(*inverse)


class Expand(Function):
    """y = x broadcast to a larger shape (a read-only view);  dL/dx = dL/dy summed over the
    new and the stretched size-1 dims."""

    rule = "d expand(x)/dx: every copy of x_i passes its gradient back, so they add up"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return ctx.xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        # The engine's unbroadcast is exactly this sum (imported here: engine imports ops).
        from chainrule.autograd.engine import unbroadcast

        return unbroadcast(grad, ctx.shape, ctx)

    @staticmethod
    def backward_graph(ctx, grad):
        return grad  # the engine sums it back to the input's shape


class Narrow(Function):
    """y = x[..., start:start + length, ...] along one dim (a view);  dL/dx = dL/dy in that
    slice and 0 elsewhere."""

    rule = "d narrow(x)/dx_i = 1 inside the slice, 0 outside"

    @staticmethod
    def forward(ctx, x, axis, start, length):
        ctx.shape = x.shape
        ctx.index = _along(axis, slice(start, start + length))
        return x[ctx.index]

    @staticmethod
    def backward(ctx, grad):
        out = ctx.xp.zeros(ctx.shape, dtype=grad.dtype)
        out[ctx.index] = grad
        return out

    backward_graph = staticmethod(linear_backward_graph)


class Cat(Function):
    """y = the inputs joined along one dim;  dL/dx_k = the slice of dL/dy that x_k filled."""

    rule = "d cat(x_1, ..., x_n)/dx_k = 1 on x_k's slice of the output"

    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        ctx.sizes = [a.shape[axis] for a in arrays]
        return ctx.xp.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        grads, start = [], 0
        for size, need in zip(ctx.sizes, ctx.needs_input_grad):
            grads.append(grad[_along(ctx.axis, slice(start, start + size))] if need else None)
            start += size
        return tuple(grads)

    @staticmethod
    def backward_graph(ctx, grad):
        pieces, start = [], 0
        for x in ctx.inputs:
            n = x.shape[ctx.axis]
            pieces.append(grad.narrow(ctx.axis, start, n))
            start += n
        return tuple(pieces)


class Stack(Function):
    """y = the inputs stacked along a new dim;  dL/dx_k = dL/dy at index k of that dim."""

    rule = "d stack(x_1, ..., x_n)/dx_k = 1 at index k of the new dim"

    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        return ctx.xp.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(
            grad[_along(ctx.axis, k)] if need else None
            for k, need in enumerate(ctx.needs_input_grad)
        )

    @staticmethod
    def backward_graph(ctx, grad):
        return tuple(grad.select(ctx.axis, i) for i in range(len(ctx.inputs)))


class Flip(Function):
    """y = x reversed along ``dims``;  dL/dx = dL/dy reversed along the same dims."""

    rule = "d flip(x)/dx = 1 (the gradient is flipped back)"

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        # NumPy's flip is a view; PyTorch's flip returns new memory, so copy.
        return ctx.xp.flip(x, axis=dims).copy()

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.flip(grad, axis=ctx.dims)

    backward_graph = staticmethod(linear_backward_graph)


class Roll(Function):
    """y = x shifted cyclically by ``shifts`` along ``dims``;  dL/dx = dL/dy shifted back."""

    rule = "d roll(x, s)/dx = 1 (the gradient is rolled by -s)"

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return ctx.xp.roll(x, shifts, axis=dims)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.roll(grad, tuple(-s for s in ctx.shifts), axis=ctx.dims)

    backward_graph = staticmethod(linear_backward_graph)


class Tril(Function):
    """y = x on and below the k-th diagonal, 0 above;  dL/dx = tril(dL/dy, k)."""

    rule = "d tril(x)/dx_ij = 1 if j - i <= k else 0"

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return ctx.xp.tril(x, k)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.tril(grad, ctx.k)

    backward_graph = staticmethod(linear_backward_graph)


class Triu(Function):
    """y = x on and above the k-th diagonal, 0 below;  dL/dx = triu(dL/dy, k)."""

    rule = "d triu(x)/dx_ij = 1 if j - i >= k else 0"

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return ctx.xp.triu(x, k)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.triu(grad, ctx.k)

    backward_graph = staticmethod(linear_backward_graph)


class Pad(Function):
    """y = x with ``value`` added at the edges of some dims (negative widths crop);
    dL/dx = dL/dy without the added edges (0 for the cropped elements)."""

    rule = "d pad(x)/dx_i = 1 for the elements kept, 0 for the cropped ones"

    @staticmethod
    def forward(ctx, x, widths, value):
        xp = ctx.xp
        # inner: where the kept elements go in y; kept: which elements of x are kept.
        inner = tuple(
            slice(max(b, 0), max(b, 0) + n + min(b, 0) + min(a, 0))
            for (b, a), n in zip(widths, x.shape)
        )
        kept = tuple(slice(-min(b, 0), n + min(a, 0)) for (b, a), n in zip(widths, x.shape))
        shape = tuple(n + b + a for (b, a), n in zip(widths, x.shape))
        ctx.shape, ctx.inner, ctx.kept = x.shape, inner, kept
        out = xp.full(shape, value, dtype=x.dtype)
        out[inner] = x[kept]
        return out

    @staticmethod
    def backward(ctx, grad):
        kept = grad[ctx.inner]
        if kept.shape == ctx.shape:
            return kept
        out = ctx.xp.zeros(ctx.shape, dtype=grad.dtype)
        out[ctx.kept] = kept
        return out

    # create_graph: cropping's adjoint is padding with zeros (not with ``value``)
    backward_graph = staticmethod(linear_backward_graph)

    @staticmethod
    def backward_adjoint(node, grad):
        return rerun_forward(node, grad, value=0)

    @staticmethod
    def backward_adjoint_graph(node, grad):
        return Pad.apply(grad, widths=node.attrs["widths"], value=0)


class PadIndexed(Function):
    """y = x extended at the edges of some dims by copies of its own elements (reflect,
    replicate, circular): y = x[sources] dim by dim;  dL/dx_j = sum of dL/dy_i over the i
    whose source is j."""

    rule = "d pad(x)/dx_j = number of output positions copied from x_j (gradients add up)"

    @staticmethod
    def forward(ctx, x, sources):
        xp = ctx.xp
        shapes = []
        out = x
        for axis, index in sources:
            shapes.append(out.shape)
            out = xp.take(out, index, axis=axis)
        ctx.sources, ctx.shapes = sources, shapes
        return out

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        for (axis, index), shape in zip(reversed(ctx.sources), reversed(ctx.shapes)):
            g = xp.zeros(shape, dtype=grad.dtype)
            # An element copied to several positions receives the sum of their gradients.
            scatter_add(xp, g, _along(axis, index), grad)
            grad = g
        return grad

    backward_graph = staticmethod(linear_backward_graph)


class Clone(Function):
    """y = a copy of x in new, contiguous (row-major) memory;  dy/dx = 1."""

    rule = "d clone(x)/dx = 1"

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad

    @staticmethod
    def backward_graph(ctx, grad):
        return grad


# ---------------------------------------------------------------- shapes


def reshape(x: Tensor, shape) -> Tensor:
    """The same elements (in row-major order) with a new shape; one size may be -1.

    A view of ``x`` when the memory layout allows it, else a copy (as in PyTorch).

    Example:
        >>> chainrule.arange(6).reshape(2, -1).shape
        chainrule.Size([2, 3])
    """
    shape = _infer_shape(_ints(shape, "reshape"), x, "reshape")
    return _as_view(Reshape.apply(x, shape=shape), x)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one (a 0-d tensor becomes shape (1,))."""
    if x.data.ndim == 0:
        return reshape(x, (1,))
    start = normalize_dim(start_dim, x.data.ndim, "flatten")
    end = normalize_dim(end_dim, x.data.ndim, "flatten")
    if start > end:
        raise RuntimeError(
            f"flatten() has invalid args: start_dim ({start_dim}) cannot come after "
            f"end_dim ({end_dim})"
        )
    shape = x.shape
    return reshape(x, shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :])


def unflatten(x: Tensor, dim: int, sizes) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one of which may be -1)."""
    d = normalize_dim(dim, x.data.ndim, "unflatten")
    sizes = _ints(sizes, "unflatten")
    n = x.shape[d]
    known = math.prod(s for s in sizes if s != -1)
    if sizes.count(-1) > 1:
        raise RuntimeError("unflatten: only one dimension can be inferred")
    if -1 in sizes and known and n % known == 0:
        sizes = tuple(n // known if s == -1 else s for s in sizes)
    if -1 in sizes or math.prod(sizes) != n:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim "
            f"{dim} ({n}) in the input tensor of shape {list(x.shape)}"
        )
    return reshape(x, x.shape[:d] + sizes + x.shape[d + 1 :])


def squeeze(x: Tensor, dim=None) -> Tensor:
    """Remove dims of size 1: all of them, or those among ``dim`` (an int or a tuple) that
    have size 1 (other dims in ``dim`` are left alone, as in PyTorch)."""
    dims = normalize_dims(dim, x.data.ndim, "squeeze")
    shape = x.shape
    drop = range(len(shape)) if dims is None else dims
    new = tuple(s for i, s in enumerate(shape) if not (i in drop and s == 1))
    return reshape(x, new)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a dim of size 1 at position ``dim`` (in ``[-ndim - 1, ndim]``)."""
    d = normalize_dim(dim, x.data.ndim + 1, "unsqueeze")
    shape = x.shape
    return reshape(x, shape[:d] + (1,) + shape[d:])


def permute(x: Tensor, dims) -> Tensor:
    """Reorder the dims: ``y.shape[i] = x.shape[dims[i]]`` (a view).

    Example:
        >>> chainrule.zeros(2, 3, 4).permute(2, 0, 1).shape
        chainrule.Size([4, 2, 3])
    """
    dims = _ints(dims, "permute")
    ndim = x.data.ndim
    if len(dims) != ndim:
        raise RuntimeError(
            f"permute: number of dims don't match: the input has {ndim} dims (shape "
            f"{list(x.shape)}) but dims={list(dims)} has {len(dims)}"
        )
    dims = tuple(normalize_dim(d, ndim, "permute") for d in dims)
    if len(set(dims)) != ndim:
        raise RuntimeError(f"permute(): duplicate dims are not allowed, got {list(dims)}")
    return _as_view(Permute.apply(x, dims=dims), x)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims (a view)."""
    ndim = x.data.ndim
    a = normalize_dim(dim0, ndim, "transpose")
    b = normalize_dim(dim1, ndim, "transpose")
    dims = list(range(ndim))
    if ndim:
        dims[a], dims[b] = dims[b], dims[a]
    return permute(x, dims)


def movedim(x: Tensor, source, destination) -> Tensor:
    """Move dims ``source`` to positions ``destination`` (ints or sequences of equal length),
    keeping the other dims in order."""
    ndim = x.data.ndim
    src = tuple(normalize_dim(d, ndim, "movedim") for d in _ints(source, "movedim"))
    dst = tuple(normalize_dim(d, ndim, "movedim") for d in _ints(destination, "movedim"))
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
            f"contain the same number of dims as destination ({list(dst)} dims)"
        )
    for name, ds in (("source", src), ("destination", dst)):
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(ds)})")
    order = [d for d in range(ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(x, order)


def expand(x: Tensor, shape) -> Tensor:
    """``x`` broadcast to ``shape`` without copying (a read-only view); -1 keeps a size.

    New dims are added in front; a size-1 dim can be stretched to any size. Backward sums
    the gradient over the stretched dims.

    Example:
        >>> chainrule.tensor([[1.0], [2.0]]).expand(2, 3).shape
        chainrule.Size([2, 3])
    """
    shape = _ints(shape, "expand")
    old = x.shape
    lead = len(shape) - len(old)
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(shape)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({len(old)}); shape {list(old)}"
        )
    new = []
    for i, s in enumerate(shape):
        if i < lead:
            if s < 0:
                raise RuntimeError(
                    f"expand: the expanded size of the tensor ({s}) isn't allowed in a "
                    f"leading, non-existing dimension {i}"
                )
            new.append(s)
            continue
        n = old[i - lead]
        if s == -1:
            s = n
        elif n != 1 and s != n:
            raise RuntimeError(
                f"expand: the expanded size of the tensor ({s}) must match the existing size "
                f"({n}) at non-singleton dimension {i}. Target sizes: {list(shape)}. "
                f"Tensor sizes: {list(old)}"
            )
        new.append(s)
    return _as_view(Expand.apply(x, shape=tuple(new)), x)


def repeat(x: Tensor, sizes) -> Tensor:
    """Tile ``x``: ``sizes[i]`` copies along dim i (new leading dims when ``sizes`` is longer).

    Composed as reshape -> expand -> reshape: x viewed as (1, n0, 1, n1, ...), expanded to
    (r0, n0, r1, n1, ...), then merged to (r0 n0, r1 n1, ...). Always new memory.

    Example:
        >>> chainrule.tensor([1.0, 2.0]).repeat(2, 2)
        tensor([[1., 2., 1., 2.],
                [1., 2., 1., 2.]])
    """
    sizes = _ints(sizes, "repeat")
    if len(sizes) < x.data.ndim:
        raise RuntimeError(
            f"repeat: Number of dimensions of repeat dims ({len(sizes)}) can not be smaller "
            f"than number of dimensions of tensor ({x.data.ndim}, shape {list(x.shape)})"
        )
    if any(r < 0 for r in sizes):
        raise RuntimeError(f"repeat: repeats must be non-negative, got {list(sizes)}")
    shape = (1,) * (len(sizes) - x.data.ndim) + tuple(x.shape)
    spread = tuple(v for n in shape for v in (1, n))
    copies = tuple(v for r, n in zip(sizes, shape) for v in (r, n))
    out = reshape(expand(reshape(x, spread), copies), tuple(r * n for r, n in zip(sizes, shape)))
    if _shares_memory(out, x):  # e.g. all repeats 1: still a copy, as in PyTorch
        out = clone(out)
    return out


def tile(x: Tensor, dims) -> Tensor:
    """Like ``repeat``, but ``dims`` shorter than x's dims is padded with 1s in front."""
    dims = _ints(dims, "tile")
    return repeat(x, (1,) * (x.data.ndim - len(dims)) + dims)


# ---------------------------------------------------------------- joining and splitting


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dim; the other dims must match.

    Example:
        >>> chainrule.cat([chainrule.zeros(2, 3), chainrule.ones(1, 3)]).shape
        chainrule.Size([3, 3])
    """
    tensors = _promote(tensors, "cat")
    # PyTorch's legacy rule: 1-d empty tensors are skipped when joining bigger ones.
    if any(t.data.ndim != 1 for t in tensors):
        kept = [t for t in tensors if t.data.shape != (0,)]
        tensors = kept or tensors[:1]
    ref = tensors[0]
    for i, t in enumerate(tensors):
        if t.data.ndim == 0:
            raise RuntimeError(
                f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated"
            )
    axis = normalize_dim(dim, ref.data.ndim, "cat")
    for i, t in enumerate(tensors):
        if t.data.ndim != ref.data.ndim:
            raise RuntimeError(
                f"cat: Tensors must have same number of dimensions: got {ref.data.ndim} and "
                f"{t.data.ndim} (shapes {list(ref.shape)} and {list(t.shape)})"
            )
        for d in range(ref.data.ndim):
            if d != axis and t.shape[d] != ref.shape[d]:
                raise RuntimeError(
                    f"cat: Sizes of tensors must match except in dimension {axis}. Expected size "
                    f"{ref.shape[d]} but got size {t.shape[d]} for tensor number {i} in the list "
                    f"(shapes {list(ref.shape)} and {list(t.shape)})."
                )
    return Cat.apply(*tensors, axis=axis)


def concat(tensors, dim: int = 0) -> Tensor:
    """Alias of ``cat``."""
    return cat(tensors, dim)


def concatenate(tensors, axis: int = 0) -> Tensor:
    """Alias of ``cat`` (NumPy's argument name, as in PyTorch)."""
    return cat(tensors, axis)


def stack(tensors, dim: int = 0) -> Tensor:
    """Join same-shape tensors along a new dim ``dim`` (in ``[-ndim - 1, ndim]``).

    Example:
        >>> chainrule.stack([chainrule.zeros(3), chainrule.ones(3)], dim=1).shape
        chainrule.Size([3, 2])
    """
    tensors = _promote(tensors, "stack")
    ref = tensors[0]
    for i, t in enumerate(tensors):
        if t.shape != ref.shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(ref.shape)} at "
                f"entry 0 and {list(t.shape)} at entry {i}"
            )
    axis = normalize_dim(dim, ref.data.ndim + 1, "stack")
    return Stack.apply(*tensors, axis=axis)


def _split_dim(x: Tensor, dim: int, op: str) -> int:
    if x.data.ndim == 0:
        raise IndexError(f"{op}: Dimension specified as {dim} but tensor has no dimensions")
    return normalize_dim(dim, x.data.ndim, op)


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``x[..., start:start + length, ...]`` along ``dim`` (a view)."""
    axis = _split_dim(x, dim, "narrow")
    n = x.shape[axis]
    if start < 0:
        start += n
    if length < 0 or not 0 <= start <= n or start + length > n:
        raise RuntimeError(
            f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n}) of dim "
            f"{dim} (shape {list(x.shape)}), or is negative"
        )
    return _as_view(Narrow.apply(x, axis=axis, start=start, length=length), x)


def split(x: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Cut ``x`` along ``dim`` into pieces of ``split_size`` (the last may be smaller) or of
    the given list of sizes. Returns a tuple of views."""
    axis = _split_dim(x, dim, "split")
    n = x.shape[axis]
    if isinstance(split_size_or_sections, int) or hasattr(split_size_or_sections, "__index__"):
        size = int(split_size_or_sections)
        if size < 0 or (size == 0 and n != 0):
            raise RuntimeError(
                f"split: split_size can only be 0 if dimension size is 0, and never negative, "
                f"but got split_size={size} for dimension {dim} of size {n}"
            )
        if size == 0:
            sizes = [0]
        else:
            sizes = [size] * (n // size) + ([n % size] if n % size else [])
    else:
        sizes = list(_ints(split_size_or_sections, "split"))
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                f"size at dimension {dim}, shape {list(x.shape)}), but got split_sizes={sizes}"
            )
    pieces, start = [], 0
    for size in sizes:
        pieces.append(narrow(x, axis, start, size))
        start += size
    return tuple(pieces)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Cut ``x`` along ``dim`` into ``chunks`` pieces of size ceil(n / chunks) (fewer pieces
    when n is small, as in PyTorch). Returns a tuple of views."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    axis = _split_dim(x, dim, "chunk")
    n = x.shape[axis]
    if n == 0:
        return tuple(narrow(x, axis, 0, 0) for _ in range(chunks))
    return split(x, -(-n // chunks), axis)


def unbind(x: Tensor, dim: int = 0) -> tuple:
    """The slices of ``x`` along ``dim``, with that dim removed (a tuple of views)."""
    axis = _split_dim(x, dim, "unbind")
    shape = x.shape[:axis] + x.shape[axis + 1 :]
    return tuple(reshape(narrow(x, axis, i, 1), shape) for i in range(x.shape[axis]))


# ---------------------------------------------------------------- reordering values


def flip(x: Tensor, dims) -> Tensor:
    """Reverse the order of the elements along ``dims`` (an int or a tuple); new memory."""
    dims = normalize_dims(_ints(dims, "flip"), x.data.ndim, "flip")
    return Flip.apply(x, dims=dims if x.data.ndim else ())


def roll(x: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements cyclically by ``shifts`` along ``dims`` (every element, flattened, when
    ``dims`` is None); new memory."""
    shifts = _ints(shifts, "roll")
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(
                f"roll: shifts and dimensions must align. shifts: {len(shifts)}, "
                "dims: 0 (only one shift without dims)"
            )
        return Roll.apply(x, shifts=shifts, dims=None)
    dims = _ints(dims, "roll")
    if len(shifts) != len(dims):
        raise RuntimeError(
            f"roll: shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}"
        )
    dims = tuple(normalize_dim(d, x.data.ndim, "roll") for d in dims)
    if x.data.ndim == 0:
        return Roll.apply(x, shifts=shifts[:1], dims=None)
    return Roll.apply(x, shifts=shifts, dims=dims)


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (on and below ``diagonal``); zeros elsewhere."""
    if x.data.ndim < 2:
        raise RuntimeError(
            f"tril: input tensor must have at least 2 dimensions, got shape {list(x.shape)}"
        )
    return Tril.apply(x, k=int(diagonal))


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (on and above ``diagonal``); zeros elsewhere."""
    if x.data.ndim < 2:
        raise RuntimeError(
            f"triu: input tensor must have at least 2 dimensions, got shape {list(x.shape)}"
        )
    return Triu.apply(x, k=int(diagonal))


# ---------------------------------------------------------------- padding

_MODES = ("constant", "reflect", "replicate", "circular")


def _source_index(xp, n: int, before: int, after: int, mode: str):
    """For each output position along one dim, the input position it copies."""
    s = xp.arange(-before, n + after)
    if mode == "replicate":
        return xp.clip(s, 0, n - 1)
    if mode == "circular":
        return s % n
    # reflect about the edge elements (which are not repeated): -1 -> 1, n -> n - 2
    s = xp.abs(s)
    return xp.where(s > n - 1, 2 * (n - 1) - s, s)


def pad(x: Tensor, pad, mode: str = "constant", value=None) -> Tensor:
    """Pad (or, with negative widths, crop) the last dims of ``x``.

    ``pad`` lists (before, after) widths starting from the LAST dim, as in
    ``torch.nn.functional.pad``: ``(left, right)`` pads the last dim, ``(left, right, top,
    bottom)`` the last two.

    Modes: ``'constant'`` (fill with ``value``, default 0; any number of dims), and, for the
    last 1-3 dims of a batched or unbatched input, ``'reflect'`` (mirror without repeating the
    edge), ``'replicate'`` (repeat the edge), ``'circular'`` (wrap around).

    Example:
        >>> chainrule.pad(chainrule.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect")
        tensor([[3., 2., 1., 2., 3., 2.]])
    """
    widths_flat = _ints(pad, "pad")
    ndim = x.data.ndim
    k = len(widths_flat) // 2
    if len(widths_flat) % 2:
        raise RuntimeError(f"pad: Padding length must be divisible by 2, got pad={list(pad)}")
    if k > ndim:
        raise RuntimeError(
            f"pad: Padding length should be less than or equal to two times the input "
            f"dimension but got padding length {len(widths_flat)} and input of dimension "
            f"{ndim} (shape {list(x.shape)})"
        )
    if mode not in _MODES:
        raise NotImplementedError(f"pad: Unrecognised padding mode {mode!r}; use one of {_MODES}")
    widths = [(0, 0)] * (ndim - k) + [
        (widths_flat[2 * i], widths_flat[2 * i + 1]) for i in reversed(range(k))
    ]
    shape = x.shape
    for d, ((b, a), n) in enumerate(zip(widths, shape)):
        if n + b + a < 0 or b < -n or a < -n:
            raise RuntimeError(
                f"pad: widths ({b}, {a}) crop more than the size {n} of dim {d} "
                f"(input shape {list(shape)})"
            )
    if mode == "constant":
        return Pad.apply(x, widths=tuple(widths), value=0 if value is None else value)

    if value is not None and value != 0:
        raise RuntimeError(f'pad: Padding mode "{mode}" doesn\'t take in value argument')
    if k not in (1, 2, 3) or ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"pad: Padding size {len(widths_flat)} is not supported for {ndim}D input tensor "
            f"in mode {mode!r}: pad the last 1, 2 or 3 dims of a 2-3D, 3-4D or 4-5D input"
        )
    xp = x._device.xp
    sources = []
    for d in range(ndim - k, ndim):
        b, a = widths[d]
        n = shape[d]
        if mode == "reflect" and (b >= n or a >= n):
            raise RuntimeError(
                f"pad: Padding size should be less than the corresponding input dimension, "
                f"but got: padding ({b}, {a}) at dimension {d} of input {list(shape)}"
            )
        if mode == "circular" and (b > n or a > n):
            raise RuntimeError(
                f"pad: Padding value causes wrapping around more than once: padding ({b}, {a}) "
                f"at dimension {d} of input {list(shape)}"
            )
        if n == 0 and (b > 0 or a > 0):
            raise RuntimeError(f"pad: cannot {mode}-pad the empty dimension {d} of {list(shape)}")
        if (b, a) != (0, 0):
            sources.append((d, _source_index(xp, n, b, a, mode)))
    if not sources:
        return clone(x)
    return PadIndexed.apply(x, sources=tuple(sources))


# ---------------------------------------------------------------- copies


def contiguous(x: Tensor) -> Tensor:
    """``x`` itself when its memory is already row-major contiguous, else a contiguous copy."""
    if x.data.flags.c_contiguous:
        return x
    return Clone.apply(x)


def clone(x: Tensor, *, memory_format=None) -> Tensor:
    """A copy of ``x`` in new memory; gradients flow back to ``x``."""
    return Clone.apply(x)


def broadcast_to(x: Tensor, shape) -> Tensor:
    """x expanded to ``shape`` by broadcasting rules (a view)."""
    return expand(x, shape)


def repeat_interleave(x: Tensor, repeats, dim: int | None = None) -> Tensor:
    """Each element (or slice along ``dim``) repeated ``repeats`` times in a row; ``repeats``
    is an int or one count per element. With ``dim=None`` x is flattened first."""
    from chainrule.ops.indexing import index_select

    xp = x._device.xp
    if dim is None:
        x, dim = x.reshape(-1), 0
    dim = normalize_dim(dim, x.ndim, "repeat_interleave")
    n = x.shape[dim]
    counts = repeats.data if isinstance(repeats, Tensor) else repeats
    counts = xp.broadcast_to(xp.asarray(counts, dtype=xp.int64), (n,))
    if bool((counts < 0).any()):
        raise RuntimeError("repeat_interleave: repeats can not be negative")
    index = xp.repeat(xp.arange(n), counts)
    return index_select(x, dim, Tensor._make(index, x._device))


def fliplr(x: Tensor) -> Tensor:
    """x with its columns (dim 1) in reverse order."""
    if x.ndim < 2:
        raise RuntimeError("fliplr: input must be >= 2-d")
    return flip(x, (1,))


def flipud(x: Tensor) -> Tensor:
    """x with its rows (dim 0) in reverse order."""
    if x.ndim < 1:
        raise RuntimeError("flipud: input must be >= 1-d")
    return flip(x, (0,))


def meshgrid(*tensors, indexing: str = "ij") -> tuple:
    """Coordinate grids from 1-D tensors: ``indexing='ij'`` (matrix) or ``'xy'`` (Cartesian:
    the first two dims swapped)."""
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"meshgrid: expected 0-D or 1-D tensors, got shape {tuple(t.shape)}")
    sizes = [max(t.numel(), 1) if t.ndim else 1 for t in tensors]
    if indexing == "xy" and len(tensors) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grids = []
    for i, t in enumerate(tensors):
        axis = i
        if indexing == "xy" and len(tensors) >= 2 and i < 2:
            axis = 1 - i
        shape = [1] * len(tensors)
        shape[axis] = sizes[axis]
        grids.append(expand(t.reshape(shape), tuple(sizes)))
    return tuple(grids)


def unfold_windows(x: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """``Tensor.unfold``: every window of ``size`` elements along ``dimension``, ``step`` apart,
    as a new last dim; the dim itself becomes the number of windows. Differentiable (an
    element in several windows gets the sum of their gradients)."""
    from chainrule.ops.indexing import index_select

    xp = x._device.xp
    if x.ndim == 0:
        if size != 1:
            raise RuntimeError(f"unfold: size ({size}) must be 1 for a 0-d tensor")
        return x.reshape(1)
    d = normalize_dim(dimension, x.ndim, "unfold")
    n = x.shape[d]
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    starts = xp.arange(0, n - size + 1, step)
    index = (starts[:, None] + xp.arange(size)[None, :]).reshape(-1)
    picked = index_select(x, d, Tensor._make(index, x._device))
    shape = tuple(x.shape[:d]) + (len(starts), size) + tuple(x.shape[d + 1 :])
    return movedim(picked.reshape(shape), d + 1, -1)


def diff(x: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """The n-th forward difference along ``dim``: y_i = x_(i+1) - x_i (n times), after
    joining ``prepend`` and ``append`` to x along dim."""
    d = normalize_dim(dim, x.ndim, "diff")
    parts = [p for p in (prepend, x, append) if p is not None]
    y = cat(parts, dim=d) if len(parts) > 1 else x
    for _ in range(n):
        length = y.shape[d]
        if length == 0:
            break
        y = narrow(y, d, 1, length - 1) - narrow(y, d, 0, length - 1)
    return y


# ---------------------------------------------------------------- NumPy-style joins and splits


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (0-d becomes (1,)); one tensor in, one out."""
    out = tuple(x.reshape(1) if x.ndim == 0 else x for x in _flat_args(tensors))
    return out[0] if len(out) == 1 else out


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims: (n,) becomes (1, n)."""
    out = tuple(
        x.reshape((1,) * (2 - x.ndim) + tuple(x.shape)) if x.ndim < 2 else x
        for x in _flat_args(tensors)
    )
    return out[0] if len(out) == 1 else out


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims: (n,) becomes (1, n, 1) and (m, n) becomes (m, n, 1)."""

    def lift(x):
        if x.ndim == 0:
            return x.reshape(1, 1, 1)
        if x.ndim == 1:
            return x.reshape(1, x.shape[0], 1)
        if x.ndim == 2:
            return x.unsqueeze(-1)
        return x

    out = tuple(lift(x) for x in _flat_args(tensors))
    return out[0] if len(out) == 1 else out


def _flat_args(tensors) -> tuple:
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        return tuple(tensors[0])
    return tensors


def hstack(tensors) -> Tensor:
    """Join along dim 1 (dim 0 for 1-D tensors)."""
    tensors = atleast_1d(*tensors) if len(tensors) > 1 else (atleast_1d(tensors[0]),)
    return cat(tensors, dim=0 if tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Join along dim 0 after making every tensor at least 2-D."""
    tensors = atleast_2d(*tensors) if len(tensors) > 1 else (atleast_2d(tensors[0]),)
    return cat(tensors, dim=0)


row_stack = vstack


def dstack(tensors) -> Tensor:
    """Join along dim 2 after making every tensor at least 3-D."""
    tensors = atleast_3d(*tensors) if len(tensors) > 1 else (atleast_3d(tensors[0]),)
    return cat(tensors, dim=2)


def column_stack(tensors) -> Tensor:
    """Join as columns: 0-d and 1-D tensors become (n, 1) columns, then join along dim 1."""
    cols = [x.reshape(x.numel(), 1) if x.ndim <= 1 else x for x in tensors]
    return cat(cols, dim=1)


def tensor_split(x: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Cut ``x`` along ``dim`` into ``n`` nearly equal views (the first n mod size get one more
    element) or at the given indices. Returns a tuple of views."""
    axis = _split_dim(x, dim, "tensor_split")
    n = x.shape[axis]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        if sections <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be > 0, got {sections}")
        size, extra = divmod(n, sections)
        sizes = [size + 1] * extra + [size] * (sections - extra)
        bounds = [sum(sizes[:i]) for i in range(sections + 1)]
    else:
        cuts = [min(max(int(i) + (n if int(i) < 0 else 0), 0), n) for i in indices_or_sections]
        bounds = [0, *cuts, n]
    return tuple(
        narrow(x, axis, start, max(stop, start) - start)
        for start, stop in zip(bounds[:-1], bounds[1:], strict=True)
    )


def _split_along(x: Tensor, indices_or_sections, dim: int, op: str, min_ndim: int) -> tuple:
    if x.ndim < min_ndim:
        raise RuntimeError(
            f"{op} requires a tensor with at least {min_ndim} dimension(s), but got a tensor "
            f"with {x.ndim} dimensions (shape {list(x.shape)})"
        )
    if isinstance(indices_or_sections, int) and x.shape[dim] % indices_or_sections:
        raise RuntimeError(
            f"{op}: dimension {dim} of size {x.shape[dim]} is not divisible by the split size "
            f"{indices_or_sections}"
        )
    return tensor_split(x, indices_or_sections, dim)


def hsplit(x: Tensor, indices_or_sections) -> tuple:
    """``tensor_split`` along dim 1 (dim 0 for 1-D tensors); sections must divide evenly."""
    dim = 0 if x.ndim == 1 else 1
    return _split_along(x, indices_or_sections, dim, "torch.hsplit", 1)


def vsplit(x: Tensor, indices_or_sections) -> tuple:
    """``tensor_split`` along dim 0 of a tensor with at least 2 dims."""
    return _split_along(x, indices_or_sections, 0, "torch.vsplit", 2)


def dsplit(x: Tensor, indices_or_sections) -> tuple:
    """``tensor_split`` along dim 2 of a tensor with at least 3 dims."""
    return _split_along(x, indices_or_sections, 2, "torch.dsplit", 3)


def swapaxes(x: Tensor, axis0: int, axis1: int) -> Tensor:
    """Alias of ``transpose`` (NumPy's name)."""
    return transpose(x, axis0, axis1)


swapdims = swapaxes
moveaxis = movedim


def ravel(x: Tensor) -> Tensor:
    """x flattened to 1-D (a view when the memory allows it)."""
    return reshape(x, (-1,))


def t(x: Tensor) -> Tensor:
    """The transpose of a tensor with at most 2 dims (0-d and 1-D come back unchanged)."""
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return transpose(x, 0, 1) if x.ndim == 2 else x


def rot90(x: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90 degrees k times in the plane of ``dims``, from the first dim toward the
    second."""
    dims = _ints(dims, "rot90")
    if len(dims) != 2:
        raise RuntimeError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
    d0, d1 = (normalize_dim(d, x.ndim, "rot90") for d in dims)  # in the given order
    if d0 == d1:
        raise RuntimeError(f"rot90: expected two different dims, got {dims}")
    k %= 4
    if k == 1:
        return transpose(flip(x, (d1,)), d0, d1)
    if k == 2:
        return flip(x, (d0, d1))
    if k == 3:
        return flip(transpose(x, d0, d1), (d1,))
    return clone(x)


def broadcast_shapes(*shapes) -> tuple:
    """The shape that all ``shapes`` broadcast to (PyTorch's rules)."""
    from chainrule.tensor import Size

    result: list = []
    for shape in shapes:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        for i, n in enumerate(reversed(shape)):
            if i >= len(result):
                result.insert(0, n)
                continue
            have = result[-1 - i]
            if have == 1:
                result[-1 - i] = n
            elif n != 1 and n != have:
                raise RuntimeError(
                    f"broadcast_shapes: shape mismatch: objects cannot be broadcast to a single "
                    f"shape ({tuple(shapes)})"
                )
    return Size(result)


def broadcast_tensors(*tensors) -> tuple:
    """Every tensor expanded (as a view) to the common broadcast shape."""
    tensors = _flat_args(tensors)
    shape = broadcast_shapes(*(x.shape for x in tensors))
    return tuple(expand(x, shape) for x in tensors)


def block_diag(*tensors) -> Tensor:
    """A block-diagonal matrix of the given 0-, 1- or 2-D tensors (others are zero)."""
    from chainrule.ops.indexing import setitem_

    blocks = [x.reshape(1, -1) if x.ndim < 2 else x for x in _promote(tensors, "block_diag")]
    for x in blocks:
        if x.ndim != 2:
            raise RuntimeError(
                f"block_diag: Input tensors must have 2 or fewer dimensions. Input has {x.ndim}"
            )
    rows, cols = sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)
    ref = blocks[0]
    out = Tensor._make(ref._device.xp.zeros((rows, cols), dtype=ref.data.dtype), ref._device)
    r = c = 0
    for b in blocks:
        setitem_(out, (slice(r, r + b.shape[0]), slice(c, c + b.shape[1])), b)
        r, c = r + b.shape[0], c + b.shape[1]
    return out


def cartesian_prod(*tensors) -> Tensor:
    """Every combination of one element from each 1-D tensor, as rows (N, k) in row-major
    order (a single tensor comes back as it is)."""
    tensors = _flat_args(tensors)
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], dim=1)


def combinations(x: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-r combinations of a 1-D tensor's elements as rows (like itertools), in
    lexicographic order of positions; differentiable (the rows gather x's elements)."""
    import itertools

    import numpy as np

    from chainrule.ops.indexing import getitem

    if x.ndim != 1:
        raise RuntimeError(f"combinations: expect a 1D vector, but got shape {list(x.shape)}")
    if r < 0:
        raise RuntimeError(f"combinations: expect a non-negative number, but got {r}")
    if r == 0:
        return x.new_empty((0,))
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    # NOTE: the position tuples are index bookkeeping built once, not arithmetic on elements.
    positions = np.array(list(pick(range(x.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    index = Tensor._make(x._device.xp.asarray(positions), x._device)
    return getitem(x, index)
