"""Gradients of gradients (``create_graph=True``): Hessian-vector products of every op that
has a differentiable backward, against PyTorch and against finite differences of the first
derivative (float64); third derivatives; gradient penalties; the error for the others."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

RNG = np.random.default_rng(0)
X = RNG.uniform(0.3, 1.5, (3, 4)) * np.where(RNG.random((3, 4)) < 0.5, -1, 1)
Y = RNG.uniform(0.5, 1.5, (3, 4))
W = RNG.standard_normal((5, 4))
B = RNG.standard_normal(5)
TARGET = np.array([0, 3, 1])
IDX = np.array([2, 0, 2])

# name -> f(lib, functional, x, y): one output built from x (and y); both require grad
OPS = {
    "add_sub": lambda m, f, x, y: (x + y) * (x - y),
    "mul": lambda m, f, x, y: x * y * x,
    "div": lambda m, f, x, y: x / y + 1.0 / x,
    "neg": lambda m, f, x, y: -(x * x),
    "pow_scalar": lambda m, f, x, y: x.abs() ** 2.5,
    "pow_tensor": lambda m, f, x, y: y**x,
    "exp_log": lambda m, f, x, y: x.exp() + (y * 2.0).log() * x,
    "sqrt": lambda m, f, x, y: (y + x * x).sqrt(),
    "sin_cos": lambda m, f, x, y: x.sin() * y.cos(),
    "tanh": lambda m, f, x, y: (x * y).tanh(),
    "sigmoid": lambda m, f, x, y: (x * y).sigmoid(),
    "abs": lambda m, f, x, y: x.abs() * y,
    "relu": lambda m, f, x, y: f.relu(x) * y * x,
    "clamp": lambda m, f, x, y: x.clamp(-1.0, 1.0) * x,
    "sum_mean": lambda m, f, x, y: (x * x).sum(1) * y.mean(0)[:3],
    "sum_keepdim": lambda m, f, x, y: (x * x).sum(0, keepdim=True) * y,
    "reshape_permute": lambda m, f, x, y: (x * x).reshape(2, 6).permute(1, 0) * y.reshape(6, 2),
    "expand": lambda m, f, x, y: (x[:, :1] * x[:, :1]).expand(3, 4) * y,
    "getitem": lambda m, f, x, y: x[m.tensor(IDX)] * x[1:, ::2].sum() * y,
    "matmul": lambda m, f, x, y: (x @ y.transpose(0, 1)) * (x @ y.transpose(0, 1)),
    "matmul_vec": lambda m, f, x, y: (x @ y[0]) * (y[1] @ x.transpose(0, 1)),
    "linear": lambda m, f, x, y: f.linear(x * x, m.tensor(W), m.tensor(B)).tanh(),
    "softmax": lambda m, f, x, y: (x * y).softmax(1) * x,
    "log_softmax": lambda m, f, x, y: (x * y).log_softmax(0) * x,
    "softplus": lambda m, f, x, y: f.softplus(x * y, beta=2.0, threshold=1.0),
    "gelu": lambda m, f, x, y: f.gelu(x * y),
    "gelu_tanh": lambda m, f, x, y: f.gelu(x * y, approximate="tanh"),
    "cross_entropy": lambda m, f, x, y: f.cross_entropy(x * y, m.tensor(TARGET)),
    "cross_entropy_smooth_weight": lambda m, f, x, y: f.cross_entropy(
        x * y,
        m.tensor(TARGET),
        weight=m.tensor([1.0, 2.0, 0.5, 1.0], dtype=x.dtype),
        label_smoothing=0.1,
    ),
    "cross_entropy_none": lambda m, f, x, y: f.cross_entropy(
        x * y, m.tensor(TARGET), reduction="none"
    ),
    "cross_entropy_probs": lambda m, f, x, y: f.cross_entropy(x, y.softmax(1)),
    "max": lambda m, f, x, y: x.max() * x.amax(1) @ y[:, 0],
    "mse": lambda m, f, x, y: f.mse_loss(x.tanh(), y),
    "double": lambda m, f, x, y: (x.float() * y.float()).double() ** 2,
    "gather_take": lambda m, f, x, y: (
        (x * x).gather(1, m.tensor([[0, 2], [1, 1], [3, 0]]))
        * m.take_along_dim(y, m.tensor([[1], [0], [2]]), 1)
    ),
    "index_select": lambda m, f, x, y: (x * x).index_select(1, m.tensor([3, 0, 3])) * y[:, :3],
    "narrow_flip_roll": lambda m, f, x, y: (x * x).narrow(1, 1, 2).flip(0).roll(1, 1) * y[:, :2],
    "tril_triu": lambda m, f, x, y: (x * x).tril(1) * y.triu() + x.clone() * x,
    "cumsum": lambda m, f, x, y: (x * y).cumsum(1) * x,
    "cat_stack": lambda m, f, x, y: m.cat([x * x, y], 0).sum(0) * m.stack([x, y * x]).sum(0),
    "where": lambda m, f, x, y: m.where(x > 0, x * x, y * x),
    "masked_fill": lambda m, f, x, y: (x * x).masked_fill(x < 0, 0.0) * y,
    "maximum_minimum": lambda m, f, x, y: m.maximum(x * x, y) * m.minimum(x, y * 0.5),
    "leaky_hardtanh": lambda m, f, x, y: f.leaky_relu(x * y, 0.1) * f.hardtanh(x) * x,
    "elu_selu": lambda m, f, x, y: f.elu(x * y, 0.7) + f.selu(x * x - y),
    "logsigmoid": lambda m, f, x, y: f.logsigmoid(x * y),
    "outer": lambda m, f, x, y: m.outer(x[0] * x[1], y[2]).tanh(),
    "logsumexp": lambda m, f, x, y: (x * y).logsumexp(1) * x[:, 0],
    "layer_norm": lambda m, f, x, y: f.layer_norm(x, (4,), y[0], y[1]).tanh(),
    "batch_norm": lambda m, f, x, y: f.batch_norm(
        x.reshape(3, 2, 2), None, None, y[0, :2], y[1, :2], training=True
    ).sin(),
    "group_norm": lambda m, f, x, y: f.group_norm(x.reshape(1, 4, 3), 2, y[0], y[1]) ** 3,
    "rms_norm": lambda m, f, x, y: f.rms_norm(x, (4,), y[2]).tanh(),
    "attention_causal": lambda m, f, x, y: f.scaled_dot_product_attention(
        x.reshape(1, 3, 4), y.reshape(1, 3, 4), (x * y).reshape(1, 3, 4), is_causal=True
    ).tanh(),
    "attention_mask": lambda m, f, x, y: f.scaled_dot_product_attention(
        x.reshape(1, 3, 4),
        (x * y).reshape(1, 3, 4),
        y.reshape(1, 3, 4),
        attn_mask=m.tensor([[True, False, True], [False, False, False], [True, True, True]]),
    ).tanh(),
    "embedding": lambda m, f, x, y: (
        f.embedding(m.tensor([[0, 2], [1, 0]]), x * y, padding_idx=1) ** 2
    ),
    "bce": lambda m, f, x, y: f.binary_cross_entropy(x.sigmoid(), y.sigmoid()),
    "bce_with_logits": lambda m, f, x, y: f.binary_cross_entropy_with_logits(
        x, y.sigmoid(), pos_weight=m.tensor([1.0, 2.0, 0.5, 3.0], dtype=x.dtype), reduction="sum"
    ),
    "unary_zoo": lambda m, f, x, y: (
        (x * 0.3).expm1() * (y.log1p() + (x * 0.5).tan())
        + (x * y).sinh() * (x * 0.4).cosh()
        + (x * 0.3).asin() * (x * 0.3).acos()
        + (x * y).atan() * (x * y).asinh()
        + (y + 1.2).acosh() * (x * 0.3).atanh()
    ),
    "hypot_atan2": lambda m, f, x, y: m.hypot(x, y * x) + m.atan2(x, y + 0.5),
    "logaddexp_pair": lambda m, f, x, y: m.logaddexp(x, y * x) * m.logaddexp2(x * 2.0, y),
    "inverse": lambda m, f, x, y: m.inverse(x[:, :3] + m.eye(3, dtype=x.dtype) * 3.0) * y[:, 1:],
    "fold": lambda m, f, x, y: f.fold((x * y)[:2].reshape(1, 4, 2), (2, 3), 2) ** 2,
    "pad_constant": lambda m, f, x, y: f.pad(x * y, (1, 2, 0, 1), value=3.0) ** 2,
    "pad_reflect": lambda m, f, x, y: f.pad((x * y).unsqueeze(0), (2, 1), mode="reflect") ** 2,
    "max_dim": lambda m, f, x, y: (
        (x * y).max(1).values.unsqueeze(1) * x + (x * x).min(0, keepdim=True)[0]
    ),
    "hardswish": lambda m, f, x, y: f.hardswish(x * y * 4) * x,
    "norm": lambda m, f, x, y: (x * y).norm(dim=1) + x.norm(p=3, dim=0).sum() + x.norm(p=1),
}


def _hvp(m, f, name):
    x = m.tensor(X, requires_grad=True)
    y = m.tensor(Y, requires_grad=True)
    out = OPS[name](m, f, x, y)
    v = np.linspace(-1.0, 1.0, int(np.prod(tuple(out.shape)))).reshape(tuple(out.shape))
    first = (out * m.tensor(v)).sum()
    grad = cr.autograd.grad if m is cr else m.autograd.grad
    gx, gy = grad(first, (x, y), create_graph=True, allow_unused=True)
    second = (gx * gx).sum() + (gy * m.tensor(Y)).sum() if gy is not None else (gx * gx).sum()
    second.backward()
    return [np.zeros((3, 4)) if t is None else t.detach().numpy() for t in (gx, gy, x.grad, y.grad)]


@pytest.mark.parametrize("name", list(OPS))
def test_second_derivatives_match_torch(name, torch):
    ours = _hvp(cr, F, name)
    theirs = _hvp(torch, torch.nn.functional, name)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "name",
    ["tanh", "mul", "div", "softmax", "gelu", "getitem", "matmul", "gather_take", "cumsum"]
    + ["logsumexp", "norm", "elu_selu", "cat_stack", "cross_entropy_smooth_weight"]
    + ["layer_norm", "attention_causal", "bce_with_logits", "bce"],
)
def test_second_derivatives_match_finite_differences(name):
    """gradcheck of x -> d(f . v)/dx: the recorded backward's own derivative, numerically."""
    y = cr.tensor(Y)
    v = cr.tensor(np.linspace(-1.0, 1.0, 12).reshape(3, 4))

    def first_derivative(x):
        with cr.enable_grad():  # gradcheck evaluates the numerical side without recording
            if not x.requires_grad:
                x = x.detach().requires_grad_(True)
            return _first(x)

    def _first(x):
        out = OPS[name](cr, F, x, y)
        return cr.autograd.grad(
            (out * v.reshape(-1)[: out.numel()].reshape(out.shape)).sum(), x, create_graph=True
        )[0]

    assert cr.autograd.gradcheck(first_derivative, (cr.tensor(X, requires_grad=True),))


