"""OpSpecs for the layers' functional ops: normalisation (fused LayerNorm, BatchNorm, RMSNorm),
group_norm, embedding (row gather with scatter-add backward), channel dropout and
cosine_embedding_loss."""

import numpy as np
from opspec import OpSpec

import chainrule
import chainrule.nn.functional as F


def _tf():
    import torch.nn.functional as tf

    return tf


def _torch():
    import torch

    return torch


def _stats(c):
    """Fixed running statistics for eval-mode batch_norm (mean in [-0.5, 0.5], var in [0.5, 2])."""
    return np.linspace(-0.5, 0.5, c), np.linspace(0.5, 2.0, c)


def _bn_eval(x, w, b):
    m, v = _stats(x.shape[1])
    return F.batch_norm(x, chainrule.tensor(m), chainrule.tensor(v), w, b, training=False)


def _bn_eval_torch(x, w, b):
    m, v = _stats(x.shape[1])
    t = _torch()
    return _tf().batch_norm(
        x, t.tensor(m, dtype=x.dtype), t.tensor(v, dtype=x.dtype), w, b, training=False
    )


def indices(pad=None):
    """A float table (first shape) and integer indices (second shape) with repeats."""

    def make(rng, shapes):
        (v, d), ishape = shapes
        w = rng.uniform(-2, 2, size=(v, d))
        idx = rng.integers(0, v, size=ishape)
        if idx.ndim and idx.size > 2:
            idx.flat[1] = idx.flat[0]  # a repeated index: its gradients accumulate
            if pad is not None:
                idx.flat[2] = pad
        return [w, idx.astype(np.int64)]

    return make


def _dropout2d_fixed(x):
    chainrule.manual_seed(5)  # the same channel mask on every call: gradcheck needs a function
    return F.dropout2d(x, p=0.4)


def _alpha_dropout_fixed(x):
    chainrule.manual_seed(5)
    return F.alpha_dropout(x, p=0.3, training=True)


def cosine_pairs(rng, shapes):
    a, b, t = shapes
    y = np.where(rng.uniform(size=t) < 0.5, 1, -1).astype(np.int64)
    return [rng.uniform(-2, 2, size=a), rng.uniform(-2, 2, size=b), y]


NORM_AFFINE = [((3, 4), (4,), (4,)), ((2, 3, 4), (4,), (4,)), ((5,), (5,), (5,))]

