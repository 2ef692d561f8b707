"""Gradient clipping and parameter/vector conversion (``chainrule.nn.utils``)."""

from __future__ import annotations

import math

from chainrule.autograd.function import no_grad
from chainrule.tensor import Tensor


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(
    parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False
) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    total = ||(g_1, ..., g_n)||_p ; each g <- g * min(1, max_norm / (total + 1e-6)).
    Returns the total norm before clipping. Exploding gradients keep their direction.
    """
    params = _grads(parameters)
    if not params:
        from chainrule.creation import tensor

        return tensor(0.0)
    xp = params[0]._device.xp
    norm_type = float(norm_type)
    # The norm of the per-parameter norms equals the norm of all elements together.
    norms = xp.stack([xp.linalg.norm(p.grad.data.ravel(), ord=norm_type) for p in params])
    total = xp.linalg.norm(norms, ord=norm_type)
    total = float(total)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        with no_grad():
            for p in params:
                p.grad.data *= p.grad.data.dtype.type(coef)
    return Tensor._make(xp.asarray(total, dtype=params[0].grad.data.dtype), params[0]._device)


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp every gradient element to [-clip_value, clip_value] in place."""
    for p in _grads(parameters):
        p.grad._device.xp.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    from chainrule.ops import cat

    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of ``vec`` into the parameters (in place)."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError("expected a 1-D Tensor for vec")
    offset = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.data[...] = vec.data[offset : offset + n].reshape(p.shape)
            p._version[0] += 1
            offset += n
    if offset != vec.numel():
        raise ValueError(f"vec has {vec.numel()} elements but the parameters have {offset}")


from chainrule.nn import rnn_utils as rnn  # noqa: E402, F401
