"""The non-differentiable parts of the sorting family and the small API extras, against
PyTorch: indices (ties included), unique with inverse and counts, nonzero, count_nonzero,
isclose/allclose, the new_* constructors, type_as, meshgrid, errors."""

import numpy as np
import pytest

import chainrule as cr


def _both(torch, values, dtype=None):
    a = np.asarray(values, dtype=dtype)
    return cr.tensor(a), torch.from_numpy(a.copy())


TIES = [[3, 1, 3, 2, 1, 3], [True, False, True, False], [2.5, -1.0, 2.5]]


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("values", TIES)
def test_stable_sort_and_argsort_match_torch_with_ties(torch, values, descending):
    ours, theirs = _both(torch, values)
    got = ours.sort(descending=descending, stable=True)
    want = theirs.sort(descending=descending, stable=True)
    np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    np.testing.assert_array_equal(
        ours.argsort(descending=descending, stable=True).numpy(),
        theirs.argsort(descending=descending, stable=True).numpy(),
    )


def test_topk_indices_and_range(torch):
    ours, theirs = _both(torch, [[1.0, 5.0, 3.0, 4.0], [2.0, 0.0, 7.0, 6.0]])
    for k, largest in ((1, True), (3, False), (4, True)):
        got, want = ours.topk(k, largest=largest), theirs.topk(k, largest=largest)
        np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
        np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
    with pytest.raises(RuntimeError, match="out of range"):
        ours.topk(5)


def test_unique_nonzero_count_nonzero_match_torch(torch):
    ours, theirs = _both(torch, [[3, 1, 0], [1, 3, 3]])
    for kw in ({}, {"return_counts": True}, {"return_inverse": True, "return_counts": True}):
        got, want = ours.unique(**kw), theirs.unique(**kw)
        got, want = (
            (got,) if not isinstance(got, tuple) else got,
            ((want,) if not isinstance(want, tuple) else want),
        )
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g.numpy(), w.numpy())
    np.testing.assert_array_equal(ours.unique(dim=1).numpy(), theirs.unique(dim=1).numpy())
    np.testing.assert_array_equal(ours.nonzero().numpy(), theirs.nonzero().numpy())
    for g, w in zip(ours.nonzero(as_tuple=True), theirs.nonzero(as_tuple=True), strict=True):
        np.testing.assert_array_equal(g.numpy(), w.numpy())
    assert ours.count_nonzero().item() == theirs.count_nonzero().item()
    np.testing.assert_array_equal(
        ours.count_nonzero(dim=0).numpy(), theirs.count_nonzero(dim=0).numpy()
    )


def test_isclose_allclose_new_and_type_as(torch):
    a, ta = _both(torch, [1.0, 2.0, float("nan")], "float32")
    b, tb = _both(torch, [1.0 + 1e-7, 2.1, float("nan")], "float32")
    for equal_nan in (False, True):
        np.testing.assert_array_equal(
            a.isclose(b, equal_nan=equal_nan).numpy(), ta.isclose(tb, equal_nan=equal_nan).numpy()
        )
    assert cr.allclose(a[:1], b[:1]) and not cr.allclose(a, b)
    x = cr.tensor([[1, 2]], dtype=cr.float64)
    assert x.new_zeros(2, 3).dtype == cr.float64 and tuple(x.new_zeros(2, 3).shape) == (2, 3)
    assert x.new_ones((4,)).tolist() == [1.0] * 4
    assert x.new_full((2,), 7).tolist() == [7.0, 7.0]
    assert x.new_tensor([1, 2]).dtype == cr.float64
    assert x.new_zeros(1, requires_grad=True).requires_grad
    assert cr.tensor([1.5]).type_as(cr.tensor([1])).dtype == cr.int64
    assert x.nelement() == 2


def test_meshgrid_ij_and_xy_match_torch(torch):
    a, ta = _both(torch, [1.0, 2.0, 3.0])
    b, tb = _both(torch, [4.0, 5.0])
    for indexing in ("ij", "xy"):
        for g, w in zip(
            cr.meshgrid(a, b, indexing=indexing),
            torch.meshgrid(ta, tb, indexing=indexing),
            strict=True,
        ):
            np.testing.assert_array_equal(g.numpy(), w.numpy())


