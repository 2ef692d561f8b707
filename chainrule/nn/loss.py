"""Loss layers: Module wrappers of ``chainrule.nn.functional``'s losses, with PyTorch's names,
arguments and buffers (``weight``, ``pos_weight``).

A loss module holds its options; calling it with ``(input, target)`` returns a Tensor (a
scalar unless ``reduction='none'``) that you ``backward()``. ``reduction`` is 'mean'
(default), 'sum' or 'none'; the deprecated ``size_average``/``reduce`` flags map onto it as in
PyTorch, with its warning.

Blending losses needs nothing special: a loss is a Tensor, so a weighted sum of losses is
tensor arithmetic, and backward sends each term's share of the gradient to its own inputs.

Example (a classifier with an auxiliary regression head):
    >>> _ = chainrule.manual_seed(0)
    >>> ce, mse = nn.CrossEntropyLoss(), nn.MSELoss()
    >>> logits = chainrule.randn(4, 3, requires_grad=True)
    >>> pred = chainrule.randn(4, 2, requires_grad=True)
    >>> y, target = chainrule.tensor([0, 2, 1, 0]), chainrule.zeros(4, 2)
    >>> loss = 0.7 * ce(logits, y) + 0.3 * mse(pred, target)
    >>> loss.backward()
    >>> logits.grad.shape, pred.grad.shape
    (chainrule.Size([4, 3]), chainrule.Size([4, 2]))
    >>> abs(loss.item() - (0.7 * ce(logits, y).item() + 0.3 * mse(pred, target).item())) < 1e-6
    True
"""

from __future__ import annotations

import warnings

from chainrule.nn import functional as F
from chainrule.nn.module import Module
from chainrule.tensor import Tensor, tensor

__all__ = [
    "L1Loss",
    "MSELoss",
    "SmoothL1Loss",
    "HuberLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "NLLLoss",
    "KLDivLoss",
    "CosineEmbeddingLoss",
]


def _legacy_get_string(size_average, reduce) -> str:
    """PyTorch's mapping of the deprecated flags: both True (default) -> 'mean',
    reduce only -> 'sum', reduce=False -> 'none'."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if (size_average and reduce) else ("sum" if reduce else "none")
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
        stacklevel=4,
    )
    return ret


def _as_buffer(value):
    if value is None or isinstance(value, Tensor):
        return value
    return tensor(value)


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _legacy_get_string(size_average, reduce)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(
        self, weight: Tensor | None = None, size_average=None, reduce=None, reduction: str = "mean"
    ):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_buffer(weight))


class L1Loss(_Loss):
    """|x - y|, reduced: the mean absolute error (robust to outliers; gradient +-1).

    Shape: input (*), target the same shape; output a scalar, or (*) with reduction='none'.

    Example:
        >>> nn.L1Loss()(chainrule.tensor([1.0, -2.0]), chainrule.tensor([0.0, 0.0]))
        tensor(1.5000)
    """

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """(x - y)^2, reduced: the mean squared error (regression).

    Shape: input (*), target the same shape; output a scalar, or (*) with reduction='none'.

    Example:
        >>> nn.MSELoss()(chainrule.tensor([1.0, 2.0]), chainrule.tensor([0.0, 0.0]))
        tensor(2.5000)
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = x - y): squared near 0,
    absolute far away.

    Args:
        reduction: 'none' | 'mean' | 'sum'.
        beta: where the quadratic part ends (default 1.0; 0 gives L1Loss).

    Example:
        >>> nn.SmoothL1Loss()(chainrule.tensor([0.5, 3.0]), chainrule.tensor([0.0, 0.0]))
        tensor(1.3125)
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta) (d = x - y).

    Args:
        reduction: 'none' | 'mean' | 'sum'.
        delta: where the quadratic part ends (default 1.0).

    Example:
        >>> nn.HuberLoss()(chainrule.tensor([0.5, 3.0]), chainrule.tensor([0.0, 0.0]))
        tensor(1.3125)
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_WeightedLoss):
    """-w [y log x + (1 - y) log(1 - x)] for probabilities x (each log clamped at -100).
    Prefer BCEWithLogitsLoss on logits: it is stable where sigmoid saturates.

    Args:
        weight: rescales each element (broadcast to the input; a buffer).
        reduction: 'none' | 'mean' | 'sum'.

    Example:
        >>> nn.BCELoss()(chainrule.tensor([0.5]), chainrule.tensor([1.0]))
        tensor(0.6931)
    """

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(x) computed from the logits x, stably:
    w [(1 - y) x + (1 + (p - 1) y) log(1 + e^-x)] (p = pos_weight).

    Args:
        weight: rescales each element (broadcast; a buffer).
        reduction: 'none' | 'mean' | 'sum'.
        pos_weight: weight of the positive term per class (broadcast along the last dim; a
            buffer): > 1 raises recall, < 1 precision.

    Example:
        >>> nn.BCEWithLogitsLoss()(chainrule.tensor([0.0]), chainrule.tensor([1.0]))
        tensor(0.6931)
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average=None,
        reduce=None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_buffer(weight))
        self.register_buffer("pos_weight", _as_buffer(pos_weight))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, pos_weight=self.pos_weight, reduction=self.reduction
        )


