"""Attention and Transformers against PyTorch, and the soft switch of attention.

Modules are compared with copied weights (torch's state_dict converted to NumPy and loaded with
``load_state_dict``), in train mode with dropout 0 (PyTorch's eval-mode "fast path" is a
different kernel; one test checks it too): outputs, the gradients of every input and of every
parameter for random cotangents.
"""

import math
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

RTOL, ATOL = 1e-4, 1e-5


def _np(t):
    return t.detach().numpy()


def _load_from_torch(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})


def _randomize(theirs, torch, seed=0):
    """Random parameters (torch's init leaves biases at 0 and LayerNorms at 1/0)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            base = 1.0 if "norm" in name and name.endswith("weight") else 0.0
            p.copy_(torch.randn(p.shape, generator=g) * 0.4 + base)


def _pair(make, torch, seed=0):
    """(ours, theirs) built by ``make(nn_module)`` with torch's random weights copied in."""
    theirs = make(torch.nn)
    _randomize(theirs, torch, seed)
    ours = make(nn)
    _load_from_torch(ours, theirs)
    return ours, theirs


def _inputs(arrays, lib, grad=True):
    """NumPy arrays as tensors of ``lib`` (float ones require grad)."""
    out = {}
    for name, a in arrays.items():
        diff = grad and a.dtype.kind == "f" and not name.endswith("mask")
        out[name] = lib.tensor(a, requires_grad=diff)
    return out


def _as_tuple(y):
    return tuple(t for t in (y if isinstance(y, tuple) else (y,)) if t is not None)


def _compare(ours, theirs, arrays, call, torch, rtol=RTOL, atol=ATOL, seed=1):
    """call(module, tensors_by_name) on both; compare outputs and all gradients."""
    xo, xt = _inputs(arrays, cr), _inputs(arrays, torch)
    yo, yt = _as_tuple(call(ours, xo)), _as_tuple(call(theirs, xt))
    assert len(yo) == len(yt)
    rng = np.random.default_rng(seed)
    lo, lt = 0, 0
    for i, (a, b) in enumerate(zip(yo, yt)):
        assert tuple(a.shape) == tuple(b.shape), (i, a.shape, b.shape)
        np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol, err_msg=f"output {i}")
        g = rng.standard_normal(tuple(b.shape)).astype(np.float32)
        lo = lo + (a * cr.tensor(g)).sum()
        lt = lt + (b * torch.tensor(g)).sum()
    lo.backward()
    lt.backward()
    for name, t in xt.items():
        if t.requires_grad and t.grad is None:  # an input the call did not use
            assert xo[name].grad is None, name
        elif t.requires_grad:
            np.testing.assert_allclose(
                xo[name].grad.numpy(),
                t.grad.numpy(),
                rtol=rtol,
                atol=atol,
                err_msg=f"grad of input {name}",
            )
    theirs_params = dict(theirs.named_parameters())
    ours_params = dict(ours.named_parameters())
    assert sorted(ours_params) == sorted(theirs_params)
    for name, p in ours_params.items():
        q = theirs_params[name]
        if q.grad is None:
            assert p.grad is None or not np.any(p.grad.numpy()), name
            continue
        np.testing.assert_allclose(
            p.grad.numpy(), q.grad.numpy(), rtol=rtol, atol=atol, err_msg=f"grad of {name}"
        )
    return yo, yt


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------- scaled_dot_product_attention


