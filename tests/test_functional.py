"""chainrule.nn.functional beyond the OpSpec table: numerical stability at +-1e4, the exact
points of kinks, error messages, dropout, erf accuracy, edge cases of the losses."""

import math
import warnings

import numpy as np
import pytest

import chainrule
import chainrule.nn.functional as F
from chainrule.ops.nn import _cody_erf, erf


def _pair(torch, values, dtype=np.float32, requires_grad=True):
    a = np.asarray(values, dtype=dtype)
    ours = chainrule.from_numpy(a.copy()).requires_grad_(requires_grad)
    theirs = torch.from_numpy(a.copy()).requires_grad_(requires_grad)
    return ours, theirs


def _check(out, ref, ins, refs, rtol=1e-5, atol=1e-6, cot_seed=0, errstate=None):
    """Forward values and the gradients of a random cotangent, ours vs torch. With
    ``errstate`` (a dict), chainrule's backward runs under ``numpy.errstate(**errstate)``."""
    import torch

    ref_np = ref.detach().numpy()
    cot = np.random.default_rng(cot_seed).standard_normal(ref_np.shape).astype(ref_np.dtype)
    with np.errstate(**(errstate or {})):
        out.backward(chainrule.from_numpy(cot.copy()))
    ref.backward(torch.from_numpy(cot.copy()))
    assert tuple(out.shape) == tuple(ref_np.shape)
    np.testing.assert_allclose(out.detach().numpy(), ref_np, rtol=rtol, atol=atol)
    for a, b in zip(ins, refs):
        assert a.grad is not None
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=atol)


# ---------------------------------------------------------------- stability at +-1e4

BIG = [[-1e4, 0.0, 1e4, 5.0, -3.0], [1e4, 9999.0, -1e4, 0.0, 2.0], [-1e4, -9999.5, -1e4, -1.0, 3]]
BIG_1D = [-1e4, -9999.0, -50.0, -1.0, 0.0, 1.0, 50.0, 9999.0, 1e4]


def _stable_cases():
    def ce_idx(m, x, t_np):
        t = m.from_numpy(t_np) if m is chainrule else m.from_numpy(t_np.copy())
        return m.nn.functional.cross_entropy(x, t, label_smoothing=0.1)

    cases = {
        "softmax": (BIG, lambda m, x: m.nn.functional.softmax(x, dim=1)),
        "log_softmax": (BIG, lambda m, x: m.nn.functional.log_softmax(x, dim=1)),
        "softplus": (BIG_1D, lambda m, x: m.nn.functional.softplus(x)),
        "softplus_beta": (BIG_1D, lambda m, x: m.nn.functional.softplus(x, beta=0.5, threshold=5)),
        "logsigmoid": (BIG_1D, lambda m, x: m.nn.functional.logsigmoid(x)),
        "bce_with_logits": (
            BIG_1D,
            lambda m, x: m.nn.functional.binary_cross_entropy_with_logits(
                x, _const(m, np.linspace(0, 1, len(BIG_1D))), reduction="none"
            ),
        ),
        "bce_with_logits_pos_weight": (
            BIG_1D,
            lambda m, x: m.nn.functional.binary_cross_entropy_with_logits(
                x,
                _const(m, np.linspace(0, 1, len(BIG_1D))),
                pos_weight=_const(m, np.array([3.0])),
                reduction="sum",
            ),
        ),
        "cross_entropy": (BIG, lambda m, x: ce_idx(m, x, np.array([0, 2, 1], dtype=np.int64))),
        "cross_entropy_probs": (
            BIG,
            lambda m, x: m.nn.functional.cross_entropy(
                x, _const(m, np.full((3, 5), 0.2)), reduction="none"
            ),
        ),
    }
    return cases


def _const(m, a):
    a = np.asarray(a, dtype=np.float32)
    return m.from_numpy(a.copy())


@pytest.mark.parametrize("name", list(_stable_cases()))
def test_stable_and_exact_at_1e4(name, torch):
    values, fn = _stable_cases()[name]
    x, xt = _pair(torch, values)
    with np.errstate(all="raise"):
        out = fn(chainrule, x)
    assert np.all(np.isfinite(out.detach().numpy()))
    _check(out, fn(torch, xt), [x], [xt], rtol=1e-6, atol=1e-6, errstate={"all": "raise"})
    assert np.all(np.isfinite(x.grad.numpy()))


