"""MixtureOfExperts: soft and top-k routing against a dense PyTorch reference, the sparse
dispatch (experts only see their rows), the load-balancing loss, and a training run on data
that one linear classifier cannot fit but two gated linear experts can."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

RTOL, ATOL = 1e-5, 1e-6


def _np(t):
    return t.detach().numpy()


def _make(torch, num_experts=4, d_in=5, d_out=3, top_k=None, seed=0):
    """Our MoE and the same weights as torch Linear layers."""
    cr.manual_seed(seed)
    moe = nn.MixtureOfExperts(
        [nn.Linear(d_in, d_out) for _ in range(num_experts)],
        nn.Linear(d_in, num_experts),
        top_k=top_k,
    )
    experts = []
    for e in moe.experts:
        t = torch.nn.Linear(d_in, d_out)
        t.load_state_dict({k: torch.tensor(_np(v)) for k, v in e.state_dict().items()})
        experts.append(t)
    gate = torch.nn.Linear(d_in, num_experts)
    gate.load_state_dict({k: torch.tensor(_np(v)) for k, v in moe.gate.state_dict().items()})
    return moe, experts, gate


def _torch_reference(x, experts, gate, top_k, torch):
    """Dense reference: every expert on every row, weights zero outside the top k."""
    logits = gate(x)
    probs = torch.softmax(logits, -1)
    outs = torch.stack([e(x) for e in experts], 1)  # (N, E, d_out)
    if top_k is None:
        w = probs
    else:
        _, idx = torch.topk(logits, top_k, dim=-1)
        chosen = torch.gather(logits, 1, idx).softmax(-1)
        w = torch.zeros_like(probs).scatter(1, idx, chosen)
    out = (w.unsqueeze(-1) * outs).sum(1)
    n, e = probs.shape
    f = torch.bincount(probs.argmax(1), minlength=e).float() / n
    aux = e * (f * probs.mean(0)).sum()
    return out, aux


@pytest.mark.parametrize("top_k", [None, 1, 2, 4])
def test_moe_matches_dense_torch_reference(top_k, torch):
    moe, experts, gate = _make(torch, top_k=top_k)
    x = np.random.default_rng(1).standard_normal((16, 5)).astype(np.float32)
    xo, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, ao = moe(xo)
    yt, at = _torch_reference(xt, experts, gate, top_k, torch)
    np.testing.assert_allclose(_np(yo), _np(yt), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(_np(ao), _np(at), rtol=RTOL, atol=ATOL)
    g = np.random.default_rng(2).standard_normal(yt.shape).astype(np.float32)
    ((yo * cr.tensor(g)).sum() + ao * 0.5).backward()
    ((yt * torch.tensor(g)).sum() + at * 0.5).backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    theirs = [gate] + experts
    ours = [moe.gate] + list(moe.experts)
    for a, b in zip(ours, theirs):
        for (name, p), q in zip(a.named_parameters(), b.parameters()):
            if q.grad is None or not q.grad.any():  # an expert no row was routed to
                assert p.grad is None or not np.any(p.grad.numpy()), name
            else:
                np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_top_k_experts_compute_only_their_rows():
    cr.manual_seed(0)
    experts = [nn.Linear(3, 2) for _ in range(4)]
    gate = nn.Linear(3, 4)
    moe = nn.MixtureOfExperts(experts, gate, top_k=2)
    seen = {i: [] for i in range(4)}
    for i, e in enumerate(experts):
        e.register_forward_hook(lambda m, args, out, i=i: seen[i].append(args[0].shape[0]))
    x = cr.randn(10, 3)
    moe(x)
    logits = _np(gate(x))
    top2 = np.argsort(-logits, axis=1, kind="stable")[:, :2]
    for i in range(4):
        routed = int((top2 == i).sum())
        assert seen[i] == ([routed] if routed else []), (i, seen[i], routed)
    assert sum(sum(v) for v in seen.values()) == 10 * 2  # k rows per input, not E

    # An expert that no input chooses never runs and gets no gradient.
    with cr.no_grad():
        gate.weight.zero_()
        gate.bias.copy_(cr.tensor([3.0, 2.0, -5.0, 1.0]))
    seen = {i: [] for i in range(4)}
    y, aux = moe(cr.randn(6, 3))
    (y.sum() + aux).backward()
    assert seen[2] == [] and seen[3] == [] and experts[2].weight.grad is None
    assert seen[0] == [6] and seen[1] == [6]


def test_load_balancing_loss_formula():
    """aux = E * sum_i f_i P_i (Fedus et al. 2021): 1 for balanced routing, E for collapse."""
    cr.manual_seed(0)
    moe = nn.MixtureOfExperts([nn.Identity() for _ in range(4)], nn.Identity(), top_k=1)
    balanced = cr.tensor(np.eye(4, dtype=np.float32).repeat(3, 0) * 50)  # each expert once
    _, aux = moe(balanced)
    assert abs(aux.item() - 1.0) < 1e-5
    collapsed = cr.zeros(8, 4)
    collapsed[:, 1] = 100.0
    _, aux = moe(collapsed)
    assert abs(aux.item() - 4.0) < 1e-5
    logits = np.random.default_rng(0).standard_normal((9, 4)).astype(np.float32)
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    f = np.bincount(p.argmax(1), minlength=4) / 9
    x = cr.tensor(logits, requires_grad=True)
    _, aux = moe(x)
    np.testing.assert_allclose(aux.item(), 4 * (f * p.mean(0)).sum(), rtol=1e-5)
    aux.backward()
    assert np.abs(x.grad.numpy()).sum() > 0  # the gate learns from it (through P)


def test_moe_shapes_repr_and_errors():
    moe = nn.MixtureOfExperts([nn.Linear(4, 3), nn.Linear(4, 3)], nn.Linear(4, 2))
    y, aux = moe(cr.randn(2, 5, 4))
    assert tuple(y.shape) == (2, 5, 3) and tuple(aux.shape) == ()
    assert "num_experts=2, top_k=None" in repr(moe)
    assert len(list(moe.parameters())) == 6
    with pytest.raises(ValueError, match="top_k"):
        nn.MixtureOfExperts([nn.Linear(4, 3)] * 2, nn.Linear(4, 2), top_k=3)
    with pytest.raises(RuntimeError, match=r"\(5, 2\) logits, got shape \(5, 3\)"):
        nn.MixtureOfExperts([nn.Linear(4, 3)] * 2, nn.Linear(4, 3))(cr.randn(5, 4))


# ---------------------------------------------------------------- learning to route


def _two_halves(n=512, seed=0):
    """x in [-1, 1]^2; left half (x0 < 0) labelled by x1 > 0, right half by a different
    linear rule (x1 < 0.8 x0 - 0.2). Each half is linearly separable; the union is not."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
    y = np.where(x[:, 0] < 0, x[:, 1] > 0, x[:, 1] < 0.8 * x[:, 0] - 0.2)
    return x, y.astype(np.int64)


