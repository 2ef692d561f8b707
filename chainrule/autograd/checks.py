"""Checking gradients: finite differences (gradcheck) and NaN/Inf hunting (detect_anomaly)."""

from __future__ import annotations

import warnings

import numpy as np

from chainrule.autograd.function import _anomaly_mode, no_grad
from chainrule.backend import to_numpy


class GradcheckError(RuntimeError):
    """Analytic and numerical Jacobians disagree."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, list | tuple) else (x,)


def _flat_outputs(out) -> np.ndarray:
    from chainrule.tensor import Tensor

    outs = [o for o in _as_tuple(out) if isinstance(o, Tensor) and o.data.dtype.kind == "f"]
    return np.concatenate([to_numpy(o.data).astype(np.float64).ravel() for o in outs])


def gradcheck(
    fn,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Compare backward's gradients with central differences, element by element.

    numeric  J[k, j] = (f(x + eps e_k)_j - f(x - eps e_k)_j) / (2 eps)
    analytic J[k, j] = the k-th entry of backward() with the one-hot cotangent e_j

    Passes when |analytic - numeric| <= atol + rtol |numeric| everywhere. On failure the error
    names the worst element: input index, element, output element, analytic and numeric value.
    Inputs should be float64: float32 differences are too coarse for these tolerances.
    """
    from chainrule.autograd.engine import grad as autograd_grad
    from chainrule.tensor import Tensor

    inputs = _as_tuple(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input requires grad")
    for i in diff:
        if inputs[i].data.dtype != np.float64:
            warnings.warn(
                f"gradcheck: input {i} is {inputs[i].dtype}, not float64; finite differences "
                "in low precision are unreliable",
                stacklevel=2,
            )
    outs = [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor) and o.requires_grad]
    if not outs:
        raise ValueError("gradcheck: no output requires grad")
    sizes = [o.data.size for o in outs]
    n_out = sum(sizes)

    numeric = {}
    with no_grad():
        for i in diff:
            x = inputs[i].data
            jac = np.zeros((x.size, n_out))
            for k in range(x.size):
                idx = np.unravel_index(k, x.shape)
                orig = x[idx].copy()
                x[idx] = orig + eps
                f_plus = _flat_outputs(fn(*inputs))
                x[idx] = orig - eps
                f_minus = _flat_outputs(fn(*inputs))
                x[idx] = orig
                jac[k] = (f_plus - f_minus) / (2 * eps)
            numeric[i] = jac

    analytic = {i: np.zeros((inputs[i].data.size, n_out)) for i in diff}
    xp_of = [o._device.xp for o in outs]
    col = 0
    for o_idx, size in enumerate(sizes):
        for j in range(size):
            cots = [
                xp_of[m].zeros(outs[m].data.shape, outs[m].data.dtype) for m in range(len(outs))
            ]
            cots[o_idx].reshape(-1)[j] = 1
            grads = autograd_grad(
                outs,
                [inputs[i] for i in diff],
                grad_outputs=[Tensor._make(c, outs[m]._device) for m, c in enumerate(cots)],
                retain_graph=True,
                allow_unused=True,
            )
            for i, g in zip(diff, grads):
                if g is not None:
                    analytic[i][:, col] = to_numpy(g.data).astype(np.float64).ravel()
            col += 1

    for i in diff:
        a, n = analytic[i], numeric[i]
        excess = np.abs(a - n) - (atol + rtol * np.abs(n))
        bad = ~(excess <= 0)  # NaN counts as a failure
        if bad.any():
            k, j = np.unravel_index(np.argmax(np.where(np.isnan(excess), np.inf, excess)), a.shape)
            elem = tuple(int(v) for v in np.unravel_index(k, inputs[i].data.shape))
            msg = (
                f"gradcheck: Jacobian mismatch for input {i} (shape {tuple(inputs[i].shape)}), "
                f"element {elem}, output element {j}: analytic {a[k, j]:.10g}, "
                f"numeric {n[k, j]:.10g} ({int(bad.sum())} of {bad.size} entries exceed "
                f"atol={atol} + rtol={rtol} * |numeric|)"
            )
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


class detect_anomaly:  # noqa: N801 - PyTorch's name
    """Within this context, every node remembers the user's line that created it, and a NaN or
    Inf produced in forward or backward raises an error naming the op and that line.

    Example:
        >>> with chainrule.autograd.detect_anomaly():
        ...     loss = model(x).log().sum()
        ...     loss.backward()
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self._token = _anomaly_mode.set(self.check_nan)
        return self

    def __exit__(self, *exc):
        _anomaly_mode.reset(self._token)
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper
