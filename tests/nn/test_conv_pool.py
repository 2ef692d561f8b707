"""Convolution, pooling and upsampling layers vs PyTorch (copied weights), init, reprs, errors,
and a LeNet-5 step profiled to show the work is vectorised."""

import cProfile
import math
import pstats

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

TOL = dict(rtol=1e-4, atol=1e-5)  # sums of many products in another order than torch's


def _copy_params(ours, theirs, torch):
    with torch.no_grad():
        for (n1, p1), (n2, p2) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert n1 == n2 and tuple(p1.shape) == tuple(p2.shape), (n1, n2)
            p2.copy_(torch.from_numpy(p1.detach().numpy().copy()))


def _compare(ours, theirs, shape, torch, seed=0, output_size=None):
    """Outputs, the input gradient and every parameter gradient for a random cotangent."""
    _copy_params(ours, theirs, torch)
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    xo, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    kw = {} if output_size is None else {"output_size": output_size}
    yo, yt = ours(xo, **kw), theirs(xt, **kw)
    assert tuple(yo.shape) == tuple(yt.shape)
    assert yo.dtype == cr.float32
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), **TOL)
    g = np.random.default_rng(seed + 1).standard_normal(tuple(yt.shape)).astype(np.float32)
    yo.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), **TOL, err_msg="input grad")
    for (n, po), pt in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(po.grad.numpy(), pt.grad.numpy(), **TOL, err_msg=n)


CONV_CASES = [
    ("Conv2d", (3, 4, 3), {}, (2, 3, 7, 6)),
    ("Conv2d", (3, 4, 3), {}, (3, 5, 5)),  # unbatched
    (
        "Conv2d",
        (4, 6, (3, 2)),
        dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2),
        (2, 4, 9, 8),
    ),
    ("Conv2d", (3, 3, 3), dict(padding="same", groups=3, bias=False), (2, 3, 6, 5)),  # depthwise
    ("Conv2d", (3, 6, 3), dict(groups=3, stride=2), (2, 3, 7, 7)),  # depthwise multiplier 2
    ("Conv2d", (2, 4, 4), dict(padding="same", padding_mode="reflect", dilation=2), (2, 2, 8, 7)),
    ("Conv2d", (2, 3, 3), dict(padding=2, padding_mode="replicate", stride=2), (2, 2, 6, 7)),
    ("Conv2d", (2, 3, (2, 3)), dict(padding=(1, 2), padding_mode="circular"), (2, 2, 5, 6)),
    ("Conv2d", (2, 3, 3), dict(padding="valid"), (1, 2, 5, 5)),
    ("Conv1d", (3, 4, 3), dict(stride=2, padding=1), (2, 3, 9)),
    ("Conv1d", (4, 4, 4), dict(padding="same", groups=4, padding_mode="circular"), (2, 4, 9)),
    ("Conv1d", (2, 3, 3), dict(dilation=3, bias=False), (2, 10)),  # unbatched
    ("ConvTranspose2d", (4, 2, 3), dict(stride=2, padding=1, output_padding=1), (2, 4, 4, 5)),
    (
        "ConvTranspose2d",
        (4, 6, (2, 3)),
        dict(stride=(3, 2), padding=(0, 1), output_padding=(2, 0), groups=2, dilation=(1, 2)),
        (2, 4, 3, 4),
    ),
    ("ConvTranspose2d", (3, 2, 3), dict(bias=False), (3, 4, 4)),  # unbatched
    ("ConvTranspose1d", (3, 2, 3), dict(stride=3, dilation=2, output_padding=2), (2, 3, 5)),
    ("ConvTranspose1d", (4, 4, 2), dict(groups=4, stride=2, padding=1), (2, 4, 6)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", CONV_CASES)
def test_conv_layers_match_torch(torch, name, args, kwargs, shape):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    _compare(ours, theirs, shape, torch)


def test_conv_transpose_output_size(torch):
    ours, theirs = (
        nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1),
        torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1),
    )
    _compare(ours, theirs, (2, 3, 4, 4), torch, output_size=(8, 8))
    with pytest.raises(ValueError, match="output size"):
        ours(cr.randn(2, 3, 4, 4), output_size=(10, 10))


