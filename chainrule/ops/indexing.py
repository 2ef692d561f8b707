"""Indexing ops: ``x[index]``, ``x[index] = v``, gather/scatter, index_select, masked_fill.

Reading by index is linear in x: every output element is one element of x. Its backward sends
each output gradient back to the element it came from, so a position read twice receives the
sum of both gradients (scatter-add). Writing by index (setitem, scatter, masked_fill) hides the
overwritten values of x: their gradient is zero, and the gradient of what was written is the
output gradient read at the written positions.
"""

from __future__ import annotations

import numbers

from chainrule import backend
from chainrule.autograd.function import Function, is_grad_enabled
from chainrule.ops.common import cast, linear_backward_graph, normalize_dim
from chainrule.tensor import Tensor

# ---------------------------------------------------------------- shared backward pieces


def _scatter_add_backward(ctx, grad):
    """The gradient of ``y = x.reshape(view_shape)[idx]``: zeros, then add grad at idx."""
    g = ctx.xp.zeros(ctx.view_shape, dtype=grad.dtype)
    backend.scatter_add(ctx.xp, g, ctx.idx, grad)
    return g.reshape(ctx.shape)


def _sum_to(xp, g, shape):
    """Sum ``g`` down to ``shape`` (broadcasting undone), also when ``shape`` has extra leading
    ones (``x[0] = v`` accepts a ``v`` of shape (1, n) for a row of n)."""
    shape = tuple(shape)
    if g.ndim < len(shape):
        g = g.reshape((1,) * (len(shape) - g.ndim) + g.shape)
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1
    )
    if axes:
        g = g.sum(axis=axes)
    return g.reshape(shape)


# ---------------------------------------------------------------- Functions


class GetItem(Function):
    """y = x[index];  dy/dx = 1 at the indexed positions, 0 elsewhere (repeats accumulate).

    The index is split in two steps, as PyTorch applies it: ``pre`` (integers and slices: a
    NumPy view) then ``post`` (the advanced part: integer arrays, masks, slices, None).
    """

    rule = "d x[index]/dx = 1 at each indexed position (summed over repeats), 0 elsewhere"

    @staticmethod
    def forward(ctx, x, pre, post):
        ctx.shape, ctx.pre, ctx.post = x.shape, pre, post
        y = x if pre is None else x[pre]
        if post is None:
            return y
        # NumPy may lay out an advanced-index result with permuted strides (x[:, i]); give
        # later ops (and BLAS) a plain row-major array.
        return ctx.xp.ascontiguousarray(y[post])

    @staticmethod
    def backward(ctx, grad):
        g = ctx.xp.zeros(ctx.shape, dtype=grad.dtype)
        region = g if ctx.pre is None else g[ctx.pre]  # a view: writes land in g
        if ctx.post is None:
            region[...] = grad
        else:
            backend.scatter_add(ctx.xp, region, ctx.post, grad)
        return g

    backward_graph = staticmethod(linear_backward_graph)


class SetItem(Function):
    """y = x with y[index] = v;  dy/dx = 1 outside index (0 inside), dy/dv = 1 at index.

    The gradient of v is the output gradient read at the index, summed back to v's shape.
    """

    rule = "d y/dx = 0 at the written positions, 1 elsewhere; d y/dv = grad[index] summed to v"

    @staticmethod
    def forward(ctx, x, value, pre, post):
        ctx.pre, ctx.post, ctx.value_shape = pre, post, value.shape
        out = x.copy()
        region = out if pre is None else out[pre]
        if post is None:
            region[...] = value
        else:
            region[post] = value
        return out

    @staticmethod
    def backward(ctx, grad):
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = grad.copy()
            region = gx if ctx.pre is None else gx[ctx.pre]
            if ctx.post is None:
                region[...] = 0
            else:
                region[ctx.post] = 0
        if ctx.needs_input_grad[1]:
            g = grad if ctx.pre is None else grad[ctx.pre]
            if ctx.post is not None:
                g = g[ctx.post]
            gv = _sum_to(ctx.xp, g, ctx.value_shape)
        return gx, gv


class Gather(Function):
    """y[i][j] = x[index[i][j]][j] (dim=0);  dy/dx = 1 at each gathered position (summed)."""

    rule = "d gather(x, dim, index)/dx = scatter_add of grad into zeros at index"

    @staticmethod
    def forward(ctx, x, idx, view_shape):
        ctx.shape, ctx.idx, ctx.view_shape = x.shape, idx, view_shape
        return x.reshape(view_shape)[idx]

    backward = staticmethod(_scatter_add_backward)

    backward_graph = staticmethod(linear_backward_graph)