SPECS = [
    OpSpec(
        "layer_norm_affine",
        lambda x, w, b: F.layer_norm(x, tuple(w.shape), w, b),
        lambda x, w, b: _tf().layer_norm(x, tuple(w.shape), w, b),
        NORM_AFFINE + [((2, 3, 4), (3, 4), (3, 4))],
    ),
    OpSpec(
        "layer_norm_plain",
        lambda x: F.layer_norm(x, (x.shape[-1],)),
        lambda x: _tf().layer_norm(x, (x.shape[-1],)),
        [((3, 4),), ((2, 1, 5),), ((6,),)],
    ),
    OpSpec(
        "batch_norm_train",
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        lambda x, w, b: _tf().batch_norm(x, None, None, w, b, training=True),
        [((4, 3), (3,), (3,)), ((2, 3, 5), (3,), (3,)), ((2, 2, 3, 3), (2,), (2,))],
    ),
    OpSpec(
        "batch_norm_train_plain",
        lambda x: F.batch_norm(x, None, None, training=True),
        lambda x: _tf().batch_norm(x, None, None, training=True),
        [((5, 2),), ((3, 1, 4),)],
    ),
    OpSpec(
        "batch_norm_eval",
        _bn_eval,
        _bn_eval_torch,
        [((4, 3), (3,), (3,)), ((2, 2, 3, 3), (2,), (2,))],
    ),
    OpSpec(
        "group_norm",
        lambda x, w, b: F.group_norm(x, 2, w, b),
        lambda x, w, b: _tf().group_norm(x, 2, w, b),
        [((3, 4, 5), (4,), (4,)), ((2, 8), (8,), (8,)), ((2, 6, 2, 2), (6,), (6,))],
    ),
    OpSpec(
        "rms_norm",
        lambda x, w: F.rms_norm(x, tuple(w.shape), w),
        lambda x, w: _tf().rms_norm(x, tuple(w.shape), w),
        [((3, 4), (4,)), ((2, 3, 4), (3, 4)), ((5,), (5,))],
    ),
    OpSpec(
        "rms_norm_plain",
        lambda x: F.rms_norm(x, (x.shape[-1],), eps=1e-5),
        lambda x: _tf().rms_norm(x, (x.shape[-1],), eps=1e-5),
        [((3, 4),), ((2, 1, 5),)],
    ),
    OpSpec(
        "embedding",
        lambda w, i: F.embedding(i, w),
        lambda w, i: _tf().embedding(i, w),
        [((6, 3), (5,)), ((6, 3), (2, 4)), ((6, 3), ()), ((4, 1), (3,))],
        make_inputs=indices(),
    ),
    OpSpec(
        "embedding_padding_idx",
        lambda w, i: F.embedding(i, w, padding_idx=2),
        lambda w, i: _tf().embedding(i, w, padding_idx=2),
        [((6, 3), (5,)), ((6, 3), (2, 4))],
        make_inputs=indices(pad=2),
        gradcheck=False,
        note="not the true derivative by design: the padding row gets no gradient",
    ),
    OpSpec(
        "embedding_scale_grad_by_freq",
        lambda w, i: F.embedding(i, w, scale_grad_by_freq=True),
        lambda w, i: _tf().embedding(i, w, scale_grad_by_freq=True),
        [((5, 3), (7,)), ((5, 2), (3, 4))],
        make_inputs=indices(),
        gradcheck=False,
        note="not the true derivative by design: row gradients divided by their counts",
    ),
    OpSpec(
        "dropout2d_fixed_mask",
        _dropout2d_fixed,
        None,
        [((3, 4, 2, 2),)],
        note="random: checked against torch by statistics in tests/nn/test_layers.py",
    ),
    OpSpec(
        "alpha_dropout_fixed_mask",
        _alpha_dropout_fixed,
        None,
        [((20,),), ((4, 5),)],
        note="random: checked against torch by statistics in tests/nn/test_layers.py",
    ),
    OpSpec(
        "cosine_embedding_loss",
        lambda a, b, y: F.cosine_embedding_loss(a, b, y, margin=0.2),
        lambda a, b, y: _tf().cosine_embedding_loss(a, b, y, margin=0.2),
        [((4, 3), (4, 3), (4,)), ((5,), (5,), ())],
        make_inputs=cosine_pairs,
    ),
    OpSpec(
        "cosine_embedding_loss_none",
        lambda a, b, y: F.cosine_embedding_loss(a, b, y, reduction="none"),
        lambda a, b, y: _tf().cosine_embedding_loss(a, b, y, reduction="none"),
        [((4, 3), (4, 3), (4,))],
        make_inputs=cosine_pairs,
    ),
]


# ------------------------------------------------------------ embedding_bag, bilinear, LRN


def bag_inputs(psw=False):
    """A (V, D) table, int64 indices (1-D: split by _BAG_OFFSETS; 2-D: one bag per row) with a
    repeat and the padding index 2 in the first bag, and optional per-sample weights."""

    def make(rng, shapes):
        (v, d), ishape = shapes[0], shapes[1]
        idx = rng.integers(0, v, size=ishape).astype(np.int64)
        flat = idx.reshape(-1)
        flat[1], flat[2] = flat[0], 2
        out = [rng.uniform(-2, 2, size=(v, d)), idx]
        if psw:
            out.append(rng.uniform(0.5, 2.0, size=ishape))
        return out

    return make


_BAG_OFFSETS = [0, 3, 3, 5]  # for 7 indices: bags of 3, 0 (empty), 2 and 2


