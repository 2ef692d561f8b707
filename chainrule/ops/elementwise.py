"""Elementwise ops: arithmetic, powers, exponentials, trigonometry, comparisons, where.

Broadcasting follows NumPy (= PyTorch); the engine sums each gradient back to its input's
shape, so backward here returns full-size gradients.
"""

from __future__ import annotations

import math

from chainrule.autograd.function import Function, graph_inputs
from chainrule.ops.common import (
    as_tensor_like,
    binary_operands,
    cast,
    constant_like,
    exp_no_underflow,
    piecewise_linear_backward_graph,
)
from chainrule.tensor import Tensor

# ---------------------------------------------------------------- arithmetic


class Add(Function):
    """y = a + b;  dy/da = 1, dy/db = 1."""

    rule = "d(a + b)/da = 1, d(a + b)/db = 1"

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad

    @staticmethod
    def backward_graph(ctx, grad):
        return grad, grad


class Sub(Function):
    """y = a - b;  dy/da = 1, dy/db = -1."""

    rule = "d(a - b)/da = 1, d(a - b)/db = -1"

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)

    @staticmethod
    def backward_graph(ctx, grad):
        return grad, neg(grad)


class Mul(Function):
    """y = a * b;  dy/da = b, dy/db = a."""

    rule = "d(a * b)/da = b, d(a * b)/db = a"

    @staticmethod
    def forward(ctx, a, b):
        # Save only what the other gradient needs: x * 2.0 keeps nothing of x.
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(b if need_a else None, a if need_b else None)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        b, a = ctx.saved_tensors
        return (grad * b if b is not None else None), (grad * a if a is not None else None)

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = graph_inputs(ctx)
        return mul(grad, b), mul(grad, a)


class Div(Function):
    """y = a / b;  dy/da = 1/b, dy/db = -a/b^2 = -y/b."""

    rule = "d(a / b)/da = 1/b, d(a / b)/db = -a/b^2"

    @staticmethod
    def forward(ctx, a, b):
        out = a / b
        ctx.save_for_backward(b, out if ctx.needs_input_grad[1] else None)
        return out

    @staticmethod
    def backward(ctx, grad):
        b, out = ctx.saved_tensors
        ga = grad / b if ctx.needs_input_grad[0] else None
        gb = -grad * out / b if ctx.needs_input_grad[1] else None
        return ga, gb

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = graph_inputs(ctx)
        ga = div(grad, b)
        return ga, (neg(mul(ga, div(a, b))) if ctx.needs_input_grad[1] else None)


