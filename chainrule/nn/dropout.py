"""Dropout layers: randomly silence units while training, so that no unit can rely on another.

Inverted dropout keeps each unit with probability 1 - p and scales the kept ones by 1/(1 - p):
the expected output equals the input, so evaluation (``model.eval()``) is the identity and
needs no rescaling. Masks come from chainrule's global generator (``chainrule.manual_seed``).

- ``Dropout``: one draw per element.
- ``Dropout1d`` / ``Dropout2d`` / ``Dropout3d``: one draw per (sample, channel), shared by
  all its positions (neighbouring positions of a feature map are correlated, so dropping
  single pixels does little).
- ``AlphaDropout`` / ``FeatureAlphaDropout``: for SELU networks; keeps mean 0 and variance 1.

``inplace=True`` is accepted as in PyTorch and ignored (a new tensor is returned).
"""

from __future__ import annotations

from chainrule.nn import functional as F
from chainrule.nn.module import Module

__all__ = [
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "AlphaDropout",
    "FeatureAlphaDropout",
]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability p in training and scale the rest by 1/(1 - p);
    the identity in eval mode (and for p = 0); all zeros for p = 1.

    Args:
        p: probability of zeroing an element, in [0, 1] (default 0.5).
        inplace: ignored.

    Shape: input (*) -> output (*), the same shape.

    Example:
        >>> _ = chainrule.manual_seed(0)
        >>> drop = nn.Dropout(p=0.5)
        >>> drop(chainrule.ones(4))  # kept entries become 1 / (1 - p) = 2
        tensor([2., 0., 0., 0.])
        >>> drop.eval()(chainrule.ones(4))
        tensor([1., 1., 1., 1.])
    """

    def forward(self, input):
        return F.dropout(input, self.p, self.training)


class Dropout1d(_DropoutNd):
    """Zero whole channels with probability p (one draw per sample and channel) and scale
    the rest by 1/(1 - p).

    Shape: input (N, C, L) or (C, L) -> output the same shape.

    Example:
        >>> _ = chainrule.manual_seed(0)
        >>> nn.Dropout1d(0.5)(chainrule.ones(1, 3, 2))
        tensor([[[2., 2.],
                 [0., 0.],
                 [0., 0.]]])
    """

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training)


class Dropout2d(_DropoutNd):
    """Zero whole channels (feature maps) with probability p and scale the rest by 1/(1 - p).

    Shape: input (N, C, H, W) -> output the same shape (a 3-D input is treated as
    (N, C, L), with PyTorch's warning).

    Example:
        >>> _ = chainrule.manual_seed(0)
        >>> nn.Dropout2d(0.5)(chainrule.ones(1, 2, 1, 2))
        tensor([[[[2., 2.]],
        <BLANKLINE>
                 [[0., 0.]]]])
    """

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training)


class Dropout3d(_DropoutNd):
    """Zero whole channels (3-D feature maps) with probability p and scale the rest by
    1/(1 - p).

    Shape: input (N, C, D, H, W) or (C, D, H, W) -> output the same shape.

    Example:
        >>> nn.Dropout3d(0.5).eval()(chainrule.ones(1, 2, 1, 1, 1))  # eval: the identity
        tensor([[[[[1.]]],
        <BLANKLINE>
        <BLANKLINE>
                 [[[1.]]]]])
    """

    def forward(self, input):
        return F.dropout3d(input, self.p, self.training)


class AlphaDropout(_DropoutNd):
    """Dropout that keeps SELU's self-normalisation: dropped units take SELU's negative
    saturation value -1.7581 (not 0), and an affine map a x + b restores mean 0 and
    variance 1 for inputs of mean 0 and variance 1. The identity in eval mode.

    Shape: input (*) -> output (*).

    Example:
        >>> x = chainrule.randn(100000)
        >>> y = nn.AlphaDropout(0.2)(x)
        >>> round(y.mean().item(), 1), round(y.std().item(), 1)
        (0.0, 1.0)
    """

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """AlphaDropout of whole channels: one draw per (sample, channel) of an (N, C, *) input.

    Example:
        >>> nn.FeatureAlphaDropout(0.2).eval()(chainrule.zeros(1, 2))
        tensor([[0., 0.]])
    """

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training)
