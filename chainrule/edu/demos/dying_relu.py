"""Too high a learning rate kills ReLU units; LeakyReLU units stay alive.

A ReLU unit whose pre-activation is negative for every input outputs 0 everywhere and, since
relu'(z) = 0 for z < 0, receives no gradient: nothing can ever revive it. One oversized update
can push many units' biases and weights there. LeakyReLU's slope (0.01) for z < 0 keeps a
small gradient flowing, so the same units are pushed negative but are not dead.
"""

from __future__ import annotations

import numpy as np

import chainrule
import chainrule.nn.functional as F
from chainrule import nn, optim
from chainrule.edu.demos._common import Evidence, finish, new_figure, save_figure, seed, to_tensor

CLAIM = (
    "after training with too high a learning rate most ReLU units are dead (zero on every "
    "input, zero gradient); with LeakyReLU every unit still passes gradient"
)


def _train(activation: str, lr: float, steps: int, hidden: int, X, Y):
    chainrule.manual_seed(0)  # the same initial weights for every run
    act = nn.ReLU() if activation == "relu" else nn.LeakyReLU(0.01)
    model = nn.Sequential(nn.Linear(X.shape[1], hidden), act, nn.Linear(hidden, 1))
    opt = optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        F.mse_loss(model(X), Y).backward()
        opt.step()
    # Measure on the final weights: which units are negative on every input, and which get
    # a gradient for their incoming weights.
    model.zero_grad()
    loss = F.mse_loss(model(X), Y)
    loss.backward()
    with chainrule.no_grad():
        pre = model[0](X).numpy()
    negative_everywhere = np.all(pre <= 0, axis=0)
    grad_rows = np.abs(model[0].weight.grad.numpy()).sum(axis=1)
    return {
        "loss": loss.item(),
        "negative_fraction": float(negative_everywhere.mean()),
        "zero_output_fraction": float(np.all(_act(activation, pre) == 0, axis=0).mean()),
        "zero_grad_fraction": float(np.mean(grad_rows == 0)),
        "pre_activations": pre,
    }


def _act(activation: str, pre: np.ndarray) -> np.ndarray:
    return np.maximum(pre, 0) if activation == "relu" else np.where(pre > 0, pre, 0.01 * pre)


def run(fast: bool = False, out_dir=None) -> Evidence:
    rng = seed(0)
    n, hidden = 256, 100  # small and quick already; fast mode runs the same experiment
    X = to_tensor(rng.normal(size=(n, 10)))
    Y = to_tensor(3.0 * rng.normal(size=(n, 1)))
    # 0.3 is 30x a sane step here: large enough that early updates push most units
    # negative, small enough not to overflow.
    steps, good_lr, high_lr = 50, 0.01, 0.3

    runs = {
        ("relu", good_lr): _train("relu", good_lr, steps, hidden, X, Y),
        ("relu", high_lr): _train("relu", high_lr, steps, hidden, X, Y),
        ("leaky_relu", high_lr): _train("leaky_relu", high_lr, steps, hidden, X, Y),
    }
    relu_bad, leaky = runs[("relu", high_lr)], runs[("leaky_relu", high_lr)]
    holds = (
        relu_bad["zero_output_fraction"] > 0.5
        and relu_bad["zero_grad_fraction"] > 0.5
        and leaky["zero_grad_fraction"] == 0.0
        and leaky["zero_output_fraction"] == 0.0
        and runs[("relu", good_lr)]["zero_output_fraction"] < 0.5
    )
    rows = [
        [act, lr, r["negative_fraction"], r["zero_output_fraction"], r["zero_grad_fraction"]]
        for (act, lr), r in runs.items()
    ]

    fig, axes = new_figure(1, 2, width=5)
    for ax, key in zip(axes[0], [("relu", high_lr), ("leaky_relu", high_lr)]):
        pre = runs[key]["pre_activations"]
        order = np.argsort(pre.max(axis=0))
        ax.boxplot(pre[:, order[:: max(1, hidden // 25)]], showfliers=False)
        ax.axhline(0, color="k", lw=0.8)
        ax.set(
            title=f"{key[0]}, lr={key[1]}: {runs[key]['zero_grad_fraction']:.0%} get no gradient",
            xlabel="hidden units (sorted)",
            ylabel="pre-activation over inputs",
        )
        ax.set_xticks([])
    figure = save_figure(fig, out_dir, "dying_relu.png")

    numbers = {
        f"{act}_lr{lr}_{k}": v
        for (act, lr), r in runs.items()
        for k, v in r.items()
        if k != "pre_activations"
    }
    numbers.update(
        relu_dead_fraction=relu_bad["zero_output_fraction"],
        relu_zero_grad_fraction=relu_bad["zero_grad_fraction"],
        leaky_negative_fraction=leaky["negative_fraction"],
        leaky_zero_grad_fraction=leaky["zero_grad_fraction"],
        relu_good_lr_dead_fraction=runs[("relu", good_lr)]["zero_output_fraction"],
    )
    return finish(
        Evidence(
            name="dying-relu",
            claim=CLAIM,
            claim_holds=bool(holds),
            numbers=numbers,
            headers=["activation", "lr", "negative on all inputs", "zero output", "no gradient"],
            rows=rows,
            figures=[figure],
        )
    )
