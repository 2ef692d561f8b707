"""EmbeddingBag, bilinear, gumbel_softmax, in-place activations, rrelu, pdist, local response
norm, multilabel margin and triplet-with-distance losses: layers against PyTorch with copied
weights, random ops by their statistics, and the error messages for bad input."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

RTOL, ATOL = 1e-5, 1e-6


def _close(ours, theirs, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol, atol)


# ---------------------------------------------------------------- EmbeddingBag


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_module_matches_torch(mode, torch):
    theirs = torch.nn.EmbeddingBag(8, 3, mode=mode, padding_idx=1)
    ours = nn.EmbeddingBag(8, 3, mode=mode, padding_idx=1)
    ours.load_state_dict({"weight": theirs.weight.detach().numpy().copy()})
    assert repr(ours) == repr(theirs)
    idx = [2, 1, 5, 5, 7, 1, 1, 0, 3]
    offsets = [0, 3, 3, 5, 7]  # an empty bag and a bag of padding only
    out = ours(cr.tensor(idx), cr.tensor(offsets))
    ref = theirs(torch.tensor(idx), torch.tensor(offsets))
    _close(out, ref)
    assert not out.detach().numpy()[1].any() and not out.detach().numpy()[3].any()
    g = np.random.default_rng(0).standard_normal(ref.shape).astype(np.float32)
    out.backward(cr.tensor(g))
    ref.backward(torch.tensor(g))
    _close(ours.weight.grad, theirs.weight.grad)
    assert not ours.weight.grad.numpy()[1].any()  # the padding row gets no gradient


def test_embedding_bag_2d_input_equals_embedding_reduced(torch):
    w = cr.randn(6, 4, requires_grad=True)
    ids = cr.tensor([[0, 1, 1], [5, 2, 3]])
    for mode, reduce in [("sum", "sum"), ("mean", "mean"), ("max", "amax")]:
        bag = F.embedding_bag(ids, w, mode=mode)
        ref = getattr(F.embedding(ids, w), reduce)(1)
        np.testing.assert_allclose(bag.detach().numpy(), ref.detach().numpy(), rtol=1e-6)
    # float32 stays float32, float64 stays float64
    assert F.embedding_bag(ids, w.double()).dtype == cr.float64
    assert F.embedding_bag(ids, w).dtype == cr.float32


def test_embedding_bag_per_sample_weights_and_from_pretrained(torch):
    table = np.random.default_rng(1).standard_normal((5, 2)).astype(np.float32)
    ours = nn.EmbeddingBag.from_pretrained(cr.tensor(table), mode="sum")
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(table), mode="sum")
    assert not ours.weight.requires_grad and repr(ours) == repr(theirs)
    w_ours = cr.tensor([0.5, 2.0, 1.0, -1.0], requires_grad=True)
    w_theirs = torch.tensor([0.5, 2.0, 1.0, -1.0], requires_grad=True)
    out = ours(cr.tensor([[1, 4], [0, 4]]), per_sample_weights=w_ours.reshape(2, 2))
    ref = theirs(torch.tensor([[1, 4], [0, 4]]), per_sample_weights=w_theirs.reshape(2, 2))
    _close(out, ref)
    out.sum().backward()
    ref.sum().backward()
    _close(w_ours.grad, w_theirs.grad)
    trainable = nn.EmbeddingBag.from_pretrained(cr.tensor(table), freeze=False)
    assert trainable.weight.requires_grad


def test_embedding_bag_max_norm_renormalises_rows_in_place(torch):
    table = np.random.default_rng(2).standard_normal((5, 3)).astype(np.float32) * 3
    w_ours, w_theirs = cr.tensor(table.copy()), torch.tensor(table.copy())
    idx, offs = [0, 2, 2, 4], [0, 2]
    out = F.embedding_bag(cr.tensor(idx), w_ours, cr.tensor(offs), max_norm=1.0, mode="sum")
    ref = torch.nn.functional.embedding_bag(
        torch.tensor(idx), w_theirs, torch.tensor(offs), max_norm=1.0, mode="sum"
    )
    _close(out, ref)
    _close(w_ours, w_theirs)


def test_embedding_bag_errors():
    w = cr.randn(5, 3)
    ids = cr.tensor([0, 1, 2, 3])
    cases = [
        (dict(offsets=cr.tensor([1, 2])), RuntimeError, r"offsets\[0\] has to be 0"),
        (dict(offsets=cr.tensor([0, 3, 2])), RuntimeError, "non-decreasing"),
        (dict(offsets=cr.tensor([0, 9])), RuntimeError, "greater than the input's length 4"),
        (dict(offsets=cr.tensor([[0, 2]])), ValueError, r"1-D tensor of integers.*\(1, 2\)"),
        (dict(), ValueError, "needs offsets"),
        (dict(offsets=cr.tensor([0]), mode="avg"), ValueError, "'sum', 'mean' or 'max'"),
        (dict(offsets=cr.tensor([0]), mode="max", scale_grad_by_freq=True), ValueError, "max"),
        (dict(offsets=cr.tensor([0]), sparse=True), NotImplementedError, "sparse"),
        (
            dict(offsets=cr.tensor([0]), per_sample_weights=cr.ones(4)),
            NotImplementedError,
            "only supported for mode='sum'",
        ),
        (
            dict(offsets=cr.tensor([0]), mode="sum", per_sample_weights=cr.ones(3)),
            ValueError,
            r"\(3,\) must have the input's shape \(4,\)",
        ),
        (
            dict(offsets=cr.tensor([0]), mode="sum", per_sample_weights=cr.ones(4).double()),
            RuntimeError,
            "float64.*float32",
        ),
        (dict(offsets=cr.tensor([0]), padding_idx=5), AssertionError, "embedding_bag"),
    ]
    for kwargs, err, match in cases:
        with pytest.raises(err, match=match):
            F.embedding_bag(ids, w, **kwargs)
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(ids.reshape(2, 2), w, cr.tensor([0]))
    with pytest.raises(ValueError, match=r"1-D or 2-D.*\(2, 1, 2\)"):
        F.embedding_bag(ids.reshape(2, 1, 2), w)
    with pytest.raises(IndexError, match="embedding_bag: index 7 is out of range"):
        F.embedding_bag(cr.tensor([0, 7]), w, cr.tensor([0]))
    with pytest.raises(RuntimeError, match="embedding_bag: expected integer indices"):
        F.embedding_bag(cr.tensor([0.0]), w, cr.tensor([0]))
    with pytest.raises(NotImplementedError, match="sparse"):
        nn.EmbeddingBag(4, 2, sparse=True)


# ---------------------------------------------------------------- bilinear


def test_bilinear_layer_uses_functional_and_matches_torch(torch):
    theirs = torch.nn.Bilinear(3, 4, 2)
    ours = nn.Bilinear(3, 4, 2)
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    a, b = (
        np.random.default_rng(3).standard_normal((2, 5, 3)).astype(np.float32),
        np.ones((2, 5, 4), np.float32),
    )
    _close(ours(cr.tensor(a), cr.tensor(b)), theirs(torch.tensor(a), torch.tensor(b)))


def test_bilinear_errors():
    w = cr.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match=r"bilinear: expected input1 .*\(2, 3\) and \(1, 4\)"):
        F.bilinear(cr.randn(2, 3), cr.randn(1, 4), w)
    with pytest.raises(RuntimeError, match=r"bilinear: input sizes \(3, 5\)"):
        F.bilinear(cr.randn(2, 3), cr.randn(2, 5), w)
    with pytest.raises(RuntimeError, match=r"bilinear: bias of shape \(3,\)"):
        F.bilinear(cr.randn(2, 3), cr.randn(2, 4), w, cr.randn(3))
    with pytest.raises(RuntimeError, match="bilinear: weight must be"):
        F.bilinear(cr.randn(2, 3), cr.randn(2, 4), cr.randn(3, 4))


# ---------------------------------------------------------------- gumbel_softmax


def test_gumbel_softmax_samples_the_categorical_distribution():
    cr.manual_seed(0)
    logits = cr.tensor([1.0, 0.0, -1.0, 2.0])
    n = 20000
    hard = F.gumbel_softmax(logits.expand(n, 4), tau=0.5, hard=True)
    assert set(np.unique(hard.numpy())) <= {0.0, 1.0}
    np.testing.assert_allclose(hard.numpy().sum(1), 1.0)
    freq = hard.numpy().mean(0)
    probs = np.exp([1.0, 0.0, -1.0, 2.0]) / np.exp([1.0, 0.0, -1.0, 2.0]).sum()
    # argmax of logits + Gumbel noise is exactly Categorical(softmax(logits)), whatever tau
    np.testing.assert_allclose(freq, probs, atol=4 * np.sqrt(0.25 / n))
    soft = F.gumbel_softmax(logits.expand(n, 4), tau=0.5, dim=1)
    np.testing.assert_allclose(soft.numpy().sum(1), 1.0, rtol=1e-5)
    assert soft.dtype == cr.float32
    # the soft sample's argmax has the same distribution
    counts = np.bincount(soft.numpy().argmax(1), minlength=4) / n
    np.testing.assert_allclose(counts, probs, atol=4 * np.sqrt(0.25 / n))


def test_gumbel_softmax_hard_is_straight_through():
    g = cr.tensor(np.random.default_rng(4).standard_normal((3, 5)).astype(np.float32))
    grads = []
    for hard in (True, False):
        x = cr.randn(3, 5, generator=cr.Generator().manual_seed(1)).requires_grad_(True)
        cr.manual_seed(9)
        y = F.gumbel_softmax(x, tau=0.8, hard=hard, dim=-1)
        y.backward(g)
        grads.append(x.grad.numpy())
        if hard:
            assert ((y.detach().numpy() == 1).sum(1) == 1).all()
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


# ---------------------------------------------------------------- in-place activations, rrelu


@pytest.mark.parametrize(
    "name,args",
    [
        ("relu_", ()),
        ("elu_", (0.5,)),
        ("leaky_relu_", (0.2,)),
        ("hardtanh_", (-0.5, 0.5)),
        ("selu_", ()),
        ("celu_", (1.5,)),
        ("threshold_", (0.1, -3.0)),
        ("rrelu_", (0.1, 0.3)),
    ],
)
def test_inplace_activations_write_into_input(name, args, torch):
    data = np.array([-2.0, -0.3, 0.0, 0.4, 2.0], np.float32)
    x = cr.tensor(data.copy(), requires_grad=True)
    xt = torch.tensor(data.copy(), requires_grad=True)
    y, yt = x * 1.0, xt * 1.0
    before = y._version[0]
    out = getattr(F, name)(y, *args)
    ref = getattr(torch.nn.functional, name)(yt, *args)
    assert out is y and y._version[0] == before + 1
    _close(y, yt)
    g = np.arange(1, 6, dtype=np.float32)
    out.backward(cr.tensor(g))
    ref.backward(torch.tensor(g))
    _close(x.grad, xt.grad)
    with pytest.raises(RuntimeError, match=f"{name}: a leaf Variable"):
        getattr(F, name)(cr.ones(2, requires_grad=True), *args)


def test_inplace_activation_invalidates_saved_values():
    x = cr.tensor([-1.0, 2.0], requires_grad=True)
    y = x * 1.0
    z = y * y  # saves y
    F.relu_(y)
    with pytest.raises(RuntimeError):
        z.sum().backward()


def test_rrelu_training_samples_slopes_and_backpropagates_them():
    cr.manual_seed(0)
    lower, upper = 0.1, 0.3
    x = cr.tensor(np.linspace(-3, 3, 20001, dtype=np.float32), requires_grad=True)
    y = F.rrelu(x, lower, upper, training=True)
    xv, yv = x.detach().numpy(), y.detach().numpy()
    neg = xv < 0
    slopes = yv[neg] / xv[neg]
    assert slopes.min() >= lower and slopes.max() <= upper
    assert abs(slopes.mean() - (lower + upper) / 2) < 0.005
    assert abs(slopes.std() - (upper - lower) / np.sqrt(12)) < 0.005
    np.testing.assert_array_equal(yv[xv > 0], xv[xv > 0])
    y.sum().backward()
    grad = x.grad.numpy()
    np.testing.assert_allclose(grad[neg], slopes, rtol=1e-5)
    np.testing.assert_array_equal(grad[xv > 0], 1.0)


def test_rrelu_module_eval_uses_mean_slope(torch):
    ours, theirs = nn.RReLU(0.1, 0.3), torch.nn.RReLU(0.1, 0.3)
    assert repr(ours) == repr(theirs)
    assert repr(nn.RReLU(inplace=True)) == repr(torch.nn.RReLU(inplace=True))
    ours.eval()
    theirs.eval()
    data = np.array([-2.0, -0.5, 0.0, 1.0], np.float32)
    _close(ours(cr.tensor(data)), theirs(torch.tensor(data)))
    ours.train()
    cr.manual_seed(0)
    out = ours(cr.tensor(data)).numpy()
    assert not np.allclose(out[:2], data[:2] * 0.2)  # sampled, not the mean slope
    with pytest.raises(RuntimeError, match="rrelu: lower bound .* lower=0.5 and upper=0.1"):
        F.rrelu(cr.ones(2), 0.5, 0.1)


# ---------------------------------------------------------------- pdist


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.0, float("inf")])
def test_pdist_gradient_where_rows_coincide(p, torch):
    data = np.array([[0.0, 1.0], [0.0, 1.0], [2.0, 3.5], [-1.0, 0.25]], np.float32)
    x, xt = cr.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    out, ref = F.pdist(x, p), torch.nn.functional.pdist(xt, p)
    _close(out, ref)
    g = np.arange(1, 7, dtype=np.float32)
    ref.backward(torch.tensor(g))
    if p == 0:  # a count: torch's gradient is 0, chainrule records no graph
        assert not out.requires_grad and not xt.grad.any()
        return
    out.backward(cr.tensor(g))
    _close(x.grad, xt.grad)
    assert np.isfinite(x.grad.numpy()).all()


def test_pdist_errors():
    with pytest.raises(RuntimeError, match=r"pdist only supports 2D tensors .*\(2, 3, 4\)"):
        F.pdist(cr.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match="non-negative p values, got -1"):
        F.pdist(cr.ones(3, 2), -1)
    with pytest.raises(RuntimeError, match="pdist: expected a floating point input"):
        F.pdist(cr.tensor([[1, 2], [3, 4]]))
    assert F.pdist(cr.ones(1, 3)).shape == (0,)


# ---------------------------------------------------------------- LocalResponseNorm


def test_local_response_norm_module(torch):
    ours, theirs = (
        nn.LocalResponseNorm(3, alpha=0.3, k=2.0),
        torch.nn.LocalResponseNorm(3, 0.3, k=2.0),
    )
    assert repr(ours) == repr(theirs)
    data = np.random.default_rng(5).standard_normal((2, 5, 3, 2)).astype(np.float32)
    x, xt = cr.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    out, ref = ours(x), theirs(xt)
    _close(out, ref)
    out.sum().backward()
    ref.sum().backward()
    _close(x.grad, xt.grad)
    with pytest.raises(ValueError, match=r"local_response_norm: expected a 3D .* \(4, 5\)"):
        ours(cr.ones(4, 5))


# ---------------------------------------------------------------- losses


def test_multilabel_margin_loss_module_and_errors(torch):
    x = np.array([[0.1, 0.2, 0.4, 0.8], [0.3, -0.1, 0.5, 0.2]], np.float32)
    y = np.array([[3, 3, -1, 1], [1, 2, 3, 0]])
    ours, theirs = (
        nn.MultiLabelMarginLoss(reduction="none"),
        torch.nn.MultiLabelMarginLoss(reduction="none"),
    )
    _close(ours(cr.tensor(x), cr.tensor(y)), theirs(torch.tensor(x), torch.tensor(y)))
    assert repr(ours) == "MultiLabelMarginLoss()"
    with pytest.raises(RuntimeError, match=r"target values must be in \[-1, 3\].*got 9"):
        F.multilabel_margin_loss(cr.tensor(x), cr.tensor([[9, -1, 0, 0], [0, 0, 0, 0]]))
    with pytest.raises(RuntimeError, match=r"input \(2, 4\) and target \(2, 2\)"):
        F.multilabel_margin_loss(cr.tensor(x), cr.tensor([[0, 1], [1, 0]]))
    with pytest.raises(RuntimeError, match="int64"):
        F.multilabel_margin_loss(cr.tensor(x), cr.tensor(y.astype(np.float32)))


def test_triplet_margin_with_distance_loss_module(torch):
    rng = np.random.default_rng(6)
    a, p, n = (rng.standard_normal((5, 4)).astype(np.float32) for _ in range(3))
    ours, theirs = nn.TripletMarginWithDistanceLoss(), torch.nn.TripletMarginWithDistanceLoss()
    assert isinstance(ours.distance_function, nn.PairwiseDistance)
    _close(ours(*map(cr.tensor, (a, p, n))), theirs(*map(torch.tensor, (a, p, n))))
    ours = nn.TripletMarginWithDistanceLoss(
        distance_function=lambda u, v: (u - v).abs().sum(-1), margin=0.5, swap=True
    )
    theirs = torch.nn.TripletMarginWithDistanceLoss(
        distance_function=lambda u, v: (u - v).abs().sum(-1), margin=0.5, swap=True
    )
    _close(ours(*map(cr.tensor, (a, p, n))), theirs(*map(torch.tensor, (a, p, n))))
    with pytest.raises(ValueError, match="margin must be greater than 0, got 0"):
        nn.TripletMarginWithDistanceLoss(margin=0)
    with pytest.raises(RuntimeError, match="same number of dims, got 2D, 2D and 1D"):
        F.triplet_margin_with_distance_loss(cr.ones(2, 3), cr.ones(2, 3), cr.ones(3))
