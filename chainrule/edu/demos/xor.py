"""An MLP solves XOR because its hidden layer makes the classes linearly separable.

No line separates XOR's classes in the input plane. A hidden layer of two tanh units maps
the four points to new coordinates h = tanh(W x + b); there a line does separate them, which
we check by training Rosenblatt's perceptron on h (it converges only on separable data).
Take the tanh away and the network is a product of matrices, a single linear map: it stays
stuck below 100%.
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
    xor_data,
)
from chainrule.models import MLP, Perceptron

CLAIM = (
    "an MLP with a nonlinearity solves XOR and its hidden layer is linearly separable; "
    "without the nonlinearity it cannot"
)


def _train(
    activation: str, steps: int, X: chainrule.Tensor, y: chainrule.Tensor, init_seed: int = 0
) -> MLP:
    chainrule.manual_seed(init_seed)
    model = MLP([2, 2, 1], activation=activation)
    opt = optim.Adam(model.parameters(), lr=0.1)
    train_full_batch(model, lambda m: F.binary_cross_entropy_with_logits(m(X), y), steps, opt)
    return model


def _accuracy(model: MLP, X: chainrule.Tensor, y: np.ndarray) -> float:
    with chainrule.no_grad():
        pred = (model(X).numpy().reshape(-1) > 0).astype(np.int64)
    return float(np.mean(pred == y))


def run(fast: bool = False, out_dir=None) -> Evidence:
    seed(0)
    X_np, y_np = xor_data()
    X, y = to_tensor(X_np), to_tensor(y_np.reshape(-1, 1))
    steps = 300 if fast else 1000

    # Two tanh units are the fewest that can solve XOR, and from about half of the random
    # starts gradient descent lands in a local minimum (one point left wrong). Restarting
    # from a new random init is the honest fix; the table reports how many it took.
    max_restarts = 10
    for attempt in range(1, max_restarts + 1):
        mlp = _train("tanh", steps, X, y, init_seed=attempt - 1)
        mlp_acc = _accuracy(mlp, X, y_np)
        if mlp_acc == 1.0:
            break
    linear = _train("identity", steps, X, y)
    linear_acc = _accuracy(linear, X, y_np)

    with chainrule.no_grad():
        hidden = mlp.hidden(X).numpy().astype(np.float64)
        linear_hidden = linear.hidden(X).numpy().astype(np.float64)
    probe = Perceptron(2)
    probe_fit = probe.fit(hidden, y_np, epochs=1000)
    probe_acc = probe.score(hidden, y_np)
    linear_probe = Perceptron(2)
    linear_probe_fit = linear_probe.fit(linear_hidden, y_np, epochs=1000)
    input_probe = Perceptron(2)
    input_probe_fit = input_probe.fit(X_np, y_np, epochs=1000)

    numbers = {
        "mlp_accuracy": mlp_acc,
        "mlp_attempts": attempt,
        "linear_mlp_accuracy": linear_acc,
        "hidden_probe_converged": probe_fit.converged,
        "hidden_probe_accuracy": probe_acc,
        "linear_hidden_probe_converged": linear_probe_fit.converged,
        "input_probe_converged": input_probe_fit.converged,
        "hidden": hidden.tolist(),
    }
    holds = (
        mlp_acc == 1.0
        and probe_fit.converged
        and probe_acc == 1.0
        and linear_acc < 1.0
        and not input_probe_fit.converged
    )
    rows = [
        ["input x (no network)", "-", input_probe_fit.converged],
        [f"MLP 2-2-1, tanh (init #{attempt})", mlp_acc, probe_fit.converged],
        ["MLP 2-2-1, no nonlinearity", linear_acc, linear_probe_fit.converged],
    ]

    fig, axes = new_figure(1, 2, width=4.5)
    ax = axes[0, 0]
    gx, gy = np.meshgrid(np.linspace(-0.5, 1.5, 150), np.linspace(-0.5, 1.5, 150))
    grid = to_tensor(np.column_stack([gx.ravel(), gy.ravel()]))
    with chainrule.no_grad():
        z = mlp(grid).numpy().reshape(gx.shape)
    ax.contourf(gx, gy, z > 0, alpha=0.2, cmap="coolwarm")
    ax.scatter(X_np[:, 0], X_np[:, 1], c=y_np, cmap="coolwarm", edgecolors="k", s=80)
    ax.set(title=f"input space: MLP accuracy {mlp_acc:.2f}", xlabel="x0", ylabel="x1")
    ax = axes[0, 1]
    ax.scatter(hidden[:, 0], hidden[:, 1], c=y_np, cmap="coolwarm", edgecolors="k", s=80)
    w, b = probe.weight, probe.bias
    xs = np.linspace(hidden[:, 0].min() - 0.2, hidden[:, 0].max() + 0.2, 2)
    if abs(w[1]) > 1e-12:
        ax.plot(xs, -(w[0] * xs + b) / w[1], "k--", label="perceptron on h")
        ax.legend()
    ax.set(title="hidden space h = tanh(W x + b)", xlabel="h0", ylabel="h1")
    figure = save_figure(fig, out_dir, "xor.png")

    return finish(
        Evidence(
            name="xor",
            claim=CLAIM,
            claim_holds=bool(holds),
            numbers=numbers,
            headers=["representation", "network accuracy", "perceptron separates it"],
            rows=rows,
            figures=[figure],
        )
    )
