"""Batch normalisation speeds up training of a deep network.

BatchNorm standardises each unit's pre-activation over the mini-batch, then rescales it with
learned gamma and beta: (z - mean_B) / sqrt(var_B + eps) * gamma + beta. Every layer then sees
inputs of a steady scale however the earlier layers' weights move, so the same learning rate
makes progress in all layers at once and larger learning rates stay stable.
"""

from __future__ import annotations

import numpy as np

import chainrule
import chainrule.nn.functional as F
from chainrule import optim
from chainrule.edu.demos._common import Evidence, finish, new_figure, save_figure, seed, to_tensor
from chainrule.models import MLP

CLAIM = "with BatchNorm a deep MLP reaches the target accuracy in fewer steps at the same lr"
TARGET = 0.9


def two_spirals(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    t = rng.uniform(0.5, 3.5, size=n)
    label = rng.integers(0, 2, size=n)
    angle = 2 * t + label * np.pi
    X = np.column_stack([t * np.cos(angle), t * np.sin(angle)]) + 0.1 * rng.normal(size=(n, 2))
    return X, label


def steps_to_target(batch_norm: bool, lr: float, X_np, y_np, max_steps: int, every: int):
    """(steps until full-data accuracy >= TARGET or None, accuracy curve)."""
    chainrule.manual_seed(0)
    batches = np.random.default_rng(1)  # the same mini-batches for both networks
    model = MLP([2] + [32] * 8 + [2], activation="relu", batch_norm=batch_norm)
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    X, y = to_tensor(X_np), chainrule.tensor(y_np)
    curve = []
    for step in range(1, max_steps + 1):
        idx = batches.integers(0, len(X_np), size=64)
        opt.zero_grad()
        F.cross_entropy(model(X[idx]), y[idx]).backward()
        opt.step()
        if step % every == 0:
            model.eval()
            with chainrule.no_grad():
                acc = float(np.mean(model(X).numpy().argmax(1) == y_np))
            model.train()
            curve.append((step, acc))
            if acc >= TARGET:
                return step, curve
    return None, curve


def run(fast: bool = False, out_dir=None) -> Evidence:
    rng = seed(0)
    X_np, y_np = two_spirals(rng, 500 if fast else 1000)
    max_steps, every = (1000, 25) if fast else (3000, 10)
    lrs = [0.05] if fast else [0.05, 0.2]

    results, rows = {}, []
    for lr in lrs:
        for bn in (False, True):
            steps, curve = steps_to_target(bn, lr, X_np, y_np, max_steps, every)
            results[(lr, bn)] = (steps, curve)
            rows.append(
                [lr, "yes" if bn else "no", steps if steps else f"> {max_steps}", curve[-1][1]]
            )
    plain, normed = results[(0.05, False)][0], results[(0.05, True)][0]
    holds = normed is not None and (plain is None or normed < plain)

    fig, axes = new_figure(1, 1, width=6)
    ax = axes[0, 0]
    for (lr, bn), (_, curve) in results.items():
        steps_, accs = zip(*curve)
        ax.plot(steps_, accs, label=f"lr={lr}, {'with' if bn else 'without'} BatchNorm")
    ax.axhline(TARGET, color="k", ls=":", lw=0.8)
    ax.set(
        xlabel="SGD step", ylabel="training accuracy", title="8 hidden ReLU layers on two spirals"
    )
    ax.legend(fontsize=8)
    figure = save_figure(fig, out_dir, "batchnorm.png")

    return finish(
        Evidence(
            name="batchnorm",
            claim=CLAIM,
            claim_holds=bool(holds),
            numbers={
                "target_accuracy": TARGET,
                "max_steps": max_steps,
                "steps_without_bn": plain,
                "steps_with_bn": normed,
                "steps": {f"lr={lr}, bn={bn}": s for (lr, bn), (s, _) in results.items()},
            },
            headers=["lr", "BatchNorm", f"steps to {TARGET:.0%}", "last accuracy"],
            rows=rows,
            figures=[figure],
        )
    )
