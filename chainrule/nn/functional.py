"""``torch.nn.functional`` for chainrule: activations, softmax, dropout and losses.

Import it as ``import chainrule.nn.functional as F``. Most functions are compositions of
existing ops (their gradients come from the chain rule); the ones whose composition would
overflow or lose precision are fused ops with their own backward in ``chainrule.ops.nn``.
"""

from __future__ import annotations

import math
import warnings

from chainrule import ops
from chainrule.backend import to_device
from chainrule.ops import nn as _nn
from chainrule.ops.common import normalize_dim
from chainrule.ops.linalg import linear
from chainrule.ops.movement import pad
from chainrule.tensor import Tensor

__all__ = [
    "relu",
    "relu6",
    "leaky_relu",
    "prelu",
    "elu",
    "celu",
    "selu",
    "gelu",
    "silu",
    "mish",
    "softplus",
    "softsign",
    "hardtanh",
    "hardsigmoid",
    "hardswish",
    "tanhshrink",
    "hardshrink",
    "softshrink",
    "logsigmoid",
    "sigmoid",
    "tanh",
    "threshold",
    "glu",
    "softmax",
    "softmin",
    "log_softmax",
    "dropout",
    "pad",
    "linear",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "nll_loss",
    "kl_div",
    "cosine_similarity",
    "sigmoid_focal_loss",
]