POOL_CASES = [
    ("MaxPool2d", (2,), {}, (2, 3, 6, 7)),
    (
        "MaxPool2d",
        ((3, 2),),
        dict(stride=(2, 1), padding=1, dilation=(2, 1), ceil_mode=True),
        (2, 3, 8, 7),
    ),
    ("MaxPool2d", (3,), dict(stride=1, padding=1), (3, 5, 5)),  # overlapping, unbatched
    ("MaxPool1d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 8)),
    ("AvgPool2d", (2,), {}, (2, 3, 6, 7)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 8, 7)),
    (
        "AvgPool2d",
        ((3, 2),),
        dict(stride=2, padding=1, count_include_pad=False, ceil_mode=True),
        (2, 2, 7, 8),
    ),
    ("AvgPool2d", (2,), dict(stride=1, divisor_override=3), (2, 2, 4, 5)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1, count_include_pad=False), (2, 3, 9)),
    ("AdaptiveAvgPool2d", ((3, 4),), {}, (2, 3, 7, 5)),
    ("AdaptiveAvgPool2d", ((None, 2),), {}, (3, 5, 7)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 4, 5, 5)),  # global average pooling
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 9)),
    ("AdaptiveMaxPool2d", ((3, 4),), {}, (2, 3, 7, 5)),
    ("AdaptiveMaxPool2d", (2,), {}, (2, 3, 8, 8)),
    ("AdaptiveMaxPool1d", (3,), {}, (2, 3, 8)),
    ("Upsample", (), dict(scale_factor=2), (2, 3, 3, 4)),
    ("Upsample", (), dict(size=(5, 7)), (2, 3, 3, 4)),
    ("Upsample", (), dict(scale_factor=1.7), (2, 2, 5)),
    ("Upsample", (), dict(size=(6, 5), mode="bilinear", align_corners=True), (2, 3, 3, 4)),
    ("Upsample", (), dict(scale_factor=(2, 1.5), mode="bilinear"), (2, 3, 3, 4)),
    ("Upsample", (), dict(size=(3, 2), mode="bilinear"), (2, 3, 7, 5)),  # downsampling
    ("Upsample", (), dict(scale_factor=2.5, mode="linear", align_corners=True), (2, 3, 4)),
    ("UpsamplingBilinear2d", (), dict(scale_factor=2), (1, 2, 3, 3)),
    ("UpsamplingNearest2d", (), dict(size=(4, 7)), (1, 2, 3, 3)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", POOL_CASES)
def test_pool_layers_match_torch(torch, name, args, kwargs, shape):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    _compare(ours, theirs, shape, torch)


@pytest.mark.parametrize(
    "ours,theirs",
    [
        (
            lambda: nn.MaxPool2d(3, 2, 1, return_indices=True, ceil_mode=True),
            lambda t: t.nn.MaxPool2d(3, 2, 1, return_indices=True, ceil_mode=True),
        ),
        (
            lambda: nn.MaxPool1d(2, return_indices=True),
            lambda t: t.nn.MaxPool1d(2, return_indices=True),
        ),
        (
            lambda: nn.AdaptiveMaxPool2d((3, 2), return_indices=True),
            lambda t: t.nn.AdaptiveMaxPool2d((3, 2), return_indices=True),
        ),
    ],
)
def test_max_pool_return_indices_match_torch(torch, ours, theirs):
    m = ours()
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6)).astype(np.float32)
    if isinstance(m, nn.MaxPool1d):
        x = x[:, :, 0]
    (yo, io), (yt, it) = m(cr.tensor(x)), theirs(torch)(torch.tensor(x))
    np.testing.assert_array_equal(yo.numpy(), yt.numpy())
    np.testing.assert_array_equal(io.numpy(), it.numpy())
    assert io.dtype == cr.int64