@pytest.mark.parametrize(
    "shapes",
    [
        ((3, 4), (5, 4), (5, 2)),
        ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5)),
        ((2, 1, 3, 4), (1, 3, 5, 4), (2, 3, 5, 6)),
    ],
)
@pytest.mark.parametrize("kind", ["none", "bool", "float", "bool_broadcast", "causal", "scale"])
def test_sdpa_matches_torch(shapes, kind, torch):
    sq, sk, sv = shapes
    L, S = sq[-2], sk[-2]
    q, k, v = _rand(*sq, seed=1), _rand(*sk, seed=2), _rand(*sv, seed=3)
    rng = np.random.default_rng(4)
    mask = None
    if kind == "bool":
        mask = rng.random((L, S)) > 0.3
        mask[:, 0] = True
    elif kind == "bool_broadcast":
        mask = np.broadcast_to(rng.random((1, S)) > 0.5, (L, S)).copy()
        mask[:, -1] = True
    elif kind == "float":
        mask = rng.standard_normal((L, S)).astype(np.float32)
    kw = {"is_causal": kind == "causal", "scale": 0.3 if kind == "scale" else None}
    qo, ko, vo = (cr.tensor(a, requires_grad=True) for a in (q, k, v))
    qt, kt, vt = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    mo = None if mask is None else cr.tensor(mask, requires_grad=kind == "float")
    mt = None if mask is None else torch.tensor(mask, requires_grad=kind == "float")
    yo = F.scaled_dot_product_attention(qo, ko, vo, attn_mask=mo, **kw)
    yt = torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, attn_mask=mt, **kw)
    np.testing.assert_allclose(_np(yo), _np(yt), rtol=RTOL, atol=ATOL)
    g = _rand(*yt.shape, seed=5)
    yo.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    pairs = [(qo, qt), (ko, kt), (vo, vt)] + ([(mo, mt)] if kind == "float" else [])
    for a, b in pairs:
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=RTOL, atol=ATOL)


def test_sdpa_fully_masked_row_gives_zero_like_torch(torch):
    q, k, v = _rand(2, 3, 4, seed=1), _rand(2, 5, 4, seed=2), _rand(2, 5, 6, seed=3)
    mask = np.ones((3, 5), bool)
    mask[1] = False  # query 1 may attend to nothing
    qo, ko, vo = (cr.tensor(a, requires_grad=True) for a in (q, k, v))
    qt, kt, vt = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    yo = F.scaled_dot_product_attention(qo, ko, vo, attn_mask=cr.tensor(mask))
    yt = torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, attn_mask=torch.tensor(mask))
    assert np.all(_np(yo)[:, 1] == 0)
    np.testing.assert_allclose(_np(yo), _np(yt), rtol=RTOL, atol=ATOL)
    yo.sum().backward()
    yt.sum().backward()
    for a, b in ((qo, qt), (ko, kt), (vo, vt)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=RTOL, atol=ATOL)


def test_sdpa_enable_gqa_matches_torch(torch):
    q, k, v = _rand(2, 4, 3, 8, seed=1), _rand(2, 2, 5, 8, seed=2), _rand(2, 2, 5, 6, seed=3)
    yo = F.scaled_dot_product_attention(cr.tensor(q), cr.tensor(k), cr.tensor(v), enable_gqa=True)
    yt = torch.nn.functional.scaled_dot_product_attention(
        torch.tensor(q), torch.tensor(k), torch.tensor(v), enable_gqa=True
    )
    np.testing.assert_allclose(_np(yo), _np(yt), rtol=RTOL, atol=ATOL)


def test_sdpa_dropout_zeroes_weights_and_rescales():
    q, k = cr.zeros(1, 200, 4), cr.zeros(1, 200, 4)  # uniform weights 1/200
    v = cr.ones(1, 200, 1)
    cr.manual_seed(0)
    y = F.scaled_dot_product_attention(q, k, v, dropout_p=0.25).numpy().ravel()
    # each output is (number of kept keys) / 200 / 0.75: mean 1, clearly not all 1
    assert abs(y.mean() - 1.0) < 0.02 and y.std() > 0.01
    cr.manual_seed(0)
    y2 = F.scaled_dot_product_attention(q, k, v, dropout_p=0.25).numpy().ravel()
    np.testing.assert_array_equal(y, y2)