def test_sigmoid_warning_free_at_1e4(torch):
    x, xt = _pair(torch, BIG_1D)
    with np.errstate(all="raise"):
        out = F.sigmoid(x)
    _check(out, torch.sigmoid(xt), [x], [xt], errstate={"all": "raise"})


def test_sigmoid_exact_at_1e4(torch):
    # Everything but the (harmless) underflow flag raises.
    x, xt = _pair(torch, BIG_1D)
    strict = {"all": "raise", "under": "ignore"}
    with np.errstate(**strict):
        out = F.sigmoid(x)
    _check(out, torch.sigmoid(xt), [x], [xt], rtol=1e-6, atol=1e-7, errstate=strict)
    assert np.all(np.isfinite(x.grad.numpy()))


def test_softmax_with_masked_entries(torch):
    v = [[0.0, -math.inf, 1.0], [-math.inf, 2.0, -math.inf]]
    x, xt = _pair(torch, v)
    with np.errstate(all="raise"):
        out = F.softmax(x, dim=-1)
    _check(out, torch.softmax(xt, dim=-1), [x], [xt], errstate={"all": "raise"})
    x, xt = _pair(torch, v)
    lx = F.log_softmax(x, dim=-1)
    np.testing.assert_array_equal(lx.detach().numpy(), torch.log_softmax(xt, -1).detach().numpy())


def test_large_logits_float64(torch):
    x, xt = _pair(torch, [[1e300, -1e300, 0.0], [700.0, -800.0, 1.0]], dtype=np.float64)
    t = np.array([1, 0])
    with np.errstate(all="raise"):
        out = F.cross_entropy(x, chainrule.from_numpy(t.copy()), reduction="none")
    ref = torch.nn.functional.cross_entropy(xt, torch.from_numpy(t), reduction="none")
    _check(out, ref, [x], [xt], errstate={"all": "raise"})


# ---------------------------------------------------------------- kinks, at the exact points


KINKS = {
    "relu": ([-1.0, 0.0, 1.0], lambda m, x: m.nn.functional.relu(x)),
    "relu6": ([0.0, 6.0, 3.0], lambda m, x: m.nn.functional.relu6(x)),
    "leaky_relu": ([0.0, -1.0], lambda m, x: m.nn.functional.leaky_relu(x, 0.2)),
    "elu": ([0.0], lambda m, x: m.nn.functional.elu(x, alpha=0.5)),
    "celu": ([0.0], lambda m, x: m.nn.functional.celu(x, alpha=2.0)),
    "selu": ([0.0], lambda m, x: m.nn.functional.selu(x)),
    "hardtanh": ([-1.0, 1.0, 0.0], lambda m, x: m.nn.functional.hardtanh(x)),
    "hardsigmoid": ([-3.0, 3.0, 0.0], lambda m, x: m.nn.functional.hardsigmoid(x)),
    "hardswish": ([-3.0, 3.0, 0.0], lambda m, x: m.nn.functional.hardswish(x)),
    "hardshrink": ([-0.5, 0.5, 0.0], lambda m, x: m.nn.functional.hardshrink(x)),
    "softshrink": ([-0.5, 0.5, 0.0], lambda m, x: m.nn.functional.softshrink(x)),
    "threshold": ([0.3, 0.0], lambda m, x: m.nn.functional.threshold(x, 0.3, -1.0)),
    "softplus_switch": ([10.0, 20.0, 20.5], lambda m, x: m.nn.functional.softplus(x)),
    "softplus_switch_beta": (
        [1.5, 1.0, 2.0],
        lambda m, x: m.nn.functional.softplus(x, beta=2, threshold=3),
    ),
    "softsign": ([0.0], lambda m, x: m.nn.functional.softsign(x)),
    "gelu": ([0.0], lambda m, x: m.nn.functional.gelu(x)),
    "gelu_tanh": ([0.0], lambda m, x: m.nn.functional.gelu(x, approximate="tanh")),
    "mish": ([0.0], lambda m, x: m.nn.functional.mish(x)),
    "silu": ([0.0], lambda m, x: m.nn.functional.silu(x)),
    "logsigmoid": ([0.0], lambda m, x: m.nn.functional.logsigmoid(x)),
    # piecewise-constant ops: gradient 0 at their jumps too, and the graph stays connected
    "sign": ([0.0, -1.0, 2.0], lambda m, x: x.sign()),
    "sign_times_x": ([0.0, -1.0, 2.0], lambda m, x: x.sign() * x),
    "floor": ([1.0, -2.0, 0.5], lambda m, x: x.floor()),
    "ceil": ([1.0, -2.0, 0.5], lambda m, x: x.ceil()),
    "trunc": ([1.0, -2.0, -0.5], lambda m, x: x.trunc()),
    "round": ([0.5, 1.5, -2.5, 0.3], lambda m, x: x.round()),
    "round_decimals": ([0.25, 1.35], lambda m, x: m.round(x, decimals=1)),
}