# ---------------------------------------------------------------- activations


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0); relu'(0) = 0.

    Args:
        input: any shape.

    Example:
        >>> F.relu(chainrule.tensor([-1.0, 0.0, 2.0]))
        tensor([0., 0., 2.])
    """
    return ops.relu(input)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6) = hardtanh(x, 0, 6) (gradient 0 at 0 and 6, like PyTorch).

    Example:
        >>> F.relu6(chainrule.tensor([-1.0, 3.0, 7.0]))
        tensor([0., 3., 6.])
    """
    return _nn.hardtanh(input, 0.0, 6.0)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x if x > 0 else negative_slope * x.

    Args:
        input: any shape.
        negative_slope: the slope for x <= 0.

    Example:
        >>> F.leaky_relu(chainrule.tensor([-2.0, 3.0]), 0.1)
        tensor([-0.2000,  3.0000])
    """
    return _nn.leaky_relu(input, negative_slope)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x if x > 0 else a * x, with a learnable slope per channel (dim 1) or one shared slope.

    Args:
        input: (N, C, *) or any shape when ``weight`` has one element.
        weight: (C,) or (1,), the slopes (differentiable).

    Example:
        >>> F.prelu(chainrule.tensor([[-1.0, 2.0]]), chainrule.tensor([0.25]))
        tensor([[-0.2500,  2.0000]])
    """
    nw = weight.numel()
    channels = input.shape[1] if input.ndim >= 2 else 1
    if nw != 1 and nw != channels:
        raise RuntimeError(
            "prelu: mismatch of parameter numbers and input channel size. Found parameter "
            f"numbers = {nw} and channel size = {channels} (input shape {tuple(input.shape)})."
        )
    if nw == 1:
        w = ops.reshape(weight, ())
    else:
        w = ops.reshape(weight, (channels,) + (1,) * (input.ndim - 2))
    return ops.where(input > 0, input, w * input)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else alpha (e^x - 1).

    Example:
        >>> F.elu(chainrule.tensor([-1.0, 1.0]))
        tensor([-0.6321,  1.0000])
    """
    return _nn.elu(input, alpha)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else alpha (e^(x/alpha) - 1).

    Example:
        >>> F.celu(chainrule.tensor([-1.0, 1.0]), alpha=2.0)
        tensor([-0.7869,  1.0000])
    """
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return _nn.elu(input, alpha, 1.0, 1.0 / alpha)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * (x if x > 0 else alpha (e^x - 1)), scale = 1.0507..., alpha = 1.6733...

    Example:
        >>> F.selu(chainrule.tensor([-1.0, 1.0]))
        tensor([-1.1113,  1.0507])
    """
    return _nn.elu(input, _SELU_ALPHA, _SELU_SCALE)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x Phi(x) (Phi: the standard normal CDF, via erf), or its tanh approximation.

    Args:
        input: any shape.
        approximate: 'none' (exact, erf) or 'tanh'
            (x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))).

    Example:
        >>> F.gelu(chainrule.tensor([-1.0, 0.0, 1.0]))
        tensor([-0.1587,  0.0000,  0.8413])
    """
    return _nn.gelu(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (also called swish).

    Example:
        >>> F.silu(chainrule.tensor([0.0, 1.0]))
        tensor([0.0000, 0.7311])
    """
    return ops.mul(input, ops.sigmoid(input))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x)).

    Example:
        >>> F.mish(chainrule.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8651])
    """
    return ops.mul(input, ops.tanh(_nn.softplus(input)))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta x)) / beta; x itself where beta x > threshold.

    Args:
        input: any shape.
        beta: sharpness (softplus tends to relu as beta grows).
        threshold: above it the function is the identity (exact to the dtype's precision).

    Example:
        >>> F.softplus(chainrule.tensor([0.0, 30.0]))
        tensor([ 0.6931, 30.0000])
    """
    return _nn.softplus(input, beta, threshold)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|).

    Example:
        >>> F.softsign(chainrule.tensor([-3.0, 1.0]))
        tensor([-0.7500,  0.5000])
    """
    return ops.div(input, ops.add(ops.abs(input), 1.0))


def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    """min(max(x, min_val), max_val); the gradient is 0 at and beyond the bounds.

    Example:
        >>> F.hardtanh(chainrule.tensor([-2.0, 0.5, 2.0]))
        tensor([-1.0000,  0.5000,  1.0000])
    """
    return _nn.hardtanh(input, min_val, max_val)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear in between.

    Example:
        >>> F.hardsigmoid(chainrule.tensor([-4.0, 0.0, 4.0]))
        tensor([0.0000, 0.5000, 1.0000])
    """
    return _nn.hardsigmoid(input)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6.

    Example:
        >>> F.hardswish(chainrule.tensor([-4.0, 1.0, 4.0]))
        tensor([-0.0000,  0.6667,  4.0000])
    """
    return _nn.hardswish(input)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x).

    Example:
        >>> F.tanhshrink(chainrule.tensor([1.0]))
        tensor([0.2384])
    """
    return ops.sub(input, ops.tanh(input))


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0 (gradient 0 at +-lambd).

    Example:
        >>> F.hardshrink(chainrule.tensor([-1.0, 0.2, 0.7]))
        tensor([-1.0000,  0.0000,  0.7000])
    """
    d = input.data
    keep = ~((d >= -lambd) & (d <= lambd))
    return ops.where(Tensor._make(keep, input._device), input, 0.0)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - clamp(x, -lambd, lambd): shrinks x towards 0 by lambd, 0 inside [-lambd, lambd].

    Example:
        >>> F.softshrink(chainrule.tensor([-1.0, 0.2, 0.7]))
        tensor([-0.5000,  0.0000,  0.2000])
    """
    if lambd < 0:
        raise ValueError(f"softshrink: lambda must be greater or equal to 0, but found {lambd}")
    return ops.sub(input, ops.clamp(input, -lambd, lambd))


def logsigmoid(input: Tensor) -> Tensor:
    """log sigmoid(x) = -softplus(-x), exact for large |x|.

    Example:
        >>> F.logsigmoid(chainrule.tensor([0.0, -100.0]))
        tensor([  -0.6931, -100.0000])
    """
    return _nn.logsigmoid(input)


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + e^-x).

    Example:
        >>> F.sigmoid(chainrule.tensor([0.0]))
        tensor([0.5000])
    """
    return ops.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    """(e^x - e^-x) / (e^x + e^-x).

    Example:
        >>> F.tanh(chainrule.tensor([0.0]))
        tensor([0.])
    """
    return ops.tanh(input)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else value.

    Example:
        >>> F.threshold(chainrule.tensor([0.5, 2.0]), 1.0, -1.0)
        tensor([-1.,  2.])
    """
    keep = Tensor._make(input.data > threshold, input._device)
    return ops.where(keep, input, float(value) if input.data.dtype.kind == "f" else value)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: split x in halves a, b along ``dim``; a * sigmoid(b).

    Shape:
        input (*, 2H, *) -> output (*, H, *).

    Example:
        >>> F.glu(chainrule.tensor([1.0, 2.0, 0.0, 0.0]))
        tensor([0.5000, 1.0000])
    """
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = normalize_dim(dim, input.ndim, "glu")
    if input.shape[d] % 2:
        raise RuntimeError(
            f"glu: halving dimension must be even, but dimension {d} is size {input.shape[d]}"
        )
    a, b = ops.chunk(input, 2, d)
    return ops.mul(a, ops.sigmoid(b))


# ---------------------------------------------------------------- softmax family