@pytest.mark.parametrize(
    "mask_kind", ["none", "causal", "float_rows", "float_keys_only", "dropout"]
)
def test_sdpa_in_blocks_of_query_rows_equals_one_block(monkeypatch, mask_kind):
    # Long sequences run a block of query rows at a time; force blocks of 2 rows (with a
    # ragged last block) and compare values and every gradient with the one-block run.
    from chainrule.ops import attention as attention_op

    rng = np.random.default_rng(0)
    shapes = ((2, 1, 7, 4), (1, 3, 5, 4), (1, 3, 5, 6))  # broadcast batch dims, L=7, S=5
    arrays = [rng.standard_normal(s).astype(np.float64) for s in shapes]
    bias_np = {
        "float_rows": rng.standard_normal((7, 5)),
        "float_keys_only": rng.standard_normal((1, 5)),
    }.get(mask_kind)

    def run():
        q, k, v = (cr.tensor(a, requires_grad=True) for a in arrays)
        kw = {"is_causal": True} if mask_kind == "causal" else {}
        bias = None
        if bias_np is not None:
            bias = cr.tensor(bias_np, requires_grad=True)
            kw["attn_mask"] = bias
        if mask_kind == "dropout":
            cr.manual_seed(5)
            kw["dropout_p"] = 0.4
        y = F.scaled_dot_product_attention(q, k, v, **kw)
        y.backward(cr.tensor(np.cos(np.arange(y.numel()).reshape(y.shape))))
        grads = [t.grad.numpy() for t in (q, k, v)]
        if bias is not None:
            grads.append(bias.grad.numpy())
        return y.detach().numpy(), grads

    whole_y, whole_grads = run()
    monkeypatch.setattr(attention_op, "_BLOCK_ELEMENTS", 2 * 6 * 5)  # 2 rows of 6 x 5 scores
    assert len(attention_op._row_blocks(*[np.empty(s) for s in shapes[:2]], 7, 5, False)) == 4
    y, grads = run()
    np.testing.assert_allclose(y, whole_y, rtol=1e-12, atol=1e-12)
    for g, want in zip(grads, whole_grads, strict=True):
        np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-12)


def test_sdpa_bad_shapes_name_expected_and_actual():
    q, k, v = cr.randn(2, 3, 4), cr.randn(2, 5, 4), cr.randn(2, 5, 6)
    with pytest.raises(RuntimeError, match=r"\(3, 4\).*\(2, 3, 5\)"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=cr.ones(3, 4, dtype=cr.bool))
    with pytest.raises(RuntimeError, match="same E"):
        F.scaled_dot_product_attention(q, cr.randn(2, 5, 3), v)
    with pytest.raises(RuntimeError, match="same S"):
        F.scaled_dot_product_attention(q, k, cr.randn(2, 4, 6))
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(
            q, k, v, attn_mask=cr.ones(3, 5, dtype=cr.bool), is_causal=True
        )


# ---------------------------------------------------------------- the soft switch


def test_soft_switch_saturated_softmax_selects_one_value_exactly():
    """Attention weights are a softmax over scores: a soft switch between the values. When one
    score dominates, the softmax saturates to a one-hot vector: the output is exactly the
    selected value, only that value receives gradient, and the scores receive none."""
    rng = np.random.default_rng(0)
    keys = np.eye(4, dtype=np.float32)  # 4 orthonormal keys
    values = rng.standard_normal((4, 3)).astype(np.float32)
    selected = 2
    query = 1000.0 * keys[selected : selected + 1]  # (1, 4): matches key 2 by a huge factor
    q = cr.tensor(query, requires_grad=True)
    k = cr.tensor(keys, requires_grad=True)
    v = cr.tensor(values, requires_grad=True)
    out = F.scaled_dot_product_attention(q, k, v)  # scores 500 vs 0: e^-500 = 0 in float32
    np.testing.assert_array_equal(_np(out)[0], values[selected])
    out.backward(cr.tensor(rng.standard_normal((1, 3)).astype(np.float32)))
    gv = v.grad.numpy()
    assert np.all(gv[selected] != 0)
    assert np.all(np.delete(gv, selected, axis=0) == 0)  # exactly 0, not just small
    assert np.all(q.grad.numpy() == 0) and np.all(k.grad.numpy() == 0)  # saturated switch


