"""Convolution and pooling: strided views (im2col) plus one matrix product.

A 2-D convolution reads, for every output position p and kernel offset i, the padded input at
s p + d i (stride s, dilation d). ``_windows`` builds all those reads as one strided *view* of
the input (im2col without copying); one reshape-copy turns it into a matrix and one matmul,
batched over the groups, computes every output at once.

The adjoint of im2col, ``_col2im``, adds every column entry back to the input position it was
read from. It is grad_input of a convolution, the forward of a transposed convolution and of
fold, and routes gradients through pooling windows. It is vectorised too (no loop over output
positions, batch elements or kernel offsets); see its docstring.

Two measured fast paths loop over the kernel's kh*kw offsets (never over positions or batch
elements), each offset being one whole-array operation:

- Conv2d with stride 1 and dL/dx needed uses im2col along the flattened plane
  (``_plane_windows``): every matrix row is one contiguous run of the input, and col2im is
  kh*kw shifted adds of those runs (``_conv_plane_rows_backward``), ~3x faster than
  ``_col2im``, at the price of a few wrap-around columns computed and dropped.
- MaxPool2d with small kernels takes the max and the first argmax offset by offset
  (``_window_max_by_offsets``) instead of an argmax over a copied (..., kh*kw) axis.

The helpers and Functions work on (N, C, *S) arrays with any number of spatial axes S (taken
from the kernel): the 2-D Functions on (N, C, H, W), and their 3-D subclasses (Conv3d, MaxPool3d,
...) run the same code on (N, C, D, H, W), keeping their own names in the graph. The wrappers
add H = 1 for the 1-D forms and a batch dim for unbatched inputs. ``padding`` is one (before,
after) pair per spatial axis. LP pooling is a composition (as PyTorch's); MaxUnpool scatters
values to the flat plane indices that max pooling returns.
"""

from __future__ import annotations

import itertools
import math

from chainrule.autograd.function import Function, composite_backward_graph
from chainrule.backend import scatter_add
from chainrule.ops.common import linear_backward_graph
from chainrule.ops.elementwise import where
from chainrule.tensor import Tensor

# ---------------------------------------------------------------- strided-view machinery


def _windows(xp, x, kernel, stride, dilation, out_sizes):
    """im2col as a view over the last k = len(kernel) axes: x (..., *S) -> (..., *kernel,
    *out_sizes) with ``v[..., i, p] = x[..., s p + d i]`` (per spatial axis). No copy is made."""
    k = len(kernel)
    lead, spatial = x.strides[:-k], x.strides[-k:]
    shape = (*x.shape[:-k], *kernel, *out_sizes)
    strides = (
        *lead,
        *(d * st for d, st in zip(dilation, spatial)),
        *(s * st for s, st in zip(stride, spatial)),
    )
    return xp.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)


def _col2im(xp, cols, sizes, stride, dilation):
    """The adjoint of ``_windows``: cols (..., *kernel, *out) -> (..., *sizes), where every entry
    is added to the position it was read from: ``img[s p + d i] += cols[i, p]`` (per axis).

    Vectorised without a scatter: for each kernel offset i, spread its columns on a grid of step
    s (zeros between) placed d (k-1) further right, so that img[q] = sum_i z_i[q + d (k-1-i)].
    The shifted reads z_i[q + d (k-1-i)] are one strided view (a stride along i of
    ``stride_i - d stride_q``), summed over the kernel axes.
    """
    k = len(stride)
    lead, kernel, out = cols.shape[: -2 * k], cols.shape[-2 * k : -k], cols.shape[-k:]
    lo = [d * (kk - 1) for d, kk in zip(dilation, kernel)]
    z = xp.zeros((*lead, *kernel, *(n + t for n, t in zip(sizes, lo))), dtype=cols.dtype)
    z[(..., *(slice(t, t + s * (o - 1) + 1, s) for t, s, o in zip(lo, stride, out)))] = cols
    st_lead, st_k, st_q = z.strides[: -2 * k], z.strides[-2 * k : -k], z.strides[-k:]
    shifted = xp.lib.stride_tricks.as_strided(
        z[(..., *(0,) * k, *(slice(t, None) for t in lo))],
        shape=(*lead, *kernel, *sizes),
        strides=(*st_lead, *(a - d * b for a, d, b in zip(st_k, dilation, st_q)), *st_q),
    )
    return shifted.sum(axis=tuple(range(-2 * k, -k)))


def _pad(xp, x, padding, value=0.0):
    """x (N, C, *S) with (before, after) per spatial axis filled with ``value`` (a new array)."""
    if not any(b or a for b, a in padding):
        return x
    sizes = x.shape[2:]
    out = xp.full(
        (*x.shape[:2], *(n + b + a for n, (b, a) in zip(sizes, padding))), value, dtype=x.dtype
    )
    out[(..., *(slice(b, b + n) for n, (b, _) in zip(sizes, padding)))] = x
    return out


def _crop(g, padding):
    """The inverse of ``_pad`` on a gradient: drop the padded border."""
    sizes = g.shape[-len(padding) :]
    return g[(..., *(slice(b, n - a) for n, (b, a) in zip(sizes, padding)))]


def _spatial_axes(k: int, start: int = 2) -> tuple:
    return tuple(range(start, start + k))


def conv_out_size(n: int, k: int, s: int, d: int, pad_total: int) -> int:
    """Output length of a convolution/pool: floor((n + pads - d (k-1) - 1) / s) + 1."""
    return (n + pad_total - d * (k - 1) - 1) // s + 1


