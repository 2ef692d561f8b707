"""Activation layers: Module wrappers of ``chainrule.nn.functional``'s activations.

A nonlinearity between two linear layers is what lets a network represent more than one
linear map: without it, ``Linear(Linear(x))`` is still linear. Each module here holds only its
options (PReLU also its learnable slopes) and calls the functional version in ``forward``;
``repr`` prints the options exactly as PyTorch does.

``inplace=True`` is accepted wherever PyTorch accepts it, and ignored: chainrule always returns
a new tensor (the result is the same; only the memory reuse differs).

Example:
    >>> act = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    >>> act(chainrule.ones(4, 2)).shape
    chainrule.Size([4, 1])
"""

from __future__ import annotations

import warnings

from chainrule.creation import empty
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module, Parameter

__all__ = [
    "ReLU",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "CELU",
    "SELU",
    "GELU",
    "SiLU",
    "Mish",
    "Softplus",
    "Softsign",
    "Hardtanh",
    "ReLU6",
    "Hardsigmoid",
    "Hardswish",
    "Tanhshrink",
    "Hardshrink",
    "Softshrink",
    "LogSigmoid",
    "Sigmoid",
    "Tanh",
    "Threshold",
    "RReLU",
    "GLU",
    "Softmax",
    "Softmin",
    "LogSoftmax",
]


def _inplace_str(inplace: bool, lead: str = ", ") -> str:
    return f"{lead}inplace=True" if inplace else ""


class _InplaceActivation(Module):
    """An activation with only an (ignored) ``inplace`` flag; repr ``Name(inplace=True)``."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return _inplace_str(self.inplace, "")


class ReLU(_InplaceActivation):
    """max(x, 0): the default hidden activation (gradient 1 for x > 0, 0 otherwise).

    Args:
        inplace: accepted for PyTorch compatibility, ignored.

    Shape: input (*) -> output (*), the same shape.

    Example:
        >>> nn.ReLU()(chainrule.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    def forward(self, input):
        return F.relu(input)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x: a small slope keeps negative units learning.

    Args:
        negative_slope: the slope for x <= 0 (default 0.01).
        inplace: ignored.

    Shape: input (*) -> output (*).

    Example:
        >>> nn.LeakyReLU(0.1)(chainrule.tensor([-2.0, 3.0]))
        tensor([-0.2000,  3.0000])
    """

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}{_inplace_str(self.inplace)}"


class PReLU(Module):
    """x if x > 0 else a * x with learnable slopes a: one shared (num_parameters=1) or one per
    channel (dim 1 of the input, num_parameters=C).

    Args:
        num_parameters: 1 or the number of input channels.
        init: the initial slope (default 0.25).

    Shape: input (*) with one parameter, (N, C, *) with C; output the same shape.
    Parameters: ``weight`` of shape (num_parameters,), initialised to ``init``.

    Example:
        >>> nn.PReLU()(chainrule.tensor([-4.0, 1.0]))
        tensor([-1.,  1.], grad_fn=<WhereBackward>)
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """x if x > 0 else alpha (e^x - 1): smooth, saturating at -alpha for very negative x.

    Args:
        alpha: the negative saturation value (default 1.0).
        inplace: ignored.

    Example:
        >>> nn.ELU()(chainrule.tensor([-1.0, 1.0]))
        tensor([-0.6321,  1.0000])
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_str(self.inplace)}"


class CELU(ELU):
    """x if x > 0 else alpha (e^(x/alpha) - 1): ELU made continuously differentiable in alpha.

    Example:
        >>> nn.CELU(2.0)(chainrule.tensor([-1.0, 1.0]))
        tensor([-0.7869,  1.0000])
    """

    def forward(self, input):
        return F.celu(input, self.alpha)


class SELU(_InplaceActivation):
    """scale (x if x > 0 else alpha (e^x - 1)) with scale = 1.0507, alpha = 1.6733: keeps
    activations near mean 0 and variance 1 through deep stacks (with lecun_normal_ init).

    Example:
        >>> nn.SELU()(chainrule.tensor([-1.0, 1.0]))
        tensor([-1.1113,  1.0507])
    """

    def forward(self, input):
        return F.selu(input)


class GELU(Module):
    """x Phi(x) (Phi: the standard normal CDF), the transformer activation.

    Args:
        approximate: 'none' (exact, erf) or 'tanh' (the tanh approximation).

    Example:
        >>> nn.GELU()(chainrule.tensor([-1.0, 0.0, 1.0]))
        tensor([-0.1587,  0.0000,  0.8413])
    """

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(_InplaceActivation):
    """x * sigmoid(x) (swish).

    Example:
        >>> nn.SiLU()(chainrule.tensor([0.0, 1.0]))
        tensor([0.0000, 0.7311])
    """

    def forward(self, input):
        return F.silu(input)


class Mish(_InplaceActivation):
    """x * tanh(softplus(x)).

    Example:
        >>> nn.Mish()(chainrule.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8651])
    """

    def forward(self, input):
        return F.mish(input)


class Softplus(Module):
    """log(1 + e^(beta x)) / beta, the identity where beta x > threshold: a smooth relu.

    Args:
        beta: sharpness (default 1).
        threshold: above it (in beta x) the function is x itself (default 20).

    Example:
        >>> nn.Softplus()(chainrule.tensor([0.0, 30.0]))
        tensor([ 0.6931, 30.0000])
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softsign(Module):
    """x / (1 + |x|).

    Example:
        >>> nn.Softsign()(chainrule.tensor([-3.0, 1.0]))
        tensor([-0.7500,  0.5000])
    """

    def forward(self, input):
        return F.softsign(input)