def test_piecewise_constant_ops_record_like_torch(torch):
    x, xt = _pair(torch, [0.0, -1.5, 2.5])
    for name in ["sign", "sgn", "floor", "ceil", "trunc", "round"]:
        assert getattr(x, name)().requires_grad == getattr(xt, name)().requires_grad is True
    assert chainrule.tensor([True, False]).sign().tolist() == [True, False]
    with pytest.raises(TypeError, match="floor: not implemented for bool"):
        chainrule.tensor([True]).floor()


@pytest.mark.parametrize("name", list(KINKS))
def test_kinks_match_torch(name, torch):
    values, fn = KINKS[name]
    x, xt = _pair(torch, values)
    _check(fn(chainrule, x), fn(torch, xt), [x], [xt])


def test_relu_grad_at_zero_is_zero():
    x = chainrule.tensor([0.0], requires_grad=True)
    F.relu(x).sum().backward()
    assert x.grad.item() == 0.0


def test_prelu_at_zero(torch):
    x, xt = _pair(torch, [[0.0, -1.0], [2.0, 0.0]])
    w, wt = _pair(torch, [0.25, 0.5])
    _check(F.prelu(x, w), torch.nn.functional.prelu(xt, wt), [x, w], [xt, wt])


@pytest.mark.parametrize("name", ["l1_loss", "smooth_l1_loss", "huber_loss", "mse_loss"])
def test_regression_losses_at_kinks(name, torch):
    x, xt = _pair(torch, [0.0, 1.0, -1.0, 2.0, 0.5])
    y = np.array([0.0, 0.0, 0.0, 1.0, 1.0], dtype=np.float32)
    out = getattr(F, name)(x, chainrule.from_numpy(y.copy()), reduction="sum")
    ref = getattr(torch.nn.functional, name)(xt, torch.from_numpy(y.copy()), reduction="sum")
    _check(out, ref, [x], [xt])


def test_smooth_l1_beta_zero_is_l1(torch):
    x, xt = _pair(torch, [0.3, -2.0, 1.0])
    y = np.zeros(3, np.float32)
    out = F.smooth_l1_loss(x, chainrule.from_numpy(y.copy()), beta=0.0)
    ref = torch.nn.functional.smooth_l1_loss(xt, torch.from_numpy(y.copy()), beta=0.0)
    _check(out, ref, [x], [xt])


# ---------------------------------------------------------------- losses: edge cases


def test_bce_at_zero_and_one(torch):
    x, xt = _pair(torch, [0.0, 1.0, 0.0, 1.0, 0.5])
    y, yt = _pair(torch, [0.0, 1.0, 1.0, 0.0, 0.3])
    with np.errstate(all="raise"):
        out = F.binary_cross_entropy(x, y, reduction="none")
    ref = torch.nn.functional.binary_cross_entropy(xt, yt, reduction="none")
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy())  # 0 and 100
    cot = np.ones(5, np.float32)
    with np.errstate(all="ignore"):
        out.backward(chainrule.from_numpy(cot))
    ref.backward(torch.from_numpy(cot))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(y.grad.numpy(), yt.grad.numpy())  # +-inf where torch has them