class TakeAlongDim(Function):
    """y = x gathered along dim with broadcasting (NumPy's take_along_axis);
    dy/dx = 1 at each taken position (summed)."""

    rule = "d take_along_dim(x, indices, dim)/dx = scatter_add of grad into zeros at indices"

    @staticmethod
    def forward(ctx, x, idx, view_shape):
        ctx.shape, ctx.idx, ctx.view_shape = x.shape, idx, view_shape
        return x.reshape(view_shape)[idx]

    backward = staticmethod(_scatter_add_backward)

    backward_graph = staticmethod(linear_backward_graph)


class IndexSelect(Function):
    """y = x[..., index, ...] (whole slices along dim);  dy/dx = scatter_add of grad at index."""

    rule = "d index_select(x, dim, index)/dx = grad added back at the selected slices"

    @staticmethod
    def forward(ctx, x, index, dim, view_shape):
        ctx.shape, ctx.view_shape = x.shape, view_shape
        ctx.idx = (slice(None),) * dim + (index,)
        out = ctx.xp.take(x.reshape(view_shape), index, axis=dim)
        return out.reshape(()) if x.ndim == 0 else out

    backward = staticmethod(_scatter_add_backward)

    backward_graph = staticmethod(linear_backward_graph)


class IndexAdd(Function):
    """y = x with alpha * source added at the slices ``index`` along dim (repeats add up);
    dy/dx = 1, dy/dsource = alpha * grad at those slices (index_select of grad)."""

    rule = "d index_add/dx = 1; d index_add/dsource = alpha * index_select(grad, dim, index)"

    @staticmethod
    def forward(ctx, x, source, index, dim, alpha):
        xp = ctx.xp
        ctx.index, ctx.dim, ctx.alpha = index, dim, alpha
        out = x.copy()
        moved = xp.moveaxis(out, dim, 0)  # a view: adding into it writes into out
        src = xp.moveaxis(source, dim, 0)
        backend.scatter_add(xp, moved, index, src if alpha == 1 else src * alpha)
        return out

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        g_src = None
        if ctx.needs_input_grad[1]:
            g_src = xp.take(grad, ctx.index, axis=ctx.dim)
            if ctx.alpha != 1:
                g_src = g_src * ctx.alpha
        return (grad if ctx.needs_input_grad[0] else None), g_src


class Scatter(Function):
    """y = x with y[index[i][j]][j] = src[i][j] (dim=0);
    dy/dx = 0 at the written positions, 1 elsewhere; dy/dsrc = grad gathered at index."""

    rule = "d scatter/dx = grad with written positions zeroed; d scatter/dsrc = gather(grad)"

    @staticmethod
    def forward(ctx, x, src, idx, src_region, view_shape):
        ctx.shape, ctx.src_shape = x.shape, src.shape
        ctx.idx, ctx.src_region, ctx.view_shape = idx, src_region, view_shape
        out = x.reshape(view_shape).copy()
        # src_region None: src is a number (a 0-d array) written at every indexed position.
        out[idx] = src if src_region is None else _at_least_1d(src)[src_region]
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        gx = gsrc = None
        g = grad.reshape(ctx.view_shape)
        if ctx.needs_input_grad[0]:
            gx = g.copy()
            gx[ctx.idx] = 0
            gx = gx.reshape(ctx.shape)
        if ctx.needs_input_grad[1]:
            gsrc = _gather_into_src(ctx.xp, g, ctx)
        return gx, gsrc


class ScatterAdd(Function):
    """y = x with y[index[i][j]][j] += src[i][j] (dim=0);
    dy/dx = 1, dy/dsrc = grad gathered at index."""

    rule = "d scatter_add/dx = grad; d scatter_add/dsrc = gather(grad, dim, index)"

    @staticmethod
    def forward(ctx, x, src, idx, src_region, view_shape):
        ctx.shape, ctx.src_shape = x.shape, src.shape
        ctx.idx, ctx.src_region, ctx.view_shape = idx, src_region, view_shape
        out = x.reshape(view_shape).copy()
        backend.scatter_add(ctx.xp, out, idx, _at_least_1d(src)[src_region])
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        gsrc = None
        if ctx.needs_input_grad[1]:
            gsrc = _gather_into_src(ctx.xp, grad.reshape(ctx.view_shape), ctx)
        return grad, gsrc


def _at_least_1d(a):
    return a.reshape(1) if a.ndim == 0 else a


