"""The multilayer perceptron: Linear layers with a nonlinearity between each pair."""

from __future__ import annotations

import copy

from chainrule import nn

# Activation names accepted by MLP, mapped to the nn module that implements them.
_ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "leakyrelu": nn.LeakyReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "celu": nn.CELU,
    "silu": nn.SiLU,
    "swish": nn.SiLU,
    "mish": nn.Mish,
    "softplus": nn.Softplus,
    "softsign": nn.Softsign,
    "relu6": nn.ReLU6,
    "hardtanh": nn.Hardtanh,
    "hardswish": nn.Hardswish,
    "hardsigmoid": nn.Hardsigmoid,
    "logsigmoid": nn.LogSigmoid,
    "identity": nn.Identity,
    "linear": nn.Identity,
}


def _make_activation(spec) -> nn.Module:
    """A fresh activation Module from a name, a Module class, a factory or a Module."""
    if isinstance(spec, str):
        key = spec.lower()
        if key == "softmax":
            return nn.Softmax(dim=-1)
        if key == "log_softmax":
            return nn.LogSoftmax(dim=-1)
        if key not in _ACTIVATIONS:
            names = ", ".join(sorted(_ACTIVATIONS) + ["softmax", "log_softmax"])
            raise ValueError(f"unknown activation {spec!r}; choose one of: {names}")
        return _ACTIVATIONS[key]()
    if isinstance(spec, nn.Module):
        return copy.deepcopy(spec)  # one instance per layer (PReLU has parameters)
    if callable(spec):
        module = spec()
        if not isinstance(module, nn.Module):
            raise TypeError(f"activation factory {spec!r} returned {type(module).__name__}")
        return module
    raise TypeError(f"activation must be a name, a Module class or a Module, got {spec!r}")


class MLP(nn.Module):
    """A multilayer perceptron: h_{k+1} = act(Linear_k(h_k)), the output layer left linear.

    Each hidden layer is ``Linear -> [BatchNorm1d] -> activation -> [Dropout]``; the last
    Linear is followed only by ``output_activation`` (if given).

    Args:
        sizes: layer widths including input and output, e.g. ``[2, 16, 16, 1]``.
        activation: a name (``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"leaky_relu"``, ...),
            an nn Module class (``nn.GELU``), or a Module instance (copied for each layer).
        output_activation: same choices, or None for raw outputs (logits).
        dropout: dropout probability after each hidden activation (0 disables).
        batch_norm: put a BatchNorm1d between each hidden Linear and its activation.

    Shape: input (N, sizes[0]) -> output (N, sizes[-1]).

    Example:
        >>> mlp = MLP([2, 8, 1], activation="tanh")
        >>> mlp(chainrule.randn(5, 2)).shape
        chainrule.Size([5, 1])
    """

    def __init__(
        self,
        sizes,
        activation="relu",
        output_activation=None,
        dropout: float = 0.0,
        batch_norm: bool = False,
    ):
        super().__init__()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"MLP needs at least an input and an output size, got {sizes}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.sizes = sizes
        layers: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(fan_in, fan_out))
            if i < len(sizes) - 2:  # hidden layer
                if batch_norm:
                    layers.append(nn.BatchNorm1d(fan_out))
                layers.append(_make_activation(activation))
                if dropout > 0:
                    layers.append(nn.Dropout(dropout))
        if output_activation is not None:
            layers.append(_make_activation(output_activation))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x)

    def hidden(self, x, layer: int = -1):
        """The activations after hidden layer ``layer`` (default: the last hidden layer)."""
        n_hidden = len(self.sizes) - 2
        if n_hidden == 0:
            raise ValueError("this MLP has no hidden layer")
        index = layer % n_hidden
        seen = -1
        for module in self.layers:
            x = module(x)
            if not isinstance(module, nn.Linear | nn.BatchNorm1d | nn.Dropout):
                seen += 1  # an activation closes a hidden layer
                if seen == index:
                    return x
        raise AssertionError("unreachable")