def pool_out_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output length; with ceil_mode the last window must start inside the
    input or the left padding."""
    span = n + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _bmm(xp, a, b):
    """(G, n, k) @ (G, k, m). With one group, a plain 2-D product: NumPy's stacked matmul can
    miss BLAS for a transposed operand."""
    if a.shape[0] == 1:
        return (a[0] @ b[0])[None]
    return xp.matmul(a, b)


def _to_groups(xp, a, groups):
    """(N, G*C, *S) -> (G, C, N*prod(S)): the layout the batched matmul wants (one copy)."""
    n, gc = a.shape[:2]
    return (
        a.reshape(n, groups, gc // groups, -1)
        .transpose(1, 2, 0, 3)
        .reshape(groups, gc // groups, -1)
    )


def _windows_to_groups(win, groups):
    """im2col's one copy: the window view (N, G*Cg, *kernel, *out) as the matrix stack
    (G, Cg*prod(kernel), N*prod(out)). Splitting C into (G, Cg) keeps it a view; the final
    reshape copies."""
    n, c = win.shape[:2]
    k = (win.ndim - 2) // 2
    split = win.reshape(n, groups, c // groups, *win.shape[2:])
    order = (1, 2, *_spatial_axes(k, 3), 0, *_spatial_axes(k, 3 + k))
    return split.transpose(order).reshape(
        groups, (c // groups) * math.prod(win.shape[2 : 2 + k]), -1
    )


def _from_groups(a, n, sizes):
    """(G, C, N*prod(S)) -> (N, G*C, *S) (one copy)."""
    g, c, _ = a.shape
    k = len(sizes)
    return (
        a.reshape(g, c, n, *sizes)
        .transpose(2, 0, 1, *_spatial_axes(k, 3))
        .reshape(n, g * c, *sizes)
    )


def _use_plane_rows(xp, xpad, weight, stride, out_hw, need_x, need_w) -> bool:
    """Whether Conv2d takes the plane-rows layout of ``_plane_windows``: when dL/dx is needed
    (the layout pays off in col2im; without it, the usual im2col wins: measured on LeNet-5),
    stride 1, and at most half as many wrap-around columns as real ones (they cost GEMM
    work). Non-finite inputs take the usual layout: the wrap-around columns meet zero
    gradients, and 0 * inf is NaN."""
    (oh, ow), wp = out_hw, xpad.shape[-1]
    if not need_x or stride != (1, 1) or 2 * ((oh - 1) * wp + ow) > 3 * oh * ow:
        return False
    if need_w and not bool(xp.isfinite(xpad).all()):
        return False
    return bool(xp.isfinite(weight).all())


def _plane_windows(xp, xpad, kernel, dilation, out_hw, groups):
    """im2col for stride 1 along the flattened plane: (N, G*Cg, Hp, Wp) (C-contiguous) ->
    (G, Cg*kh*kw, N*L) with ``cols[g, (c, i, j), n*L + t] = xpad_flat[n, g*Cg + c, t + d_h i Wp
    + d_w j]``, L = (oh - 1) Wp + ow.

    Column t = y Wp + x is output (y, x) when x < ow; the other (kw - 1) d_w columns of each
    row wrap around into the next input row and are computed, then dropped. In exchange every
    (c, i, j, n) row of the matrix is one contiguous run of the input, so the copy is a few
    long memcpy-like runs (3x faster than the usual im2col's runs of ow), and col2im becomes
    kh*kw shifted adds of long runs (``_conv_plane_rows_backward``)."""
    (kh, kw), (dh, dw), (oh, ow) = kernel, dilation, out_hw
    n, c, _, wp = xpad.shape
    span = (oh - 1) * wp + ow  # the last read, t = L - 1 at (i, j) = (kh-1, kw-1), is the last
    sn, sc, sh, sw = xpad.strides  # element of the plane: nothing past it is touched
    cg = c // groups
    view = xp.lib.stride_tricks.as_strided(
        xpad,
        shape=(groups, cg, kh, kw, n, span),
        strides=(cg * sc, sc, dh * sh, dw * sw, sn, sw),
    )
    return view.reshape(groups, cg * kh * kw, n * span)


def _from_plane_rows(xp, a, n, out_hw, wp):
    """The real outputs of a (G, O/G, N*L) plane-rows array as a (N, G, O/G, oh, ow) view."""
    (oh, ow), span = out_hw, (out_hw[0] - 1) * wp + out_hw[1]
    sg, so, st = a.strides
    return xp.lib.stride_tricks.as_strided(
        a, shape=(n, *a.shape[:2], oh, ow), strides=(span * st, sg, so, wp * st, st)
    )


# ---------------------------------------------------------------- convolutions


def _conv_reference(ctx, x, weight, bias, stride, padding, dilation, groups):
    """conv2d as unfold + one matrix product per group, in recorded ops (the reference that
    the differentiable backward takes the VJP of)."""
    if weight.ndim != 4:
        raise RuntimeError(
            f"backward with create_graph=True: {ctx.name()} has no differentiable backward yet "
            "(2-D and 1-D convolutions have one)"
        )
    n, o, kernel = x.shape[0], weight.shape[0], tuple(weight.shape[2:])
    cols = Unfold.apply(x, kernel=kernel, dilation=dilation, padding=padding, stride=stride)
    out_hw = tuple(
        conv_out_size(size + sum(pad), k, st, d, 0)
        for size, pad, k, st, d in zip(x.shape[2:], padding, kernel, stride, dilation)
    )
    w = weight.reshape(groups, o // groups, -1)  # (G, O/G, Cg kH kW)
    out = w.matmul(cols.reshape(n, groups, -1, cols.shape[-1]))  # (N, G, O/G, L)
    out = out.reshape(n, o, *out_hw)
    return out if bias is None else out + bias.reshape(1, o, 1, 1)


class Conv2d(Function):
    """y[n, o, p] = b[o] + sum_{c, i} W[o, c, i] x_pad[n, c, s p + d i] (per group);
    dL/dW = grad @ im2col(x)^T, dL/dx = col2im(W^T @ grad), dL/db = grad summed.
    Shapes: x (N, C, H, W), W (O, C/G, kH, kW) -> y (N, O, H_out, W_out); the same code runs
    Conv3d over (N, C, D, H, W)."""

    rule = "d conv(x, W)/dW = grad @ im2col(x)^T, d/dx = col2im(W^T @ grad), d/db = sum(grad)"

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        xp = ctx.xp
        need_x, need_w, _ = ctx.needs_input_grad
        n = x.shape[0]
        o, kernel = weight.shape[0], weight.shape[2:]
        xpad = _pad(xp, x, padding)
        padded = xpad.shape[2:]
        out_sizes = tuple(
            conv_out_size(size, k, s, d, 0)
            for size, k, s, d in zip(padded, kernel, stride, dilation)
        )
        ctx.geometry = (x.shape, padded, kernel, stride, padding, dilation, groups)
        ctx.plane_rows = len(kernel) == 2 and _use_plane_rows(
            xp, xpad, weight, stride, out_sizes, need_x, need_w
        )
        if ctx.plane_rows:
            (oh, ow), wp = out_sizes, padded[1]
            xpad = xp.ascontiguousarray(xpad)
            cols = _plane_windows(xp, xpad, kernel, dilation, out_sizes, groups)
            res = _bmm(xp, weight.reshape(groups, o // groups, -1), cols)  # (G, O/G, N*L)
            # Drop the wrap-around columns and move N in front: one pass, bias added on the way.
            rows = _from_plane_rows(xp, res, n, out_sizes, wp)
            out = xp.empty(rows.shape, dtype=res.dtype)  # (N, G, O/G, oh, ow)
            if bias is not None:
                xp.add(rows, bias.reshape(groups, -1, 1, 1), out=out)
            else:
                out[...] = rows
            out = out.reshape(n, o, oh, ow)
            ctx.save_for_backward(cols if need_w else None, weight if need_x else None)
            return out
        win = _windows(xp, xpad, kernel, stride, dilation, out_sizes)
        # (N, G*Cg, *kernel, *out) -> (G, Cg*prod(kernel), N*prod(out)): the one copy of im2col.
        cols = _windows_to_groups(win, groups)
        w = weight.reshape(groups, o // groups, -1)
        out = _from_groups(_bmm(xp, w, cols), n, out_sizes)  # one GEMM per group, batched
        if bias is not None:
            out += bias.reshape(-1, *(1,) * len(kernel))
        ctx.save_for_backward(cols if need_w else None, weight if need_x else None)
        return out

    @staticmethod
    def backward(ctx, grad):
        if ctx.plane_rows:
            return _conv_plane_rows_backward(ctx, grad)
        xp = ctx.xp
        cols, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        x_shape, padded, kernel, stride, padding, dilation, groups = ctx.geometry
        n, c = x_shape[:2]
        k = len(kernel)
        g = _to_groups(xp, grad, groups)  # (G, O/G, N*L)
        gx = gw = gb = None
        if need_w:
            gw = _bmm(xp, g, cols.transpose(0, 2, 1)).reshape(-1, c // groups, *kernel)
        if need_x:
            w = weight.reshape(groups, -1, weight[0].size)
            gcols = _bmm(xp, w.transpose(0, 2, 1), g)  # (G, Cg*prod(kernel), N*prod(out))
            gcols = gcols.reshape(c, *kernel, n, *grad.shape[2:])
            gcols = gcols.transpose(k + 1, 0, *_spatial_axes(k, 1), *_spatial_axes(k, k + 2))
            gx = _crop(_col2im(xp, gcols, padded, stride, dilation), padding)
        if need_b:
            gb = grad.sum(axis=(0, *_spatial_axes(k)))
        return gx, gw, gb

    backward_graph = composite_backward_graph(_conv_reference)


class Conv3d(Conv2d):
    """Conv2d over three spatial dims: x (N, C, D, H, W), W (O, C/G, kD, kH, kW);
    y[n, o, p] = b[o] + sum_{c, i} W[o, c, i] x_pad[n, c, s p + d i] with p, i triples.
    Its own class so that graphs name it; the computation is Conv2d's (im2col + one GEMM)."""

    rule = "d conv3d(x, W)/dW = grad @ im2col(x)^T, d/dx = col2im(W^T @ grad), d/db = sum(grad)"


def _conv_plane_rows_backward(ctx, grad):
    """Conv2d's backward in the plane-rows layout (see ``_plane_windows``)."""
    xp = ctx.xp
    cols, weight = ctx.saved_tensors
    need_x, need_w, need_b = ctx.needs_input_grad
    x_shape, (hp, wp), (kh, kw), _, padding, (dh, dw), groups = ctx.geometry
    n, c = x_shape[:2]
    o, (oh, ow) = grad.shape[1], grad.shape[2:]
    span = (oh - 1) * wp + ow
    # The gradient in the columns' layout (G, O/G, N*L), zero at the wrap-around columns, so
    # that they add nothing to dL/dW and nothing to dL/dx.
    g = xp.zeros((groups, o // groups, n * span), dtype=grad.dtype)
    _from_plane_rows(xp, g, n, (oh, ow), wp)[...] = grad.reshape(n, groups, -1, oh, ow)
    gx = gw = gb = None
    if need_w:
        # NOTE: computed as (cols @ g^T)^T: OpenBLAS runs this long-contraction product ~10%
        # faster with the wide matrix on the left.
        gw = _bmm(xp, cols, g.transpose(0, 2, 1)).transpose(0, 2, 1).reshape(o, -1, kh, kw)
    if need_x:
        w = weight.reshape(groups, o // groups, -1)
        gcols = _bmm(xp, w.transpose(0, 2, 1), g)  # (G, Cg*kh*kw, N*L)
        gcols = gcols.reshape(groups, c // groups, kh, kw, n, span)
        # col2im: the column of kernel offset (i, j) was read d_h i rows and d_w j columns
        # further on, i.e. at one flat shift of the plane, so each offset is one shifted add.
        # NOTE: a loop over the kh*kw offsets (25 adds for 5x5) with long contiguous inner
        # runs: measured 3x faster than the loop-free ``_col2im``, which first expands the
        # columns into a kh*kw times larger zero-padded array.
        img = xp.zeros((n, c, hp, wp), dtype=gcols.dtype)
        planes = img.reshape(n, groups, c // groups, hp * wp).transpose(1, 2, 0, 3)
        for i in range(kh):
            for j in range(kw):
                shift = i * dh * wp + j * dw
                planes[..., shift : shift + span] += gcols[:, :, i, j]
        gx = _crop(img, padding)
    if need_b:
        gb = g.sum(axis=-1).reshape(-1)
    return gx, gw, gb


class ConvTranspose2d(Function):
    """y = col2im(W^T x) cropped by padding: y[n, o, s p + d i] += W[c, o, i] x[n, c, p];
    dL/dx = conv(grad, W) (im2col then matmul), dL/dW = x @ im2col(grad)^T, dL/db = sum.
    Shapes: x (N, C, H, W), W (C, O/G, kH, kW) -> y (N, O, H_out, W_out); the same code runs
    ConvTranspose3d over (N, C, D, H, W)."""

    rule = "d conv_transpose(x, W)/dx = conv(grad, W), d/dW = x @ im2col(grad)^T, d/db = sum"

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, output_padding, dilation, groups):
        xp = ctx.xp
        need_x, need_w, _ = ctx.needs_input_grad
        n, c, sizes = x.shape[0], x.shape[1], x.shape[2:]
        og, kernel = weight.shape[1], weight.shape[2:]
        k = len(kernel)
        xg = _to_groups(xp, x, groups)  # (G, C/G, N*prod(S))
        w = weight.reshape(groups, c // groups, -1)
        cols = _bmm(xp, w.transpose(0, 2, 1), xg)  # (G, Og*prod(kernel), N*prod(S))
        cols = cols.reshape(groups * og, *kernel, n, *sizes)
        cols = cols.transpose(k + 1, 0, *_spatial_axes(k, 1), *_spatial_axes(k, k + 2))
        full = tuple(
            (size - 1) * s + d * (kk - 1) + 1 + op
            for size, s, d, kk, op in zip(sizes, stride, dilation, kernel, output_padding)
        )
        out = _crop(_col2im(xp, cols, full, stride, dilation), padding)
        if bias is not None:
            out = out + bias.reshape(-1, *(1,) * k)
        else:
            out = xp.ascontiguousarray(out)
        ctx.geometry = (full, kernel, stride, padding, dilation, groups, sizes)
        ctx.weight_shape = weight.shape
        ctx.save_for_backward(xg if need_w else None, weight if need_x else None)
        return out

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        xg, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        full, kernel, stride, padding, dilation, groups, sizes = ctx.geometry
        n = grad.shape[0]
        # The gradient of the uncropped output: zeros where the crop dropped values.
        widths = [(b, f - b - g) for f, (b, _), g in zip(full, padding, grad.shape[2:])]
        gfull = _pad(xp, grad, widths)
        win = _windows(xp, gfull, kernel, stride, dilation, sizes)  # (N, O, *kernel, *S)
        gcols = _windows_to_groups(win, groups)  # (G, Og*prod(kernel), N*prod(S))
        gx = gw = gb = None
        if need_x:
            w = weight.reshape(groups, weight.shape[0] // groups, -1)  # (G, C/G, Og*prod(k))
            gx = _from_groups(_bmm(xp, w, gcols), n, sizes)
        if need_w:
            gw = _bmm(xp, xg, gcols.transpose(0, 2, 1)).reshape(ctx.weight_shape)
        if need_b:
            gb = grad.sum(axis=(0, *_spatial_axes(len(kernel))))
        return gx, gw, gb


class ConvTranspose3d(ConvTranspose2d):
    """ConvTranspose2d over three spatial dims: x (N, C, D, H, W), W (C, O/G, kD, kH, kW);
    y[n, o, s p + d i] += W[c, o, i] x[n, c, p] (p, i triples), cropped by padding.
    Its own class so that graphs name it; the computation is ConvTranspose2d's."""

    rule = "d conv_transpose3d(x, W)/dx = conv3d(grad, W), d/dW = x @ im2col(grad)^T, d/db = sum"


class Unfold(Function):
    """im2col: y[n, (c, i, j), (p, q)] = x_pad[n, c, s p + d i, s q + d j];
    dL/dx = col2im(grad) (each entry's gradient added back where it was read)."""

    rule = "d unfold(x)/dx = fold(grad): every copy of x_k sends its gradient back to x_k"

    @staticmethod
    def forward(ctx, x, kernel, dilation, padding, stride):
        xp = ctx.xp
        n, c = x.shape[:2]
        xpad = _pad(xp, x, padding)
        hp, wp = xpad.shape[-2:]
        out_hw = (
            conv_out_size(hp, kernel[0], stride[0], dilation[0], 0),
            conv_out_size(wp, kernel[1], stride[1], dilation[1], 0),
        )
        ctx.geometry = ((hp, wp), kernel, stride, padding, dilation, out_hw)
        win = _windows(xp, xpad, kernel, stride, dilation, out_hw)
        return win.reshape(n, c * kernel[0] * kernel[1], -1)

    @staticmethod
    def backward(ctx, grad):
        hw_pad, kernel, stride, padding, dilation, out_hw = ctx.geometry
        n = grad.shape[0]
        cols = grad.reshape(n, -1, *kernel, *out_hw)
        return _crop(_col2im(ctx.xp, cols, hw_pad, stride, dilation), padding)

    backward_graph = staticmethod(linear_backward_graph)


class Fold(Function):
    """col2im: y_pad[n, c, s p + d i, s q + d j] += x[n, (c, i, j), (p, q)], then cropped;
    dL/dx = unfold(grad) (each entry reads the gradient of the position it was added to)."""

    rule = "d fold(x)/dx = unfold(grad): x_k was added to one position and reads its gradient"

    @staticmethod
    def forward(ctx, x, output_size, kernel, dilation, padding, stride, blocks_hw):
        n = x.shape[0]
        hw_pad = (
            output_size[0] + padding[0][0] + padding[0][1],
            output_size[1] + padding[1][0] + padding[1][1],
        )
        ctx.geometry = (kernel, stride, padding, dilation, blocks_hw, x.shape)
        cols = x.reshape(n, -1, *kernel, *blocks_hw)
        return ctx.xp.ascontiguousarray(
            _crop(_col2im(ctx.xp, cols, hw_pad, stride, dilation), padding)
        )

    @staticmethod
    def backward(ctx, grad):
        kernel, stride, padding, dilation, blocks_hw, x_shape = ctx.geometry
        gpad = _pad(ctx.xp, grad, padding)
        return _windows(ctx.xp, gpad, kernel, stride, dilation, blocks_hw).reshape(x_shape)

    backward_graph = staticmethod(linear_backward_graph)


# ---------------------------------------------------------------- pooling


def _pool_padding(xp, x, kernel, stride, padding, dilation, out_hw, value):
    """x padded by ``padding`` on the left/top and, on the right/bottom, by enough for every
    window (ceil_mode windows may run past the usual padding)."""
    widths = []
    for size, k, s, p, d, o in zip(x.shape[2:], kernel, stride, padding, dilation, out_hw):
        need = (o - 1) * s + d * (k - 1) + 1
        widths.append((p, max(need - size - p, 0)))
    return _pad(xp, x, widths, value), tuple(widths)


def _scatter_to_planes(xp, grad, index, shape, distinct=False):
    """An (N, C, *S) array of zeros with grad[n, c, p] added at plane position index[n, c, p]
    (flat within prod(S)): the backward of picking one element per window. ``distinct``: no two
    windows of a plane picked the same element, so a plain assignment does."""
    n, c = shape[:2]
    plane = math.prod(shape[2:])
    g = xp.zeros(n * c * plane, dtype=grad.dtype)
    planes = (xp.arange(n * c) * plane).reshape(n, c, *(1,) * (index.ndim - 2))
    if distinct:
        g[(index + planes).ravel()] = grad.ravel()
    else:
        scatter_add(xp, g, (index + planes).ravel(), grad.ravel())  # overlapping windows add up
    return g.reshape(shape)


def _plane_strides(sizes) -> tuple:
    """Flat-index step of each spatial axis in a C-ordered plane of ``sizes``: (H W, W, 1)."""
    return tuple(math.prod(sizes[i + 1 :]) for i in range(len(sizes)))


def _along(xp, values, axis: int, k: int):
    """A 1-D array shaped to broadcast along spatial ``axis`` of k trailing axes."""
    return xp.asarray(values).reshape(-1, *(1,) * (k - 1 - axis))


class MaxPool2d(Function):
    """y[n, c, p] = max over the window of x_pad at s p + d i;  dL/dx = grad routed to the argmax
    of each window (the first one on ties, as PyTorch's CPU kernel); windows overlapping at
    an element add their gradients there. Also returns the argmax as flat H*W indices.
    Shapes: (N, C, H, W) -> (N, C, H_out, W_out) twice; MaxPool3d runs it on (N, C, D, H, W)."""

    rule = "d maxpool(x)/dx_k = 1 where x_k is its window's (first) maximum, else 0"

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, ceil_mode):
        xp = ctx.xp
        n, c, sizes = x.shape[0], x.shape[1], x.shape[2:]
        k = len(kernel)
        out_sizes = tuple(
            pool_out_size(size, kk, s, p, d, ceil_mode)
            for size, kk, s, p, d in zip(sizes, kernel, stride, padding, dilation)
        )
        # NOTE: padding with -inf never wins a max, so padded windows pick real elements.
        xpad, _ = _pool_padding(xp, x, kernel, stride, padding, dilation, out_sizes, -math.inf)
        volume = math.prod(kernel)
        windows = n * c * math.prod(out_sizes)
        if volume <= 16 or (volume <= 64 and windows >= 512 * volume):
            out, arg = _window_max_by_offsets(xp, xpad, kernel, stride, dilation, out_sizes)
        else:
            win = _windows(xp, xpad, kernel, stride, dilation, out_sizes)  # (N, C, *k, *out)
            order = (0, 1, *_spatial_axes(k, 2 + k), *_spatial_axes(k))
            flat = win.transpose(order).reshape(n, c, *out_sizes, volume)
            arg = flat.argmax(axis=-1)  # the first maximum (NaN counts as the maximum, as torch)
            out = xp.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
        # The argmax as a flat index of the unpadded plane (what return_indices gives): window
        # origin (s p - pad) plus the offset of kernel element arg (C order over the kernel).
        steps = _plane_strides(sizes)
        offsets = 0
        for axis, i in enumerate(xp.unravel_index(xp.arange(volume), kernel)):
            offsets = offsets + i * (dilation[axis] * steps[axis])
        index = offsets.take(arg)
        for axis, (o, s, p) in enumerate(zip(out_sizes, stride, padding)):
            index += _along(xp, (xp.arange(o) * s - p) * steps[axis], axis, k)
        ctx.save_for_backward(index)
        ctx.shape = x.shape
        # Windows that share no element (and no left/top padding to pick from) have distinct
        # argmaxes: backward can assign instead of scatter-adding.
        ctx.disjoint = not any(padding) and all(
            s >= d * (kk - 1) + 1 for kk, s, d in zip(kernel, stride, dilation)
        )
        return out, index

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        return _scatter_to_planes(ctx.xp, grad, index, ctx.shape, ctx.disjoint)

    # For create_graph: the backward scatters the gradient to the saved argmax positions, a
    # linear map whose adjoint reads a gradient back at those positions (a gather).
    backward_graph = staticmethod(linear_backward_graph)

    @staticmethod
    def backward_adjoint(node, grad):
        (index,) = node.saved_tensors
        flat = index.reshape(index.shape[0], index.shape[1], -1)
        picked = node.xp.take_along_axis(grad.reshape(flat.shape[:2] + (-1,)), flat, 2)
        return picked.reshape(index.shape)

    @staticmethod
    def backward_adjoint_graph(node, grad):
        from chainrule.ops.indexing import take_along_dim

        (index,) = node.saved_tensors
        flat = index.reshape(index.shape[0], index.shape[1], -1)
        picked = take_along_dim(
            grad.reshape(flat.shape[:2] + (-1,)), Tensor._make(flat, node.device), 2
        )
        return picked.reshape(index.shape)


class MaxPool3d(MaxPool2d):
    """MaxPool2d over (N, C, D, H, W): y[n, c, p] = max of the (kD, kH, kW) window at s p + d i;
    dL/dx = grad routed to each window's first argmax. Indices are flat D*H*W positions."""

    rule = "d maxpool3d(x)/dx_k = 1 where x_k is its window's (first) maximum, else 0"


def _window_max_by_offsets(xp, xpad, kernel, stride, dilation, out_sizes):
    """The max of every pooling window and the C-order kernel offset of its first maximum
    (NaN counts as the maximum, as in ``argmax``), both (N, C, *out).

    One kernel offset i of all windows is one strided view of x (N, C, *out): the max is
    prod(kernel) - 1 elementwise maxima, and the first argmax counts, per window, the offsets
    before the first one equal to the max (a running "not found yet" mask, summed).
    NOTE: a loop over the kernel offsets, not over windows. The loop-free form (copy the
    windows to (N, C, *out, prod(kernel)), argmax over the last axis) spends its time in
    argmax's per-window inner loop: this is ~10x faster for LeNet's 2x2 pools and 2-7x for 3x3
    to 7x7 kernels. With few windows per offset (under ~512) the overhead of the 3 kh*kw
    calls dominates: MaxPool2d takes the argmax form for such large kernels.
    """
    views = [
        xpad[
            (
                ...,
                *(
                    slice(i * d, i * d + s * (o - 1) + 1, s)
                    for i, d, s, o in zip(offset, dilation, stride, out_sizes)
                ),
            )
        ]
        for offset in itertools.product(*(range(kk) for kk in kernel))
    ]
    out = views[0].copy()
    for v in views[1:]:
        xp.maximum(out, v, out=out)  # NaN propagates
    has_nan = bool(xp.isnan(out).any())
    arg = xp.zeros(out.shape, dtype=xp.int8)
    missed = xp.ones(out.shape, dtype=bool)  # no maximum among the offsets so far
    for v in views[:-1]:
        missed &= v != out
        if has_nan:
            missed &= v == v  # a NaN is the maximum of its window (out is NaN there)
        arg += missed.view(xp.int8)
    return out, arg


class AdaptiveMaxPool2d(Function):
    """y[n, c, i, j] = max of x over rows [floor(i H/oh), ceil((i+1) H/oh)) and the same for
    columns;  dL/dx = grad routed to each window's (first) argmax. Returns the argmax too.
    Shapes: (N, C, H, W) -> (N, C, oh, ow); AdaptiveMaxPool3d runs it on (N, C, D, H, W)."""

    rule = "d adaptive_maxpool(x)/dx_k = 1 where x_k is its window's (first) maximum, else 0"

    @staticmethod
    def forward(ctx, x, output_size):
        xp = ctx.xp
        n, c, sizes = x.shape[0], x.shape[1], x.shape[2:]
        k = len(sizes)
        starts = [_adaptive_index(xp, size, out) for size, out in zip(sizes, output_size)]
        # (N, C, o1, k1, o2, k2, ...) by fancy indexing: windows padded to the largest window by
        # repeating their last element, which changes neither the max nor the first argmax.
        grids = [
            idx.reshape(*(1,) * (2 * axis), *idx.shape, *(1,) * (2 * (k - 1 - axis)))
            for axis, idx in enumerate(starts)
        ]
        win = x[(slice(None), slice(None), *grids)]
        kmax = tuple(idx.shape[1] for idx in starts)
        order = (0, 1, *range(2, 2 + 2 * k, 2), *range(3, 3 + 2 * k, 2))
        flat = win.transpose(order).reshape(n, c, *output_size, math.prod(kmax))
        arg = flat.argmax(axis=-1)
        out = xp.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
        steps = _plane_strides(sizes)
        index = 0
        for axis, (idx, i) in enumerate(zip(starts, xp.unravel_index(arg, kmax))):
            rows = _along(xp, xp.arange(output_size[axis]), axis, k)
            index = index + idx[rows, i] * steps[axis]
        ctx.save_for_backward(index)
        ctx.shape = x.shape
        return out, index

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        return _scatter_to_planes(ctx.xp, grad, index, ctx.shape)

    # For create_graph: the backward scatters the gradient to the saved argmax positions, a
    # linear map whose adjoint reads a gradient back at those positions (a gather).
    backward_graph = staticmethod(linear_backward_graph)

    @staticmethod
    def backward_adjoint(node, grad):
        (index,) = node.saved_tensors
        flat = index.reshape(index.shape[0], index.shape[1], -1)
        picked = node.xp.take_along_axis(grad.reshape(flat.shape[:2] + (-1,)), flat, 2)
        return picked.reshape(index.shape)

    @staticmethod
    def backward_adjoint_graph(node, grad):
        from chainrule.ops.indexing import take_along_dim

        (index,) = node.saved_tensors
        flat = index.reshape(index.shape[0], index.shape[1], -1)
        picked = take_along_dim(
            grad.reshape(flat.shape[:2] + (-1,)), Tensor._make(flat, node.device), 2
        )
        return picked.reshape(index.shape)


class AdaptiveMaxPool3d(AdaptiveMaxPool2d):
    """AdaptiveMaxPool2d over (N, C, D, H, W) -> (N, C, od, oh, ow): the max of each adaptive
    window [floor(i n/o), ceil((i+1) n/o)) per axis; dL/dx = grad at each window's argmax."""

    rule = "d adaptive_maxpool3d(x)/dx_k = 1 where x_k is its window's (first) maximum, else 0"


def _adaptive_index(xp, size: int, out: int):
    """(out, kmax) input indices of adaptive windows [floor(i n/o), ceil((i+1) n/o)), each row
    padded with its last index."""
    i = xp.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    kmax = int((end - start).max())
    idx = start[:, None] + xp.arange(kmax)
    return xp.minimum(idx, (end - 1)[:, None])


class AvgPool2d(Function):
    """y[n, c, p] = (sum of x_pad over the window at s p) / divisor;
    dL/dx_k = sum over the windows containing x_k of grad / divisor.
    Shapes: (N, C, H, W) -> (N, C, H_out, W_out); AvgPool3d runs it on (N, C, D, H, W)."""

    rule = "d avgpool(x)/dx_k = sum over windows containing x_k of 1/divisor"

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
        xp = ctx.xp
        sizes = x.shape[2:]
        k = len(kernel)
        one = (1,) * k
        out_sizes = tuple(
            pool_out_size(size, kk, s, p, 1, ceil_mode)
            for size, kk, s, p in zip(sizes, kernel, stride, padding)
        )
        xpad, widths = _pool_padding(xp, x, kernel, stride, padding, one, out_sizes, 0.0)
        sums = _windows(xp, xpad, kernel, stride, one, out_sizes).sum(axis=_spatial_axes(k))
        if divisor_override:
            divisor = divisor_override
        else:
            divisor = _avg_divisor(xp, sizes, kernel, stride, padding, out_sizes, count_include_pad)
            divisor = divisor.astype(x.dtype)
        ctx.geometry = (xpad.shape[2:], kernel, stride, widths, out_sizes, divisor)
        return sums / divisor

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        padded, kernel, stride, widths, out_sizes, divisor = ctx.geometry
        k = len(kernel)
        g = (grad / divisor)[(slice(None), slice(None), *(None,) * k)]
        cols = xp.broadcast_to(g, (*grad.shape[:2], *kernel, *out_sizes))
        return _crop(_col2im(xp, cols, padded, stride, (1,) * k), widths)

    backward_graph = staticmethod(linear_backward_graph)


class AvgPool3d(AvgPool2d):
    """AvgPool2d over (N, C, D, H, W): y[n, c, p] = (sum of the (kD, kH, kW) window) / divisor;
    dL/dx_k = sum over the windows containing x_k of grad / divisor."""

    rule = "d avgpool3d(x)/dx_k = sum over windows containing x_k of 1/divisor"


def _avg_divisor(xp, sizes, kernel, stride, padding, out_sizes, count_include_pad):
    """PyTorch's divisor per output position: the window's size clipped to the padded input
    (count_include_pad) or to the input itself (the product over the spatial axes)."""
    k = len(sizes)
    divisor = 1
    for axis, (n, kk, s, p, o) in enumerate(zip(sizes, kernel, stride, padding, out_sizes)):
        start = xp.arange(o) * s - p
        end = xp.minimum(start + kk, n + p)
        if count_include_pad:
            size = end - start
        else:
            size = xp.minimum(end, n) - xp.maximum(start, 0)
        divisor = divisor * _along(xp, size, axis, k)
    return divisor


class MaxUnpool(Function):
    """The partial inverse of max pooling: y (N, C, *out) is zero except y_flat[n, c, i[n, c, p]]
    = x[n, c, p] (indices flat within the output plane, as max_pool returns them);
    dL/dx[n, c, p] = grad_flat[n, c, i[n, c, p]] (a gather)."""

    rule = "d max_unpool(x)/dx = grad read back at the indices x was written to"

    @staticmethod
    def forward(ctx, x, indices, output_size):
        xp = ctx.xp
        n, c = x.shape[:2]
        plane = math.prod(output_size)
        # Flat positions in the whole (N*C*plane) output: each plane's indices plus its start.
        where = (indices.reshape(n * c, -1) + xp.arange(n * c)[:, None] * plane).ravel()
        out = xp.zeros(n * c * plane, dtype=x.dtype)
        out[where] = x.ravel()
        ctx.save_for_backward(where)
        ctx.x_shape = x.shape
        return out.reshape(n, c, *output_size)

    @staticmethod
    def backward(ctx, grad):
        (where,) = ctx.saved_tensors
        return grad.ravel()[where].reshape(ctx.x_shape), None


# ---------------------------------------------------------------- argument handling


def ntuple(value, n: int, name: str) -> tuple:
    """``value`` as an n-tuple of ints (an int is repeated, as torch's _pair)."""
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1 and n > 1:
        return value * n
    if len(value) != n:
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value}")
    return value


def same_padding(kernel, dilation) -> tuple:
    """padding='same': d (k-1) in total per dim, the extra one (if odd) on the right, as torch."""
    out = []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        out.append((total // 2, total - total // 2))
    return tuple(out)


def _shape_str(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _as_batched(x: Tensor, spatial: int, name: str):
    """x as (N, C, H, W) for the 2-D Functions ((N, C, D, H, W) for the 3-D ones), and a
    function restoring the output's shape.

    1-D ops get H = 1; unbatched inputs (one dim fewer) get N = 1.
    """
    if x.ndim not in (spatial + 1, spatial + 2):
        kind = f"{spatial + 1}D (unbatched) or {spatial + 2}D (batched)"
        raise RuntimeError(
            f"Expected {kind} input to {name}, but got input of size: {_shape_str(x.shape)}"
        )
    batched = x.ndim == spatial + 2
    y = x if batched else x.unsqueeze(0)
    if spatial == 1:
        y = y.unsqueeze(2)

    def undo(out: Tensor) -> Tensor:
        if spatial == 1:
            out = out.squeeze(2)
        return out if batched else out.squeeze(0)

    return y, undo


def _conv_padding(padding, kernel, dilation, stride, n: int):
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * max(n, 2)
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            return _lift(same_padding(kernel, dilation), n, (0, 0))
        raise ValueError(
            f"Invalid padding string {padding!r}, should be one of {{'same', 'valid'}}"
        )
    pads = ntuple(padding, n, "padding")
    if any(p < 0 for p in pads):
        raise RuntimeError("negative padding is not supported")
    return _lift(tuple((p, p) for p in pads), n, (0, 0))


def _check_positive(values, what: str):
    if any(v <= 0 for v in values):
        raise RuntimeError(f"non-positive {what} is not supported")


def _lift(values: tuple, n: int, fill: int) -> tuple:
    """A 1-D op's parameters as the 2-D ones with H = 1 (the H entry is ``fill``); 2-D and
    3-D ones as they are."""
    return values if n > 1 else (fill, *values)


def _conv(name, n, input, weight, bias, stride, padding, dilation, groups) -> Tensor:
    x, undo = _as_batched(input, n, name)
    if weight.ndim != n + 2:
        raise RuntimeError(
            f"{name}: expected a {n + 2}-D weight (out_channels, in_channels/groups, "
            f"*kernel_size), got size {_shape_str(weight.shape)}"
        )
    stride, dilation = ntuple(stride, n, "stride"), ntuple(dilation, n, "dilation")
    _check_positive(stride, "stride")
    _check_positive(dilation, "dilation")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    kernel = tuple(weight.shape[2:])
    pads = _conv_padding(padding, kernel, dilation, stride, n)
    out_c, cg = weight.shape[:2]
    if out_c % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension "
            f"0, but got weight of size {_shape_str(weight.shape)} instead"
        )
    if x.shape[1] != cg * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {_shape_str(weight.shape)}, expected "
            f"input{_shape_str(input.shape if input.ndim == n + 2 else (1, *input.shape))} to "
            f"have {cg * groups} channels, but got {x.shape[1]} channels instead"
        )
    if bias is not None and tuple(bias.shape) != (out_c,):
        raise RuntimeError(
            f"Given weight of size {_shape_str(weight.shape)}, expected bias to be 1-dimensional "
            f"with {out_c} elements, but got bias of size {_shape_str(bias.shape)} instead"
        )
    padded = [size + sum(p) for size, p in zip(x.shape[2:], pads)][-n:]
    effective = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(p < k for p, k in zip(padded, effective)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(map(str, effective))}). Kernel size can't be greater "
            f"than actual input size"
        )
    w = weight if n > 1 else weight.unsqueeze(2)
    out = (Conv3d if n == 3 else Conv2d).apply(
        x,
        w,
        bias,
        stride=_lift(stride, n, 1),
        padding=pads,
        dilation=_lift(dilation, n, 1),
        groups=groups,
    )
    return undo(out)


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups=1,
) -> Tensor:
    """2-D cross-correlation (what deep learning calls convolution):
    y[n, o, p, q] = b[o] + sum_{c, i, j} W[o, c, i, j] x[n, c, s p + d i - pad, s q + d j - pad].

    Computed as im2col (a strided view of the padded input, copied once into a matrix) and one
    matrix product, batched over the groups.

    Args:
        input: (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: (C_out, C_in / groups, kH, kW).
        bias: (C_out,) or None.
        stride, dilation: int or (sH, sW).
        padding: int, (pH, pW), 'valid' (no padding) or 'same' (output size = input size,
            stride 1 only).
        groups: split the channels into ``groups`` independent convolutions
            (groups = C_in is a depthwise convolution).

    Shape: (N, C_in, H, W) -> (N, C_out, H_out, W_out),
    H_out = floor((H + 2 pH - dH (kH - 1) - 1) / sH) + 1.

    Example:
        >>> F.conv2d(chainrule.ones(1, 1, 4, 4), chainrule.ones(1, 1, 3, 3)).shape
        chainrule.Size([1, 1, 2, 2])
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups=1,
) -> Tensor:
    """1-D cross-correlation y[n, o, p] = b[o] + sum_{c, i} W[o, c, i] x[n, c, s p + d i - pad]
    (conv2d with H = 1).

    Shape: input (N, C_in, L) or (C_in, L), weight (C_out, C_in / groups, k) ->
    (N, C_out, L_out), L_out = floor((L + 2 pad - d (k - 1) - 1) / s) + 1.

    Example:
        >>> F.conv1d(chainrule.ones(1, 2, 5), chainrule.ones(3, 2, 3)).shape
        chainrule.Size([1, 3, 3])
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups=1,
) -> Tensor:
    """3-D cross-correlation over volumes (video, medical scans):
    y[n, o, p] = b[o] + sum_{c, i} W[o, c, i] x[n, c, s p + d i - pad], p and i (depth, row,
    column) triples. im2col over three axes and one matrix product, as conv2d.

    Args:
        input: (N, C_in, D, H, W) or unbatched (C_in, D, H, W).
        weight: (C_out, C_in / groups, kD, kH, kW).
        bias: (C_out,) or None.
        stride, dilation: int or (sD, sH, sW).
        padding: int, (pD, pH, pW), 'valid' or 'same' (stride 1 only).
        groups: split the channels into ``groups`` independent convolutions.

    Shape: (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out),
    D_out = floor((D + 2 pD - dD (kD - 1) - 1) / sD) + 1 (likewise H_out, W_out).

    Example:
        >>> F.conv3d(chainrule.ones(1, 1, 4, 4, 4), chainrule.ones(2, 1, 3, 3, 3)).shape
        chainrule.Size([1, 2, 2, 2, 2])
    """
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(
    name, n, input, weight, bias, stride, padding, output_padding, groups, dilation
) -> Tensor:
    x, undo = _as_batched(input, n, name)
    if weight.ndim != n + 2:
        raise RuntimeError(
            f"{name}: expected a {n + 2}-D weight (in_channels, out_channels/groups, "
            f"*kernel_size), got size {_shape_str(weight.shape)}"
        )
    stride, dilation = ntuple(stride, n, "stride"), ntuple(dilation, n, "dilation")
    pads = ntuple(padding, n, "padding")
    out_pads = ntuple(output_padding, n, "output_padding")
    _check_positive(stride, "stride")
    _check_positive(dilation, "dilation")
    if any(p < 0 for p in pads + out_pads):
        raise RuntimeError("negative padding is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if any(op >= s and op >= d for op, s, d in zip(out_pads, stride, dilation)):
        raise RuntimeError(
            f"output padding must be smaller than either stride or dilation, but got "
            f"output_padding={out_pads}, stride={stride}, dilation={dilation}"
        )
    in_c = weight.shape[0]
    if in_c % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension "
            f"0, but got weight of size {_shape_str(weight.shape)} instead"
        )
    if x.shape[1] != in_c:
        raise RuntimeError(
            f"Given transposed=1, weight of size {_shape_str(weight.shape)}, expected "
            f"input{_shape_str(input.shape if input.ndim == n + 2 else (1, *input.shape))} to "
            f"have {in_c} channels, but got {x.shape[1]} channels instead"
        )
    out_c = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (out_c,):
        raise RuntimeError(
            f"Given transposed=1, weight of size {_shape_str(weight.shape)}, expected bias to "
            f"be 1-dimensional with {out_c} elements, but got bias of size "
            f"{_shape_str(bias.shape)} instead"
        )
    kernel = tuple(weight.shape[2:])
    sizes = [
        (size - 1) * s - 2 * p + d * (k - 1) + op + 1
        for size, s, p, d, k, op in zip(input.shape[-n:], stride, pads, dilation, kernel, out_pads)
    ]
    if any(size <= 0 for size in sizes):
        raise RuntimeError(f"{name}: the output size {tuple(sizes)} is too small (padding too big)")
    w = weight if n > 1 else weight.unsqueeze(2)
    out = (ConvTranspose3d if n == 3 else ConvTranspose2d).apply(
        x,
        w,
        bias,
        stride=_lift(stride, n, 1),
        padding=tuple((p, p) for p in _lift(pads, n, 0)),
        output_padding=_lift(out_pads, n, 0),
        dilation=_lift(dilation, n, 1),
        groups=groups,
    )
    return undo(out)


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
) -> Tensor:
    """2-D transposed convolution (the gradient of conv2d with respect to its input; an
    upsampling layer): every input pixel adds a copy of the kernel, scaled by its value, to
    the output at s p + d i, then ``padding`` is cropped from each side.

    Args:
        input: (N, C_in, H, W) or (C_in, H, W).
        weight: (C_in, C_out / groups, kH, kW) (note: in_channels first).
        output_padding: extra rows/columns added on the bottom/right to pick one of the
            output sizes a strided conv2d maps to the same input size (< stride or dilation).

    Shape: H_out = (H - 1) sH - 2 pH + dH (kH - 1) + output_padding + 1.

    Example:
        >>> F.conv_transpose2d(chainrule.ones(1, 1, 2, 2), chainrule.ones(1, 1, 3, 3),
        ...                    stride=2).shape
        chainrule.Size([1, 1, 5, 5])
    """
    return _conv_transpose(
        "conv_transpose2d",
        2,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
    )


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
) -> Tensor:
    """1-D transposed convolution (conv_transpose2d with H = 1).

    Shape: (N, C_in, L) -> (N, C_out, (L - 1) s - 2 pad + d (k - 1) + output_padding + 1).

    Example:
        >>> F.conv_transpose1d(chainrule.ones(1, 2, 3), chainrule.ones(2, 1, 2), stride=2).shape
        chainrule.Size([1, 1, 6])
    """
    return _conv_transpose(
        "conv_transpose1d",
        1,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
    )