def _gather_into_src(xp, g, ctx):
    """Zeros of src's shape with grad[idx] written over the region the index covers."""
    gsrc = xp.zeros(ctx.src_shape or (1,), dtype=g.dtype)
    gsrc[ctx.src_region] = g[ctx.idx]
    return gsrc.reshape(ctx.src_shape)


class MaskedFill(Function):
    """y = value where mask else x;  dy/dx = 1 where not mask, dy/dvalue = sum of grad on mask."""

    rule = "d masked_fill/dx = grad where ~mask (0 on mask); d/dvalue = sum(grad on mask)"

    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.mask = mask
        return ctx.xp.where(mask, value, x)

    @staticmethod
    def backward(ctx, grad):
        zero = ctx.xp.zeros((), dtype=grad.dtype)
        gx = ctx.xp.where(ctx.mask, zero, grad) if ctx.needs_input_grad[0] else None
        gv = ctx.xp.where(ctx.mask, grad, zero).sum() if ctx.needs_input_grad[2] else None
        return gx, None, gv

    @staticmethod
    def backward_graph(ctx, grad):
        mask = Tensor._make(ctx.xp.broadcast_to(ctx.mask, grad.shape), ctx.device)
        gv = (grad * mask).sum() if ctx.needs_input_grad[2] else None
        return grad.masked_fill(mask, 0.0), None, gv


# ---------------------------------------------------------------- index parsing

_INDEX_TYPES_MSG = (
    "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
    "indices (got {})"
)


def _index_array(xp, value):
    """An index given as Tensor / array / list: an integer or bool array of ``xp``."""
    # xp.asarray: a CPU index tensor may index a CUDA tensor, as in PyTorch.
    arr = xp.asarray(value.data if isinstance(value, Tensor) else value)
    if arr.dtype.kind == "f" and arr.size == 0:  # x[[]] selects nothing
        arr = arr.astype("int64")
    if arr.dtype == "uint8":  # PyTorch reads uint8 index tensors as (deprecated) masks
        arr = arr.astype(bool)
    if arr.dtype.kind not in "iub":
        raise IndexError(
            f"tensors used as indices must be long, int, byte or bool tensors (got {arr.dtype})"
        )
    return arr


def _parse_index(x: Tensor, index):
    """Split ``index`` into (pre, post): the basic part applied first, the advanced part second.

    PyTorch applies integers before advanced indices (``x[0, :, [1, 2]]`` has shape (4, 2) for
    x of shape (3, 4, 5), where NumPy gives (2, 4)); the two steps reproduce that. Checks bounds
    (IndexError naming the index, the dimension and its size) and mask shapes.
    """
    xp = x._device.xp
    items = index if isinstance(index, tuple) else (index,)
    entries = []
    consumed = 0
    ellipsis = False
    for it in items:
        if it is None or it is Ellipsis or isinstance(it, slice):
            if it is Ellipsis:
                if ellipsis:
                    raise IndexError("an index can only have a single ellipsis ('...')")
                ellipsis = True
            elif isinstance(it, slice):
                if it.step is not None and it.step <= 0:
                    if it.step == 0:
                        raise ValueError("slice step cannot be zero")
                    raise ValueError("step must be greater than zero")
                consumed += 1
            entries.append(it)
        elif isinstance(it, bool):
            # x[True] adds a dim of size 1 (like None); x[False] a dim of size 0.
            entries.append(None if it else xp.zeros((), dtype=bool))
        elif isinstance(it, numbers.Integral):
            entries.append(int(it))
            consumed += 1
        elif (
            isinstance(it, Tensor | list | tuple)
            or hasattr(it, "__array__")
            or hasattr(it, "__cuda_array_interface__")
        ):
            arr = _index_array(xp, it)
            if arr.ndim == 0 and arr.dtype.kind in "iu":
                entries.append(int(arr))  # a 0-d integer tensor indexes like an int
                consumed += 1
            else:
                entries.append(arr)
                consumed += arr.ndim if arr.dtype.kind == "b" else 1
        else:
            raise IndexError(_INDEX_TYPES_MSG.format(type(it).__name__))
    shape = x.data.shape
    if consumed > len(shape):
        if len(shape) == 0:
            raise IndexError(
                "invalid index of a 0-dim tensor. Use `tensor.item()` to convert a 0-dim "
                "tensor to a number"
            )
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    if ellipsis:
        at = next(i for i, e in enumerate(entries) if e is Ellipsis)
        entries[at : at + 1] = [slice(None)] * (len(shape) - consumed)

    has_int = has_array = False
    d = 0
    for e in entries:
        if e is None:
            continue
        if isinstance(e, int):
            n = shape[d]
            if not -n <= e < n:
                raise IndexError(f"index {e} is out of bounds for dimension {d} with size {n}")
            has_int = True
            d += 1
        elif isinstance(e, slice):
            d += 1
        elif e.dtype.kind == "b":
            for k in range(e.ndim):
                if e.shape[k] != shape[d + k]:
                    raise IndexError(
                        f"The shape of the mask {list(e.shape)} at index {k} does not match the "
                        f"shape of the indexed tensor {list(shape)} at index {d + k}"
                    )
            has_array = True
            d += e.ndim
        else:
            n = shape[d]
            if e.size:
                lo, hi = int(e.min()), int(e.max())
                if hi >= n or lo < -n:
                    bad = hi if hi >= n else lo
                    raise IndexError(
                        f"index {bad} is out of bounds for dimension {d} with size {n}"
                    )
            has_array = True
            d += 1
    if not has_array:
        # The trailing Ellipsis makes NumPy return a 0-d view, never a scalar copy.
        return tuple(entries) + (Ellipsis,), None
    if not has_int:
        return None, tuple(entries)
    pre, post = [], []
    for e in entries:
        if isinstance(e, int):
            pre.append(e)
        elif e is None:
            post.append(e)
        else:
            mask = not isinstance(e, slice) and e.dtype.kind == "b"
            pre.extend([slice(None)] * (e.ndim if mask else 1))  # keep the dims post indexes
            post.append(e)
    return tuple(pre) + (Ellipsis,), tuple(post)