def test_third_derivative_and_backward_create_graph(torch):
    def run(m):
        x = m.tensor([0.3, -0.7, 1.1], requires_grad=True)
        (x.tanh() * x).sum().backward(create_graph=True)
        g1 = x.grad
        assert g1.requires_grad
        grad = cr.autograd.grad if m is cr else m.autograd.grad
        (g2,) = grad(g1.sum(), x, create_graph=True)
        (g3,) = grad((g2 * g2).sum(), x)
        return [t.detach().numpy() for t in (g1, g2, g3)]

    for a, b in zip(run(cr), run(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_gradient_penalty_on_an_mlp_matches_torch(torch):
    """WGAN-GP: || d critic(x) / dx ||^2 in the loss, trained through the parameters."""

    def run(m, nn):
        m.manual_seed(0)
        critic = nn.Sequential(
            nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.Softplus(), nn.Linear(8, 1)
        )
        if m is cr:
            ref = run.reference
            critic.load_state_dict({k: cr.tensor(v.numpy()) for k, v in ref.items()})
        else:
            run.reference = critic.state_dict()
        x = m.tensor(
            X[:, :4].astype(np.float32) if False else X.astype(np.float32), requires_grad=True
        )
        score = critic(x).sum()
        grad = cr.autograd.grad if m is cr else m.autograd.grad
        (gx,) = grad(score, x, create_graph=True)
        penalty = ((gx.norm(2, dim=1) - 1.0) ** 2).mean()
        penalty.backward()
        return [
            np.zeros(p.shape) if p.grad is None else p.grad.numpy() for p in critic.parameters()
        ]

    theirs = run(torch, torch.nn)
    ours = run(cr, cr.nn)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_ops_without_a_differentiable_backward_say_so():
    x = cr.randn(2, 4, requires_grad=True)
    loss = x.cumprod(1).pow(2).sum()
    with pytest.raises(RuntimeError, match="Cumprod.*has no differentiable backward yet"):
        cr.autograd.grad(loss, x, create_graph=True)


def test_convolution_pooling_and_unfold_second_derivatives_match_torch(torch):
    """A gradient penalty through a CNN: conv2d (groups, stride, dilation, asymmetric 'same'
    padding via conv1d), avg_pool2d, max pooling with overlapping windows, and unfold."""
    rng = np.random.default_rng(1)
    a, w, b = (
        rng.standard_normal((2, 4, 6, 5)),
        rng.standard_normal((6, 2, 3, 2)),
        rng.standard_normal(6),
    )

    def run(m):
        f = m.nn.functional
        x = m.tensor(a, requires_grad=True)
        weight, bias = m.tensor(w, requires_grad=True), m.tensor(b, requires_grad=True)
        y = f.conv2d(x, weight, bias, stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)
        out = f.avg_pool2d(y.tanh(), 2, ceil_mode=True).sum()
        out = out + f.conv1d(x[:, :, 0], weight[:, :, 0], padding="same", groups=2).pow(2).sum()
        out = out + f.unfold(x, 2, stride=2).sin().sum()
        out = out + (f.max_pool2d(x * x, 3, stride=2, padding=1) ** 3).sum()  # overlapping
        out = out + f.adaptive_max_pool2d(x.tanh(), (2, 3)).exp().sum()
        grad = cr.autograd.grad if m is cr else m.autograd.grad
        gx, gw = grad(out, (x, weight), create_graph=True)
        ((gx**2).sum() + (gw**3).sum()).backward()
        return [t.detach().numpy() for t in (gx, gw, x.grad, weight.grad, bias.grad)]

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note about 'same' padding with even kernels
        theirs = run(torch)
    for ours, ref in zip(run(cr), theirs):
        np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-9)


def test_smooth_losses_are_smooth_at_zero_logits(torch):
    """The second derivative at an exact 0 (where max(z, 0) and |z| have kinks that cancel
    in softplus): BCE-with-logits at logits 0 gives sigma'(0)/n = 1/(4n), as torch does."""
    for m in (cr, torch):
        x = m.zeros(3, dtype=m.float64, requires_grad=True)
        target = m.tensor([1.0, 0.0, 1.0], dtype=m.float64)
        loss = m.nn.functional.binary_cross_entropy_with_logits(x, target)
        grad = cr.autograd.grad if m is cr else m.autograd.grad
        (g,) = grad(loss, x, create_graph=True)
        (h,) = grad(g.sum(), x)
        np.testing.assert_allclose(h.detach().numpy(), [1 / 12] * 3, rtol=1e-12)


# Random chains of ops (one input exactly 0 in every fifth chain, where kinks live): the
# first and second derivatives against torch's.
CHAIN_OPS = [
    lambda m, f, x: x.tanh(),
    lambda m, f, x: x.sigmoid(),
    lambda m, f, x: (x * 0.3).exp(),
    lambda m, f, x: x.sin(),
    lambda m, f, x: f.softplus(x),
    lambda m, f, x: f.gelu(x),
    lambda m, f, x: f.elu(x),
    lambda m, f, x: f.selu(x),
    lambda m, f, x: f.logsigmoid(x),
    lambda m, f, x: x.softmax(-1),
    lambda m, f, x: x.log_softmax(-1),
    lambda m, f, x: x.cumsum(-1),
    lambda m, f, x: f.layer_norm(x, (x.shape[-1],)),
    lambda m, f, x: x.logsumexp(-1, keepdim=True) * x,
    lambda m, f, x: x.abs() * x,
    lambda m, f, x: f.relu(x) * x,
    lambda m, f, x: (x * x + 1).sqrt(),
    lambda m, f, x: x / (x * x + 1),
    lambda m, f, x: x @ x.transpose(0, 1) @ x * 0.3,
    lambda m, f, x: x / (x.norm(dim=-1, keepdim=True) + 1),
    lambda m, f, x: m.maximum(x, x.flip(-1) * 0.5),
    lambda m, f, x: m.where(x > 0, x * x, x),
    lambda m, f, x: x[[1, 0, 2]] * x,
]


@pytest.mark.parametrize("seed", range(60))
def test_random_chains_match_torch(seed, torch):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((3, 4))
    if seed % 5 == 0:
        a[0, 0] = 0.0
    chain = [CHAIN_OPS[i] for i in rng.integers(0, len(CHAIN_OPS), rng.integers(1, 5))]
    v = rng.standard_normal((3, 4))
    results = []
    for m in (cr, torch):
        x = m.tensor(a, requires_grad=True)
        y = x
        for op in chain:
            y = op(m, m.nn.functional, y)
        grad = cr.autograd.grad if m is cr else m.autograd.grad
        (g,) = grad((y * m.tensor(v)).sum(), x, create_graph=True)
        h = grad((g * m.tensor(v)).sum(), x)[0] if g.requires_grad else None
        results.append([g.detach().numpy(), np.zeros((3, 4)) if h is None else h.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize(
    "kind,kwargs,packed",
    [
        ("RNN", {"nonlinearity": "relu", "num_layers": 2}, False),
        ("LSTM", {"bidirectional": True}, False),
        ("LSTM", {"proj_size": 2}, True),
        ("GRU", {"num_layers": 2, "bidirectional": True}, True),
    ],
)
def test_recurrent_layers_second_derivatives_match_torch(kind, kwargs, packed, torch):
    """A gradient penalty through RNN/LSTM/GRU (stacked, bidirectional, projected, packed
    sequences of different lengths): the fused scans' references against torch."""
    sd = getattr(torch.nn, kind)(3, 4, batch_first=True, **kwargs).double().state_dict()
    xs = np.random.default_rng(1).standard_normal((3, 5, 3))

    def run(m):
        if m is cr:
            layer = getattr(cr.nn, kind)(3, 4, batch_first=True, **kwargs)
            layer.load_state_dict({k: cr.tensor(v.numpy()) for k, v in sd.items()})
            layer = layer.double()
        else:
            layer = getattr(m.nn, kind)(3, 4, batch_first=True, **kwargs).double()
            layer.load_state_dict(sd)
        x = m.tensor(xs, requires_grad=True)
        rnn_utils = cr.nn.utils.rnn if m is cr else m.nn.utils.rnn
        inp = rnn_utils.pack_padded_sequence(x, [5, 3, 2], batch_first=True) if packed else x
        out = layer(inp)[0]
        if packed:
            out = rnn_utils.pad_packed_sequence(out, batch_first=True)[0]
        params = list(layer.parameters())
        grad = cr.autograd.grad if m is cr else m.autograd.grad
        grads = grad((out.tanh() ** 2).sum(), [x] + params, create_graph=True)
        sum((g * g).sum() for g in grads).backward()
        return [x.grad.detach().numpy()] + [p.grad.detach().numpy() for p in params]

    for ours, theirs in zip(run(cr), run(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-10)


def test_hardsigmoid_second_derivatives():
    """PyTorch 2.13 has no double backward for hardsigmoid: the recorded first derivative of
    x hardsigmoid(x) is checked against its formula and by gradcheck."""
    x = cr.tensor([-4.0, -1.0, 0.5, 2.0, 5.0], dtype=cr.float64, requires_grad=True)
    (g,) = cr.autograd.grad((F.hardsigmoid(x) * x).sum(), x, create_graph=True)
    # d(x hs(x))/dx = hs(x) + x hs'(x), hs = clamp(x / 6 + 1/2, 0, 1)
    xs = np.array([-4.0, -1.0, 0.5, 2.0, 5.0])
    expected = np.clip(xs / 6 + 0.5, 0, 1) + np.where(np.abs(xs) < 3, xs / 6, 0)
    np.testing.assert_allclose(g.detach().numpy(), expected, rtol=1e-12)

    def first_derivative(v):
        with cr.enable_grad():  # gradcheck evaluates the numerical side without recording
            v = v if v.requires_grad else v.detach().requires_grad_(True)
            return cr.autograd.grad((F.hardsigmoid(v) * v).sum(), v, create_graph=True)[0]

    assert cr.autograd.gradcheck(first_derivative, (x,))