def conv_transpose3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups=1,
    dilation=1,
) -> Tensor:
    """3-D transposed convolution (the gradient of conv3d with respect to its input): every
    input voxel adds a scaled copy of the kernel to the output at s p + d i, then ``padding``
    is cropped from each side.

    Args:
        input: (N, C_in, D, H, W) or (C_in, D, H, W).
        weight: (C_in, C_out / groups, kD, kH, kW) (in_channels first).
        output_padding: extra size added at the end of each spatial dim (< stride or dilation).

    Shape: D_out = (D - 1) sD - 2 pD + dD (kD - 1) + output_padding + 1 (likewise H, W).

    Example:
        >>> F.conv_transpose3d(chainrule.ones(1, 1, 2, 2, 2), chainrule.ones(1, 1, 3, 3, 3),
        ...                    stride=2).shape
        chainrule.Size([1, 1, 5, 5, 5])
    """
    return _conv_transpose(
        "conv_transpose3d",
        3,
        input,
        weight,
        bias,
        stride,
        padding,
        output_padding,
        groups,
        dilation,
    )


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """im2col: every sliding block of the (zero-padded) input as a column.

    y[n, c kH kW + i kW + j, p W_out + q] = x_pad[n, c, s p + d i, s q + d j].

    Shape: (N, C, H, W) or (C, H, W) -> (N, C kH kW, L), L = H_out W_out.

    Example:
        >>> F.unfold(chainrule.ones(1, 2, 4, 4), 2).shape
        chainrule.Size([1, 8, 9])
    """
    if input.ndim not in (3, 4):
        raise RuntimeError(
            f"Input Error: Only 3D or 4D input Tensors are supported (got {input.ndim}D)"
        )
    x, undo = _as_batched(input, 2, "unfold")
    kernel, dilation = ntuple(kernel_size, 2, "kernel_size"), ntuple(dilation, 2, "dilation")
    pads, stride = ntuple(padding, 2, "padding"), ntuple(stride, 2, "stride")
    _check_positive(kernel + dilation + stride, "kernel_size, dilation or stride")
    blocks = [
        conv_out_size(n, k, s, d, 2 * p)
        for n, k, s, d, p in zip(x.shape[2:], kernel, stride, dilation, pads)
    ]
    if any(b <= 0 for b in blocks):
        raise RuntimeError(
            f"Given input with spatial size {tuple(x.shape[2:])}, kernel_size={kernel}, "
            f"dilation={dilation}, padding={pads}, calculated shape of the array of sliding "
            f"blocks as {tuple(blocks)}, but its components must be at least one."
        )
    out = Unfold.apply(
        x, kernel=kernel, dilation=dilation, padding=tuple((p, p) for p in pads), stride=stride
    )
    return undo(out)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """col2im, the adjoint of unfold: add every column back into the image it came from
    (overlapping blocks sum).

    Shape: (N, C kH kW, L) or (C kH kW, L) -> (N, C, *output_size).

    Example:
        >>> F.fold(chainrule.ones(1, 4, 9), (4, 4), 2)[0, 0]
        tensor([[1., 2., 2., 1.],
                [2., 4., 4., 2.],
                [2., 4., 4., 2.],
                [1., 2., 2., 1.]])
    """
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
            f"(got {input.ndim}D)"
        )
    batched = input.ndim == 3
    x = input if batched else input.unsqueeze(0)
    size = ntuple(output_size, 2, "output_size")
    kernel, dilation = ntuple(kernel_size, 2, "kernel_size"), ntuple(dilation, 2, "dilation")
    pads, stride = ntuple(padding, 2, "padding"), ntuple(stride, 2, "stride")
    _check_positive(kernel + dilation + stride, "kernel_size, dilation or stride")
    k = kernel[0] * kernel[1]
    if x.shape[1] % k:
        raise RuntimeError(
            f"Expected size of input's dimension 1 to be divisible by the product of "
            f"kernel_size, but got input.size(1)={x.shape[1]} and kernel_size={kernel}"
        )
    blocks = tuple(
        conv_out_size(n, kk, s, d, 2 * p)
        for n, kk, s, d, p in zip(size, kernel, stride, dilation, pads)
    )
    if blocks[0] * blocks[1] != x.shape[2] or min(blocks) <= 0:
        raise RuntimeError(
            f"Given output_size={size}, kernel_size={kernel}, dilation={dilation}, "
            f"padding={pads}, stride={stride}, expected size of input's dimension 2 to match "
            f"the calculated number of sliding blocks {blocks[0]} * {blocks[1]} = "
            f"{blocks[0] * blocks[1]}, but got input.size(2)={x.shape[2]}."
        )
    out = Fold.apply(
        x,
        output_size=size,
        kernel=kernel,
        dilation=dilation,
        padding=tuple((p, p) for p in pads),
        stride=stride,
        blocks_hw=blocks,
    )
    return out if batched else out.squeeze(0)