def _softmax_dim(name: str, ndim: int) -> int:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
        "dim=X as an argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """e^(x_i) / sum_j e^(x_j) along ``dim`` (shifted by the max: never overflows).

    Args:
        input: any shape.
        dim: the dimension whose entries sum to 1.
        dtype: compute (and return) in this dtype.

    Example:
        >>> F.softmax(chainrule.tensor([1.0, 1.0]), dim=0)
        tensor([0.5000, 0.5000])
    """
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim)
    return _nn.softmax(input, dim, dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along ``dim``.

    Example:
        >>> F.softmin(chainrule.tensor([0.0, 0.0]), dim=0)
        tensor([0.5000, 0.5000])
    """
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim)
    if dtype is not None:
        input = ops.cast(input, dtype)
    return _nn.softmax(ops.neg(input), dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """x_i - log sum_j e^(x_j) along ``dim``, exact even where softmax underflows to 0.

    Args:
        input: any shape.
        dim: the dimension normalised over.
        dtype: compute (and return) in this dtype.

    Example:
        >>> F.log_softmax(chainrule.tensor([0.0, 0.0]), dim=0)
        tensor([-0.6931, -0.6931])
    """
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim)
    return _nn.log_softmax(input, dim, dtype)


# ---------------------------------------------------------------- dropout


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1 - p) (inverted dropout,
    so evaluation needs no rescaling). The mask comes from chainrule's global generator.

    Args:
        input: any shape.
        p: probability of zeroing an element, in [0, 1].
        training: when False, return ``input`` unchanged.

    Example:
        >>> _ = chainrule.manual_seed(0)
        >>> F.dropout(chainrule.ones(4), p=0.5)  # kept entries become 1 / (1 - p) = 2
        tensor([2., 0., 0., 0.])
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    from chainrule.random import rng

    keep = rng().random(tuple(input.shape)) >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    mask = to_device((keep * scale).astype(input.data.dtype), input._device)
    return ops.mul(input, Tensor._make(mask, input._device))


# ---------------------------------------------------------------- losses


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return ops.mean(loss)
    if reduction == "sum":
        return ops.sum(loss)
    return loss


