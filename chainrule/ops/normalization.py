"""Normalisation ops fused for speed: LayerNorm, BatchNorm (batch statistics), RMSNorm.

Each one standardises x over some axes, xhat = (x - mean) * rstd with rstd = 1/sqrt(var + eps)
(the biased variance), then applies a per-feature affine map y = xhat * w + b. Composed from
elementwise ops this is a dozen graph nodes, each keeping a full-size array for backward; the
closed-form backward needs only xhat and rstd:

    gx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)),   gh = g * w   (means over the axes)

(the two subtracted means are the gradient flowing through the mean and the variance).

Memory: forward saves the input x, which the graph keeps alive anyway (it is the node's
parent), and the small per-slice statistics, not xhat: backward recomputes
xhat = (x - mean) * rstd with the same operations, so it gets the very same numbers without
a full-size array per layer held from forward to backward. Both directions update their own
temporaries in place rather than allocating one array per arithmetic step.
"""

from __future__ import annotations

import math

from chainrule.autograd.function import Function, composite_backward_graph
from chainrule.ops.common import sum_keepdims


def _mean(xp, a, axes):
    """The mean of ``a`` over ``axes``, dims kept. Over the trailing axes of a C-contiguous array
    (LayerNorm, RMSNorm) the rows are summed by ``sum_keepdims`` (much faster than ``mean``
    along the last axis)."""
    k = len(axes)
    if a.size and a.flags.c_contiguous and axes == tuple(range(a.ndim - k, a.ndim)):
        lead = a.shape[: a.ndim - k]
        n = a.size // math.prod(lead)
        total = sum_keepdims(xp, a.reshape(lead + (n,)), -1)
        return (total / n).reshape(lead + (1,) * k)
    return a.mean(axis=axes, keepdims=True)


def _standardize(xp, x, axes, eps):
    """(xhat, mean, biased var, rstd, spare) of x over ``axes`` (statistics keep their dims);
    ``spare`` is a scratch array of xhat's shape and dtype that the caller may overwrite."""
    mean = _mean(xp, x, axes)
    xhat = x - mean
    spare = xp.multiply(xhat, xhat)
    var = _mean(xp, spare, axes)
    # NOTE: eps keeps rstd finite for a constant slice (var = 0), where xhat is then 0.
    rstd = 1.0 / xp.sqrt(var + eps)
    xhat *= rstd
    return xhat, mean, var, rstd, spare


def _recompute_xhat(x, mean, rstd):
    """xhat exactly as forward computed it: (x - mean) * rstd."""
    xhat = x - mean
    xhat *= rstd
    return xhat


def _affine(xp, xhat, w, b, dtype, spare):
    """y = xhat * w + b (w, b may be None) as ``dtype``; written into ``spare`` (a scratch
    array of xhat's shape) when every operand already has that dtype."""
    if w is None and b is None:
        return xhat.astype(dtype, copy=False)
    if spare.dtype == dtype and all(a is None or a.dtype == dtype for a in (xhat, w, b)):
        if w is None:
            return xp.add(xhat, b, out=spare)
        y = xp.multiply(xhat, w, out=spare)
        if b is not None:
            y += b
        return y
    y = xhat if w is None else xhat * w
    return (y if b is None else y + b).astype(dtype, copy=False)


def _standardize_backward(xp, grad, w, xhat, rstd, axes, lead, need_w):
    """(gx, gw) of y = xhat(x) * w: gx = rstd (gh - mean(gh) - xhat mean(gh xhat)), gh = g w,
    and gw = sum of g xhat over ``lead`` (None unless ``need_w``). Overwrites ``xhat``."""
    gw = scratch = None
    if need_w or w is None:
        scratch = xp.multiply(grad, xhat)
        if need_w:
            gw = scratch.sum(axis=lead)
    if w is None:
        gh = grad  # not ours: never written to
    else:
        gh = grad * w
        scratch = gh * xhat if scratch is None else xp.multiply(gh, xhat, out=scratch)
    mean_gh = _mean(xp, gh, axes)
    mean_ghx = _mean(xp, scratch, axes)
    # gx = rstd * ((gh - mean_gh) - xhat * mean_ghx), in that order, into our own arrays
    gx = xp.subtract(gh, mean_gh, out=scratch)
    xhat *= mean_ghx
    gx -= xhat
    gx *= rstd
    return gx, gw


def _standardize_reference(x, axes, eps):
    """(x - mean) / sqrt(var + eps) over ``axes`` in recorded ops (the reference that the
    differentiable backwards below take the VJP of)."""
    centered = x - x.mean(axes, keepdim=True)
    return centered / ((centered * centered).mean(axes, keepdim=True) + eps).sqrt()


def _layer_norm_reference(ctx, x, weight, bias, **_):
    y = _standardize_reference(x, ctx.axes, ctx.attrs["eps"])
    y = y if weight is None else y * weight
    return y if bias is None else y + bias