class CrossEntropyLoss(_WeightedLoss):
    """-sum_c q_c log softmax(x)_c: log_softmax and NLL in one stable op, for logits x.

    Args:
        weight: (C,) per-class weights (a buffer).
        ignore_index: targets equal to it are skipped (and left out of the mean's divisor).
        reduction: 'none' | 'mean' (divided by the summed weights of the targets) | 'sum'.
        label_smoothing: eps in [0, 1]: targets become (1 - eps) one_hot + eps / C.

    Shape: input (N, C), (C,) or (N, C, d1, ...); target class indices (N,), () or
    (N, d1, ...), or class probabilities of the input's shape.

    Example:
        >>> loss = nn.CrossEntropyLoss()(chainrule.tensor([[2.0, 0.0, 0.0]]), chainrule.tensor([0]))
        >>> round(loss.item(), 4)
        0.2395
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """-w_t x_t: the negative log-likelihood of the target class given log-probabilities x
    (pair it with LogSoftmax; CrossEntropyLoss does both).

    Args:
        weight: (C,) per-class weights (a buffer).
        ignore_index: targets to skip.
        reduction: 'none' | 'mean' (divided by the summed weights of the targets) | 'sum'.

    Example:
        >>> nn.NLLLoss()(chainrule.tensor([[-0.5, -1.0]]), chainrule.tensor([1]))
        tensor(1.)
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )


class KLDivLoss(_Loss):
    """KL(target || model) pointwise: y (log y - x) for log-probabilities x (e^y (y - x) with
    log_target=True). Use reduction='batchmean' for the true KL divergence.

    Args:
        reduction: 'none' | 'mean' (over all elements, with PyTorch's warning) | 'batchmean'
            | 'sum'.
        log_target: the target is given as log-probabilities.

    Example:
        >>> p = chainrule.tensor([[0.5, 0.5]])
        >>> nn.KLDivLoss(reduction="batchmean")(p.log(), p)
        tensor(0.)
    """

    def __init__(
        self, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False
    ):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class CosineEmbeddingLoss(_Loss):
    """1 - cos(x1, x2) for pairs labelled 1 (pull together), max(0, cos(x1, x2) - margin) for
    pairs labelled -1 (push apart); cos along the last dim.

    Args:
        margin: in [-1, 1] (default 0).
        reduction: 'none' | 'mean' | 'sum'.

    Shape: input1, input2 (N, D) or (D,); target (N,) or () of 1 / -1.

    Example:
        >>> x1, x2 = chainrule.tensor([[1.0, 0.0]]), chainrule.tensor([[0.0, 1.0]])
        >>> nn.CosineEmbeddingLoss()(x1, x2, chainrule.tensor([-1]))
        tensor(0.)
    """

    def __init__(
        self, margin: float = 0.0, size_average=None, reduce=None, reduction: str = "mean"
    ):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(
            input1, input2, target, margin=self.margin, reduction=self.reduction
        )