def test_soft_switch_with_a_minus_inf_mask_and_multihead_weights():
    """A -inf float mask on all keys but one makes the weights one-hot too (through
    MultiheadAttention: the returned weights are one-hot, the output is the projection of the
    selected value)."""
    rng = np.random.default_rng(1)
    q = cr.tensor(rng.standard_normal((1, 5)).astype(np.float32), requires_grad=True)
    k = cr.tensor(rng.standard_normal((6, 5)).astype(np.float32), requires_grad=True)
    values = rng.standard_normal((6, 5)).astype(np.float32)
    v = cr.tensor(values, requires_grad=True)
    mask = np.full((1, 6), -math.inf, np.float32)
    mask[0, 4] = 0.0
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=cr.tensor(mask))
    np.testing.assert_array_equal(_np(out)[0], values[4])
    out.sum().backward()
    gv = v.grad.numpy()
    assert np.all(gv[4] == 1) and np.all(np.delete(gv, 4, axis=0) == 0)

    mha = nn.MultiheadAttention(5, 1, bias=False)
    _, weights = mha(q, k, v, attn_mask=cr.tensor(mask))
    np.testing.assert_array_equal(_np(weights), (mask == 0).astype(np.float32))


# ---------------------------------------------------------------- MultiheadAttention


def _mha_arrays(L=4, S=6, N=3, E=8, kdim=None, vdim=None, batch_first=False, batched=True):
    def shape(t, d):
        if not batched:
            return (t, d)
        return (N, t, d) if batch_first else (t, N, d)

    return {
        "query": _rand(*shape(L, E), seed=1),
        "key": _rand(*shape(S, kdim or E), seed=2),
        "value": _rand(*shape(S, vdim or E), seed=3),
    }


def _self_call(**kw):
    return lambda m, x: m(x["query"], x["query"], x["query"], **kw)


def _cross_call(**kw):
    """key is value (the encoder-decoder case)."""
    return lambda m, x: m(x["query"], x["key"], x["key"], **kw)


def _full_call(**kw):
    def call(m, x):
        masks = {}
        for name in ("key_padding_mask", "attn_mask"):
            if name in x:
                masks[name] = x[name]
        return m(x["query"], x["key"], x["value"], **masks, **kw)

    return call


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_self_attention(need_weights, batch_first, torch):
    ours, theirs = _pair(lambda m: m.MultiheadAttention(8, 2, batch_first=batch_first), torch)
    arrays = _mha_arrays(L=5, S=5, batch_first=batch_first)
    _compare(ours, theirs, arrays, _self_call(need_weights=need_weights), torch)


@pytest.mark.parametrize("average", [True, False])
def test_mha_cross_attention_weights(average, torch):
    ours, theirs = _pair(lambda m: m.MultiheadAttention(8, 4, batch_first=True), torch)
    arrays = _mha_arrays(batch_first=True)
    yo, _ = _compare(ours, theirs, arrays, _cross_call(average_attn_weights=average), torch)
    assert tuple(yo[1].shape) == ((3, 4, 6) if average else (3, 4, 4, 6))


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_kdim_vdim_separate_projections(need_weights, torch):
    ours, theirs = _pair(lambda m: m.MultiheadAttention(8, 2, kdim=3, vdim=5), torch)
    assert ours.in_proj_weight is None and tuple(ours.k_proj_weight.shape) == (8, 3)
    arrays = _mha_arrays(kdim=3, vdim=5)
    _compare(ours, theirs, arrays, _full_call(need_weights=need_weights), torch)


def _masks(kind, L=4, S=6, N=3, H=2, seed=0):
    rng = np.random.default_rng(seed)
    kpm = np.zeros((N, S), bool)
    kpm[0, -2:] = True
    kpm[2, 1] = True
    if kind == "2d_bool":
        am = rng.random((L, S)) > 0.7
        am[:, 0] = False
    elif kind == "3d_bool":
        am = rng.random((N * H, L, S)) > 0.7
        am[..., 0] = False
    elif kind == "2d_float":
        am = rng.standard_normal((L, S)).astype(np.float32)
        kpm = np.where(kpm, -np.inf, 0.0).astype(np.float32)
    else:  # 3d_float
        am = rng.standard_normal((N * H, L, S)).astype(np.float32)
        kpm = np.where(kpm, -np.inf, 0.0).astype(np.float32)
    return {"key_padding_mask": kpm, "attn_mask": am}