# ---------------------------------------------------------------- pooling


def _pool_args(name, n, kernel_size, stride, padding, dilation):
    kernel = ntuple(kernel_size, n, "kernel_size")
    stride = (
        kernel if stride is None or stride == [] or stride == () else ntuple(stride, n, "stride")
    )
    pads, dilation = ntuple(padding, n, "padding"), ntuple(dilation, n, "dilation")
    _check_positive(kernel, "kernel_size")
    _check_positive(stride, "stride")
    _check_positive(dilation, "dilation")
    for k, p, d in zip(kernel, pads, dilation):
        if p < 0 or p > (d * (k - 1) + 1) // 2:
            extra = " effective" if name.startswith("max") else ""
            tail = f" and dilation={d}" if name.startswith("max") else ""
            raise RuntimeError(
                f"pad should be at most half of{extra} kernel size, but got pad={p}, "
                f"kernel_size={k}{tail}"
            )
    return kernel, stride, pads, dilation


def _check_pool_output(x: Tensor, out_hw) -> None:
    if min(out_hw) <= 0:
        sizes = "x".join(str(s) for s in x.shape[1:])
        outs = "x".join(str(s) for s in (x.shape[1], *out_hw))
        raise RuntimeError(
            f"Given input size: ({sizes}). Calculated output size: ({outs}). "
            f"Output size is too small"
        )