class Remainder(Function):
    """y = a - floor(a/b) * b (the sign of b, like Python's %);  dy/da = 1, dy/db = -floor(a/b)."""

    rule = "d(a % b)/da = 1, d(a % b)/db = -floor(a / b)"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.remainder(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        gb = -grad * ctx.xp.floor_divide(a, b) if ctx.needs_input_grad[1] else None
        return grad, gb


class Neg(Function):
    """y = -x;  dy/dx = -1."""

    rule = "d(-x)/dx = -1"

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad

    @staticmethod
    def backward_graph(ctx, grad):
        return neg(grad)


class Pow(Function):
    """y = a ** b;  dy/da = b a^(b-1), dy/db = a^b ln(a)."""

    rule = "d(a^b)/da = b * a^(b-1), d(a^b)/db = a^b * ln(a)"

    @staticmethod
    def forward(ctx, a, b):
        out = a**b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        xp = ctx.xp
        ga = gb = None
        if ctx.needs_input_grad[0]:
            # 0^(b-1) with b < 1 is inf (the slope of x^b at 0), as in PyTorch, without
            # NumPy's divide-by-zero warning.
            with _ignore_errors(xp):
                if isinstance(b, int | float):
                    ga = grad * 0.0 if b == 0 else grad * (b * a ** (b - 1))
                else:
                    # NOTE: an exponent of 0 gives gradient 0 even where a^(b-1) is inf (a = 0).
                    ga = grad * xp.where(b == 0, 0.0, b * a ** (b - 1)).astype(a.dtype)
        if ctx.needs_input_grad[1]:
            with _ignore_errors(xp):
                logs = xp.log(a)
            # NOTE: 0^b with b >= 0 has derivative 0 in b (PyTorch's convention), not 0 * -inf.
            gb = grad * xp.where((a == 0) & (b >= 0), 0.0, out * logs).astype(out.dtype)
        return ga, gb

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = graph_inputs(ctx)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = mul(grad, mul(b, pow(a, sub(b, 1.0))))
        if ctx.needs_input_grad[1]:
            gb = mul(grad, mul(pow(a, b), log(a)))
        return ga, gb


# ---------------------------------------------------------------- exponentials and friends


class Exp(Function):
    """y = e^x;  dy/dx = e^x = y."""

    rule = "d exp(x)/dx = exp(x)"

    @staticmethod
    def forward(ctx, x):
        out = ctx.xp.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        return mul(grad, exp(x))


class Expm1(Function):
    """y = e^x - 1 (exact near 0);  dy/dx = e^x = y + 1."""

    rule = "d(exp(x) - 1)/dx = exp(x)"

    @staticmethod
    def forward(ctx, x):
        out = ctx.xp.expm1(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out + 1)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        return mul(grad, exp(x))


class Log(Function):
    """y = ln x;  dy/dx = 1/x."""

    rule = "d ln(x)/dx = 1/x"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        return div(grad, x)


class Log1p(Function):
    """y = ln(1 + x) (exact near 0);  dy/dx = 1/(1 + x)."""

    rule = "d ln(1 + x)/dx = 1/(1 + x)"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + x)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        return div(grad, add(x, 1.0))


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1/(2 sqrt(x)) = 1/(2y)."""

    rule = "d sqrt(x)/dx = 1/(2 sqrt(x))"

    @staticmethod
    def forward(ctx, x):
        out = ctx.xp.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad / (2 * out)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        return div(mul(grad, 0.5), sqrt(x))


class Tan(Function):
    """y = tan x;  dy/dx = 1 + tan^2 x = 1 + y^2."""

    rule = "d tan(x)/dx = 1 + tan(x)^2"

    @staticmethod
    def forward(ctx, x):
        out = ctx.xp.tan(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 + out * out)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        return mul(grad, add(mul(tan(x), tan(x)), 1.0))


class Asin(Function):
    """y = arcsin x (|x| <= 1);  dy/dx = 1 / sqrt(1 - x^2)."""

    rule = "d asin(x)/dx = 1 / sqrt(1 - x^2)"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.arcsin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / ctx.xp.sqrt(1 - x * x)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        return div(grad, sqrt(sub(1.0, mul(x, x))))


class Acos(Function):
    """y = arccos x (|x| <= 1);  dy/dx = -1 / sqrt(1 - x^2)."""

    rule = "d acos(x)/dx = -1 / sqrt(1 - x^2)"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.arccos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad / ctx.xp.sqrt(1 - x * x)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        return neg(div(grad, sqrt(sub(1.0, mul(x, x)))))


class Atan(Function):
    """y = arctan x;  dy/dx = 1 / (1 + x^2)."""

    rule = "d atan(x)/dx = 1 / (1 + x^2)"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.arctan(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + x * x)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        return div(grad, add(mul(x, x), 1.0))


class Atan2(Function):
    """y = atan2(a, b), the angle of the point (b, a);
    dy/da = b / (a^2 + b^2), dy/db = -a / (a^2 + b^2)."""

    rule = "d atan2(a, b)/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2)"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.arctan2(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        g = grad / (a * a + b * b)
        need_a, need_b = ctx.needs_input_grad
        return (g * b if need_a else None), (-g * a if need_b else None)

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = graph_inputs(ctx)
        g = div(grad, add(mul(a, a), mul(b, b)))
        return mul(g, b), neg(mul(g, a))


class Sinh(Function):
    """y = sinh x;  dy/dx = cosh x."""

    rule = "d sinh(x)/dx = cosh(x)"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.sinh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ctx.xp.cosh(x)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        return mul(grad, cosh(x))


class Cosh(Function):
    """y = cosh x;  dy/dx = sinh x."""

    rule = "d cosh(x)/dx = sinh(x)"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.cosh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ctx.xp.sinh(x)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        return mul(grad, sinh(x))


class Asinh(Function):
    """y = asinh x;  dy/dx = 1 / sqrt(x^2 + 1)."""

    rule = "d asinh(x)/dx = 1 / sqrt(x^2 + 1)"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.arcsinh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / ctx.xp.sqrt(x * x + constant_like(1.0, x))

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        return div(grad, sqrt(add(mul(x, x), 1.0)))


class Acosh(Function):
    """y = acosh x (x >= 1);  dy/dx = 1 / sqrt(x^2 - 1)."""

    rule = "d acosh(x)/dx = 1 / sqrt(x^2 - 1)"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.arccosh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / ctx.xp.sqrt(x * x - constant_like(1.0, x))

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        return div(grad, sqrt(sub(mul(x, x), 1.0)))


class Atanh(Function):
    """y = atanh x (|x| < 1);  dy/dx = 1 / (1 - x^2)."""

    rule = "d atanh(x)/dx = 1 / (1 - x^2)"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.arctanh(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (constant_like(1.0, x) - x * x)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        return div(grad, sub(1.0, mul(x, x)))


class Hypot(Function):
    """y = sqrt(a^2 + b^2), computed without overflow;  dy/da = a / y, dy/db = b / y."""

    rule = "d hypot(a, b)/da = a / hypot(a, b), d/db = b / hypot(a, b)"

    @staticmethod
    def forward(ctx, a, b):
        out = ctx.xp.hypot(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        g = grad / out
        return g * a, g * b

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = graph_inputs(ctx)
        g = div(grad, hypot(a, b))
        return mul(g, a), mul(g, b)


class LogAddExp(Function):
    """y = log(e^a + e^b) (base 2 with ``base2``), without overflow;
    dy/da = e^(a - y) = 1 / (1 + e^(b - a)) (base 2: 1 / (1 + 2^(b - a))), and dy/db alike."""

    rule = "d logaddexp(a, b)/da = 1 / (1 + exp(b - a)), d/db = 1 / (1 + exp(a - b))"

    @staticmethod
    def forward(ctx, a, b, base2=False):
        xp = ctx.xp
        out = xp.logaddexp2(a, b) if base2 else xp.logaddexp(a, b)
        ctx.save_for_backward(a, b)
        ctx.base2 = base2
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        xp = ctx.xp
        power = xp.exp2 if ctx.base2 else xp.exp
        one = constant_like(1.0, a)
        with _ignore_errors(xp):
            # 1 / (1 + e^(b - a)) = e^(a - y), written so that a = +inf, b finite gives 1, not
            # inf - inf (PyTorch's form); e^(b - a) may overflow to inf, giving 0.
            return grad / (one + power(b - a)), grad / (one + power(a - b))

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = graph_inputs(ctx)
        out = logaddexp2(a, b) if ctx.base2 else logaddexp(a, b)
        power = exp2 if ctx.base2 else exp
        return mul(grad, power(sub(a, out))), mul(grad, power(sub(b, out)))


class Sinc(Function):
    """y = sin(pi x) / (pi x), 1 at 0;  dy/dx = (cos(pi x) - y) / x, 0 at 0."""

    rule = "d sinc(x)/dx = (cos(pi x) - sinc(x)) / x (0 at x = 0)"

    @staticmethod
    def forward(ctx, x):
        out = ctx.xp.sinc(x)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        xp = ctx.xp
        zero = x == 0
        safe = xp.where(zero, constant_like(1.0, x), x)
        d = (xp.cos(constant_like(math.pi, x) * x) - out) / safe
        return grad * xp.where(zero, constant_like(0.0, x), d)


class Erf(Function):
    """y = erf x = 2/sqrt(pi) int_0^x e^(-t^2) dt;  dy/dx = 2/sqrt(pi) e^(-x^2)."""

    rule = "d erf(x)/dx = 2 / sqrt(pi) * exp(-x^2)"

    @staticmethod
    def forward(ctx, x):
        from chainrule.ops.nn import erf as _erf

        ctx.save_for_backward(x)
        return _erf(ctx.xp, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (1.1283791670955126 * exp_no_underflow(ctx.xp, -(x * x)))

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        return mul(grad, mul(exp(neg(mul(x, x))), 2.0 / math.sqrt(math.pi)))


class Erfinv(Function):
    """y = erfinv x (erf(y) = x, |x| < 1);  dy/dx = sqrt(pi)/2 e^(y^2)."""

    rule = "d erfinv(x)/dx = sqrt(pi) / 2 * exp(erfinv(x)^2)"

    @staticmethod
    def forward(ctx, x):
        out = _erfinv(ctx.xp, x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (0.886226925452758 * ctx.xp.exp(out * out))


# M. Giles' single-precision erfinv ("Approximating the erfinv function", GPU Computing Gems,
# 2010): a polynomial in w = -log(1 - x^2) on two ranges; then Newton steps on erf in float64.
# fmt: off
_ERFINV_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                   0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_ERFINV_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
                0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)
# fmt: on


def _erfinv(xp, x):
    """erfinv in x's dtype: Giles' approximation refined by two Newton steps in float64."""
    from chainrule.ops.nn import _cody_erf

    t = x.astype(xp.float64)
    inside = xp.abs(t) < 1
    safe = xp.where(inside, t, 0.0)
    w = -xp.log((1 - safe) * (1 + safe))
    central, tail = w - 2.5, xp.sqrt(w) - 3.0
    p_c = xp.full_like(t, _ERFINV_CENTRAL[0])
    p_t = xp.full_like(t, _ERFINV_TAIL[0])
    for c, d in zip(_ERFINV_CENTRAL[1:], _ERFINV_TAIL[1:], strict=True):
        p_c = c + p_c * central
        p_t = d + p_t * tail
    y = xp.where(w < 5, p_c, p_t) * safe
    for _ in range(2):  # Newton on erf(y) = x: each step doubles the correct digits
        y = y - (_cody_erf(xp, y) - safe) / (1.1283791670955126 * xp.exp(-y * y))
    edge = xp.where(xp.abs(t) == 1, xp.copysign(xp.inf, t), xp.nan)  # +-1: +-inf; beyond: nan
    return xp.where(inside, y, edge).astype(x.dtype)


class Sin(Function):
    """y = sin x;  dy/dx = cos x."""

    rule = "d sin(x)/dx = cos(x)"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ctx.xp.cos(x)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        return mul(grad, cos(x))


class Cos(Function):
    """y = cos x;  dy/dx = -sin x."""

    rule = "d cos(x)/dx = -sin(x)"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * ctx.xp.sin(x)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        return neg(mul(grad, sin(x)))


class Tanh(Function):
    """y = tanh x;  dy/dx = 1 - tanh(x)^2 = 1 - y^2."""

    rule = "d tanh(x)/dx = 1 - tanh(x)^2"

    @staticmethod
    def forward(ctx, x):
        out = ctx.xp.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (constant_like(1.0, out) - out * out)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        y = tanh(x)
        return mul(grad, sub(1.0, mul(y, y)))


class Sigmoid(Function):
    """y = 1/(1 + e^-x);  dy/dx = y (1 - y)."""

    rule = "d sigmoid(x)/dx = sigmoid(x) * (1 - sigmoid(x))"

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        # NOTE: e^-|x| never overflows (and flushing its underflow to 0 keeps errstate quiet);
        # the two branches are the same function rearranged.
        e = exp_no_underflow(xp, -xp.abs(x))
        out = xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * (1 - out)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        s = sigmoid(x)
        return mul(grad, mul(s, sub(1.0, s)))


class Abs(Function):
    """y = |x|;  dy/dx = sign(x) (0 at 0, like PyTorch)."""

    rule = "d|x|/dx = sign(x)"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ctx.xp.sign(x)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        return mul(grad, sign(x))


class Relu(Function):
    """y = max(x, 0);  dy/dx = 1 if x > 0 else 0 (relu'(0) = 0, like PyTorch)."""

    rule = "d relu(x)/dx = 1 if x > 0 else 0"

    @staticmethod
    def forward(ctx, x):
        out = ctx.xp.maximum(x, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out > 0)

    @staticmethod
    def backward_graph(ctx, grad):
        (out,) = ctx.saved_tensors
        return mul(grad, Tensor._make((out > 0).astype(out.dtype), ctx.device))


# ---------------------------------------------------------------- clamps and selections


class Clamp(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 where lo <= x <= hi; dy/dlo, dy/dhi where clamped."""

    rule = "d clamp(x, lo, hi)/dx = 1 if lo <= x <= hi else 0"

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = ctx.xp
        ctx.save_for_backward(x, lo, hi)
        out = x
        if lo is not None:
            out = xp.maximum(out, lo)
        if hi is not None:
            out = xp.minimum(out, hi)
        return out if out is not x else x.copy()

    @staticmethod
    def backward(ctx, grad):
        x, lo, hi = ctx.saved_tensors
        keep = True
        if lo is not None:
            keep = x >= lo
        if hi is not None:
            keep = keep & (x <= hi)
        gx = grad * keep if ctx.needs_input_grad[0] else None
        # PyTorch's convention when both bounds are tensors: if lo > hi the output is hi.
        glo = ghi = None
        if ctx.needs_input_grad[1]:
            glo = grad * ((x < lo) & (lo < hi)) if hi is not None else grad * (x < lo)
        if ctx.needs_input_grad[2]:
            ghi = grad * ((x > hi) | (hi < lo)) if lo is not None else grad * (x > hi)
        return gx, glo, ghi

    @staticmethod
    def backward_graph(ctx, grad):
        x, lo, hi = ctx.saved_tensors
        gx, glo, ghi = Clamp.backward(ctx, ctx.xp.ones_like(grad.data))  # the 0/1 masks
        return tuple(
            None if m is None else mul(grad, Tensor._make(m.astype(grad.data.dtype), ctx.device))
            for m in (gx, glo, ghi)
        )


class Maximum(Function):
    """y = max(a, b) elementwise;  the gradient goes to the larger input (half each on ties)."""

    rule = "d max(a, b)/da = 1 if a > b, 1/2 if a == b, else 0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        wa = (a > b) + 0.5 * (a == b)
        return grad * wa.astype(grad.dtype), grad * (1 - wa).astype(grad.dtype)

    backward_graph = staticmethod(piecewise_linear_backward_graph)


class Minimum(Function):
    """y = min(a, b) elementwise;  the gradient goes to the smaller input (half each on ties)."""

    rule = "d min(a, b)/da = 1 if a < b, 1/2 if a == b, else 0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        wa = (a < b) + 0.5 * (a == b)
        return grad * wa.astype(grad.dtype), grad * (1 - wa).astype(grad.dtype)

    backward_graph = staticmethod(piecewise_linear_backward_graph)


class Where(Function):
    """y = a where cond else b;  dy/da = cond, dy/db = not cond."""

    rule = "d where(c, a, b)/da = c, d where(c, a, b)/db = 1 - c"

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        out = ctx.xp.where(cond, a, b)
        dt = a.dtype if hasattr(a, "dtype") else b.dtype
        return out.astype(dt, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        zero = grad.dtype.type(0)
        ga = ctx.xp.where(cond, grad, zero) if ctx.needs_input_grad[1] else None
        gb = ctx.xp.where(cond, zero, grad) if ctx.needs_input_grad[2] else None
        return None, ga, gb

    @staticmethod
    def backward_graph(ctx, grad):
        (cond,) = ctx.saved_tensors
        c = Tensor._make(cond, ctx.device)
        return None, where(c, grad, 0.0), where(c, 0.0, grad)


# ---------------------------------------------------------------- public functions


def add(a, b, alpha=1) -> Tensor:
    """a + alpha * b, broadcasting."""
    if alpha != 1:
        b = mul(b, alpha)
    return Add.apply(*binary_operands(a, b, "add"))


def _is_bool(x) -> bool:
    return isinstance(x, bool) or (isinstance(x, Tensor) and x.data.dtype == bool)


def sub(a, b, alpha=1) -> Tensor:
    """a - alpha * b, broadcasting."""
    if _is_bool(a) or _is_bool(b):
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    if alpha != 1:
        b = mul(b, alpha)
    return Sub.apply(*binary_operands(a, b, "sub"))


def mul(a, b) -> Tensor:
    """a * b elementwise, broadcasting."""
    return Mul.apply(*binary_operands(a, b, "mul"))


def div(a, b, rounding_mode=None) -> Tensor:
    """a / b (true division; integer inputs give floats). ``rounding_mode='floor'|'trunc'``."""
    a, b = binary_operands(a, b, "div")
    if rounding_mode is not None:
        q = _raw(a) / _raw(b)
        xp = _device_of(a, b).xp
        if rounding_mode == "floor":
            q = xp.floor(q)
        elif rounding_mode == "trunc":
            q = xp.trunc(q)
        else:
            raise ValueError(
                f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}"
            )
        dt = _dtype_of(a, b)
        return Tensor._make(q.astype(dt), _device_of(a, b))
    for x in (a, b):
        if isinstance(x, Tensor) and x.data.dtype.kind != "f":
            a = _to_float(a)
            b = _to_float(b)
            break
    return Div.apply(a, b)


true_divide = divide = div
multiply = mul
subtract = sub


def _no_integer_division_by_zero(a, b, op: str) -> None:
    """Integer division by zero has no answer: refuse it (NumPy would return 0), and bool
    operands, as PyTorch does."""
    if _is_bool(a) and _is_bool(b):
        raise RuntimeError(f'{op}: "{op}" is not implemented for bool tensors')
    if _dtype_of(a, b).kind in "iub":
        xp = _device_of(a, b).xp
        if bool((xp.asarray(_raw(b)) == 0).any()):
            raise RuntimeError(f"{op}: ZeroDivisionError (integer division by zero)")


def floor_divide(a, b) -> Tensor:
    """floor(a / b) (not differentiable)."""
    a, b = binary_operands(a, b, "floor_divide")
    _no_integer_division_by_zero(a, b, "floor_divide")
    xp = _device_of(a, b).xp
    return Tensor._make(xp.floor_divide(_raw(a), _raw(b)), _device_of(a, b))


def remainder(a, b) -> Tensor:
    """a % b with the sign of b (Python's and PyTorch's convention)."""
    a, b = binary_operands(a, b, "remainder")
    _no_integer_division_by_zero(a, b, "remainder")
    return Remainder.apply(a, b)


def neg(x: Tensor) -> Tensor:
    """-x;  d/dx = -1."""
    return Neg.apply(x)


negative = neg


def pow(a, b) -> Tensor:  # noqa: A001 - PyTorch's name
    """a ** b; the exponent may be a number or a tensor."""
    if _is_bool(a) and isinstance(b, Tensor) and b.data.dtype == bool:
        raise RuntimeError('pow: "pow" is not implemented for bool ** bool tensor')
    if isinstance(a, Tensor) and a.data.dtype == bool:
        a, b = binary_operands(a, b, "pow")  # bool ** int is int64, bool ** bool is bool
        if _is_bool(a) and _is_bool(b):
            xp = _device_of(a, b).xp
            return Tensor._make(xp.logical_or(_raw(a), xp.logical_not(_raw(b))), _device_of(a, b))
        return Pow.apply(a, b)
    if isinstance(a, Tensor) and isinstance(b, int | float) and not isinstance(b, bool):
        if a.data.dtype.kind != "f" and (isinstance(b, float) or b < 0):
            a = _to_float(a) if isinstance(b, float) else a
        return Pow.apply(a, float(b) if a.data.dtype.kind == "f" else b)
    return Pow.apply(*binary_operands(a, b, "pow"))


def exp(x: Tensor) -> Tensor:
    """e^x, elementwise;  d/dx = e^x."""
    return Exp.apply(_to_float(x))


def expm1(x: Tensor) -> Tensor:
    """e^x - 1, accurate for small x;  d/dx = e^x."""
    return Expm1.apply(_to_float(x))


def log(x: Tensor) -> Tensor:
    """The natural logarithm, elementwise;  d/dx = 1 / x."""
    return Log.apply(_to_float(x))


def log1p(x: Tensor) -> Tensor:
    """log(1 + x), accurate for small x;  d/dx = 1 / (1 + x)."""
    return Log1p.apply(_to_float(x))


def log2(x: Tensor) -> Tensor:
    """log base 2: ln(x) / ln(2)."""
    return mul(log(x), 1 / math.log(2))


def log10(x: Tensor) -> Tensor:
    """log10 x, elementwise;  d/dx = 1 / (x ln 10)."""
    return mul(log(x), 1 / math.log(10))


def sqrt(x: Tensor) -> Tensor:
    """sqrt x, elementwise;  d/dx = 1 / (2 sqrt x)."""
    return Sqrt.apply(_to_float(x))


def rsqrt(x: Tensor) -> Tensor:
    """1 / sqrt(x)."""
    return Pow.apply(_to_float(x), -0.5)


def square(x: Tensor) -> Tensor:
    """x^2, elementwise;  d/dx = 2x."""
    return Pow.apply(x, 2.0 if x.data.dtype.kind == "f" else 2)


def reciprocal(x: Tensor) -> Tensor:
    """1 / x."""
    return Div.apply(1.0, _to_float(x))


def sin(x: Tensor) -> Tensor:
    """sin x, elementwise;  d/dx = cos x."""
    return Sin.apply(_to_float(x))


def cos(x: Tensor) -> Tensor:
    """cos x, elementwise;  d/dx = -sin x."""
    return Cos.apply(_to_float(x))


def tan(x: Tensor) -> Tensor:
    """tan x, elementwise;  d/dx = 1 + tan^2 x."""
    return Tan.apply(_to_float(x))


def asin(x: Tensor) -> Tensor:
    """arcsin x (|x| <= 1), elementwise;  d/dx = 1 / sqrt(1 - x^2)."""
    return Asin.apply(_to_float(x))


def acos(x: Tensor) -> Tensor:
    """arccos x (|x| <= 1), elementwise;  d/dx = -1 / sqrt(1 - x^2)."""
    return Acos.apply(_to_float(x))


def atan(x: Tensor) -> Tensor:
    """arctan x, elementwise;  d/dx = 1 / (1 + x^2)."""
    return Atan.apply(_to_float(x))


def atan2(a: Tensor, b) -> Tensor:
    """The angle of the point (b, a) in (-pi, pi], elementwise, broadcasting."""
    a, b = binary_operands(_to_float(a), _to_float(b) if isinstance(b, Tensor) else b, "atan2")
    return Atan2.apply(a, b)


def sinh(x: Tensor) -> Tensor:
    """sinh x, elementwise;  d/dx = cosh x."""
    return Sinh.apply(_to_float(x))


def cosh(x: Tensor) -> Tensor:
    """cosh x, elementwise;  d/dx = sinh x."""
    return Cosh.apply(_to_float(x))


arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2


def erf(x: Tensor) -> Tensor:
    """The error function, elementwise (differentiable)."""
    return Erf.apply(_to_float(x))


def erfinv(x: Tensor) -> Tensor:
    """The inverse error function, elementwise (differentiable): erf(erfinv(x)) = x."""
    return Erfinv.apply(_to_float(x))


def nan_to_num(x: Tensor, nan: float = 0.0, posinf=None, neginf=None) -> Tensor:
    """x with nan, +inf and -inf replaced (by 0, the dtype's largest and lowest finite values
    unless given); the gradient passes where x was finite and is 0 where it was replaced."""
    if x.data.dtype.kind != "f":
        return x.clone()
    xp = x._device.xp
    info = xp.finfo(x.data.dtype)
    pos = float(info.max) if posinf is None else float(posinf)
    neg = float(info.min) if neginf is None else float(neginf)
    d = x.data
    fill = xp.where(xp.isnan(d), nan, xp.where(d > 0, pos, neg)).astype(d.dtype)
    return where(Tensor._make(xp.isfinite(d), x._device), x, Tensor._make(fill, x._device))


def isclose(a: Tensor, b, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
    """|a - b| <= atol + rtol |b|, elementwise (a bool tensor; not differentiable)."""
    a, b = binary_operands(a, b, "isclose")
    xp = _device_of(a, b).xp
    out = xp.isclose(_raw(a), _raw(b), rtol=rtol, atol=atol, equal_nan=equal_nan)
    return Tensor._make(xp.asarray(out), _device_of(a, b))


def allclose(a: Tensor, b, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
    """Whether every element of a and b is close (see ``isclose``): a Python bool."""
    return bool(isclose(a, b, rtol, atol, equal_nan).data.all())


def tanh(x: Tensor) -> Tensor:
    """tanh x, elementwise;  d/dx = 1 - tanh^2 x."""
    return Tanh.apply(_to_float(x))


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + e^-x), computed without overflow;  d/dx = s (1 - s)."""
    return Sigmoid.apply(_to_float(x))


def relu(x: Tensor) -> Tensor:
    """max(x, 0);  d/dx = 1 where x > 0, else 0."""
    return Relu.apply(x)


def abs(x: Tensor) -> Tensor:  # noqa: A001
    """|x|, elementwise;  d/dx = sign(x) (0 at 0)."""
    return Abs.apply(x)


absolute = abs


def clamp(x: Tensor, min=None, max=None) -> Tensor:  # noqa: A002 - PyTorch's names
    """Limit x to [min, max]; min and max may be numbers or tensors (either may be None)."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    from chainrule import dtypes

    lo = as_tensor_like(min, x) if min is not None and not isinstance(min, int | float) else min
    hi = as_tensor_like(max, x) if max is not None and not isinstance(max, int | float) else max
    # The result type of x and both bounds, by PyTorch's promotion (an int tensor clamped to
    # 0.5 becomes float rather than have its bound truncated).
    dt = x.dtype
    for bound in (lo, hi):
        if isinstance(bound, Tensor):
            dt = dtypes.result_type(dt, x.ndim, bound.dtype, bound.ndim)
        elif bound is not None:
            dt = dtypes.scalar_result_type(dt, bound)
    if dt != x.dtype:
        x = cast(x, dt)
    lo, hi = (
        cast(b, dt)
        if isinstance(b, Tensor) and b.dtype != dt
        else float(b)
        if isinstance(b, int | float) and dt.is_floating_point
        else b
        for b in (lo, hi)
    )
    return Clamp.apply(x, lo, hi)


clip = clamp


def maximum(a: Tensor, b: Tensor) -> Tensor:
    """The elementwise larger of a and b (broadcasting); the gradient goes to the larger
    (split at ties)."""
    return Maximum.apply(*binary_operands(a, b, "maximum"))


def minimum(a: Tensor, b: Tensor) -> Tensor:
    """The elementwise smaller of a and b (broadcasting); the gradient goes to the smaller
    (split at ties)."""
    return Minimum.apply(*binary_operands(a, b, "minimum"))


def where(condition, a, b) -> Tensor:
    """Elements of a where condition is true, else of b (broadcasting all three)."""
    cond = condition.data if isinstance(condition, Tensor) else condition
    if isinstance(condition, Tensor) and cond.dtype.kind != "b":
        cond = cond != 0
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        like = condition if isinstance(condition, Tensor) else None
        a = as_tensor_like(a, like) if like is not None else _scalar_tensor(a)
    a, b = binary_operands(a, b, "where")
    return Where.apply(cond, a, b)


def lerp(start: Tensor, end: Tensor, weight) -> Tensor:
    """start + weight * (end - start)."""
    return add(start, mul(weight, sub(end, start)))


# ------------------------------------------- piecewise constant, and not differentiable


def _nondiff(fn, *args) -> Tensor:
    t = next(a for a in args if isinstance(a, Tensor))
    return Tensor._make(fn(t._device.xp, *(_raw(a) for a in args)), t._device)


class Step(Function):
    """A piecewise-constant map (sign, floor, ceil, trunc, round): dy/dx = 0 wherever it exists.

    Recorded like any op, so a graph through it backpropagates zeros as in PyTorch instead of
    failing for want of a grad_fn.
    """

    rule = "d step(x)/dx = 0 (sign, floor, ceil, trunc and round are flat between their jumps)"

    @staticmethod
    def forward(ctx, x, kind="sign", decimals=0):
        ctx.shape, ctx.dtype = x.shape, x.dtype
        if x.dtype == bool:
            if kind == "sign":
                return x.copy()
            raise TypeError(f"{kind}: not implemented for bool tensors (expected a number dtype)")
        if kind == "round":
            return ctx.xp.round(x, decimals)
        return getattr(ctx.xp, kind)(x)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.zeros(ctx.shape, ctx.dtype)

    @staticmethod
    def backward_graph(ctx, grad):
        return None  # zero: nothing flows


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of x (its gradient is 0, as in PyTorch)."""
    return Step.apply(x, kind="sign")


def floor(x: Tensor) -> Tensor:
    """The largest integer <= x, elementwise (gradient 0)."""
    return Step.apply(x, kind="floor")


def ceil(x: Tensor) -> Tensor:
    """The smallest integer >= x, elementwise (gradient 0)."""
    return Step.apply(x, kind="ceil")


def trunc(x: Tensor) -> Tensor:
    """x rounded toward zero, elementwise (gradient 0)."""
    return Step.apply(x, kind="trunc")


def round(x: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001
    """Round half to even, like PyTorch (gradient 0)."""
    return Step.apply(x, kind="round", decimals=decimals)


def _compare(name):
    def op(a, b) -> Tensor:
        a, b = binary_operands(a, b, name)
        return _nondiff(lambda xp, x, y: getattr(xp, name)(x, y), a, b)

    op.__name__ = name
    op.__doc__ = f"Elementwise {name} of a and b as a bool tensor (not differentiable)."
    return op


_np_names = {
    "eq": "equal",
    "ne": "not_equal",
    "lt": "less",
    "le": "less_equal",
    "gt": "greater",
    "ge": "greater_equal",
    "bitwise_and": "bitwise_and",
    "bitwise_or": "bitwise_or",
    "bitwise_xor": "bitwise_xor",
    "logical_and": "logical_and",
    "logical_or": "logical_or",
    "logical_xor": "logical_xor",
}
eq, ne, lt, le, gt, ge = (_compare(_np_names[n]) for n in ("eq", "ne", "lt", "le", "gt", "ge"))
bitwise_and, bitwise_or, bitwise_xor = (
    _compare(n) for n in ("bitwise_and", "bitwise_or", "bitwise_xor")
)
logical_and, logical_or, logical_xor = (
    _compare(n) for n in ("logical_and", "logical_or", "logical_xor")
)
greater, less, greater_equal, less_equal, equal_elementwise = gt, lt, ge, le, eq


def bitwise_not(x: Tensor) -> Tensor:
    """~x for integer and bool tensors (not differentiable)."""
    if x.data.dtype.kind == "f":
        raise TypeError("bitwise_not (~): only integer and bool tensors are supported, got float")
    return _nondiff(lambda xp, a: xp.invert(a), x)


def logical_not(x: Tensor) -> Tensor:
    """not x, elementwise (a bool tensor)."""
    return _nondiff(lambda xp, a: xp.logical_not(a), x)


def isnan(x: Tensor) -> Tensor:
    """True where x is nan (a bool tensor)."""
    return _nondiff(lambda xp, a: xp.isnan(a), x)


def isinf(x: Tensor) -> Tensor:
    """True where x is +inf or -inf (a bool tensor)."""
    return _nondiff(lambda xp, a: xp.isinf(a), x)


def isfinite(x: Tensor) -> Tensor:
    """True where x is neither inf nor nan (a bool tensor)."""
    return _nondiff(lambda xp, a: xp.isfinite(a), x)


# ---------------------------------------------------------------- helpers


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def _device_of(*xs):
    return next(x for x in xs if isinstance(x, Tensor))._device


def _dtype_of(*xs):
    return next(x for x in xs if isinstance(x, Tensor)).data.dtype


def _to_float(x):
    """Integer tensors become the default float dtype (exp, log, division... of ints)."""
    if isinstance(x, Tensor) and x.data.dtype.kind != "f":
        from chainrule import dtypes

        return cast(x, dtypes.get_default_dtype())
    return x


def _scalar_tensor(v):
    from chainrule.tensor import tensor

    return tensor(v)


class _ignore_errors:
    """``errstate(all='ignore')`` for numpy (CuPy has no floating-point error state)."""

    def __init__(self, xp):
        self.xp = xp
        self.state = None

    def __enter__(self):
        if hasattr(self.xp, "errstate"):
            self.state = self.xp.errstate(all="ignore")
            self.state.__enter__()

    def __exit__(self, *exc):
        if self.state is not None:
            self.state.__exit__(*exc)


def sgn(x: Tensor) -> Tensor:
    """The sign of x (for real tensors, ``sign``)."""
    return sign(x)


def frac(x: Tensor) -> Tensor:
    """x - trunc(x), the fractional part with x's sign; d/dx = 1."""
    return sub(x, trunc(x))  # trunc's gradient is 0: the derivative is 1


def fmod(a, b) -> Tensor:
    """The remainder of a / b with the sign of a (C's fmod; ``remainder`` follows b's sign).
    Floats: a - b trunc(a / b), so d/da = 1 and d/db = -trunc(a / b)."""
    a, b = binary_operands(a, b, "fmod")
    if _dtype_of(a, b).kind != "f":
        _no_integer_division_by_zero(a, b, "fmod")
        xp = _device_of(a, b).xp
        return Tensor._make(xp.fmod(_raw(a), _raw(b)), _device_of(a, b))
    return sub(a, mul(b, trunc(div(a, b))))


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:  # noqa: A002
    """input + value * tensor1 * tensor2."""
    prod = mul(tensor1, tensor2)
    return add(input, prod if value == 1 else mul(prod, value))


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:  # noqa: A002
    """input + value * tensor1 / tensor2."""
    quot = div(tensor1, tensor2)
    return add(input, quot if value == 1 else mul(quot, value))


def deg2rad(x: Tensor) -> Tensor:
    """Degrees to radians: x * pi / 180."""
    return mul(_to_float(x), math.pi / 180.0)


def rad2deg(x: Tensor) -> Tensor:
    """Radians to degrees: x * 180 / pi."""
    return mul(_to_float(x), 180.0 / math.pi)


# ---------------------------------------------------------------- more of PyTorch's math


def asinh(x: Tensor) -> Tensor:
    """asinh x, elementwise;  d/dx = 1 / sqrt(x^2 + 1)."""
    return Asinh.apply(_to_float(x))


def acosh(x: Tensor) -> Tensor:
    """acosh x (x >= 1), elementwise;  d/dx = 1 / sqrt(x^2 - 1)."""
    return Acosh.apply(_to_float(x))


def atanh(x: Tensor) -> Tensor:
    """atanh x (|x| < 1), elementwise;  d/dx = 1 / (1 - x^2)."""
    return Atanh.apply(_to_float(x))


arcsinh, arccosh, arctanh = asinh, acosh, atanh
fix = trunc  # PyTorch's alias
not_equal = ne


def _float_pair(a, b, op: str):
    """Both operands of a float-only binary op, promoted (integers become the default float)."""
    a, b = binary_operands(a, b, op)
    return _to_float(a), _to_float(b)


def hypot(a: Tensor, b: Tensor) -> Tensor:
    """sqrt(a^2 + b^2) elementwise, without overflow (broadcasting)."""
    return Hypot.apply(*_float_pair(a, b, "hypot"))


def logaddexp(a: Tensor, b: Tensor) -> Tensor:
    """log(e^a + e^b) elementwise, without overflow (broadcasting)."""
    return LogAddExp.apply(*_float_pair(a, b, "logaddexp"))


def logaddexp2(a: Tensor, b: Tensor) -> Tensor:
    """log2(2^a + 2^b) elementwise, without overflow (broadcasting)."""
    return LogAddExp.apply(*_float_pair(a, b, "logaddexp2"), base2=True)


def sinc(x: Tensor) -> Tensor:
    """The normalized sinc, sin(pi x) / (pi x) (1 at 0), elementwise."""
    return Sinc.apply(_to_float(x))


def exp2(x: Tensor) -> Tensor:
    """2^x elementwise;  d/dx = 2^x ln 2."""
    return pow(2.0, _to_float(x))


def logit(x: Tensor, eps: float | None = None) -> Tensor:
    """log(x / (1 - x)), with x first clamped to [eps, 1 - eps] when ``eps`` is given."""
    x = _to_float(x)
    if eps is not None:
        x = clamp(x, eps, 1.0 - eps)
    return log(div(x, sub(1.0, x)))


def xlogy(x, y) -> Tensor:
    """x * log(y), and 0 wherever x == 0 unless y is NaN (PyTorch's convention)."""
    if not isinstance(y, Tensor):  # a number: d/dx = log(y) everywhere, as in PyTorch
        x = _to_float(x)
        if y > 0:
            return mul(x, math.log(y))
        y = as_tensor_like(float(y), x)
    x, y = _float_pair(x, y, "xlogy") if isinstance(x, Tensor) else (x, _to_float(y))
    if not isinstance(x, Tensor):
        x = as_tensor_like(x, y)
    zero = logical_and(eq(x, 0), logical_not(isnan(y)))
    # log of 1 where the result is 0 anyway: the unused branch stays finite, so no nan leaks
    # into the gradients.
    return where(zero, 0.0, mul(x, log(where(zero, 1.0, y))))


def copysign(a: Tensor, b) -> Tensor:
    """|a| with the sign of b (b's sign bit: -0.0 counts as negative);  d/da = sign(a) sign(b)."""
    a = _to_float(a) if isinstance(a, Tensor) else a
    a, b = binary_operands(a, b, "copysign")
    a = _to_float(a)
    negative = signbit(b) if isinstance(b, Tensor) else math.copysign(1.0, b) < 0
    return where(negative, neg(abs(a)), abs(a))


def signbit(x: Tensor) -> Tensor:
    """True where x's sign bit is set (negative numbers and -0.0)."""
    return _nondiff(lambda xp, a: xp.signbit(a), x)


def isposinf(x: Tensor) -> Tensor:
    """True where x is +inf."""
    return _nondiff(lambda xp, a: xp.isposinf(a) if a.dtype.kind == "f" else a != a, x)


def isneginf(x: Tensor) -> Tensor:
    """True where x is -inf."""
    return _nondiff(lambda xp, a: xp.isneginf(a) if a.dtype.kind == "f" else a != a, x)


def isreal(x: Tensor) -> Tensor:
    """True everywhere (chainrule has no complex dtypes)."""
    return _nondiff(lambda xp, a: xp.ones(a.shape, dtype=bool), x)


def positive(x: Tensor) -> Tensor:
    """x itself (PyTorch's unary plus)."""
    if isinstance(x, Tensor) and x.data.dtype == bool:
        raise TypeError("positive: not supported for bool tensors")
    return x


def fmax(a: Tensor, b: Tensor) -> Tensor:
    """The elementwise larger of a and b, ignoring NaN (NaN only where both are); the gradient
    goes to a where a >= b or b is NaN, else to b (PyTorch's rule, ties included)."""
    a, b = binary_operands(a, b, "fmax")
    take_a = logical_or(ge(a, b), isnan(b) if isinstance(b, Tensor) else b != b)
    return where(take_a, a, b)


def fmin(a: Tensor, b: Tensor) -> Tensor:
    """The elementwise smaller of a and b, ignoring NaN; the gradient follows ``fmax``'s rule."""
    a, b = binary_operands(a, b, "fmin")
    take_a = logical_or(le(a, b), isnan(b) if isinstance(b, Tensor) else b != b)
    return where(take_a, a, b)


def float_power(a, b) -> Tensor:
    """a ** b computed in float64 (PyTorch's float_power)."""
    from chainrule import dtypes

    if isinstance(a, Tensor):
        a = cast(a, dtypes.float64)
    if isinstance(b, Tensor):
        b = cast(b, dtypes.float64)
    elif not isinstance(a, Tensor):
        raise TypeError("float_power: expected at least one tensor")
    if not isinstance(a, Tensor):
        a = as_tensor_like(float(a), b)
    return pow(a, b)


def clamp_min(x: Tensor, min) -> Tensor:  # noqa: A002
    """max(x, min) elementwise (``clamp(x, min=min)``)."""
    return clamp(x, min=min)


def clamp_max(x: Tensor, max) -> Tensor:  # noqa: A002
    """min(x, max) elementwise (``clamp(x, max=max)``)."""
    return clamp(x, max=max)


def heaviside(x: Tensor, values: Tensor) -> Tensor:
    """The step function: 0 where x < 0 (and where x is NaN), 1 where x > 0, ``values`` where
    x == 0 (no gradient, as in PyTorch)."""
    x, values = binary_operands(x, values, "heaviside")

    def step(xp, a, v):
        return xp.where(a == 0, v, a > 0).astype(a.dtype, copy=False)

    return _nondiff(step, x, values)


def _integer_pair(a, b, op: str):
    a, b = binary_operands(a, b, op)
    if _dtype_of(a, b).kind not in "iub":
        raise RuntimeError(f"{op}: expected integer tensors, got {_dtype_of(a, b)}")
    return a, b


def gcd(a: Tensor, b: Tensor) -> Tensor:
    """The greatest common divisor of integer tensors, elementwise (non-negative)."""
    return _nondiff(lambda xp, x, y: xp.gcd(x, y), *_integer_pair(a, b, "gcd"))


def lcm(a: Tensor, b: Tensor) -> Tensor:
    """The least common multiple of integer tensors, elementwise (non-negative)."""
    return _nondiff(lambda xp, x, y: xp.lcm(x, y), *_integer_pair(a, b, "lcm"))


def ldexp(x: Tensor, other: Tensor) -> Tensor:
    """x * 2^other elementwise (differentiable in x)."""
    return mul(_to_float(x), pow(2.0, _to_float(other)))


def nextafter(a: Tensor, b: Tensor) -> Tensor:
    """The next float after a in the direction of b, elementwise (no gradient)."""
    return _nondiff(lambda xp, x, y: xp.nextafter(x, y), *binary_operands(a, b, "nextafter"))


def frexp(x: Tensor):
    """(mantissa, exponent) with x = mantissa * 2^exponent and 0.5 <= |mantissa| < 1
    (exponent int32, as PyTorch; no gradient)."""
    if x.data.dtype.kind != "f":
        raise RuntimeError(f"frexp: expected a floating point tensor, got {x.dtype}")
    m, e = x._device.xp.frexp(x.data)
    return Tensor._make(m, x._device), Tensor._make(e.astype("int32"), x._device)
