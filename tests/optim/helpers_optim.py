"""A small MLP trained in chainrule and in PyTorch from the same weights on the same batches.

``make_opt(optim_module, params)`` and ``make_sched(lr_scheduler_module, opt)`` are written
once and called with ``chainrule.optim`` and with ``torch.optim``: the APIs are the same.
"""

import numpy as np

import chainrule as cr
import chainrule.optim as cr_optim

SHAPES = [(8, 5), (8,), (3, 8), (3,)]  # W1, b1, W2, b2 of a 5-8-3 tanh MLP
STEPS = 50


def initial_weights(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(s) * 0.5).astype(np.float32) for s in SHAPES]


def batches(n: int = STEPS, seed: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [
        (
            rng.standard_normal((16, 5)).astype(np.float32),
            rng.standard_normal((16, 3)).astype(np.float32),
        )
        for _ in range(n)
    ]


def groups_of(params, grouped: bool):
    """All parameters in one group, or two groups with their own lr and weight decay."""
    if not grouped:
        return params
    return [
        {"params": params[:2], "lr": 0.03, "weight_decay": 0.1},
        {"params": params[2:]},
    ]


def cr_loss(params, x, y):
    w1, b1, w2, b2 = params
    h = (cr.tensor(x) @ w1.T + b1).tanh()
    out = h @ w2.T + b2
    return ((out - cr.tensor(y)) ** 2).mean()


def torch_loss(torch, params, x, y):
    w1, b1, w2, b2 = params
    h = torch.tanh(torch.from_numpy(x) @ w1.T + b1)
    out = h @ w2.T + b2
    return ((out - torch.from_numpy(y)) ** 2).mean()


class Run:
    """One framework's training run: parameters, optimizer, scheduler, step by step."""

    def __init__(self, torch, make_opt, make_sched=None, weights=None, grouped=False):
        self.torch = torch  # None for chainrule
        weights = initial_weights() if weights is None else weights
        if torch is None:
            self.params = [cr.tensor(w.copy(), requires_grad=True) for w in weights]
            module = cr_optim
        else:
            self.params = [torch.tensor(w.copy(), requires_grad=True) for w in weights]
            module = torch.optim
        self.opt = make_opt(module, groups_of(self.params, grouped))
        self.sched = make_sched(module.lr_scheduler, self.opt) if make_sched else None

    def step(self, x, y, metric=None):
        self.opt.zero_grad()
        if self.torch is None:
            loss = cr_loss(self.params, x, y)
        else:
            loss = torch_loss(self.torch, self.params, x, y)
        loss.backward()
        self.opt.step()
        if self.sched is not None:
            if metric is None:
                self.sched.step()
            else:
                self.sched.step(metric)
        return float(loss.item())

    def weights(self) -> list[np.ndarray]:
        if self.torch is None:
            return [p.data.copy() for p in self.params]
        return [p.detach().numpy().copy() for p in self.params]

    def lrs(self) -> list[float]:
        return [g["lr"] for g in self.opt.param_groups]
