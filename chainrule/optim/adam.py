"""The Adam family: Adam (and AMSGrad), AdamW, NAdam, RAdam, Adamax."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chainrule.optim import functional as F
from chainrule.optim.optimizer import Optimizer, _scalar_state
from chainrule.tensor import Tensor

__all__ = ["Adam", "AdamW", "NAdam", "RAdam", "Adamax"]

Params = Iterable[Tensor] | Iterable[dict[str, Any]]


def _check_adam_args(lr, betas, eps, weight_decay) -> None:
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def _zeros_like(p: Tensor) -> Tensor:
    return Tensor._make(p._device.xp.zeros_like(p.data), p._device)


def _next_step(state: dict[str, Any]) -> float:
    """Increment the state's step counter (a 0-d float32 tensor, as in PyTorch); return it."""
    step = state["step"]
    step.data += 1
    return float(step.data)


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2014), with AMSGrad and optional decoupled weight decay.

    Math: m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
    p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)  (AMSGrad: v -> max of v).

    Args:
        params: parameters to optimize, or dicts defining parameter groups.
        lr: learning rate. Default: 1e-3.
        betas: coefficients (b1, b2) of the running averages of g and g^2. Default: (0.9, 0.999).
        eps: added to the denominator for numerical stability. Default: 1e-8.
        weight_decay: L2 penalty added to the gradient. Default: 0.
        amsgrad: use the AMSGrad variant. Default: False.
        maximize: maximize the objective instead of minimizing it. Default: False.
        decoupled_weight_decay: decay the weights directly (AdamW). Default: False.

    Example:
        >>> import chainrule as cr
        >>> from chainrule import optim
        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        _check_adam_args(lr, betas, eps, weight_decay)
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        amsgrad = group["amsgrad"]
        for p in self._params_with_grad(group):
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _scalar_state(0.0)
                state["exp_avg"] = _zeros_like(p)
                state["exp_avg_sq"] = _zeros_like(p)
                if amsgrad:
                    state["max_exp_avg_sq"] = _zeros_like(p)
            F.adam(
                p.data,
                p.grad.data,
                state["exp_avg"].data,
                state["exp_avg_sq"].data,
                state["max_exp_avg_sq"].data if amsgrad else None,
                step=_next_step(state),
                lr=group["lr"],
                beta1=beta1,
                beta2=beta2,
                eps=group["eps"],
                weight_decay=group["weight_decay"],
                amsgrad=amsgrad,
                maximize=group["maximize"],
                decoupled_weight_decay=group["decoupled_weight_decay"],
            )
            self._bump_version(p)


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, 2017): Adam with decoupled weight decay.

    Math: p = p (1 - lr wd), then the Adam step on the raw gradient (see :class:`Adam`).

    Args:
        params: parameters to optimize, or dicts defining parameter groups.
        lr: learning rate. Default: 1e-3.
        betas: coefficients of the running averages of g and g^2. Default: (0.9, 0.999).
        eps: added to the denominator for numerical stability. Default: 1e-8.
        weight_decay: decoupled weight decay coefficient. Default: 1e-2.
        amsgrad: use the AMSGrad variant. Default: False.
        maximize: maximize the objective instead of minimizing it. Default: False.

    Example:
        >>> import chainrule as cr
        >>> from chainrule import optim
        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = optim.AdamW([w], lr=0.1, weight_decay=0.0)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )

    def _fill_defaults(self) -> None:
        super()._fill_defaults()
        for group in self.param_groups:  # AdamW is always decoupled, whatever was loaded
            group["decoupled_weight_decay"] = True


