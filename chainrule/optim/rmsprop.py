"""RMSprop: scale each coordinate by a running root-mean-square of its gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chainrule.optim import functional as F
from chainrule.optim.optimizer import Optimizer, _scalar_state
from chainrule.tensor import Tensor

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, 2012), as ``torch.optim.RMSprop``.

    Math: v = alpha v + (1 - alpha) g^2  (centered: minus the square of the running mean of g);
    b = momentum b + g / (sqrt(v) + eps);  p = p - lr b  (without momentum: p = p - lr g / ...).

    Args:
        params: parameters to optimize, or dicts defining parameter groups.
        lr: learning rate. Default: 1e-2.
        alpha: smoothing constant of the running average of g^2. Default: 0.99.
        eps: added to the denominator for numerical stability. Default: 1e-8.
        weight_decay: L2 penalty. Default: 0.
        momentum: momentum factor. Default: 0.
        centered: normalise by an estimate of the gradient's variance. Default: False.
        maximize: maximize the objective instead of minimizing it. Default: False.

    Example:
        >>> import chainrule as cr
        >>> from chainrule import optim
        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = optim.RMSprop([w], lr=0.01)
        >>> (w * w).sum().backward()
        >>> opt.step()
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        momentum, centered = group["momentum"], group["centered"]
        for p in self._params_with_grad(group):
            state = self.state[p]
            xp = p._device.xp
            if len(state) == 0:
                state["step"] = _scalar_state(0.0)
                state["square_avg"] = Tensor._make(xp.zeros_like(p.data), p._device)
                if momentum > 0:
                    state["momentum_buffer"] = Tensor._make(xp.zeros_like(p.data), p._device)
                if centered:
                    state["grad_avg"] = Tensor._make(xp.zeros_like(p.data), p._device)
            state["step"].data += 1
            F.rmsprop(
                p.data,
                p.grad.data,
                state["square_avg"].data,
                state["grad_avg"].data if centered else None,
                state["momentum_buffer"].data if momentum > 0 else None,
                lr=group["lr"],
                alpha=group["alpha"],
                eps=group["eps"],
                weight_decay=group["weight_decay"],
                momentum=momentum,
                centered=centered,
                maximize=group["maximize"],
            )
            self._bump_version(p)
