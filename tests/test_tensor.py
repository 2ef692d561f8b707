"""Tensor creation, dtypes and promotion, attributes, printing, operators."""

import numpy as np
import pytest

import chainrule as cr


def test_dtype_inference_follows_pytorch():
    assert cr.tensor([1.0, 2.0]).dtype is cr.float32
    assert cr.tensor(2.5).dtype is cr.float32
    assert cr.tensor([1, 2]).dtype is cr.int64
    assert cr.tensor([True]).dtype is cr.bool
    assert cr.tensor(np.zeros(2, np.float64)).dtype is cr.float64
    assert cr.tensor(np.zeros(2, np.int32)).dtype is cr.int32
    assert cr.tensor([1, 2], dtype=cr.float16).dtype is cr.float16


def test_python_scalars_never_upcast():
    x = cr.ones(2)
    assert (x * 2.5).dtype is cr.float32
    assert (x + 1).dtype is cr.float32
    i = cr.tensor([1, 2])
    assert (i * 2).dtype is cr.int64
    assert (i * 2.5).dtype is cr.float32
    assert (i / 2).dtype is cr.float32
    assert (cr.tensor([True]) + 1).dtype is cr.int64
    assert (x.double() * x).dtype is cr.float64
    assert (x * cr.tensor(2.0, dtype=cr.float64)).dtype is cr.float32  # 0-d does not upcast
    assert (cr.tensor([1, 2], dtype=cr.int32) * x).dtype is cr.float32


def test_conversions():
    x = cr.tensor([1.7, -2.2])
    assert x.to(cr.float64).dtype is cr.float64
    assert x.double().dtype is cr.float64
    assert x.long().tolist() == [1, -2]
    assert x.float() is x
    assert x.to("cpu") is x
    assert x.to(cr.int32).dtype is cr.int32
    g = cr.tensor([1.0], requires_grad=True)
    g.double().sum().backward()
    assert g.grad.dtype is cr.float32


def test_creation_functions(torch):
    assert cr.zeros(2, 3).shape == (2, 3)
    assert cr.ones((2, 3)).numpy().sum() == 6
    assert cr.full((2,), 7).dtype is cr.int64
    assert cr.full((2,), 7.0).tolist() == [7.0, 7.0]
    assert cr.empty(3).shape == (3,)
    x = cr.randn(4, 5)
    for f in (cr.zeros_like, cr.ones_like, cr.empty_like, cr.rand_like, cr.randn_like):
        assert f(x).shape == x.shape and f(x).dtype is cr.float32
    assert cr.full_like(x, 3).numpy().max() == 3
    assert cr.arange(5).tolist() == torch.arange(5).tolist()
    assert cr.arange(1, 2, 0.25).dtype is cr.float32
    np.testing.assert_allclose(cr.arange(0, 1, 0.25).numpy(), torch.arange(0, 1, 0.25).numpy())
    np.testing.assert_allclose(cr.linspace(0, 1, 5).numpy(), torch.linspace(0, 1, 5).numpy())
    np.testing.assert_array_equal(cr.eye(3, 2).numpy(), torch.eye(3, 2).numpy())
    r = cr.randint(0, 10, (100,))
    assert r.dtype is cr.int64 and 0 <= r.numpy().min() and r.numpy().max() < 10
    assert cr.randint(5, (3,)).shape == (3,)
    assert cr.randint_like(x, 3).shape == x.shape
    u = cr.rand(1000).numpy()
    assert 0 <= u.min() and u.max() < 1
    assert cr.from_numpy(np.arange(3)).dtype is cr.int64


def test_from_numpy_shares_memory():
    a = np.zeros(3, np.float32)
    t = cr.from_numpy(a)
    t.data[0] = 1
    assert a[0] == 1


def test_manual_seed_repeats_and_generator_is_independent():
    cr.manual_seed(42)
    a = cr.randn(5).numpy()
    cr.manual_seed(42)
    b = cr.randn(5).numpy()
    np.testing.assert_array_equal(a, b)
    g = cr.Generator().manual_seed(3)
    c = cr.rand(3, generator=g).numpy()
    g.manual_seed(3)
    np.testing.assert_array_equal(c, cr.rand(3, generator=g).numpy())
    state = cr.get_rng_state()
    d = cr.rand(2).numpy()
    cr.set_rng_state(state)
    np.testing.assert_array_equal(d, cr.rand(2).numpy())