def test_max_pool_ties_route_to_the_first_maximum(torch):
    x = np.ones((1, 1, 4, 4), np.float32)
    x[0, 0, 2:, 2:] = 0.5
    xo, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    nn.MaxPool2d(2)(xo).sum().backward()
    torch.nn.MaxPool2d(2)(xt).sum().backward()
    np.testing.assert_array_equal(xo.grad.numpy(), xt.grad.numpy())
    assert xo.grad.numpy().sum() == 4


def test_torch_conv_state_dict_loads_and_gives_the_same_outputs(torch):
    theirs = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1, groups=1)
    ours = nn.Conv2d(3, 8, 3, stride=2, padding=1)
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(state) == list(ours.state_dict())
    ours.load_state_dict(state)
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 9)).astype(np.float32)
    np.testing.assert_allclose(
        ours(cr.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), **TOL
    )
    t2 = torch.nn.ConvTranspose2d(4, 6, 3, groups=2)
    o2 = nn.ConvTranspose2d(4, 6, 3, groups=2)
    o2.load_state_dict({k: v.detach().numpy() for k, v in t2.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((1, 4, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(
        o2(cr.tensor(x)).detach().numpy(), t2(torch.tensor(x)).detach().numpy(), **TOL
    )


def test_functional_unfold_fold_roundtrip():
    import chainrule.nn.functional as F

    x = cr.randn(2, 3, 5, 6)
    cols = F.unfold(x, (2, 3), padding=1, stride=(1, 2))
    ones = F.fold(
        F.unfold(cr.ones(2, 3, 5, 6), (2, 3), padding=1, stride=(1, 2)),
        (5, 6),
        (2, 3),
        padding=1,
        stride=(1, 2),
    )
    # fold(unfold(x)) counts every pixel once per block that covers it.
    np.testing.assert_allclose(
        F.fold(cols, (5, 6), (2, 3), padding=1, stride=(1, 2)).numpy(),
        (x * ones).numpy(),
        rtol=1e-6,
    )
    assert repr(nn.Unfold(2)) == "Unfold(kernel_size=2, dilation=1, padding=0, stride=1)"


# ---------------------------------------------------------------- init, errors


def test_default_init_bounds_match_pytorch():
    conv = nn.Conv2d(16, 8, 3)
    bound = 1 / math.sqrt(16 * 9)
    w, b = conv.weight.detach().numpy().copy(), conv.bias.detach().numpy()
    assert w.shape == (8, 16, 3, 3) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert np.abs(b).max() <= bound
    up = nn.ConvTranspose2d(8, 16, 3, groups=2)  # weight (8, 8, 3, 3): fan_in = 8 * 9
    bound = 1 / math.sqrt(8 * 9)
    assert up.weight.shape == (8, 8, 3, 3)
    assert bound * 0.9 < np.abs(up.weight.detach().numpy()).max() <= bound
    assert np.abs(up.bias.detach().numpy()).max() <= bound
    conv.reset_parameters()
    assert not np.array_equal(conv.weight.detach().numpy(), w)


def test_conv_input_errors_name_the_layer_and_shapes():
    conv = nn.Conv2d(3, 6, 5)
    with pytest.raises(
        RuntimeError, match=r"Conv2d\(3, 6, kernel_size=\(5, 5\).*\(N, 3, H, W\).*\(2, 3\)"
    ):
        conv(cr.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"Conv2d\(3, 6.*\(N, 3, H, W\).*\(1, 4, 8, 8\)"):
        conv(cr.ones(1, 4, 8, 8))
    with pytest.raises(RuntimeError, match=r"Conv1d\(2, 2.*\(N, 2, W\).*\(1, 2, 3, 3\)"):
        nn.Conv1d(2, 2, 3)(cr.ones(1, 2, 3, 3))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        conv(cr.ones(1, 3, 4, 4))
    import chainrule.nn.functional as F

    with pytest.raises(RuntimeError, match=r"expected input\[1, 4, 8, 8\] to have 3 channels"):
        F.conv2d(cr.ones(1, 4, 8, 8), cr.ones(6, 3, 5, 5))
    with pytest.raises(RuntimeError, match="Expected 3D .unbatched. or 4D"):
        F.conv2d(cr.ones(2, 3), cr.ones(6, 3, 5, 5))
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        F.conv_transpose2d(cr.ones(1, 2, 3, 3), cr.ones(2, 1, 3, 3), output_padding=1)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(cr.ones(1, 1, 4, 4), 2, padding=2)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(groups=2), "in_channels must be divisible by groups"),
        (dict(groups=0), "groups must be a positive integer"),
        (dict(padding="foo"), "Invalid padding string 'foo'"),
        (dict(padding="same", stride=2), "padding='same' is not supported for strided"),
        (dict(padding_mode="bad"), "padding_mode must be one of"),
    ],
)
def test_invalid_conv_arguments_raise_value_error_like_torch(torch, kwargs, message):
    with pytest.raises(ValueError, match=message):
        nn.Conv2d(3, 6, 5, **kwargs)
    with pytest.raises(ValueError, match=message):
        torch.nn.Conv2d(3, 6, 5, **kwargs)


def test_invalid_conv_transpose_arguments():
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.ConvTranspose2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect")


# ---------------------------------------------------------------- LeNet-5


def _lenet(lib):
    return lib.nn.Sequential(
        lib.nn.Conv2d(1, 6, 5, padding=2),
        lib.nn.ReLU(),
        lib.nn.MaxPool2d(2),
        lib.nn.Conv2d(6, 16, 5),
        lib.nn.ReLU(),
        lib.nn.MaxPool2d(2),
        lib.nn.Flatten(),
        lib.nn.Linear(400, 120),
        lib.nn.ReLU(),
        lib.nn.Linear(120, 84),
        lib.nn.ReLU(),
        lib.nn.Linear(84, 10),
    )


def _lenet_step(model, x, y, lib):
    loss = lib.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    return loss


def test_lenet5_step_matches_torch_and_is_vectorised(torch):
    """A (64, 1, 28, 28) forward and backward: same loss and gradients as torch, and a profile
    showing that no Python function in chainrule runs per output position (conv1 alone has
    64 * 6 * 28 * 28 = 301,056 of them): the whole step makes a few thousand calls at most."""
    ours, theirs = _lenet(cr), _lenet(torch)
    _copy_params(ours, theirs, torch)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    xo, yo = cr.tensor(x), cr.tensor(y)

    profiler = cProfile.Profile()
    profiler.enable()
    loss = _lenet_step(ours, xo, yo, cr)
    profiler.disable()

    ref = _lenet_step(theirs, torch.tensor(x), torch.tensor(y), torch)
    np.testing.assert_allclose(loss.item(), ref.item(), **TOL)
    for (n, po), pt in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(
            po.grad.numpy(), pt.grad.numpy(), rtol=1e-3, atol=1e-5, err_msg=n
        )

    stats = pstats.Stats(profiler).stats  # {(file, line, name): (cc, ncalls, tt, ct, callers)}
    total = sum(v[1] for v in stats.values())
    ours_calls = {k: v[1] for k, v in stats.items() if "chainrule" in k[0].replace("\\", "/")}
    worst = max(ours_calls.items(), key=lambda kv: kv[1])
    assert total < 5000, f"{total} function calls for one LeNet-5 step"
    assert worst[1] < 100, f"{worst[0]} called {worst[1]} times"


def test_docstring_examples_run():
    import doctest

    import chainrule.nn.conv
    import chainrule.nn.functional as F
    import chainrule.nn.pooling
    import chainrule.ops.conv

    for module in (chainrule.ops.conv, chainrule.nn.conv, chainrule.nn.pooling):
        result = doctest.testmod(
            module,
            extraglobs={"chainrule": cr, "F": F, "nn": nn},
            optionflags=doctest.NORMALIZE_WHITESPACE,
        )
        assert result.failed == 0 and result.attempted > 5, module.__name__


def test_interpolate_keeps_a_dim_whose_size_does_not_change(torch):
    # scale 1.14 on 5 elements gives 5 outputs: PyTorch copies that dim (no resampling)
    x = np.arange(10.0).reshape(1, 2, 5)
    for mode in ("linear", "nearest"):
        ours = cr.nn.functional.interpolate(cr.tensor(x), scale_factor=1.14, mode=mode)
        theirs = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=1.14, mode=mode)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    src = cr.tensor(x)
    out = cr.nn.functional.interpolate(src, size=5, mode="linear")
    assert out is not src and not np.shares_memory(out.numpy(), src.numpy())