def _fit(model, x, y, steps=300, lr=0.05):
    opt = cr.optim.Adam(model.parameters(), lr=lr)
    xt, yt = cr.tensor(x), cr.tensor(y)

    def logits():
        out = model(xt)
        return out[0] if isinstance(out, tuple) else out

    for _ in range(steps):
        loss = F.cross_entropy(logits(), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with cr.no_grad():
        return (_np(logits()).argmax(1) == y).mean()


def test_mixture_of_two_linear_experts_learns_the_two_halves():
    x, y = _two_halves()
    cr.manual_seed(0)
    moe = nn.MixtureOfExperts([nn.Linear(2, 2), nn.Linear(2, 2)], nn.Linear(2, 2))
    acc_moe = _fit(moe, x, y)
    cr.manual_seed(0)
    acc_linear = _fit(nn.Linear(2, 2), x, y)
    assert acc_moe >= 0.95, acc_moe
    assert acc_linear < 0.80, acc_linear
    # The gate splits the plane: most left points pick one expert, most right points the other.
    with cr.no_grad():
        choice = _np(moe.gate(cr.tensor(x))).argmax(1)
    left, right = choice[x[:, 0] < 0], choice[x[:, 0] > 0]
    e_left = np.bincount(left, minlength=2).argmax()
    assert (left == e_left).mean() > 0.9
    assert (right == 1 - e_left).mean() > 0.9