@pytest.mark.parametrize("kind", ["2d_bool", "3d_bool", "2d_float", "3d_float"])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_masks(kind, need_weights, torch):
    ours, theirs = _pair(lambda m: m.MultiheadAttention(8, 2), torch)
    arrays = {**_mha_arrays(), **_masks(kind)}
    _compare(
        ours,
        theirs,
        arrays,
        _full_call(need_weights=need_weights, average_attn_weights=False),
        torch,
    )


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_bias_kv_zero_attn_and_no_bias(need_weights, torch):
    def make(m):
        return m.MultiheadAttention(8, 2, bias=False, add_bias_kv=True, add_zero_attn=True)

    ours, theirs = _pair(make, torch)
    arrays = {**_mha_arrays(), **_masks("2d_bool")}
    _compare(ours, theirs, arrays, _full_call(need_weights=need_weights), torch)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_unbatched(need_weights, torch):
    ours, theirs = _pair(lambda m: m.MultiheadAttention(8, 2, kdim=3, vdim=5), torch)
    arrays = _mha_arrays(kdim=3, vdim=5, batched=False)
    arrays["key_padding_mask"] = np.array([False, False, True, False, False, True])
    arrays["attn_mask"] = np.random.default_rng(0).standard_normal((2, 4, 6)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch and chainrule both warn on mismatched masks
        _compare(ours, theirs, arrays, _full_call(need_weights=need_weights), torch)


def test_mha_is_causal_with_causal_mask(torch):
    ours, theirs = _pair(lambda m: m.MultiheadAttention(8, 2, batch_first=True), torch)
    arrays = _mha_arrays(L=5, S=5, batch_first=True)
    causal = np.triu(np.ones((5, 5), bool), 1)
    arrays["attn_mask"] = causal

    def call(m, x):
        q = x["query"]
        return m(q, q, q, attn_mask=x["attn_mask"], need_weights=False, is_causal=True)

    _compare(ours, theirs, arrays, call, torch)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        ours(*(cr.randn(2, 5, 8),) * 3, is_causal=True)


def test_mha_mask_warnings_match_torch(torch):
    ours, theirs = _pair(lambda m: m.MultiheadAttention(8, 2), torch)
    arrays = {
        **_mha_arrays(),
        "key_padding_mask": np.zeros((3, 6), bool),
        "attn_mask": np.zeros((4, 6), np.float32),
    }
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        _full_call()(ours, _inputs(arrays, cr))


def test_mha_bad_mask_shapes_and_heads():
    mha = nn.MultiheadAttention(8, 2)
    q, k = cr.randn(4, 3, 8), cr.randn(6, 3, 8)
    with pytest.raises(RuntimeError, match=r"2D attn_mask is \(4, 5\), but should be \(4, 6\)"):
        mha(q, k, k, attn_mask=cr.zeros(4, 5))
    with pytest.raises(RuntimeError, match=r"3D attn_mask is \(3, 4, 6\).*\(6, 4, 6\)"):
        mha(q, k, k, attn_mask=cr.zeros(3, 4, 6))
    with pytest.raises(AssertionError, match="key_padded_mask.shape\\[1\\] to be 6, but got 5"):
        mha(q, k, k, key_padding_mask=cr.zeros(3, 5, dtype=cr.bool))
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="greater than 0"):
        nn.MultiheadAttention(8, 0)


def test_mha_init_repr_and_state_dict_keys(torch):
    cr.manual_seed(0)
    ours = nn.MultiheadAttention(16, 4, add_bias_kv=True, kdim=6, vdim=7)
    theirs = torch.nn.MultiheadAttention(16, 4, add_bias_kv=True, kdim=6, vdim=7)
    assert repr(ours) == repr(theirs)
    so, st = ours.state_dict(), theirs.state_dict()
    assert list(so) == list(st)
    assert all(tuple(so[k].shape) == tuple(st[k].shape) for k in so)
    assert np.all(_np(ours.in_proj_bias) == 0) and np.all(_np(ours.out_proj.bias) == 0)
    bound = math.sqrt(6 / (16 + 6))  # xavier_uniform_ of (16, 6)
    w = _np(ours.k_proj_weight)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    packed = nn.MultiheadAttention(16, 4)
    assert list(packed.state_dict()) == list(torch.nn.MultiheadAttention(16, 4).state_dict())


