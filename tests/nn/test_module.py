"""The Module system: registration, traversal, state_dict, repr, hooks, containers."""

from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 4)
        self.out = nn.Linear(4, 2, bias=False)
        self.register_buffer("steps", cr.zeros(1))
        self.register_buffer("scratch", cr.zeros(2), persistent=False)

    def forward(self, x):
        return self.out(self.hidden(x).tanh())


def test_registration_and_names():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["hidden.weight", "hidden.bias", "out.weight"]
    assert [n for n, _ in net.named_buffers()] == ["steps", "scratch"]
    assert [n for n, _ in net.named_children()] == ["hidden", "out"]
    assert [n for n, _ in net.named_modules()] == ["", "hidden", "out"]
    assert list(net.state_dict()) == ["steps", "hidden.weight", "hidden.bias", "out.weight"]
    assert net.out.bias is None
    assert len(list(net.parameters(recurse=False))) == 0
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'missing'"):
        net.missing  # noqa: B018


def test_shared_parameter_listed_once_and_gradients_add_up():
    a, b = nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False)
    b.weight = a.weight  # weight sharing
    model = nn.Sequential(a, b)
    assert len(list(model.parameters())) == 1
    x = cr.tensor([[1.0, 2.0]])
    model(x).sum().backward()
    W = a.weight.detach().numpy()
    h = x.numpy() @ W.T
    # d/dW of sum(W (W x)): the first use gives outer(1^T W, x), the second outer(1, h).
    expected = np.outer(np.ones(2) @ W, x.numpy()[0]) + np.outer(np.ones(2), h[0])
    np.testing.assert_allclose(a.weight.grad.numpy(), expected, rtol=1e-6)


def test_train_eval_zero_grad_requires_grad_apply():
    net = Net()
    assert net.eval() is net and not net.training and not net.hidden.training
    assert net.train() is net and net.hidden.training
    net(cr.randn(5, 3)).sum().backward()
    assert net.hidden.weight.grad is not None
    net.zero_grad(set_to_none=False)
    assert not net.hidden.weight.grad.numpy().any()
    net.zero_grad()
    assert net.hidden.weight.grad is None
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Linear", "Net"]


def test_to_dtype_keeps_parameter_objects():
    net = Net()
    w = net.hidden.weight
    net.double()
    assert net.hidden.weight is w and w.dtype is cr.float64
    assert net.steps.dtype is cr.float64
    assert net(cr.randn(2, 3, dtype=cr.float64)).dtype is cr.float64
    with pytest.raises(TypeError, match="floating point"):
        net.to(cr.int64)


def test_state_dict_round_trip_and_errors():
    a, b = Net(), Net()
    missing, unexpected = b.load_state_dict(a.state_dict())
    assert missing == [] and unexpected == []
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), b.state_dict()[k].numpy())
    sd = a.state_dict()
    sd["hidden.weight"] = cr.zeros(5, 3)
    sd["extra"] = cr.zeros(1)
    del sd["out.weight"]
    with pytest.raises(RuntimeError) as err:
        b.load_state_dict(sd)
    msg = str(err.value)
    assert 'Unexpected key(s) in state_dict: "extra"' in msg
    assert 'Missing key(s) in state_dict: "out.weight"' in msg
    assert "size mismatch for hidden.weight" in msg and "(5, 3)" in msg and "(4, 3)" in msg
    del sd["hidden.weight"]
    result = b.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["hidden.weight", "out.weight"]
    assert result.unexpected_keys == ["extra"]
    # NumPy arrays load too (a PyTorch state_dict converted with .numpy()).
    b.load_state_dict({k: v.numpy() for k, v in a.state_dict().items()})


def test_repr_matches_pytorch(torch):
    ours = nn.Sequential(
        nn.Linear(3, 4),
        nn.Identity(),
        nn.Flatten(),
        nn.Sequential(OrderedDict(inner=nn.Linear(4, 2, bias=False))),
    )
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4),
        torch.nn.Identity(),
        torch.nn.Flatten(),
        torch.nn.Sequential(OrderedDict(inner=torch.nn.Linear(4, 2, bias=False))),
    )
    assert repr(ours) == repr(theirs)
    assert repr(nn.Bilinear(2, 3, 4)) == repr(torch.nn.Bilinear(2, 3, 4))
    assert repr(nn.Unflatten(1, (2, 2))) == repr(torch.nn.Unflatten(1, (2, 2)))


def test_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    out = lin(cr.ones(1, 2))
    np.testing.assert_allclose(out.detach().numpy(), lin.bias.detach().numpy()[None] + 1, rtol=1e-6)
    assert calls == [(1, 2)]
    h1.remove()
    h2.remove()
    lin(cr.ones(1, 2))
    assert len(calls) == 1


def test_containers():
    seq = nn.Sequential(
        nn.Linear(2, 3), nn.Tanh() if hasattr(nn, "Tanh") else nn.Identity(), nn.Linear(3, 1)
    )
    assert len(seq) == 3 and isinstance(seq[0], nn.Linear) and isinstance(seq[-1], nn.Linear)
    assert isinstance(seq[1:], nn.Sequential) and len(seq[1:]) == 2
    od = nn.Sequential(OrderedDict(a=nn.Linear(2, 2), b=nn.Identity()))
    assert [n for n, _ in od.named_children()] == ["a", "b"]
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    ml.append(nn.Linear(1, 1))
    assert len(ml) == 4 and len(list(ml.parameters())) == 8
    md = nn.ModuleDict({"x": nn.Linear(1, 2)})
    md["y"] = nn.Identity()
    assert list(md.keys()) == ["x", "y"] and "x" in md
    pl = nn.ParameterList([nn.Parameter(cr.ones(2)), cr.zeros(3)])
    assert len(list(pl.parameters())) == 2 and isinstance(pl[1], nn.Parameter)
    pd = nn.ParameterDict({"a": nn.Parameter(cr.ones(1))})
    assert list(dict(pd.named_parameters())) == ["a"]
    x = cr.randn(2, 3, 4)
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Unflatten(1, (3, 2, 2))(nn.Flatten()(x)).shape == (2, 3, 2, 2)


def test_parameter_is_a_leaf_tensor():
    p = nn.Parameter(cr.randn(2, 2))
    assert p.requires_grad and p.is_leaf and isinstance(p, cr.Tensor)
    assert repr(p).startswith("Parameter containing:\ntensor(")


def test_summary_table():
    net = nn.Sequential(nn.Linear(3, 4), nn.Identity(), nn.Linear(4, 2))
    text = nn.summary(net, (3,), file=False)
    assert "0 (Linear)" in text and "[1, 4]" in text and "[1, 2]" in text
    assert "Total params: 26" in text and "Trainable params: 26" in text


def test_module_list_repr_merges_repeated_children(torch):
    ours = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.Identity()])
    theirs = torch.nn.ModuleList(
        [torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.nn.Identity()]
    )
    assert repr(ours) == repr(theirs)
    assert "(0-1): 2 x Linear" in repr(ours)
