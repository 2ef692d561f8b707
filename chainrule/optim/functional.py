"""Optimizer update rules as pure functions on raw arrays.

Each function updates ``param`` and its state arrays in place (NumPy or CuPy ufuncs with
``out=``) and returns nothing, except :func:`sgd`, which returns its momentum buffer (created
on the first step). The gradient array is only read. Hyperparameters are Python numbers, so
float32 arrays stay float32 (a Python float never upcasts an array under NumPy 2).

The operation order follows ``torch.optim``'s single-tensor code paths, so that trajectories
agree with PyTorch's to float32 rounding.

Notation: g is the gradient (after ``maximize`` and L2 weight decay), lr the learning rate,
t the step count (1 on the first step), m and v the first and second moment estimates.
"""

from __future__ import annotations

from chainrule.backend import device_of


def _xp(array):
    """The array module (numpy or cupy) that owns ``array``."""
    return device_of(array).xp


def _effective_grad(xp, param, grad, weight_decay: float, maximize: bool):
    """g = (-grad if maximize else grad) + weight_decay * param; never writes into ``grad``."""
    if maximize:
        g = xp.negative(grad)
        if weight_decay != 0:
            g += param * weight_decay
        return g
    if weight_decay != 0:
        g = xp.multiply(param, weight_decay)
        g += grad
        return g
    return grad


def _lerp_(xp, avg, target, weight: float, scratch) -> None:
    """avg += weight * (target - avg), i.e. torch's ``avg.lerp_(target, weight)``."""
    xp.subtract(target, avg, out=scratch)
    scratch *= weight
    avg += scratch


def _update_moments(xp, exp_avg, exp_avg_sq, g, beta1: float, beta2: float, scratch) -> None:
    """The Adam family's moment estimates, in place: m = b1 m + (1 - b1) g (as torch's
    ``lerp_``) and v = b2 v + (1 - b2) g^2 (``scratch`` is overwritten)."""
    _lerp_(xp, exp_avg, g, 1.0 - beta1, scratch)
    exp_avg_sq *= beta2
    xp.multiply(g, g, out=scratch)
    scratch *= 1.0 - beta2
    exp_avg_sq += scratch


def sgd(
    param,
    grad,
    momentum_buffer=None,
    *,
    lr: float,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
    maximize: bool = False,
):
    """Stochastic gradient descent with optional (Nesterov) momentum.

    b = momentum * b + (1 - dampening) * g   (b = g on the first step);
    p = p - lr * (g + momentum * b if nesterov else b)   (p = p - lr * g without momentum).

    Returns the momentum buffer (a new array on the first step, ``None`` without momentum).
    """
    xp = _xp(param)
    lr, momentum, dampening = float(lr), float(momentum), float(dampening)
    g = _effective_grad(xp, param, grad, float(weight_decay), maximize)
    if momentum != 0:
        if momentum_buffer is None:
            momentum_buffer = xp.array(g, copy=True)
        else:
            momentum_buffer *= momentum
            if dampening == 0:
                momentum_buffer += g
            else:
                momentum_buffer += g * (1.0 - dampening)
        if nesterov:
            g = g + momentum_buffer * momentum
        else:
            g = momentum_buffer
    param += g * -lr
    return momentum_buffer


def adagrad(
    param,
    grad,
    state_sum,
    *,
    step: int,
    lr: float,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    eps: float = 1e-10,
    maximize: bool = False,
) -> None:
    """Adagrad: per-coordinate steps shrink with the accumulated squared gradient.

    s = s + g^2;  p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps).
    """
    xp = _xp(param)
    g = _effective_grad(xp, param, grad, float(weight_decay), maximize)
    clr = float(lr) / (1 + (float(step) - 1) * float(lr_decay))
    scratch = xp.multiply(g, g)
    state_sum += scratch
    xp.sqrt(state_sum, out=scratch)
    scratch += float(eps)
    xp.divide(g, scratch, out=scratch)
    scratch *= -clr
    param += scratch


def rmsprop(
    param,
    grad,
    square_avg,
    grad_avg=None,
    momentum_buffer=None,
    *,
    lr: float,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
    maximize: bool = False,
) -> None:
    """RMSprop: divide the gradient by a running root-mean-square of recent gradients.

    v = alpha * v + (1 - alpha) * g^2;  (centered: a = alpha * a + (1 - alpha) * g, v~ = v - a^2)
    b = momentum * b + g / (sqrt(v~) + eps);  p = p - lr * b   (without momentum: b = the ratio).
    """
    xp = _xp(param)
    alpha, eps, lr, momentum = float(alpha), float(eps), float(lr), float(momentum)
    g = _effective_grad(xp, param, grad, float(weight_decay), maximize)
    scratch = xp.multiply(g, g)
    square_avg *= alpha
    scratch *= 1.0 - alpha
    square_avg += scratch
    if centered:
        _lerp_(xp, grad_avg, g, 1.0 - alpha, scratch)
        xp.multiply(grad_avg, grad_avg, out=scratch)
        xp.subtract(square_avg, scratch, out=scratch)
        xp.sqrt(scratch, out=scratch)
    else:
        xp.sqrt(square_avg, out=scratch)
    scratch += eps
    xp.divide(g, scratch, out=scratch)
    if momentum > 0:
        momentum_buffer *= momentum
        momentum_buffer += scratch
        xp.multiply(momentum_buffer, -lr, out=scratch)
    else:
        scratch *= -lr
    param += scratch


