"""Softmax: its Jacobian, its temperature, and why it, not argmax, is used for learning.

s = softmax(x), s_i = e^{x_i} / sum_j e^{x_j}. Its Jacobian is ds_i/dx_j = s_i (delta_ij - s_j),
i.e. diag(s) - s s^T, and every row sums to 0 (adding a constant to all logits changes
nothing). Dividing logits by a temperature T sharpens (T < 1) or flattens (T > 1) the
distribution: entropy falls as T falls, and as T -> 0 softmax tends to one-hot argmax. But
argmax is piecewise constant: nudging the logits does not change it, so its derivative is 0
almost everywhere and no gradient can flow through it.
"""

from __future__ import annotations

import numpy as np

import chainrule
from chainrule.autograd.functional import jacobian
from chainrule.edu.demos._common import Evidence, finish, new_figure, save_figure, seed, to_tensor

CLAIM = (
    "the softmax Jacobian equals diag(s) - s s^T with rows summing to 0; entropy falls with "
    "temperature; argmax has zero gradient where softmax has a nonzero one"
)


def _entropy(p: np.ndarray) -> float:
    return float(-np.sum(p * np.log(np.maximum(p, 1e-30))))


def run(fast: bool = False, out_dir=None) -> Evidence:
    seed(0)
    logits = np.array([2.0, 1.0, 0.1, -1.0])
    x = chainrule.tensor(logits, dtype=chainrule.float64)

    # 1. the Jacobian, by autograd (one backward pass per output), vs the formula
    J = jacobian(lambda t: chainrule.softmax(t, 0), x).numpy()
    s = np.exp(logits - logits.max())
    s /= s.sum()
    formula = np.diag(s) - np.outer(s, s)
    jac_error = float(np.abs(J - formula).max())
    row_sums = J.sum(axis=1)

    # 2. temperature
    temperatures = [10.0, 2.0, 1.0, 0.5, 0.1]
    probs = {T: chainrule.softmax(x / T, 0).numpy() for T in temperatures}
    entropies = [_entropy(probs[T]) for T in temperatures]
    entropy_falls = all(b < a for a, b in zip(entropies, entropies[1:]))

    # 3. argmax vs softmax: d/dx of v . onehot(argmax x) by finite differences (autograd
    # can't: argmax is not differentiable), and d/dx of v . softmax(x) by autograd
    v = np.array([1.0, -2.0, 0.5, 3.0])

    def hard(z: np.ndarray) -> float:
        return float(v[np.argmax(z)])

    eps = 1e-4
    argmax_grad = np.array(
        [(hard(logits + eps * e) - hard(logits - eps * e)) / (2 * eps) for e in np.eye(4)]
    )
    xs = chainrule.tensor(logits, dtype=chainrule.float64, requires_grad=True)
    (chainrule.softmax(xs, 0) * to_tensor(v).double()).sum().backward()
    softmax_grad = xs.grad.numpy()

    holds = (
        jac_error < 1e-10
        and np.abs(row_sums).max() < 1e-12
        and entropy_falls
        and np.abs(argmax_grad).max() == 0.0
        and np.abs(softmax_grad).max() > 1e-3
    )
    rows = [[T, *np.round(probs[T], 4).tolist(), H] for T, H in zip(temperatures, entropies)]

    fig, axes = new_figure(1, 2, width=4.5)
    ax = axes[0, 0]
    im = ax.imshow(J, cmap="coolwarm", vmin=-np.abs(J).max(), vmax=np.abs(J).max())
    ax.set(title="softmax Jacobian ds_i/dx_j = diag(s) - s s^T", xlabel="j", ylabel="i")
    fig.colorbar(im, ax=ax)
    ax = axes[0, 1]
    width = 0.8 / len(temperatures)
    for k, T in enumerate(temperatures):
        ax.bar(np.arange(4) + k * width, probs[T], width, label=f"T={T:g}, H={entropies[k]:.2f}")
    ax.set(xlabel="class", ylabel="probability", title="softmax(x / T)")
    ax.legend(fontsize=8)
    figure = save_figure(fig, out_dir, "softmax.png")

    return finish(
        Evidence(
            name="softmax",
            claim=CLAIM,
            claim_holds=bool(holds),
            numbers={
                "jacobian": J.tolist(),
                "jacobian_max_error": jac_error,
                "row_sums_max_abs": float(np.abs(row_sums).max()),
                "temperatures": temperatures,
                "entropies": entropies,
                "argmax_grad": argmax_grad.tolist(),
                "softmax_grad": softmax_grad.tolist(),
            },
            headers=["temperature", "p0", "p1", "p2", "p3", "entropy"],
            rows=rows
            + [["argmax grad", *argmax_grad.tolist(), "-"]]
            + [["softmax grad", *np.round(softmax_grad, 4).tolist(), "-"]],
            figures=[figure],
        )
    )
