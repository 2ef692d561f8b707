"""PyTorch's joins and splits, products, running reductions, quantiles, covariance, scatters
and index helpers, in chainrule and in PyTorch: the same values, dtypes and shapes, and for
the differentiable ones the same gradients of a random cotangent (float64 inputs)."""

import numpy as np
import pytest

import chainrule as cr

RNG = np.random.default_rng(0)


def _r(*shape):
    return RNG.standard_normal(shape)


def _ints(*shape, hi=4):
    return RNG.integers(0, hi, shape).astype(np.float64)


I = "index"  # marks an integer constant argument


# name -> (fn(lib, *tensors), [input arrays]). Float inputs require grad; int arrays do not.
CASES = {
    "atleast_1d": (lambda m, a: m.atleast_1d(a), [np.array(2.0)]),
    "atleast_2d": (lambda m, a, b: m.atleast_2d(a, b), [_r(3), _r(2, 2)]),
    "atleast_3d": (lambda m, a, b: m.atleast_3d([a, b]), [_r(3), _r(2, 2)]),
    "hstack": (lambda m, a, b: m.hstack([a, b]), [_r(2, 3), _r(2, 1)]),
    "hstack_1d": (lambda m, a, b: m.hstack((a, b)), [_r(3), _r(2)]),
    "vstack": (lambda m, a, b: m.vstack([a, b]), [_r(3), _r(2, 3)]),
    "dstack": (lambda m, a, b: m.dstack([a, b]), [_r(2, 3), _r(2, 3)]),
    "column_stack": (lambda m, a, b: m.column_stack([a, b]), [_r(3), _r(3, 2)]),
    "tensor_split_n": (lambda m, a: m.tensor_split(a, 3, dim=1), [_r(2, 7)]),
    "tensor_split_idx": (lambda m, a: m.tensor_split(a, [1, 4, -1, 9], dim=0), [_r(6, 2)]),
    "hsplit": (lambda m, a: m.hsplit(a, 2), [_r(3, 4)]),
    "vsplit": (lambda m, a: m.vsplit(a, [1]), [_r(3, 4)]),
    "dsplit": (lambda m, a: m.dsplit(a, 2), [_r(2, 2, 4)]),
    "swapaxes": (lambda m, a: m.swapaxes(a, 0, 2), [_r(2, 3, 4)]),
    "moveaxis": (lambda m, a: m.moveaxis(a, 0, -1), [_r(2, 3, 4)]),
    "ravel": (lambda m, a: m.ravel(a.transpose(0, 1)), [_r(2, 3)]),
    "t": (lambda m, a: m.t(a), [_r(2, 3)]),
    "rot90": (lambda m, a: m.rot90(a, 1, (0, 1)), [_r(2, 3)]),
    "rot90_k3": (lambda m, a: m.rot90(a, -1, (2, 0)), [_r(2, 3, 4)]),
    "rot90_k2": (lambda m, a: m.rot90(a, 2, (0, 1)), [_r(2, 3)]),
    "broadcast_tensors": (lambda m, a, b: m.broadcast_tensors(a, b), [_r(3, 1), _r(4)]),
    "block_diag": (lambda m, a, b, c: m.block_diag(a, b, c), [_r(2, 3), _r(3), np.array(1.5)]),
    "cartesian_prod": (lambda m, a, b: m.cartesian_prod(a, b), [_r(3), _r(2)]),
    "combinations": (lambda m, a: m.combinations(a, 2), [_r(4)]),
    "combinations_r3": (lambda m, a: m.combinations(a, 3, with_replacement=True), [_r(3)]),
    "tensordot_int": (lambda m, a, b: m.tensordot(a, b, 2), [_r(2, 3, 4), _r(3, 4, 5)]),
    "tensordot_pairs": (
        lambda m, a, b: m.tensordot(a, b, ([0, 2], [2, 0])),
        [_r(2, 3, 4), _r(4, 5, 2)],
    ),
    "inner": (lambda m, a, b: m.inner(a, b), [_r(2, 3), _r(4, 3)]),
    "vdot": (lambda m, a, b: m.vdot(a, b), [_r(3), _r(3)]),
    "ger": (lambda m, a, b: m.ger(a, b), [_r(3), _r(2)]),
    "addmv": (lambda m, a, b, c: m.addmv(a, b, c, beta=0.5, alpha=2.0), [_r(2), _r(2, 3), _r(3)]),
    "addr": (lambda m, a, b, c: m.addr(a, b, c, alpha=-1.0), [_r(2, 3), _r(2), _r(3)]),
    "addbmm": (lambda m, a, b, c: m.addbmm(a, b, c), [_r(2, 4), _r(3, 2, 5), _r(3, 5, 4)]),
    "addmm_beta0": (
        lambda m, a, b, c: m.addmm(m.full_like(a, float("nan")), b, c, beta=0) + a,
        [_r(2, 4), _r(2, 3), _r(3, 4)],
    ),
    "chain_matmul": (lambda m, a, b, c: m.chain_matmul(a, b, c), [_r(2, 3), _r(3, 4), _r(4, 2)]),
    "diag_embed": (lambda m, a: m.diag_embed(a, 1, 0, 2), [_r(2, 3)]),
    "diag_embed_default": (lambda m, a: m.diag_embed(a), [_r(2, 3)]),
    "diagflat": (lambda m, a: m.diagflat(a, -1), [_r(2, 2)]),
    # values only: PyTorch 2.13's own vander backward fails (an in-place op in its graph);
    # chainrule's gradient is checked against finite differences below
    "vander": (lambda m, a: m.vander(a.detach(), 4), [_r(3)]),
    "vander_increasing": (lambda m, a: m.vander(a.detach(), increasing=True), [_r(3)]),
    "det": (lambda m, a: m.det(a), [_r(2, 3, 3)]),
    "logdet": (lambda m, a: m.logdet(a @ a.transpose(-1, -2) + 0.5), [_r(3, 3)]),
    "slogdet": (lambda m, a: m.slogdet(a)[1], [_r(3, 3)]),
    "cholesky_upper": (
        lambda m, a: m.cholesky(a @ a.transpose(-1, -2) + m.eye(3, dtype=a.dtype), upper=True),
        [_r(3, 3)],
    ),
    "matrix_power": (lambda m, a: m.matrix_power(a, 3), [_r(3, 3)]),
    "svd_values": (lambda m, a: m.svd(a)[1], [_r(4, 3)]),
    "svd_reconstructs": (
        lambda m, a: (lambda u, s, v: (u * s) @ v.transpose(-1, -2))(*m.svd(a)),
        [_r(4, 3)],
    ),
    "logcumsumexp": (lambda m, a: m.logcumsumexp(a * 30.0, 1), [_r(3, 5)]),
    "cummax": (lambda m, a: m.cummax(a, 1), [_ints(3, 6)]),
    "cummin": (lambda m, a: m.cummin(a, 0), [_ints(5, 2)]),
    "aminmax": (lambda m, a: tuple(m.aminmax(a, dim=1)), [_r(3, 4)]),
    "var_mean": (lambda m, a: m.var_mean(a, 1, correction=0), [_r(3, 4)]),
    "std_mean": (lambda m, a: m.std_mean(a, dim=0, keepdim=True), [_r(3, 4)]),
    "dist": (lambda m, a, b: m.dist(a, b, 3), [_r(3, 4), _r(4)]),
    "quantile": (lambda m, a: m.quantile(a, 0.3, dim=1), [_r(3, 5)]),
    "quantile_tensor_q": (
        lambda m, a: m.quantile(
            a, m.tensor([0.0, 0.25, 0.5, 1.0], dtype=a.dtype), dim=0, keepdim=True
        ),
        [_r(4, 3)],
    ),
    "quantile_all": (lambda m, a: m.quantile(a, 0.7), [_r(3, 4)]),
    "quantile_lower": (lambda m, a: m.quantile(a, 0.4, dim=1, interpolation="lower"), [_r(2, 6)]),
    "quantile_higher": (lambda m, a: m.quantile(a, 0.4, dim=1, interpolation="higher"), [_r(2, 6)]),
    "quantile_midpoint": (
        lambda m, a: m.quantile(a, 0.4, dim=1, interpolation="midpoint"),
        [_r(2, 6)],
    ),
    "quantile_nearest": (
        lambda m, a: m.quantile(a, 0.5, dim=1, interpolation="nearest"),
        [_r(2, 6)],
    ),
    "nanquantile": (
        lambda m, a: m.nanquantile(m.where(a > 0.8, float("nan"), a), 0.5, dim=1),
        [_r(4, 5)],
    ),
    "quantile_nan": (
        lambda m, a: m.quantile(m.where(a > 0.8, float("nan"), a), 0.5, dim=1),
        [_r(4, 5)],
    ),
    "mode": (lambda m, a: m.mode(a, 1), [_ints(3, 7, hi=3)]),
    "cov": (lambda m, a: m.cov(a), [_r(3, 6)]),
    "cov_weights": (
        lambda m, a: m.cov(
            a,
            correction=1,
            fweights=m.tensor([1, 2, 1, 3]),
            aweights=m.tensor([0.5, 1.0, 2.0, 1.0], dtype=a.dtype),
        ),
        [_r(2, 4)],
    ),
    "cov_1d": (lambda m, a: m.cov(a, correction=0), [_r(5)]),
    "corrcoef": (lambda m, a: m.corrcoef(a), [_r(3, 6)]),
    "trapezoid": (lambda m, a: m.trapezoid(a, dx=0.5), [_r(3, 5)]),
    "trapezoid_x": (lambda m, a, x: m.trapezoid(a, x.cumsum(0), dim=0), [_r(4, 2), _r(4)]),
    "cumulative_trapezoid": (lambda m, a: m.cumulative_trapezoid(a, dim=0), [_r(4, 2)]),
    "index_copy": (
        lambda m, a, b: m.index_copy(a, 1, m.tensor([2, 0]), b),
        [_r(3, 4), _r(3, 2)],
    ),
    "index_put": (
        lambda m, a, b: m.index_put(a, (m.tensor([0, 2]), m.tensor([1, 3])), b),
        [_r(3, 4), _r(2)],
    ),
    "index_put_accumulate": (
        lambda m, a, b: m.index_put(a, (m.tensor([0, 2, 0]),), b, accumulate=True),
        [_r(3, 4), _r(3, 4)],
    ),
    "masked_scatter": (
        lambda m, a, b: m.masked_scatter(
            a, m.tensor([[True, False, True], [False, True, True]]), b
        ),
        [_r(2, 3), _r(5)],
    ),
    "select_scatter": (lambda m, a, b: m.select_scatter(a, b, 1, 2), [_r(3, 4), _r(3)]),
    "slice_scatter": (lambda m, a, b: m.slice_scatter(a, b, 1, 0, 4, 2), [_r(3, 4), _r(3, 2)]),
    "diagonal_scatter": (lambda m, a, b: m.diagonal_scatter(a, b, 1), [_r(3, 4), _r(3)]),
    "diagonal_scatter_dims": (
        lambda m, a, b: m.diagonal_scatter(a, b, 0, 0, 2),
        [_r(3, 2, 3), _r(2, 3)],
    ),
    "msort": (lambda m, a: m.msort(a), [_r(4, 3)]),
}


