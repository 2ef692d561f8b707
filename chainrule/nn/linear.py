"""Linear layers: Identity, Linear (y = x W^T + b), Bilinear (y = x1^T A x2 + b)."""

from __future__ import annotations

import math

from chainrule import ops
from chainrule.creation import empty
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module, Parameter


class Identity(Module):
    """Returns its input unchanged (a placeholder layer)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Linear(Module):
    """y = x W^T + b, the fully connected layer.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias b (default True).

    Shape: input (*, in_features) -> output (*, out_features).
    Init (PyTorch's): W ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform_ with a=sqrt(5)),
    b ~ U(-1/sqrt(in), 1/sqrt(in)).

    Example:
        >>> layer = nn.Linear(3, 4)
        >>> layer(chainrule.randn(2, 3)).shape
        chainrule.Size([2, 4])
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None
    ):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise RuntimeError(
                f"{self!r}: expected input of shape (*, {self.in_features}), got {tuple(x.shape)}"
            )
        return ops.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Bilinear(Module):
    """y_k = x1^T A_k x2 + b_k: a multiplicative ("quadratic") layer.

    Each output is a bilinear form of the two inputs, so products of input features are
    learned directly (a gate of one input by the other).

    Shape: x1 (*, in1_features), x2 (*, in2_features) -> (*, out_features).
    Init: A and b ~ U(-1/sqrt(in1_features), 1/sqrt(in1_features)), as PyTorch.
    """

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        self.weight = Parameter(
            empty(out_features, in1_features, in2_features, device=device, dtype=dtype)
        )
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x1, x2):
        for x, n, name in ((x1, self.in1_features, "input1"), (x2, self.in2_features, "input2")):
            if x.ndim == 0 or x.shape[-1] != n:
                raise RuntimeError(
                    f"{self!r}: expected {name} of shape (*, {n}), got {tuple(x.shape)}"
                )
        return F.bilinear(x1, x2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split one dim into several: Unflatten(1, (C, H, W)) maps (N, C*H*W) -> (N, C, H, W)."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        return x.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
