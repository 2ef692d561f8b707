"""Indexing and linear algebra beyond the OpSpec table: accumulation of repeated indices,
in-place writes (versions, leaves, views), and the error messages."""

import numpy as np
import pytest

import chainrule as cr


def _pair(torch, array, requires_grad=True):
    ours = cr.tensor(array, requires_grad=requires_grad)
    theirs = torch.tensor(array, requires_grad=requires_grad)
    return ours, theirs


def _backward_both(out, ref, seed=0, ones=False):
    shape = tuple(ref.shape)
    cot = np.ones(shape) if ones else np.random.default_rng(seed).standard_normal(shape)
    out.backward(cr.tensor(cot))
    ref.backward(ref.new_tensor(cot))


# ---------------------------------------------------------------- repeated indices accumulate


@pytest.mark.parametrize(
    "op",
    [
        lambda x, i: x[i],
        lambda x, i: x[:, i],
        lambda x, i: x.index_select(1, i),
        lambda x, i: x[i, i],
    ],
    ids=["getitem", "getitem_dim1", "index_select", "getitem_pairs"],
)
def test_repeated_indices_accumulate_like_torch(torch, op):
    data = np.arange(12.0).reshape(3, 4)
    index = np.array([0, 2, 2, 2, 0, 1])
    x, tx = _pair(torch, data)
    _backward_both(op(x, cr.tensor(index)), op(tx, torch.tensor(index)), ones=True)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    assert x.grad.numpy().max() >= 3  # a position read 3 times received 3 gradients
    y, ty = _pair(torch, data)
    _backward_both(op(y, cr.tensor(index)), op(ty, torch.tensor(index)))  # random cotangent
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy())


def test_gather_and_take_along_dim_accumulate_like_torch(torch):
    data = np.random.default_rng(1).standard_normal((3, 4))
    index = np.array([[0, 0, 0, 1], [2, 2, 0, 0]])
    x, tx = _pair(torch, data)
    _backward_both(x.gather(0, cr.tensor(index)), tx.gather(0, torch.tensor(index)))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    y, ty = _pair(torch, data)
    idx = np.array([[3, 3, 3], [0, 0, 1], [2, 2, 2]])
    _backward_both(y.take_along_dim(cr.tensor(idx), 1), ty.take_along_dim(torch.tensor(idx), 1))
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy())


def test_scatter_add_accumulates_forward_like_torch(torch):
    x, tx = _pair(torch, np.zeros((2, 3)))
    src, tsrc = _pair(torch, np.arange(8.0).reshape(2, 4))
    index = np.array([[0, 0, 2, 0], [1, 1, 1, 1]])
    out = cr.scatter_add(x, 1, cr.tensor(index), src)
    ref = torch.scatter_add(tx, 1, torch.tensor(index), tsrc)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy())
    _backward_both(out, ref)
    np.testing.assert_allclose(src.grad.numpy(), tsrc.grad.numpy())
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


# ---------------------------------------------------------------- views


def test_basic_index_is_a_view_sharing_the_version_counter():
    x = cr.tensor(np.arange(6.0).reshape(2, 3))
    row = x[1]
    assert np.shares_memory(row.data, x.data)
    assert row._version is x._version and row._is_view
    elem = x[0, 2]  # all-integer index: still a 0-d view, not a copy
    assert elem.shape == () and np.shares_memory(elem.data, x.data)
    x[0, 2] = 10.0
    assert elem.item() == 10.0 and row._version_number == 1


def test_advanced_index_is_a_copy():
    x = cr.tensor(np.arange(6.0).reshape(2, 3))
    picked = x[[0, 1]]
    assert not np.shares_memory(picked.data, x.data)
    assert not picked._is_view


def test_saved_view_modified_in_place_is_detected():
    x = cr.tensor(np.ones((2, 3)), requires_grad=True)
    y = x * 2.0
    row = y[0]
    z = row * row  # saves row
    with cr.no_grad():
        y[0, 0] = 5.0  # bumps the version shared by y and row
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward(cr.ones(3))


# ---------------------------------------------------------------- setitem_