def test_mha_state_dict_from_torch_eval_matches_fast_path(torch):
    """Loading torch's state_dict gives the same outputs, also against torch's eval-mode
    fused kernel (the "fast path": batch_first, self-attention, no grad)."""
    theirs = torch.nn.MultiheadAttention(16, 4, batch_first=True, dropout=0.1)
    _randomize(theirs, torch, seed=3)
    theirs.eval()
    ours = nn.MultiheadAttention(16, 4, batch_first=True, dropout=0.1).eval()
    _load_from_torch(ours, theirs)
    x = _rand(2, 7, 16, seed=4)
    kpm = np.zeros((2, 7), bool)
    kpm[1, 5:] = True
    with torch.no_grad():
        xt = torch.tensor(x)
        yt, wt = theirs(xt, xt, xt, key_padding_mask=torch.tensor(kpm))
    with cr.no_grad():
        xo = cr.tensor(x)
        yo, wo = ours(xo, xo, xo, key_padding_mask=cr.tensor(kpm))
    np.testing.assert_allclose(_np(yo), _np(yt), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(_np(wo), _np(wt), rtol=RTOL, atol=ATOL)


def test_mha_dropout_only_in_training():
    mha = nn.MultiheadAttention(8, 2, dropout=0.5)
    x = cr.randn(5, 2, 8)
    mha.eval()
    a, wa = mha(x, x, x)
    b, wb = mha(x, x, x)
    np.testing.assert_array_equal(_np(a), _np(b))
    mha.train()
    c, wc = mha(x, x, x)
    assert np.any(_np(wc) != _np(wa))


# ---------------------------------------------------------------- Transformer layers


def _layer_arrays(S=5, T=4, N=2, E=8, batch_first=False, batched=True):
    def shape(t):
        if not batched:
            return (t, E)
        return (N, t, E) if batch_first else (t, N, E)

    return {"src": _rand(*shape(S), seed=11), "tgt": _rand(*shape(T), seed=12)}


def _causal(n):
    return np.triu(np.full((n, n), -np.inf, np.float32), 1)


ENCODER_CASES = [
    dict(activation="relu"),
    dict(activation="gelu", norm_first=True, batch_first=True),
    dict(activation="gelu", norm_first=False, batch_first=True, bias=False),
    dict(activation="relu", norm_first=True, layer_norm_eps=1e-3),
]


@pytest.mark.parametrize("cfg", ENCODER_CASES)
@pytest.mark.parametrize("masks", ["none", "bool", "causal"])
def test_encoder_layer(cfg, masks, torch):
    def make(m):
        return m.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, **cfg)

    ours, theirs = _pair(make, torch)
    bf = cfg.get("batch_first", False)
    arrays = {"src": _layer_arrays(batch_first=bf)["src"]}
    kw = {}
    if masks == "bool":
        am = np.random.default_rng(0).random((5, 5)) > 0.7
        np.fill_diagonal(am, False)
        kpm = np.zeros((2, 5), bool)
        kpm[1, -2:] = True
        arrays.update(src_mask=am, src_key_padding_mask=kpm)
    elif masks == "causal":
        arrays.update(src_mask=_causal(5))
        kw = {"is_causal": True}

    def call(m, x):
        return m(
            x["src"],
            src_mask=x.get("src_mask"),
            src_key_padding_mask=x.get("src_key_padding_mask"),
            **kw,
        )

    _compare(ours, theirs, arrays, call, torch)


def test_encoder_layer_callable_activation_and_unbatched(torch):
    def make(m):
        act = m.GELU(approximate="tanh")
        return m.TransformerEncoderLayer(8, 4, 16, 0.0, activation=act)

    ours, theirs = _pair(make, torch)
    assert repr(ours) == repr(theirs)
    arrays = {"src": _layer_arrays(batched=False)["src"]}
    _compare(ours, theirs, arrays, lambda m, x: m(x["src"]), torch)


DECODER_CASES = [
    dict(activation="relu"),
    dict(activation="gelu", norm_first=True, batch_first=True),
]


