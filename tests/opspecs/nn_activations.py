"""OpSpecs for activations and the softmax family (chainrule.nn.functional)."""

import numpy as np
from opspec import OpSpec

import chainrule
import chainrule.nn.functional as F


def _tf():
    import torch.nn.functional as tf

    return tf


UNARY = [(), (1,), (5,), (3, 4), (2, 1, 5)]


def away_from(*kinks, lo=-3.0, hi=3.0, margin=0.05):
    """Uniform inputs in (lo, hi) kept at least ``margin`` away from the kinks."""

    def make(rng, shapes):
        out = []
        for s in shapes:
            x = rng.uniform(lo, hi, size=s)
            for k in kinks:
                close = np.abs(x - k) < margin
                x = np.where(close, x + np.where(x >= k, 2 * margin, -2 * margin), x)
            out.append(np.asarray(x))
        return out

    return make


def one(*shapes):
    """Cases of a one-input op: one shape each."""
    return [(s,) for s in shapes]


def unary(name, fn, torch_fn, shapes=UNARY, **kw):
    return OpSpec(name, fn, torch_fn, one(*shapes), **kw)


def _dropout_fixed(x):
    chainrule.manual_seed(3)  # the same mask on every call: gradcheck needs a function
    return F.dropout(x, p=0.3)


