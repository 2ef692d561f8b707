"""Padding, pixel-shuffle, distance and Softmax2d modules, instance normalisation and the new
functional helpers (one_hot, normalize, pairwise_distance) against PyTorch: values, gradients,
running statistics and reprs."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

MODULES = [
    ("InstanceNorm1d", (4,), {}),
    ("InstanceNorm2d", (4,), {}),
    ("InstanceNorm2d", (4,), {"affine": True, "track_running_stats": True}),
    ("InstanceNorm3d", (4,), {"affine": True}),
    ("PixelShuffle", (2,), {}),
    ("PixelUnshuffle", (2,), {}),
    ("ZeroPad2d", ((1, 2, 0, 1),), {}),
    ("ConstantPad1d", (2, 3.5), {}),
    ("ConstantPad2d", (2, 3.5), {}),
    ("ReflectionPad1d", (2,), {}),
    ("ReflectionPad2d", (2,), {}),
    ("ReplicationPad2d", ((1, 0, 2, 1),), {}),
    ("CircularPad2d", (1,), {}),
    ("Softmax2d", (), {}),
]
SHAPES = {"1d": (2, 4, 6), "3d": (2, 4, 3, 4, 4), "": (2, 4, 6, 6)}


@pytest.mark.parametrize("name, args, kw", MODULES)
def test_module_matches_torch(name, args, kw, torch):
    shape = SHAPES["1d" if "1d" in name else "3d" if "3d" in name else ""]
    x = np.random.default_rng(0).standard_normal(shape)
    theirs = getattr(torch.nn, name)(*args, **kw).double()
    ours = getattr(cr.nn, name)(*args, **kw).double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.from_numpy(np.random.default_rng(1).uniform(0.5, 1.5, tuple(p.shape))))
    ours.load_state_dict({k: v.numpy().copy() for k, v in theirs.state_dict().items()})
    assert repr(ours) == repr(theirs)
    for training in (True, False):
        ours.train(training)
        theirs.train(training)
        xo, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), atol=1e-10)
        cot = np.cos(np.arange(yt.numel())).reshape(tuple(yt.shape))
        yo.backward(cr.tensor(cot))
        yt.backward(torch.tensor(cot))
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), atol=1e-10)
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), atol=1e-12)


def test_functional_helpers_match_torch(torch):
    tf = torch.nn.functional
    labels = np.array([[0, 3], [4, 1]])
    np.testing.assert_array_equal(
        F.one_hot(cr.tensor(labels), 6).numpy(), tf.one_hot(torch.tensor(labels), 6).numpy()
    )
    assert tuple(F.one_hot(cr.tensor([0, 2])).shape) == (2, 3)
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(cr.tensor([3]), 2)
    v = np.random.default_rng(2).standard_normal((4, 5))
    for ours, theirs in (
        (lambda t: F.normalize(t, dim=1), lambda t: tf.normalize(t, dim=1)),
        (lambda t: F.normalize(t, p=1.0, dim=0), lambda t: tf.normalize(t, p=1.0, dim=0)),
        (lambda t: F.pairwise_distance(t, t.flip(0)), lambda t: tf.pairwise_distance(t, t.flip(0))),
        (
            lambda t: cr.nn.PairwiseDistance(p=3.0, keepdim=True)(t, t * 2),
            lambda t: torch.nn.PairwiseDistance(p=3.0, keepdim=True)(t, t * 2),
        ),
        (
            lambda t: cr.nn.CosineSimilarity(dim=0)(t, t.flip(1)),
            lambda t: torch.nn.CosineSimilarity(dim=0)(t, t.flip(1)),
        ),
    ):
        xo, xt = cr.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), atol=1e-12)
        yo.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), atol=1e-12)