def _bag(lib, f, **kw):
    """embedding_bag in chainrule or torch: 1-D indices use _BAG_OFFSETS (with their end
    appended when include_last_offset)."""

    def call(w, i, *psw):
        offsets = None
        if i.ndim == 1:
            offs = _BAG_OFFSETS + ([i.shape[0]] if kw.get("include_last_offset") else [])
            offsets = lib.tensor(offs)
        return f.embedding_bag(i, w, offsets, per_sample_weights=psw[0] if psw else None, **kw)

    return call


def _bag_torch(**kw):
    def call(*args):
        return _bag(_torch(), _tf(), **kw)(*args)

    return call


BAG_CASES = [((6, 3), (7,)), ((6, 3), (3, 4)), ((5, 1), (7,))]


def _bag_spec(name, psw=False, cases=BAG_CASES, **kw):
    return OpSpec(
        name,
        _bag(chainrule, F, **kw),
        _bag_torch(**kw),
        [c + ((c[1],) if psw else ()) for c in cases],
        make_inputs=bag_inputs(psw),
    )


def _bag_by_freq(w, i):
    return F.embedding_bag(i, w, mode="sum", scale_grad_by_freq=True)


def _bag_by_freq_torch(w, i):
    # NOTE: torch 2.x's CPU embedding_bag divides some rows by another row's count (it indexes
    # the counts by the position among unique indices); embedding does it right.
    return _tf().embedding(i, w, scale_grad_by_freq=True).sum(1)


SPECS += [
    _bag_spec("embedding_bag_sum", mode="sum"),
    _bag_spec("embedding_bag_mean", mode="mean"),
    _bag_spec("embedding_bag_max", mode="max"),
    _bag_spec("embedding_bag_sum_padding", mode="sum", padding_idx=2),
    _bag_spec("embedding_bag_mean_padding", mode="mean", padding_idx=2),
    _bag_spec("embedding_bag_max_padding", mode="max", padding_idx=2),
    _bag_spec("embedding_bag_mean_last_offset", mode="mean", include_last_offset=True),
    _bag_spec("embedding_bag_per_sample_weights", psw=True, mode="sum"),
    _bag_spec("embedding_bag_per_sample_weights_padding", psw=True, mode="sum", padding_idx=2),
    OpSpec(
        "embedding_bag_scale_grad_by_freq",
        _bag_by_freq,
        _bag_by_freq_torch,
        [((6, 3), (3, 4))],
        make_inputs=bag_inputs(),
        gradcheck=False,
        note="not the true derivative by design: row gradients divided by their counts",
    ),
    OpSpec(
        "bilinear",
        F.bilinear,
        lambda a, b, w, c: _tf().bilinear(a, b, w, c),
        [((4, 3), (4, 5), (2, 3, 5), (2,)), ((3,), (4,), (2, 3, 4), (2,))]
        + [((2, 3, 3), (2, 3, 4), (1, 3, 4), (1,))],
    ),
    OpSpec(
        "bilinear_no_bias",
        F.bilinear,
        lambda a, b, w: _tf().bilinear(a, b, w),
        [((4, 3), (4, 2), (3, 3, 2))],
    ),
    OpSpec(
        "local_response_norm",
        lambda x: F.local_response_norm(x, 3, alpha=0.5, beta=0.75, k=1.5),
        lambda x: _tf().local_response_norm(x.contiguous(), 3, alpha=0.5, beta=0.75, k=1.5),
        [((2, 5, 3),), ((2, 4, 3, 3),), ((1, 4, 2, 2, 2),)],
        note="torch's own view() refuses non-contiguous 4-D+ inputs: it gets a contiguous copy",
    ),
    OpSpec(
        "local_response_norm_even_size",
        lambda x: F.local_response_norm(x, 2),
        lambda x: _tf().local_response_norm(x.contiguous(), 2),
        [((2, 5, 3),), ((1, 3, 2, 2),)],
    ),
]