def _as_list(out):
    return list(out) if isinstance(out, tuple | list) else [out]


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name, torch):
    fn, arrays = CASES[name]
    ours = [cr.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    outs, refs = _as_list(fn(cr, *ours)), _as_list(fn(torch, *theirs))
    assert len(outs) == len(refs)
    for o, r in zip(outs, refs):
        assert tuple(o.shape) == tuple(r.shape), (o.shape, r.shape)
        assert str(o.dtype).split(".")[-1] == str(r.dtype).split(".")[-1], (o.dtype, r.dtype)
        np.testing.assert_allclose(o.detach().numpy(), r.detach().numpy(), rtol=1e-10, atol=1e-12)
    rng = np.random.default_rng(1)
    pairs = [(o, r) for o, r in zip(outs, refs) if r.requires_grad]
    if not pairs:
        return
    total, total_t = 0, 0
    for o, r in pairs:
        cot = rng.standard_normal(tuple(r.shape))
        total = total + (o * cr.tensor(cot)).sum()
        total_t = total_t + (r * torch.tensor(cot)).sum()
    total.backward()
    total_t.backward()
    for x, xt in zip(ours, theirs):
        if xt.grad is None or x.grad is None:  # None and zeros are the same gradient
            assert not (xt.grad is not None and xt.grad.any())
            assert not (x.grad is not None and x.grad.numpy().any())
            continue
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-10)


