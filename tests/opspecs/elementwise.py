"""OpSpecs for chainrule/ops/elementwise.py (and the casts in ops/common.py)."""

import numpy as np
import torch
from opspec import OpSpec

import chainrule as cr

# Shape cases for binary ops: same shape, 0-d, size-1 broadcast dims, leading broadcast.
BINARY = [((3, 4), (3, 4)), ((), (2, 3)), ((2, 1, 4), (3, 1)), ((4,), (2, 3, 4)), ((2, 3), ())]
UNARY = [((3, 4),), ((),), ((2, 1, 3),)]


def _positive(lo=0.2, hi=2.0):
    return lambda rng, shapes: [rng.uniform(lo, hi, s) for s in shapes]


def _distinct(rng, shapes):
    """Inputs whose elements never tie and stay away from each other (for max/min/clamp)."""
    out = []
    for s in shapes:
        n = int(np.prod(s, dtype=int))
        vals = (rng.permutation(4 * n + 8)[:n] - 2 * n) * 0.25 + rng.uniform(-0.05, 0.05, n)
        out.append(vals.reshape(s))
    return out


def _away_from(points, lo=-2.0, hi=2.0, gap=0.05):
    """Uniform inputs that keep ``gap`` away from the kinks at ``points``."""

    def make(rng, shapes):
        out = []
        for s in shapes:
            x = rng.uniform(lo, hi, s)
            for p in points:
                near = np.abs(x - p) < gap
                x = np.where(near, p + np.sign(x - p + 1e-12) * 2 * gap, x)
            out.append(x)
        return out

    return make


def _int_pair(rng, shapes):
    a = rng.integers(-9, 10, shapes[0])
    b = rng.integers(1, 5, shapes[1]) * rng.choice([-1, 1], shapes[1])
    return [a, b]