def test_setitem_bumps_version_and_writes_in_place():
    x = cr.zeros(3, 4)
    data = x.data
    x[1] = 2.0
    assert x._version_number == 1
    x[:, cr.tensor([0, 3])] = cr.tensor([7.0, 8.0])
    assert x._version_number == 2
    assert x.data is data  # same memory
    expected = np.zeros((3, 4), np.float32)
    expected[1] = 2.0
    expected[:, [0, 3]] = [7.0, 8.0]
    np.testing.assert_array_equal(x.numpy(), expected)


def test_setitem_on_leaf_requiring_grad_raises_and_no_grad_allows_it():
    w = cr.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w[0] = 5.0
    with cr.no_grad():
        w[0] = 5.0
    assert w.tolist() == [5.0, 1.0, 1.0] and w.is_leaf


@pytest.mark.parametrize(
    "index",
    [(slice(1, 3),), ([0, 2, 0],), (0, slice(None), 1), (np.array([True, False, True]),)],
    ids=["slice", "advanced", "ints", "mask"],
)
def test_setitem_autograd_on_non_leaf_matches_torch(torch, index):
    data = np.random.default_rng(2).standard_normal((3, 2, 2))
    x, tx = _pair(torch, data)
    region_shape = data[index].shape
    v_data = np.random.default_rng(3).standard_normal(region_shape[-1:])
    v, tv = _pair(torch, v_data)
    tindex = tuple(torch.tensor(i) if isinstance(i, np.ndarray) else i for i in index)

    y = x * 3.0
    ty = tx * 3.0
    y[index if len(index) > 1 else index[0]] = v
    ty[tindex if len(tindex) > 1 else tindex[0]] = tv
    assert y.grad_fn is not None and y.grad_fn.name() == "SetItemBackward"
    out, ref = y * y, ty * ty
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-6)
    _backward_both(out, ref)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(v.grad.numpy(), tv.grad.numpy(), rtol=1e-6)


def test_setitem_grad_value_into_plain_tensor_joins_the_graph(torch):
    buf, tbuf = _pair(torch, np.zeros((2, 3)), requires_grad=False)
    v, tv = _pair(torch, np.array([1.0, 2.0, 3.0]))
    buf[1] = v
    tbuf[1] = tv
    assert buf.requires_grad and not buf.is_leaf
    _backward_both(buf, tbuf)
    np.testing.assert_allclose(v.grad.numpy(), tv.grad.numpy())


def test_setitem_casts_the_value_to_the_tensor_dtype():
    x = cr.zeros(3)
    x[0] = cr.tensor([1.5], dtype=cr.float64)
    assert x.dtype == cr.float32 and x.tolist() == [1.5, 0.0, 0.0]


# ---------------------------------------------------------------- errors


