"""RNN, LSTM, GRU and their cells vs PyTorch with copied weights; packed sequences; clipping."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

RTOL, ATOL = 1e-4, 1e-5
L, N, H_IN, H = 5, 3, 4, 6


def _copy_params(ours, theirs, torch):
    ours_named = dict(ours.named_parameters())
    theirs_named = dict(theirs.named_parameters())
    assert list(ours_named) == list(theirs_named)
    with torch.no_grad():
        for name, p in theirs_named.items():
            p.copy_(torch.from_numpy(ours_named[name].detach().numpy().copy()))


def _leaf_pair(torch, array):
    return cr.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)


def _close(a, b, what):
    b = b.detach().numpy() if hasattr(b, "detach") else b
    np.testing.assert_allclose(a.detach().numpy(), b, rtol=RTOL, atol=ATOL, err_msg=what)


def _flatten(out):
    """Output tensors in a flat list: (output, h_n) / (output, (h_n, c_n)) / h / (h, c)."""
    if isinstance(out, tuple | list):
        return [t for o in out for t in _flatten(o)]
    return [out]


def _check_against_torch(ours, theirs, torch, x, states, seed=1):
    """Same forward values; then the same gradients of the input, the given initial states and
    every parameter for a random cotangent on every output."""
    _copy_params(ours, theirs, torch)
    xo, xt = _leaf_pair(torch, x)
    pairs = [_leaf_pair(torch, s) for s in states]
    so, st = [p[0] for p in pairs], [p[1] for p in pairs]
    hx_o = hx_t = None
    if len(states) == 1:
        hx_o, hx_t = so[0], st[0]
    elif len(states) == 2:
        hx_o, hx_t = tuple(so), tuple(st)
    out_o = _flatten(ours(xo) if hx_o is None else ours(xo, hx_o))
    out_t = _flatten(theirs(xt) if hx_t is None else theirs(xt, hx_t))
    assert len(out_o) == len(out_t)
    for k, (a, b) in enumerate(zip(out_o, out_t)):
        assert tuple(a.shape) == tuple(b.shape), (k, a.shape, b.shape)
        _close(a, b, f"output {k}")
    rng = np.random.default_rng(seed)
    cots = [rng.standard_normal(tuple(b.shape)).astype(np.float32) for b in out_t]
    cr.autograd.backward(out_o, [cr.tensor(c) for c in cots])
    torch.autograd.backward(out_t, [torch.tensor(c) for c in cots])
    _close(xo.grad, xt.grad, "grad of input")
    for k, (a, b) in enumerate(zip(so, st)):
        _close(a.grad, b.grad, f"grad of initial state {k}")
    theirs_named = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert p.grad is not None, name
        _close(p.grad, theirs_named[name].grad, f"grad of {name}")


def _data(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


CONFIGS = {
    "default": dict(),
    "two_layers_bidirectional": dict(num_layers=2, bidirectional=True),
    "batch_first_no_bias": dict(batch_first=True, bias=False),
    "three_layers_batch_first_bidirectional": dict(
        num_layers=3, batch_first=True, bidirectional=True
    ),
    "dropout_eval": dict(num_layers=2, dropout=0.5),
}


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("config", list(CONFIGS))
@pytest.mark.parametrize("with_states", [False, True])
def test_layer_matches_torch(torch, mode, config, with_states):
    kwargs = CONFIGS[config]
    ours = getattr(nn, mode)(H_IN, H, **kwargs)
    theirs = getattr(torch.nn, mode)(H_IN, H, **kwargs)
    if kwargs.get("dropout"):
        ours.eval()
        theirs.eval()
    directions = 2 if kwargs.get("bidirectional") else 1
    x = _data((N, L, H_IN) if kwargs.get("batch_first") else (L, N, H_IN))
    layers = kwargs.get("num_layers", 1)
    n_states = 2 if mode == "LSTM" else 1
    states = (
        [_data((layers * directions, N, H), seed=10 + k) for k in range(n_states)]
        if with_states
        else []
    )
    _check_against_torch(ours, theirs, torch, x, states)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_rnn_relu_matches_torch(torch, bidirectional):
    ours = nn.RNN(H_IN, H, num_layers=2, nonlinearity="relu", bidirectional=bidirectional)
    theirs = torch.nn.RNN(H_IN, H, num_layers=2, nonlinearity="relu", bidirectional=bidirectional)
    d = 2 if bidirectional else 1
    _check_against_torch(ours, theirs, torch, _data((L, N, H_IN)), [_data((2 * d, N, H), 3)])


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_dropout_zero_in_train_mode_matches_torch(torch, mode):
    ours = getattr(nn, mode)(H_IN, H, num_layers=2, dropout=0.0)
    theirs = getattr(torch.nn, mode)(H_IN, H, num_layers=2, dropout=0.0)
    assert ours.training and theirs.training
    _check_against_torch(ours, theirs, torch, _data((L, N, H_IN)), [])


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("with_states", [False, True])
def test_unbatched_input_matches_torch(torch, mode, with_states):
    ours = getattr(nn, mode)(H_IN, H, num_layers=2, bidirectional=True)
    theirs = getattr(torch.nn, mode)(H_IN, H, num_layers=2, bidirectional=True)
    n_states = 2 if mode == "LSTM" else 1
    states = [_data((4, H), seed=5 + k) for k in range(n_states)] if with_states else []
    _check_against_torch(ours, theirs, torch, _data((L, H_IN)), states)


def test_dropout_between_layers_in_training_only():
    lstm = nn.LSTM(H_IN, H, num_layers=2, dropout=0.5)
    x = cr.tensor(_data((L, N, H_IN)))
    cr.manual_seed(0)
    a, _ = lstm(x)
    cr.manual_seed(1)
    b, _ = lstm(x)
    assert not np.allclose(
        a.detach().numpy(), b.detach().numpy()
    )  # a different mask between the layers
    lstm.eval()
    c, _ = lstm(x)
    d, _ = lstm(x)
    np.testing.assert_array_equal(c.detach().numpy(), d.detach().numpy())


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.2)


# ---------------------------------------------------------------- cells


@pytest.mark.parametrize(
    "cell,kwargs",
    [
        ("RNNCell", {}),
        ("RNNCell", {"nonlinearity": "relu"}),
        ("RNNCell", {"bias": False}),
        ("LSTMCell", {}),
        ("LSTMCell", {"bias": False}),
        ("GRUCell", {}),
        ("GRUCell", {"bias": False}),
    ],
)
@pytest.mark.parametrize("with_states", [False, True])
@pytest.mark.parametrize("batched", [True, False])
def test_cell_matches_torch(torch, cell, kwargs, with_states, batched):
    ours = getattr(nn, cell)(H_IN, H, **kwargs)
    theirs = getattr(torch.nn, cell)(H_IN, H, **kwargs)
    batch = (N,) if batched else ()
    n_states = 2 if cell == "LSTMCell" else 1
    states = [_data(batch + (H,), seed=7 + k) for k in range(n_states)] if with_states else []
    _check_against_torch(ours, theirs, torch, _data(batch + (H_IN,)), states)


def test_cell_loop_equals_layer():
    """Unrolling an LSTMCell by hand gives the LSTM layer's outputs (shared weights)."""
    layer, cell = nn.LSTM(H_IN, H), nn.LSTMCell(H_IN, H)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(cell, name).data[...] = getattr(layer, name + "_l0").data
    x = cr.tensor(_data((L, N, H_IN)))
    out, (h_n, c_n) = layer(x)
    h = c = cr.zeros(N, H)
    for t in range(L):
        h, c = cell(x[t], (h, c))
        np.testing.assert_allclose(h.detach().numpy(), out[t].detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(c.detach().numpy(), c_n[0].detach().numpy(), rtol=1e-6)


# ---------------------------------------------------------------- state dicts, repr, init


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_loads_torch_state_dict(torch, mode):
    theirs = getattr(torch.nn, mode)(H_IN, H, num_layers=2, bidirectional=True, batch_first=True)
    ours = getattr(nn, mode)(H_IN, H, num_layers=2, bidirectional=True, batch_first=True)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = _data((N, L, H_IN))
    out_o = _flatten(ours(cr.tensor(x)))
    out_t = _flatten(theirs(torch.tensor(x)))
    for k, (a, b) in enumerate(zip(out_o, out_t)):
        _close(a, b, f"output {k}")


def test_state_dict_keys_and_shapes_match_torch(torch):
    ours = nn.GRU(H_IN, H, num_layers=2, bidirectional=True, bias=False)
    theirs = torch.nn.GRU(H_IN, H, num_layers=2, bidirectional=True, bias=False)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }
    assert "weight_hh_l1_reverse" in ours.state_dict()


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.RNN(3, 4),
        lambda m: m.RNN(
            3,
            4,
            num_layers=2,
            nonlinearity="relu",
            bias=False,
            batch_first=True,
            dropout=0.5,
            bidirectional=True,
        ),
        lambda m: m.LSTM(3, 4, 2, dropout=0.25),
        lambda m: m.GRU(3, 4, bidirectional=True),
        lambda m: m.RNNCell(3, 4),
        lambda m: m.RNNCell(3, 4, bias=False, nonlinearity="relu"),
        lambda m: m.LSTMCell(3, 4),
        lambda m: m.GRUCell(3, 4, bias=False),
    ],
)
def test_repr_matches_torch(torch, make):
    assert repr(make(nn)) == repr(make(torch.nn))


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"])
def test_default_init_is_uniform_one_over_sqrt_hidden(mode):
    hidden = 64
    layer = getattr(nn, mode)(8, hidden)
    bound = 1 / math.sqrt(hidden)
    values = np.concatenate([p.detach().numpy().ravel() for p in layer.parameters()])
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.95 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.05 * bound