SPECS = [
    OpSpec("add", lambda a, b: a + b, lambda a, b: a + b, BINARY),
    OpSpec(
        "add_alpha",
        lambda a, b: cr.add(a, b, alpha=2.5),
        lambda a, b: torch.add(a, b, alpha=2.5),
        BINARY[:3],
    ),
    OpSpec("add_scalar", lambda a: a + 1.5, lambda a: a + 1.5, UNARY),
    OpSpec("radd_scalar", lambda a: 2 + a, lambda a: 2 + a, UNARY),
    OpSpec("sub", lambda a, b: a - b, lambda a, b: a - b, BINARY),
    OpSpec("rsub_scalar", lambda a: 1.0 - a, lambda a: 1.0 - a, UNARY),
    OpSpec("mul", lambda a, b: a * b, lambda a, b: a * b, BINARY),
    OpSpec("mul_scalar", lambda a: a * -3.0, lambda a: a * -3.0, UNARY),
    OpSpec(
        "div",
        lambda a, b: a / b,
        lambda a, b: a / b,
        BINARY,
        make_inputs=lambda rng, s: [
            rng.uniform(-2, 2, s[0]),
            rng.uniform(0.5, 2, s[1]) * rng.choice([-1, 1], s[1]),
        ],
    ),
    OpSpec("rdiv_scalar", lambda a: 2.0 / a, lambda a: 2.0 / a, UNARY, make_inputs=_positive(0.5)),
    OpSpec(
        "reciprocal",
        lambda a: a.reciprocal(),
        lambda a: a.reciprocal(),
        UNARY,
        make_inputs=_positive(0.5),
    ),
    OpSpec("neg", lambda a: -a, lambda a: -a, UNARY),
    OpSpec(
        "remainder",
        lambda a, b: a % b,
        lambda a, b: a % b,
        [((3, 4), (3, 4)), ((2, 3), ())],
        make_inputs=lambda rng, s: [
            rng.uniform(0.1, 0.9, s[0]) + rng.integers(-3, 3, s[0]),
            rng.uniform(1.1, 1.9, s[1]),
        ],
        note="inputs keep a/b away from integers, where remainder jumps",
    ),
    OpSpec(
        "remainder_int",
        lambda a, b: a % b,
        lambda a, b: a % b,
        [((3, 4), (3, 4))],
        make_inputs=_int_pair,
    ),
    OpSpec(
        "floor_divide_int",
        lambda a, b: a // b,
        lambda a, b: a // b,
        [((3, 4), (3, 4))],
        make_inputs=_int_pair,
    ),
    OpSpec("pow_scalar", lambda a: a**3, lambda a: a**3, UNARY),
    OpSpec("pow_frac", lambda a: a**1.5, lambda a: a**1.5, UNARY, make_inputs=_positive()),
    OpSpec("pow_zero_exponent", lambda a: a**0, lambda a: a**0, UNARY),
    OpSpec(
        "pow_tensor",
        lambda a, b: a**b,
        lambda a, b: a**b,
        BINARY[:4],
        make_inputs=lambda rng, s: [rng.uniform(0.3, 2, s[0]), rng.uniform(-2, 2, s[1])],
    ),
    OpSpec("rpow_scalar", lambda a: 2.0**a, lambda a: 2.0**a, UNARY),
    OpSpec("square", lambda a: a.square(), lambda a: a.square(), UNARY),
    OpSpec("sqrt", lambda a: a.sqrt(), lambda a: a.sqrt(), UNARY, make_inputs=_positive()),
    OpSpec(
        "rsqrt",
        lambda a: a.rsqrt(),
        lambda a: a.rsqrt(),
        UNARY,
        make_inputs=_positive(),
        rtol=2e-5,
        note="float32 rsqrt differs from 1/sqrt in the last bits",
    ),
    OpSpec("exp", lambda a: a.exp(), lambda a: a.exp(), UNARY),
    OpSpec("expm1", lambda a: a.expm1(), lambda a: a.expm1(), UNARY),
    OpSpec("log", lambda a: a.log(), lambda a: a.log(), UNARY, make_inputs=_positive()),
    OpSpec("log1p", lambda a: a.log1p(), lambda a: a.log1p(), UNARY, make_inputs=_positive(-0.5)),
    OpSpec("log2", lambda a: a.log2(), lambda a: a.log2(), UNARY, make_inputs=_positive()),
    OpSpec("log10", lambda a: a.log10(), lambda a: a.log10(), UNARY, make_inputs=_positive()),
    OpSpec("sin", lambda a: a.sin(), lambda a: a.sin(), UNARY),
    OpSpec("cos", lambda a: a.cos(), lambda a: a.cos(), UNARY),
    OpSpec("tan", lambda a: a.tan(), lambda a: a.tan(), UNARY, domain=(-1.2, 1.2)),
    OpSpec("asin", lambda a: a.asin(), lambda a: a.asin(), UNARY, domain=(-0.9, 0.9)),
    OpSpec("acos", lambda a: a.acos(), lambda a: a.acos(), UNARY, domain=(-0.9, 0.9)),
    OpSpec("atan", lambda a: a.atan(), lambda a: a.atan(), UNARY, domain=(-3, 3)),
    OpSpec(
        "atan2",
        lambda a, b: cr.atan2(a, b),
        lambda a, b: torch.atan2(a, b),
        BINARY,
        make_inputs=lambda rng, shapes: [
            rng.uniform(0.3, 2, s) * rng.choice([-1, 1], s) for s in shapes
        ],
    ),
    OpSpec("sinh", lambda a: a.sinh(), lambda a: a.sinh(), UNARY),
    OpSpec("asinh", lambda a: a.asinh(), lambda a: a.asinh(), UNARY, domain=(-3.0, 3.0)),
    OpSpec("acosh", lambda a: a.acosh(), lambda a: a.acosh(), UNARY, domain=(1.2, 4.0)),
    OpSpec("atanh", lambda a: a.atanh(), lambda a: a.atanh(), UNARY, domain=(-0.9, 0.9)),
    OpSpec("sinc", lambda a: a.sinc(), lambda a: a.sinc(), UNARY, domain=(-3.0, 3.0)),
    OpSpec("hypot", lambda a, b: a.hypot(b), lambda a, b: a.hypot(b), BINARY),
    OpSpec("logaddexp", lambda a, b: a.logaddexp(b), lambda a, b: a.logaddexp(b), BINARY),
    OpSpec(
        "logaddexp2",
        lambda a, b: a.logaddexp2(b),
        lambda a, b: a.logaddexp2(b),
        BINARY,
        domain=(-5.0, 5.0),
    ),
    OpSpec("cosh", lambda a: a.cosh(), lambda a: a.cosh(), UNARY),
    OpSpec("erf", lambda a: a.erf(), lambda a: a.erf(), UNARY, domain=(-3, 3)),
    OpSpec("erfinv", lambda a: a.erfinv(), lambda a: a.erfinv(), UNARY, domain=(-0.95, 0.95)),
    OpSpec("tanh", lambda a: a.tanh(), lambda a: a.tanh(), UNARY),
    OpSpec("sigmoid", lambda a: a.sigmoid(), lambda a: a.sigmoid(), UNARY, domain=(-6, 6)),
    OpSpec("abs", lambda a: a.abs(), lambda a: a.abs(), UNARY, make_inputs=_away_from([0.0])),
    OpSpec("relu", lambda a: a.relu(), lambda a: a.relu(), UNARY, make_inputs=_away_from([0.0])),
    OpSpec(
        "clamp_scalars",
        lambda a: a.clamp(-0.5, 0.7),
        lambda a: a.clamp(-0.5, 0.7),
        UNARY,
        make_inputs=_away_from([-0.5, 0.7]),
    ),
    OpSpec(
        "clamp_min_only",
        lambda a: a.clamp(min=0.3),
        lambda a: a.clamp(min=0.3),
        UNARY,
        make_inputs=_away_from([0.3]),
    ),
    OpSpec(
        "clamp_max_only",
        lambda a: a.clamp(max=-0.2),
        lambda a: a.clamp(max=-0.2),
        UNARY,
        make_inputs=_away_from([-0.2]),
    ),
    OpSpec(
        "clamp_tensors",
        lambda a, lo, hi: cr.clamp(a, lo, hi),
        lambda a, lo, hi: torch.clamp(a, lo, hi),
        [((3, 4), (3, 4), (4,)), ((2, 3), (), (2, 1))],
        make_inputs=lambda rng, s: [
            _distinct(rng, [s[0]])[0],
            rng.uniform(-1.13, -0.63, s[1]),
            rng.uniform(0.61, 1.11, s[2]),
        ],
    ),
    OpSpec("maximum", cr.maximum, torch.maximum, BINARY[:4], make_inputs=_distinct),
    OpSpec("minimum", cr.minimum, torch.minimum, BINARY[:4], make_inputs=_distinct),
    OpSpec(
        "where",
        lambda c, a, b: cr.where(c > 0, a, b),
        lambda c, a, b: torch.where(c > 0, a, b),
        [((3, 4), (3, 4), (3, 4)), ((2, 1, 3), (3,), (2, 4, 1)), ((), (2, 2), ())],
        nondiff=(0,),
    ),
    OpSpec(
        "where_scalar_branch",
        lambda c, a: cr.where(c > 0, a, 0.0),
        lambda c, a: torch.where(c > 0, a, 0.0),
        [((3, 4), (3, 4))],
        nondiff=(0,),
    ),
    OpSpec("lerp_scalar", lambda a, b: a.lerp(b, 0.3), lambda a, b: a.lerp(b, 0.3), BINARY[:3]),
    OpSpec(
        "lerp_tensor",
        lambda a, b, w: cr.lerp(a, b, w),
        lambda a, b, w: torch.lerp(a, b, w),
        [((3, 4), (3, 4), (3, 4)), ((2, 3), (3,), ())],
    ),
    OpSpec(
        "cast_float64_float32",
        lambda a: (a.double() * 2).float(),
        lambda a: (a.double() * 2).float(),
        UNARY,
        gradcheck=False,
        note="its output is float32, too coarse for finite differences; torch checks it",
    ),
    OpSpec(
        "promote_int_float",
        lambda a, i: a * i,
        lambda a, i: a * i,
        [((3, 4), (3, 4))],
        make_inputs=lambda rng, s: [rng.uniform(-2, 2, s[0]), rng.integers(-3, 4, s[1])],
    ),
    OpSpec(
        "promote_0d_float64",
        lambda a, b: a * b.double(),
        lambda a, b: a * b.double(),
        [((3, 4), ())],
        note="a 0-d float64 does not upcast a float32 tensor",
    ),
    OpSpec(
        "sign",
        lambda a: a.sign() * a,
        lambda a: a.sign() * a,
        UNARY,
        make_inputs=_away_from([0], gap=0.05),
        note="sign's own gradient is 0; |x| = sign(x) x checks the product still flows",
    ),
    OpSpec(
        "trunc",
        lambda a: a.trunc() * a,
        lambda a: a.trunc() * a,
        UNARY,
        make_inputs=_away_from([-2, -1, 0, 1, 2], gap=0.05),
    ),
    OpSpec(
        "floor",
        lambda a: a.floor() + a,
        lambda a: a.floor() + a,
        UNARY,
        make_inputs=_away_from([-2, -1, 0, 1, 2], gap=0.05),
        note="floor's gradient is 0; the sum checks it does not block a's own",
    ),
    OpSpec(
        "ceil",
        lambda a: a.ceil() * a,
        lambda a: a.ceil() * a,
        UNARY,
        make_inputs=_away_from([-2, -1, 0, 1, 2], gap=0.05),
    ),
    OpSpec(
        "round",
        lambda a: a.round() - a,
        lambda a: a.round() - a,
        UNARY,
        make_inputs=_away_from([-1.5, -0.5, 0.5, 1.5], gap=0.05),
    ),
    OpSpec(
        "comparisons",
        lambda a, b: cr.where((a > b) & (a >= b) | (a == b), a, b),
        lambda a, b: torch.where((a > b) & (a >= b) | (a == b), a, b),
        BINARY[:3],
        make_inputs=_distinct,
    ),
]
