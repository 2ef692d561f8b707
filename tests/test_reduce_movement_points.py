"""Reductions and movement ops at the points the random OpSpecs avoid, against PyTorch.

Kinks (ties in max/min/amax, zeros in prod and norm), numerically hard inputs (logsumexp at
+-1e4), dtypes, multi-output results, error messages, and view/version semantics.
"""

import math

import numpy as np
import pytest

import chainrule as cr


def _pair(values, dtype=np.float32):
    """The same values as a chainrule and a torch leaf requiring grad."""
    torch = pytest.importorskip("torch")
    arr = np.asarray(values, dtype=dtype)
    ours = cr.from_numpy(arr.copy()).requires_grad_(True)
    theirs = torch.from_numpy(arr.copy()).requires_grad_(True)
    return ours, theirs


def _check(fn_ours, fn_torch, values, cot_seed=3, dtype=np.float32):
    """Forward values and the gradient for a random cotangent agree with PyTorch."""
    ours, theirs = _pair(values, dtype)
    out, ref = fn_ours(ours), fn_torch(theirs)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-6, atol=1e-6)
    cot = np.random.default_rng(cot_seed).standard_normal(tuple(ref.shape)).astype(dtype)
    out.backward(cr.from_numpy(cot.copy()))
    ref.backward(_torch_tensor(cot))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6, atol=1e-6)
    return ours.grad.numpy()


def _torch_tensor(a):
    import torch

    return torch.from_numpy(np.array(a))


TIES = [[1.0, 3.0, 3.0, -2.0], [3.0, 3.0, 3.0, 0.5], [-1.0, -1.0, 2.0, 2.0]]


# ---------------------------------------------------------------- ties in max/min/amax/amin


def test_max_without_dim_splits_ties_evenly():
    g = _check(lambda x: x.max(), lambda x: x.max(), TIES)
    # five elements equal the max 3: each receives a fifth of the cotangent
    assert np.count_nonzero(g) == 5 and np.allclose(g[g != 0], g[g != 0][0])


def test_min_without_dim_splits_ties_evenly():
    _check(lambda x: x.min(), lambda x: x.min(), TIES)


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1), -1])
def test_amax_amin_split_ties_evenly(dim):
    kw = {} if dim is None else {"dim": dim}
    _check(lambda x: x.amax(**kw), lambda x: x.amax(**kw), TIES)
    _check(lambda x: x.amin(**kw), lambda x: x.amin(**kw), TIES)


def test_norm_inf_splits_ties_evenly():
    values = [[3.0, -3.0, 1.0], [0.5, -2.0, 2.0]]
    _check(lambda x: x.norm(math.inf, dim=1), lambda x: x.norm(math.inf, dim=1), values)
    _check(lambda x: x.norm(math.inf), lambda x: x.norm(math.inf), values)
    _check(lambda x: x.norm(-math.inf), lambda x: x.norm(-math.inf), [[1.0, -1.0, 2.0]])


@pytest.mark.parametrize("dim,keepdim", [(0, False), (1, False), (1, True), (-1, True)])
def test_max_min_with_dim_send_gradient_to_the_returned_index(dim, keepdim):
    torch = pytest.importorskip("torch")
    for name in ("max", "min"):
        ours, theirs = _pair(TIES)
        res = getattr(ours, name)(dim, keepdim)
        ref = getattr(theirs, name)(dim, keepdim)
        np.testing.assert_array_equal(res.indices.numpy(), ref.indices.numpy())
        assert res.indices.dtype == cr.int64
        np.testing.assert_array_equal(res.values.detach().numpy(), ref.values.detach().numpy())
        cot = np.arange(1.0, ref.values.numel() + 1, dtype=np.float32).reshape(ref.values.shape)
        res.values.backward(cr.from_numpy(cot.copy()))
        ref.values.backward(torch.from_numpy(cot.copy()))
        np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
        # exactly one element per slice receives the gradient, even with ties
        assert np.count_nonzero(ours.grad.numpy()) == cot.size