def _check_pair(input: Tensor, target: Tensor, reduction: str, op: str) -> None:
    _nn.check_reduction(reduction, op)
    _nn.check_same_shape(input, target, op)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """(x - y)^2, reduced.

    Args:
        input, target: the same shape.
        reduction: 'none' | 'mean' | 'sum'.

    Shape:
        output: scalar, or the input's shape with reduction='none'.

    Example:
        >>> F.mse_loss(chainrule.tensor([1.0, 2.0]), chainrule.tensor([0.0, 0.0]))
        tensor(2.5000)
    """
    _check_pair(input, target, reduction, "mse_loss")
    d = ops.sub(input, target)
    return _reduce(ops.mul(d, d), reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """|x - y|, reduced (gradient 0 where x = y).

    Example:
        >>> F.l1_loss(chainrule.tensor([1.0, -2.0]), chainrule.tensor([0.0, 0.0]))
        tensor(1.5000)
    """
    _check_pair(input, target, reduction, "l1_loss")
    return _reduce(ops.abs(ops.sub(input, target)), reduction)


def smooth_l1_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", beta: float = 1.0
) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta  (d = x - y); l1 for beta = 0.

    Example:
        >>> F.smooth_l1_loss(chainrule.tensor([0.5, 3.0]), chainrule.tensor([0.0, 0.0]))
        tensor(1.3125)
    """
    _check_pair(input, target, reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    d = ops.sub(input, target)
    ad = ops.abs(d)
    if beta == 0:
        return _reduce(ad, reduction)
    near = Tensor._make(ad.data < beta, input._device)
    loss = ops.where(near, ops.mul(ops.mul(d, d), 0.5 / beta), ops.sub(ad, 0.5 * beta))
    return _reduce(loss, reduction)


def huber_loss(
    input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0
) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)  (d = x - y).

    Example:
        >>> F.huber_loss(chainrule.tensor([0.5, 3.0]), chainrule.tensor([0.0, 0.0]))
        tensor(1.3125)
    """
    _check_pair(input, target, reduction, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    d = ops.sub(input, target)
    ad = ops.abs(d)
    near = Tensor._make(ad.data < delta, input._device)
    loss = ops.where(
        near, ops.mul(ops.mul(d, d), 0.5), ops.mul(ops.sub(ad, 0.5 * delta), float(delta))
    )
    return _reduce(loss, reduction)


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """-w [y log x + (1 - y) log(1 - x)], each log clamped at -100 (as PyTorch does).

    Args:
        input: probabilities in [0, 1].
        target: the same shape, values in [0, 1].
        weight: rescales each element (broadcast to the input's shape; not differentiated).
        reduction: 'none' | 'mean' | 'sum'.

    Example:
        >>> F.binary_cross_entropy(chainrule.tensor([0.5]), chainrule.tensor([1.0]))
        tensor(0.6931)
    """
    return _nn.binary_cross_entropy(input, target, weight, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """bce(sigmoid(x), y) computed stably from the logits x:
    w [(1 - y) x + (1 + (p - 1) y) log(1 + e^-x)]  (p = pos_weight).

    Args:
        input: logits, any shape.
        target: the same shape, values in [0, 1].
        weight: rescales each element (broadcast; not differentiated).
        pos_weight: weight of the positive term, broadcast along the last dimension (C,).
        reduction: 'none' | 'mean' | 'sum'.

    Example:
        >>> F.binary_cross_entropy_with_logits(chainrule.tensor([0.0]), chainrule.tensor([1.0]))
        tensor(0.6931)
    """
    return _nn.binary_cross_entropy_with_logits(input, target, weight, reduction, pos_weight)


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """-sum_c q_c log softmax(x)_c: log_softmax and nll_loss in one stable op whose gradient is
    softmax(x) - target (scaled by the weights).

    Args:
        input: logits (C,), (N, C) or (N, C, d1, d2, ...).
        target: class indices (int64) of shape (), (N,) or (N, d1, ...), or class
            probabilities of the input's shape.
        weight: (C,) per-class weights (not differentiated).
        ignore_index: targets equal to it add nothing to the loss nor to the mean's divisor.
        reduction: 'none' | 'mean' (divided by the summed weights of the targets) | 'sum'.
        label_smoothing: eps in [0, 1]: the target becomes (1 - eps) one_hot + eps / C.

    Example:
        >>> logits = chainrule.tensor([[2.0, 0.0, 0.0]], requires_grad=True)
        >>> F.cross_entropy(logits, chainrule.tensor([0]))
        tensor(0.2395, grad_fn=<CrossEntropyBackward>)
    """
    return _nn.cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """-w_t x_t: the negative log-likelihood of the target class, given log-probabilities x.

    Args:
        input: log-probabilities (C,), (N, C) or (N, C, d1, ...).
        target: class indices (int64) of shape (), (N,) or (N, d1, ...).
        weight: (C,) per-class weights (not differentiated).
        ignore_index: targets to skip (also left out of the mean's divisor).
        reduction: 'none' | 'mean' (divided by the summed weights of the targets) | 'sum'.

    Example:
        >>> F.nll_loss(chainrule.tensor([[-0.5, -1.0]]), chainrule.tensor([1]))
        tensor(1.)
    """
    op = "nll_loss"
    _nn.check_reduction(reduction, op)
    if input.data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got dtype {input.dtype.name}")
    axis = _nn.check_class_targets(input, target, weight, ignore_index, op)
    xp = input._device.xp
    t = target.data
    keep = t != ignore_index
    index = xp.expand_dims(xp.where(keep, t, 0), axis)
    picked = ops.squeeze(ops.gather(input, axis, Tensor._make(index, input._device)), axis)
    wt = keep.astype(input.data.dtype)
    if weight is not None:
        wt = wt * weight.data.astype(input.data.dtype)[xp.where(keep, t, 0)]
    loss = ops.mul(picked, Tensor._make(-wt, input._device))
    if reduction == "none":
        return loss
    total = ops.sum(loss)
    if reduction == "sum":
        return total
    denom = float(wt.sum())
    return ops.div(total, denom) if denom != 0 else ops.mul(total, math.nan)


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """KL(target || model) pointwise: y (log y - x), with x = log-probabilities (0 where y = 0).
    With log_target, y is given as log y: e^y (y - x).

    Args:
        input: log-probabilities of the model.
        target: probabilities (or log-probabilities with ``log_target=True``), same shape.
        reduction: 'none' | 'mean' (over all elements) | 'batchmean' (sum / batch size, the
            true KL divergence) | 'sum'.

    Example:
        >>> p = chainrule.tensor([[0.5, 0.5]])
        >>> F.kl_div(p.log(), p, reduction="batchmean")
        tensor(0.)
    """
    op = "kl_div"
    _nn.check_reduction(reduction, op, ("batchmean",))
    _nn.check_same_shape(input, target, op)
    if log_target:
        loss = ops.mul(ops.exp(target), ops.sub(target, input))
    else:
        pos = Tensor._make(target.data > 0, target._device)
        safe = ops.where(pos, target, 1.0)  # log(1) = 0 where y = 0: 0 log 0 = 0, no warning
        loss = ops.sub(ops.mul(target, ops.log(safe)), ops.mul(target, input))
    if reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size. 'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.",
            stacklevel=2,
        )
    if reduction == "batchmean":
        total = ops.sum(loss)
        return ops.div(total, input.shape[0]) if input.ndim else total
    return _reduce(loss, reduction)


def _broadcast_shape(a: tuple, b: tuple, op: str) -> tuple:
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for i, (p, q) in enumerate(zip(a, b)):
        if p != q and p != 1 and q != 1:
            raise RuntimeError(
                f"{op}: shapes {a} and {b} are not broadcastable (dimension {i}: {p} vs {q})"
            )
        out.append(q if p == 1 else p)
    return tuple(out)


def _norm_along(x: Tensor, dim: int) -> Tensor:
    """sqrt(sum x^2) along dim (kept), with gradient 0 (not nan) at a zero vector."""
    s = ops.sum(ops.mul(x, x), dim, True)
    pos = Tensor._make(s.data > 0, x._device)
    return ops.where(pos, ops.sqrt(ops.where(pos, s, 1.0)), 0.0)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """x1 . x2 / (max(||x1||, eps) max(||x2||, eps)) along ``dim`` (PyTorch >= 2's formula).

    Args:
        x1, x2: broadcastable shapes.
        dim: the dimension holding the vectors.
        eps: the smallest norm used as a divisor.

    Shape:
        output: the broadcast shape without ``dim``.

    Example:
        >>> F.cosine_similarity(chainrule.tensor([[1.0, 0.0]]), chainrule.tensor([[1.0, 1.0]]))
        tensor([0.7071])
    """
    ndim = max(x1.ndim, x2.ndim)
    d = normalize_dim(dim, ndim, "cosine_similarity")
    if tuple(x1.shape) != tuple(x2.shape):
        # Broadcast first, as PyTorch does: a size-1 ``dim`` is repeated before the norm.
        shape = _broadcast_shape(tuple(x1.shape), tuple(x2.shape), "cosine_similarity")
        x1, x2 = ops.expand(x1, shape), ops.expand(x2, shape)
    # PyTorch divides each vector by its own norm first (keeps the result in [-1, 1]); the norm
    # is clamped at eps without recording the clamp, so its gradient is the plain norm's.
    normed = []
    for x in (x1, x2):
        n = _norm_along(x, d)
        xp = x._device.xp
        offset = Tensor._make(xp.maximum(n.data, eps) - n.data, x._device)
        normed.append(ops.div(x, ops.add(n, offset)))
    return ops.sum(ops.mul(normed[0], normed[1]), d)


def sigmoid_focal_loss(
    inputs: Tensor, targets: Tensor, alpha: float = 0.25, gamma: float = 2, reduction: str = "none"
) -> Tensor:
    """Focal loss of RetinaNet (torchvision.ops.sigmoid_focal_loss):
    bce_with_logits(x, y) (1 - p_t)^gamma a_t, p_t = p y + (1 - p)(1 - y), p = sigmoid(x),
    a_t = alpha y + (1 - alpha)(1 - y) (no a_t when alpha < 0).

    Args:
        inputs: logits, any shape.
        targets: the same shape, 0 or 1 (or soft labels).
        alpha: balance of positives and negatives in [0, 1], or -1 to disable.
        gamma: focusing exponent: easy examples (p_t near 1) count less.
        reduction: 'none' | 'mean' | 'sum'.

    Example:
        >>> F.sigmoid_focal_loss(chainrule.tensor([0.0]), chainrule.tensor([1.0]))
        tensor([0.0433])
    """
    op = "sigmoid_focal_loss"
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(
            f"Invalid Value for arg 'reduction': '{reduction}' \n Supported reduction modes: "
            "'none', 'mean', 'sum'"
        )
    _nn.check_same_shape(inputs, targets, op)
    p = ops.sigmoid(inputs)
    ce = binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    one_minus_t = ops.sub(1.0, targets)
    p_t = ops.add(ops.mul(p, targets), ops.mul(ops.sub(1.0, p), one_minus_t))
    loss = ops.mul(ce, ops.pow(ops.sub(1.0, p_t), gamma))
    if alpha >= 0:
        alpha_t = ops.add(ops.mul(targets, alpha), ops.mul(one_minus_t, 1.0 - alpha))
        loss = ops.mul(alpha_t, loss)
    return _reduce(loss, reduction)