@pytest.mark.parametrize("shape", [(1, 2, 6), (1, 1, 6, 4), (1, 1, 3, 5), (1, 1, 2, 5)])
@pytest.mark.parametrize("scale", [1.14, 2.0, 2.13, 1.5, (1.5, 1.14)])
def test_interpolate_scale_factors_match_torch(torch, shape, scale):
    # PyTorch's 1-D and 2-D nearest kernels treat unchanged and doubled sizes differently
    # when a scale factor is given; linear copies an unchanged dim
    if isinstance(scale, tuple) and len(shape) == 3:
        scale = scale[0]
    x = np.arange(float(np.prod(shape))).reshape(shape)
    modes = ["nearest", "linear" if len(shape) == 3 else "bilinear"]
    for mode in modes:
        ours = cr.nn.functional.interpolate(cr.tensor(x), scale_factor=scale, mode=mode)
        theirs = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=scale, mode=mode)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)


# ---------------------------------------------------------------- 3-D layers, LP pooling, unpooling

CASES_3D = [
    ("Conv3d", (2, 4, 3), dict(padding=1), (2, 2, 4, 5, 4)),
    ("Conv3d", (2, 3, (2, 3, 1)), dict(stride=(1, 2, 1), dilation=(2, 1, 1)), (2, 5, 5, 3)),
    ("Conv3d", (4, 4, 2), dict(groups=2, bias=False, padding="same"), (1, 4, 3, 4, 3)),
    ("Conv3d", (2, 3, 3), dict(padding=(1, 2, 1), padding_mode="reflect"), (1, 2, 4, 4, 4)),
    ("Conv3d", (2, 3, 2), dict(padding=1, padding_mode="replicate"), (1, 2, 3, 3, 3)),
    ("Conv3d", (2, 3, 2), dict(padding=1, padding_mode="circular"), (1, 2, 3, 3, 3)),
    ("ConvTranspose3d", (2, 3, 2), dict(stride=2, padding=1, output_padding=1), (2, 2, 3, 2, 3)),
    ("ConvTranspose3d", (4, 2, (1, 2, 2)), dict(groups=2, dilation=2), (4, 2, 3, 2)),
    ("MaxPool3d", (2,), {}, (2, 3, 4, 5, 6)),
    ("MaxPool3d", ((3, 2, 2),), dict(stride=(2, 1, 2), padding=1, ceil_mode=True), (2, 5, 4, 5)),
    ("AvgPool3d", (2,), dict(stride=1), (2, 2, 3, 4, 5)),
    ("AvgPool3d", (3,), dict(stride=2, padding=1, count_include_pad=False), (2, 5, 5, 4)),
    ("AvgPool3d", (2,), dict(divisor_override=3, ceil_mode=True), (1, 2, 3, 5, 4)),
    ("AdaptiveAvgPool3d", ((2, None, 3),), {}, (2, 3, 5, 4, 7)),
    ("AdaptiveAvgPool3d", (1,), {}, (3, 4, 5, 2)),  # global average pooling, unbatched
    ("AdaptiveMaxPool3d", ((2, 3, 2),), {}, (2, 3, 5, 4, 7)),
    ("AdaptiveMaxPool3d", (2,), {}, (3, 4, 5, 3)),
    ("LPPool1d", (2, 3), dict(stride=2), (2, 3, 9)),
    ("LPPool1d", (2, 2), dict(ceil_mode=True), (3, 7)),
    ("LPPool2d", (2, (2, 3)), dict(stride=1), (2, 3, 5, 6)),
    ("LPPool2d", (float("inf"), 2), {}, (3, 4, 4)),
    ("LPPool3d", (2, 2), {}, (1, 2, 4, 4, 5)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", CASES_3D)
def test_3d_and_lp_layers_match_torch(torch, name, args, kwargs, shape):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    _compare(ours, theirs, shape, torch)


def test_conv3d_state_dict_init_and_errors(torch):
    theirs = torch.nn.Conv3d(3, 4, (2, 3, 2), stride=2, groups=1)
    ours = nn.Conv3d(3, 4, (2, 3, 2), stride=2)
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(state) == list(ours.state_dict()) == ["weight", "bias"]
    ours.load_state_dict(state)
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 6, 5)).astype(np.float32)
    np.testing.assert_allclose(
        ours(cr.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), **TOL
    )
    conv = nn.Conv3d(8, 4, 3)  # fan_in = 8 * 27
    bound = 1 / math.sqrt(8 * 27)
    w = conv.weight.detach().numpy()
    assert w.shape == (4, 8, 3, 3, 3) and w.dtype == np.float32
    assert 0.9 * bound < np.abs(w).max() <= bound
    assert np.abs(conv.bias.detach().numpy()).max() <= bound
    up = nn.ConvTranspose3d(4, 6, 2, groups=2)
    assert up.weight.shape == (4, 3, 2, 2, 2) and up.bias.shape == (6,)
    with pytest.raises(RuntimeError, match=r"Conv3d\(8, 4.*\(N, 8, D, H, W\).*\(1, 8, 5, 5\)"):
        conv(cr.ones(1, 8, 5, 5))
    import chainrule.nn.functional as F

    with pytest.raises(
        RuntimeError, match=r"Expected 4D .unbatched. or 5D .batched. input to conv3d"
    ):
        F.conv3d(cr.ones(8, 5, 5), conv.weight)
    with pytest.raises(RuntimeError, match=r"expected input\[1, 3, 4, 4, 4\] to have 8 channels"):
        F.conv3d(cr.ones(1, 3, 4, 4, 4), conv.weight)
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        F.conv3d(cr.ones(1, 8, 2, 4, 4), conv.weight)
    with pytest.raises(RuntimeError, match=r"Given input size: \(1x2x2x2\).*\(1x0x0x0\)"):
        F.max_pool3d(cr.ones(1, 2, 2, 2), 3)
    with pytest.raises(
        RuntimeError, match="Expected 4D .unbatched. or 5D .batched. input to avg_pool3d"
    ):
        F.avg_pool3d(cr.ones(2, 2, 2), 2)
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        nn.ConvTranspose3d(4, 4, 3, padding_mode="reflect")


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("batched", [True, False])
def test_max_pool_return_indices_round_trip_through_max_unpool(torch, n, batched):
    """pool -> unpool puts each window's maximum back in place (zeros elsewhere), with the same
    indices, outputs and gradients as torch; output_size picks the larger of two sizes."""
    # The first spatial size is odd: the default output size is one smaller there, and the
    # same flat indices address the full-size plane given by output_size.
    shape = (2, 3, 5, 6, 8)[: 2 + n] if batched else (3, 5, 6, 8)[: 1 + n]
    x = np.random.default_rng(n).standard_normal(shape).astype(np.float32)
    pool = getattr(nn, f"MaxPool{n}d")(2, return_indices=True)
    unpool = getattr(nn, f"MaxUnpool{n}d")(2)
    tpool = getattr(torch.nn, f"MaxPool{n}d")(2, return_indices=True)
    tunpool = getattr(torch.nn, f"MaxUnpool{n}d")(2)
    assert repr(unpool) == repr(tunpool)
    xo, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (yo, io), (yt, it) = pool(xo), tpool(xt)
    np.testing.assert_array_equal(io.numpy(), it.numpy())
    size = tuple(x.shape[-n:])
    for kw in ({}, {"output_size": size}):
        uo, ut = unpool(yo, io, **kw), tunpool(yt, it, **kw)
        assert tuple(uo.shape) == tuple(ut.shape)
        np.testing.assert_array_equal(uo.detach().numpy(), ut.detach().numpy())
    g = np.random.default_rng(0).standard_normal(tuple(ut.shape)).astype(np.float32)
    uo.backward(cr.tensor(g))
    ut.backward(torch.tensor(g))
    np.testing.assert_array_equal(xo.grad.numpy(), xt.grad.numpy())
    # Every kept value is one of x's maxima, in its place.
    kept = uo.detach().numpy() != 0
    np.testing.assert_array_equal(uo.detach().numpy()[kept], x[kept])