def test_attributes():
    x = cr.zeros(2, 3, 4)
    assert x.ndim == 3 and x.dim() == 3
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert repr(x.shape) == "chainrule.Size([2, 3, 4])"
    assert x.numel() == 24
    assert len(x) == 2
    assert x.device == "cpu" and str(x.device) == "cpu"
    assert cr.tensor([3.5]).item() == 3.5
    assert cr.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert [row.tolist() for row in cr.tensor([[1, 2], [3, 4]])] == [[1, 2], [3, 4]]
    assert bool(cr.tensor([1.0])) and not bool(cr.tensor(0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(cr.ones(2))
    with pytest.raises(RuntimeError, match="cannot be converted to a Python scalar"):
        cr.ones(2).item()
    with pytest.raises(RuntimeError, match="requires grad"):
        cr.ones(2, requires_grad=True).numpy()


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.tensor([[1.0, 2.0]], requires_grad=True),
        lambda m: m.tensor([1.5, 2.25e-5]),
        lambda m: m.tensor(3.0, dtype=m.float64),
        lambda m: m.tensor([1, 2]),
        lambda m: m.tensor([True, False]),
        lambda m: m.tensor([[1.1234567, -2.5], [3.0, 4.0]]),
        lambda m: m.tensor([0.1, 100.5]),
        lambda m: m.tensor([1e10, 1.0]),
        lambda m: m.tensor([1, 2], dtype=m.int32),
        lambda m: m.zeros(0),
        lambda m: m.arange(2000.0),
        lambda m: m.tensor([0.0, -float("inf")]),
        lambda m: m.tensor([[0.0, 1.5], [float("nan"), -2.25]]),
        lambda m: m.zeros(2, 2),
    ],
)
def test_repr_matches_pytorch(make, torch):
    assert repr(make(cr)) == repr(make(torch)).replace("torch.", "chainrule.")


def test_repr_shows_grad_fn():
    x = cr.tensor([1.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2.], grad_fn=<MulBackward>)"


def test_operators_and_reflected_forms():
    x = cr.tensor([1.0, 2.0, 4.0])
    a = np.array([2.0, 2.0, 2.0], np.float32)
    np.testing.assert_allclose((a + x).numpy(), [3, 4, 6])
    np.testing.assert_allclose((x - a).numpy(), [-1, 0, 2])
    np.testing.assert_allclose((2 / x).numpy(), [2, 1, 0.5])
    np.testing.assert_allclose((2**x).numpy(), [2, 4, 16])
    np.testing.assert_allclose((x // 3).numpy(), [0, 0, 1])
    np.testing.assert_allclose((x % 3).numpy(), [1, 2, 1])
    np.testing.assert_allclose((-x).numpy(), [-1, -2, -4])
    np.testing.assert_allclose(abs(-x).numpy(), [1, 2, 4])
    assert (x > 1.5).dtype is cr.bool
    assert (x == 2).tolist() == [False, True, False]
    m = (x > 1.5) & (x < 3)
    assert m.tolist() == [False, True, False]
    assert (~m).tolist() == [True, False, True]
    assert ((x < 1.5) | m).tolist() == [True, True, False]


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(RuntimeError, match=r"Add.*\(2, 3\).*\(4,\)"):
        cr.ones(2, 3) + cr.ones(4)
    with pytest.raises(RuntimeError, match=r"Mul.*\(2, 3\).*\(2,\)"):
        cr.ones(2, 3) * cr.ones(2)


def test_python_float_operands_keep_the_tensor_dtype_and_exact_values():
    # Python floats become cached 0-d arrays of the tensor's dtype (a speed-up): the results
    # must be exactly NumPy's weak-scalar results, per dtype, and -0.0 must stay -0.0.
    for dt in (np.float32, np.float64, np.float16):
        a = np.array([1.0, -3.0, 0.0], dtype=dt)
        x = cr.tensor(a)
        for v in (0.1, -0.0, 1e-3, 2.5):
            with np.errstate(divide="ignore", invalid="ignore"):  # x / -0.0: -inf and nan
                pairs = ((x * v, a * v), (x + v, a + v), (x - v, a - v), (x / v, a / v))
            for got, want in pairs:
                assert got.numpy().dtype == want.dtype
                np.testing.assert_array_equal(got.numpy(), want)
                assert np.array_equal(np.signbit(got.numpy()), np.signbit(want))