class MarginRankingLoss(_Loss):
    """max(0, -y (x1 - x2) + margin): x1 should rank above x2 where y = 1, below where -1."""

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """x where y = 1, max(0, margin - x) where y = -1 (x: a distance between a pair)."""

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """log(1 + e^(-y x)) for labels y in {-1, 1}."""

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood of counts y given rates (see F.poisson_nll_loss)."""

    def __init__(
        self,
        log_input=True,
        full=False,
        size_average=None,
        eps=1e-8,
        reduce=None,
        reduction="mean",
    ):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(
            log_input, target, self.log_input, self.full, eps=self.eps, reduction=self.reduction
        )


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood of y given a mean and a variance per element or sample."""

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
        super().__init__(None, None, reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


class TripletMarginLoss(_Loss):
    """max(0, d(a, p) - d(a, n) + margin): anchors closer to positives than to negatives."""

    def __init__(
        self,
        margin=1.0,
        p=2.0,
        eps=1e-6,
        swap=False,
        size_average=None,
        reduce=None,
        reduction="mean",
    ):
        super().__init__(size_average, reduce, reduction)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(
            anchor,
            positive,
            negative,
            self.margin,
            self.p,
            self.eps,
            self.swap,
            reduction=self.reduction,
        )


class MultiMarginLoss(_WeightedLoss):
    """The multi-class hinge loss (see F.multi_margin_loss)."""

    def __init__(
        self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return F.multi_margin_loss(
            input, target, self.p, self.margin, self.weight, reduction=self.reduction
        )


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """One logistic loss per class, averaged over the classes (multi-label targets in {0, 1})."""

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, self.weight, reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge loss (see F.multilabel_margin_loss): every label of a sample should
    score at least 1 above every non-label; targets list the labels, ended by -1."""

    def forward(self, input, target):
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """max(0, d(a, p) - d(a, n) + margin) with any distance d, a callable on two tensors
    (default: PairwiseDistance(), the Euclidean distance).

    Example:
        >>> loss = nn.TripletMarginWithDistanceLoss(
        ...     distance_function=lambda x, y: 1.0 - F.cosine_similarity(x, y))
        >>> a, p, n = chainrule.randn(4, 8), chainrule.randn(4, 8), chainrule.randn(4, 8)
        >>> loss(a, p, n).shape
        chainrule.Size([])
    """

    def __init__(
        self,
        *,
        distance_function=None,
        margin: float = 1.0,
        swap: bool = False,
        reduction: str = "mean",
    ):
        super().__init__(None, None, reduction)
        if margin <= 0:
            raise ValueError(
                f"TripletMarginWithDistanceLoss: margin must be greater than 0, got {margin}"
            )
        if distance_function is None:
            from chainrule.nn.shape import PairwiseDistance

            distance_function = PairwiseDistance()
        self.distance_function = distance_function
        self.margin, self.swap = margin, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(
            anchor,
            positive,
            negative,
            distance_function=self.distance_function,
            margin=self.margin,
            swap=self.swap,
            reduction=self.reduction,
        )


__all__ += [
    "MultiLabelMarginLoss",
    "TripletMarginWithDistanceLoss",
    "MarginRankingLoss",
    "HingeEmbeddingLoss",
    "SoftMarginLoss",
    "PoissonNLLLoss",
    "GaussianNLLLoss",
    "TripletMarginLoss",
    "MultiMarginLoss",
    "MultiLabelSoftMarginLoss",
]


class CTCLoss(_Loss):
    """Connectionist temporal classification loss (see F.ctc_loss): label sequences scored
    against per-frame log-probabilities, summed over every alignment."""

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False):
        super().__init__(None, None, reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return F.ctc_loss(
            log_probs,
            targets,
            input_lengths,
            target_lengths,
            self.blank,
            self.reduction,
            self.zero_infinity,
        )


__all__ += ["CTCLoss"]