class Hardtanh(Module):
    """min(max(x, min_val), max_val): a linear ramp clipped to [min_val, max_val].

    Args:
        min_val, max_val: the bounds (default -1, 1).
        inplace: ignored.
        min_value, max_value: deprecated spellings of min_val, max_val.

    Example:
        >>> nn.Hardtanh()(chainrule.tensor([-2.0, 0.5, 2.0]))
        tensor([-1.0000,  0.5000,  1.0000])
    """

    def __init__(
        self,
        min_val: float = -1.0,
        max_val: float = 1.0,
        inplace: bool = False,
        min_value: float | None = None,
        max_value: float | None = None,
    ):
        super().__init__()
        if min_value is not None:
            warnings.warn(
                "keyword argument `min_value` is deprecated and rename to `min_val`",
                FutureWarning,
                stacklevel=2,
            )
            min_val = min_value
        if max_value is not None:
            warnings.warn(
                "keyword argument `max_value` is deprecated and rename to `max_val`",
                FutureWarning,
                stacklevel=2,
            )
            max_val = max_value
        if not max_val > min_val:
            raise ValueError(
                f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})"
            )
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_str(self.inplace)}"


class ReLU6(Hardtanh):
    """min(max(x, 0), 6) (Hardtanh(0, 6)).

    Example:
        >>> nn.ReLU6()(chainrule.tensor([-1.0, 3.0, 7.0]))
        tensor([0., 3., 6.])
    """

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return _inplace_str(self.inplace, "")