def adam(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    max_exp_avg_sq=None,
    *,
    step: int,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
    maximize: bool = False,
    decoupled_weight_decay: bool = False,
) -> None:
    """Adam: bias-corrected moment estimates; AMSGrad uses the running maximum of v.

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  (amsgrad: v_max = max(v_max, v))
    p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
    With ``decoupled_weight_decay`` (AdamW) the decay is p = p (1 - lr wd), not g = g + wd p.
    """
    xp = _xp(param)
    lr, beta1, beta2, step = float(lr), float(beta1), float(beta2), float(step)
    weight_decay = float(weight_decay)
    if weight_decay != 0 and decoupled_weight_decay:
        param *= 1.0 - lr * weight_decay
        weight_decay = 0.0
    g = _effective_grad(xp, param, grad, weight_decay, maximize)
    scratch = xp.empty_like(param)
    _update_moments(xp, exp_avg, exp_avg_sq, g, beta1, beta2, scratch)

    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2**0.5
    if amsgrad:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        xp.sqrt(max_exp_avg_sq, out=scratch)
    else:
        xp.sqrt(exp_avg_sq, out=scratch)
    scratch /= bias_correction2_sqrt
    scratch += float(eps)
    xp.divide(exp_avg, scratch, out=scratch)
    scratch *= -step_size
    param += scratch


def adamw(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq=None, **kwargs) -> None:
    """AdamW: Adam with decoupled weight decay.

    p = p (1 - lr wd), then the Adam step (see :func:`adam`).
    """
    kwargs["decoupled_weight_decay"] = True
    adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, **kwargs)


def nadam(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    mu_product,
    *,
    step: int,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum_decay: float = 4e-3,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
) -> None:
    """NAdam: Adam with Nesterov momentum and a warming momentum schedule mu_t.

    mu_t = b1 (1 - 0.96^(t psi) / 2);  P_t = prod mu_1..mu_t (``mu_product``, updated in place);
    p = p - lr (1 - mu_t) / (1 - P_t) g / d - lr mu_{t+1} / (1 - P_t mu_{t+1}) m / d,
    d = sqrt(v / (1 - b2^t)) + eps.
    """
    xp = _xp(param)
    lr, beta1, beta2, step = float(lr), float(beta1), float(beta2), float(step)
    weight_decay, momentum_decay = float(weight_decay), float(momentum_decay)
    bias_correction2 = 1 - beta2**step
    if weight_decay != 0 and decoupled_weight_decay:
        param *= 1.0 - lr * weight_decay
        weight_decay = 0.0
    g = _effective_grad(xp, param, grad, weight_decay, maximize)

    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
    # NOTE: mu_product is a 0-d float32 array, as in PyTorch, so that the product rounds alike.
    mu_product *= mu
    mu_product_value = float(mu_product)
    mu_product_next = mu_product_value * mu_next

    scratch = xp.empty_like(param)
    _update_moments(xp, exp_avg, exp_avg_sq, g, beta1, beta2, scratch)

    denom = xp.divide(exp_avg_sq, bias_correction2)
    xp.sqrt(denom, out=denom)
    denom += float(eps)
    xp.divide(g, denom, out=scratch)
    scratch *= -lr * (1.0 - mu) / (1.0 - mu_product_value)
    param += scratch
    xp.divide(exp_avg, denom, out=scratch)
    scratch *= (-lr * mu_next) / (1.0 - mu_product_next)
    param += scratch


def radam(
    param,
    grad,
    exp_avg,
    exp_avg_sq,
    *,
    step: int,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
) -> None:
    """RAdam: Adam whose adaptive term is switched on once its variance is tractable.

    rho_inf = 2 / (1 - b2) - 1;  rho_t = rho_inf - 2 t b2^t / (1 - b2^t);
    p = p - lr m / (1 - b1^t) * (r_t sqrt(1 - b2^t) / (sqrt(v) + eps) if rho_t > 5 else 1),
    r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)).
    """
    xp = _xp(param)
    lr, beta1, beta2, step = float(lr), float(beta1), float(beta2), float(step)
    weight_decay = float(weight_decay)
    if weight_decay != 0 and decoupled_weight_decay:
        param *= 1.0 - lr * weight_decay
        weight_decay = 0.0
    g = _effective_grad(xp, param, grad, weight_decay, maximize)

    scratch = xp.empty_like(param)
    _update_moments(xp, exp_avg, exp_avg_sq, g, beta1, beta2, scratch)

    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2

    xp.divide(exp_avg, bias_correction1, out=scratch)
    scratch *= lr
    if rho_t > 5.0:
        rect = (
            (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        ) ** 0.5
        adaptive = xp.sqrt(exp_avg_sq)
        adaptive += float(eps)
        xp.divide(bias_correction2**0.5, adaptive, out=adaptive)
        scratch *= adaptive
        scratch *= rect
    param -= scratch


def adamax(
    param,
    grad,
    exp_avg,
    exp_inf,
    *,
    step: int,
    lr: float,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> None:
    """Adamax: Adam with the infinity norm in place of the second moment.

    m = b1 m + (1 - b1) g;  u = max(b2 u, |g| + eps);  p = p - lr / (1 - b1^t) * m / u.
    """
    xp = _xp(param)
    lr, beta1, beta2, step = float(lr), float(beta1), float(beta2), float(step)
    g = _effective_grad(xp, param, grad, float(weight_decay), maximize)
    scratch = xp.empty_like(param)
    _lerp_(xp, exp_avg, g, 1.0 - beta1, scratch)
    exp_inf *= beta2
    xp.abs(g, out=scratch)
    scratch += float(eps)
    xp.maximum(exp_inf, scratch, out=exp_inf)
    clr = lr / (1 - beta1**step)
    xp.divide(exp_avg, exp_inf, out=scratch)
    scratch *= -clr
    param += scratch