def _check_index_dtype(index, op: str, xp):
    """The raw integer array of an index argument (Tensor, array or list)."""
    arr = xp.asarray(index.data if isinstance(index, Tensor) else index)
    if arr.dtype.kind not in "iu":
        raise RuntimeError(
            f"{op}(): expected an integer index tensor (int64, or int32), but got dtype {arr.dtype}"
        )
    return arr


def _check_range(arr, size: int, dim: int, op: str, negative_ok: bool = False):
    if arr.size == 0:
        return
    lo, hi = int(arr.min()), int(arr.max())
    low = -size if negative_ok else 0
    if hi >= size or lo < low:
        bad = hi if hi >= size else lo
        raise IndexError(
            f"{op}(): index {bad} is out of bounds for dimension {dim} with size {size}"
        )


def _mesh(xp, index, dim: int, sizes):
    """The advanced index that picks ``x[..., index[i, j, ...], ...]`` along ``dim``: ``index``
    for ``dim`` and a broadcasting ``arange(sizes[d])`` for every other dimension."""
    nd = index.ndim
    idx = []
    for d in range(nd):
        if d == dim:
            idx.append(index)
        else:
            shape = [1] * nd
            shape[d] = sizes[d]
            idx.append(xp.arange(sizes[d]).reshape(shape))
    return tuple(idx)


# ---------------------------------------------------------------- public functions


def getitem(x: Tensor, index) -> Tensor:
    """``x[index]`` with PyTorch's rules: ints, slices (positive steps), None, ``...``, integer
    tensors/lists/arrays (advanced indexing, broadcasting together) and bool masks.

    Basic indexing (ints, slices, None, ``...``) returns a view that shares memory and the
    version counter with x; advanced indexing returns a copy.

    Backward: the gradient flows to the positions read; a position read several times gets the
    sum of the gradients (scatter-add).

    Example:
        >>> x = chainrule.arange(6.0).reshape(2, 3)
        >>> x[:, [0, 0, 2]]
        tensor([[0., 0., 2.],
                [3., 3., 5.]])
    """
    pre, post = _parse_index(x, index)
    out = GetItem.apply(x, pre=pre, post=post)
    if post is None:
        out._mark_view(x)  # a view: in-place writes through either are seen by both
    return out


