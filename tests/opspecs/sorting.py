"""OpSpecs of the sorting/selection compositions and the small linear-algebra helpers: the
values are gathered from the input, so their gradients are checked against torch and by
gradcheck (inputs have distinct values: sorting has no gradient at ties)."""

import numpy as np
from opspec import OpSpec

import chainrule as cr


def _distinct(rng, shapes):
    out = []
    for s in shapes:
        n = int(np.prod(s)) if len(s) else 1
        vals = rng.permutation(n).astype(float) * 0.37 - n * 0.15
        out.append(vals.reshape(s))
    return out


# nan, +inf and -inf at fixed places (a constant: x keeps a gradient only elsewhere)
_SPECIAL = np.array(
    [[np.nan, 1.0, np.inf, 1.0], [1.0, -np.inf, 1.0, 1.0], [np.nan, 1.0, 1.0, np.inf]]
)
_SPECIAL_MASK = np.isfinite(_SPECIAL)
_ZEROS = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])


def _eigh_invariant(m, sym):
    w, v = m.linalg.eigh(sym)
    weights = m.arange(v.shape[-1] * v.shape[-1], dtype=v.dtype).reshape(v.shape[-2:])
    return w * 2.0 + (v * v * weights).sum(-1)


def _svd_invariant(m, a, full_matrices):
    u, s, vh = m.linalg.svd(a, full_matrices=full_matrices)
    k = s.shape[-1]
    u, vh = u[..., :k], vh[..., :k, :]  # the extra columns of a full U / Vh get no gradient
    wu = m.arange(u.shape[-2] * k, dtype=u.dtype).reshape(u.shape[-2:])
    wv = m.arange(k * vh.shape[-1], dtype=u.dtype).reshape(vh.shape[-2:])
    return m.cat([(u * u * wu).sum(-1), s * 2.0, (vh * vh * wv).sum(-2)], dim=-1)


def both(name, f, shapes, **kw):
    import torch

    return OpSpec(name, lambda *xs: f(cr, *xs), lambda *xs: f(torch, *xs), shapes, **kw)