SPECS = [
    unary("nn_relu", F.relu, lambda x: _tf().relu(x), make_inputs=away_from(0.0)),
    unary("relu6", F.relu6, lambda x: _tf().relu6(x), make_inputs=away_from(0.0, 6.0, lo=-2, hi=8)),
    unary("leaky_relu", F.leaky_relu, lambda x: _tf().leaky_relu(x), make_inputs=away_from(0.0)),
    unary(
        "leaky_relu_slope",
        lambda x: F.leaky_relu(x, negative_slope=0.2),
        lambda x: _tf().leaky_relu(x, negative_slope=0.2),
        make_inputs=away_from(0.0),
    ),
    OpSpec(
        "prelu_channels",
        F.prelu,
        lambda x, w: _tf().prelu(x, w),
        [((2, 3, 4), (3,)), ((4, 3), (3,)), ((1, 2, 2, 3), (2,))],
        make_inputs=away_from(0.0),
    ),
    OpSpec(
        "prelu_shared",
        F.prelu,
        lambda x, w: _tf().prelu(x, w),
        [((), (1,)), ((5,), (1,)), ((3, 4), (1,))],
        make_inputs=away_from(0.0),
    ),
    unary("elu", F.elu, lambda x: _tf().elu(x), make_inputs=away_from(0.0)),
    unary(
        "elu_alpha",
        lambda x: F.elu(x, alpha=0.5),
        lambda x: _tf().elu(x, alpha=0.5),
        make_inputs=away_from(0.0),
    ),
    unary(
        "celu",
        lambda x: F.celu(x, alpha=1.5),
        lambda x: _tf().celu(x, alpha=1.5),
        make_inputs=away_from(0.0),
    ),
    unary("selu", F.selu, lambda x: _tf().selu(x), make_inputs=away_from(0.0)),
    unary("gelu", F.gelu, lambda x: _tf().gelu(x), domain=(-4.0, 4.0)),
    unary(
        "gelu_tanh",
        lambda x: F.gelu(x, approximate="tanh"),
        lambda x: _tf().gelu(x, approximate="tanh"),
        domain=(-4.0, 4.0),
    ),
    unary(
        "gelu_wide",
        F.gelu,
        lambda x: _tf().gelu(x),
        shapes=[(40,)],
        domain=(-9.0, 9.0),
        note="covers all three ranges of Cody's erf approximation",
    ),
    unary("silu", F.silu, lambda x: _tf().silu(x), domain=(-5.0, 5.0)),
    unary("mish", F.mish, lambda x: _tf().mish(x), domain=(-5.0, 5.0)),
    unary("softplus", F.softplus, lambda x: _tf().softplus(x), domain=(-10.0, 10.0)),
    unary(
        "softplus_beta_threshold",
        lambda x: F.softplus(x, beta=2.0, threshold=3.0),
        lambda x: _tf().softplus(x, beta=2.0, threshold=3.0),
        make_inputs=away_from(1.5),
        note="beta x > threshold switches to the identity: inputs on both sides of x = 1.5",
    ),
    unary("softsign", F.softsign, lambda x: _tf().softsign(x)),
    unary("hardtanh", F.hardtanh, lambda x: _tf().hardtanh(x), make_inputs=away_from(-1.0, 1.0)),
    unary(
        "hardtanh_bounds",
        lambda x: F.hardtanh(x, min_val=-0.5, max_val=1.5),
        lambda x: _tf().hardtanh(x, min_val=-0.5, max_val=1.5),
        make_inputs=away_from(-0.5, 1.5),
    ),
    unary(
        "hardsigmoid",
        F.hardsigmoid,
        lambda x: _tf().hardsigmoid(x),
        make_inputs=away_from(-3.0, 3.0, lo=-5, hi=5),
    ),
    unary(
        "hardswish",
        F.hardswish,
        lambda x: _tf().hardswish(x),
        make_inputs=away_from(-3.0, 3.0, lo=-5, hi=5),
    ),
    unary("tanhshrink", F.tanhshrink, lambda x: _tf().tanhshrink(x)),
    unary(
        "hardshrink",
        F.hardshrink,
        lambda x: _tf().hardshrink(x),
        make_inputs=away_from(-0.5, 0.5),
    ),
    unary(
        "hardshrink_lambd",
        lambda x: F.hardshrink(x, lambd=1.0),
        lambda x: _tf().hardshrink(x, lambd=1.0),
        make_inputs=away_from(-1.0, 1.0),
    ),
    unary(
        "softshrink",
        F.softshrink,
        lambda x: _tf().softshrink(x),
        make_inputs=away_from(-0.5, 0.5),
    ),
    unary(
        "softshrink_lambd",
        lambda x: F.softshrink(x, lambd=1.2),
        lambda x: _tf().softshrink(x, lambd=1.2),
        make_inputs=away_from(-1.2, 1.2),
    ),
    unary("logsigmoid", F.logsigmoid, lambda x: _tf().logsigmoid(x), domain=(-20.0, 20.0)),
    unary("nn_sigmoid", F.sigmoid, lambda x: _tf().sigmoid(x), domain=(-6.0, 6.0)),
    unary("nn_tanh", F.tanh, lambda x: _tf().tanh(x)),
    unary(
        "threshold",
        lambda x: F.threshold(x, 0.3, -2.0),
        lambda x: _tf().threshold(x, 0.3, -2.0),
        make_inputs=away_from(0.3),
    ),
    OpSpec(
        "glu",
        F.glu,
        lambda x: _tf().glu(x),
        one((4,), (3, 6), (2, 1, 4)),
    ),
    OpSpec(
        "glu_dim",
        lambda x: F.glu(x, dim=1),
        lambda x: _tf().glu(x, dim=1),
        one((2, 4), (2, 6, 3)),
    ),
    OpSpec(
        "softmax",
        lambda x: F.softmax(x, dim=-1),
        lambda x: _tf().softmax(x, dim=-1),
        one((), (1,), (5,), (3, 4), (2, 1, 5)),
    ),
    OpSpec(
        "softmax_dim0",
        lambda x: F.softmax(x, dim=0),
        lambda x: _tf().softmax(x, dim=0),
        one((4, 3), (3, 1, 4)),
    ),
    OpSpec(
        "softmax_large_logits",
        lambda x: F.softmax(x, dim=1),
        lambda x: _tf().softmax(x, dim=1),
        one((3, 5)),
        domain=(-60.0, 60.0),
        gc_atol=1e-4,
        note="logits far apart: probabilities near 0 and 1",
    ),
    OpSpec(
        "softmax_dtype",
        lambda x: F.softmax(x, dim=1, dtype=chainrule.float64),
        lambda x: _tf().softmax(x, dim=1, dtype=__import__("torch").float64),
        one((3, 4)),
    ),
    OpSpec(
        "softmin",
        lambda x: F.softmin(x, dim=1),
        lambda x: _tf().softmin(x, dim=1),
        one((3, 4), (2, 5, 1)),
    ),
    OpSpec(
        "log_softmax",
        lambda x: F.log_softmax(x, dim=-1),
        lambda x: _tf().log_softmax(x, dim=-1),
        one((), (1,), (5,), (3, 4), (2, 1, 5)),
    ),
    OpSpec(
        "log_softmax_dim1",
        lambda x: F.log_softmax(x, dim=1),
        lambda x: _tf().log_softmax(x, dim=1),
        one((3, 4), (2, 3, 4)),
        domain=(-30.0, 30.0),
    ),
    OpSpec(
        "log_softmax_dtype",
        lambda x: F.log_softmax(x, dim=0, dtype=chainrule.float64),
        lambda x: _tf().log_softmax(x, dim=0, dtype=__import__("torch").float64),
        one((4, 3)),
    ),
    OpSpec(
        "tensor_softmax_method",
        lambda x: x.softmax(1) * x.log_softmax(0),
        lambda x: x.softmax(1) * x.log_softmax(0),
        one((3, 4)),
    ),
    OpSpec(
        "dropout_eval",
        lambda x: F.dropout(x, p=0.4, training=False),
        lambda x: _tf().dropout(x, p=0.4, training=False),
        one((), (3, 4)),
        gradcheck=False,
        note="identity in evaluation mode",
    ),
    OpSpec(
        "dropout_fixed_mask",
        _dropout_fixed,
        None,
        one((5,), (3, 4)),
        note="no torch oracle: masks differ; gradcheck with a reseeded mask",
    ),
]