def test_parameter_names_and_gate_shapes():
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    shapes = {k: tuple(p.shape) for k, p in lstm.named_parameters()}
    assert shapes["weight_ih_l0"] == (20, 3)
    assert shapes["weight_ih_l1_reverse"] == (20, 10)
    assert shapes["weight_hh_l1"] == (20, 5)
    assert shapes["bias_hh_l0_reverse"] == (20,)
    assert len(lstm.all_weights) == 4


# ---------------------------------------------------------------- variable lengths


LENGTHS = [3, 5, 1, 4]


def _packed_pair(torch, x, lengths, batch_first, enforce_sorted):
    xo, xt = _leaf_pair(torch, x)
    po = nn.utils.rnn.pack_padded_sequence(xo, lengths, batch_first, enforce_sorted)
    pt = torch.nn.utils.rnn.pack_padded_sequence(xt, lengths, batch_first, enforce_sorted)
    return (xo, po), (xt, pt)


@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_padded_sequence_matches_torch(torch, batch_first):
    x = _data((4, 5, 2) if batch_first else (5, 4, 2))
    (xo, po), (xt, pt) = _packed_pair(torch, x, LENGTHS, batch_first, False)
    _close(po.data, pt.data, "packed data")
    np.testing.assert_array_equal(po.batch_sizes.numpy(), pt.batch_sizes.numpy())
    np.testing.assert_array_equal(po.sorted_indices.numpy(), pt.sorted_indices.numpy())
    np.testing.assert_array_equal(po.unsorted_indices.numpy(), pt.unsorted_indices.numpy())
    for pad_value, total in ((0.0, None), (-1.5, 7)):
        yo, lo = nn.utils.rnn.pad_packed_sequence(po, batch_first, pad_value, total)
        yt, lt = torch.nn.utils.rnn.pad_packed_sequence(pt, batch_first, pad_value, total)
        _close(yo, yt, "unpacked")
        np.testing.assert_array_equal(lo.numpy(), lt.numpy())
    g = _data(tuple(yt.shape), seed=3)
    yo.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    _close(xo.grad, xt.grad, "gradient through pack and unpack")