def setitem_(x: Tensor, index, value) -> Tensor:
    """``x[index] = value`` in place (value a number or a tensor broadcast to ``x[index]``).

    With autograd, x takes the place of ``SetItem(x_old, value)`` in the graph: the overwritten
    elements of the old x get zero gradient, and value gets the gradient of the written region.
    A leaf that requires grad cannot be written in place (outside ``no_grad``).
    """
    pre, post = _parse_index(x, index)
    value_grad = isinstance(value, Tensor) and value.requires_grad
    if is_grad_enabled() and (x.requires_grad or value_grad):
        x._check_inplace("setitem")
        if isinstance(value, Tensor):
            v = cast(value, x.dtype) if value.data.dtype != x.data.dtype else value
        else:
            v = x._device.xp.asarray(value, dtype=x.data.dtype)
        result = SetItem.apply(x._snapshot(v), v, pre=pre, post=post)
        return x._inplace_result(result, "setitem")
    if isinstance(value, Tensor):
        if value._device != x._device:
            raise RuntimeError(
                f"setitem: expected value on device {x._device}, but got {value._device}"
            )
        value = value.data
    region = x.data if pre is None else x.data[pre]
    if post is None:
        region[...] = value
    else:
        region[post] = value
    x._version[0] += 1
    return x


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """Pick values of x along ``dim`` at ``index``: for dim=0, ``out[i][j] = x[index[i][j]][j]``.

    Args:
        x: the source tensor.
        dim: the dimension to index along.
        index: integer tensor with x's number of dimensions; ``index.size(d) <= x.size(d)`` for
            d != dim. The output has index's shape.

    Backward: scatter-add of the gradient into zeros at the gathered positions.

    Example:
        >>> x = chainrule.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> chainrule.gather(x, 1, chainrule.tensor([[0, 0], [1, 0]]))
        tensor([[1., 1.],
                [4., 3.]])
    """
    xp = x._device.xp
    idx_arr = _check_index_dtype(index, "gather", xp)
    dim = normalize_dim(dim, x.ndim, "gather")
    view_shape = x.data.shape or (1,)
    if x.ndim == 0:
        if idx_arr.ndim > 1:
            raise RuntimeError("gather(): index of a 0-d input must have at most 1 dimension")
        _check_range(idx_arr, 1, 0, "gather")
        return Gather.apply(x, idx=(idx_arr,), view_shape=view_shape)
    if idx_arr.ndim != x.ndim:
        raise RuntimeError(
            f"gather(): index tensor must have the same number of dimensions as input tensor "
            f"(got {idx_arr.ndim} and {x.ndim})"
        )
    for d in range(x.ndim):
        if d != dim and idx_arr.shape[d] > x.data.shape[d]:
            raise RuntimeError(
                f"gather(): size does not match at dimension {d}: expected index "
                f"{list(idx_arr.shape)} to be no larger than self {list(x.shape)} apart from "
                f"dimension {dim}"
            )
    _check_range(idx_arr, x.data.shape[dim], dim, "gather")
    idx = _mesh(xp, idx_arr, dim, idx_arr.shape)
    return Gather.apply(x, idx=idx, view_shape=view_shape)


