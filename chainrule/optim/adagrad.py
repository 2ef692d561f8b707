"""Adagrad: per-coordinate learning rates that shrink with the accumulated squared gradient."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chainrule.optim import functional as F
from chainrule.optim.optimizer import Optimizer, _scalar_state
from chainrule.tensor import Tensor

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011), as ``torch.optim.Adagrad``.

    Math: s = s + g^2;  p = p - lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps).

    Args:
        params: parameters to optimize, or dicts defining parameter groups.
        lr: learning rate. Default: 1e-2.
        lr_decay: learning rate decay. Default: 0.
        weight_decay: L2 penalty. Default: 0.
        initial_accumulator_value: starting value of the sums s. Default: 0.
        eps: added to the denominator for numerical stability. Default: 1e-10.
        maximize: maximize the objective instead of minimizing it. Default: False.

    Example:
        >>> import chainrule as cr
        >>> from chainrule import optim
        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = optim.Adagrad([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}"
            )
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
        }
        super().__init__(params, defaults)
        # As in PyTorch, the state is created eagerly, from the constructor's
        # initial_accumulator_value (a per-group value is not used for the sums).
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p: Tensor) -> None:
        state = self.state[p]
        state["step"] = _scalar_state(0.0)
        value = self.defaults["initial_accumulator_value"]
        state["sum"] = Tensor._make(p._device.xp.full_like(p.data, value), p._device)

    def _update_group(self, group: dict[str, Any]) -> None:
        for p in self._params_with_grad(group):
            state = self.state[p]
            if len(state) == 0:  # parameters of a group added later
                self._init_state(p)
            step = state["step"]
            step.data += 1
            F.adagrad(
                p.data,
                p.grad.data,
                state["sum"].data,
                step=float(step.data),
                lr=group["lr"],
                lr_decay=group["lr_decay"],
                weight_decay=group["weight_decay"],
                eps=group["eps"],
                maximize=group["maximize"],
            )
            self._bump_version(p)
