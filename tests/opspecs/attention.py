"""OpSpecs for the fused scaled-dot-product attention (chainrule.ops.attention): plain, with
broadcast batch dims, boolean and (differentiable) float masks, causal, a custom scale and
dropout on the weights (fixed seed, chainrule only)."""

import numpy as np
from opspec import OpSpec

import chainrule
import chainrule.nn.functional as F


def _tf():
    import torch.nn.functional as tf

    return tf


def _sdpa(**kw):
    return lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kw)


def _sdpa_torch(**kw):
    return lambda q, k, v: _tf().scaled_dot_product_attention(q, k, v, **kw)


def _bool_mask(rows, cols):
    """A fixed boolean mask (True = take part) with every row keeping at least one key."""
    m = (np.arange(rows)[:, None] * 3 + np.arange(cols)[None, :]) % 4 != 1
    m[:, 0] = True
    return m


def _with_bool_mask(torch_side: bool):
    def call(q, k, v):
        m = _bool_mask(q.shape[-2], k.shape[-2])
        if torch_side:
            import torch

            return _tf().scaled_dot_product_attention(q, k, v, attn_mask=torch.from_numpy(m))
        return F.scaled_dot_product_attention(q, k, v, attn_mask=chainrule.tensor(m))

    return call


def _dropout_fixed(q, k, v):
    chainrule.manual_seed(3)  # the same mask on every call: gradcheck needs a function
    return F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)


SHAPES = [
    ((3, 4), (5, 4), (5, 2)),  # unbatched
    ((2, 3, 4), (2, 5, 4), (2, 5, 6)),
    ((2, 1, 3, 4), (1, 2, 5, 4), (1, 2, 5, 3)),  # broadcast batch dims
    ((1, 1, 4), (1, 1, 4), (1, 1, 1)),  # one query, one key
]

SPECS = [
    OpSpec(
        "scaled_dot_product_attention",
        _sdpa(),
        _sdpa_torch(),
        SHAPES,
        rtol=1e-4,
        atol=1e-5,
        note="two chained matmuls with a softmax in between: float32 rounding",
    ),
    OpSpec(
        "scaled_dot_product_attention_bool_mask",
        _with_bool_mask(False),
        _with_bool_mask(True),
        [((3, 4), (5, 4), (5, 2)), ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3))],
        rtol=1e-4,
        atol=1e-5,
    ),
    OpSpec(
        "scaled_dot_product_attention_float_mask",
        lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
        lambda q, k, v, m: _tf().scaled_dot_product_attention(q, k, v, attn_mask=m),
        [((2, 3, 4), (2, 5, 4), (2, 5, 6), (3, 5)), ((2, 3, 4), (2, 5, 4), (2, 5, 6), (2, 1, 5))],
        rtol=1e-4,
        atol=1e-5,
        note="the float mask is differentiable (its gradient is dL/dscores)",
    ),
    OpSpec(
        "scaled_dot_product_attention_causal",
        _sdpa(is_causal=True),
        _sdpa_torch(is_causal=True),
        [((2, 4, 3), (2, 4, 3), (2, 4, 2)), ((3, 3), (5, 3), (5, 2))],
        rtol=1e-4,
        atol=1e-5,
    ),
    OpSpec(
        "scaled_dot_product_attention_scale",
        _sdpa(scale=0.7),
        _sdpa_torch(scale=0.7),
        [((2, 3, 4), (2, 5, 4), (2, 5, 6))],
        rtol=1e-4,
        atol=1e-5,
    ),
    OpSpec(
        "scaled_dot_product_attention_dropout",
        _dropout_fixed,
        None,
        [((2, 3, 4), (2, 5, 4), (2, 5, 6))],
        note="random weights mask: no torch reference; gradcheck with a fixed seed",
    ),
]