def test_pack_sorted_and_errors(torch):
    x = _data((4, 3, 2))
    po = nn.utils.rnn.pack_padded_sequence(cr.tensor(x), [4, 2, 2])
    pt = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), [4, 2, 2])
    assert po.sorted_indices is None and pt.sorted_indices is None
    _close(po.data, pt.data, "packed data")
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        nn.utils.rnn.pack_padded_sequence(cr.tensor(x), [2, 4, 2])
    with pytest.raises(RuntimeError, match="greater than 0"):
        nn.utils.rnn.pack_padded_sequence(cr.tensor(x), [4, 0, 0])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_matches_torch(torch, batch_first, side):
    seqs = [_data((n, 2), seed=n) for n in (2, 4, 1)]
    ours = [cr.tensor(s, requires_grad=True) for s in seqs]
    theirs = [torch.tensor(s, requires_grad=True) for s in seqs]
    yo = nn.utils.rnn.pad_sequence(ours, batch_first, 0.5, side)
    yt = torch.nn.utils.rnn.pad_sequence(theirs, batch_first, 0.5, side)
    _close(yo, yt, "padded")
    g = _data(tuple(yt.shape), seed=9)
    yo.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        _close(a.grad, b.grad, "gradient of a sequence")


def test_pack_sequence_and_unpack(torch):
    seqs = [_data((n, 3), seed=n) for n in (4, 2, 3)]
    po = nn.utils.rnn.pack_sequence([cr.tensor(s) for s in seqs], enforce_sorted=False)
    pt = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    _close(po.data, pt.data, "packed data")
    for a, s in zip(nn.utils.rnn.unpack_sequence(po), seqs):
        np.testing.assert_array_equal(a.numpy(), s)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(
    "kwargs",
    [dict(), dict(num_layers=2, bidirectional=True), dict(batch_first=True, bidirectional=True)],
)
@pytest.mark.parametrize("with_states", [False, True])
def test_packed_sequence_matches_torch(torch, mode, kwargs, with_states):
    ours = getattr(nn, mode)(H_IN, H, **kwargs)
    theirs = getattr(torch.nn, mode)(H_IN, H, **kwargs)
    _copy_params(ours, theirs, torch)
    batch_first = kwargs.get("batch_first", False)
    n = len(LENGTHS)
    x = _data((n, 5, H_IN) if batch_first else (5, n, H_IN))
    (xo, po), (xt, pt) = _packed_pair(torch, x, LENGTHS, batch_first, False)
    k = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    n_states = 2 if mode == "LSTM" else 1
    states = [_data((k, n, H), seed=20 + j) for j in range(n_states)] if with_states else []
    pairs = [_leaf_pair(torch, s) for s in states]
    so, st = [p[0] for p in pairs], [p[1] for p in pairs]
    hx_o = (tuple(so) if n_states == 2 else so[0]) if states else None
    hx_t = (tuple(st) if n_states == 2 else st[0]) if states else None
    out_o, fin_o = ours(po, hx_o)
    out_t, fin_t = theirs(pt, hx_t)
    assert isinstance(out_o, nn.utils.rnn.PackedSequence)
    _close(out_o.data, out_t.data, "packed output")
    np.testing.assert_array_equal(out_o.batch_sizes.numpy(), out_t.batch_sizes.numpy())
    fin_o, fin_t = _flatten(fin_o), _flatten(fin_t)
    for j, (a, b) in enumerate(zip(fin_o, fin_t)):
        _close(a, b, f"final state {j}")
    # The padded view: zeros past each length, like torch's.
    pad_o, _ = nn.utils.rnn.pad_packed_sequence(out_o, batch_first)
    pad_t, _ = torch.nn.utils.rnn.pad_packed_sequence(out_t, batch_first)
    _close(pad_o, pad_t, "padded output")
    rng = np.random.default_rng(4)
    outs_o, outs_t = [out_o.data] + fin_o, [out_t.data] + fin_t
    cots = [rng.standard_normal(tuple(b.shape)).astype(np.float32) for b in outs_t]
    cr.autograd.backward(outs_o, [cr.tensor(c) for c in cots])
    torch.autograd.backward(outs_t, [torch.tensor(c) for c in cots])
    _close(xo.grad, xt.grad, "grad of input")
    for j, (a, b) in enumerate(zip(so, st)):
        _close(a.grad, b.grad, f"grad of initial state {j}")
    theirs_named = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _close(p.grad, theirs_named[name].grad, f"grad of {name}")


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_wrong_input_size_names_expected_and_actual(mode):
    layer = getattr(nn, mode)(H_IN, H)
    with pytest.raises(RuntimeError, match=r"Expected 4, got 7"):
        layer(cr.zeros(L, N, 7))
    with pytest.raises(ValueError, match="2D or 3D, got 4D"):
        layer(cr.zeros(1, L, N, H_IN))