def test_cross_entropy_all_ignored_is_nan(torch):
    x = chainrule.zeros(2, 3, requires_grad=True)
    t = chainrule.tensor([-100, -100])
    with np.errstate(all="raise"):
        loss = F.cross_entropy(x, t)
    ref = torch.nn.functional.cross_entropy(torch.zeros(2, 3), torch.tensor([-100, -100]))
    assert math.isnan(loss.item()) and math.isnan(ref.item())
    assert math.isnan(F.nll_loss(x, t).item())
    # ... and, as in PyTorch, no element gets a gradient (0, not nan)
    for loss_fn in (F.cross_entropy, F.nll_loss):
        x.grad = None
        with np.errstate(all="raise"):
            loss_fn(x, t).backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))


def test_cross_entropy_backward_is_softmax_minus_onehot():
    x = chainrule.randn(4, 5, requires_grad=True)
    t = chainrule.tensor([0, 4, 2, 2])
    F.cross_entropy(x, t, reduction="sum").backward()
    p = F.softmax(x.detach(), dim=1).numpy()
    onehot = np.eye(5, dtype=np.float32)[t.numpy()]
    np.testing.assert_allclose(x.grad.numpy(), p - onehot, rtol=1e-6, atol=1e-7)


def test_cross_entropy_is_one_node():
    x = chainrule.randn(3, 4, requires_grad=True)
    loss = F.cross_entropy(x, chainrule.tensor([0, 1, 3]))
    assert loss.grad_fn.name() == "CrossEntropyBackward"
    assert loss.grad_fn.parents[0] is x


def test_cross_entropy_label_smoothing_probs_and_indices_agree(torch):
    x = chainrule.randn(5, 4)
    t = chainrule.tensor([0, 3, 1, 1, 2])
    onehot = chainrule.from_numpy(np.eye(4, dtype=np.float32)[t.numpy()])
    a = F.cross_entropy(x, t, label_smoothing=0.25)
    b = F.cross_entropy(x, onehot, label_smoothing=0.25)
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-6)


def test_cosine_similarity_tiny_and_zero_norms(torch):
    a = np.array([[1e-10, 2e-10, 0.0], [0.0, 0.0, 0.0], [1.0, 2.0, 3.0]], dtype=np.float64)
    b = np.array([[1.0, 3.0, 1.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]], dtype=np.float64)
    x1, t1 = _pair(torch, a, dtype=np.float64)
    x2, t2 = _pair(torch, b, dtype=np.float64)
    out = F.cosine_similarity(x1, x2)
    ref = torch.nn.functional.cosine_similarity(t1, t2)
    _check(out, ref, [x1, x2], [t1, t2], rtol=1e-9, atol=1e-9)


def test_kl_div_zero_target(torch):
    x, xt = _pair(torch, [-1.0, -2.0, -0.5])
    y, yt = _pair(torch, [0.0, 0.5, 0.5])
    with np.errstate(all="raise"):
        out = F.kl_div(x, y, reduction="sum")
    ref = torch.nn.functional.kl_div(xt, yt, reduction="sum")
    _check(out, ref, [x], [xt], errstate={"all": "raise"})


def test_kl_div_mean_warns_like_torch():
    x = chainrule.zeros(2, 2)
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(x, chainrule.full((2, 2), 0.5))


def test_sigmoid_focal_loss_hand_computed():
    x = chainrule.tensor([0.0])
    y = chainrule.tensor([1.0])
    # p = 0.5, ce = log 2, (1 - p_t)^2 = 0.25, alpha_t = 0.25
    expected = 0.25 * math.log(2) * 0.25
    np.testing.assert_allclose(F.sigmoid_focal_loss(x, y).item(), expected, rtol=1e-6)


# ---------------------------------------------------------------- errors


def test_cross_entropy_float_index_targets():
    x = chainrule.randn(3, 4)
    with pytest.raises(TypeError, match=r"int64"):
        F.cross_entropy(x, chainrule.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match=r"int64"):
        F.nll_loss(x, chainrule.tensor([0.0, 1.0, 2.0]))


def test_cross_entropy_target_out_of_range():
    x = chainrule.randn(3, 4)
    with pytest.raises(IndexError, match=r"target 7 .*4 classes"):
        F.cross_entropy(x, chainrule.tensor([0, 7, 1]))
    with pytest.raises(IndexError, match=r"target -1 .*4 classes"):
        F.nll_loss(x, chainrule.tensor([0, -1, 1]))
    F.cross_entropy(x, chainrule.tensor([0, -100, 1]))  # ignore_index is fine
    F.cross_entropy(x, chainrule.tensor([0, 9, 1]), ignore_index=9)