def _max_pool(name, n, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, undo = _as_batched(input, n, name)
    kernel, stride, pads, dilation = _pool_args(name, n, kernel_size, stride, padding, dilation)
    kernel, stride = _lift(kernel, n, 1), _lift(stride, n, 1)
    pads, dilation = _lift(pads, n, 0), _lift(dilation, n, 1)
    _check_pool_output(
        x,
        [
            pool_out_size(size, k, s, p, d, ceil_mode)
            for size, k, s, p, d in zip(x.shape[2:], kernel, stride, pads, dilation)
        ],
    )
    out, indices = (MaxPool3d if n == 3 else MaxPool2d).apply(
        x, kernel=kernel, stride=stride, padding=pads, dilation=dilation, ceil_mode=ceil_mode
    )
    return (undo(out), undo(indices)) if return_indices else undo(out)


def max_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """The maximum of each (kH, kW) window, windows ``stride`` apart (default: kernel_size).

    Backward sends each output's gradient to the element that was its window's maximum (the
    first one on ties). ``padding`` adds -inf borders (at most half the kernel); ``ceil_mode``
    keeps a last, partial window; ``return_indices`` also returns the argmax as flat H*W
    indices (what ``max_unpool2d`` takes).

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out),
    H_out = floor_or_ceil((H + 2 p - d (k - 1) - 1) / s) + 1.

    Example:
        >>> F.max_pool2d(chainrule.arange(16.0).reshape(1, 1, 4, 4), 2)
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
    """
    return _max_pool(
        "max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def max_pool1d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """The maximum of each window of ``kernel_size`` along the last dim (max_pool2d, H = 1).

    Example:
        >>> F.max_pool1d(chainrule.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2)
        tensor([[[3., 2.]]])
    """
    return _max_pool(
        "max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def _avg_pool(
    name, n, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
):
    x, undo = _as_batched(input, n, name)
    kernel, stride, pads, _ = _pool_args(name, n, kernel_size, stride, padding, 1)
    kernel, stride, pads = _lift(kernel, n, 1), _lift(stride, n, 1), _lift(pads, n, 0)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    _check_pool_output(
        x,
        [
            pool_out_size(size, k, s, p, 1, ceil_mode)
            for size, k, s, p in zip(x.shape[2:], kernel, stride, pads)
        ],
    )
    out = (AvgPool3d if n == 3 else AvgPool2d).apply(
        x,
        kernel=kernel,
        stride=stride,
        padding=pads,
        ceil_mode=ceil_mode,
        count_include_pad=count_include_pad,
        divisor_override=divisor_override,
    )
    return undo(out)


def avg_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each (kH, kW) window: the window's sum divided by its size (counting the
    zero padding when ``count_include_pad``, or ``divisor_override``).

    Backward spreads each output's gradient evenly (grad / divisor) over its window.

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) (as max_pool2d, no dilation).

    Example:
        >>> F.avg_pool2d(chainrule.arange(16.0).reshape(1, 1, 4, 4), 2)
        tensor([[[[ 2.5000,  4.5000],
                  [10.5000, 12.5000]]]])
    """
    return _avg_pool(
        "avg_pool2d",
        2,
        input,
        kernel_size,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
    )


def avg_pool1d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """The mean of each window of ``kernel_size`` along the last dim (avg_pool2d, H = 1).

    Example:
        >>> F.avg_pool1d(chainrule.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2)
        tensor([[[2., 1.]]])
    """
    return _avg_pool(
        "avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None
    )


def adaptive_output_size(output_size, in_sizes, name: str) -> tuple:
    """``output_size`` as a tuple with None entries replaced by the input's size."""
    n = len(in_sizes)
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size,) * n
    output_size = tuple(output_size)
    if len(output_size) != n:
        raise ValueError(f"{name}: output_size must be an int or a tuple of {n}, got {output_size}")
    out = tuple(s if o is None else int(o) for o, s in zip(output_size, in_sizes))
    if any(o <= 0 for o in out):
        raise RuntimeError(f"{name}: elements of output_size must be greater than 0, got {out}")
    return out


def _adaptive_max_pool(name, n, input, output_size, return_indices):
    x, undo = _as_batched(input, n, name)
    size = adaptive_output_size(output_size, tuple(input.shape[-n:]), name)
    if any(s == 0 for s in x.shape[2:]):
        raise RuntimeError(f"{name}: expected input with non-zero spatial size, got {x.shape}")
    pool = AdaptiveMaxPool3d if n == 3 else AdaptiveMaxPool2d
    out, indices = pool.apply(x, output_size=_lift(size, n, 1))
    return (undo(out), undo(indices)) if return_indices else undo(out)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling to a fixed output size: output (i, j) is the max over rows
    [floor(i H / oh), ceil((i + 1) H / oh)) and the matching columns (windows may overlap when
    the sizes do not divide). ``None`` in output_size keeps that input size.

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, oh, ow).

    Example:
        >>> F.adaptive_max_pool2d(chainrule.arange(9.0).reshape(1, 1, 3, 3), 2)
        tensor([[[[4., 5.],
                  [7., 8.]]]])
    """
    return _adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling of the last dim to ``output_size`` windows (adaptive_max_pool2d, H = 1)."""
    return _adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling to a fixed (od, oh, ow) output size: each output is the max over the
    adaptive window [floor(i n / o), ceil((i + 1) n / o)) of every spatial axis. ``None`` in
    output_size keeps that input size; ``return_indices`` adds flat D*H*W argmax indices.

    Shape: (N, C, D, H, W) or (C, D, H, W) -> (N, C, od, oh, ow).

    Example:
        >>> F.adaptive_max_pool3d(chainrule.randn(1, 2, 5, 6, 7), (2, 3, None)).shape
        chainrule.Size([1, 2, 2, 3, 7])
    """
    return _adaptive_max_pool("adaptive_max_pool3d", 3, input, output_size, return_indices)


def max_pool3d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """The maximum of each (kD, kH, kW) window (max_pool2d over one more spatial dim);
    ``return_indices`` gives the argmax as flat D*H*W indices (what ``max_unpool3d`` takes).

    Shape: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out),
    D_out = floor_or_ceil((D + 2 p - d (k - 1) - 1) / s) + 1 (likewise H, W).

    Example:
        >>> F.max_pool3d(chainrule.arange(8.0).reshape(1, 1, 2, 2, 2), 2)
        tensor([[[[[7.]]]]])
    """
    return _max_pool(
        "max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def avg_pool3d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each (kD, kH, kW) window (avg_pool2d over one more spatial dim).

    Shape: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out).

    Example:
        >>> F.avg_pool3d(chainrule.arange(8.0).reshape(1, 1, 2, 2, 2), 2)
        tensor([[[[[3.5000]]]]])
    """
    return _avg_pool(
        "avg_pool3d",
        3,
        input,
        kernel_size,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
    )