def test_wrong_hidden_shape_names_expected_and_actual():
    rnn = nn.RNN(H_IN, H, num_layers=2)
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 3, 6\), got \[1, 3, 6\]"):
        rnn(cr.zeros(L, N, H_IN), cr.zeros(1, N, H))
    with pytest.raises(RuntimeError, match="should also be 3-D but got 2-D"):
        rnn(cr.zeros(L, N, H_IN), cr.zeros(N, H))
    lstm = nn.LSTM(H_IN, H, bidirectional=True)
    with pytest.raises(RuntimeError, match=r"hidden\[1\] size \(2, 3, 6\), got \[2, 3, 5\]"):
        lstm(cr.zeros(L, N, H_IN), (cr.zeros(2, N, H), cr.zeros(2, N, 5)))


def test_cell_errors_name_expected_and_actual():
    cell = nn.GRUCell(H_IN, H)
    with pytest.raises(RuntimeError, match="expected 4, got 5"):
        cell(cr.zeros(N, 5))
    with pytest.raises(RuntimeError, match=r"expected hidden\[0\] of shape \(3, 6\), got \(2, 6\)"):
        cell(cr.zeros(N, H_IN), cr.zeros(2, H))
    with pytest.raises(RuntimeError, match=r"expected hidden\[1\] of shape \(3, 6\), got \(3, 2\)"):
        nn.LSTMCell(H_IN, H)(cr.zeros(N, H_IN), (cr.zeros(N, H), cr.zeros(N, 2)))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size"):
        nn.GRU(3, 0)


