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
    if denom == 0:
        # Every target ignored: the mean is nan and, as in PyTorch, no input gets a gradient.
        return ops.add(ops.mul(total, 0.0), math.nan)
    return ops.div(total, denom)


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


# ---------------------------------------------------------------- normalisation, embedding,
# channel dropout (the functional side of nn.normalization, nn.embedding and nn.dropout)

__all__ += [
    "batch_norm",
    "layer_norm",
    "group_norm",
    "rms_norm",
    "embedding",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "alpha_dropout",
    "feature_alpha_dropout",
    "cosine_embedding_loss",
]


def _verify_batch_size(size: tuple) -> None:
    """Batch statistics need at least two values per channel (one has variance 0)."""
    n = size[0]
    for s in size[2:]:
        n *= s
    if n == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {list(size)}"
        )


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias per channel (dim 1).

    In training the mean and (biased) variance come from the batch (over every dim but 1),
    and the running statistics, when given, are updated in place:
    running = (1 - momentum) running + momentum batch_stat (the unbiased variance for
    running_var). Otherwise the running statistics normalise.

    Args:
        input: (N, C) or (N, C, *).
        running_mean, running_var: (C,) buffers, or None.
        weight, bias: (C,) affine parameters, or None.
        training: use (and track) batch statistics.
        momentum: weight of the new batch in the running averages.
        eps: added to the variance.

    Example:
        >>> x = chainrule.tensor([[1.0, 2.0], [3.0, 6.0]])
        >>> F.batch_norm(x, None, None, training=True)
        tensor([[-1.0000, -1.0000],
                [ 1.0000,  1.0000]])
    """
    from chainrule.ops import normalization as _norm

    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, *), got {tuple(input.shape)}")
    channels = input.shape[1]
    for name, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and tuple(t.shape) != (channels,):
            raise RuntimeError(
                f"batch_norm: {name} should have shape ({channels},) for input of shape "
                f"{tuple(input.shape)}, got {tuple(t.shape)}"
            )
    if training:
        _verify_batch_size(tuple(input.shape))
        if eps <= 0.0:
            raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    elif eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if training:
        out, mean, var = _norm.BatchNorm.apply(input, weight, bias, eps=float(eps))
        if running_mean is not None or running_var is not None:
            n = input.numel() // channels
            from chainrule.autograd.function import no_grad

            with no_grad():
                unbiased = var.data * (n / (n - 1))  # Bessel's correction for the running var
                for buf, stat in ((running_mean, mean.data), (running_var, unbiased)):
                    if buf is not None:
                        buf.data *= 1.0 - momentum
                        buf.data += (momentum * stat).astype(buf.data.dtype, copy=False)
                        buf._version[0] += 1
        return out
    if running_mean is None or running_var is None:
        raise RuntimeError(
            "batch_norm: running_mean and running_var must be given when not training"
        )
    # Evaluation: a fixed affine map per channel, (x - running_mean) * rstd * weight + bias.
    xp = input._device.xp
    shape = (channels,) + (1,) * (input.ndim - 2)
    rstd = 1.0 / xp.sqrt(running_var.data.astype(input.data.dtype) + eps)
    mean = running_mean.data.astype(input.data.dtype)
    out = ops.mul(
        ops.sub(input, Tensor._make(mean.reshape(shape), input._device)),
        Tensor._make(rstd.reshape(shape), input._device),
    )
    if weight is not None:
        out = ops.mul(out, ops.reshape(weight, shape))
    if bias is not None:
        out = ops.add(out, ops.reshape(bias, shape))
    return out


def _normalized_dims(input: Tensor, normalized_shape, op: str) -> int:
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k :]) != shape:
        raise RuntimeError(
            f"{op}: given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(str(s) for s in shape)}], but got input of size {list(input.shape)}"
        )
    return k


def _check_affine(t, shape: tuple, name: str, op: str) -> None:
    if t is not None and tuple(t.shape) != shape:
        raise RuntimeError(f"{op}: expected {name} of shape {shape}, got {tuple(t.shape)}")


def layer_norm(
    input: Tensor,
    normalized_shape,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias, statistics over the trailing
    ``normalized_shape`` dims of each sample (a fused op with a closed-form backward).

    Args:
        input: (*, *normalized_shape).
        normalized_shape: the trailing shape normalised over (an int for the last dim).
        weight, bias: of shape ``normalized_shape``, or None.
        eps: added to the variance.

    Example:
        >>> F.layer_norm(chainrule.tensor([[1.0, 3.0]]), (2,))
        tensor([[-1.0000,  1.0000]])
    """
    from chainrule.ops import normalization as _norm

    _nn._float_input(input, "layer_norm")
    k = _normalized_dims(input, normalized_shape, "layer_norm")
    shape = tuple(input.shape[input.ndim - k :])
    _check_affine(weight, shape, "weight", "layer_norm")
    _check_affine(bias, shape, "bias", "layer_norm")
    return _norm.LayerNorm.apply(input, weight, bias, ndim=k, eps=float(eps))


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Split the C channels into ``num_groups`` groups and normalise each group of each sample
    (over its channels and spatial positions), then scale and shift per channel.

    Args:
        input: (N, C, *), C divisible by ``num_groups``.
        weight, bias: (C,) or None.

    Example:
        >>> F.group_norm(chainrule.tensor([[1.0, 3.0, 0.0, 0.0]]), 2)
        tensor([[-1.0000,  1.0000,  0.0000,  0.0000]])
    """
    from chainrule.ops import normalization as _norm

    _nn._float_input(input, "group_norm")
    if input.ndim < 2:
        raise RuntimeError(
            f"Expected at least 2 dimensions for input tensor but received {input.ndim}"
        )
    n, c = input.shape[0], input.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {list(input.shape)} and num_groups={num_groups}"
        )
    _verify_batch_size((n * c // num_groups, num_groups) + tuple(input.shape[2:]))
    _check_affine(weight, (c,), "weight", "group_norm")
    _check_affine(bias, (c,), "bias", "group_norm")
    grouped = ops.reshape(input, (n, num_groups, -1))
    out = ops.reshape(
        _norm.LayerNorm.apply(grouped, None, None, ndim=1, eps=float(eps)), tuple(input.shape)
    )
    shape = (c,) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = ops.mul(out, ops.reshape(weight, shape))
    if bias is not None:
        out = ops.add(out, ops.reshape(bias, shape))
    return out


def rms_norm(
    input: Tensor,
    normalized_shape,
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """x / sqrt(mean(x^2) + eps) * weight over the trailing ``normalized_shape`` dims (layer norm
    without centring or bias). ``eps=None`` uses the dtype's machine epsilon, as PyTorch.

    Example:
        >>> F.rms_norm(chainrule.tensor([[3.0, 4.0]]), (2,), eps=0.0)
        tensor([[0.8485, 1.1314]])
    """
    import numpy as np

    from chainrule.ops import normalization as _norm

    _nn._float_input(input, "rms_norm")
    k = _normalized_dims(input, normalized_shape, "rms_norm")
    _check_affine(weight, tuple(input.shape[input.ndim - k :]), "weight", "rms_norm")
    if eps is None:
        eps = float(np.finfo(input.data.dtype).eps)
    return _norm.RMSNorm.apply(input, weight, ndim=k, eps=float(eps))


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """weight[input]: the rows of ``weight`` picked by integer indices.

    Args:
        input: integer indices of any shape, each in [0, num_embeddings).
        weight: (num_embeddings, embedding_dim).
        padding_idx: this row receives no gradient.
        max_norm: rows looked up whose ``norm_type``-norm exceeds it are rescaled to it, in
            place in ``weight`` (as PyTorch does).
        scale_grad_by_freq: divide each row's gradient by its count in the batch.
        sparse: must be False (chainrule's gradient is dense, touching only the rows used).

    Shape:
        input (*) -> output (*, embedding_dim).

    Example:
        >>> w = chainrule.tensor([[0.0, 0.0], [1.0, 2.0]])
        >>> F.embedding(chainrule.tensor([1, 1, 0]), w)
        tensor([[1., 2.],
                [1., 2.],
                [0., 0.]])
    """
    from chainrule.ops import embedding as _emb

    idx, padding_idx = _lookup_args(input, weight, padding_idx, sparse, "embedding")
    if max_norm is not None:
        _embedding_renorm_(weight, idx, float(max_norm), float(norm_type))
    return _emb.Embedding.apply(
        weight, idx, padding_idx=padding_idx, scale_grad_by_freq=bool(scale_grad_by_freq)
    )


def _lookup_args(input, weight: Tensor, padding_idx, sparse: bool, op: str):
    """The checked index array of a table lookup and padding_idx as a row number (or None)."""
    if sparse:
        raise NotImplementedError(
            f"{op}: sparse gradients are not supported; use sparse=False (the dense "
            "gradient is built by adding only into the rows that were looked up)"
        )
    if weight.ndim != 2:
        raise RuntimeError(f"{op}: weight must be 2-D, got shape {tuple(weight.shape)}")
    num = weight.shape[0]
    if padding_idx is not None:
        if padding_idx >= num or padding_idx < -num:
            raise AssertionError(
                f"Padding_idx must be within num_embeddings ({op}: expected padding_idx in "
                f"[{-num}, {num - 1}], got {padding_idx})"
            )
        if padding_idx < 0:
            padding_idx = num + padding_idx
    xp = weight._device.xp
    idx = input.data if isinstance(input, Tensor) else xp.asarray(input)
    if idx.dtype.kind not in "iu":
        raise RuntimeError(
            f"{op}: expected integer indices (int64 or int32), but got dtype "
            f"{idx.dtype} (convert with .long())"
        )
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= num:
            raise IndexError(
                f"{op}: index {hi if hi >= num else lo} is out of range for "
                f"num_embeddings={num} (valid indices: 0 to {num - 1})"
            )
    return idx, padding_idx


def _embedding_renorm_(weight: Tensor, idx, max_norm: float, norm_type: float) -> None:
    """Rescale in place the rows of ``weight`` used by ``idx`` whose norm exceeds max_norm to
    max_norm / (norm + 1e-7) of themselves (PyTorch's embedding_renorm_, not differentiated)."""
    xp = weight._device.xp
    rows = xp.unique(idx)
    w = weight.data
    norms = xp.linalg.norm(w[rows].astype(xp.float64), ord=norm_type, axis=1)
    over = norms > max_norm
    if bool(over.any()):
        rows, norms = rows[over], norms[over]
        scale = (max_norm / (norms + 1e-7)).astype(w.dtype)
        w[rows] = w[rows] * scale[:, None]
        weight._version[0] += 1


def _feature_dropout(input: Tensor, p: float, training: bool, alpha: bool) -> Tensor:
    """Dropout of whole channels: one keep/drop draw per (sample, channel), shared by every
    position of that channel (input (N, C, *))."""
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:
        return ops.mul(input, 0.0)
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _masked(input, p, shape, alpha)


def _masked(input: Tensor, p: float, shape: tuple, alpha: bool) -> Tensor:
    from chainrule.random import rng

    keep = rng().random(shape) >= p
    dtype = input.data.dtype
    if not alpha:
        mask = to_device((keep * (1.0 / (1.0 - p))).astype(dtype), input._device)
        return ops.mul(input, Tensor._make(mask, input._device))
    # NOTE: SELU's negative saturation value is -scale * alpha = -1.7581. Dropped units are set
    # to it (not to 0, which would shift SELU's fixed point); a and b then restore mean 0 and
    # variance 1: a = ((1 - p)(1 + p alpha'^2))^(-1/2), b = a p alpha' for kept units.
    a_prime = 1.7580993408473766
    a = 1.0 / math.sqrt((a_prime * a_prime * p + 1) * (1 - p))
    noise = keep.astype(dtype)
    shift = (noise - 1) * (a_prime * a) + a_prime * a * p
    mul = to_device((noise * a).astype(dtype), input._device)
    add = to_device(shift.astype(dtype), input._device)
    scaled = ops.mul(input, Tensor._make(mul, input._device))
    return ops.add(scaled, Tensor._make(add, input._device))


def _check_p(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout1d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Zero whole channels with probability p (input (N, C, L) or (C, L)), scaling the kept
    ones by 1/(1 - p): dropout for 1-D feature maps, whose neighbours are correlated.

    Example:
        >>> _ = chainrule.manual_seed(0)
        >>> F.dropout1d(chainrule.ones(1, 3, 2), p=0.5)  # each channel kept (x2) or zeroed
        tensor([[[2., 2.],
                 [0., 0.],
                 [0., 0.]]])
    """
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, "
            "a channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs)."
        )
    if not training or p == 0.0:
        return input
    if input.ndim == 2:
        return ops.squeeze(_feature_dropout(ops.unsqueeze(input, 0), p, training, False), 0)
    return _feature_dropout(input, p, training, False)


def dropout2d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Zero whole channels with probability p (input (N, C, H, W)), scaling the kept ones by
    1/(1 - p). A 3-D input is treated as (N, C, L), with PyTorch's warning.

    Example:
        >>> _ = chainrule.manual_seed(0)
        >>> F.dropout2d(chainrule.ones(1, 2, 1, 2), p=0.5)
        tensor([[[[2., 2.]],
        <BLANKLINE>
                 [[0., 0.]]]])
    """
    _check_p(p)
    if input.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and "
            "will result in an error in a future release. To retain the behavior and silence "
            "this warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 3D or 4D inputs).",
            stacklevel=2,
        )
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    if input.ndim < 2:
        return dropout(input, p, training)
    return _feature_dropout(input, p, training, False)


def dropout3d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Zero whole channels (3-D feature maps) with probability p and scale the kept ones by
    1/(1 - p). Input (N, C, D, H, W) or unbatched (C, D, H, W); other ranks warn, as PyTorch.

    Example:
        >>> _ = chainrule.manual_seed(0)
        >>> F.dropout3d(chainrule.ones(1, 2, 1, 1, 2), p=0.5)
        tensor([[[[[2., 2.]]],
        <BLANKLINE>
        <BLANKLINE>
                 [[[0., 0.]]]]])
    """
    _check_p(p)
    if input.ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and "
            "will result in an error in a future release. To retain the behavior and silence "
            "this warning, please use dropout instead. Note that dropout3d exists to provide "
            "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 4D or 5D inputs).",
            stacklevel=2,
        )
    if input.ndim != 5:  # PyTorch treats every other rank as unbatched
        return ops.squeeze(_feature_dropout(ops.unsqueeze(input, 0), p, training, False), 0)
    return _feature_dropout(input, p, training, False)


def alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """Dropout for SELU networks: dropped units are set to SELU's saturation value
    -1.7581 and an affine map a x + b restores mean 0 and variance 1 (PyTorch's formula).
    Note ``training`` defaults to False, as in PyTorch.

    Example:
        >>> _ = chainrule.manual_seed(0)
        >>> F.alpha_dropout(chainrule.zeros(4), p=0.5, training=True)  # kept: a alpha' p
        tensor([ 0.7792, -0.7792, -0.7792, -0.7792])
    """
    _check_p(p)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:
        return ops.mul(input, 0.0)
    return _masked(input, p, tuple(input.shape), True)


def feature_alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """alpha_dropout of whole channels (input (N, C, *)): one draw per (sample, channel).

    Example:
        >>> F.feature_alpha_dropout(chainrule.zeros(1, 2, 3), p=0.5)  # training=False: identity
        tensor([[[0., 0., 0.],
                 [0., 0., 0.]]])
    """
    _check_p(p)
    return _feature_dropout(input, p, training, True)


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1; cos along the
    last dim, cos = x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)) as PyTorch computes it.

    Args:
        input1, input2: (N, D) or (D,).
        target: (N,) or () of 1 and -1.
        margin: in [-1, 1]; 0 to 0.5 suggested.
        reduction: 'none' | 'mean' | 'sum'.

    Example:
        >>> x = chainrule.tensor([[1.0, 0.0]])
        >>> F.cosine_embedding_loss(x, chainrule.tensor([[0.0, 1.0]]), chainrule.tensor([1]))
        tensor(1.)
    """
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    _nn.check_reduction(reduction, "cosine_embedding_loss")
    if tuple(input1.shape) != tuple(input2.shape) or input1.ndim not in (1, 2):
        raise RuntimeError(
            "cosine_embedding_loss: expected input1 and input2 of the same shape (N, D) or (D,), "
            f"got {tuple(input1.shape)} and {tuple(input2.shape)}"
        )
    if tuple(target.shape) != tuple(input1.shape[:-1]):
        raise RuntimeError(
            f"cosine_embedding_loss: expected target of shape {tuple(input1.shape[:-1])} for "
            f"inputs of shape {tuple(input1.shape)}, got {tuple(target.shape)}"
        )
    eps = 1e-12
    prod = ops.sum(ops.mul(input1, input2), -1)
    mag1 = ops.add(ops.sum(ops.mul(input1, input1), -1), eps)
    mag2 = ops.add(ops.sum(ops.mul(input2, input2), -1), eps)
    cos = ops.div(prod, ops.sqrt(ops.mul(mag1, mag2)))
    t = target.data
    pos = ops.where(Tensor._make(t == 1, input1._device), ops.sub(1.0, cos), 0.0)
    neg = ops.where(Tensor._make(t == -1, input1._device), ops.relu(ops.sub(cos, margin)), 0.0)
    return _reduce(ops.add(pos, neg), reduction)


def _legacy_reduction(size_average, reduce) -> str:
    """PyTorch's mapping of the deprecated size_average/reduce flags to ``reduction``."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if (size_average and reduce) else ("sum" if reduce else "none")
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
        stacklevel=3,
    )
    return ret


# ---------------------------------------------------------------- convolution and pooling
# The Functions and their argument checks live in chainrule.ops.conv (as linear lives in
# chainrule.ops.linalg); adaptive average pooling and interpolation below are compositions.

from chainrule.ops.conv import (  # noqa: E402
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    fold,
    lp_pool1d,
    lp_pool2d,
    lp_pool3d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
    max_unpool1d,
    max_unpool2d,
    max_unpool3d,
    unfold,
)

__all__ += [
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "unfold",
    "fold",
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "interpolate",
    "conv3d",
    "conv_transpose3d",
    "max_pool3d",
    "avg_pool3d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool3d",
    "lp_pool1d",
    "lp_pool2d",
    "lp_pool3d",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
]


def _adaptive_sum_matrix(xp, size: int, out: int, dtype):
    """(out, size) 0/1 matrix: row i selects the window [floor(i n/o), ceil((i+1) n/o))."""
    i = xp.arange(out)[:, None]
    start, end = (i * size) // out, -((-(i + 1) * size) // out)
    j = xp.arange(size)[None, :]
    return ((j >= start) & (j < end)).astype(dtype), (end - start)[:, 0].astype(dtype)


def _adaptive_avg(input: Tensor, output_size, n: int, name: str) -> Tensor:
    from chainrule.ops.conv import adaptive_output_size

    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(
            f"{name}: expected a {n + 1}D (unbatched) or {n + 2}D (batched) input, got shape "
            f"{tuple(input.shape)}"
        )
    sizes = tuple(input.shape[-n:])
    outs = adaptive_output_size(output_size, sizes, name)
    xp, dev, dt = input._device.xp, input._device, input.data.dtype
    mats, counts = zip(*(_adaptive_sum_matrix(xp, s, o, dt) for s, o in zip(sizes, outs)))
    # Window sums as products with 0/1 matrices (the windows may overlap), then / window sizes.
    if n == 1:
        sums = ops.einsum("...w,jw->...j", input, Tensor._make(mats[0], dev))
        count = counts[0]
    elif n == 2:
        rows, cols = (Tensor._make(m, dev) for m in mats)
        sums = ops.einsum("ih,...hw,jw->...ij", rows, input, cols)
        count = counts[0][:, None] * counts[1][None, :]
    else:
        deps, rows, cols = (Tensor._make(m, dev) for m in mats)
        sums = ops.einsum("id,...dhw,jh,kw->...ijk", deps, input, rows, cols)
        count = counts[0][:, None, None] * counts[1][None, :, None] * counts[2][None, None, :]
    return ops.div(sums, Tensor._make(count, dev))


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    """Average pooling to a fixed (od, oh, ow) output size: each output is the mean over the
    adaptive window [floor(i n / o), ceil((i + 1) n / o)) of every spatial axis (0/1 window
    matrices, as adaptive_avg_pool2d). ``None`` in output_size keeps that input size.

    Shape: (N, C, D, H, W) or (C, D, H, W) -> (N, C, od, oh, ow).

    Example:
        >>> F.adaptive_avg_pool3d(chainrule.ones(1, 3, 5, 7, 4), (2, 3, 1)).shape
        chainrule.Size([1, 3, 2, 3, 1])
    """
    return _adaptive_avg(input, output_size, 3, "adaptive_avg_pool3d")


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average pooling to a fixed output size: output (i, j) is the mean over rows
    [floor(i H / oh), ceil((i + 1) H / oh)) and the matching columns (overlapping windows when
    the sizes do not divide). ``None`` in output_size keeps that input size.

    Computed as R x C^T with 0/1 window matrices R (oh, H) and C (ow, W), divided by the window
    sizes; the gradient comes from the matrix products.

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, oh, ow).

    Example:
        >>> F.adaptive_avg_pool2d(chainrule.ones(1, 3, 7, 5), (2, 2)).shape
        chainrule.Size([1, 3, 2, 2])
    """
    return _adaptive_avg(input, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Average pooling of the last dim to ``output_size`` windows (see adaptive_avg_pool2d).

    Shape: (N, C, L) or (C, L) -> (N, C, output_size).

    Example:
        >>> F.adaptive_avg_pool1d(chainrule.tensor([[[1.0, 2.0, 3.0, 4.0]]]), 2)
        tensor([[[1.5000, 3.5000]]])
    """
    return _adaptive_avg(input, output_size, 1, "adaptive_avg_pool1d")


def _source_scale(xp, n_in: int, n_out: int, scale, align_corners: bool, dtype):
    """PyTorch's input-per-output step: (n_in-1)/(n_out-1) with align_corners, else 1/scale
    when a scale factor was given, else n_in/n_out (in the input's float precision)."""
    if align_corners:
        return dtype.type((n_in - 1) / (n_out - 1)) if n_out > 1 else dtype.type(0)
    if scale is not None and scale > 0:
        return dtype.type(1.0 / scale)
    return dtype.type(n_in) / dtype.type(n_out)


def _nearest_index(xp, n_in: int, n_out: int, scale, dtype, shortcuts: bool = True):
    """Source index of each output for mode 'nearest': min(floor(i * step), n_in - 1)."""
    # NOTE: PyTorch's 2-D nearest kernel copies a dim whose size does not change and halves
    # the index when the size doubles, whatever the scale factor; its 1-D kernel applies a
    # given scale factor even then (shortcuts=False). Both are mirrored here.
    if shortcuts or scale is None:
        if n_out == n_in:
            return xp.arange(n_out)
        if n_out == 2 * n_in:
            return xp.arange(n_out) // 2
    step = _source_scale(xp, n_in, n_out, scale, False, dtype)
    src = xp.floor(xp.arange(n_out).astype(dtype) * step).astype(xp.int64)
    return xp.minimum(src, n_in - 1)


def _linear_weights(xp, n_in: int, n_out: int, scale, align_corners: bool, dtype):
    """(i0, i1, w0, w1): each output is w0 x[i0] + w1 x[i1] along one dim (PyTorch's
    area_pixel_compute_source_index and guard_index_and_lambda)."""
    step = _source_scale(xp, n_in, n_out, scale, align_corners, dtype)
    dst = xp.arange(n_out).astype(dtype)
    src = dst * step if align_corners else xp.maximum(step * (dst + dtype.type(0.5)) - 0.5, 0)
    src = src.astype(dtype)
    i0 = xp.minimum(xp.floor(src).astype(xp.int64), n_in - 1)
    w1 = xp.clip(src - i0.astype(dtype), 0, 1).astype(dtype)
    i1 = i0 + (i0 < n_in - 1)
    return i0, i1, (1 - w1).astype(dtype), w1


def interpolate(
    input: Tensor,
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dims of (N, C, L) or (N, C, H, W) inputs.

    - ``'nearest'``: output i copies input min(floor(i * in/out), in - 1).
    - ``'linear'`` (3-D) / ``'bilinear'`` (4-D): each output is the weighted mean of the two
      nearest inputs along each dim; source position ``i * (in-1)/(out-1)`` with
      ``align_corners=True`` (corners map to corners), else ``(i + 0.5) * in/out - 0.5``
      (pixel centres; clamped at 0).

    Give either ``size`` or ``scale_factor`` (out = floor(in * scale_factor); the scale factor
    itself sets the step unless ``recompute_scale_factor``). Built from index_select and
    products, so the gradient flows back to the source elements.

    Example:
        >>> F.interpolate(chainrule.tensor([[[1.0, 2.0]]]), scale_factor=2)
        tensor([[[1., 1., 2., 2.]]])
    """
    from chainrule.ops.indexing import index_select

    n = input.ndim - 2
    linear_modes = {1: "linear", 2: "bilinear"}
    if mode not in ("nearest", "linear", "bilinear"):
        raise NotImplementedError(
            f"interpolate: mode {mode!r} is not supported; use 'nearest', 'linear' or 'bilinear'"
        )
    if n not in (1, 2):
        raise NotImplementedError(
            f"Input Error: Only 3D and 4D input Tensors supported (got {input.ndim}D) for the "
            f"modes: nearest | linear | bilinear (got {mode})"
        )
    if mode != "nearest" and mode != linear_modes[n]:
        raise NotImplementedError(
            f"Got {input.ndim}D input, but {mode} mode needs {3 if mode == 'linear' else 4}D input"
        )
    if mode == "nearest" and align_corners is not None:
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: "
            "linear | bilinear | bicubic | trilinear"
        )
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    align_corners = bool(align_corners)
    in_sizes = tuple(input.shape[2:])
    if (size is None) == (scale_factor is None):
        raise ValueError(
            "only one of size or scale_factor should be defined"
            if size is not None
            else "either size or scale_factor should be defined"
        )
    if size is not None:
        out_sizes = (size,) * n if isinstance(size, int) else tuple(int(s) for s in size)
        if len(out_sizes) != n:
            raise ValueError(
                f"Input and output must have the same number of spatial dimensions, but got "
                f"input with spatial dimensions of {list(in_sizes)} and output size of "
                f"{list(out_sizes)}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                f"format and output size in (o1, o2, ...,oK) format."
            )
        scales = (None,) * n
    else:
        factors = (
            (float(scale_factor),) * n
            if isinstance(scale_factor, int | float)
            else tuple(float(f) for f in scale_factor)
        )
        if len(factors) != n:
            raise ValueError(
                f"Input and scale_factor must have the same number of spatial dimensions, but "
                f"got input with spatial dimensions of {list(in_sizes)} and scale_factor of "
                f"shape {list(factors)}."
            )
        out_sizes = tuple(math.floor(s * f) for s, f in zip(in_sizes, factors))
        scales = (None,) * n if recompute_scale_factor else factors
    if any(s <= 0 for s in out_sizes):
        raise RuntimeError(f"interpolate: output size {out_sizes} must be greater than 0")
    xp, dev = input._device.xp, input._device
    dtype = input.data.dtype
    out = input
    # Innermost dim first: the order (and so the rounding) of PyTorch's kernels.
    for axis in reversed(range(n)):
        dim = 2 + axis
        n_in, n_out, scale = in_sizes[axis], out_sizes[axis], scales[axis]
        if mode == "nearest":
            idx = _nearest_index(xp, n_in, n_out, scale, dtype, shortcuts=n == 2)
            out = index_select(out, dim, Tensor._make(idx, dev))
            continue
        if n_in == n_out:
            continue  # PyTorch copies a dim whose size does not change, whatever the scale
        i0, i1, w0, w1 = _linear_weights(xp, n_in, n_out, scale, align_corners, dtype)
        shape = (-1,) + (1,) * (n - 1 - axis)
        a = ops.mul(
            index_select(out, dim, Tensor._make(i0, dev)), Tensor._make(w0.reshape(shape), dev)
        )
        b = ops.mul(
            index_select(out, dim, Tensor._make(i1, dev)), Tensor._make(w1.reshape(shape), dev)
        )
        out = ops.add(a, b)
    return ops.clone(out) if out is input else out  # a new tensor, as PyTorch returns


# ---------------------------------------------------------------- attention


def _as_mask_tensor(mask, like: Tensor) -> Tensor:
    """A mask given as a Tensor, or as an array or nested list (a constant on like's device)."""
    if isinstance(mask, Tensor):
        return mask
    return Tensor._make(to_device(mask, like._device), like._device)


def _mask_as_bias(mask, like: Tensor, name: str, true_is_masked: bool) -> Tensor:
    """A boolean mask as an additive float mask (0 where a key takes part, -inf where it does
    not; ``true_is_masked`` says which of True/False is masked); a float mask as it is (cast to
    ``like``'s dtype, still differentiable)."""
    mask = _as_mask_tensor(mask, like)
    dtype = like.data.dtype
    kind = mask.data.dtype.kind
    if kind == "b":
        xp = like._device.xp
        blocked = mask.data if true_is_masked else ~mask.data
        bias = xp.where(blocked, -math.inf, 0.0).astype(dtype)
        return Tensor._make(bias, like._device)
    if kind != "f":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if mask.data.dtype != dtype:
        mask = ops.cast(mask, like.dtype)
    return mask


def _causal_bias(xp, rows: int, cols: int, dtype):
    """0 on and below the diagonal (query i sees keys j <= i), -inf above: (rows, cols)."""
    allowed = xp.tril(xp.ones((rows, cols), dtype=bool))
    return xp.where(allowed, 0.0, -math.inf).astype(dtype)


def _broadcast_or_none(a: tuple, b: tuple):
    out = []
    for x, y in zip(
        reversed((1,) * (len(b) - len(a)) + tuple(a)), reversed((1,) * (len(a) - len(b)) + tuple(b))
    ):
        if x != y and x != 1 and y != 1:
            return None
        out.append(max(x, y) if 1 in (x, y) else x)
    return tuple(reversed(out))


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """Attention(Q, K, V) = softmax(Q K^T * scale + M) V, with scale = 1/sqrt(E) by default.

    Each query is compared with every key (a dot product); the softmax turns the scores of one
    query into weights that sum to 1 - a soft switch that picks a mixture of the values, and
    a hard one (a single value) when one score dominates. One fused op with its own backward
    (``chainrule.ops.attention``); rows in which every key is masked give 0, as in PyTorch.

    Args:
        query: (..., L, E).  key: (..., S, E).  value: (..., S, Ev); batch dims broadcast.
        attn_mask: broadcastable to (..., L, S). Boolean: True = the key takes part (the
            opposite of ``MultiheadAttention``'s masks); float: added to the scores.
        dropout_p: dropout on the attention weights (always applied when > 0: pass 0.0 in
            evaluation).
        is_causal: query i attends only to keys j <= i (top-left aligned; no ``attn_mask``).
        scale: replaces 1/sqrt(E) (keyword only in PyTorch).
        enable_gqa: grouped-query attention: key/value heads (dim -3) are repeated to match
            the query heads.

    Shape: output (..., L, Ev).

    Example:
        >>> q, k = chainrule.randn(2, 4, 3, 8), chainrule.randn(2, 4, 5, 8)
        >>> v = chainrule.randn(2, 4, 5, 6)
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
        chainrule.Size([2, 4, 3, 6])
    """
    from chainrule.ops.attention import attention

    name = "scaled_dot_product_attention"
    for t, what in ((query, "query"), (key, "key"), (value, "value")):
        if t.ndim < 2:
            raise RuntimeError(
                f"{name}: {what} must have at least 2 dims (..., seq, features), "
                f"got shape {tuple(t.shape)}"
            )
    if key.shape[-1] != query.shape[-1]:
        raise RuntimeError(
            f"{name}: query (..., L, E) and key (..., S, E) need the same E, got shapes "
            f"{tuple(query.shape)} and {tuple(key.shape)}"
        )
    if value.shape[-2] != key.shape[-2]:
        raise RuntimeError(
            f"{name}: key (..., S, E) and value (..., S, Ev) need the same S, got shapes "
            f"{tuple(key.shape)} and {tuple(value.shape)}"
        )
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hq % hk or hq % value.shape[-3]:
            raise RuntimeError(
                f"{name}: with enable_gqa the query heads ({hq}) must be a multiple of the "
                f"key/value heads ({hk}, {value.shape[-3]})"
            )
        key, value = _repeat_heads(key, hq // hk), _repeat_heads(value, hq // value.shape[-3])
    batch = _broadcast_or_none(tuple(query.shape[:-2]), tuple(key.shape[:-2]))
    batch = None if batch is None else _broadcast_or_none(batch, tuple(value.shape[:-2]))
    if batch is None:
        raise RuntimeError(
            f"{name}: the batch dims of query {tuple(query.shape)}, key {tuple(key.shape)} "
            f"and value {tuple(value.shape)} cannot be broadcast together"
        )
    L, S = query.shape[-2], key.shape[-2]
    xp, dev = query._device.xp, query._device
    bias = None
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                "is_causal=True"
            )
        bias = Tensor._make(_causal_bias(xp, L, S, query.data.dtype), dev)
    elif attn_mask is not None:
        mshape = tuple(attn_mask.shape)
        full = _broadcast_or_none(mshape, batch + (L, S))
        if full is None or full[-2:] != (L, S):
            raise RuntimeError(
                f"{name}: attn_mask of shape {mshape} cannot be broadcast to the attention "
                f"scores' shape {batch + (L, S)} (expected (..., L, S) = (..., {L}, {S}))"
            )
        bias = _mask_as_bias(attn_mask, query, "attn_mask", true_is_masked=False)
    keep = None
    if dropout_p > 0.0:
        if dropout_p > 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
        from chainrule.random import rng

        shape = batch + (L, S)
        if bias is not None:
            shape = _broadcast_or_none(tuple(bias.shape), shape)
        kept = rng().random(shape) >= dropout_p
        factor = 0.0 if dropout_p == 1.0 else 1.0 / (1.0 - dropout_p)
        keep = to_device((kept * factor).astype(query.data.dtype), dev)
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    return attention(query, key, value, bias, keep, scale=float(scale), causal=bool(is_causal))


def _repeat_heads(x: Tensor, times: int) -> Tensor:
    """repeat_interleave along dim -3: (..., H, S, E) -> (..., H * times, S, E)."""
    if times == 1:
        return x
    shape = tuple(x.shape)
    expanded = ops.expand(ops.unsqueeze(x, -3), shape[:-2] + (times,) + shape[-2:])
    return ops.reshape(expanded, shape[:-3] + (shape[-3] * times,) + shape[-2:])


def _canonical_mask(mask, mask_name: str, other, other_name: str, like: Tensor):
    """torch's _canonical_mask: a boolean mask (True = masked) becomes an additive float mask;
    a warning when ``other`` (the mask it will be combined with) has another dtype."""
    if mask is None:
        return None
    mask = _as_mask_tensor(mask, like)
    if other is not None and mask.data.dtype != _as_mask_tensor(other, like).data.dtype:
        warnings.warn(
            f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type "
            "for both instead.",
            stacklevel=3,
        )
    return _mask_as_bias(mask, like, mask_name, true_is_masked=True)


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """torch's checks of the input ranks; True when the input is batched."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                f"{key.ndim}-D and {value.ndim}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                f"found {key_padding_mask.ndim}-D tensor instead"
            )
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError(
                "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                f"found {attn_mask.ndim}-D tensor instead"
            )
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                f"{key.ndim}-D and {value.ndim}-D tensors respectively"
            )
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D "
                f"but found {key_padding_mask.ndim}-D tensor instead"
            )
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError(
                    "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                    f"but found {attn_mask.ndim}-D tensor instead"
                )
            if attn_mask.ndim == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError(
                        f"Expected `attn_mask` shape to be {expected} but got "
                        f"{tuple(attn_mask.shape)}"
                    )
        return False
    raise AssertionError(
        "query should be unbatched 2D or batched 3D tensor but received "
        f"{query.ndim}-D query tensor"
    )


def _split_heads(x: Tensor, num_heads: int) -> Tensor:
    """(N, T, H * d) -> (N, H, T, d)."""
    n, t, e = x.shape
    return ops.permute(ops.reshape(x, (n, t, num_heads, e // num_heads)), (0, 2, 1, 3))


def _pad_last(mask, width: int = 1):
    return None if mask is None else pad(mask, (0, width))


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
):
    """Multi-head attention (the computation of ``nn.MultiheadAttention``), sequence first.

    head_h = softmax((Q W_q^h)(K W_k^h)^T / sqrt(d) + M) (V W_v^h), d = embed_dim / num_heads;
    output = concat(head_1, ..., head_H) W_o^T + b_o.

    Masks follow ``nn.MultiheadAttention``: boolean True = the key is masked out; float masks
    are added to the scores. ``key_padding_mask`` (N, S) masks keys per sample, ``attn_mask``
    (L, S) or (N * num_heads, L, S) per query.

    Shape: query (L, N, E) or (L, E); key (S, N, kdim); value (S, N, vdim) ->
    (attn_output (L, N, E), attn_weights (N, L, S) or (N, num_heads, L, S), or None).
    """
    return _multi_head_attention(
        query,
        key,
        value,
        embed_dim_to_check,
        num_heads,
        in_proj_weight,
        in_proj_bias,
        bias_k,
        bias_v,
        add_zero_attn,
        dropout_p,
        out_proj_weight,
        out_proj_bias,
        training,
        key_padding_mask,
        need_weights,
        attn_mask,
        use_separate_proj_weight,
        q_proj_weight,
        k_proj_weight,
        v_proj_weight,
        static_k,
        static_v,
        average_attn_weights,
        is_causal,
        batch_first=False,
    )


def _multi_head_attention(
    query,
    key,
    value,
    embed_dim_to_check,
    num_heads,
    in_proj_weight,
    in_proj_bias,
    bias_k,
    bias_v,
    add_zero_attn,
    dropout_p,
    out_proj_weight,
    out_proj_bias,
    training,
    key_padding_mask,
    need_weights,
    attn_mask,
    use_separate_proj_weight,
    q_proj_weight,
    k_proj_weight,
    v_proj_weight,
    static_k,
    static_v,
    average_attn_weights,
    is_causal,
    batch_first: bool,
):
    """multi_head_attention_forward computed batch-major ((N, L, E) inside), so that
    ``batch_first`` inputs need no transposes."""
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    same_kv, same_qk = key is value, query is key
    if not is_batched:
        query, key, value = (ops.unsqueeze(t, 0) for t in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = ops.unsqueeze(_as_mask_tensor(key_padding_mask, query), 0)
    elif not batch_first:
        query, key, value = (ops.transpose(t, 0, 1) for t in (query, key, value))
    bsz, tgt_len, embed_dim = query.shape

    key_padding_mask = _canonical_mask(
        key_padding_mask, "key_padding_mask", attn_mask, "attn_mask", query
    )
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer "
            "module method `generate_square_subsequent_mask` to create this mask."
        )
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the is_causal hint replaces the mask (the fused causal path)
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query)
        if key_padding_mask is not None:
            is_causal = False

    if embed_dim != embed_dim_to_check:
        raise AssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}"
        )
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(
                f"key's sequence and batch dims {tuple(key.shape[:2])} do not match value's "
                f"{tuple(value.shape[:2])}"
            )
    elif tuple(key.shape) != tuple(value.shape):
        raise AssertionError(
            f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}"
        )

    # ---- input projections: q, k, v of shape (N, T, E)
    E = embed_dim
    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        b = in_proj_bias
        if same_kv and same_qk:  # self-attention: one GEMM for the three projections
            q, k, v = ops.chunk(linear(query, in_proj_weight, b), 3, -1)
        elif same_kv:  # encoder-decoder attention: one GEMM for keys and values
            w_q, w_kv = ops.split(in_proj_weight, [E, 2 * E])
            b_q, b_kv = (None, None) if b is None else ops.split(b, [E, 2 * E])
            q = linear(query, w_q, b_q)
            k, v = ops.chunk(linear(key, w_kv, b_kv), 2, -1)
        else:
            w_q, w_k, w_v = ops.chunk(in_proj_weight, 3)
            b_q, b_k, b_v = (None,) * 3 if b is None else ops.chunk(b, 3)
            q, k, v = linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)
    else:
        for w, name in ((q_proj_weight, "q"), (k_proj_weight, "k"), (v_proj_weight, "v")):
            if w is None:
                raise AssertionError(
                    f"use_separate_proj_weight is True but {name}_proj_weight is None"
                )
        b_q, b_k, b_v = (None,) * 3 if in_proj_bias is None else ops.chunk(in_proj_bias, 3)
        q = linear(query, q_proj_weight, b_q)
        k = linear(key, k_proj_weight, b_k)
        v = linear(value, v_proj_weight, b_v)

    # ---- masks as (1 or N, 1 or H, L, S) float tensors
    src_len = key.shape[1]
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(
                    f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be "
                    f"{(tgt_len, src_len)}."
                )
            attn_mask = ops.reshape(attn_mask, (1, 1, tgt_len, src_len))
        elif attn_mask.ndim == 3:
            expected = (bsz * num_heads, tgt_len, src_len)
            if tuple(attn_mask.shape) != expected:
                raise RuntimeError(
                    f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                    f"{expected}."
                )
            attn_mask = ops.reshape(attn_mask, (bsz, num_heads, tgt_len, src_len))
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = ops.cat([k, ops.expand(ops.reshape(bias_k, (1, 1, E)), (bsz, 1, E))], 1)
        v = ops.cat([v, ops.expand(ops.reshape(bias_v, (1, 1, E)), (bsz, 1, E))], 1)
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")

    # ---- heads: (N, H, T, d)
    q = _split_heads(q, num_heads)
    k = (
        _split_heads(k, num_heads)
        if static_k is None
        else _static(static_k, bsz, num_heads, head_dim, "static_k")
    )
    v = (
        _split_heads(v, num_heads)
        if static_v is None
        else _static(static_v, bsz, num_heads, head_dim, "static_v")
    )
    if add_zero_attn:
        xp, dev = q._device.xp, q._device
        zeros = Tensor._make(xp.zeros((bsz, num_heads, 1, head_dim), q.data.dtype), dev)
        k, v = ops.cat([k, zeros], 2), ops.cat([v, zeros], 2)
        attn_mask = _pad_last(attn_mask)
        key_padding_mask = _pad_last(key_padding_mask)

    src_len = k.shape[2]
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(
                f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                f"{key_padding_mask.shape[0]}"
            )
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(
                f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                f"{key_padding_mask.shape[1]}"
            )
        kpm = ops.reshape(key_padding_mask, (bsz, 1, 1, src_len))
        attn_mask = kpm if attn_mask is None else ops.add(attn_mask, kpm)

    if not training:
        dropout_p = 0.0

    if need_weights:
        # The weights are returned (and differentiable): compose matmul + softmax + matmul.
        scores = ops.matmul(ops.mul(q, math.sqrt(1.0 / head_dim)), ops.transpose(k, -2, -1))
        if attn_mask is not None:
            scores = ops.add(scores, attn_mask)
        weights = softmax(scores, dim=-1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = ops.matmul(weights, v)
        if average_attn_weights:
            weights = weights.mean(dim=1)
    else:
        out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
        weights = None

    # ---- (N, H, L, d) -> (N, L, E) -> output projection
    out = ops.reshape(ops.permute(out, (0, 2, 1, 3)), (bsz, tgt_len, E))
    out = linear(out, out_proj_weight, out_proj_bias)
    if not is_batched:
        out = ops.squeeze(out, 0)
        if weights is not None:
            weights = ops.squeeze(weights, 0)
    elif not batch_first:
        out = ops.transpose(out, 0, 1)
    return out, weights


def _static(x: Tensor, bsz: int, num_heads: int, head_dim: int, name: str) -> Tensor:
    if x.shape[0] != bsz * num_heads:
        raise AssertionError(f"expecting {name}.size(0) of {bsz * num_heads}, but got {x.shape[0]}")
    if x.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {x.shape[2]}")
    return ops.reshape(x, (bsz, num_heads, x.shape[1], head_dim))


__all__ += ["scaled_dot_product_attention", "multi_head_attention_forward"]


# ---------------------------------------------------------------- more utilities


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices (int64, any shape) as one-hot vectors: shape + (num_classes,), int64.
    ``num_classes=-1`` takes the largest index + 1."""
    xp = tensor._device.xp
    t = tensor.data
    if t.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if t.size and t.min() < 0:
        raise RuntimeError("one_hot: class values must be non-negative.")
    n = int(t.max()) + 1 if num_classes == -1 and t.size else max(num_classes, 0)
    if t.size and int(t.max()) >= n:
        raise RuntimeError("one_hot: class values must be smaller than num_classes.")
    out = (t[..., None] == xp.arange(n)).astype(xp.int64)
    return Tensor._make(out, tensor._device)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """input / max(||input||_p, eps) along ``dim``."""
    d = normalize_dim(dim, input.ndim, "normalize")
    if p == 2.0:
        norm = _norm_along(input, d)
    else:
        norm = ops.pow(ops.sum(ops.pow(ops.abs(input), p), d, True), 1.0 / p)
    return ops.div(input, ops.clamp(norm, min=eps))


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """||x1 - x2 + eps||_p along the last dimension (PyTorch adds eps to the difference)."""
    diff = ops.add(ops.sub(x1, x2), eps)
    d = -1 if diff.ndim else 0
    if p == 2.0:
        out = _norm_along(diff, d % max(diff.ndim, 1))
    else:
        out = ops.pow(ops.sum(ops.pow(ops.abs(diff), p), d, True), 1.0 / p)
    return out if keepdim else ops.squeeze(out, d)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r): channels rearranged into r x r blocks."""
    r = int(upscale_factor)
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(
            f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
            f"square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}"
        )
    n = len(lead)
    x = ops.reshape(input, (*lead, c // (r * r), r, r, h, w))
    x = ops.permute(x, (*range(n), n, n + 3, n + 1, n + 4, n + 2))
    return ops.reshape(x, (*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse of ``pixel_shuffle``."""
    r = int(downscale_factor)
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(
            f"pixel_unshuffle expects height ({h}) and width ({w}) to be divisible by "
            f"downscale_factor ({r})"
        )
    n = len(lead)
    x = ops.reshape(input, (*lead, c, h // r, r, w // r, r))
    x = ops.permute(x, (*range(n), n, n + 2, n + 4, n + 1, n + 3))
    return ops.reshape(x, (*lead, c * r * r, h // r, w // r))


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel of each sample over its spatial positions ((N, C, *)), then scale
    and shift per channel; with running statistics, as batch_norm does per channel."""
    if input.ndim < 3:
        raise RuntimeError(f"instance_norm: expected (N, C, *) input, got {tuple(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    # One "batch" per (sample, channel): batch_norm over a (1, N C, *) view does exactly that
    # and updates the running statistics with the mean over samples, as PyTorch does.
    folded = ops.reshape(input, (1, n * c) + tuple(input.shape[2:]))
    rm = None if running_mean is None else Tensor._make(running_mean.data.repeat(n), input._device)
    rv = None if running_var is None else Tensor._make(running_var.data.repeat(n), input._device)
    w = None if weight is None else ops.reshape(ops.expand(weight, (n, c)), (n * c,))
    b = None if bias is None else ops.reshape(ops.expand(bias, (n, c)), (n * c,))
    out = batch_norm(folded, rm, rv, w, b, True, momentum, eps)
    if running_mean is not None:
        running_mean.data[...] = rm.data.reshape(n, c).mean(axis=0)
        running_mean._version[0] += 1
    if running_var is not None:
        running_var.data[...] = rv.data.reshape(n, c).mean(axis=0)
        running_var._version[0] += 1
    return ops.reshape(out, tuple(input.shape))


__all__ += [
    "one_hot",
    "normalize",
    "pairwise_distance",
    "pixel_shuffle",
    "pixel_unshuffle",
    "instance_norm",
]


# ---------------------------------------------------------------- more losses (compositions)


def _loss_setup(size_average, reduce, reduction: str, op: str) -> str:
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    _nn.check_reduction(reduction, op)
    return reduction


def margin_ranking_loss(
    input1,
    input2,
    target,
    margin: float = 0.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, -y (x1 - x2) + margin): x1 should rank above x2 where y = 1, below where -1."""
    reduction = _loss_setup(size_average, reduce, reduction, "margin_ranking_loss")
    loss = ops.clamp(ops.add(ops.mul(ops.neg(target), ops.sub(input1, input2)), margin), min=0)
    return _reduce(loss, reduction)


def hinge_embedding_loss(
    input, target, margin: float = 1.0, size_average=None, reduce=None, reduction: str = "mean"
) -> Tensor:
    """x where y = 1, max(0, margin - x) where y = -1 (x: a distance)."""
    reduction = _loss_setup(size_average, reduce, reduction, "hinge_embedding_loss")
    zeros = ops.mul(input, 0.0)
    pos = ops.where(ops.eq(target, 1), input, zeros)
    neg = ops.where(ops.eq(target, -1), ops.clamp(ops.sub(margin, input), min=0), zeros)
    return _reduce(ops.add(pos, neg), reduction)


def soft_margin_loss(
    input, target, size_average=None, reduce=None, reduction: str = "mean"
) -> Tensor:
    """log(1 + e^(-y x)), the logistic loss for labels y in {-1, 1}."""
    reduction = _loss_setup(size_average, reduce, reduction, "soft_margin_loss")
    _nn.check_same_shape(input, target, "soft_margin_loss")
    return _reduce(softplus(ops.neg(ops.mul(target, input))), reduction)


def poisson_nll_loss(
    input,
    target,
    log_input: bool = True,
    full: bool = False,
    size_average=None,
    eps: float = 1e-8,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Poisson negative log-likelihood: e^x - y x (log_input), or x - y log(x + eps); with
    ``full``, Stirling's term y log y - y + log(2 pi y) / 2 where y > 1."""
    reduction = _loss_setup(size_average, reduce, reduction, "poisson_nll_loss")
    if log_input:
        loss = ops.sub(ops.exp(input), ops.mul(target, input))
    else:
        loss = ops.sub(input, ops.mul(target, ops.log(ops.add(input, eps))))
    if full:
        t = target.detach()
        safe = ops.where(ops.gt(t, 1), t, ops.mul(t, 0.0) + 1.0)
        stirling = ops.add(
            ops.sub(ops.mul(safe, ops.log(safe)), safe),
            ops.mul(ops.log(ops.mul(safe, 2 * math.pi)), 0.5),
        )
        loss = ops.add(loss, ops.where(ops.gt(t, 1), stirling, ops.mul(t, 0.0)))
    return _reduce(loss, reduction)


def gaussian_nll_loss(
    input, target, var, full: bool = False, eps: float = 1e-6, reduction: str = "mean"
) -> Tensor:
    """(log max(var, eps) + (x - y)^2 / max(var, eps)) / 2 (+ log(2 pi) / 2 with ``full``);
    var may have one fewer dim or a last dim of 1 (one variance per sample)."""
    _nn.check_reduction(reduction, "gaussian_nll_loss")
    if var.ndim == input.ndim - 1 and tuple(var.shape) == tuple(input.shape[:-1]):
        var = ops.unsqueeze(var, -1)
    if bool((var.data < 0).any()):
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    v = ops.clamp(var, min=eps)
    loss = ops.mul(ops.add(ops.log(v), ops.div(ops.square(ops.sub(input, target)), v)), 0.5)
    if full:
        loss = ops.add(loss, 0.5 * math.log(2 * math.pi))
    return _reduce(loss, reduction)


def triplet_margin_loss(
    anchor,
    positive,
    negative,
    margin: float = 1.0,
    p: float = 2.0,
    eps: float = 1e-6,
    swap: bool = False,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin) with d the p-norm distance (pairwise_distance);
    ``swap`` uses min(d(a, n), d(p, n))."""
    reduction = _loss_setup(size_average, reduce, reduction, "triplet_margin_loss")
    return _triplet_loss(
        anchor,
        positive,
        negative,
        lambda x1, x2: pairwise_distance(x1, x2, p, eps),
        margin,
        swap,
        reduction,
    )


def _triplet_loss(anchor, positive, negative, distance, margin, swap, reduction) -> Tensor:
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = ops.minimum(d_neg, distance(positive, negative))
    return _reduce(ops.clamp(ops.add(ops.sub(d_pos, d_neg), margin), min=0), reduction)


def multi_margin_loss(
    input,
    target,
    p: int = 1,
    margin: float = 1.0,
    weight=None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """sum_(i != y) max(0, margin - x_y + x_i)^p / C per sample (multi-class hinge), the
    target class's term weighted by ``weight[y]``."""
    reduction = _loss_setup(size_average, reduce, reduction, "multi_margin_loss")
    if p not in (1, 2):
        raise ValueError("multi_margin_loss: only p == 1 and p == 2 supported")
    x = input if input.ndim == 2 else ops.unsqueeze(input, 0)
    t = target.reshape(-1)
    c = x.shape[1]
    picked = ops.gather(x, 1, ops.unsqueeze(t, 1))
    terms = ops.clamp(ops.add(ops.sub(x, picked), margin), min=0)
    if p == 2:
        terms = ops.square(terms)
    if weight is not None:
        terms = ops.mul(terms, ops.unsqueeze(ops.index_select(weight, 0, t), 1))
    others = Tensor._make(one_hot(t, c).data == 0, x._device)
    loss = ops.div(ops.sum(ops.where(others, terms, ops.mul(terms, 0.0)), 1), c)
    if input.ndim == 1:
        loss = ops.squeeze(loss, 0)
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(
    input, target, weight=None, size_average=None, reduce=None, reduction: str = "mean"
) -> Tensor:
    """-mean_c [y_c log sigmoid(x_c) + (1 - y_c) log sigmoid(-x_c)] (weighted per class)."""
    reduction = _loss_setup(size_average, reduce, reduction, "multilabel_soft_margin_loss")
    terms = ops.add(
        ops.mul(target, logsigmoid(input)),
        ops.mul(ops.sub(1.0, target), logsigmoid(ops.neg(input))),
    )
    if weight is not None:
        terms = ops.mul(terms, weight)
    return _reduce(ops.neg(ops.mean(terms, -1)), reduction)


__all__ += [
    "margin_ranking_loss",
    "hinge_embedding_loss",
    "soft_margin_loss",
    "poisson_nll_loss",
    "gaussian_nll_loss",
    "triplet_margin_loss",
    "multi_margin_loss",
    "multilabel_soft_margin_loss",
]


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode=None) -> Tensor:
    """Distances between every row of x1 (*, P, M) and every row of x2 (*, R, M): (*, P, R),
    the p-norm of the difference (p = 0 counts differing features, p = inf takes the largest).
    The gradient is 0 (not nan) where two rows coincide."""
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(
            f"cdist: expected x1 (*, P, M) and x2 (*, R, M) with the same M, got "
            f"{tuple(x1.shape)} and {tuple(x2.shape)}"
        )
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    diff = ops.sub(ops.unsqueeze(x1, -2), ops.unsqueeze(x2, -3))  # (*, P, R, M)
    return _p_norm_last(diff, p)


def _p_norm_last(diff: Tensor, p: float) -> Tensor:
    """The p-norm of ``diff`` over its last dim (p >= 0, inf allowed), gradient 0 at 0."""
    if p == 2.0:
        return ops.squeeze(_norm_along(diff, diff.ndim - 1), -1)
    a = ops.abs(diff)
    if p == 0:
        return ops.sum(ops.ne(a, 0).to(diff.dtype), -1)
    if math.isinf(p):
        return ops.amax(a, -1)
    s = ops.sum(ops.pow(a, p), -1)
    pos = Tensor._make(s.data > 0, s._device)
    return ops.where(pos, ops.pow(ops.where(pos, s, 1.0), 1.0 / p), 0.0)


__all__ += ["cdist"]


# ---------------------------------------------------------------- bags, distances, extras


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """Sums, means or maxima of bags of embedding rows, without building the (bag, length, D)
    lookups: out[b] = reduce_(k in bag b) w_k W[i_k] (w_k: per_sample_weights, 'sum' only).

    Args:
        input: (B, L) integer indices (B bags of L each), or (n,) indices split into bags by
            ``offsets``.
        weight: (V, D), the table.
        offsets: (B,) start of each bag in a 1-D input (offsets[0] = 0, non-decreasing); with
            ``include_last_offset`` (B + 1,), the last entry ending the last bag.
        max_norm: rows used whose ``norm_type``-norm exceeds it are rescaled in place.
        scale_grad_by_freq: divide each row's gradient by its count in the batch ('sum' and
            'mean' only).
        mode: 'sum', 'mean' or 'max'.
        sparse: must be False (the gradient is dense, touching only the rows used).
        per_sample_weights: input's shape, float like weight: a weight per index ('sum').
        padding_idx: indices equal to it are left out of their bag (and of its count).

    Shape:
        output (B, D); an empty bag (or one of padding only) gives a row of zeros.

    Example:
        >>> w = chainrule.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
        >>> F.embedding_bag(chainrule.tensor([0, 1, 2]), w, chainrule.tensor([0, 2]), mode="sum")
        tensor([[1., 2.],
                [3., 3.]])
    """
    from chainrule.ops import embedding as _emb

    op = "embedding_bag"
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"{op}: mode has to be one of 'sum', 'mean' or 'max', got {mode!r}")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError(
            f"{op}: max mode does not support scaling the gradient by the frequency "
            "(scale_grad_by_freq=True)"
        )
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"{op}: per_sample_weights is only supported for mode='sum' (got mode={mode!r})"
        )
    idx, padding_idx = _lookup_args(input, weight, padding_idx, sparse, op)
    xp = weight._device.xp
    n = idx.size
    keep = None
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(
                f"{op}: a 2-D input {tuple(idx.shape)} is a batch of fixed-length bags, so "
                "offsets has to be None"
            )
        num_bags = idx.shape[0]
        bags = xp.repeat(xp.arange(num_bags), idx.shape[1])
    elif idx.ndim == 1:
        num_bags, bags, keep = _bags_from_offsets(xp, offsets, n, include_last_offset, op)
    else:
        raise ValueError(
            f"{op}: input has to be a 1-D or 2-D tensor of indices, got shape {tuple(idx.shape)}"
        )
    if per_sample_weights is not None:
        if tuple(per_sample_weights.shape) != tuple(idx.shape):
            raise ValueError(
                f"{op}: per_sample_weights of shape {tuple(per_sample_weights.shape)} must have "
                f"the input's shape {tuple(idx.shape)}"
            )
        if per_sample_weights.dtype != weight.dtype:
            raise RuntimeError(
                f"{op}: per_sample_weights ({per_sample_weights.dtype.name}) must have the "
                f"weight's dtype ({weight.dtype.name})"
            )
        per_sample_weights = ops.reshape(per_sample_weights, (-1,))
    idx = idx.reshape(-1)
    if padding_idx is not None:
        real = idx != padding_idx
        keep = real if keep is None else keep & real
    if max_norm is not None:
        _embedding_renorm_(weight, idx, float(max_norm), float(norm_type))
    return _emb.EmbeddingBag.apply(
        weight,
        per_sample_weights,
        idx,
        bags,
        keep,
        num_bags=num_bags,
        mode=mode,
        by_freq=bool(scale_grad_by_freq),
    )


def _bags_from_offsets(xp, offsets, n: int, include_last_offset: bool, op: str):
    """(number of bags, bag of each of the n positions, positions that count or None)."""
    if offsets is None:
        raise ValueError(f"{op}: a 1-D input needs offsets (a 1-D tensor of bag starts)")
    off = offsets.data if isinstance(offsets, Tensor) else xp.asarray(offsets)
    if off.ndim != 1 or off.dtype.kind not in "iu":
        raise ValueError(
            f"{op}: offsets has to be a 1-D tensor of integers, got shape {tuple(off.shape)} "
            f"and dtype {off.dtype}"
        )
    if off.size:
        if int(off[0]) != 0:
            raise RuntimeError(
                f"{op}: offsets[0] has to be 0 (the first bag starts at 0), got {int(off[0])}"
            )
        if bool((off[1:] < off[:-1]).any()):
            raise RuntimeError(f"{op}: offsets must be non-decreasing, got {off.tolist()}")
        if int(off[-1]) > n:
            raise RuntimeError(
                f"{op}: offsets[-1] = {int(off[-1])} can not be greater than the input's length {n}"
            )
    starts = off[:-1] if include_last_offset else off
    end = int(off[-1]) if include_last_offset and off.size else n
    positions = xp.arange(n)
    bags = xp.searchsorted(starts, positions, side="right") - 1
    keep = None
    if end < n or not starts.size:
        keep = positions < (end if starts.size else 0)  # past the last bag: left out
        bags = xp.maximum(bags, 0)
    return int(starts.size), bags, keep


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_o = x1^T A_o x2 + b_o for each output o.

    Shape:
        input1 (*, in1), input2 (*, in2) with the same leading dims, weight (out, in1, in2),
        bias (out,) -> (*, out).

    Example:
        >>> a = chainrule.ones(1, 2, 3)
        >>> F.bilinear(chainrule.ones(4, 2), chainrule.ones(4, 3), a).shape
        chainrule.Size([4, 1])
    """
    op = "bilinear"
    if weight.ndim != 3:
        raise RuntimeError(
            f"{op}: weight must be (out_features, in1_features, in2_features), got shape "
            f"{tuple(weight.shape)}"
        )
    _, in1, in2 = weight.shape
    s1, s2 = tuple(input1.shape), tuple(input2.shape)
    if not s1 or not s2 or s1[:-1] != s2[:-1]:
        raise RuntimeError(
            f"{op}: expected input1 (*, {in1}) and input2 (*, {in2}) with the same leading "
            f"dims, got {s1} and {s2}"
        )
    if s1[-1] != in1 or s2[-1] != in2:
        raise RuntimeError(
            f"{op}: input sizes ({s1[-1]}, {s2[-1]}) do not match weight of shape "
            f"{tuple(weight.shape)} (expected ({in1}, {in2}))"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(
            f"{op}: bias of shape {tuple(bias.shape)} does not match weight's out_features "
            f"{weight.shape[0]}"
        )
    out = ops.einsum("...i,oij,...j->...o", input1, weight, input2)
    return out if bias is None else ops.add(out, bias)


def gumbel_softmax(
    logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1
) -> Tensor:
    """softmax((logits + g) / tau) with g ~ Gumbel(0, 1) from chainrule's generator: a
    differentiable sample of a categorical distribution (Jang et al.; Maddison et al., 2016).
    With ``hard``, the one-hot of the sample's argmax whose gradient is the soft sample's
    (straight-through: y_hard - y_soft.detach() + y_soft). ``eps`` is deprecated and unused.

    Example:
        >>> _ = chainrule.manual_seed(0)
        >>> F.gumbel_softmax(chainrule.zeros(2, 3), hard=True).sum(-1)
        tensor([1., 1.])
    """
    import numpy as np

    from chainrule.random import rng

    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    _nn._float_input(logits, "gumbel_softmax")
    d = normalize_dim(dim, logits.ndim, "gumbel_softmax")
    # -log(E), E ~ Exp(1), is Gumbel(0, 1) distributed
    g = -np.log(rng().exponential(size=tuple(logits.shape)))
    noise = Tensor._make(to_device(g.astype(logits.data.dtype), logits._device), logits._device)
    y_soft = _nn.softmax(ops.div(ops.add(logits, noise), tau), d)
    if not hard:
        return y_soft
    xp = logits._device.xp
    index = xp.expand_dims(y_soft.data.argmax(axis=d), d)
    classes = xp.arange(y_soft.shape[d]).reshape([-1 if i == d else 1 for i in range(y_soft.ndim)])
    y_hard = Tensor._make((classes == index).astype(y_soft.data.dtype), logits._device)
    return ops.add(ops.sub(y_hard, y_soft.detach()), y_soft)


# In-place activations: the out-of-place result written into input's memory, recorded like
# Tensor.relu_ (the input's version counter moves; a saved old value raises in backward).


def _inplace(input: Tensor, fn, op: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(input).__name__}")
    return input._unary_(fn, op)


def relu_(input: Tensor) -> Tensor:
    """In-place relu: input = max(input, 0)."""
    return _inplace(input, relu, "relu_")


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place elu."""
    return _inplace(input, lambda t: elu(t, alpha), "elu_")


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place leaky_relu."""
    return _inplace(input, lambda t: leaky_relu(t, negative_slope), "leaky_relu_")


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place hardtanh."""
    return _inplace(input, lambda t: hardtanh(t, min_val, max_val), "hardtanh_")


def selu_(input: Tensor) -> Tensor:
    """In-place selu."""
    return _inplace(input, selu, "selu_")


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place celu."""
    return _inplace(input, lambda t: celu(t, alpha), "celu_")


_threshold = threshold  # threshold_'s own argument is named threshold


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place threshold: input = input where input > threshold, else value."""
    return _inplace(input, lambda t: _threshold(t, threshold, value), "threshold_")


def rrelu(
    input: Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Randomized leaky ReLU: x for x > 0, else a x. Training: a ~ U(lower, upper) drawn per
    element from chainrule's generator (the gradient uses the same a); evaluation: the mean
    slope a = (lower + upper) / 2. ``inplace`` is accepted and ignored (use rrelu_).

    Example:
        >>> F.rrelu(chainrule.tensor([-2.0, 1.0]), 0.1, 0.3)
        tensor([-0.4000,  1.0000])
    """
    _nn._float_input(input, "rrelu")
    if lower > upper:
        raise RuntimeError(
            f"rrelu: lower bound should be less than or equal to the upper bound, got "
            f"lower={lower} and upper={upper}"
        )
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    from chainrule.random import rng

    xp = input._device.xp
    slopes = to_device(rng().uniform(lower, upper, tuple(input.shape)), input._device)
    noise = xp.where(input.data <= 0, slopes, 1).astype(input.data.dtype)
    return ops.mul(input, Tensor._make(noise, input._device))


def rrelu_(
    input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False
) -> Tensor:
    """In-place rrelu."""
    return _inplace(input, lambda t: rrelu(t, lower, upper, training), "rrelu_")


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """The p-norm distance between every pair of rows i < j of an (N, M) input, in the order
    of the upper triangle (row-major): shape (N (N - 1) / 2,). The gradient is 0 where two
    rows coincide.

    Example:
        >>> F.pdist(chainrule.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
        tensor([5.0000, 1.0000, 4.2426])
    """
    _nn._float_input(input, "pdist")
    if input.ndim != 2:
        raise RuntimeError(
            f"pdist only supports 2D tensors (N, M), got: {input.ndim}D of shape "
            f"{tuple(input.shape)}"
        )
    if p < 0:
        raise RuntimeError(f"pdist only supports non-negative p values, got {p}")
    xp = input._device.xp
    i, j = xp.triu_indices(input.shape[0], 1)
    rows_i = ops.index_select(input, 0, Tensor._make(i, input._device))
    rows_j = ops.index_select(input, 0, Tensor._make(j, input._device))
    return _p_norm_last(ops.sub(rows_i, rows_j), p)


def local_response_norm(
    input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """x_c / (k + alpha / size * sum_(c' in window of c) x_c'^2)^beta, the window ``size``
    channels wide centred on c (zero beyond the edges), as in AlexNet.

    Shape: (N, C, *) with at least 3 dims -> the same.

    Example:
        >>> F.local_response_norm(chainrule.ones(1, 3, 1), 2, alpha=1.0, k=1.0).shape
        chainrule.Size([1, 3, 1])
    """
    if input.ndim < 3:
        raise ValueError(
            f"local_response_norm: expected a 3D or higher dimensionality input (N, C, *), got "
            f"{input.ndim} dimensions (shape {tuple(input.shape)})"
        )
    if input.numel() == 0:
        return input
    shape = tuple(input.shape)
    # The channel-window mean of x^2 as an average pool over (N, 1, C, rest) with a (size, 1)
    # window, as PyTorch composes it (its 3-D pool on (N, 1, C, H, W*...) is the same sum).
    div = ops.reshape(ops.mul(input, input), (shape[0], 1, shape[1], -1))
    div = pad(div, (0, 0, size // 2, (size - 1) // 2))
    div = ops.reshape(avg_pool2d(div, (size, 1), stride=1), shape)
    return ops.div(input, ops.pow(ops.add(ops.mul(div, alpha), k), beta))


def multilabel_margin_loss(
    input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean"
) -> Tensor:
    """sum_(j in labels) sum_(i not a label) max(0, 1 - (x_(y_j) - x_i)) / C per sample: every
    label should score a margin of 1 above every non-label. ``target`` holds the label indices
    first, ended by the first -1 (the rest is ignored).

    Shape: input (C,) or (N, C); target of the same shape, int64 -> () or (N,) with 'none'.

    Example:
        >>> x = chainrule.tensor([[0.1, 0.2, 0.4, 0.8]])
        >>> F.multilabel_margin_loss(x, chainrule.tensor([[3, 0, -1, 1]]))
        tensor(0.8500)
    """
    op = "multilabel_margin_loss"
    reduction = _loss_setup(size_average, reduce, reduction, op)
    _nn._float_input(input, op)
    if input.ndim not in (1, 2) or tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(
            f"{op}: expected input (C,) or (N, C) and a target of the same shape, got input "
            f"{tuple(input.shape)} and target {tuple(target.shape)}"
        )
    t = target.data
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected int64 (long) label indices, got dtype {t.dtype}")
    c = input.shape[-1]
    if t.size and bool(((t < -1) | (t >= c)).any()):
        raise RuntimeError(
            f"{op}: target values must be in [-1, {c - 1}] for {c} classes (-1 ends the "
            f"labels), got {int(t[(t < -1) | (t >= c)].ravel()[0])}"
        )
    xp = input._device.xp
    x = input if input.ndim == 2 else ops.unsqueeze(input, 0)
    t = t.reshape(x.shape)
    labels = xp.cumprod(t != -1, axis=1).astype(bool)  # the entries before the first -1
    t = xp.where(labels, t, 0)
    is_label = ((t[:, :, None] == xp.arange(c)) & labels[:, :, None]).any(axis=1)  # (N, C)
    x_label = ops.gather(x, 1, Tensor._make(t, x._device))  # (N, J): x at each label
    hinge = ops.clamp(ops.add(ops.sub(ops.unsqueeze(x, 1), ops.unsqueeze(x_label, 2)), 1.0), min=0)
    pairs = (labels[:, :, None] & ~is_label[:, None, :]).astype(x.data.dtype)  # (N, J, I)
    loss = ops.div(ops.sum(ops.mul(hinge, Tensor._make(pairs, x._device)), (1, 2)), c)
    if input.ndim == 1:
        loss = ops.squeeze(loss, 0)
    return _reduce(loss, reduction)


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function=None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin) with any distance d (default pairwise_distance);
    ``swap`` uses min(d(a, n), d(p, n)).

    Example:
        >>> a, p, n = chainrule.zeros(2, 3), chainrule.zeros(2, 3), chainrule.ones(2, 3)
        >>> F.triplet_margin_with_distance_loss(a, p, n, margin=2.0)
        tensor(0.2680)
    """
    op = "triplet_margin_with_distance_loss"
    _nn.check_reduction(reduction, op)
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(
            f"{op}: anchor, positive and negative must have the same number of dims, got "
            f"{anchor.ndim}D, {positive.ndim}D and {negative.ndim}D"
        )
    return _triplet_loss(
        anchor, positive, negative, distance_function or pairwise_distance, margin, swap, reduction
    )


__all__ += [
    "embedding_bag",
    "bilinear",
    "gumbel_softmax",
    "relu_",
    "elu_",
    "leaky_relu_",
    "hardtanh_",
    "selu_",
    "celu_",
    "threshold_",
    "rrelu",
    "rrelu_",
    "pdist",
    "local_response_norm",
    "multilabel_margin_loss",
    "triplet_margin_with_distance_loss",
]


def ctc_loss(
    log_probs: Tensor,
    targets,
    input_lengths,
    target_lengths,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    """The CTC loss of label sequences given per-frame log-probabilities, summed over every
    alignment (see ``chainrule.ops.nn.CTCLoss``).

    Args:
        log_probs: (T, N, C) log-probabilities (log_softmax over C), or (T, C) unbatched.
        targets: (N, S) padded label indices, or 1-D, all targets concatenated.
        input_lengths, target_lengths: (N,) frames and labels used per sequence.
        blank: the blank label. reduction: 'none' | 'mean' (each loss divided by its target
        length, then averaged) | 'sum'. zero_infinity: impossible alignments give 0, not inf.
    """
    _nn.check_reduction(reduction, "ctc_loss")
    xp = log_probs._device.xp
    unbatched = log_probs.ndim == 2
    lp = ops.unsqueeze(log_probs, 1) if unbatched else log_probs
    if lp.ndim != 3:
        raise RuntimeError(f"ctc_loss: expected log_probs (T, N, C), got {tuple(log_probs.shape)}")
    T, N, C = lp.shape

    def ints(v, what):
        a = v.data if isinstance(v, Tensor) else xp.asarray(v)
        a = xp.asarray(a).reshape(-1).astype(xp.int64)
        if a.shape[0] != N:
            raise RuntimeError(f"ctc_loss: expected {N} {what}, got {a.shape[0]}")
        return a

    il, tl = ints(input_lengths, "input_lengths"), ints(target_lengths, "target_lengths")
    if bool((il > T).any()) or bool((il < 1).any()):
        raise RuntimeError(f"ctc_loss: input_lengths must be in [1, {T}], got {il.tolist()}")
    tg = targets.data if isinstance(targets, Tensor) else xp.asarray(targets)
    if unbatched:
        tg = tg.reshape(1, -1)
    S = int(tl.max()) if N else 0
    padded = xp.full((N, S), blank, dtype=xp.int64)
    if tg.ndim == 1:
        offsets = xp.concatenate([xp.zeros(1, dtype=xp.int64), xp.cumsum(tl)])
        for n in range(N):
            padded[n, : int(tl[n])] = tg[int(offsets[n]) : int(offsets[n + 1])]
    else:
        if bool((tl > tg.shape[1]).any()):
            raise RuntimeError("ctc_loss: a target length exceeds the targets' second dimension")
        for n in range(N):
            padded[n, : int(tl[n])] = tg[n, : int(tl[n])]
    ext = xp.full((N, 2 * S + 1), blank, dtype=xp.int64)
    ext[:, 1::2] = padded
    pos = xp.arange(2 * S + 1)
    prev2 = xp.concatenate([xp.full((N, 2), blank, dtype=xp.int64), ext[:, :-2]], axis=1)
    skip = (pos % 2 == 1) & (pos >= 2) & (ext != prev2)
    nll = _nn.CTCLoss.apply(lp, ext, skip, il, tl, zero_infinity=bool(zero_infinity))
    if reduction == "none":
        return ops.squeeze(nll, 0) if unbatched else nll
    if reduction == "sum":
        return ops.sum(nll)
    divisor = Tensor._make(xp.maximum(tl, 1).astype(lp.data.dtype), lp._device)
    return ops.mean(ops.div(nll, divisor))


__all__ += ["ctc_loss"]
