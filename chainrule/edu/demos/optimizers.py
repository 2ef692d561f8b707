"""SGD, momentum, RMSprop and Adam on the same problems.

    SGD        x <- x - lr g
    momentum   v <- mu v + g;  x <- x - lr v             (remembers the direction)
    RMSprop    s <- a s + (1-a) g^2;  x <- x - lr g / sqrt(s)   (per-coordinate step size)
    Adam       momentum on g and RMSprop's s, both bias-corrected

Problem 1 is a badly conditioned least-squares regression (features on very different
scales), problem 2 the Rosenbrock valley f(x, y) = (1 - x)^2 + 100 (y - x^2)^2, whose floor is
curved and nearly flat along its length: plain SGD must take steps small enough for the steep
walls and then crawls along the floor.
"""

from __future__ import annotations

import numpy as np

import chainrule
import chainrule.nn.functional as F
from chainrule import optim
from chainrule.edu.demos._common import Evidence, finish, new_figure, save_figure, seed, to_tensor

CLAIM = "within the same step budget, momentum and Adam reach a lower loss than plain SGD"

# name -> (factory, lr on the regression, lr on Rosenbrock). Each lr is about the largest
# that stays stable for that optimizer on that problem (plain SGD's is set by the steepest
# direction; the adaptive methods' by the step length they take per coordinate).
OPTIMIZERS = {
    "SGD": (lambda p, lr: optim.SGD(p, lr=lr), 0.05, 1e-3),
    "momentum": (lambda p, lr: optim.SGD(p, lr=lr, momentum=0.9), 0.05, 1e-3),
    "RMSprop": (lambda p, lr: optim.RMSprop(p, lr=lr), 0.01, 1e-2),
    "Adam": (lambda p, lr: optim.Adam(p, lr=lr), 0.05, 5e-2),
}


def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def run_rosenbrock(name: str, steps: int, start=(-1.5, 2.0)):
    factory, _, lr = OPTIMIZERS[name]
    p = chainrule.tensor(list(start), dtype=chainrule.float64, requires_grad=True)
    opt = factory([p], lr)
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        rosenbrock(p).backward()
        opt.step()
        path.append(p.detach().numpy().copy())
    with chainrule.no_grad():
        final = rosenbrock(p).item()
    return final, np.array(path)


def run_regression(name: str, steps: int, X, Y) -> float:
    factory, lr, _ = OPTIMIZERS[name]
    w = chainrule.zeros(X.shape[1], 1, requires_grad=True)
    opt = factory([w], lr)
    for _ in range(steps):
        opt.zero_grad()
        F.mse_loss(X @ w, Y).backward()
        opt.step()
    with chainrule.no_grad():
        return F.mse_loss(X @ w, Y).item()


def run(fast: bool = False, out_dir=None) -> Evidence:
    rng = seed(0)
    reg_steps, rb_steps = (100, 500) if fast else (300, 3000)
    scales = np.array([3.0, 1.0, 0.3, 0.1, 0.03])  # condition number ~ 10^4
    X_np = rng.normal(size=(200, len(scales))) * scales
    w_true = rng.normal(size=(len(scales), 1))
    X, Y = to_tensor(X_np), to_tensor(X_np @ w_true + 0.01 * rng.normal(size=(200, 1)))

    reg_loss, rb_loss, paths = {}, {}, {}
    for name in OPTIMIZERS:
        reg_loss[name] = run_regression(name, reg_steps, X, Y)
        rb_loss[name], paths[name] = run_rosenbrock(name, rb_steps)
    holds = all(
        loss[name] < loss["SGD"] for loss in (reg_loss, rb_loss) for name in ("momentum", "Adam")
    )
    rows = [
        [name, OPTIMIZERS[name][1], reg_loss[name], OPTIMIZERS[name][2], rb_loss[name]]
        for name in OPTIMIZERS
    ]

    fig, axes = new_figure(1, 1, width=7, height=5)
    ax = axes[0, 0]
    gx, gy = np.meshgrid(np.linspace(-2, 2, 300), np.linspace(-1, 3, 300))
    f = (1 - gx) ** 2 + 100 * (gy - gx**2) ** 2
    ax.contour(gx, gy, np.log10(f + 1e-3), levels=25, cmap="Greys", linewidths=0.6)
    for name, path in paths.items():
        ax.plot(path[:, 0], path[:, 1], ".-", ms=2, lw=1, label=f"{name} (f={rb_loss[name]:.1e})")
    ax.plot([1], [1], "k*", ms=14, label="minimum (1, 1)")
    ax.set(
        xlim=(-2, 2),
        ylim=(-1, 3),
        xlabel="x",
        ylabel="y",
        title=f"Rosenbrock, {rb_steps} steps from (-1.5, 2)",
    )
    ax.legend(fontsize=8)
    figure = save_figure(fig, out_dir, "optimizers.png")

    return finish(
        Evidence(
            name="optimizers",
            claim=CLAIM,
            claim_holds=bool(holds),
            numbers={
                "regression_steps": reg_steps,
                "rosenbrock_steps": rb_steps,
                "regression_loss": reg_loss,
                "rosenbrock_loss": rb_loss,
            },
            headers=[
                "optimizer",
                "lr",
                f"regression MSE ({reg_steps} steps)",
                "lr",
                f"Rosenbrock f ({rb_steps} steps)",
            ],
            rows=rows,
            figures=[figure],
        )
    )
