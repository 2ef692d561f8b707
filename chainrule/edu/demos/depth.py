"""Depth buys expressivity: a compositional sawtooth is cheap for a deep net, costly for a
shallow one.

The tent map T(x) = 1 - |2x - 1| on [0, 1] is exactly 2 relu(x) - 4 relu(x - 1/2): two ReLU
units. Composing it k times, T^k, gives a sawtooth with 2^k linear pieces, and a deep net
computes it exactly with k hidden layers of width 2 (6k + 1 parameters). A one-hidden-layer
ReLU net with W units draws at most W + 1 pieces, so with the same 6k + 1 parameters
(W = 2k) it cannot follow 2^k pieces, however well it is trained (Telgarsky, 2016).

Caveat, measured too: expressivity is not trainability. Gradient descent from a random init
rarely finds the deep construction for this spiky target; the table shows that row as well.
"""

from __future__ import annotations

import numpy as np

import chainrule
import chainrule.nn.functional as F
from chainrule import nn, optim
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

CLAIM = (
    "with the same parameter budget, a deep net represents the k-fold tent map exactly while "
    "a shallow net cannot fit it"
)


def tent(x: np.ndarray) -> np.ndarray:
    return 1.0 - np.abs(2.0 * x - 1.0)


def deep_tent_net(k: int) -> MLP:
    """An MLP [1, 2, ..., 2, 1] with weights set so that it computes T^k exactly on [0, 1]."""
    model = MLP([1] + [2] * k + [1], activation="relu")
    linears = [m for m in model.layers if isinstance(m, nn.Linear)]
    first = np.array([[1.0], [1.0]])  # both units see x; the second is shifted by 1/2
    shift = np.array([0.0, -0.5])
    readout = np.array([[2.0, -4.0]])  # T(x) = 2 relu(x) - 4 relu(x - 1/2)
    weights = [first] + [first @ readout] * (k - 1) + [readout]
    biases = [shift] * k + [np.zeros(1)]
    with chainrule.no_grad():
        for layer, w, b in zip(linears, weights, biases):
            layer.weight.copy_(to_tensor(w))
            layer.bias.copy_(to_tensor(b))
    return model


def _count_pieces(x: np.ndarray, y: np.ndarray) -> int:
    """Linear pieces of a sampled piecewise-linear curve: slope changes + 1."""
    slopes = np.diff(y) / np.diff(x)
    return int(np.sum(np.abs(np.diff(slopes)) > 1e-3 * np.abs(slopes).max())) + 1


def _n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def _train_best(sizes, X, Y, steps: int, restarts: int) -> tuple[MLP, float]:
    best, best_err = None, np.inf
    for s in range(restarts):
        chainrule.manual_seed(s)
        model = MLP(sizes, activation="relu")
        opt = optim.Adam(model.parameters(), lr=0.01)
        train_full_batch(model, lambda m: F.mse_loss(m(X), Y), steps, opt)
        with chainrule.no_grad():
            err = F.mse_loss(model(X), Y).item()
        if err < best_err:
            best, best_err = model, err
    return best, best_err


def run(fast: bool = False, out_dir=None) -> Evidence:
    seed(0)
    k = 4 if fast else 5
    steps, restarts = (800, 2) if fast else (4000, 4)
    x = np.linspace(0.0, 1.0, 1025).reshape(-1, 1)
    y = x.copy()
    for _ in range(k):
        y = tent(y)
    X, Y = to_tensor(x), to_tensor(y)

    deep = deep_tent_net(k)
    budget = _n_params(deep)  # 6k + 1
    width = (budget - 1) // 3  # shallow [1, W, 1] has 3W + 1 parameters
    shallow, shallow_err = _train_best([1, width, 1], X, Y, steps, restarts)
    deep_trained, deep_trained_err = _train_best([1] + [2] * k + [1], X, Y, steps, restarts)
    with chainrule.no_grad():
        deep_pred = deep(X).numpy().reshape(-1)
        shallow_pred = shallow(X).numpy().reshape(-1)
        trained_pred = deep_trained(X).numpy().reshape(-1)
    deep_err = float(np.mean((deep_pred - y.reshape(-1)) ** 2))
    target_pieces = 2**k
    deep_pieces = _count_pieces(x.reshape(-1), deep_pred)

    holds = (
        _n_params(shallow) == budget
        and deep_err < 1e-8
        and deep_pieces == target_pieces
        and shallow_err > 100 * max(deep_err, 1e-10)
        and width + 1 < target_pieces
    )
    numbers = {
        "k": k,
        "parameters": budget,
        "shallow_width": width,
        "target_pieces": target_pieces,
        "deep_pieces": deep_pieces,
        "shallow_max_pieces": width + 1,
        "deep_error": deep_err,
        "shallow_error": shallow_err,
        "deep_trained_error": deep_trained_err,
    }
    rows = [
        [f"deep [1, 2 x {k}, 1], constructed", budget, deep_pieces, deep_err],
        [f"shallow [1, {width}, 1], trained", budget, f"<= {width + 1}", shallow_err],
        [f"deep [1, 2 x {k}, 1], trained", budget, "-", deep_trained_err],
    ]

    fig, axes = new_figure(1, 1, width=7)
    ax = axes[0, 0]
    ax.plot(x, y, "k", lw=4, alpha=0.25, label=f"target T^{k}")
    ax.plot(x, deep_pred, label=f"deep, constructed (MSE {deep_err:.1e})")
    ax.plot(x, shallow_pred, label=f"shallow W={width}, trained (MSE {shallow_err:.1e})")
    ax.plot(x, trained_pred, ":", label=f"deep, trained (MSE {deep_trained_err:.1e})")
    ax.set(xlabel="x", title=f"{budget} parameters each: deep vs shallow on the tent map T^{k}")
    ax.legend(fontsize=8)
    figure = save_figure(fig, out_dir, "depth.png")

    return finish(
        Evidence(
            name="depth",
            claim=CLAIM,
            claim_holds=bool(holds),
            numbers=numbers,
            headers=["network", "parameters", "linear pieces", "MSE"],
            rows=rows,
            figures=[figure],
        )
    )