@pytest.mark.parametrize("cfg", DECODER_CASES)
@pytest.mark.parametrize("masks", [False, True])
def test_decoder_layer(cfg, masks, torch):
    def make(m):
        return m.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0, **cfg)

    ours, theirs = _pair(make, torch)
    bf = cfg.get("batch_first", False)
    a = _layer_arrays(batch_first=bf)
    arrays = {"tgt": a["tgt"], "memory": a["src"]}
    if masks:
        mkpm = np.zeros((2, 5), bool)
        mkpm[0, 3:] = True
        tkpm = np.zeros((2, 4), bool)
        tkpm[1, 3] = True
        mm = np.random.default_rng(2).standard_normal((4, 5)).astype(np.float32)
        arrays.update(
            tgt_mask=_causal(4),
            memory_mask=mm,
            memory_key_padding_mask=np.where(mkpm, -np.inf, 0).astype(np.float32),
            tgt_key_padding_mask=np.where(tkpm, -np.inf, 0).astype(np.float32),
        )

    def call(m, x):
        return m(
            x["tgt"],
            x["memory"],
            tgt_mask=x.get("tgt_mask"),
            memory_mask=x.get("memory_mask"),
            tgt_key_padding_mask=x.get("tgt_key_padding_mask"),
            memory_key_padding_mask=x.get("memory_key_padding_mask"),
            tgt_is_causal=masks,
        )

    _compare(ours, theirs, arrays, call, torch)


