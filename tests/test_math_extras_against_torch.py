"""PyTorch's smaller math functions (compositions of chainrule's ops, and ops without a
gradient) against PyTorch: values, dtypes and gradients, at special values too (0, -0.0,
+-inf, NaN, ties), and the in-place method forms with PyTorch's casting refusals."""

import numpy as np
import pytest

import chainrule as cr

SPECIAL = np.array([0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan, 0.25, 3.0], np.float32)
OTHER = np.array([0.0, 1.0, -0.0, -2.0, 2.0, -np.inf, 1.0, np.nan, 3.0], np.float32)

# name -> (fn(lib, a, b), differentiable). "finite": gradients compared at finite inputs only
# (copysign's at +-inf: PyTorch divides inf by inf and gives NaN; chainrule gives +-1).
CALLS = {
    "xlogy": (lambda m, a, b: m.xlogy(a, b.abs()), True),
    "xlogy_scalar": (lambda m, a, b: m.xlogy(a, 2.0), True),
    "logit": (lambda m, a, b: m.logit(a.sigmoid()), True),
    "logit_eps": (lambda m, a, b: m.logit(a.sigmoid(), eps=0.2), True),
    "copysign": (lambda m, a, b: m.copysign(a, b), "finite"),
    "copysign_scalar": (lambda m, a, b: m.copysign(a, -0.0), "finite"),
    "fmax": (lambda m, a, b: m.fmax(a, b), True),
    "fmin": (lambda m, a, b: m.fmin(a, b), True),
    "float_power": (lambda m, a, b: m.float_power(a.abs(), 1.5), True),
    "exp2": (lambda m, a, b: m.exp2(a), True),
    "ldexp": (lambda m, a, b: m.ldexp(a, m.tensor([1, 2, 0, 0, 3, 1, 2, 0, 4])), True),
    "clamp_min": (lambda m, a, b: m.clamp_min(a, 0.5), True),
    "clamp_max": (lambda m, a, b: m.clamp_max(a, b), True),
    "signbit": (lambda m, a, b: m.signbit(a), False),
    "isposinf": (lambda m, a, b: m.isposinf(a), False),
    "isneginf": (lambda m, a, b: m.isneginf(a), False),
    "isreal": (lambda m, a, b: m.isreal(a), False),
    "heaviside": (lambda m, a, b: m.heaviside(a, b), False),
    "nextafter": (lambda m, a, b: m.nextafter(a, b), False),
    "frexp_mantissa": (lambda m, a, b: m.frexp(a)[0], False),
    "frexp_exponent": (lambda m, a, b: m.frexp(a)[1], False),
    "fix": (lambda m, a, b: a.fix(), True),
    "positive": (lambda m, a, b: m.positive(a) * 2.0, True),
    "not_equal": (lambda m, a, b: m.not_equal(a, b), False),
    "asinh_inf": (lambda m, a, b: m.asinh(a), True),
    "logaddexp_inf": (lambda m, a, b: m.logaddexp(a, b), True),
    "hypot_inf": (lambda m, a, b: m.hypot(a, b), True),
}


def _finite_mask(*arrays):
    return np.all([np.isfinite(a) for a in arrays], axis=0)


@pytest.mark.parametrize("name", list(CALLS))
def test_math_extras_match_torch(name, torch):
    fn, differentiable = CALLS[name]
    a = cr.tensor(SPECIAL, requires_grad=bool(differentiable))
    at = torch.tensor(SPECIAL, requires_grad=bool(differentiable))
    b, bt = cr.tensor(OTHER), torch.tensor(OTHER)
    with np.errstate(all="ignore"):
        out = fn(cr, a, b)
    ref = fn(torch, at, bt)
    assert str(out.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1], (out.dtype, ref.dtype)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-6)
    if differentiable:
        cot = np.linspace(-1.0, 1.0, SPECIAL.size).astype(out.detach().numpy().dtype) + 0.1
        with np.errstate(all="ignore"):
            out.backward(cr.tensor(cot))
        ref.backward(torch.tensor(cot))
        keep = np.isfinite(SPECIAL) if differentiable == "finite" else slice(None)
        np.testing.assert_allclose(a.grad.numpy()[keep], at.grad.numpy()[keep], rtol=1e-6)


def test_integer_functions_match_torch(torch):
    a = np.array([12, -18, 0, 7, 0], np.int64)
    b = np.array([8, 12, 5, 0, 0], np.int64)
    for name in ["gcd", "lcm"]:
        ours = getattr(cr, name)(cr.tensor(a), cr.tensor(b))
        theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(RuntimeError, match="gcd: expected integer tensors"):
        cr.gcd(cr.tensor([1.5]), cr.tensor([2.0]))


@pytest.mark.parametrize(
    "bounds", [(0.5, 1.5), (0, 1), ("t0.5", None), (None, "t[1.5]"), (-1, 2.5)]
)
def test_clamp_promotes_like_torch(bounds, torch):
    def lib_bound(m, v):
        if isinstance(v, str):
            return m.tensor(eval(v[1:]))
        return v

    for values in ([1, 2, -3], [1.0, 2.5, -3.0]):
        ours = cr.tensor(values).clamp(*(lib_bound(cr, v) for v in bounds))
        theirs = torch.tensor(values).clamp(*(lib_bound(torch, v) for v in bounds))
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


INPLACE = [
    ("sin_", ()),
    ("hypot_", ("other",)),
    ("atan2_", ("other",)),
    ("copysign_", ("other",)),
    ("xlogy_", (2.0,)),
    ("clamp_min_", (0.1,)),
    ("square_", ()),
    ("rsqrt_", ()),
    ("eq_", ("other",)),
    ("round_", ()),
    ("lerp_", ("other", 0.3)),
]


@pytest.mark.parametrize("name,args", INPLACE)
def test_inplace_forms_match_torch(name, args, torch):
    """x.f_(...) on a non-leaf: the same values as torch and the same gradient to the leaf."""
    base = np.array([0.3, 1.7, 2.5, 0.9], np.float32)
    other = np.array([1.0, -0.5, 2.5, 0.2], np.float32)
    x, xt = cr.tensor(base, requires_grad=True), torch.tensor(base, requires_grad=True)
    y, yt = x * 1.0, xt * 1.0
    getattr(y, name)(*(cr.tensor(other) if a == "other" else a for a in args))
    getattr(yt, name)(*(torch.tensor(other) if a == "other" else a for a in args))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-6)
    (yt * torch.tensor(other)).sum().backward()
    if y.requires_grad:
        (y * cr.tensor(other)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-5)
    else:  # overwritten by values without a gradient (eq_): torch's is zero
        assert not xt.grad.any()


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.tensor([1, 2]).add_(1.5),
        lambda m: m.tensor([1, 2]).sqrt_(),
        lambda m: m.tensor([1, 2]).sin_(),
        lambda m: m.tensor([1, 2]).clamp_(0.5, 1.5),
        lambda m: m.tensor([True, False]).add_(1),
        lambda m: m.tensor([1, 2]).mul_(m.tensor([1.5, 2.0])),
    ],
)
def test_inplace_refuses_to_truncate_like_torch(call, torch):
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        call(torch)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        call(cr)


def test_ldexp_gradient_for_negative_exponents_is_two_to_the_exponent():
    """d(x 2^e)/dx = 2^e. (PyTorch 2.13 returns 0 for negative integer e: its backward
    raises 2 to e in integer arithmetic.)"""
    x = cr.tensor([1.5, -3.0], requires_grad=True)
    cr.ldexp(x, cr.tensor([-1, -3])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 0.125])