def test_max_unpool_errors_name_the_op_and_shapes(torch):
    import chainrule.nn.functional as F

    y, i = F.max_pool2d(cr.randn(1, 1, 4, 4), 2, return_indices=True)
    with pytest.raises(
        RuntimeError, match=r"max_unpool2d.*same as that of the input.*\[1, 1, 2, 2\]"
    ):
        F.max_unpool2d(y, i[..., :1], 2)
    with pytest.raises(
        RuntimeError, match="max_unpool2d: elements in indices should be type int64"
    ):
        F.max_unpool2d(y, i.float(), 2)
    with pytest.raises(
        RuntimeError, match=r"invalid max index: \d+ \(output volumes are of size 4x4"
    ):
        F.max_unpool2d(y, i + 100, 2)
    with pytest.raises(RuntimeError, match="should be a 3d or 4d Tensor, but got a tensor with 2"):
        F.max_unpool2d(y[0, 0], i[0, 0], 2)
    with pytest.raises(ValueError, match=r"invalid output_size.*dim 0 must be between 2 and 6"):
        F.max_unpool2d(y, i, 2, output_size=(9, 9))
    with pytest.raises(ValueError, match="invalid output_size"):
        torch.nn.functional.max_unpool2d(
            torch.tensor(y.numpy()), torch.tensor(i.numpy()), 2, output_size=(9, 9)
        )
    # output_size may also list N and C, as in torch.
    assert F.max_unpool2d(y, i, 2, output_size=(1, 1, 5, 5)).shape == (1, 1, 5, 5)