def test_encoder_and_decoder_stacks_are_deep_copies(torch):
    def make_enc(m):
        layer = m.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True, norm_first=True)
        return m.TransformerEncoder(layer, 2, norm=m.LayerNorm(8), enable_nested_tensor=False)

    ours, theirs = _pair(make_enc, torch)
    p0, p1 = ours.layers[0].linear1.weight, ours.layers[1].linear1.weight
    assert p0 is not p1 and p0.data is not p1.data
    a = _layer_arrays(batch_first=True)
    kpm = np.zeros((2, 5), bool)
    kpm[0, -1] = True
    arrays = {"src": a["src"], "mask": _causal(5), "src_key_padding_mask": kpm}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mismatched mask dtypes: both warn
        _compare(
            ours,
            theirs,
            arrays,
            lambda m, x: m(
                x["src"], mask=x["mask"], src_key_padding_mask=x["src_key_padding_mask"]
            ),
            torch,
        )

    def make_dec(m):
        layer = m.TransformerDecoderLayer(8, 2, 16, 0.0)
        return m.TransformerDecoder(layer, 2, norm=m.LayerNorm(8))

    ours, theirs = _pair(make_dec, torch)
    a = _layer_arrays()
    arrays = {"tgt": a["tgt"], "memory": a["src"], "tgt_mask": _causal(4)}
    _compare(
        ours, theirs, arrays, lambda m, x: m(x["tgt"], x["memory"], tgt_mask=x["tgt_mask"]), torch
    )


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_full(batch_first, torch):
    def make(m):
        return m.Transformer(
            d_model=8,
            nhead=2,
            num_encoder_layers=2,
            num_decoder_layers=1,
            dim_feedforward=16,
            dropout=0.0,
            batch_first=batch_first,
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: enable_nested_tensor warning
        ours, theirs = _pair(make, torch)
    a = _layer_arrays(batch_first=batch_first)
    skpm = np.zeros((2, 5), bool)
    skpm[1, -2:] = True
    arrays = {
        "src": a["src"],
        "tgt": a["tgt"],
        "src_key_padding_mask": skpm,
        "memory_key_padding_mask": skpm,
    }

    def call(m, x):
        lib = cr if isinstance(x["src"], cr.Tensor) else torch
        mask = (nn if lib is cr else torch.nn).Transformer.generate_square_subsequent_mask(4)
        return m(
            x["src"],
            x["tgt"],
            tgt_mask=mask,
            src_key_padding_mask=x["src_key_padding_mask"],
            memory_key_padding_mask=x["memory_key_padding_mask"],
        )

    _compare(ours, theirs, arrays, call, torch)


def test_transformer_defaults_init_and_mask(torch):
    cr.manual_seed(0)
    model = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=1, num_decoder_layers=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: enable_nested_tensor warning
        reference = torch.nn.Transformer(16, 4, num_encoder_layers=1, num_decoder_layers=1)
    assert repr(model) == repr(reference)
    assert model.d_model == 16 and model.nhead == 4 and model.batch_first is False
    layer = model.encoder.layers[0]
    assert layer.linear1.out_features == 2048 and layer.dropout.p == 0.1
    assert layer.norm_first is False and layer.activation is F.relu
    assert model.encoder.norm is not None and model.decoder.norm is not None
    w = _np(layer.linear1.weight)  # xavier_uniform_ re-initialised: bound sqrt(6 / (16 + 2048))
    bound = math.sqrt(6 / (16 + 2048))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    m = nn.Transformer.generate_square_subsequent_mask(4).numpy()
    np.testing.assert_array_equal(m, torch.nn.Transformer.generate_square_subsequent_mask(4))
    with pytest.raises(RuntimeError, match="batch number of src and tgt"):
        model(cr.randn(5, 2, 16), cr.randn(4, 3, 16))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")


def test_encoder_layer_state_dict_from_torch_eval_fast_path(torch):
    theirs = torch.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1, batch_first=True)
    _randomize(theirs, torch, seed=5)
    theirs.eval()
    ours = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.1, batch_first=True).eval()
    state = {k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()}
    assert sorted(state) == sorted(ours.state_dict())
    ours.load_state_dict(state)
    x = _rand(3, 6, 16, seed=6)
    kpm = np.zeros((3, 6), bool)
    kpm[2, 4:] = True
    with torch.no_grad():  # torch's fused encoder kernel
        yt = theirs(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm)).numpy()
    with cr.no_grad():
        yo = ours(cr.tensor(x), src_key_padding_mask=cr.tensor(kpm)).numpy()
    # torch's fast path returns 0 at padded positions (nested tensors); compare the others
    keep = ~kpm
    np.testing.assert_allclose(yo[keep], yt[keep], rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("module", ["attention", "transformer", "moe"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    mod = importlib.import_module(f"chainrule.nn.{module}")
    result = doctest.testmod(
        mod,
        extraglobs={"chainrule": cr, "nn": nn, "F": F},
        optionflags=doctest.NORMALIZE_WHITESPACE,
    )
    assert result.failed == 0 and result.attempted > 0


def test_causal_sdpa_in_blocks_skips_masked_keys_and_matches_torch(monkeypatch, torch):
    # Causal attention in blocks of rows only looks at the keys a block can see; values and
    # gradients must equal torch's, for L == S and L > S, with a ragged last block.
    from chainrule.ops import attention as attention_op

    monkeypatch.setattr(attention_op, "_BLOCK_ELEMENTS", 3 * 2 * 9)
    rng = np.random.default_rng(1)
    for L, S in ((9, 9), (9, 6)):
        arrays = [rng.standard_normal(s) for s in ((2, L, 4), (2, S, 4), (2, S, 3))]
        assert (
            len(attention_op._row_blocks(*[np.empty(a.shape) for a in arrays[:2]], L, S, True)) > 2
        )
        ours = [cr.tensor(a, requires_grad=True) for a in arrays]
        theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
        y = F.scaled_dot_product_attention(*ours, is_causal=True)
        yt = torch.nn.functional.scaled_dot_product_attention(*theirs, is_causal=True)
        cot = np.cos(np.arange(y.numel())).reshape(y.shape)
        y.backward(cr.tensor(cot))
        yt.backward(torch.tensor(cot))
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-10)
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_sdpa_is_quiet_under_errstate_raise_and_flushes_tiny_weights():
    # Scores 1e4 apart: e^(s - max) underflows. Under errstate(all="raise") the weights below
    # float32's smallest normal number are flushed to exactly 0 (nothing is reported); under
    # the default error state they may stay subnormal, which changes nothing visible.
    q = cr.tensor(np.array([[[1.0, 0.0]]], dtype=np.float32), requires_grad=True)
    k = cr.tensor(np.array([[[1e4, 0.0], [0.0, 0.0], [-1e4, 0.0]]], dtype=np.float32))
    v = cr.tensor(np.arange(6, dtype=np.float32).reshape(1, 3, 2), requires_grad=True)
    with np.errstate(all="raise"):
        y = F.scaled_dot_product_attention(q, k, v, scale=1.0)
        y.sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), [[[0.0, 1.0]]])
    np.testing.assert_array_equal(v.grad.numpy(), [[[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]]])
    default = F.scaled_dot_product_attention(q.detach(), k, v.detach(), scale=1.0)
    np.testing.assert_array_equal(default.numpy(), y.detach().numpy())
