"""OpSpecs for chainrule/ops/reduce.py.

Random inputs stay away from kinks: max/min/amax/amin get distinct values (no ties), prod and
norm get values bounded away from 0. The exact kink points (ties, zeros) are checked against
PyTorch in tests/test_reduce_movement_points.py.
"""

import math

import numpy as np
import torch
from opspec import OpSpec

import chainrule as cr

# 0-d, a size-1 dim, and 2-d / 3-d cases (the harness adds non-contiguous variants).
ALL = [((),), ((3, 4),), ((2, 1, 3),)]
DIM1 = [((3, 4),), ((2, 1, 3),), ((2, 3, 4),)]
THREE_D = [((2, 3, 4),), ((3, 1, 5),)]


def _distinct(rng, shapes):
    """Values at least 0.2 apart: no ties, so max/min/amax have a unique, stable winner."""
    out = []
    for s in shapes:
        n = int(np.prod(s, dtype=int))
        vals = (rng.permutation(2 * n + 4)[:n] - n) * 0.25 + rng.uniform(-0.02, 0.02, n)
        out.append(vals.reshape(s))
    return out


def _distinct_magnitudes(rng, shapes):
    """Distinct |x| away from 0 with random signs (for the inf / -inf norms)."""
    return [np.abs(a) + 0.1 for a in _distinct(rng, shapes)]


def _signed_magnitudes(rng, shapes):
    """Distinct |x| away from 0 with random signs (no ties in |x|, no kink of |x| at 0)."""
    return [a * rng.choice([-1.0, 1.0], a.shape) for a in _distinct_magnitudes(rng, shapes)]


def _away_from_zero(lo=0.3, hi=1.5):
    """|x| in [lo, hi] with random signs: prod and |x|^p stay smooth and well scaled."""
    return lambda rng, shapes: [rng.uniform(lo, hi, s) * rng.choice([-1.0, 1.0], s) for s in shapes]


def _ints(rng, shapes):
    return [rng.integers(-5, 6, s) for s in shapes]


def _bools(rng, shapes):
    return [rng.random(s) < 0.6 for s in shapes]


def same(name, f, shapes, **kw):
    """A spec whose chainrule and torch functions are the same method calls."""
    return OpSpec(name, f, f, shapes, **kw)


