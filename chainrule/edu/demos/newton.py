"""Backpropagating through backpropagation: Hessians from a differentiated gradient, and
Newton's method against gradient descent on logistic regression.

The gradient g(w) = dL/dw is itself computed by recorded ops when ``create_graph=True``, so
differentiating v . g(w) gives the Hessian-vector product H v without ever forming H:

    g  = autograd.grad(L, w, create_graph=True)
    Hv = autograd.grad((g * v).sum(), w)

For L(w) = mean BCE(X w, y) + lam/2 |w|^2 the Hessian is known in closed form,
H = X^T diag(p (1 - p)) X / n + lam I with p = sigmoid(X w), which checks the machinery.
Newton's step solves H d = -g by conjugate gradients (Hessian-vector products only) and
converges quadratically; gradient descent, with the best fixed step 1/L_max, converges
linearly at a rate set by the Hessian's condition number.
"""

from __future__ import annotations

import numpy as np

import chainrule
import chainrule.nn.functional as F
from chainrule.edu.demos._common import Evidence, finish, new_figure, save_figure, seed

CLAIM = (
    "differentiating the gradient (create_graph=True) gives the exact Hessian, and Newton's "
    "method built on it reaches |grad| < 1e-10 in under 10 steps where gradient descent "
    "needs hundreds"
)
LAM = 1e-2


def logistic_data(n: int = 400, d: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Two overlapping Gaussian classes with correlated features (an ill-conditioned
    Hessian), a bias column of ones last."""
    rng = seed(0)
    mixing = rng.standard_normal((d - 1, d - 1)) * np.geomspace(3.0, 0.2, d - 1)
    y = rng.integers(0, 2, n).astype(np.float64)
    feats = rng.standard_normal((n, d - 1)) @ mixing + np.outer(2 * y - 1, np.linspace(1, 0, d - 1))
    return np.hstack([feats, np.ones((n, 1))]), y


def loss_fn(w, X, y):
    """mean binary cross-entropy of the logits X w, plus lam/2 |w|^2."""
    return F.binary_cross_entropy_with_logits(X @ w, y) + 0.5 * LAM * (w * w).sum()


def gradient_and_hvp(w_array, X, y):
    """g(w) as an array and a function v -> H(w) v, both from autograd."""
    w = chainrule.tensor(w_array, requires_grad=True)
    (g,) = chainrule.autograd.grad(loss_fn(w, X, y), w, create_graph=True)

    def hvp(v: np.ndarray) -> np.ndarray:
        (hv,) = chainrule.autograd.grad((g * chainrule.tensor(v)).sum(), w, retain_graph=True)
        return hv.numpy()

    return g.detach().numpy(), hvp


def hessian_by_autograd(w_array, X, y) -> np.ndarray:
    """H, one column per Hessian-vector product with a unit vector."""
    _, hvp = gradient_and_hvp(w_array, X, y)
    eye = np.eye(len(w_array))
    return np.stack([hvp(e) for e in eye], axis=1)


def hessian_closed_form(w_array, X_np, y_np) -> np.ndarray:
    p = 1 / (1 + np.exp(-(X_np @ w_array)))
    return (X_np.T * (p * (1 - p))) @ X_np / len(y_np) + LAM * np.eye(len(w_array))


def conjugate_gradient(hvp, b: np.ndarray, tol: float = 1e-14) -> np.ndarray:
    """Solve H x = b for symmetric positive-definite H given only v -> H v."""
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = r @ r
    for _ in range(4 * len(b)):
        if rr <= tol * tol:
            break
        hp = hvp(p)
        alpha = rr / (p @ hp)
        x += alpha * p
        r -= alpha * hp
        rr, rr_old = r @ r, rr
        p = r + (rr / rr_old) * p
    return x


def newton(X, y, w0: np.ndarray, steps: int) -> list[float]:
    """Gradient norms of Newton's method (CG on Hessian-vector products), from w0."""
    w, norms = w0.copy(), []
    for _ in range(steps):
        g, hvp = gradient_and_hvp(w, X, y)
        norms.append(float(np.linalg.norm(g)))
        if norms[-1] < 1e-12:
            break
        w = w + conjugate_gradient(hvp, -g)
    return norms


def gradient_descent(X, y, w0: np.ndarray, lr: float, steps: int) -> list[float]:
    """Gradient norms of plain gradient descent with a fixed step ``lr``, from w0."""
    w = chainrule.tensor(w0, requires_grad=True)
    norms = []
    for _ in range(steps):
        (g,) = chainrule.autograd.grad(loss_fn(w, X, y), w)
        norms.append(float(np.linalg.norm(g.numpy())))
        if norms[-1] < 1e-10:
            break
        with chainrule.no_grad():
            w -= lr * g
    return norms


def run(fast: bool = False, out_dir=None) -> Evidence:
    X_np, y_np = logistic_data()
    X, y = chainrule.tensor(X_np), chainrule.tensor(y_np)  # float64: a precise optimum
    w0 = np.zeros(X_np.shape[1])

    w_check = np.linspace(-0.5, 0.5, X_np.shape[1])
    h_auto = hessian_by_autograd(w_check, X, y)
    h_exact = hessian_closed_form(w_check, X_np, y_np)
    hessian_error = float(np.abs(h_auto - h_exact).max() / np.abs(h_exact).max())

    eig = np.linalg.eigvalsh(hessian_closed_form(w0, X_np, y_np))
    # The gradient's Lipschitz constant: p (1 - p) <= 1/4 bounds the Hessian everywhere.
    lipschitz = 0.25 * np.linalg.eigvalsh(X_np.T @ X_np / len(y_np))[-1] + LAM
    lr = 1.0 / lipschitz
    newton_norms = newton(X, y, w0, steps=20)
    gd_norms = gradient_descent(X, y, w0, lr, steps=500 if fast else 3000)

    def steps_to(norms, tol):
        return next((i for i, v in enumerate(norms) if v < tol), None)

    newton_steps = steps_to(newton_norms, 1e-10)
    gd_steps = {tol: steps_to(gd_norms, tol) for tol in (1e-2, 1e-4, 1e-6)}
    rows = [["Newton (CG on H v)", tol, steps_to(newton_norms, tol)] for tol in (1e-2, 1e-6)]
    rows += [["Newton (CG on H v)", 1e-10, newton_steps]]
    rows += [["gradient descent, lr = 1/L", tol, gd_steps[tol]] for tol in gd_steps]
    holds = (
        hessian_error < 1e-10
        and newton_steps is not None
        and newton_steps < 10
        and (gd_steps[1e-6] is None or gd_steps[1e-6] > 100)
    )

    fig, axes = new_figure(1, 1, width=6)
    ax = axes[0, 0]
    ax.semilogy(newton_norms, "o-", label="Newton (Hessian-vector products)")
    ax.semilogy(gd_norms, label="gradient descent, lr = 1/L")
    ax.set(xlabel="step", ylabel="|grad L|", title="logistic regression, 6 parameters")
    ax.set_xscale("symlog", linthresh=10)
    ax.legend()
    figure = save_figure(fig, out_dir, "newton.png")

    return finish(
        Evidence(
            name="newton",
            claim=CLAIM,
            claim_holds=bool(holds),
            numbers={
                "hessian_relative_error": hessian_error,
                "condition_number": float(eig[-1] / eig[0]),
                "newton_steps": newton_steps,
                "gd_steps": gd_steps,
                "newton_norms": newton_norms,
            },
            headers=["method", "|grad| below", "steps"],
            rows=rows,
            figures=[figure],
        )
    )