def test_getitem_errors():
    x = cr.zeros(3, 4)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 3"):
        x[5]
    with pytest.raises(IndexError, match="index -5 is out of bounds for dimension 1 with size 4"):
        x[:, -5]
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 1 with size 4"):
        x[:, cr.tensor([0, 4])]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]
    with pytest.raises(IndexError, match="too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="float32"):
        x[cr.tensor([0.0])]
    with pytest.raises(IndexError, match="shape of the mask"):
        x[cr.tensor([True, False])]


@pytest.mark.parametrize(
    "call",
    [
        lambda x, i: cr.gather(x, 0, i),
        lambda x, i: cr.index_select(x, 0, i[0]),
        lambda x, i: cr.take_along_dim(x, i, 0),
        lambda x, i: cr.scatter(x, 0, i, 1.0),
        lambda x, i: cr.scatter_add(x, 0, i, cr.ones(1, 2)),
    ],
    ids=["gather", "index_select", "take_along_dim", "scatter", "scatter_add"],
)
def test_index_dtype_must_be_integer(call):
    x = cr.zeros(3, 2)
    with pytest.raises(RuntimeError, match=r"expected an integer index tensor \(int64.*float32"):
        call(x, cr.tensor([[0.0, 1.0]]))


def test_gather_index_out_of_range():
    x = cr.zeros(3, 2)
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        x.gather(0, cr.tensor([[3, 0]]))
    with pytest.raises(IndexError, match="index 2 is out of bounds for dimension 1 with size 2"):
        x.index_select(1, cr.tensor([0, 2]))


def test_masked_fill_needs_a_bool_mask():
    with pytest.raises(RuntimeError, match="boolean masks"):
        cr.masked_fill(cr.zeros(3), cr.ones(3), 1.0)


def test_matmul_shape_errors():
    with pytest.raises(RuntimeError) as e:
        cr.matmul(cr.zeros(2, 3), cr.zeros(4, 5))
    assert str(e.value) == "matmul: shapes (2, 3) and (4, 5) cannot be multiplied (3 != 4)"
    with pytest.raises(RuntimeError, match=r"matmul: shapes \(3,\) and \(4,\) .*\(3 != 4\)"):
        cr.zeros(3) @ cr.zeros(4)
    with pytest.raises(RuntimeError, match="batch dimensions"):
        cr.matmul(cr.zeros(2, 2, 3), cr.zeros(3, 3, 4))
    with pytest.raises(RuntimeError, match="at least 1D"):
        cr.matmul(cr.tensor(1.0), cr.zeros(3))
    with pytest.raises(RuntimeError, match=r"mm: shapes \(2, 3\) and \(2, 3\)"):
        cr.mm(cr.zeros(2, 3), cr.zeros(2, 3))
    with pytest.raises(RuntimeError, match="2-D"):
        cr.mm(cr.zeros(3), cr.zeros(3, 2))
    with pytest.raises(RuntimeError, match="3-D"):
        cr.bmm(cr.zeros(2, 3), cr.zeros(3, 2))
    with pytest.raises(RuntimeError, match="1D tensors expected"):
        cr.dot(cr.zeros(2, 3), cr.zeros(3))
    with pytest.raises(RuntimeError, match="same dtype"):
        cr.matmul(cr.zeros(2, 3), cr.zeros(3, 2, dtype=cr.float64))


def test_linear_feature_size_error():
    with pytest.raises(RuntimeError) as e:
        cr.linear(cr.zeros(4, 3), cr.zeros(2, 5))
    msg = str(e.value)
    assert "expected input with 5 features" in msg and "got 3 features" in msg


# ---------------------------------------------------------------- linalg details


def test_float32_stays_float32():
    a = cr.randn(2, 3, requires_grad=True)
    w = cr.randn(4, 3, requires_grad=True)
    b = cr.randn(4, requires_grad=True)
    out = cr.linear(a, w, b)
    assert out.dtype == cr.float32
    out.backward(cr.ones(2, 4))
    assert a.grad.dtype == w.grad.dtype == b.grad.dtype == cr.float32
    assert cr.matmul(a, cr.randn(3, 4)).dtype == cr.float32
    assert cr.einsum("ij,kj->ik", a, w).dtype == cr.float32


def test_einsum_result_owns_its_memory():
    # NumPy's einsum returns views for pure transposes and diagonals; ours must not alias.
    x = cr.tensor(np.arange(6.0).reshape(2, 3))
    t = cr.einsum("ij->ji", x)
    assert not np.shares_memory(t.data, x.data) and t.is_contiguous()
    e = cr.tensor(np.eye(3))
    d = cr.einsum("ii->i", e)
    assert not np.shares_memory(d.data, e.data)


def test_einsum_errors():
    with pytest.raises(RuntimeError, match="operand"):
        cr.einsum("ij,jk->ik", cr.zeros(2, 3))
    with pytest.raises(RuntimeError, match="do not match"):
        cr.einsum("ijk->i", cr.zeros(2, 3))


def test_linear_matches_torch_with_batched_input(torch):
    rng = np.random.default_rng(4)
    x, tx = _pair(torch, rng.standard_normal((2, 3, 4)))
    w, tw = _pair(torch, rng.standard_normal((5, 4)))
    b, tb = _pair(torch, rng.standard_normal(5))
    out, ref = cr.linear(x, w, b), torch.nn.functional.linear(tx, tw, tb)
    assert out.grad_fn.name() == "LinearBackward"
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-10)
    _backward_both(out, ref)
    for ours, theirs in ((x, tx), (w, tw), (b, tb)):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10)