def test_searchsorted_bincount_argwhere_match_torch(torch):
    seq, tseq = _both(torch, [[1.0, 3.0, 5.0, 7.0], [2.0, 4.0, 6.0, 8.0]])
    vals, tvals = _both(torch, [[3.0, 6.0], [1.0, 9.0]])
    for right in (False, True):
        np.testing.assert_array_equal(
            cr.searchsorted(seq, vals, right=right).numpy(),
            torch.searchsorted(tseq, tvals, right=right).numpy(),
        )
    np.testing.assert_array_equal(
        cr.searchsorted(seq[0], cr.tensor([0.0, 5.0])).numpy(),
        torch.searchsorted(tseq[0], torch.tensor([0.0, 5.0])).numpy(),
    )
    ints, tints = _both(torch, [0, 3, 3, 1], "int64")
    np.testing.assert_array_equal(cr.bincount(ints).numpy(), torch.bincount(tints).numpy())
    np.testing.assert_array_equal(
        cr.bincount(ints, minlength=6).numpy(), torch.bincount(tints, minlength=6).numpy()
    )
    m, tm = _both(torch, [[0, 2], [3, 0]])
    np.testing.assert_array_equal(m.argwhere().numpy(), tm.argwhere().numpy())


def test_sampling_and_inplace_extras():
    cr.manual_seed(0)
    draws = cr.bernoulli(cr.full((1000,), 0.3))
    assert set(np.unique(draws.numpy())) <= {0.0, 1.0} and 0.2 < draws.mean().item() < 0.4
    rows = cr.tensor([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]]).multinomial(2)
    assert tuple(rows.shape) == (2, 2) and rows[0, 0].item() == 1
    assert set(rows[1].tolist()) == {0, 2}  # without replacement: both non-zero classes
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    y = x * 1.0
    y.exp_()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.0, 1.0]), rtol=1e-6)
    z = cr.zeros(2, 3)
    z.scatter_add_(1, cr.tensor([[0, 0], [2, 1]]), cr.ones(2, 2))
    assert z.tolist() == [[2.0, 0.0, 0.0], [0.0, 1.0, 1.0]]
    assert cr.tensor([1.7, 300.0]).byte().dtype == cr.uint8


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.0, float("inf")])
def test_cdist_matches_torch_including_coinciding_rows(torch, p):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 5, 3))
    b[0, 0] = a[0, 1]  # distance 0: torch's gradient there is 0, not nan
    xa, xb = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    y, ty = cr.cdist(xa, xb, p), torch.cdist(ta, tb, p)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), atol=1e-10)
    if p != 0.0:
        cot = np.cos(np.arange(ty.numel())).reshape(tuple(ty.shape))
        y.backward(cr.tensor(cot))
        ty.backward(torch.tensor(cot))
        np.testing.assert_allclose(xa.grad.numpy(), ta.grad.numpy(), atol=1e-9)
        np.testing.assert_allclose(xb.grad.numpy(), tb.grad.numpy(), atol=1e-9)


def test_erfinv_matches_torch_over_the_whole_range(torch):
    x = np.concatenate([np.linspace(-0.9999999, 0.9999999, 20001), [0.0, 1.0, -1.0, 1.5, -2.0]])
    for dtype, rtol in ((np.float64, 1e-10), (np.float32, 3e-7)):
        ours = cr.erfinv(cr.tensor(x.astype(dtype))).numpy()
        theirs = torch.erfinv(torch.tensor(x.astype(dtype))).numpy()
        assert ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0)  # +-inf and nan included


def test_histc_fill_diagonal_index_fill_and_helpers_match_torch(torch):
    x = np.random.default_rng(5).standard_normal((4, 3))
    for args in ((10, 0, 0), (5, -1, 1), (3, 2, 2)):
        np.testing.assert_array_equal(
            cr.tensor(x).histc(*args).numpy(), torch.tensor(x).histc(*args).numpy()
        )
    for shape, wrap in (((3, 3), False), ((5, 2), True), ((5, 2), False), ((2, 2, 2), False)):
        ours, theirs = cr.zeros(*shape), torch.zeros(*shape)
        ours.fill_diagonal_(7.0, wrap=wrap)
        theirs.fill_diagonal_(7.0, wrap=wrap)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours, theirs = cr.zeros(3, 4), torch.zeros(3, 4)
    ours.index_fill_(1, cr.tensor([0, 2]), 5.0)
    theirs.index_fill_(1, torch.tensor([0, 2]), 5.0)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    y = cr.zeros(3, 2)
    y.index_add_(0, cr.tensor([0, 0, 2]), cr.ones(3, 2))
    assert y.tolist() == [[2.0, 2.0], [0.0, 0.0], [1.0, 1.0]]
    assert cr.is_tensor(y) and not cr.is_tensor(np.zeros(2)) and cr.numel(y) == 6
    assert y.data_ptr() == y.data.ctypes.data