def test_loss_shape_mismatch_names_both_shapes():
    x = chainrule.randn(3, 4)
    with pytest.raises(ValueError, match=r"\(3,\).*\(3, 4\)"):
        F.mse_loss(x, chainrule.randn(3))
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(3, 4\)"):
        F.binary_cross_entropy_with_logits(x, chainrule.rand(4, 1))
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(4,\)|\(4,\).*\(3,\)"):
        F.cross_entropy(x, chainrule.tensor([0, 1, 2, 3]))
    for fn in (F.l1_loss, F.smooth_l1_loss, F.huber_loss, F.binary_cross_entropy, F.kl_div):
        with pytest.raises(ValueError, match=r"\(3,\).*\(3, 4\)"):
            fn(x.sigmoid(), chainrule.rand(3))


def test_other_errors():
    x = chainrule.randn(3, 4)
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match="weight"):
        F.cross_entropy(x, chainrule.tensor([0, 1, 2]), weight=chainrule.ones(3))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, chainrule.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(x, chainrule.rand(3, 4))
    with pytest.raises(ValueError, match="dropout probability"):
        F.dropout(x, p=1.5)
    with pytest.raises(RuntimeError, match="even"):
        F.glu(chainrule.randn(3))
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(x, approximate="fast")
    with pytest.raises(RuntimeError, match="channel"):
        F.prelu(x, chainrule.ones(3))


# ---------------------------------------------------------------- dropout


def test_dropout():
    x = chainrule.ones(200, 50, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    chainrule.manual_seed(0)
    y = F.dropout(x, p=0.25)
    vals = np.unique(y.detach().numpy())
    np.testing.assert_allclose(vals, [0.0, 1 / 0.75], rtol=1e-6)
    kept = (y.detach().numpy() != 0).mean()
    assert abs(kept - 0.75) < 0.02
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
    chainrule.manual_seed(0)
    np.testing.assert_array_equal(F.dropout(x, p=0.25).detach().numpy(), y.detach().numpy())
    assert not np.any(F.dropout(x, p=1.0).detach().numpy())


# ---------------------------------------------------------------- erf, softmax API


@pytest.mark.parametrize("impl", [erf, _cody_erf], ids=["erf", "cody_fallback"])
def test_erf_accuracy(torch, impl):
    xs = np.concatenate([np.linspace(-10, 10, 20001), [0.0, 0.46875, -0.46875, 4.0, -4.0, 1e-12]])
    ref = np.array([math.erf(v) for v in xs])
    np.testing.assert_allclose(impl(np, xs), ref, rtol=1e-15, atol=1e-16)
    x32 = xs.astype(np.float32)
    np.testing.assert_allclose(
        impl(np, x32), torch.erf(torch.from_numpy(x32)).numpy(), rtol=3e-7, atol=1e-7
    )
    assert impl(np, x32).dtype == np.float32


def test_softmax_api(torch):
    x = chainrule.randn(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        a = F.softmax(x)
    np.testing.assert_allclose(a.numpy(), F.softmax(x, dim=1).numpy())
    assert F.log_softmax(x, dim=0, dtype=chainrule.float64).dtype == chainrule.float64
    np.testing.assert_allclose(x.softmax(-1).numpy(), F.softmax(x, -1).numpy())
    with pytest.raises(RuntimeError, match="floating point"):
        F.softmax(chainrule.tensor([1, 2]), dim=0)
    empty = F.softmax(chainrule.zeros(0, 3), dim=1)
    assert tuple(empty.shape) == (0, 3)


def test_namespace():
    import chainrule.nn

    assert chainrule.nn.functional is F
    for name in F.__all__:
        assert callable(getattr(F, name)), name
    assert F.pad is chainrule.ops.pad
    assert F.linear is chainrule.ops.linear
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.relu(chainrule.randn(3))


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(
        F, extraglobs={"chainrule": chainrule, "F": F}, optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.failed == 0 and result.attempted > 30
