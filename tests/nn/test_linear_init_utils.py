"""Linear and Bilinear vs PyTorch, initialisation, gradient clipping, the XOR lesson."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import init


def _copy_params(ours, theirs, torch):
    with torch.no_grad():
        for (n1, p1), (n2, p2) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert n1 == n2
            p2.copy_(torch.from_numpy(p1.detach().numpy().copy()))


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,)])
def test_linear_matches_torch(torch, bias, shape):
    ours, theirs = nn.Linear(3, 4, bias=bias), torch.nn.Linear(3, 4, bias=bias)
    _copy_params(ours, theirs, torch)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    xo, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = np.random.default_rng(1).standard_normal(yt.shape).astype(np.float32)
    yo.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    for (n, po), pt in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(
            po.grad.numpy(), pt.grad.numpy(), rtol=1e-5, atol=1e-6, err_msg=n
        )


def test_bilinear_matches_torch(torch):
    ours, theirs = nn.Bilinear(3, 2, 4), torch.nn.Bilinear(3, 2, 4)
    _copy_params(ours, theirs, torch)
    rng = np.random.default_rng(0)
    a, b = (
        rng.standard_normal((5, 3)).astype(np.float32),
        rng.standard_normal((5, 2)).astype(np.float32),
    )
    ao, bo = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    at, bt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    yo, yt = ours(ao, bo), theirs(at, bt)
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    yo.sum().backward()
    yt.sum().backward()
    for x, y in ((ao, at), (bo, bt), (ours.weight, theirs.weight), (ours.bias, theirs.bias)):
        np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_linear_wrong_feature_size_names_layer_and_shapes():
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=3.*\(\*, 3\).*\(2, 5\)"):
        nn.Linear(3, 4)(cr.ones(2, 5))


def test_default_init_matches_pytorch_bounds():
    lin = nn.Linear(100, 50)
    bound = 1 / math.sqrt(100)
    w = lin.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound  # uniform's std
    assert np.abs(lin.bias.detach().numpy()).max() <= bound


N = 1000


@pytest.mark.parametrize(
    "fn,expected_var",
    [
        (init.xavier_uniform_, 2 / (N + N)),
        (init.xavier_normal_, 2 / (N + N)),
        (lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), 2 / N),
        (lambda t: init.kaiming_normal_(t, nonlinearity="relu"), 2 / N),
        (lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), 2 / N),
        (init.lecun_uniform_, 1 / N),
        (init.lecun_normal_, 1 / N),
        (lambda t: init.normal_(t, 0, 0.1), 0.01),
        (lambda t: init.uniform_(t, -1, 1), 1 / 3),
        (lambda t: init.orthogonal_(t), 1 / N),
    ],
)
def test_init_variance_matches_formula(fn, expected_var):
    w = cr.empty(N, N)
    fn(w)
    assert abs(w.numpy().var() / expected_var - 1) < 0.02


def test_other_inits():
    w = cr.empty(3, 3)
    np.testing.assert_array_equal(init.eye_(w).numpy(), np.eye(3))
    assert init.constant_(w, 2.5).numpy().min() == 2.5
    assert init.zeros_(w).numpy().max() == 0 and init.ones_(w).numpy().min() == 1
    t = init.trunc_normal_(cr.empty(10000), std=1.0, a=-0.5, b=0.5).numpy()
    assert t.min() >= -0.5 and t.max() <= 0.5
    q = init.orthogonal_(cr.empty(4, 6)).numpy()
    np.testing.assert_allclose(q @ q.T, np.eye(4), atol=1e-5)
    d = init.dirac_(cr.empty(2, 2, 3)).numpy()
    assert d[0, 0, 1] == 1 and d[1, 1, 1] == 1 and d.sum() == 2
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(cr.empty(3))


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_matches_torch(torch, norm_type):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s).astype(np.float32) * 10 for s in [(3, 4), (5,)]]
    ours = [cr.zeros(g.shape, requires_grad=True) for g in grads]
    theirs = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = cr.tensor(g), torch.tensor(g)
    n1 = nn.utils.clip_grad_norm_(ours, 1.0, norm_type)
    n2 = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type)
    assert n1.item() == pytest.approx(n2.item(), rel=1e-5)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match="non-finite"):
        ours[0].grad = cr.tensor([[float("nan")]])
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_and_vector_conversion():
    p = cr.zeros(3, requires_grad=True)
    p.grad = cr.tensor([-5.0, 0.5, 5.0])
    nn.utils.clip_grad_value_([p], 1.0)
    assert p.grad.tolist() == [-1.0, 0.5, 1.0]
    a, b = nn.Parameter(cr.ones(2, 2)), nn.Parameter(cr.zeros(3))
    v = nn.utils.parameters_to_vector([a, b])
    assert v.shape == (7,)
    nn.utils.vector_to_parameters(cr.arange(7.0), [a, b])
    assert b.tolist() == [4.0, 5.0, 6.0]


def _train_xor(hidden_activation, steps=2000, seed=0):
    cr.manual_seed(seed)
    X = cr.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = cr.tensor([[0.0], [1.0], [1.0], [0.0]])
    layers = (
        [nn.Linear(2, 4)] + ([hidden_activation] if hidden_activation else []) + [nn.Linear(4, 1)]
    )
    model = nn.Sequential(*layers)
    opt = cr.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(model(X), y)
        loss.backward()
        opt.step()
    with cr.no_grad():
        pred = (model(X) > 0).float()
    return (pred == y).float().mean().item()


def test_xor_needs_a_nonlinearity():
    pytest.importorskip("chainrule.optim")
    assert _train_xor(nn.Tanh()) == 1.0
    assert _train_xor(nn.Sigmoid(), steps=4000) == 1.0
    # Without a nonlinearity, two Linear layers are one linear map: XOR stays out of reach.
    for seed in range(3):
        assert _train_xor(None, seed=seed) < 1.0