@pytest.mark.parametrize("name", ["sqrt_", "abs_", "neg_", "sigmoid_", "tanh_", "relu_", "log_"])
def test_inplace_unary_methods_match_torch(torch, name):
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    if name in ("sqrt_", "log_"):
        x = np.abs(x)
    a, b = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yb = a * 1.0, b * 1.0
    getattr(ya, name)()
    getattr(yb, name)()
    (ya * ya).sum().backward()
    (yb * yb).sum().backward()
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy())
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy())


def test_inplace_samplers_and_clamp_helpers():
    cr.manual_seed(0)
    t = cr.zeros(2000)
    assert 0.25 < t.bernoulli_(0.3).mean().item() < 0.35
    assert 0.45 < t.exponential_(2.0).mean().item() < 0.55
    assert set(np.unique(t.random_(5).numpy())) <= {0.0, 1.0, 2.0, 3.0, 4.0}
    assert set(np.unique(t.random_(2, 4).numpy())) <= {2.0, 3.0}
    assert t.geometric_(0.5).min().item() >= 1
    assert cr.tensor([1.0, -2.0]).clamp_min(0).tolist() == [1.0, 0.0]
    assert cr.tensor([1.0, -2.0]).clamp_max(0).tolist() == [0.0, -2.0]


def test_det_gradient_of_a_singular_matrix_is_its_cofactor_matrix():
    # det [[a, b], [c, d]] = ad - bc: the gradient is [[d, -c], [-b, a]] even when det = 0
    # (PyTorch 2.13 returns zeros for this exactly singular matrix).
    a = cr.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=cr.float64, requires_grad=True)
    d = cr.linalg.det(a)
    d.backward()
    assert d.item() == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(a.grad.numpy(), [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)
    assert cr.autograd.gradcheck(
        cr.linalg.det, (cr.tensor(np.ones((3, 3)), dtype=cr.float64, requires_grad=True),)
    )


def test_linalg_namespace_matches_torch(torch):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal((2, 3))
    np.testing.assert_allclose(
        cr.linalg.solve(cr.tensor(a), cr.tensor(b)).numpy(),
        torch.linalg.solve(torch.tensor(a), torch.tensor(b)).numpy(),
    )
    sign, logabs = cr.linalg.slogdet(cr.tensor(a))
    tsign, tlogabs = torch.linalg.slogdet(torch.tensor(a))
    np.testing.assert_allclose(sign.numpy(), tsign.numpy())
    np.testing.assert_allclose(logabs.numpy(), tlogabs.numpy())
    for ord_ in ("fro", 1, -1, float("inf")):
        np.testing.assert_allclose(
            cr.linalg.matrix_norm(cr.tensor(a), ord_).numpy(),
            torch.linalg.matrix_norm(torch.tensor(a), ord_).numpy(),
            atol=1e-12,  # the rank-2 matrix's smallest singular value is ~1e-17
        )
    np.testing.assert_allclose(
        cr.linalg.matrix_power(cr.tensor(a), -2).numpy(),
        torch.linalg.matrix_power(torch.tensor(a), -2).numpy(),
    )
    with pytest.raises(RuntimeError, match="square"):
        cr.linalg.det(cr.zeros(2, 3))


def test_matrix_rank_and_spectral_norms_match_torch(torch):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 4, 3))
    a[0, :, 2] = a[0, :, 0] * 2  # rank 2
    np.testing.assert_array_equal(
        cr.linalg.matrix_rank(cr.tensor(a)).numpy(), torch.linalg.matrix_rank(torch.tensor(a))
    )
    for ord_ in ("nuc", 2, -2):
        np.testing.assert_allclose(
            cr.linalg.matrix_norm(cr.tensor(a), ord_).numpy(),
            torch.linalg.matrix_norm(torch.tensor(a), ord_).numpy(),
            atol=1e-12,  # the rank-2 matrix's smallest singular value is ~1e-17
        )
