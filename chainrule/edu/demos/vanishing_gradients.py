"""Gradients vanish through a deep stack of sigmoids.

Backprop multiplies, layer by layer, by W^T and by the activation's derivative. The sigmoid's
derivative is at most 1/4, so even with weights scaled to keep the forward signal steady
(Xavier init) the gradient shrinks by roughly 4x per layer: after 20 layers the first layer
learns ~10^-11 as fast as the last. ReLU's derivative is 1 on active units, and with He init
the gradient norm stays about the same in every layer; tanh (derivative 1 at 0) sits between.
"""

from __future__ import annotations

import numpy as np

import chainrule
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.edu.demos._common import Evidence, finish, new_figure, save_figure, seed, to_tensor
from chainrule.models import MLP

CLAIM = (
    "at initialisation a 20-layer sigmoid net's first-layer gradient is >= 100x smaller "
    "than its last layer's; a ReLU net's is not"
)

# activation -> (init, its standard gain): the forward signal is kept steady in each case
SETUPS = {
    "sigmoid": ("xavier", 1.0),
    "tanh": ("xavier", 5.0 / 3.0),
    "relu": ("he", None),
}


def layer_gradient_norms(activation: str, depth: int, width: int, X, Y) -> list[float]:
    """Frobenius norm of dLoss/dW for each Linear layer, first to last, at initialisation."""
    chainrule.manual_seed(0)
    model = MLP([X.shape[1]] + [width] * depth + [Y.shape[1]], activation=activation)
    linears = [m for m in model.layers if isinstance(m, nn.Linear)]
    scheme, gain = SETUPS[activation]
    for layer in linears:
        if scheme == "xavier":
            nn.init.xavier_normal_(layer.weight, gain=gain)
        else:
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        nn.init.zeros_(layer.bias)
    F.mse_loss(model(X), Y).backward()
    return [float(np.linalg.norm(layer.weight.grad.numpy())) for layer in linears]


def run(fast: bool = False, out_dir=None) -> Evidence:
    rng = seed(0)
    depth = 20
    width, batch = (32, 64) if fast else (64, 256)
    X = to_tensor(rng.normal(size=(batch, width)))
    Y = to_tensor(rng.normal(size=(batch, 1)))

    norms = {act: layer_gradient_norms(act, depth, width, X, Y) for act in SETUPS}
    # Compare the first and the last hidden layer (both width x width; the readout's weight
    # matrix has a different shape, so its norm is not comparable).
    ratios = {act: n[depth - 1] / n[0] for act, n in norms.items()}
    holds = ratios["sigmoid"] >= 100 and ratios["relu"] < 10
    rows = [
        [act, SETUPS[act][0], n[0], n[depth // 2], n[depth - 1], ratios[act]]
        for act, n in norms.items()
    ]

    fig, axes = new_figure(1, 1, width=6)
    ax = axes[0, 0]
    for act, n in norms.items():
        ax.semilogy(range(1, len(n) + 1), n, "o-", label=act)
    ax.set(
        xlabel="layer (1 = nearest the input)",
        ylabel="||dL/dW||",
        title=f"gradient norm per layer at init, {depth} hidden layers",
    )
    ax.legend()
    figure = save_figure(fig, out_dir, "vanishing_gradients.png")

    return finish(
        Evidence(
            name="vanishing-gradients",
            claim=CLAIM,
            claim_holds=bool(holds),
            numbers={
                "depth": depth,
                "norms": norms,
                "last_over_first": ratios,
            },
            headers=[
                "activation",
                "init",
                "layer 1",
                f"layer {depth // 2 + 1}",
                f"layer {depth}",
                f"layer {depth} / layer 1",
            ],
            rows=rows,
            figures=[figure],
        )
    )