def _batch_norm_reference(ctx, x, weight, bias, **_):
    y = _standardize_reference(x, ctx.axes, ctx.attrs["eps"])
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    y = y if weight is None else y * weight.reshape(shape)
    return y if bias is None else y + bias.reshape(shape)


def _rms_norm_reference(ctx, x, weight, **_):
    y = x / ((x * x).mean(ctx.axes, keepdim=True) + ctx.attrs["eps"]).sqrt()
    return y if weight is None else y * weight


class LayerNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * w + b, statistics over the last ``ndim`` dims;
    dx = rstd (gh - mean(gh) - xhat mean(gh xhat)) with gh = g w, dw = sum g xhat, db = sum g."""

    rule = "d layer_norm(x)/dx . g = rstd * (g w - mean(g w) - xhat * mean(g w xhat))"

    @staticmethod
    def forward(ctx, x, weight, bias, ndim, eps):
        xp = ctx.xp
        axes = tuple(range(x.ndim - ndim, x.ndim))
        xhat, mean, _, rstd, spare = _standardize(xp, x, axes, eps)
        ctx.axes = axes
        ctx.save_for_backward(x, mean, rstd, weight)
        return _affine(xp, xhat, weight, bias, x.dtype, spare)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        x, mean, rstd, w = ctx.saved_tensors
        lead = tuple(range(grad.ndim - len(ctx.axes)))
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = gw = gb = None
        if need_x or need_w:
            xhat = _recompute_xhat(x, mean, rstd)
            if need_x:
                gx, gw = _standardize_backward(xp, grad, w, xhat, rstd, ctx.axes, lead, need_w)
            else:
                gw = (grad * xhat).sum(axis=lead)
        if need_b:
            gb = grad.sum(axis=lead)
        return gx, gw, gb

    backward_graph = composite_backward_graph(_layer_norm_reference)


class BatchNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * w + b, statistics per channel (dim 1) over the batch
    and spatial dims; same closed-form backward as LayerNorm over those axes. Also returns the
    batch mean and biased variance (as constants) for the running averages."""

    rule = "d batch_norm(x)/dx . g = rstd * (g w - mean(g w) - xhat * mean(g w xhat))"

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        xp = ctx.xp
        axes = (0,) + tuple(range(2, x.ndim))
        xhat, mean, var, rstd, spare = _standardize(xp, x, axes, eps)
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        w = None if weight is None else weight.reshape(shape)
        b = None if bias is None else bias.reshape(shape)
        ctx.axes = axes
        ctx.save_for_backward(x, mean, rstd, w)
        y = _affine(xp, xhat, w, b, x.dtype, spare)
        return y, mean.reshape(-1), var.reshape(-1)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        x, mean, rstd, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = gw = gb = None
        if need_x or need_w:
            xhat = _recompute_xhat(x, mean, rstd)
            if need_x:
                gx, gw = _standardize_backward(xp, grad, w, xhat, rstd, ctx.axes, ctx.axes, need_w)
            else:
                gw = (grad * xhat).sum(axis=ctx.axes)
        if need_b:
            gb = grad.sum(axis=ctx.axes)
        return gx, gw, gb

    backward_graph = composite_backward_graph(_batch_norm_reference)


class RMSNorm(Function):
    """y = x / sqrt(mean(x^2) + eps) * w over the last ``ndim`` dims (no centring, no bias);
    dx = rstd (gh - xhat mean(gh xhat)) with gh = g w, xhat = x rstd;  dw = sum g xhat."""

    rule = "d rms_norm(x)/dx . g = rstd * (g w - xhat * mean(g w xhat))"

    @staticmethod
    def forward(ctx, x, weight, ndim, eps):
        xp = ctx.xp
        axes = tuple(range(x.ndim - ndim, x.ndim))
        spare = xp.multiply(x, x)
        rstd = 1.0 / xp.sqrt(_mean(xp, spare, axes) + eps)
        xhat = x * rstd
        ctx.axes = axes
        ctx.save_for_backward(x, rstd, weight)  # xhat = x * rstd is recomputed in backward
        return _affine(xp, xhat, weight, None, x.dtype, spare)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        x, rstd, w = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad
        lead = tuple(range(grad.ndim - len(ctx.axes)))
        gx = gw = None
        xhat = x * rstd
        scratch = None
        if need_w or w is None:
            scratch = xp.multiply(grad, xhat)
            if need_w:
                gw = scratch.sum(axis=lead)
        if need_x:
            # gx = rstd * (gh - xhat * mean(gh xhat)), in that order
            if w is None:
                gh = grad  # not ours: never written to
            else:
                gh = grad * w
                scratch = gh * xhat if scratch is None else xp.multiply(gh, xhat, out=scratch)
            xhat *= _mean(xp, scratch, ctx.axes)
            gx = xp.subtract(gh, xhat, out=scratch)
            gx *= rstd
        return gx, gw

    backward_graph = composite_backward_graph(_rms_norm_reference)