# ---------------------------------------------------------------- gradient clipping


def test_clip_grad_norm_tames_an_exploding_rnn_gradient():
    """Large recurrent weights on a long sequence: the gradient norm explodes; clipping scales
    every gradient by the same factor, so the norm becomes 1 and the direction is kept."""
    rnn = nn.RNN(2, 8, nonlinearity="relu")
    with cr.no_grad():
        rnn.weight_hh_l0.data[...] = 1.5 * np.eye(8, dtype=np.float32)
    x = cr.tensor(np.abs(_data((60, 1, 2))))
    _, h_n = rnn(x)
    h_n.sum().backward()
    params = list(rnn.parameters())
    before = np.concatenate([p.grad.numpy().ravel() for p in params])
    total = float(nn.utils.clip_grad_norm_(params, 1.0))
    assert total > 1e6  # exploded: 1.5^60 is about 4e10
    assert total == pytest.approx(np.linalg.norm(before), rel=1e-4)
    after = np.concatenate([p.grad.numpy().ravel() for p in params])
    assert np.linalg.norm(after) <= 1.0 + 1e-6
    cosine = after @ before / (np.linalg.norm(after) * np.linalg.norm(before))
    assert cosine == pytest.approx(1.0, abs=1e-5)


def test_graph_has_one_recurrence_node_per_layer_and_direction():
    """The time loop lives inside one op: the graph does not grow with the sequence length."""
    lstm = nn.LSTM(H_IN, H, num_layers=2, bidirectional=True)
    x = cr.tensor(_data((50, N, H_IN)), requires_grad=True)
    out, _ = lstm(x)
    seen, stack, names = set(), [out], []
    while stack:
        t = stack.pop()
        if id(t) in seen or t.grad_fn is None:
            continue
        seen.add(id(t))
        names.append(t.grad_fn.fn.__name__)
        stack.extend(p for p in t.grad_fn.parents if p is not None)
    assert names.count("LSTMScan") == 4
    assert len(names) < 30


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(proj_size=2),
        dict(proj_size=3, num_layers=2, bidirectional=True),
        dict(proj_size=1, batch_first=True, bias=False),
    ],
    ids=["one_layer", "two_layers_bidirectional", "batch_first_no_bias"],
)
@pytest.mark.parametrize("with_states", [False, True])
def test_lstm_projection_matches_torch(torch, kwargs, with_states):
    ours, theirs = nn.LSTM(H_IN, H, **kwargs), torch.nn.LSTM(H_IN, H, **kwargs)
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    d = 2 if kwargs.get("bidirectional") else 1
    x = _data((N, L, H_IN) if kwargs.get("batch_first") else (L, N, H_IN))
    layers = kwargs.get("num_layers", 1)
    p = kwargs["proj_size"]
    states = (
        [_data((layers * d, N, p), seed=10), _data((layers * d, N, H), seed=11)]
        if with_states
        else []
    )
    _check_against_torch(ours, theirs, torch, x, states)


def test_lstm_projection_arguments_are_checked_as_in_torch():
    with pytest.raises(ValueError, match="smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="only supported for LSTM"):
        nn.RNNBase("GRU", 3, 4, proj_size=2)
    lstm = nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(1, 2, 2\)"):
        lstm(cr.zeros(5, 2, 3), (cr.zeros(1, 2, 4), cr.zeros(1, 2, 4)))
