"""A mixture of experts: a softmax gate learns to split the input space between experts.

    p(y=1 | x) = sum_k g_k(x) sigmoid(e_k(x)),   g(x) = softmax(G x + c)

Two linear experts e_k and a linear gate, trained together by gradient descent (Jacobs,
Jordan, Nowlan & Hinton, 1991). The data follow one linear rule on the left half-plane and
another on the right, so no single linear model fits both (the regions together look like
XOR); the gate discovers the two regions and hands each to one expert.
"""

from __future__ import annotations

import numpy as np

import chainrule
import chainrule.nn.functional as F
from chainrule import nn, optim
from chainrule.edu.demos._common import Evidence, finish, new_figure, save_figure, seed, to_tensor

CLAIM = (
    "two linear experts with a softmax gate reach >= 95% accuracy where one linear model is "
    "below 80%, and the gate's choice follows the region"
)


class MixtureOfLinearExperts(nn.Module):
    """The small MoE of this demo written out with chainrule ops (used when the library has
    no ``nn.MixtureOfExperts``)."""

    def __init__(self, in_features: int, n_experts: int = 2):
        super().__init__()
        self.experts = nn.Linear(in_features, n_experts)  # row k: expert k's logit
        self.gate = nn.Linear(in_features, n_experts)

    def forward(self, x):
        """p(y = 1 | x), shape (N,)."""
        gate = F.softmax(self.gate(x), dim=-1)
        return (gate * chainrule.sigmoid(self.experts(x))).sum(-1)


def build_moe():
    """(model, forward giving p(y=1|x) of shape (N,)); the model has a ``gate`` Linear."""
    if hasattr(nn, "MixtureOfExperts"):
        experts = [nn.Sequential(nn.Linear(2, 1), nn.Sigmoid()) for _ in range(2)]
        model = nn.MixtureOfExperts(experts, nn.Linear(2, 2))  # soft mode: every expert runs
        return model, lambda x: model(x)[0].reshape(-1)
    model = MixtureOfLinearExperts(2, 2)
    return model, model


def gate_probs(model, x):
    return F.softmax(model.gate(x), dim=-1)


def two_regions(rng: np.random.Generator, n: int):
    """Left half (x0 < 0): y = [x1 > 0.5 x0]; right half: y = [x1 < -0.5 x0 + 0.2]."""
    X = rng.uniform(-1, 1, size=(n, 2))
    region = (X[:, 0] >= 0).astype(np.int64)
    y = np.where(region == 0, X[:, 1] > 0.5 * X[:, 0], X[:, 1] < -0.5 * X[:, 0] + 0.2)
    return X, y.astype(np.int64), region


def _fit(model, forward, X, y, steps: int, lr: float) -> float:
    """Full-batch Adam on the binary cross-entropy; returns the final loss."""
    opt = optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        p = forward(X).clamp(1e-6, 1 - 1e-6)
        F.binary_cross_entropy(p, y).backward()
        opt.step()
    with chainrule.no_grad():
        return F.binary_cross_entropy(forward(X).clamp(1e-6, 1 - 1e-6), y).item()


def _region_agreement(choice: np.ndarray, region: np.ndarray) -> float:
    # which expert takes which region is arbitrary: count agreement up to relabelling
    return float(max(np.mean(choice == region), np.mean(choice != region)))


def run(fast: bool = False, out_dir=None) -> Evidence:
    rng = seed(0)
    n, steps = (600, 400) if fast else (2000, 2000)
    X_np, y_np, region = two_regions(rng, n)
    X, y = to_tensor(X_np), to_tensor(y_np)

    # Gradient descent on a MoE has local minima: from about half of the random inits the
    # gate settles on a worse split (~93% accuracy). Keep the restart with the lowest
    # training loss, and report how many restarts found the two regions.
    restarts, found, best_loss = 4, 0, np.inf
    for restart in range(restarts):
        chainrule.manual_seed(restart)
        candidate, candidate_forward = build_moe()
        loss = _fit(candidate, candidate_forward, X, y, steps, lr=0.05)
        with chainrule.no_grad():
            choice = gate_probs(candidate, X).numpy().argmax(1)
        found += _region_agreement(choice, region) >= 0.9
        if loss < best_loss:
            best_loss, moe, moe_forward = loss, candidate, candidate_forward
    chainrule.manual_seed(0)
    linear = nn.Linear(2, 1)
    _fit(linear, lambda x: chainrule.sigmoid(linear(x)).reshape(-1), X, y, steps, lr=0.05)

    with chainrule.no_grad():
        moe_acc = float(np.mean((moe_forward(X).numpy() > 0.5) == y_np))
        lin_acc = float(np.mean((linear(X).numpy().reshape(-1) > 0) == y_np))
        choice = gate_probs(moe, X).numpy().argmax(1)
    agreement = _region_agreement(choice, region)
    holds = moe_acc >= 0.95 and lin_acc < 0.80 and agreement >= 0.9
    rows = [
        ["one linear model", 3, lin_acc, "-"],
        [
            f"2 linear experts + softmax gate (best of {restarts}; {found} found the regions)",
            sum(p.numel() for p in moe.parameters()),
            moe_acc,
            agreement,
        ],
    ]

    fig, axes = new_figure(1, 2, width=4.5)
    gx, gy = np.meshgrid(np.linspace(-1, 1, 200), np.linspace(-1, 1, 200))
    grid = to_tensor(np.column_stack([gx.ravel(), gy.ravel()]))
    with chainrule.no_grad():
        gate_map = gate_probs(moe, grid).numpy()[:, 0].reshape(gx.shape)
        pred_map = moe_forward(grid).numpy().reshape(gx.shape)
    ax = axes[0, 0]
    im = ax.contourf(gx, gy, gate_map, levels=20, cmap="PuOr", vmin=0, vmax=1)
    fig.colorbar(im, ax=ax, label="gate weight of expert 0")
    ax.axvline(0, color="k", ls=":", lw=0.8)
    ax.set(title=f"gate: agrees with the region on {agreement:.0%}", xlabel="x0", ylabel="x1")
    ax = axes[0, 1]
    ax.contourf(gx, gy, pred_map > 0.5, alpha=0.25, cmap="coolwarm")
    ax.scatter(X_np[:, 0], X_np[:, 1], c=y_np, cmap="coolwarm", s=4)
    ax.set(title=f"MoE accuracy {moe_acc:.1%} (linear: {lin_acc:.1%})", xlabel="x0")
    figure = save_figure(fig, out_dir, "mixture_of_experts.png")

    return finish(
        Evidence(
            name="mixture-of-experts",
            claim=CLAIM,
            claim_holds=bool(holds),
            numbers={
                "moe_implementation": type(moe).__name__,
                "moe_accuracy": moe_acc,
                "linear_accuracy": lin_acc,
                "gate_region_agreement": agreement,
                "restarts": restarts,
                "restarts_that_found_regions": int(found),
            },
            headers=["model", "parameters", "accuracy", "gate agrees with region"],
            rows=rows,
            figures=[figure],
        )
    )