INT_CASES = {
    "tril_indices": lambda m: m.tril_indices(3, 4, 1),
    "triu_indices": lambda m: m.triu_indices(4, 3, -1),
    "unravel_index": lambda m: m.unravel_index(m.tensor([0, 5, 11, -1]), (3, 4)),
    "bucketize": lambda m: m.bucketize(m.tensor([0.5, 1.0, 2.5, 9.0]), m.tensor([1.0, 2.0, 3.0])),
    "bucketize_right": lambda m: m.bucketize(
        m.tensor([0.5, 1.0, 2.0]), m.tensor([1.0, 2.0, 3.0]), right=True, out_int32=True
    ),
    "isin": lambda m: m.isin(m.tensor([[1, 2], [3, 4]]), m.tensor([2, 4, 6])),
    "isin_invert": lambda m: m.isin(m.tensor([1, 2, 3]), 2, invert=True),
    "unique_consecutive": lambda m: m.unique_consecutive(
        m.tensor([1, 1, 2, 2, 3, 1, 1, 2]), return_inverse=True, return_counts=True
    ),
    "unique_consecutive_dim": lambda m: m.unique_consecutive(
        m.tensor([[1, 1, 2], [1, 1, 2], [0, 1, 2], [1, 1, 2]]), return_counts=True, dim=0
    ),
    "cummax_nan": lambda m: m.cummax(m.tensor([1.0, float("nan"), 3.0, float("nan"), 0.5]), 0),
    "broadcast_shapes": lambda m: m.tensor(list(m.broadcast_shapes((3, 1), (4,), (2, 1, 1)))),
    "equal": lambda m: m.tensor([m.equal(m.ones(2), m.ones(2)), m.equal(m.ones(2), m.ones(3))]),
}


