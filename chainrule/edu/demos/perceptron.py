"""The perceptron converges on linearly separable data and never solves XOR.

Rosenblatt's rule moves the boundary only on mistakes. The convergence theorem bounds the
number of mistakes by (R / margin)^2 when a separating line exists; XOR has no separating
line, so at least one of its four points is always misclassified (best accuracy 3/4).
"""

from __future__ import annotations

import numpy as np

from chainrule.edu.demos._common import Evidence, finish, new_figure, save_figure, seed, xor_data
from chainrule.models import Perceptron

CLAIM = "the perceptron converges on separable data; on XOR it never reaches 100% accuracy"


def separable_blobs(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs kept on either side of the line x0 + x1 = 0 with a margin."""
    X = rng.normal(size=(4 * n, 2))
    margin = (X[:, 0] + X[:, 1]) / np.sqrt(2)
    X = X[np.abs(margin) > 0.3][:n]
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    return X, y


def run(fast: bool = False, out_dir=None) -> Evidence:
    rng = seed(0)
    X_sep, y_sep = separable_blobs(rng, 40 if fast else 200)
    sep = Perceptron(2)
    sep_fit = sep.fit(X_sep, y_sep, epochs=100)
    sep_acc = sep.score(X_sep, y_sep)

    X_xor, y_xor = xor_data()
    xor_epochs = 20 if fast else 100
    xor = Perceptron(2)
    xor_acc = []  # accuracy after every epoch: fit one epoch at a time, weights carry over
    xor_mistakes = []
    for _ in range(xor_epochs):
        xor_mistakes += xor.fit(X_xor, y_xor, epochs=1).mistakes
        xor_acc.append(xor.score(X_xor, y_xor))
    xor_converged = any(m == 0 for m in xor_mistakes)

    numbers = {
        "separable_converged": sep_fit.converged,
        "separable_epochs": sep_fit.epochs,
        "separable_accuracy": sep_acc,
        "separable_mistakes": sep_fit.mistakes,
        "xor_converged": xor_converged,
        "xor_epochs": xor_epochs,
        "xor_best_accuracy": max(xor_acc),
        "xor_mistakes": xor_mistakes,
    }
    holds = sep_fit.converged and sep_acc == 1.0 and not xor_converged and max(xor_acc) < 1.0
    rows = [
        ["separable blobs", len(X_sep), sep_fit.converged, sep_fit.epochs, sep_acc],
        ["XOR", 4, xor_converged, xor_epochs, max(xor_acc)],
    ]

    fig, axes = new_figure(1, 3, width=4.2)
    for ax, X, y, model, title in (
        (axes[0, 0], X_sep, y_sep, sep, f"separable: converged in {sep_fit.epochs} epochs"),
        (axes[0, 1], X_xor, y_xor, xor, f"XOR: best accuracy {max(xor_acc):.2f}"),
    ):
        _plot_boundary(ax, X, y, model)
        ax.set_title(title)
    axes[0, 2].plot(range(1, len(sep_fit.mistakes) + 1), sep_fit.mistakes, "o-", label="separable")
    axes[0, 2].plot(range(1, xor_epochs + 1), xor_mistakes, ".-", label="XOR")
    axes[0, 2].set(xlabel="epoch", ylabel="mistakes (updates)", title="mistakes per epoch")
    axes[0, 2].legend()
    figure = save_figure(fig, out_dir, "perceptron.png")

    return finish(
        Evidence(
            name="perceptron",
            claim=CLAIM,
            claim_holds=bool(holds),
            numbers=numbers,
            headers=["data", "samples", "converged", "epochs", "best accuracy"],
            rows=rows,
            figures=[figure],
        )
    )


def _plot_boundary(ax, X, y, model: Perceptron) -> None:
    lo, hi = X.min(0) - 0.5, X.max(0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    ax.contourf(gx, gy, model.predict(grid).reshape(gx.shape), alpha=0.2, cmap="coolwarm")
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=30)
    ax.set(xlabel="x0", ylabel="x1")