class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016): Adam with Nesterov momentum and a momentum warm-up schedule.

    Math: mu_t = b1 (1 - 0.96^(t psi) / 2), P_t = mu_1 ... mu_t, d = sqrt(v / (1 - b2^t)) + eps;
    p = p - lr (1 - mu_t) / (1 - P_t) g / d - lr mu_{t+1} / (1 - P_t mu_{t+1}) m / d.

    Args:
        params: parameters to optimize, or dicts defining parameter groups.
        lr: learning rate. Default: 2e-3.
        betas: coefficients of the running averages of g and g^2. Default: (0.9, 0.999).
        eps: added to the denominator for numerical stability. Default: 1e-8.
        weight_decay: weight decay (L2 penalty, or decoupled). Default: 0.
        momentum_decay: psi, the momentum schedule's decay. Default: 4e-3.
        decoupled_weight_decay: decay the weights directly, as AdamW does. Default: False.
        maximize: maximize the objective instead of minimizing it. Default: False.

    Example:
        >>> import chainrule as cr
        >>> from chainrule import optim
        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = optim.NAdam([w])
        >>> (w * w).sum().backward()
        >>> opt.step()
    """

    def __init__(
        self,
        params: Params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        _check_adam_args(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        for p in self._params_with_grad(group):
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _scalar_state(0.0)
                state["mu_product"] = _scalar_state(1.0)
                state["exp_avg"] = _zeros_like(p)
                state["exp_avg_sq"] = _zeros_like(p)
            F.nadam(
                p.data,
                p.grad.data,
                state["exp_avg"].data,
                state["exp_avg_sq"].data,
                state["mu_product"].data,
                step=_next_step(state),
                lr=group["lr"],
                beta1=beta1,
                beta2=beta2,
                eps=group["eps"],
                weight_decay=group["weight_decay"],
                momentum_decay=group["momentum_decay"],
                decoupled_weight_decay=group["decoupled_weight_decay"],
                maximize=group["maximize"],
            )
            self._bump_version(p)


class RAdam(Optimizer):
    r"""RAdam (Liu et al., 2019): Adam with a rectified (variance-aware) adaptive term.

    Math: rho_inf = 2 / (1 - b2) - 1, rho_t = rho_inf - 2 t b2^t / (1 - b2^t);
    p = p - lr m / (1 - b1^t) * (r_t sqrt(1 - b2^t) / (sqrt(v) + eps) if rho_t > 5 else 1).

    Args:
        params: parameters to optimize, or dicts defining parameter groups.
        lr: learning rate. Default: 1e-3.
        betas: coefficients of the running averages of g and g^2. Default: (0.9, 0.999).
        eps: added to the denominator for numerical stability. Default: 1e-8.
        weight_decay: weight decay (L2 penalty, or decoupled). Default: 0.
        decoupled_weight_decay: decay the weights directly, as AdamW does. Default: False.
        maximize: maximize the objective instead of minimizing it. Default: False.

    Example:
        >>> import chainrule as cr
        >>> from chainrule import optim
        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = optim.RAdam([w])
        >>> (w * w).sum().backward()
        >>> opt.step()
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        _check_adam_args(lr, betas, eps, weight_decay)
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        for p in self._params_with_grad(group):
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _scalar_state(0.0)
                state["exp_avg"] = _zeros_like(p)
                state["exp_avg_sq"] = _zeros_like(p)
            F.radam(
                p.data,
                p.grad.data,
                state["exp_avg"].data,
                state["exp_avg_sq"].data,
                step=_next_step(state),
                lr=group["lr"],
                beta1=beta1,
                beta2=beta2,
                eps=group["eps"],
                weight_decay=group["weight_decay"],
                decoupled_weight_decay=group["decoupled_weight_decay"],
                maximize=group["maximize"],
            )
            self._bump_version(p)


class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, 2014): Adam with the infinity norm in place of the second moment.

    Math: m = b1 m + (1 - b1) g;  u = max(b2 u, |g| + eps);  p = p - lr / (1 - b1^t) * m / u.

    Args:
        params: parameters to optimize, or dicts defining parameter groups.
        lr: learning rate. Default: 2e-3.
        betas: coefficients of the running average of g and of the infinity norm.
            Default: (0.9, 0.999).
        eps: added to |g| for numerical stability. Default: 1e-8.
        weight_decay: L2 penalty. Default: 0.
        maximize: maximize the objective instead of minimizing it. Default: False.

    Example:
        >>> import chainrule as cr
        >>> from chainrule import optim
        >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = optim.Adamax([w])
        >>> (w * w).sum().backward()
        >>> opt.step()
    """

    def __init__(
        self,
        params: Params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ) -> None:
        _check_adam_args(lr, betas, eps, weight_decay)
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        beta1, beta2 = group["betas"]
        for p in self._params_with_grad(group):
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _scalar_state(0.0)
                state["exp_avg"] = _zeros_like(p)
                state["exp_inf"] = _zeros_like(p)
            F.adamax(
                p.data,
                p.grad.data,
                state["exp_avg"].data,
                state["exp_inf"].data,
                step=_next_step(state),
                lr=group["lr"],
                beta1=beta1,
                beta2=beta2,
                eps=group["eps"],
                weight_decay=group["weight_decay"],
                maximize=group["maximize"],
            )
            self._bump_version(p)