@pytest.mark.parametrize("name", list(INT_CASES))
def test_index_helpers_match_torch(name, torch):
    outs, refs = _as_list(INT_CASES[name](cr)), _as_list(INT_CASES[name](torch))
    assert len(outs) == len(refs)
    for o, r in zip(outs, refs):
        assert str(o.dtype).split(".")[-1] == str(r.dtype).split(".")[-1], (o.dtype, r.dtype)
        np.testing.assert_array_equal(o.numpy(), r.numpy())


def test_logcumsumexp_has_no_overflow_or_underflow(torch):
    x = np.array([-1000.0, 0.0, 1000.0, -5.0], np.float32)
    ours = cr.tensor(x, requires_grad=True)
    out = cr.logcumsumexp(ours, 0)
    np.testing.assert_allclose(out.detach().numpy(), [-1000.0, 0.0, 1000.0, 1000.0])
    out.backward(cr.tensor([1.0, -2.0, 0.5, 1.0]))
    ref = torch.tensor(x, requires_grad=True)
    torch.logcumsumexp(ref, 0).backward(torch.tensor([1.0, -2.0, 0.5, 1.0]))
    np.testing.assert_allclose(ours.grad.numpy(), ref.grad.numpy(), atol=1e-6)


def test_bad_arguments_are_named():
    with pytest.raises(RuntimeError, match="hsplit.*not divisible"):
        cr.hsplit(cr.zeros(2, 5), 2)
    with pytest.raises(RuntimeError, match="quantile\\(\\) q values must be in the range"):
        cr.quantile(cr.zeros(3), 1.5)
    with pytest.raises(RuntimeError, match="tensordot: contracted dims"):
        cr.tensordot(cr.zeros(2, 3), cr.zeros(4, 3), 1)
    with pytest.raises(RuntimeError, match="masked_scatter: the mask selects 2"):
        cr.masked_scatter(cr.zeros(2), cr.tensor([True, True]), cr.zeros(1))
    with pytest.raises(RuntimeError, match="t\\(\\) expects a tensor with <= 2 dimensions"):
        cr.zeros(2, 2, 2).t()


def test_gradients_pytorch_cannot_check_pass_gradcheck():
    x = cr.tensor(_r(3), requires_grad=True)
    assert cr.autograd.gradcheck(lambda v: cr.vander(v, 4), (x,))
    y = cr.tensor(_r(2, 4), requires_grad=True)
    assert cr.autograd.gradcheck(lambda v: cr.quantile(v, 0.35, dim=1), (y,))
    assert cr.autograd.gradcheck(lambda v: cr.logcumsumexp(v, 1), (y,))
