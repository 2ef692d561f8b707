"""MSE on a sigmoid output stops learning exactly when it is most wrong; cross-entropy doesn't.

With p = sigmoid(z) and target 1:
    MSE  L = (p - 1)^2          dL/dz = 2 (p - 1) p (1 - p)   -> ~0 when z << 0 (saturated)
    BCE  L = -log p             dL/dz = p - 1                 -> ~-1 when z << 0
The sigmoid's derivative p (1 - p) multiplies MSE's gradient; cross-entropy's log cancels it.
"""

from __future__ import annotations

import numpy as np

import chainrule
import chainrule.nn.functional as F
from chainrule.edu.demos._common import Evidence, finish, new_figure, save_figure, seed

CLAIM = (
    "for a confidently wrong sigmoid output (logit -10, target 1) MSE's gradient w.r.t. the "
    "logit is tiny (~sigmoid'(z)) while cross-entropy's is ~1"
)


def logit_gradients(z: float) -> tuple[float, float]:
    """(dMSE/dz, dBCE/dz) at logit z with target 1, both by autograd."""
    target = chainrule.tensor([1.0])
    grads = []
    for loss_fn in (
        lambda t: F.mse_loss(chainrule.sigmoid(t), target),
        lambda t: F.binary_cross_entropy_with_logits(t, target),
    ):
        logit = chainrule.tensor([z], requires_grad=True)
        loss_fn(logit).backward()
        grads.append(float(logit.grad.numpy()[0]))
    return grads[0], grads[1]


def run(fast: bool = False, out_dir=None) -> Evidence:
    seed(0)
    logits = [-10.0, -5.0, -2.0, 0.0, 2.0, 5.0]
    rows, mse, bce = [], {}, {}
    for z in logits:
        g_mse, g_bce = logit_gradients(z)
        mse[z], bce[z] = g_mse, g_bce
        p = 1 / (1 + np.exp(-z))
        rows.append([z, p, g_mse, g_bce, abs(g_bce) / max(abs(g_mse), 1e-30)])
    z0 = -10.0
    sigmoid_prime = float(np.exp(z0) / (1 + np.exp(z0)) ** 2)
    holds = abs(mse[z0]) < 1e-3 and abs(bce[z0]) > 0.99 and abs(bce[z0]) / abs(mse[z0]) > 1000

    zs = np.linspace(-10, 10, 201)
    grads = np.array([logit_gradients(float(z)) for z in zs[:: 4 if fast else 1]])
    fig, axes = new_figure(1, 1, width=6)
    ax = axes[0, 0]
    ax.semilogy(zs[:: 4 if fast else 1], np.abs(grads[:, 0]), label="MSE on sigmoid")
    ax.semilogy(zs[:: 4 if fast else 1], np.abs(grads[:, 1]), label="binary cross-entropy")
    ax.set(xlabel="logit z (target 1)", ylabel="|dL/dz|", title="gradient reaching the logit")
    ax.legend()
    figure = save_figure(fig, out_dir, "loss_functions.png")

    return finish(
        Evidence(
            name="loss-functions",
            claim=CLAIM,
            claim_holds=bool(holds),
            numbers={
                "mse_grad": mse[z0],
                "bce_grad": bce[z0],
                "sigmoid_prime": sigmoid_prime,
                "mse_grads": mse,
                "bce_grads": bce,
            },
            headers=["logit z", "p = sigmoid(z)", "dMSE/dz", "dBCE/dz", "|BCE| / |MSE|"],
            rows=rows,
            figures=[figure],
        )
    )