# ---------------------------------------------------------------- power-average pooling


def _lp_pool(name, n, input, norm_type, kernel_size, stride, ceil_mode) -> Tensor:
    """PyTorch's formula: (a * prod(kernel)) ** (1/p), a = avg_pool(x ** p), where PyTorch
    writes a as sign(a) relu(|a|): the same value, but a gradient of 0 where the window sum is 0
    (relu'(0) = 0), which keeps the infinite slope of t ** (1/p) at t = 0 out of the gradient.
    ``where(a != 0, a, 0)`` does the same (its backward selects, so inf * 0 never happens)."""
    if norm_type == math.inf:
        return _max_pool(name, n, input.abs(), kernel_size, stride, 0, 1, ceil_mode, False)
    if norm_type == -math.inf:
        return -_max_pool(name, n, -input.abs(), kernel_size, stride, 0, 1, ceil_mode, False)
    area = math.prod(ntuple(kernel_size, n, "kernel_size"))
    out = _avg_pool(name, n, input.pow(norm_type), kernel_size, stride, 0, ceil_mode, True, None)
    return where(out != 0, out, 0.0).mul(area).pow(1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling along the last dim: y = (sum over the window of x^p)^(1/p)
    (p = inf is max pooling of |x|; p = 1 is sum pooling). No padding.

    Shape: (N, C, L) or (C, L) -> (N, C, L_out), L_out = floor_or_ceil((L - k) / s) + 1.

    Example:
        >>> F.lp_pool1d(chainrule.tensor([[[3.0, 4.0, 1.0, 1.0]]]), 2, 2)
        tensor([[[5.0000, 1.4142]]])
    """
    return _lp_pool("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (kH, kW) windows: y = (sum over the window of x^p)^(1/p),
    computed as PyTorch does, (avg_pool2d(x^p) * kH kW)^(1/p); a window whose sum is 0 gets
    gradient 0.

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) (as avg_pool2d, no padding).

    Example:
        >>> F.lp_pool2d(chainrule.ones(1, 1, 4, 4), 2, 2)
        tensor([[[[2., 2.],
                  [2., 2.]]]])
    """
    return _lp_pool("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input: Tensor, norm_type: float, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (kD, kH, kW) windows (lp_pool2d over one more dim).

    Shape: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out).

    Example:
        >>> F.lp_pool3d(chainrule.ones(1, 1, 2, 2, 2), 1, 2)
        tensor([[[[[8.]]]]])
    """
    return _lp_pool("lp_pool3d", 3, input, norm_type, kernel_size, stride, ceil_mode)


# ---------------------------------------------------------------- max-unpooling


def _unpool_output_size(sizes, kernel, stride, padding, output_size) -> tuple:
    """PyTorch's: (L - 1) s + k - 2 p per spatial dim, or ``output_size`` (its last n entries
    when it also lists N and C) when it lies strictly within a stride of that."""
    default = tuple((n - 1) * s + k - 2 * p for n, k, s, p in zip(sizes, kernel, stride, padding))
    if output_size is None:
        out = default
    else:
        out = tuple(int(o) for o in output_size)
        if len(out) == len(kernel) + 2:
            out = out[2:]
        if len(out) != len(kernel):
            raise ValueError(
                f"output_size should be a sequence containing {len(kernel)} or "
                f"{len(kernel) + 2} elements, but it has a length of '{len(out)}'"
            )
        for d, (o, size, s) in enumerate(zip(out, default, stride)):
            if not size - s < o < size + s:
                raise ValueError(
                    f'invalid output_size "{tuple(output_size)}" (dim {d} must be between '
                    f"{size - s} and {size + s})"
                )
    for d, o in enumerate(out):
        if o < 0:
            raise ValueError(
                f"max_unpooling: output_size must contain non-negative spatial dimensions, "
                f"but got output_size[{d}]={o}"
            )
    return out


def _max_unpool(name, n, input, indices, kernel_size, stride, padding, output_size) -> Tensor:
    kernel = ntuple(kernel_size, n, "kernel_size")
    stride = kernel if stride is None else ntuple(stride, n, "stride")
    pads = ntuple(padding, n, "padding")
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(
            f"Input to {name} should be a {n + 1}d or {n + 2}d Tensor, but got a tensor with "
            f"{input.ndim} dimensions."
        )
    if not isinstance(indices, Tensor) or indices.data.dtype.kind not in "iu":
        kind = indices.dtype if isinstance(indices, Tensor) else type(indices).__name__
        raise RuntimeError(f"{name}: elements in indices should be type int64 but got: {kind}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(
            f"{name}: Expected shape of indices to be same as that of the input tensor "
            f"({_shape_str(input.shape)}) but got indices tensor with shape: "
            f"{_shape_str(indices.shape)}"
        )
    out_size = _unpool_output_size(input.shape[-n:], kernel, stride, pads, output_size)
    batched = input.ndim == n + 2
    x = input if batched else input.unsqueeze(0)
    index = indices.data if batched else indices.data[None]
    plane = math.prod(out_size)
    if index.size and (int(index.min()) < 0 or int(index.max()) >= plane):
        bad = index[(index < 0) | (index >= plane)].ravel()[0]
        raise RuntimeError(
            f"{name}: Found an invalid max index: {int(bad)} (output volumes are of size "
            f"{'x'.join(map(str, out_size))})"
        )
    out = MaxUnpool.apply(x, index, output_size=out_size)
    return out if batched else out.squeeze(0)


def max_unpool1d(
    input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None
) -> Tensor:
    """The partial inverse of max_pool1d: a zero signal with every pooled value put back at
    its ``indices`` (from ``max_pool1d(..., return_indices=True)``); the gradient reads the
    output's gradient back at those positions.

    Shape: (N, C, L_in) or (C, L_in) -> (N, C, L_out), L_out = (L_in - 1) s - 2 p + k, or
    ``output_size``.

    Example:
        >>> y, i = F.max_pool1d(chainrule.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2,
        ...                     return_indices=True)
        >>> F.max_unpool1d(y, i, 2)
        tensor([[[0., 3., 2., 0.]]])
    """
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(
    input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None
) -> Tensor:
    """The partial inverse of max_pool2d: zeros everywhere except each window's maximum, put
    back at its flat H*W index (``indices`` from ``max_pool2d(..., return_indices=True)``).

    Shape: (N, C, H_in, W_in) or (C, H_in, W_in) -> (N, C, H_out, W_out),
    H_out = (H_in - 1) sH - 2 pH + kH, or ``output_size``.

    Example:
        >>> y, i = F.max_pool2d(chainrule.arange(4.0).reshape(1, 1, 2, 2), 2,
        ...                     return_indices=True)
        >>> F.max_unpool2d(y, i, 2)
        tensor([[[[0., 0.],
                  [0., 3.]]]])
    """
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(
    input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None
) -> Tensor:
    """The partial inverse of max_pool3d (indices are flat D*H*W positions).

    Shape: (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in) -> (N, C, D_out, H_out, W_out),
    D_out = (D_in - 1) sD - 2 pD + kD, or ``output_size``.

    Example:
        >>> y, i = F.max_pool3d(chainrule.randn(1, 1, 4, 4, 4), 2, return_indices=True)
        >>> F.max_unpool3d(y, i, 2).shape
        chainrule.Size([1, 1, 4, 4, 4])
    """
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)
