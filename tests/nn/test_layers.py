"""Activation, dropout, normalisation, embedding and loss layers against PyTorch.

Layers are compared with copied weights (torch's state_dict converted to NumPy and loaded with
``load_state_dict``): outputs, input gradients and every parameter gradient for a random
cotangent, in train and eval mode. Dropout is random, so it is checked by its statistics and by
its own mask, not against torch's mask.
"""

import doctest
import math
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

RTOL, ATOL = 1e-5, 1e-6


def _np(t):
    return t.detach().cpu().numpy() if hasattr(t, "cpu") else t.detach().numpy()


def _load_from_torch(ours, theirs):
    """Copy torch's parameters and buffers into ours through a NumPy state_dict."""
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})


def _randomize(theirs, torch, seed=0):
    """Non-trivial parameters (not the ones/zeros of the default init) and running stats."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5 + (1.0 if "weight" in name else 0.0))
        for name, b in theirs.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn(b.shape, generator=g) * 0.3)
            elif name.endswith("running_var"):
                b.copy_(torch.rand(b.shape, generator=g) + 0.5)


def _compare(ours, theirs, inputs, torch, rtol=RTOL, atol=ATOL, grad_inputs=None, seed=1):
    """Run both modules on the same inputs; compare outputs, input grads, parameter grads."""
    grad_inputs = range(len(inputs)) if grad_inputs is None else grad_inputs
    xo, xt = [], []
    for i, a in enumerate(inputs):
        diff = i in grad_inputs and a.dtype.kind == "f"
        xo.append(cr.tensor(a, requires_grad=diff))
        xt.append(torch.tensor(a, requires_grad=diff))
    for m in (ours, theirs):
        m.zero_grad()
    yo, yt = ours(*xo), theirs(*xt)
    ref = _np(yt)
    assert tuple(yo.shape) == tuple(ref.shape)
    np.testing.assert_allclose(_np(yo), ref, rtol=rtol, atol=atol, err_msg="forward")
    if not yt.requires_grad:
        return yo, yt
    g = np.random.default_rng(seed).standard_normal(ref.shape).astype(ref.dtype)
    yo.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    for i, (a, b) in enumerate(zip(xo, xt)):
        if b.requires_grad:
            np.testing.assert_allclose(
                a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=atol, err_msg=f"grad of input {i}"
            )
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        q = theirs_params[name]
        if q.grad is None:
            assert p.grad is None or not np.any(p.grad.numpy()), name
            continue
        np.testing.assert_allclose(
            p.grad.numpy(), q.grad.numpy(), rtol=rtol, atol=atol, err_msg=f"grad of {name}"
        )
    return yo, yt


def _away_from_kinks(
    rng, shape, kinks=(0.0, -0.5, 0.5, -1.0, 1.0, -3.0, 3.0, 6.0, 0.1, -2.0), margin=0.02
):
    x = rng.uniform(-4, 7, size=shape)
    for k in kinks:
        close = np.abs(x - k) < margin
        x = np.where(close, x + 2 * margin, x)
    return x.astype(np.float32)


# ---------------------------------------------------------------- activations

ACTIVATIONS = [
    ("ReLU", {}),
    ("ReLU", {"inplace": True}),
    ("LeakyReLU", {}),
    ("LeakyReLU", {"negative_slope": 0.2, "inplace": True}),
    ("PReLU", {}),
    ("PReLU", {"num_parameters": 4, "init": 0.1}),
    ("ELU", {}),
    ("ELU", {"alpha": 0.5}),
    ("CELU", {"alpha": 1.5}),
    ("SELU", {}),
    ("GELU", {}),
    ("GELU", {"approximate": "tanh"}),
    ("SiLU", {}),
    ("Mish", {}),
    ("Softplus", {}),
    ("Softplus", {"beta": 2, "threshold": 3}),
    ("Softsign", {}),
    ("Hardtanh", {}),
    ("Hardtanh", {"min_val": -2.0, "max_val": 3.0}),
    ("ReLU6", {}),
    ("Hardsigmoid", {}),
    ("Hardswish", {}),
    ("Tanhshrink", {}),
    ("Hardshrink", {}),
    ("Hardshrink", {"lambd": 1.0}),
    ("Softshrink", {}),
    ("Softshrink", {"lambd": 1.0}),
    ("LogSigmoid", {}),
    ("Sigmoid", {}),
    ("Tanh", {}),
    ("Threshold", {"threshold": 0.1, "value": 20.0}),
    ("GLU", {}),
    ("GLU", {"dim": 1}),
    ("Softmax", {"dim": 1}),
    ("Softmin", {"dim": 0}),
    ("LogSoftmax", {"dim": -1}),
]


@pytest.mark.parametrize(
    "name,kwargs",
    ACTIVATIONS,
    ids=[f"{n}-{'-'.join(map(str, k.values()))}" for n, k in ACTIVATIONS],
)
def test_activation_matches_torch(torch, name, kwargs):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    if kwargs.get("inplace"):  # torch would modify its leaf input; ours ignores the flag
        theirs = getattr(torch.nn, name)(**{**kwargs, "inplace": False})
    _randomize(theirs, torch)
    _load_from_torch(ours, theirs)
    x = _away_from_kinks(np.random.default_rng(0), (2, 4, 6))
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        _compare(ours, theirs, [x], torch)


def test_activation_reprs_and_softmax_implicit_dim(torch):
    for expr in [
        "Softmax()",
        "Softplus(2, 10)",
        "Hardtanh(-2, 3, True)",
        "ReLU6(True)",
        "Threshold(0.1, 20, True)",
        "ELU(0.5, True)",
        "SiLU(True)",
        "Hardswish(True)",
        "PReLU(4)",
        "GELU('tanh')",
        "Softshrink(0.3)",
        "CELU(2.0, True)",
    ]:
        assert repr(eval("nn." + expr)) == repr(eval("torch.nn." + expr)), expr
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = nn.Softmax()(cr.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = torch.nn.Softmax()(torch.tensor(x))
    np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=RTOL, atol=ATOL)


def test_prelu_default_init_and_channel_check():
    p = nn.PReLU(3)
    assert [n for n, _ in p.named_parameters()] == ["weight"]
    assert p.weight.shape == (3,) and np.all(p.weight.detach().numpy() == 0.25)
    with pytest.raises(RuntimeError, match="channel size"):
        p(cr.ones(2, 4))


# ---------------------------------------------------------------- dropout


def test_dropout_scaling_mask_and_modes():
    x = cr.randn(200, 50)
    d = nn.Dropout(0.3)
    assert repr(d) == "Dropout(p=0.3, inplace=False)"
    y = d(x).numpy()
    mask = y != 0
    np.testing.assert_allclose(y, x.numpy() * mask / 0.7, rtol=1e-6)  # x * mask / (1 - p)
    assert abs(1 - mask.mean() - 0.3) < 0.02
    cr.manual_seed(11)
    a = d(x).numpy()
    cr.manual_seed(11)
    np.testing.assert_array_equal(a, d(x).numpy())  # masks come from the global generator
    assert d.eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert not np.any(nn.Dropout(1.0)(x).numpy())
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            nn.Dropout(p)


def test_dropout_gradient_uses_the_same_mask():
    x = cr.randn(30, 20, requires_grad=True)
    y = nn.Dropout(0.4)(x)
    y.sum().backward()
    kept = y.detach().numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.6, rtol=1e-6)


@pytest.mark.parametrize(
    "cls,shape",
    [(nn.Dropout2d, (8, 16, 3, 3)), (nn.Dropout1d, (8, 16, 5)), (nn.Dropout1d, (200, 5))],
)
def test_channel_dropout_zeroes_whole_channels(torch, cls, shape):
    x = cr.rand(*shape) + 0.5
    d = cls(0.5)
    assert repr(d) == repr(getattr(torch.nn, cls.__name__)(0.5))
    y = d(x).numpy()
    per_channel = y.reshape(shape[:2] + (-1,)) if len(shape) > 2 else y.reshape(shape + (1,))
    zero = (per_channel == 0).all(-1)
    kept = (per_channel != 0).all(-1)
    assert np.all(zero | kept)  # every channel entirely dropped or entirely kept
    assert 0.3 < zero.mean() < 0.7
    xs = x.numpy().reshape(per_channel.shape)
    np.testing.assert_allclose(per_channel[kept], xs[kept] * 2, rtol=1e-6)
    assert d.eval()(x) is x
    with pytest.raises(RuntimeError, match="2D or 3D"):
        nn.Dropout1d()(cr.ones(2, 2, 2, 2))


def test_alpha_dropout_keeps_selu_statistics(torch):
    x = cr.randn(400, 500)  # mean 0, variance 1: SELU's fixed point
    for p in (0.1, 0.5):
        d = nn.AlphaDropout(p)
        y = d(x).numpy()
        assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01
        ref = torch.nn.AlphaDropout(p)(torch.tensor(x.numpy())).numpy()
        assert abs(y.mean() - ref.mean()) < 0.01 and abs(y.std() - ref.std()) < 0.01
        # torch's formula: kept -> a x + a alpha' p, dropped -> a alpha' (p - 1)
        alpha = 1.7580993408473766
        a = 1 / math.sqrt((alpha**2 * p + 1) * (1 - p))
        dropped_value = a * alpha * (p - 1)
        dropped = np.isclose(y, dropped_value, atol=1e-6) & ~np.isclose(
            x.numpy() * a + a * alpha * p, dropped_value, atol=1e-6
        )
        assert abs(dropped.mean() - p) < 0.01
        np.testing.assert_allclose(
            y[~dropped], x.numpy()[~dropped] * a + a * alpha * p, rtol=1e-5, atol=1e-6
        )
        assert d.eval()(x) is x
    assert not np.any(nn.AlphaDropout(1.0)(x).numpy())
    assert repr(nn.AlphaDropout(0.2)) == "AlphaDropout(p=0.2, inplace=False)"
    fa = nn.FeatureAlphaDropout(0.5)(cr.randn(64, 32, 4)).numpy()
    assert np.all(np.ptp(fa, axis=-1)[np.isclose(fa[..., 0], fa[..., 1])] < 1e-6)


# ---------------------------------------------------------------- batch norm

BN_CASES = [
    ("BatchNorm1d", (6, 3), {}),
    ("BatchNorm1d", (4, 3, 5), {}),
    ("BatchNorm1d", (4, 3, 5), {"affine": False}),
    ("BatchNorm1d", (6, 3), {"momentum": None}),
    ("BatchNorm2d", (4, 3, 3, 3), {}),
    ("BatchNorm2d", (4, 3, 3, 3), {"track_running_stats": False}),
    ("BatchNorm2d", (2, 3, 4, 2), {"affine": False, "track_running_stats": False}),
    ("BatchNorm2d", (4, 3, 3, 3), {"momentum": None, "eps": 1e-3}),
    ("BatchNorm2d", (4, 3, 3, 3), {"bias": False, "momentum": 0.3}),
    ("BatchNorm3d", (2, 3, 2, 2, 2), {}),
]


@pytest.mark.parametrize("name,shape,kwargs", BN_CASES)
def test_batchnorm_matches_torch_over_train_steps_then_eval(torch, name, shape, kwargs):
    ours, theirs = (
        getattr(nn, name)(shape[1], **kwargs),
        getattr(torch.nn, name)(shape[1], **kwargs),
    )
    assert repr(ours) == repr(theirs)
    _randomize(theirs, torch)
    _load_from_torch(ours, theirs)
    rng = np.random.default_rng(0)
    for step in range(3):
        x = (rng.standard_normal(shape) * (1 + step) + step).astype(np.float32)
        _compare(ours, theirs, [x], torch, rtol=1e-5, atol=1e-5, seed=step)
        for k, v in theirs.state_dict().items():
            np.testing.assert_allclose(
                ours.state_dict()[k].numpy(), v.numpy(), rtol=1e-5, atol=1e-6, err_msg=k
            )
    if ours.track_running_stats:
        assert ours.num_batches_tracked.dtype == cr.int64 and ours.num_batches_tracked.item() == 3
    ours.eval()
    theirs.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    _compare(ours, theirs, [x], torch, rtol=1e-5, atol=1e-5)
    for k, v in theirs.state_dict().items():  # eval leaves the running statistics alone
        np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), rtol=1e-5, atol=1e-6)


def test_batchnorm_defaults_buffers_and_errors():
    bn = nn.BatchNorm2d(3)
    assert repr(bn) == (
        "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    )
    assert list(bn.state_dict()) == [
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    assert np.all(bn.weight.detach().numpy() == 1) and np.all(bn.bias.detach().numpy() == 0)
    assert np.all(bn.running_mean.numpy() == 0) and np.all(bn.running_var.numpy() == 1)
    assert bn.num_batches_tracked.dtype == cr.int64 and bn.num_batches_tracked.item() == 0
    plain = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert list(plain.state_dict()) == [] and plain.running_mean is None
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(cr.randn(1, 3))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        bn(cr.randn(1, 3, 1, 1))
    nn.BatchNorm1d(3).eval()(cr.randn(1, 3))  # eval with running statistics: fine
    with pytest.raises(ValueError, match="expected 4D input"):
        bn(cr.randn(2, 3))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(3)(cr.randn(2, 3, 2, 2))
    bn(cr.randn(4, 3, 2, 2))
    bn.reset_running_stats()
    assert bn.num_batches_tracked.item() == 0 and np.all(bn.running_var.numpy() == 1)


def test_batchnorm_momentum_none_is_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None)
    xs = [cr.randn(8, 2) * (i + 1) + i for i in range(4)]
    for x in xs:
        bn(x)
    means = np.mean([x.numpy().mean(0) for x in xs], axis=0)
    np.testing.assert_allclose(bn.running_mean.numpy(), means, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- layer, group, rms norm

LN_CASES = [
    (4, (3, 4), {}),
    ((3, 4), (2, 3, 4), {}),
    (4, (2, 5, 4), {"elementwise_affine": False}),
    ([5], (2, 5), {"bias": False}),
    (4, (4,), {"eps": 1e-3}),
]


@pytest.mark.parametrize("shape_arg,xshape,kwargs", LN_CASES)
def test_layernorm_matches_torch(torch, shape_arg, xshape, kwargs):
    ours, theirs = nn.LayerNorm(shape_arg, **kwargs), torch.nn.LayerNorm(shape_arg, **kwargs)
    assert repr(ours) == repr(theirs)
    _randomize(theirs, torch)
    _load_from_torch(ours, theirs)
    x = (np.random.default_rng(0).standard_normal(xshape) * 2 + 1).astype(np.float32)
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        _compare(ours, theirs, [x], torch)


def test_layernorm_shape_error_and_defaults():
    ln = nn.LayerNorm((2, 3))
    assert np.all(ln.weight.detach().numpy() == 1) and np.all(ln.bias.detach().numpy() == 0)
    assert ln.weight.shape == (2, 3)
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[2, 3\].*\[\*, 2, 3\]"):
        ln(cr.ones(4, 3))


@pytest.mark.parametrize(
    "groups,channels,xshape,kwargs",
    [
        (2, 4, (3, 4, 5), {}),
        (3, 6, (2, 6, 2, 2), {"eps": 1e-3}),
        (1, 4, (2, 4), {"affine": False}),
        (4, 4, (2, 4, 3), {"bias": False}),
    ],
)
def test_groupnorm_matches_torch(torch, groups, channels, xshape, kwargs):
    ours = nn.GroupNorm(groups, channels, **kwargs)
    theirs = torch.nn.GroupNorm(groups, channels, **kwargs)
    assert repr(ours) == repr(theirs)
    _randomize(theirs, torch)
    _load_from_torch(ours, theirs)
    x = (np.random.default_rng(0).standard_normal(xshape) * 2 + 1).astype(np.float32)
    _compare(ours, theirs, [x], torch, atol=1e-5)


def test_groupnorm_errors():
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        nn.GroupNorm(2, 2)(cr.randn(1, 2))


@pytest.mark.parametrize(
    "shape_arg,xshape,kwargs",
    [
        (4, (3, 4), {}),
        ((3, 4), (2, 3, 4), {"eps": 1e-5}),
        (4, (2, 5, 4), {"elementwise_affine": False}),
    ],
)
def test_rmsnorm_matches_torch(torch, shape_arg, xshape, kwargs):
    ours, theirs = nn.RMSNorm(shape_arg, **kwargs), torch.nn.RMSNorm(shape_arg, **kwargs)
    assert repr(ours) == repr(theirs)
    _randomize(theirs, torch)
    _load_from_torch(ours, theirs)
    x = (np.random.default_rng(0).standard_normal(xshape) + 0.5).astype(np.float32)
    _compare(ours, theirs, [x], torch)


# ---------------------------------------------------------------- embedding


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"padding_idx": 2},
        {"padding_idx": -1},
        {"scale_grad_by_freq": True},
        {"max_norm": 1.0},
        {"max_norm": 1.5, "norm_type": 1.0, "padding_idx": 0},
    ],
)
def test_embedding_matches_torch(torch, kwargs):
    ours, theirs = nn.Embedding(7, 4, **kwargs), torch.nn.Embedding(7, 4, **kwargs)
    assert repr(ours) == repr(theirs)
    _load_from_torch(ours, theirs)
    idx = np.array([[1, 2, 1, 6], [0, 2, 2, 5]], dtype=np.int64)  # repeats and the padding rows
    _compare(ours, theirs, [idx], torch)
    # max_norm renormalised the rows looked up, in place, as torch did
    np.testing.assert_allclose(
        ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-6, atol=1e-7
    )


def test_embedding_gradient_accumulates_repeats_and_skips_padding():
    emb = nn.Embedding(5, 2, padding_idx=0)
    assert np.all(emb.weight.detach().numpy()[0] == 0)
    out = emb(cr.tensor([3, 3, 3, 0, 1]))
    out.backward(cr.ones(5, 2))
    g = emb.weight.grad.numpy()
    np.testing.assert_array_equal(g, [[0, 0], [1, 1], [0, 0], [3, 3], [0, 0]])


def test_embedding_errors_and_from_pretrained():
    emb = nn.Embedding(10, 3)
    with pytest.raises(IndexError, match=r"index 10 .*num_embeddings=10"):
        emb(cr.tensor([1, 10]))
    with pytest.raises(IndexError, match=r"index -1 .*num_embeddings=10"):
        emb(cr.tensor([-1]))
    with pytest.raises(RuntimeError, match="integer indices"):
        emb(cr.tensor([1.0]))
    with pytest.raises(NotImplementedError, match="sparse"):
        nn.Embedding(10, 3, sparse=True)
    with pytest.raises(AssertionError, match="Padding_idx"):
        nn.Embedding(10, 3, padding_idx=10)
    assert emb(cr.tensor([1, 2], dtype=cr.int32)).shape == (2, 3)
    w = cr.tensor([[1.0, 2.3, 3.0], [4.0, 5.1, 6.3]])
    frozen = nn.Embedding.from_pretrained(w)
    assert not frozen.weight.requires_grad
    np.testing.assert_allclose(frozen(cr.tensor([1])).numpy(), [[4.0, 5.1, 6.3]], rtol=1e-6)
    trainable = nn.Embedding.from_pretrained(w, freeze=False, padding_idx=0)
    assert trainable.weight.requires_grad and repr(trainable) == "Embedding(2, 3, padding_idx=0)"


def test_embedding_default_init_is_standard_normal():
    w = nn.Embedding(1000, 100).weight.detach().numpy()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01


# ---------------------------------------------------------------- state_dict from torch


def test_torch_state_dicts_load_into_chainrule_twins(torch):
    rng = np.random.default_rng(0)
    cases = [
        ("BatchNorm2d(3)", rng.standard_normal((2, 3, 4, 4))),
        ("LayerNorm((3, 4))", rng.standard_normal((2, 3, 4))),
        ("Embedding(6, 3, padding_idx=1)", rng.integers(0, 6, (2, 5))),
        ("PReLU(3)", rng.standard_normal((2, 3, 4))),
        ("GroupNorm(2, 4)", rng.standard_normal((2, 4, 3))),
        ("RMSNorm(4)", rng.standard_normal((2, 4))),
    ]
    for expr, x in cases:
        theirs, ours = eval("torch.nn." + expr), eval("nn." + expr)
        _randomize(theirs, torch, seed=3)
        if "BatchNorm" in expr:  # real running statistics from a few training steps
            for _ in range(3):
                theirs(torch.randn(*x.shape))
        theirs.eval()
        ours.eval()
        state = {k: v.numpy().copy() for k, v in theirs.state_dict().items()}
        result = ours.load_state_dict(state)
        assert not result.missing_keys and not result.unexpected_keys
        x = x.astype(np.float32) if x.dtype.kind == "f" else x
        np.testing.assert_allclose(
            ours(cr.tensor(x)).detach().numpy(),
            theirs(torch.tensor(x)).detach().numpy(),
            rtol=1e-5,
            atol=1e-6,
            err_msg=expr,
        )
        for k, v in ours.state_dict().items():
            assert v.dtype.name == str(theirs.state_dict()[k].dtype).replace("torch.", ""), k


# ---------------------------------------------------------------- losses


def _loss_inputs(kind, rng):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    if kind == "regression":
        return [x, rng.standard_normal((4, 3)).astype(np.float32) * 1.5]
    if kind == "probs":
        return [1 / (1 + np.exp(-x)), rng.uniform(size=(4, 3)).astype(np.float32)]
    if kind == "logits":
        return [x * 3, (rng.uniform(size=(4, 3)) > 0.5).astype(np.float32)]
    if kind == "classes":
        return [x, np.array([0, 2, 1, 2])]
    if kind == "classes_ignore":
        return [x, np.array([0, -100, 1, 2])]
    if kind == "classes_2d":
        return [rng.standard_normal((2, 3, 5)).astype(np.float32), rng.integers(0, 3, (2, 5))]
    if kind == "class_probs":
        p = np.exp(x) / np.exp(x).sum(1, keepdims=True)
        return [rng.standard_normal((4, 3)).astype(np.float32), p.astype(np.float32)]
    if kind == "log_probs":
        return [x - np.log(np.exp(x).sum(1, keepdims=True)), np.array([0, 2, 1, 2])]
    if kind == "kl":
        q = np.exp(x) / np.exp(x).sum(1, keepdims=True)
        y = rng.uniform(size=(4, 3)).astype(np.float32)
        return [np.log(q).astype(np.float32), y / y.sum(1, keepdims=True)]
    if kind == "kl_log":
        q = np.exp(x) / np.exp(x).sum(1, keepdims=True)
        y = rng.uniform(size=(4, 3)).astype(np.float32)
        return [np.log(q).astype(np.float32), np.log(y / y.sum(1, keepdims=True))]
    if kind == "cosine":
        return [x, rng.standard_normal((4, 3)).astype(np.float32), np.array([1, -1, 1, -1])]
    raise AssertionError(kind)


W3 = "cr.tensor([0.2, 1.0, 3.0])"
LOSSES = [
    ("MSELoss()", "regression"),
    ("MSELoss(reduction='sum')", "regression"),
    ("MSELoss(reduction='none')", "regression"),
    ("L1Loss()", "regression"),
    ("L1Loss(reduction='none')", "regression"),
    ("SmoothL1Loss()", "regression"),
    ("SmoothL1Loss(beta=0.5, reduction='sum')", "regression"),
    ("HuberLoss()", "regression"),
    ("HuberLoss(delta=0.7, reduction='none')", "regression"),
    ("BCELoss()", "probs"),
    (f"BCELoss(weight={W3})", "probs"),
    ("BCELoss(reduction='sum')", "probs"),
    ("BCEWithLogitsLoss()", "logits"),
    (f"BCEWithLogitsLoss(weight={W3})", "logits"),
    (f"BCEWithLogitsLoss(pos_weight={W3}, reduction='none')", "logits"),
    ("CrossEntropyLoss()", "classes"),
    (f"CrossEntropyLoss(weight={W3})", "classes"),
    ("CrossEntropyLoss(reduction='sum')", "classes"),
    ("CrossEntropyLoss()", "classes_ignore"),
    ("CrossEntropyLoss(ignore_index=1, label_smoothing=0.1)", "classes"),
    (f"CrossEntropyLoss(weight={W3}, label_smoothing=0.2, reduction='none')", "classes"),
    ("CrossEntropyLoss()", "classes_2d"),
    ("CrossEntropyLoss(label_smoothing=0.1)", "class_probs"),
    ("NLLLoss()", "log_probs"),
    (f"NLLLoss(weight={W3}, ignore_index=2)", "log_probs"),
    ("NLLLoss(reduction='none')", "log_probs"),
    ("KLDivLoss(reduction='batchmean')", "kl"),
    ("KLDivLoss(reduction='sum')", "kl"),
    ("KLDivLoss(reduction='none', log_target=True)", "kl_log"),
    ("CosineEmbeddingLoss()", "cosine"),
    ("CosineEmbeddingLoss(margin=0.1, reduction='sum')", "cosine"),
]


@pytest.mark.parametrize("expr,kind", LOSSES)
def test_loss_matches_torch(torch, expr, kind):
    ours = eval("nn." + expr)
    theirs = eval("torch.nn." + expr.replace("cr.tensor", "torch.tensor"))
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    inputs = _loss_inputs(kind, np.random.default_rng(0))
    # the target is differentiable in torch for the probability targets; compare it too
    _compare(ours, theirs, inputs, torch, grad_inputs=(0, 1) if kind != "cosine" else (0, 1))


def test_kl_div_mean_warns_like_torch():
    x = cr.tensor([[-0.5, -1.0]])
    with pytest.warns(UserWarning, match="batchmean"):
        nn.KLDivLoss()(x, x.exp())


def test_legacy_size_average_and_reduce(torch):
    for kw, expected in [
        ({"size_average": False}, "sum"),
        ({"reduce": False}, "none"),
        ({"size_average": True, "reduce": True}, "mean"),
    ]:
        with pytest.warns(UserWarning, match="deprecated"):
            ours = nn.MSELoss(**kw)
        assert ours.reduction == expected
    loss = nn.CrossEntropyLoss(weight=cr.tensor([1.0, 2.0]))
    assert list(loss.state_dict()) == ["weight"]
    assert list(nn.BCEWithLogitsLoss(pos_weight=cr.ones(3)).state_dict()) == ["pos_weight"]


# ---------------------------------------------------------------- docstrings


@pytest.mark.parametrize("module", ["activation", "dropout", "normalization", "embedding", "loss"])
def test_docstring_examples_run(module):
    import importlib

    mod = importlib.import_module(f"chainrule.nn.{module}")
    result = doctest.testmod(
        mod,
        extraglobs={"chainrule": cr, "nn": nn, "F": F},
        optionflags=doctest.NORMALIZE_WHITESPACE,
    )
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize(
    "expr",
    [
        "BatchNorm1d(4)",
        "BatchNorm2d(3, affine=False)",
        "LayerNorm((2, 3))",
        "LayerNorm(4, bias=False)",
        "GroupNorm(2, 4)",
        "RMSNorm(5)",
        "PReLU()",
        "PReLU(3, init=0.1)",
    ],
)
def test_deterministic_default_init_equals_torch(torch, expr):
    ours, theirs = eval("nn." + expr), eval("torch.nn." + expr)
    mine = ours.state_dict()
    ref = theirs.state_dict()
    assert list(mine) == list(ref)
    for k, v in ref.items():
        np.testing.assert_array_equal(mine[k].numpy(), v.numpy(), err_msg=k)
        assert mine[k].dtype.name == str(v.dtype).replace("torch.", ""), k
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