def take_along_dim(x: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """Values of x at ``indices`` along ``dim``, x and indices broadcasting in the other dims
    (NumPy's take_along_axis). With ``dim=None``, x and indices are flattened first.

    Example:
        >>> x = chainrule.tensor([[10.0, 30.0, 20.0]])
        >>> chainrule.take_along_dim(x, chainrule.tensor([[0, 2, 1]]), dim=1)  # sorted
        tensor([[10., 20., 30.]])
    """
    xp = x._device.xp
    idx_arr = _check_index_dtype(indices, "take_along_dim", xp)
    if dim is None:
        flat = idx_arr.reshape(-1)
        _check_range(flat, x.data.size, 0, "take_along_dim")
        return TakeAlongDim.apply(x, idx=(flat,), view_shape=(x.data.size,))
    dim = normalize_dim(dim, x.ndim, "take_along_dim")
    if idx_arr.ndim != x.ndim:
        raise RuntimeError(
            "take_along_dim(): input and indices should have the same number of dimensions, "
            f"but got {x.ndim} dimensions for input, and {idx_arr.ndim} dimensions for indices"
        )
    if x.ndim == 0:
        _check_range(idx_arr.reshape(-1), 1, 0, "take_along_dim")
        return TakeAlongDim.apply(x, idx=(idx_arr.reshape(1),), view_shape=(1,))
    for d in range(x.ndim):
        a, b = x.data.shape[d], idx_arr.shape[d]
        if d != dim and a != b and a != 1 and b != 1:
            raise RuntimeError(
                f"take_along_dim(): the size of input ({a}) must match the size of indices "
                f"({b}) at non-singleton dimension {d}"
            )
    _check_range(idx_arr, x.data.shape[dim], dim, "take_along_dim")
    idx = _mesh(xp, idx_arr, dim, x.data.shape)  # aranges broadcast against indices
    return TakeAlongDim.apply(x, idx=idx, view_shape=x.data.shape)


def index_select(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of x at positions ``index`` (1-D) along ``dim``.

    Example:
        >>> x = chainrule.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> chainrule.index_select(x, 0, chainrule.tensor([1, 1, 0]))
        tensor([[3., 4.],
                [3., 4.],
                [1., 2.]])
    """
    xp = x._device.xp
    idx_arr = _check_index_dtype(index, "index_select", xp)
    dim = normalize_dim(dim, x.ndim, "index_select")
    if idx_arr.ndim > 1:
        raise IndexError(
            f"index_select(): index is supposed to be a vector, got shape {tuple(idx_arr.shape)}"
        )
    if x.ndim == 0:
        if idx_arr.size != 1:
            raise RuntimeError(
                f"index_select(): index to scalar can have only 1 value, got {idx_arr.size}"
            )
        _check_range(idx_arr, 1, 0, "index_select")
        return IndexSelect.apply(x, index=idx_arr.reshape(1), dim=0, view_shape=(1,))
    idx_arr = idx_arr.reshape(-1)
    _check_range(idx_arr, x.data.shape[dim], dim, "index_select")
    return IndexSelect.apply(x, index=idx_arr, dim=dim, view_shape=x.data.shape)


def _scatter_args(x: Tensor, dim: int, index, src, op: str):
    xp = x._device.xp
    idx_arr = _check_index_dtype(index, op, xp)
    dim = normalize_dim(dim, x.ndim, op)
    src_is_tensor = isinstance(src, Tensor)
    if src_is_tensor and src.data.dtype != x.data.dtype:
        raise RuntimeError(
            f"{op}(): expected self.dtype to be equal to src.dtype, got {x.dtype.name} and "
            f"{src.dtype.name}"
        )
    if idx_arr.ndim != x.ndim or (src_is_tensor and src.ndim != x.ndim):
        raise RuntimeError(
            f"{op}(): index tensor must have the same number of dimensions as self and src "
            f"(got {idx_arr.ndim} for index, {x.ndim} for self"
            + (f", {src.ndim} for src)" if src_is_tensor else ")")
        )
    if x.ndim == 0:
        _check_range(idx_arr.reshape(-1), 1, 0, op)
        return (idx_arr.reshape(1),), (slice(None),), (1,)
    ishape, xshape = idx_arr.shape, x.data.shape
    sshape = src.data.shape if src_is_tensor else ishape
    if any((d != dim and ishape[d] > xshape[d]) or ishape[d] > sshape[d] for d in range(x.ndim)):
        raise RuntimeError(
            f"{op}(): expected index {list(ishape)} to be no larger than self {list(xshape)} "
            f"apart from dimension {dim} and to be no larger size than src {list(sshape)}"
        )
    _check_range(idx_arr, xshape[dim], dim, op)
    idx = _mesh(xp, idx_arr, dim, ishape)
    src_region = tuple(slice(0, s) for s in ishape)
    return idx, src_region, xshape


def scatter(x: Tensor, dim: int, index: Tensor, src) -> Tensor:
    """Out-of-place scatter: a copy of x with, for dim=0, ``out[index[i][j]][j] = src[i][j]``.

    ``src`` is a tensor (at least as large as index in every dim) or a number. Writing twice to
    one position keeps one of the values (which one is unspecified, as in PyTorch).

    Backward: x's gradient is zero at the written positions; src's is the gradient gathered at
    index (zero where src was not used).

    Example:
        >>> chainrule.scatter(chainrule.zeros(2, 3), 1, chainrule.tensor([[2], [0]]), 5.0)
        tensor([[0., 0., 5.],
                [5., 0., 0.]])
    """
    idx, src_region, view_shape = _scatter_args(x, dim, index, src, "scatter")
    if isinstance(src, Tensor):
        return Scatter.apply(x, src, idx=idx, src_region=src_region, view_shape=view_shape)
    value = x._device.xp.asarray(src, dtype=x.data.dtype)
    return Scatter.apply(x, value, idx=idx, src_region=None, view_shape=view_shape)


def scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """Out-of-place scatter-add: a copy of x with, for dim=0, ``out[index[i][j]][j] += src[i][j]``
    (repeated positions accumulate).

    Backward: x's gradient passes through; src's is the gradient gathered at index.

    Example:
        >>> chainrule.scatter_add(chainrule.zeros(3), 0, chainrule.tensor([0, 0, 2]),
        ...                       chainrule.ones(3))
        tensor([2., 0., 1.])
    """
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): src must be a Tensor, got {type(src).__name__}")
    idx, src_region, view_shape = _scatter_args(x, dim, index, src, "scatter_add")
    return ScatterAdd.apply(x, src, idx=idx, src_region=src_region, view_shape=view_shape)


def masked_fill(x: Tensor, mask: Tensor, value) -> Tensor:
    """``value`` where ``mask`` is True, x elsewhere (out-of-place; mask broadcasts).

    Args:
        x: the input.
        mask: a bool tensor broadcastable with x.
        value: a number or a 0-d tensor (differentiable: it gets the sum of the gradient over
            the masked positions).

    Example:
        >>> x = chainrule.tensor([1.0, 2.0, 3.0])
        >>> chainrule.masked_fill(x, x > 1.5, 0.0)
        tensor([1., 0., 0.])
    """
    xp = x._device.xp
    m = mask.data if isinstance(mask, Tensor) else xp.asarray(mask)
    if m.dtype.kind != "b":
        raise RuntimeError(
            f"masked_fill only supports boolean masks, but got mask with dtype {m.dtype}"
        )
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                "masked_fill only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.ndim} dimension(s)."
            )
        v = cast(value, x.dtype) if value.data.dtype != x.data.dtype else value
    else:
        v = xp.asarray(value, dtype=x.data.dtype)
    return MaskedFill.apply(x, m, v)


def masked_select(x: Tensor, mask: Tensor) -> Tensor:
    """The elements of x where ``mask`` (bool, broadcast with x) is True, as a 1-D tensor;
    differentiable (the gradient goes back to the selected positions)."""
    from chainrule.ops.movement import expand

    m = mask.data if isinstance(mask, Tensor) else x._device.xp.asarray(mask)
    if m.dtype != bool:
        raise RuntimeError(f"masked_select: expected a bool mask, got dtype {m.dtype}")
    shape = tuple(x._device.xp.broadcast_shapes(x.data.shape, m.shape))
    xs = x if tuple(x.shape) == shape else expand(x, shape)
    m = x._device.xp.broadcast_to(m, shape)
    return getitem(xs, Tensor._make(m, x._device))


def take(x: Tensor, index: Tensor) -> Tensor:
    """x treated as 1-D (row-major) at ``index``; the result has index's shape."""
    xp = x._device.xp
    idx = _check_index_dtype(index, "take", xp)
    n = x.data.size
    _check_range(idx.reshape(-1), n, 0, "take", negative_ok=True)
    flat = x.reshape(-1) if x.ndim != 1 else x
    return getitem(flat, Tensor._make(xp.where(idx < 0, idx + n, idx), x._device))


def select(x: Tensor, dim: int, index: int) -> Tensor:
    """x with ``dim`` removed at position ``index`` (a view): ``x.select(1, 2)`` is x[:, 2]."""
    dim = normalize_dim(dim, x.ndim, "select")
    return getitem(x, (slice(None),) * dim + (int(index),))


def index_add(x: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """x with ``alpha * source`` added at the slices ``index`` (1-D) along ``dim``; an index
    that repeats adds each of its slices."""
    xp = x._device.xp
    d = normalize_dim(dim, x.ndim, "index_add")
    idx = _check_index_dtype(index, "index_add", xp).reshape(-1)
    _check_range(idx, x.data.shape[d], d, "index_add")
    want = tuple(x.shape[:d]) + (idx.shape[0],) + tuple(x.shape[d + 1 :])
    if tuple(source.shape) != want:
        raise RuntimeError(
            f"index_add(): source of shape {tuple(source.shape)} does not match {want} "
            f"(x {tuple(x.shape)} with {idx.shape[0]} indices along dim {d})"
        )
    if source.data.dtype != x.data.dtype:
        source = cast(source, x.dtype)
    return IndexAdd.apply(x, source, index=idx, dim=d, alpha=alpha)


# ---------------------------------------------------------------- out-of-place writes
# Each is a copy of x written with setitem_, whose backward already routes the gradient: zero
# for x at the written positions, the written values' gradient gathered back to the source.


def _along_dim(x: Tensor, dim: int, index, op: str) -> tuple:
    d = normalize_dim(dim, x.ndim, op)
    return (slice(None),) * d + (index,)


def index_copy(x: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of x with the slices ``index`` (1-D) along ``dim`` replaced by ``source``'s."""
    xp = x._device.xp
    idx = _check_index_dtype(index, "index_copy", xp).reshape(-1)
    d = normalize_dim(dim, x.ndim, "index_copy") if x.ndim else 0
    _check_range(idx, x.data.shape[d] if x.ndim else 1, d, "index_copy")
    out = x.clone()
    setitem_(out, _along_dim(out, d, Tensor._make(idx, x._device), "index_copy"), source)
    return out


def index_put(x: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """A copy of x with ``x[indices] = values`` (a tuple of index tensors), or ``+= values``
    with repeated positions accumulating when ``accumulate``."""
    indices = tuple(indices)
    if not accumulate:
        out = x.clone()
        setitem_(out, indices, values)
        return out
    xp = x._device.xp
    arrays = []
    for i in indices:
        a = i.data if isinstance(i, Tensor) else xp.asarray(i)
        if a.dtype == bool:
            arrays.extend(xp.nonzero(a))
        else:
            arrays.append(a)
    k = len(arrays)
    lead = tuple(x.shape[:k])
    arrays = [xp.where(a < 0, a + n, a) for a, n in zip(arrays, lead, strict=True)]
    for a, n in zip(arrays, lead, strict=True):
        _check_range(a.reshape(-1), n, 0, "index_put")
    linear = xp.ravel_multi_index(tuple(xp.broadcast_arrays(*arrays)), lead).reshape(-1)
    rest = tuple(x.shape[k:])
    if not isinstance(values, Tensor):
        values = Tensor._make(xp.asarray(values, dtype=x.data.dtype), x._device)
    from chainrule.ops.movement import broadcast_shapes, expand

    target = tuple(broadcast_shapes(*(a.shape for a in arrays))) + rest
    values = expand(values, target).reshape((-1,) + rest)
    flat = x.reshape((-1,) + rest)
    return index_add(flat, 0, Tensor._make(linear, x._device), values).reshape(tuple(x.shape))


def masked_scatter(x: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """A copy of x whose positions where ``mask`` (broadcast to x) is True take ``source``'s
    elements in row-major order."""
    xp = x._device.xp
    m = xp.broadcast_to(mask.data if isinstance(mask, Tensor) else xp.asarray(mask), x.shape)
    if m.dtype != bool:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got {m.dtype}")
    count = int(m.sum())
    if source.numel() < count:
        raise RuntimeError(
            f"masked_scatter: the mask selects {count} elements but source has only "
            f"{source.numel()}"
        )
    out = x.clone()
    setitem_(out, Tensor._make(xp.ascontiguousarray(m), x._device), source.reshape(-1)[:count])
    return out


def select_scatter(x: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of x with ``x.select(dim, index)`` replaced by src."""
    out = x.clone()
    setitem_(out, _along_dim(out, dim, int(index), "select_scatter"), src)
    return out


def slice_scatter(x: Tensor, src: Tensor, dim: int = 0, start=None, end=None, step: int = 1):
    """A copy of x with ``x[..., start:end:step, ...]`` (along ``dim``) replaced by src."""
    out = x.clone()
    setitem_(out, _along_dim(out, dim, slice(start, end, step), "slice_scatter"), src)
    return out


def diagonal_scatter(x: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """A copy of x with ``x.diagonal(offset, dim1, dim2)`` replaced by src (whose last dim
    runs along the diagonal, as ``diagonal`` returns it)."""
    from chainrule.ops.movement import movedim

    d1, d2 = (
        normalize_dim(dim1, x.ndim, "diagonal_scatter"),
        normalize_dim(dim2, x.ndim, "diagonal_scatter"),
    )
    rows, cols = x.shape[d1], x.shape[d2]
    n = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    xp = x._device.xp
    index = [slice(None)] * x.ndim
    index[d1] = Tensor._make(xp.arange(n) - min(offset, 0), x._device)
    index[d2] = Tensor._make(xp.arange(n) + max(offset, 0), x._device)
    # NumPy places the diagonal where the two index arrays were when they are adjacent, first
    # otherwise; src has it last.
    where = min(d1, d2) if abs(d1 - d2) == 1 else 0
    if not isinstance(src, Tensor):
        src = Tensor._make(xp.asarray(src, dtype=x.data.dtype), x._device)
    out = x.clone()
    setitem_(out, tuple(index), movedim(src, -1, where) if src.ndim else src)
    return out


def unravel_index(indices, shape) -> tuple:
    """The coordinates in an array of ``shape`` of flat (row-major) ``indices``."""
    from chainrule.tensor import tensor

    if not isinstance(indices, Tensor):
        indices = tensor(indices)
    xp, dev = indices._device.xp, indices._device
    flat = indices.data
    if flat.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: expected integer indices, got {flat.dtype}")
    shape = (int(shape),) if isinstance(shape, int) else tuple(int(s) for s in shape)
    total = 1
    for s in shape:
        total *= s
    if flat.size and ((flat < -total) | (flat >= total)).any():
        raise RuntimeError(f"unravel_index: index out of bounds for shape {shape}")
    flat = xp.where(flat < 0, flat + total, flat)
    return tuple(Tensor._make(c.astype(xp.int64), dev) for c in xp.unravel_index(flat, shape))