class Hardsigmoid(Module):
    """relu6(x + 3) / 6: a piecewise-linear sigmoid.

    Example:
        >>> nn.Hardsigmoid()(chainrule.tensor([-4.0, 0.0, 4.0]))
        tensor([0.0000, 0.5000, 1.0000])
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.hardsigmoid(input)


class Hardswish(Hardsigmoid):
    """x * relu6(x + 3) / 6 (MobileNetV3).

    Example:
        >>> nn.Hardswish()(chainrule.tensor([-4.0, 1.0, 4.0]))
        tensor([-0.0000,  0.6667,  4.0000])
    """

    def forward(self, input):
        return F.hardswish(input)


class Tanhshrink(Module):
    """x - tanh(x).

    Example:
        >>> nn.Tanhshrink()(chainrule.tensor([1.0]))
        tensor([0.2384])
    """

    def forward(self, input):
        return F.tanhshrink(input)


class Hardshrink(Module):
    """x where |x| > lambd, else 0.

    Args:
        lambd: the threshold (default 0.5).

    Example:
        >>> nn.Hardshrink()(chainrule.tensor([-1.0, 0.2, 0.7]))
        tensor([-1.0000,  0.0000,  0.7000])
    """

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """x - clamp(x, -lambd, lambd): shrinks towards 0 by lambd.

    Example:
        >>> nn.Softshrink()(chainrule.tensor([-1.0, 0.2, 0.7]))
        tensor([-0.5000,  0.0000,  0.2000])
    """

    def forward(self, input):
        return F.softshrink(input, self.lambd)


class LogSigmoid(Module):
    """log sigmoid(x), exact for large |x|.

    Example:
        >>> nn.LogSigmoid()(chainrule.tensor([0.0]))
        tensor([-0.6931])
    """

    def forward(self, input):
        return F.logsigmoid(input)


class Sigmoid(Module):
    """1 / (1 + e^-x): squashes to (0, 1).

    Example:
        >>> nn.Sigmoid()(chainrule.tensor([0.0]))
        tensor([0.5000])
    """

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(x): squashes to (-1, 1), zero-centred.

    Example:
        >>> nn.Tanh()(chainrule.tensor([0.0]))
        tensor([0.])
    """

    def forward(self, input):
        return F.tanh(input)


class Threshold(Module):
    """x where x > threshold, else value.

    Args:
        threshold: the cut-off.
        value: what replaces x at or below it.
        inplace: ignored.

    Example:
        >>> nn.Threshold(1.0, -1.0)(chainrule.tensor([0.5, 2.0]))
        tensor([-1.,  2.])
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}{_inplace_str(self.inplace)}"


class RReLU(Module):
    """Randomized leaky ReLU: x for x > 0, else a x. In training a ~ U(lower, upper) is drawn
    for each element (a regulariser; the gradient uses the same slopes); in evaluation a is
    the mean slope (lower + upper) / 2.

    Args:
        lower: the smallest slope (default 1/8).
        upper: the largest slope (default 1/3).
        inplace: ignored.

    Shape: input (*) -> output (*).

    Example:
        >>> nn.RReLU(0.1, 0.3).eval()(chainrule.tensor([-2.0, 3.0]))
        tensor([-0.4000,  3.0000])
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}{_inplace_str(self.inplace)}"


class GLU(Module):
    """Gated linear unit: a * sigmoid(b), with a, b the two halves of the input along ``dim``.

    Args:
        dim: the dimension split in two (default -1).

    Shape: input (*, 2H, *) -> output (*, H, *).

    Example:
        >>> nn.GLU()(chainrule.tensor([1.0, 2.0, 0.0, 0.0]))
        tensor([0.5000, 1.0000])
    """

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class _SoftmaxBase(Module):
    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_SoftmaxBase):
    """e^(x_i) / sum_j e^(x_j) along ``dim``: turns scores into probabilities.

    Args:
        dim: the dimension that sums to 1 (None: PyTorch's deprecated implicit choice).

    Example:
        >>> nn.Softmax(dim=0)(chainrule.tensor([1.0, 1.0]))
        tensor([0.5000, 0.5000])
    """

    def forward(self, input):
        return F.softmax(input, self.dim)


class Softmin(_SoftmaxBase):
    """softmax(-x) along ``dim``.

    Example:
        >>> nn.Softmin(dim=0)(chainrule.tensor([0.0, 0.0]))
        tensor([0.5000, 0.5000])
    """

    def forward(self, input):
        return F.softmin(input, self.dim)


class LogSoftmax(_SoftmaxBase):
    """x_i - log sum_j e^(x_j) along ``dim`` (pair it with NLLLoss).

    Example:
        >>> nn.LogSoftmax(dim=0)(chainrule.tensor([0.0, 0.0]))
        tensor([-0.6931, -0.6931])
    """

    def forward(self, input):
        return F.log_softmax(input, self.dim)