def test_lp_pool_zero_window_has_zero_gradient(torch):
    """A window whose sum of x^p is 0 gets gradient 0 (not the infinite slope of t^(1/p))."""
    import chainrule.nn.functional as F

    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 3, 3] = 0.5
    xo, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.lp_pool2d(xo, 2, 2).sum().backward()
    torch.nn.functional.lp_pool2d(xt, 2, 2).sum().backward()
    np.testing.assert_array_equal(xo.grad.numpy(), xt.grad.numpy())
    assert np.isfinite(xo.grad.numpy()).all()


def test_dropout3d_drops_whole_channels():
    cr.manual_seed(0)
    d = nn.Dropout3d(0.5)
    assert repr(d) == "Dropout3d(p=0.5, inplace=False)"
    y = d(cr.ones(8, 16, 2, 3, 2)).numpy()
    per_channel = y.reshape(8, 16, -1)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert (per_channel.min(-1) == per_channel.max(-1)).all()  # one draw per (sample, channel)
    assert 0.3 < (per_channel[..., 0] == 0).mean() < 0.7
    unbatched = d(cr.ones(16, 2, 3, 2)).numpy().reshape(16, -1)
    assert (unbatched.min(-1) == unbatched.max(-1)).all()
    x = cr.randn(2, 3, 2, 2, 2)
    assert d.eval()(x) is x


@pytest.mark.parametrize(
    "name,args",
    [
        ("ZeroPad3d", ((1, 2, 0, 1, 2, 0),)),
        ("ConstantPad3d", (1, 2.5)),
        ("ReflectionPad3d", ((1, 2, 1, 0, 0, 1),)),
        ("ReplicationPad3d", (2,)),
        ("CircularPad3d", ((1, 1, 2, 0, 1, 2),)),
    ],
)
@pytest.mark.parametrize("shape", [(2, 2, 3, 4, 3), (2, 3, 4, 3)])
def test_3d_padding_layers_match_torch(torch, name, args, shape):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    _compare(ours, theirs, shape, torch)
