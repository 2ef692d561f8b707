"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chainrule.optim import functional as F
from chainrule.optim.optimizer import Optimizer
from chainrule.tensor import Tensor

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum), as ``torch.optim.SGD``.

    Math: b = momentum * b + (1 - dampening) * g  (b = g on the first step);
    p = p - lr * (g + momentum * b if nesterov else b), with g = grad + weight_decay * p.

    Args:
        params: parameters to optimize, or dicts defining parameter groups.
        lr: learning rate. Default: 1e-3.
        momentum: momentum factor. Default: 0.
        dampening: dampening for momentum. Default: 0.
        weight_decay: L2 penalty. Default: 0.
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening 0). Default: False.
        maximize: maximize the objective instead of minimizing it. Default: False.

    Example:
        >>> import chainrule as cr
        >>> from chainrule import optim
        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = optim.SGD([w], lr=0.1, momentum=0.9)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        momentum = group["momentum"]
        for p in self._params_with_grad(group):
            # Without momentum SGD keeps no state (not even an empty entry), as in PyTorch.
            state = self.state[p] if momentum != 0 else None
            buf = state.get("momentum_buffer") if state is not None else None
            new_buf = F.sgd(
                p.data,
                p.grad.data,
                buf.data if buf is not None else None,
                lr=group["lr"],
                momentum=momentum,
                dampening=group["dampening"],
                weight_decay=group["weight_decay"],
                nesterov=group["nesterov"],
                maximize=group["maximize"],
            )
            if momentum != 0 and buf is None:
                state["momentum_buffer"] = Tensor._make(new_buf, p._device)
            self._bump_version(p)
