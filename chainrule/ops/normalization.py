"""Normalisation ops fused for speed: LayerNorm, BatchNorm (batch statistics), RMSNorm.

Each one standardises x over some axes, xhat = (x - mean) * rstd with rstd = 1/sqrt(var + eps)
(the biased variance), then applies a per-feature affine map y = xhat * w + b. Composed from
elementwise ops this is a dozen graph nodes, each keeping a full-size array for backward; the
closed-form backward needs only xhat and rstd:

    gx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)),   gh = g * w   (means over the axes)

(the two subtracted means are the gradient flowing through the mean and the variance).
"""

from __future__ import annotations

from chainrule.autograd.function import Function


def _standardize(xp, x, axes, eps):
    """(xhat, mean, biased var, rstd) of x over ``axes`` (statistics keep their dims)."""
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    var = (xc * xc).mean(axis=axes, keepdims=True)
    # NOTE: eps keeps rstd finite for a constant slice (var = 0), where xhat is then 0.
    rstd = 1.0 / xp.sqrt(var + eps)
    return xc * rstd, mean, var, rstd


def _standardize_backward(gh, xhat, rstd, axes):
    """The gradient of xhat = (x - mean(x)) * rstd(x) with respect to x, given d loss/d xhat."""
    mean_gh = gh.mean(axis=axes, keepdims=True)
    mean_ghx = (gh * xhat).mean(axis=axes, keepdims=True)
    return rstd * (gh - mean_gh - xhat * mean_ghx)


def _affine(xhat, w, b):
    y = xhat if w is None else xhat * w
    return y if b is None else y + b


class LayerNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * w + b, statistics over the last ``ndim`` dims;
    dx = rstd (gh - mean(gh) - xhat mean(gh xhat)) with gh = g w, dw = sum g xhat, db = sum g."""

    rule = "d layer_norm(x)/dx . g = rstd * (g w - mean(g w) - xhat * mean(g w xhat))"

    @staticmethod
    def forward(ctx, x, weight, bias, ndim, eps):
        axes = tuple(range(x.ndim - ndim, x.ndim))
        xhat, _, _, rstd = _standardize(ctx.xp, x, axes, eps)
        ctx.axes = axes
        ctx.save_for_backward(xhat, rstd, weight)
        return _affine(xhat, weight, bias).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        xhat, rstd, w = ctx.saved_tensors
        lead = tuple(range(grad.ndim - len(ctx.axes)))
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = gw = gb = None
        if need_x:
            gx = _standardize_backward(grad if w is None else grad * w, xhat, rstd, ctx.axes)
        if need_w:
            gw = (grad * xhat).sum(axis=lead)
        if need_b:
            gb = grad.sum(axis=lead)
        return gx, gw, gb


class BatchNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * w + b, statistics per channel (dim 1) over the batch
    and spatial dims; same closed-form backward as LayerNorm over those axes. Also returns the
    batch mean and biased variance (as constants) for the running averages."""

    rule = "d batch_norm(x)/dx . g = rstd * (g w - mean(g w) - xhat * mean(g w xhat))"

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        axes = (0,) + tuple(range(2, x.ndim))
        xhat, mean, var, rstd = _standardize(ctx.xp, x, axes, eps)
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        w = None if weight is None else weight.reshape(shape)
        b = None if bias is None else bias.reshape(shape)
        ctx.axes = axes
        ctx.save_for_backward(xhat, rstd, w)
        y = _affine(xhat, w, b).astype(x.dtype, copy=False)
        return y, mean.reshape(-1), var.reshape(-1)

    @staticmethod
    def backward(ctx, grad):
        xhat, rstd, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = gw = gb = None
        if need_x:
            gx = _standardize_backward(grad if w is None else grad * w, xhat, rstd, ctx.axes)
        if need_w:
            gw = (grad * xhat).sum(axis=ctx.axes)
        if need_b:
            gb = grad.sum(axis=ctx.axes)
        return gx, gw, gb


class RMSNorm(Function):
    """y = x / sqrt(mean(x^2) + eps) * w over the last ``ndim`` dims (no centring, no bias);
    dx = rstd (gh - xhat mean(gh xhat)) with gh = g w, xhat = x rstd;  dw = sum g xhat."""

    rule = "d rms_norm(x)/dx . g = rstd * (g w - xhat * mean(g w xhat))"

    @staticmethod
    def forward(ctx, x, weight, ndim, eps):
        xp = ctx.xp
        axes = tuple(range(x.ndim - ndim, x.ndim))
        rstd = 1.0 / xp.sqrt((x * x).mean(axis=axes, keepdims=True) + eps)
        xhat = x * rstd
        ctx.axes = axes
        ctx.save_for_backward(xhat, rstd, weight)
        return _affine(xhat, weight, None).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        xhat, rstd, w = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad
        gx = gw = None
        if need_x:
            gh = grad if w is None else grad * w
            gx = rstd * (gh - xhat * (gh * xhat).mean(axis=ctx.axes, keepdims=True))
        if need_w:
            gw = (grad * xhat).sum(axis=tuple(range(grad.ndim - len(ctx.axes))))
        return gx, gw