SPECS = [
    # ------------------------------------------------------------ sum
    same("sum_all", lambda x: x.sum(), ALL),
    same("sum_dim1", lambda x: x.sum(1), DIM1),
    same("sum_dim0_0d", lambda x: x.sum(0), [((),), ((4, 3),)]),
    same("sum_dim1_keepdim", lambda x: x.sum(1, keepdim=True), DIM1),
    same("sum_neg_dim", lambda x: x.sum(-1), DIM1),
    same("sum_dims_tuple", lambda x: x.sum((0, 2)), THREE_D),
    same("sum_dims_tuple_keepdim", lambda x: x.sum((-1, 0), keepdim=True), THREE_D),
    OpSpec(
        "sum_dtype_float64",
        lambda x: x.sum(1, dtype=cr.float64),
        lambda x: x.sum(1, dtype=torch.float64),
        [((3, 4),)],
    ),
    same("sum_int_to_int64", lambda x: x.sum(0), [((3, 4),)], make_inputs=_ints),
    same("sum_bool_to_int64", lambda x: x.sum(), [((3, 4),)], make_inputs=_bools),
    # ------------------------------------------------------------ mean
    same("mean_all", lambda x: x.mean(), ALL),
    same("mean_dim1", lambda x: x.mean(1), DIM1),
    same("mean_dims_tuple_keepdim", lambda x: x.mean((0, 2), keepdim=True), THREE_D),
    # ------------------------------------------------------------ prod
    same("prod_all", lambda x: x.prod(), ALL, make_inputs=_away_from_zero()),
    same("prod_dim1", lambda x: x.prod(1), DIM1, make_inputs=_away_from_zero()),
    same(
        "prod_dim0_keepdim",
        lambda x: x.prod(0, keepdim=True),
        [((4, 3),), ((1, 5),)],
        make_inputs=_away_from_zero(),
    ),
    same("prod_int_to_int64", lambda x: x.prod(1), [((3, 4),)], make_inputs=_ints),
    # ------------------------------------------------------------ var / std
    same("var_all", lambda x: x.var(), [((3, 4),), ((2, 1, 3),)]),
    same("var_dim1", lambda x: x.var(1), [((3, 4),), ((1, 3, 2),), ((2, 3, 4),)]),
    same("var_correction0", lambda x: x.var(1, correction=0), DIM1),
    same("var_unbiased_false", lambda x: x.var(0, unbiased=False), [((4, 3),)]),
    same("var_correction2_keepdim", lambda x: x.var(-1, keepdim=True, correction=2), DIM1),
    same("var_dims_tuple", lambda x: x.var((0, 2)), THREE_D),
    same("std_all", lambda x: x.std(), [((3, 4),), ((2, 1, 3),)]),
    same("std_dim0_keepdim", lambda x: x.std(0, keepdim=True), [((4, 3),), ((3, 1, 2),)]),
    same("std_correction0", lambda x: x.std((1, 2), correction=0), THREE_D),
    # ------------------------------------------------------------ max / min / amax / amin
    same("max_all", lambda x: x.max(), ALL, make_inputs=_distinct),
    same("max_dim", lambda x: x.max(1).values, DIM1, make_inputs=_distinct),
    same("max_dim_keepdim", lambda x: x.max(-1, keepdim=True)[0], DIM1, make_inputs=_distinct),
    same("max_dim_0d", lambda x: x.max(0).values, [((),)], make_inputs=_distinct),
    same("max_binary", lambda a, b: a.max(b), [((3, 4), (3, 4))], make_inputs=_distinct),
    same("min_all", lambda x: x.min(), ALL, make_inputs=_distinct),
    same("min_dim", lambda x: x.min(0).values, DIM1, make_inputs=_distinct),
    same(
        "min_dim_keepdim", lambda x: x.min(2, keepdim=True).values, THREE_D, make_inputs=_distinct
    ),
    same("amax_all", lambda x: x.amax(), ALL, make_inputs=_distinct),
    same("amax_dim1", lambda x: x.amax(1), DIM1, make_inputs=_distinct),
    same("amax_dims_tuple", lambda x: x.amax((0, 2)), THREE_D, make_inputs=_distinct),
    same("amin_dim_keepdim", lambda x: x.amin(-1, keepdim=True), DIM1, make_inputs=_distinct),
    same("amin_dims_tuple", lambda x: x.amin((0, 1)), THREE_D, make_inputs=_distinct),
    # ------------------------------------------------------------ argmax / argmin (no gradient)
    same("argmax_all", lambda x: x.argmax(), ALL, make_inputs=_distinct, gradcheck=False),
    same("argmax_dim", lambda x: x.argmax(1), DIM1, make_inputs=_distinct, gradcheck=False),
    same(
        "argmax_keepdim_all",
        lambda x: x.argmax(keepdim=True),
        [((3, 4),)],
        make_inputs=_distinct,
        gradcheck=False,
    ),
    same(
        "argmin_dim_keepdim",
        lambda x: x.argmin(0, keepdim=True),
        DIM1,
        make_inputs=_distinct,
        gradcheck=False,
    ),
    # ------------------------------------------------------------ logsumexp
    same("logsumexp_dim1", lambda x: x.logsumexp(1), DIM1, domain=(-5.0, 5.0)),
    same("logsumexp_0d", lambda x: x.logsumexp(0), [((),)]),
    same(
        "logsumexp_dims_tuple_keepdim",
        lambda x: x.logsumexp((0, 2), keepdim=True),
        THREE_D,
        domain=(-5.0, 5.0),
    ),
    same(
        "logsumexp_large",
        lambda x: (x * 1e4).logsumexp(-1),
        [((3, 4),)],
        make_inputs=_distinct,
    ),
    # ------------------------------------------------------------ norm
    same("norm_p2", lambda x: x.norm(), ALL, make_inputs=_away_from_zero()),
    same("norm_fro_dim", lambda x: x.norm("fro", dim=1), DIM1, make_inputs=_away_from_zero()),
    same(
        "norm_p2_dims_tuple_keepdim",
        lambda x: x.norm(2, dim=(0, 2), keepdim=True),
        THREE_D,
        make_inputs=_away_from_zero(),
    ),
    same("norm_p1", lambda x: x.norm(1), ALL, make_inputs=_away_from_zero()),
    same("norm_p1_dim", lambda x: x.norm(1, dim=0), DIM1, make_inputs=_away_from_zero()),
    same("norm_inf", lambda x: x.norm(math.inf), ALL, make_inputs=_signed_magnitudes),
    same(
        "norm_inf_dim",
        lambda x: x.norm(math.inf, dim=1),
        DIM1,
        make_inputs=_signed_magnitudes,
    ),
    same(
        "norm_neginf_dim",
        lambda x: x.norm(-math.inf, dim=-1, keepdim=True),
        DIM1,
        make_inputs=_signed_magnitudes,
    ),
    same("norm_p3_dim", lambda x: x.norm(3, dim=1), DIM1, make_inputs=_away_from_zero()),
    same(
        "norm_p0_5",
        lambda x: x.norm(0.5),
        [((3, 4),), ((2, 1, 3),)],
        make_inputs=_away_from_zero(),
        rtol=1e-4,
        note="(sum |x|^0.5)^2 amplifies float32 rounding of the sum",
    ),
    # ------------------------------------------------------------ cumsum
    same("cumsum_dim0", lambda x: x.cumsum(0), DIM1),
    same("cumsum_dim_neg", lambda x: x.cumsum(-1), DIM1),
    same("cumsum_0d", lambda x: x.cumsum(0), [((),)]),
    same("logcumsumexp", lambda x: x.logcumsumexp(1) * 1.0, DIM1),
    same("logcumsumexp_wide", lambda x: (x * 20.0).logcumsumexp(0), DIM1),
    same("cumsum_int_to_int64", lambda x: x.cumsum(1), [((3, 4),)], make_inputs=_ints),
    # ------------------------------------------------------------ all / any (bool results)
    same("all_all", lambda x: x.all(), [((),), ((3, 4),)], make_inputs=_bools),
    same("all_dim_keepdim", lambda x: x.all(1, keepdim=True), [((3, 4),)], make_inputs=_bools),
    same("any_dim", lambda x: x.any(0), [((3, 4),), ((2, 1, 3),)], make_inputs=_bools),
    same("any_int_input", lambda x: x.any(-1), [((3, 4),)], make_inputs=_ints),
    same("all_dims_tuple", lambda x: x.all((0, 2)), [((2, 3, 4),)], make_inputs=_bools),
]
