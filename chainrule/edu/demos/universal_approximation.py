"""One hidden layer approximates a continuous function better and better as it widens.

The universal approximation theorem says a wide enough single hidden layer can get
arbitrarily close to any continuous function on a bounded interval. With ReLU units the
picture is concrete: each unit adds one kink, so a width-n layer draws a piecewise-linear
curve with at most n + 1 pieces, and more pieces hug sin(3x) more closely.
"""

from __future__ import annotations

import numpy as np

import chainrule
import chainrule.nn.functional as F
from chainrule import optim
from chainrule.edu.demos._common import (
    Evidence,
    finish,
    new_figure,
    save_figure,
    seed,
    to_tensor,
    train_full_batch,
)
from chainrule.models import MLP

CLAIM = "the fitting error of a one-hidden-layer net falls as the layer gets wider"
FREQUENCY = 3  # target sin(3x): three periods on [-pi, pi], enough to need many pieces


def run(fast: bool = False, out_dir=None) -> Evidence:
    seed(0)
    widths = [1, 2, 4, 8, 32]
    steps = 400 if fast else 3000
    x = np.linspace(-np.pi, np.pi, 200).reshape(-1, 1)
    y = np.sin(FREQUENCY * x)
    X, Y = to_tensor(x), to_tensor(y)

    errors, fits = [], []
    for width in widths:
        chainrule.manual_seed(0)
        model = MLP([1, width, 1], activation="relu")
        opt = optim.Adam(model.parameters(), lr=0.02)
        train_full_batch(model, lambda m: F.mse_loss(m(X), Y), steps, opt)
        with chainrule.no_grad():
            pred = model(X).numpy().reshape(-1)
        errors.append(float(np.mean((pred - y.reshape(-1)) ** 2)))
        fits.append(pred)

    # "Falls": never rises by more than 5% from one width to the next (training noise), and
    # the widest layer is at least 10x better than a single unit.
    non_increasing = all(b <= 1.05 * a for a, b in zip(errors, errors[1:]))
    holds = non_increasing and errors[-1] < errors[0] / 10
    rows = [[w, 3 * w + 1, e] for w, e in zip(widths, errors)]

    fig, axes = new_figure(1, 2, width=5)
    ax = axes[0, 0]
    ax.plot(x, y, "k", lw=3, alpha=0.3, label=f"sin({FREQUENCY}x)")
    for width, pred in zip(widths, fits):
        ax.plot(x, pred, label=f"width {width}")
    ax.set(xlabel="x", title="one hidden ReLU layer of growing width")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    ax.loglog(widths, errors, "o-")
    ax.set(xlabel="hidden width", ylabel="mean squared error", title="error vs width")
    figure = save_figure(fig, out_dir, "universal_approximation.png")

    return finish(
        Evidence(
            name="universal-approximation",
            claim=CLAIM,
            claim_holds=bool(holds),
            numbers={"widths": widths, "errors": errors, "steps": steps},
            headers=["width", "parameters", "MSE"],
            rows=rows,
            figures=[figure],
        )
    )