SPECS = [
    both(
        "sort_values",
        lambda m, x: m.sort(x, dim=1)[0] * 1.5,
        [((3, 4),), ((2, 5, 3),)],
        make_inputs=_distinct,
    ),
    both(
        "sort_descending",
        lambda m, x: x.sort(dim=0, descending=True).values,
        [((4, 3),), ((5,),)],
        make_inputs=_distinct,
    ),
    both(
        "topk",
        lambda m, x: x.topk(2, dim=-1).values.exp(),
        [((3, 4),), ((2, 2, 5),)],
        make_inputs=_distinct,
    ),
    both(
        "topk_smallest",
        lambda m, x: x.topk(3, dim=0, largest=False)[0],
        [((4, 3),)],
        make_inputs=_distinct,
    ),
    both(
        "masked_select",
        lambda m, x: x.masked_select(x > 0) * 2.0,
        [((3, 4),), ((2, 3, 2),)],
        make_inputs=_distinct,
    ),
    both("take", lambda m, x: x.take(m.tensor([[0, 5], [2, 2]])), [((2, 3),), ((3, 4),)]),
    both("select", lambda m, x: x.select(1, 2) * 3.0, [((3, 4),), ((2, 3, 2),)]),
    both("diagonal", lambda m, x: x.diagonal(1), [((3, 4),), ((4, 3),)]),
    both("diagonal_dims", lambda m, x: m.diagonal(x, -1, 0, 2), [((3, 2, 4),)]),
    both("diag_embed_vector", lambda m, x: m.diag(x, -1) * 2.0, [((3,),)]),
    both("trace", lambda m, x: m.trace(x), [((3, 4),), ((3, 3),)]),
    both("mv", lambda m, a, v: m.mv(a, v), [((3, 4), (4,))]),
    both(
        "addmm",
        lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=2.0),
        [((2, 4), (2, 3), (3, 4)), ((4,), (2, 3), (3, 4))],
    ),
    both("repeat_interleave", lambda m, x: x.repeat_interleave(2, dim=0), [((3, 2),), ((3,),)]),
    both(
        "repeat_interleave_counts",
        lambda m, x: m.repeat_interleave(x, m.tensor([1, 0, 3]), dim=1),
        [((2, 3),)],
    ),
    both(
        "meshgrid_xy",
        lambda m, a, b: m.meshgrid(a, b, indexing="xy")[0] * 2 + m.meshgrid(a, b, indexing="xy")[1],
        [((3,), (4,))],
    ),
    both(
        "nan_to_num",
        lambda m, x: m.nan_to_num(
            m.where(m.tensor(_SPECIAL_MASK), x, m.tensor(_SPECIAL)), nan=0.5, posinf=3.0
        ),
        [((3, 4),)],
    ),
    both("broadcast_to", lambda m, x: x.broadcast_to(2, 3, 4) * 1.0, [((3, 1),), ((4,),)]),
    both("fliplr", lambda m, x: x.fliplr() * 1.0, [((3, 4),)]),
    both("median_all", lambda m, x: x.median() * 2.0, [((3, 4),), ((5,),)], make_inputs=_distinct),
    both(
        "median_dim",
        lambda m, x: x.median(dim=1).values,
        [((3, 4),), ((2, 5, 2),)],
        make_inputs=_distinct,
    ),
    both(
        "kthvalue",
        lambda m, x: x.kthvalue(2, dim=0, keepdim=True)[0],
        [((4, 3),)],
        make_inputs=_distinct,
    ),
    both(
        "nansum_nanmean",
        lambda m, x: (
            m.where(x > 0, x, m.tensor(float("nan"))).nansum(1)
            + m.where(x > 0, x, m.tensor(float("nan"))).nanmean()
        ),
        [((3, 4),)],
        make_inputs=_distinct,
    ),
    both(
        "frac_fmod",
        lambda m, x: x.frac() + m.fmod(x * 3.0, 1.7),
        [((3, 4),)],
        make_inputs=_distinct,
    ),
    both(
        "fmod_divisor",
        lambda m, a, b: m.fmod(a, b),
        [((3, 4), (3, 4))],
        make_inputs=lambda rng, shapes: [
            rng.uniform(-3, 3, shapes[0]) + 0.05,
            rng.uniform(0.7, 1.3, shapes[1]),
        ],
    ),
    both(
        "addcmul_addcdiv",
        lambda m, a, b, c: m.addcmul(a, b, c, value=0.5) + m.addcdiv(a, b, c.exp(), value=-2.0),
        [((3, 4), (3, 4), (4,))],
    ),
    both("inverse", lambda m, a: m.inverse(a + 3.0 * m.eye(3)), [((3, 3),), ((2, 3, 3),)]),
    both("cross", lambda m, a, b: m.cross(a, b, dim=-1), [((4, 3), (4, 3)), ((1, 3), (2, 3))]),
    both(
        "kron",
        lambda m, a, b: m.kron(a, b),
        [((2, 3), (3, 2)), ((2,), (2, 2))],
        noncontig=False,
        note="torch 2.13's kron fails on transposed inputs (a .view() inside it)",
    ),
    both("deg2rad", lambda m, x: x.deg2rad(), [((3, 4),)]),
    both("cumprod", lambda m, x: x.cumprod(1), [((3, 4),), ((2, 3, 2),)]),
    both("tensor_unfold", lambda m, x: x.unfold(1, 3, 2) * 1.5, [((2, 7),), ((2, 5, 3),)]),
    both("tensor_unfold_overlap", lambda m, x: x.unfold(-1, 2, 1), [((3, 4),)]),
    both(
        "index_add",
        lambda m, x, s: x.index_add(1, m.tensor([2, 0, 2]), s, alpha=1.5),
        [((3, 4), (3, 3)), ((2, 4, 2), (2, 3, 2))],
    ),
    both("diff", lambda m, x: x.diff(n=2, dim=0) + x.diff(dim=-1).sum(), [((5, 3),)]),
    both("diff_prepend", lambda m, x: x.diff(prepend=x[:, :1] * 2.0), [((3, 4),)]),
    both("linalg_det", lambda m, a: m.linalg.det(a + 2.0 * m.eye(3)), [((3, 3),), ((2, 3, 3),)]),
    both(
        "linalg_slogdet",
        lambda m, a: m.linalg.slogdet(a + 3.0 * m.eye(3))[1],
        [((3, 3),), ((2, 3, 3),)],
    ),
    both(
        "linalg_solve",
        lambda m, a, b: m.linalg.solve(a + 3.0 * m.eye(3), b),
        [((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 4)), ((3, 3), (3,))],
    ),
    both(
        "linalg_norms",
        lambda m, a: (
            m.linalg.matrix_norm(a, 1)
            + m.linalg.vector_norm(a, 3.0)
            + m.linalg.matrix_power(a, 3).sum()
        ),
        [((3, 3),)],
    ),
    both(
        "linalg_qr",
        lambda m, a: m.cat([m.linalg.qr(a)[0], m.linalg.qr(a)[1]], dim=-2),
        [((4, 3),), ((2, 3, 3),)],
        note="LAPACK's Householder QR: the same sign convention in both libraries",
    ),
    both(
        "linalg_svdvals",
        lambda m, a: m.linalg.svdvals(a) * 2.0 + m.linalg.matrix_norm(a, "nuc")[..., None],
        [((4, 3),), ((2, 3, 5),)],
    ),
    both(
        "linalg_cholesky",
        lambda m, a: m.linalg.cholesky(a @ a.transpose(-2, -1) + 3.0 * m.eye(3)),
        [((3, 3),), ((2, 3, 3),)],
    ),
    both(
        "linalg_svd",
        lambda m, a: _svd_invariant(m, a, False),
        [((4, 3),), ((3, 5),), ((2, 3, 3),)],
        rtol=1e-4,
        atol=1e-4,
        note="singular vectors' signs are arbitrary: a sign-invariant function of them is compared",
    ),
    both(
        "linalg_svd_full",
        lambda m, a: _svd_invariant(m, a, True),
        [((4, 3),), ((2, 2, 4),)],
        rtol=1e-4,
        atol=1e-4,
        note="float32: the 1/(s_j^2 - s_i^2) factors amplify rounding",
    ),
    both(
        "linalg_eigh",
        lambda m, a: _eigh_invariant(m, (a + a.transpose(-2, -1)) * 0.5),
        [((3, 3),), ((2, 4, 4),)],
        note="eigenvector signs are arbitrary: a sign-invariant function of them is compared",
    ),
    both(
        "baddbmm",
        lambda m, c, a, b: m.baddbmm(c, a, b, beta=0.5, alpha=2.0),
        [((2, 3, 5), (2, 3, 4), (2, 4, 5))],
    ),
    both("cumprod_0d", lambda m, x: x.cumprod(0) * 2.0, [((),), ((4,),)]),
    both(
        "cumprod_with_zeros",
        lambda m, x: (x * m.tensor(_ZEROS)).cumprod(0),
        [((4, 3),)],
        note="zeros (one, two in a column) take the exact path: no division by x",
    ),
]
