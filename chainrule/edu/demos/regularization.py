"""Regularisers shrink the gap between training and test error of an overfitting MLP.

A two-hidden-layer MLP with thousands of parameters fit to 12 noisy samples of
sin(x) memorises the noise: training error near zero, test error large. Each regulariser
limits that in its own way: dropout trains an ensemble of thinned networks, weight decay
(AdamW's decoupled L2 shrinkage) prefers small weights and so smooth functions, early
stopping halts training when a held-out validation error stops improving.
"""

from __future__ import annotations

import copy

import numpy as np

import chainrule
import chainrule.nn.functional as F
from chainrule import optim
from chainrule.edu.demos._common import Evidence, finish, new_figure, save_figure, seed, to_tensor
from chainrule.models import MLP

CLAIM = "dropout, weight decay and early stopping each reduce the train/test gap of an overfit MLP"
NOISE = 0.5
N_TRAIN = 12


def _mse(model, X, Y) -> float:
    model.eval()
    with chainrule.no_grad():
        loss = F.mse_loss(model(X), Y).item()
    model.train()
    return loss


def train(variant: str, data: dict, steps: int, width: int):
    chainrule.manual_seed(0)  # the same initial weights for every variant
    model = MLP([1, width, width, 1], activation="relu", dropout=0.5 if variant == "dropout" else 0)
    decay = 1.0 if variant == "weight decay" else 0.0
    opt = optim.AdamW(model.parameters(), lr=0.01, weight_decay=decay)
    best_val, best_state, best_step = np.inf, None, 0
    for step in range(steps):
        opt.zero_grad()
        F.mse_loss(model(data["X"]), data["Y"]).backward()
        opt.step()
        if variant == "early stopping":
            val = _mse(model, data["X_val"], data["Y_val"])
            if val < best_val:
                best_val, best_state, best_step = val, copy.deepcopy(model.state_dict()), step + 1
    if variant == "early stopping":
        model.load_state_dict(best_state)
    train_err = _mse(model, data["X"], data["Y"])
    test_err = _mse(model, data["X_test"], data["Y_test"])
    return model, train_err, test_err, best_step if variant == "early stopping" else steps


def run(fast: bool = False, out_dir=None) -> Evidence:
    rng = seed(0)
    steps, width = (600, 64) if fast else (1500, 128)

    def sample(n):
        x = rng.uniform(-np.pi, np.pi, size=(n, 1))
        return to_tensor(x), to_tensor(np.sin(x) + NOISE * rng.normal(size=(n, 1)))

    X, Y = sample(N_TRAIN)
    X_val, Y_val = sample(50)  # held-out data that decides when to stop
    X_test, Y_test = sample(1000)
    data = dict(X=X, Y=Y, X_val=X_val, Y_val=Y_val, X_test=X_test, Y_test=Y_test)

    variants = ["baseline", "dropout", "weight decay", "early stopping"]
    results, models = {}, {}
    for variant in variants:
        model, tr, te, used = train(variant, data, steps, width)
        models[variant] = model
        results[variant] = {"train": tr, "test": te, "gap": te - tr, "steps": used}
    base_gap = results["baseline"]["gap"]
    holds = all(results[v]["gap"] < base_gap for v in variants[1:])
    rows = [[v, r["steps"], r["train"], r["test"], r["gap"]] for v, r in results.items()]

    fig, axes = new_figure(1, 1, width=7)
    ax = axes[0, 0]
    grid = np.linspace(-np.pi, np.pi, 300).reshape(-1, 1)
    ax.plot(grid, np.sin(grid), "k", lw=3, alpha=0.25, label="sin(x) (noise-free)")
    ax.scatter(X.numpy(), Y.numpy(), c="k", s=20, zorder=3, label=f"{N_TRAIN} training points")
    for variant, model in models.items():
        model.eval()
        with chainrule.no_grad():
            ax.plot(grid, model(to_tensor(grid)).numpy(), label=variant)
    ax.set(xlabel="x", title="fits of an over-parameterised MLP")
    ax.legend(fontsize=8)
    figure = save_figure(fig, out_dir, "regularization.png")

    return finish(
        Evidence(
            name="regularization",
            claim=CLAIM,
            claim_holds=bool(holds),
            numbers={
                "gaps": {v: r["gap"] for v, r in results.items()},
                "train": {v: r["train"] for v, r in results.items()},
                "test": {v: r["test"] for v, r in results.items()},
                "early_stopping_step": results["early stopping"]["steps"],
            },
            headers=["variant", "steps", "train MSE", "test MSE", "gap (test - train)"],
            rows=rows,
            figures=[figure],
        )
    )