# In-place activations run on a non-leaf copy (in place on a leaf that requires grad raises).
def _on_copy(f, *args):
    return lambda x: f(x * 1.0, *args)


def _rrelu_fixed(x):
    chainrule.manual_seed(4)  # the same slopes on every call: gradcheck needs a function
    return F.rrelu(x, 0.1, 0.4, training=True)


def _gumbel_fixed(hard):
    def call(x):
        chainrule.manual_seed(6)  # the same noise on every call
        return F.gumbel_softmax(x, tau=0.7, hard=hard)

    return call


SPECS += [
    unary(n, _on_copy(getattr(F, n), *a), _on_copy(getattr(_tf(), n), *a), make_inputs=m)
    for n, a, m in [
        ("relu_", (), away_from(0.0)),
        ("elu_", (0.5,), away_from(0.0)),
        ("leaky_relu_", (0.2,), away_from(0.0)),
        ("hardtanh_", (-0.5, 1.5), away_from(-0.5, 1.5)),
        ("selu_", (), away_from(0.0)),
        ("celu_", (1.5,), away_from(0.0)),
        ("threshold_", (0.3, -2.0), away_from(0.3)),
    ]
] + [
    unary(
        "rrelu_eval",
        lambda x: F.rrelu(x, 0.1, 0.4),
        lambda x: _tf().rrelu(x, 0.1, 0.4),
        make_inputs=away_from(0.0),
    ),
    unary(
        "rrelu_eval_inplace",
        _on_copy(F.rrelu_, 0.1, 0.4),
        _on_copy(_tf().rrelu_, 0.1, 0.4),
        make_inputs=away_from(0.0),
    ),
    unary(
        "rrelu_train_fixed_slopes",
        _rrelu_fixed,
        None,
        make_inputs=away_from(0.0),
        note="random: slopes checked by statistics in tests/nn/test_torch_api_extras.py",
    ),
    OpSpec(
        "gumbel_softmax_fixed_noise",
        _gumbel_fixed(False),
        None,
        [((5,),), ((3, 4),)],
        note="random: checked by statistics in tests/nn/test_torch_api_extras.py",
    ),
]