def test_max_with_dim_unpacks_like_a_named_tuple():
    x = cr.tensor([[1.0, 5.0], [7.0, 2.0]])
    values, indices = x.max(dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    res = cr.min(x, 0)
    assert res.values.tolist() == [1.0, 2.0] and res[1].tolist() == [0, 1]
    assert len(res) == 2


def test_max_of_0d_along_dim0():
    torch = pytest.importorskip("torch")
    res = cr.max(cr.tensor(3.0), 0)
    ref = torch.max(torch.tensor(3.0), 0)
    assert res.values.shape == ref.values.shape and res.values.item() == 3.0
    assert res.indices.item() == 0 and tuple(res.indices.shape) == ()


def test_max_of_two_tensors_is_elementwise():
    a, b = cr.tensor([1.0, 5.0]), cr.tensor([3.0, 2.0])
    assert cr.max(a, b).tolist() == [3.0, 5.0]
    assert a.min(b).tolist() == [1.0, 2.0]


def test_argmax_argmin_match_torch():
    torch = pytest.importorskip("torch")
    x = np.array(TIES, dtype=np.float32)
    for kw in ({}, {"dim": 1}, {"dim": 0, "keepdim": True}, {"keepdim": True}):
        for name in ("argmax", "argmin"):
            out = getattr(cr.from_numpy(x), name)(**kw)
            ref = getattr(torch.from_numpy(x), name)(**kw)
            np.testing.assert_array_equal(out.numpy(), ref.numpy())
            assert tuple(out.shape) == tuple(ref.shape) and out.dtype == cr.int64


def test_max_of_empty_raises_like_torch():
    with pytest.raises(RuntimeError, match="max"):
        cr.zeros(0).max()
    with pytest.raises(IndexError, match="dim 1"):
        cr.zeros(2, 0).max(1)


# ---------------------------------------------------------------- zeros in prod


@pytest.mark.parametrize(
    "values",
    [
        [[2.0, 0.0, 3.0, -1.5]],  # one zero
        [[2.0, 0.0, 3.0, 0.0]],  # two zeros
        [[0.0, 0.0, 0.0, 0.0]],  # only zeros
        [[2.0, 0.0, 3.0, 4.0], [1.0, 2.0, -3.0, 0.5], [0.0, 5.0, 0.0, 1.0]],  # mixed rows
    ],
)
@pytest.mark.parametrize("dim", [None, 1, 0])
def test_prod_gradient_with_zeros(values, dim):
    kw = {} if dim is None else {"dim": dim}
    g = _check(lambda x: x.prod(**kw), lambda x: x.prod(**kw), values, dtype=np.float64)
    assert np.all(np.isfinite(g))


def test_prod_with_one_zero_gives_product_of_the_others():
    x = cr.tensor([2.0, 0.0, 3.0], requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 6.0, 0.0]


def test_prod_dtype_and_tuple_dim():
    assert cr.tensor([True, True]).prod().dtype == cr.int64
    assert cr.tensor([1, 2, 3], dtype=cr.int32).prod().dtype == cr.int64
    with pytest.raises(TypeError, match="prod"):
        cr.ones(2, 3).prod((0, 1))


# ---------------------------------------------------------------- norms and std at zero


@pytest.mark.parametrize("p", [2, "fro", 1, 3, 0.5, math.inf])
def test_norm_gradient_at_the_zero_vector_is_zero_like_torch(p):
    g = _check(lambda x: x.norm(p), lambda x: x.norm(p), [[0.0, 0.0, 0.0]])
    assert np.all(g == 0)


def test_norm_with_some_zero_entries():
    values = [[0.0, 3.0, -4.0], [0.0, 0.0, 0.0]]
    for p in (2, 1, 3, 0.5):
        _check(lambda x, p=p: x.norm(p, dim=1), lambda x, p=p: x.norm(p, dim=1), values)


def test_norm_p0_counts_nonzeros():
    torch = pytest.importorskip("torch")
    x = np.array([[0.0, 3.0, -4.0], [0.0, 0.0, 1.0]], dtype=np.float32)
    np.testing.assert_array_equal(
        cr.from_numpy(x).norm(0, dim=1).numpy(), torch.from_numpy(x).norm(0, dim=1).numpy()
    )


def test_std_of_a_constant_has_zero_gradient_like_torch():
    g = _check(lambda x: x.std(1), lambda x: x.std(1), [[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    assert np.all(g[0] == 0)


def test_norm_rejects_integer_input():
    with pytest.raises(RuntimeError, match="norm"):
        cr.tensor([1, 2]).norm()


# ---------------------------------------------------------------- logsumexp numerics


@pytest.mark.parametrize(
    "values",
    [
        [1e4, -1e4],
        [1e4, 1e4, 1e4],
        [-1e4, -1e4 + 1.0],
        [[1e4, 0.0], [-1e4, -1e4]],
    ],
)
def test_logsumexp_is_exact_at_large_magnitudes(values):
    torch = pytest.importorskip("torch")
    dim = -1
    g = _check(lambda x: x.logsumexp(dim), lambda x: x.logsumexp(dim), values)
    assert np.all(np.isfinite(g))
    out = cr.tensor(values).logsumexp(dim).numpy()
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, torch.tensor(values).logsumexp(dim).numpy())


def test_logsumexp_with_infinities():
    torch = pytest.importorskip("torch")
    inf = math.inf
    values = [[-inf, -inf], [inf, 1.0], [-inf, 0.0]]
    out = cr.tensor(values).logsumexp(1).numpy()
    np.testing.assert_array_equal(out, torch.tensor(values).logsumexp(1).numpy())


def test_logsumexp_of_integers_is_float():
    assert cr.tensor([1, 2]).logsumexp(0).dtype == cr.float32


# ---------------------------------------------------------------- dtypes and arguments


def test_sum_dtypes_follow_torch():
    assert cr.tensor([True, False, True]).sum().dtype == cr.int64
    assert cr.tensor([1, 2], dtype=cr.int32).sum().dtype == cr.int64
    assert cr.tensor([1, 2], dtype=cr.int32).cumsum(0).dtype == cr.int64
    assert cr.tensor([1.0, 2.0], dtype=cr.float16).sum().dtype == cr.float16
    assert cr.tensor([1.0, 2.0]).sum(dtype=cr.float64).dtype == cr.float64
    assert cr.tensor([[1.0, 2.0]]).sum(dim=()).item() == 3.0


def test_mean_and_var_reject_integers_like_torch():
    with pytest.raises(RuntimeError, match="mean"):
        cr.tensor([1, 2, 3]).mean()
    with pytest.raises(RuntimeError, match="var"):
        cr.tensor([1, 2, 3]).var()


def test_var_std_arguments():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    ours, theirs = cr.from_numpy(x), torch.from_numpy(x)
    cases = [
        ((), {}),
        ((True,), {}),
        ((False,), {}),
        ((1,), {"unbiased": False}),
        ((1,), {"correction": 0}),
        ((0,), {"keepdim": True, "correction": 2}),
    ]
    for args, kw in cases:
        for name in ("var", "std"):
            np.testing.assert_allclose(
                getattr(ours, name)(*args, **kw).numpy(),
                getattr(theirs, name)(*args, **kw).numpy(),
                rtol=1e-5,
            )
    with pytest.raises(RuntimeError):
        ours.var(0, unbiased=True, correction=1)


def test_all_any_return_bool():
    torch = pytest.importorskip("torch")
    x = np.array([[0, 1, 2], [3, 4, 5]])
    for name in ("all", "any"):
        for kw in ({}, {"dim": 1}, {"dim": (0, 1)}, {"dim": 0, "keepdim": True}):
            out = getattr(cr.from_numpy(x), name)(**kw)
            ref = getattr(torch.from_numpy(x), name)(**kw)
            assert out.dtype == cr.bool
            np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_reduction_errors_name_the_op_and_dim():
    x = cr.ones(2, 3)
    with pytest.raises(IndexError, match=r"sum.*got 2"):
        x.sum(2)
    with pytest.raises(IndexError, match=r"amax.*got -3"):
        x.amax((0, -3))
    with pytest.raises(RuntimeError, match="sum.*multiple times"):
        x.sum((1, -1))


# ---------------------------------------------------------------- multi-output movement ops


@pytest.mark.parametrize(
    "name,args",
    [
        ("split", (2, 1)),
        ("split", ([1, 3, 1], 1)),
        ("split", (1,)),
        ("chunk", (3, 1)),
        ("chunk", (2, 0)),
        ("chunk", (4, 1)),
        ("unbind", (0,)),
        ("unbind", (-1,)),
    ],
)
def test_split_chunk_unbind_match_torch(name, args):
    pytest.importorskip("torch")
    x = np.arange(15.0, dtype=np.float32).reshape(3, 5)
    ours, theirs = _pair(x)
    parts = getattr(ours, name)(*args)
    refs = getattr(theirs, name)(*args)
    assert isinstance(parts, tuple) and len(parts) == len(refs)
    for i, (p, r) in enumerate(zip(parts, refs)):
        np.testing.assert_array_equal(p.detach().numpy(), r.detach().numpy())
        (p * (i + 1)).sum().backward()
        (r * (i + 1)).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    assert cr.from_numpy(x).chunk(3, 1)[0]._is_view


def test_split_errors():
    x = cr.ones(2, 5)
    with pytest.raises(RuntimeError, match=r"sum exactly to 5"):
        x.split([2, 2], 1)
    with pytest.raises(RuntimeError, match="greater than 0"):
        x.chunk(0)
    with pytest.raises(IndexError):
        cr.tensor(1.0).unbind()


# ---------------------------------------------------------------- errors of movement ops


def test_reshape_error_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"\[4, 2\].*\[2, 3\]"):
        cr.ones(2, 3).reshape(4, 2)
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        cr.ones(2, 3).reshape(-1, -1)
    assert cr.ones(2, 3).reshape(-1).shape == (6,)


def test_movement_errors_like_torch():
    x = cr.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"expand.*size \(3\).*dimension 1"):
        x.expand(2, 4)
    with pytest.raises(RuntimeError, match="duplicate"):
        x.permute(0, 0)
    with pytest.raises(RuntimeError, match="dims"):
        x.permute(0)
    with pytest.raises(RuntimeError, match=r"dimension 0.*tensor number 1"):
        cr.cat([x, cr.ones(2, 4)], 0)
    with pytest.raises(RuntimeError, match="zero-dimensional"):
        cr.cat([cr.tensor(1.0)])
    with pytest.raises(RuntimeError, match="equal size"):
        cr.stack([x, cr.ones(3, 2)])
    with pytest.raises(RuntimeError, match="start_dim"):
        x.flatten(1, 0)
    with pytest.raises(RuntimeError, match="unflatten"):
        x.unflatten(1, (2, 2))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        cr.ones(3).tril()
    with pytest.raises(RuntimeError, match="repeat"):
        x.repeat(2)
    with pytest.raises(RuntimeError, match="align"):
        x.roll((1, 2), 0)


def test_pad_errors_like_torch():
    x = cr.ones(1, 4)
    with pytest.raises(RuntimeError, match="divisible by 2"):
        cr.pad(x, (1,))
    with pytest.raises(RuntimeError, match="less than the corresponding input dimension"):
        cr.pad(x, (4, 0), mode="reflect")
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        cr.pad(x, (5, 0), mode="circular")
    with pytest.raises(NotImplementedError, match="not supported"):
        cr.pad(cr.ones(4), (1, 1), mode="reflect")
    with pytest.raises(NotImplementedError, match="mode"):
        cr.pad(x, (1, 1), mode="foo")
    with pytest.raises(RuntimeError, match="value"):
        cr.pad(x, (1, 1), mode="reflect", value=2.0)


def test_cat_promotes_dtypes_and_skips_legacy_empty():
    out = cr.cat([cr.ones(2, 3), cr.ones(2, 3, dtype=cr.float64)], 1)
    assert out.dtype == cr.float64 and out.shape == (2, 6)
    assert cr.cat([cr.ones(2, 3), cr.zeros(0)]).shape == (2, 3)


# ---------------------------------------------------------------- views and versions


@pytest.mark.parametrize(
    "make",
    [
        lambda x: x.reshape(3, 2),
        lambda x: x.view(-1),
        lambda x: x.t(),
        lambda x: x.permute(1, 0),
        lambda x: x.unsqueeze(0),
        lambda x: x.unsqueeze(1).squeeze(1),
        lambda x: x.flatten(),
        lambda x: x.expand(4, 2, 3),
        lambda x: x.split(1, 1)[1],
        lambda x: x.unbind(0)[1],
        lambda x: x.movedim(0, 1),
    ],
)
def test_views_share_memory_and_version(make):
    x = cr.arange(6.0).reshape(2, 3)
    v = make(x)
    assert v._is_view and v._version is x._version
    with cr.no_grad():
        x.add_(1.0)
    assert v._version[0] == x._version[0] == 1
    assert np.shares_memory(v.numpy(), x.numpy())


@pytest.mark.parametrize(
    "make",
    [
        lambda x: x.flip(0),
        lambda x: x.roll(1, 1),
        lambda x: x.clone(),
        lambda x: x.t().contiguous(),
        lambda x: x.repeat(1, 1),
        lambda x: x.unsqueeze(1).repeat(1, 4, 1),
        lambda x: x.tile((1,)),
        lambda x: cr.pad(x, (0, 0)),
        lambda x: cr.pad(x, (1, 1), mode="replicate"),
        lambda x: x.tril(),
        lambda x: x.t().reshape(-1),  # a copy: transposed memory cannot be flattened in place
        lambda x: cr.cat([x]),
        lambda x: cr.stack([x]),
    ],
)
def test_copies_do_not_alias_their_input(make):
    x = cr.arange(6.0).reshape(2, 3)
    y = make(x)
    assert not y._is_view and y._version is not x._version
    assert not np.shares_memory(y.numpy(), x.numpy())
    assert y.numpy().flags.writeable


def test_contiguous_returns_self_when_already_contiguous():
    x = cr.ones(2, 3, requires_grad=True)
    assert x.contiguous() is x
    y = x.t().contiguous()
    assert y is not x and y.is_contiguous()
    y.sum().backward()
    assert x.grad.tolist() == [[1.0] * 3] * 2


def test_saved_view_modified_in_place_raises_at_backward():
    w = cr.ones(3, 2, requires_grad=True)
    x = cr.arange(6.0).reshape(2, 3)
    v = x.t()  # a view of x; Mul saves it for w's gradient
    loss = (w * v).sum()
    with cr.no_grad():
        x.mul_(2.0)
    with pytest.raises(RuntimeError, match="inplace"):
        loss.backward()


def test_expand_backward_sums_and_is_read_only():
    x = cr.tensor([[1.0], [2.0]], requires_grad=True)
    y = x.expand(3, 2, 4)
    y.backward(cr.ones(3, 2, 4))
    assert x.grad.tolist() == [[12.0], [12.0]]
    assert not y.numpy(force=True).flags.writeable


def test_pad_gradients_at_edges_match_torch():
    torch = pytest.importorskip("torch")
    x = np.arange(12.0, dtype=np.float32).reshape(1, 3, 4)
    for mode, pad in [
        ("reflect", (3, 2, 2, 1)),
        ("replicate", (4, 1, 0, 3)),
        ("circular", (4, 3, 3, 0)),
        ("constant", (-2, 3, 1, -3)),
    ]:
        _check(
            lambda t, m=mode, p=pad: cr.pad(t, p, mode=m),
            lambda t, m=mode, p=pad: torch.nn.functional.pad(t, p, mode=m),
            x,
        )
