"""Jacobians and vector-Jacobian products of whole functions.

Backprop never forms a Jacobian: it computes vector-Jacobian products ``v^T J`` one node at a
time. ``jacobian`` builds the full matrix, one backward pass per output element, for teaching
and checking.
"""

from __future__ import annotations

from chainrule.autograd.engine import grad as autograd_grad


def _prepare(inputs):
    from chainrule.tensor import Tensor

    single = isinstance(inputs, Tensor)
    inputs = (inputs,) if single else tuple(inputs)
    prepared = tuple(Tensor._make(t.data, t._device).requires_grad_(True) for t in inputs)
    return single, prepared


def vjp(fn, inputs, v=None):
    """``(fn(inputs), v^T J)``: the vector-Jacobian product that backward computes.

    Args:
        fn: a function of one or more tensors returning one tensor.
        inputs: a Tensor or a tuple of Tensors.
        v: the cotangent, the shape of ``fn``'s output (may be None for a scalar output).
    """
    single, xs = _prepare(inputs)
    out = fn(*xs)
    grads = autograd_grad(out, xs, grad_outputs=v, allow_unused=True)
    grads = tuple(g if g is not None else _zeros_like(x) for g, x in zip(grads, xs))
    return out.detach(), grads[0] if single else grads


def jacobian(fn, inputs):
    """The Jacobian of ``fn`` at ``inputs``, shape ``output.shape + input.shape``.

    Example (the softmax Jacobian is diag(s) - s s^T):
        >>> x = chainrule.randn(4)
        >>> J = jacobian(lambda t: t.softmax(0), x)
    """
    from chainrule.tensor import Tensor

    single, xs = _prepare(inputs)
    out = fn(*xs)
    xp = out._device.xp
    rows = [[] for _ in xs]
    n = out.data.size
    for j in range(n):
        cot = xp.zeros(n, dtype=out.data.dtype)
        cot[j] = 1
        grads = autograd_grad(
            out,
            xs,
            grad_outputs=Tensor._make(cot.reshape(out.data.shape), out._device),
            retain_graph=j < n - 1,
            allow_unused=True,
        )
        for r, g, x in zip(rows, grads, xs):
            r.append(g.data if g is not None else xp.zeros_like(x.data))
    jacs = tuple(
        Tensor._make(xp.stack(r).reshape(out.data.shape + x.data.shape), out._device)
        for r, x in zip(rows, xs)
    )
    return jacs[0] if single else jacs


def _zeros_like(x):
    from chainrule.tensor import Tensor

    return Tensor._make(x._device.xp.zeros_like(x.data), x._device)
