"""OpSpecs for the losses and distances of chainrule.nn.functional."""

import warnings

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


PAIRS = [((), ()), ((5,), (5,)), ((3, 4), (3, 4)), ((2, 1, 3), (2, 1, 3))]


def pairs_away_from_equal(margin=0.05, lo=-2.0, hi=2.0):
    """(input, target) with |input - target| >= margin (l1's kink at input = target)."""

    def make(rng, shapes):
        x = rng.uniform(lo, hi, size=shapes[0])
        y = rng.uniform(lo, hi, size=shapes[1])
        d = x - y
        x = np.where(np.abs(d) < margin, x + np.where(d >= 0, 2 * margin, -2 * margin), x)
        return [np.asarray(x), np.asarray(y)]

    return make


def huber_inputs(kink, margin=0.05):
    """(input, target) with |input - target| away from 0 and from the kink."""

    def make(rng, shapes):
        x, y = pairs_away_from_equal(margin)(rng, shapes)
        d = x - y
        close = np.abs(np.abs(d) - kink) < margin
        x = np.where(close, x + np.sign(d) * 2 * margin, x)
        return [np.asarray(x), y]

    return make


def probs_and_targets(rng, shapes):
    """Probabilities in (0.05, 0.95) and soft targets in (0, 1); extra inputs are weights."""
    out = [rng.uniform(0.05, 0.95, size=shapes[0]), rng.uniform(0.0, 1.0, size=shapes[1])]
    out += [rng.uniform(0.5, 2.0, size=s) for s in shapes[2:]]
    return out


def logits_and_targets(rng, shapes):
    """Logits in (-4, 4), soft targets in (0, 1); extra inputs (weights) in (0.5, 2)."""
    out = [rng.uniform(-4.0, 4.0, size=shapes[0]), rng.uniform(0.0, 1.0, size=shapes[1])]
    out += [rng.uniform(0.5, 2.0, size=s) for s in shapes[2:]]
    return out


def class_targets(ignore=None, weights=False):
    """Logits (shapes[0]) and int64 class indices (shapes[1]); classes on dim 1 (0 if 1-D).
    ``ignore``: an ignore_index written into about a third of the targets (never all)."""

    def make(rng, shapes):
        xs, ts = shapes[0], shapes[1]
        n_classes = xs[0] if len(xs) == 1 else xs[1]
        x = rng.uniform(-3.0, 3.0, size=xs)
        t = rng.integers(0, n_classes, size=ts).astype(np.int64)
        if ignore is not None and t.size > 1:
            flat = t.reshape(-1)
            flat[1::3] = ignore
        out = [x, np.asarray(t)]
        if weights:
            out.append(rng.uniform(0.5, 2.0, size=(n_classes,)))
        return out

    return make


def prob_targets(weights=False):
    """Logits and a probability target of the same shape (classes on dim 1, 0 if 1-D)."""

    def make(rng, shapes):
        xs = shapes[0]
        axis = 0 if len(xs) == 1 else 1
        x = rng.uniform(-3.0, 3.0, size=xs)
        e = np.exp(rng.normal(size=xs))
        out = [x, e / e.sum(axis=axis, keepdims=True)]
        if weights:
            out.append(rng.uniform(0.5, 2.0, size=(xs[axis],)))
        return out

    return make


def log_probs_and_targets(rng, shapes):
    """log-probabilities (input) and class indices for nll_loss (extra input: weights)."""
    x, t = class_targets(ignore=-100)(rng, shapes[:2])
    n_classes = shapes[0][0] if len(shapes[0]) == 1 else shapes[0][1]
    x = x - np.log(np.exp(x).sum(axis=0 if x.ndim == 1 else 1, keepdims=True))
    out = [x, t]
    if len(shapes) > 2:
        out.append(rng.uniform(0.5, 2.0, size=(n_classes,)))
    return out


def kl_inputs(log_target=False):
    def make(rng, shapes):
        x = np.log(rng.uniform(0.05, 1.0, size=shapes[0]))
        y = rng.uniform(0.05, 1.0, size=shapes[1])
        return [x, np.log(y) if log_target else y]

    return make


def _focal_torch(x, t, alpha=0.25, gamma=2.0, reduction="none"):
    """torchvision.ops.sigmoid_focal_loss, written out (torchvision is not installed)."""
    p = x.sigmoid()
    ce = _tf().binary_cross_entropy_with_logits(x, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _quiet(fn):
    """fn with the UserWarning of kl_div's reduction='mean' (same in PyTorch) silenced."""

    def call(*args):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return fn(*args)

    return call


CLASS_CASES = [((4, 3), (4,)), ((1, 5), (1,)), ((2, 3, 4), (2, 4))]

SPECS = [
    OpSpec("mse_loss", F.mse_loss, lambda x, y: _tf().mse_loss(x, y), PAIRS),
    OpSpec(
        "mse_loss_sum",
        lambda x, y: F.mse_loss(x, y, reduction="sum"),
        lambda x, y: _tf().mse_loss(x, y, reduction="sum"),
        PAIRS,
    ),
    OpSpec(
        "mse_loss_none",
        lambda x, y: F.mse_loss(x, y, reduction="none"),
        lambda x, y: _tf().mse_loss(x, y, reduction="none"),
        PAIRS,
    ),
    OpSpec(
        "l1_loss",
        F.l1_loss,
        lambda x, y: _tf().l1_loss(x, y),
        PAIRS,
        make_inputs=pairs_away_from_equal(),
    ),
    OpSpec(
        "l1_loss_none",
        lambda x, y: F.l1_loss(x, y, reduction="none"),
        lambda x, y: _tf().l1_loss(x, y, reduction="none"),
        PAIRS,
        make_inputs=pairs_away_from_equal(),
    ),
    OpSpec(
        "smooth_l1_loss",
        F.smooth_l1_loss,
        lambda x, y: _tf().smooth_l1_loss(x, y),
        PAIRS,
        make_inputs=huber_inputs(1.0),
    ),
    OpSpec(
        "smooth_l1_loss_beta_sum",
        lambda x, y: F.smooth_l1_loss(x, y, reduction="sum", beta=0.5),
        lambda x, y: _tf().smooth_l1_loss(x, y, reduction="sum", beta=0.5),
        PAIRS,
        make_inputs=huber_inputs(0.5),
    ),
    OpSpec(
        "huber_loss",
        F.huber_loss,
        lambda x, y: _tf().huber_loss(x, y),
        PAIRS,
        make_inputs=huber_inputs(1.0),
    ),
    OpSpec(
        "huber_loss_delta_none",
        lambda x, y: F.huber_loss(x, y, reduction="none", delta=0.7),
        lambda x, y: _tf().huber_loss(x, y, reduction="none", delta=0.7),
        PAIRS,
        make_inputs=huber_inputs(0.7),
    ),
    OpSpec(
        "bce",
        F.binary_cross_entropy,
        lambda x, y: _tf().binary_cross_entropy(x, y),
        PAIRS,
        make_inputs=probs_and_targets,
    ),
    OpSpec(
        "bce_none",
        lambda x, y: F.binary_cross_entropy(x, y, reduction="none"),
        lambda x, y: _tf().binary_cross_entropy(x, y, reduction="none"),
        PAIRS,
        make_inputs=probs_and_targets,
    ),
    OpSpec(
        "bce_weight_sum",
        lambda x, y, w: F.binary_cross_entropy(x, y, weight=w, reduction="sum"),
        lambda x, y, w: _tf().binary_cross_entropy(x, y, weight=w, reduction="sum"),
        [((4, 3), (4, 3), (3,)), ((2, 3), (2, 3), (2, 1)), ((5,), (5,), ())],
        make_inputs=probs_and_targets,
        nondiff=(2,),
    ),
    OpSpec(
        "bce_logits",
        F.binary_cross_entropy_with_logits,
        lambda x, y: _tf().binary_cross_entropy_with_logits(x, y),
        PAIRS,
        make_inputs=logits_and_targets,
    ),
    OpSpec(
        "bce_logits_none",
        lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"),
        lambda x, y: _tf().binary_cross_entropy_with_logits(x, y, reduction="none"),
        PAIRS,
        make_inputs=logits_and_targets,
    ),
    OpSpec(
        "bce_logits_weight",
        lambda x, y, w: F.binary_cross_entropy_with_logits(x, y, weight=w),
        lambda x, y, w: _tf().binary_cross_entropy_with_logits(x, y, weight=w),
        [((4, 3), (4, 3), (3,)), ((2, 3), (2, 3), (2, 1))],
        make_inputs=logits_and_targets,
        nondiff=(2,),
    ),
    OpSpec(
        "bce_logits_pos_weight",
        lambda x, y, pw: F.binary_cross_entropy_with_logits(x, y, pos_weight=pw),
        lambda x, y, pw: _tf().binary_cross_entropy_with_logits(x, y, pos_weight=pw),
        [((4, 3), (4, 3), (3,)), ((5,), (5,), (1,))],
        make_inputs=logits_and_targets,
        nondiff=(2,),
    ),
    OpSpec(
        "bce_logits_pos_weight_weight_sum",
        lambda x, y, w, pw: F.binary_cross_entropy_with_logits(
            x, y, weight=w, pos_weight=pw, reduction="sum"
        ),
        lambda x, y, w, pw: _tf().binary_cross_entropy_with_logits(
            x, y, weight=w, pos_weight=pw, reduction="sum"
        ),
        [((4, 3), (4, 3), (4, 1), (3,))],
        make_inputs=logits_and_targets,
        nondiff=(2, 3),
    ),
    OpSpec(
        "cross_entropy_indices",
        F.cross_entropy,
        lambda x, t: _tf().cross_entropy(x, t),
        CLASS_CASES,
        make_inputs=class_targets(),
    ),
    OpSpec(
        "cross_entropy_none",
        lambda x, t: F.cross_entropy(x, t, reduction="none"),
        lambda x, t: _tf().cross_entropy(x, t, reduction="none"),
        CLASS_CASES,
        make_inputs=class_targets(),
    ),
    OpSpec(
        "cross_entropy_sum",
        lambda x, t: F.cross_entropy(x, t, reduction="sum"),
        lambda x, t: _tf().cross_entropy(x, t, reduction="sum"),
        CLASS_CASES,
        make_inputs=class_targets(),
    ),
    OpSpec(
        "cross_entropy_weight",
        lambda x, t, w: F.cross_entropy(x, t, weight=w),
        lambda x, t, w: _tf().cross_entropy(x, t, weight=w),
        CLASS_CASES,
        make_inputs=class_targets(weights=True),
        nondiff=(2,),
    ),
    OpSpec(
        "cross_entropy_ignore_index",
        F.cross_entropy,
        lambda x, t: _tf().cross_entropy(x, t),
        [((6, 3), (6,)), ((2, 3, 4), (2, 4))],
        make_inputs=class_targets(ignore=-100),
    ),
    OpSpec(
        "cross_entropy_ignore_index_weight_none",
        lambda x, t, w: F.cross_entropy(x, t, weight=w, ignore_index=1, reduction="none"),
        lambda x, t, w: _tf().cross_entropy(x, t, weight=w, ignore_index=1, reduction="none"),
        [((6, 3), (6,))],
        make_inputs=class_targets(ignore=1, weights=True),
        nondiff=(2,),
    ),
    OpSpec(
        "cross_entropy_label_smoothing",
        lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
        lambda x, t: _tf().cross_entropy(x, t, label_smoothing=0.1),
        [((6, 3), (6,)), ((2, 3, 4), (2, 4))],
        make_inputs=class_targets(ignore=-100),
    ),
    OpSpec(
        "cross_entropy_label_smoothing_weight",
        lambda x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.2),
        lambda x, t, w: _tf().cross_entropy(x, t, weight=w, label_smoothing=0.2),
        [((6, 4), (6,)), ((2, 3, 4), (2, 4))],
        make_inputs=class_targets(ignore=-100, weights=True),
        nondiff=(2,),
    ),
    OpSpec(
        "cross_entropy_label_smoothing_none",
        lambda x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.3, reduction="none"),
        lambda x, t, w: _tf().cross_entropy(x, t, weight=w, label_smoothing=0.3, reduction="none"),
        [((6, 4), (6,))],
        make_inputs=class_targets(ignore=-100, weights=True),
        nondiff=(2,),
    ),
    OpSpec(
        "cross_entropy_probs",
        F.cross_entropy,
        lambda x, y: _tf().cross_entropy(x, y),
        [((4, 3), (4, 3)), ((2, 3, 2), (2, 3, 2)), ((5,), (5,))],
        make_inputs=prob_targets(),
    ),
    OpSpec(
        "cross_entropy_probs_weight_smoothing",
        lambda x, y, w: F.cross_entropy(x, y, weight=w, label_smoothing=0.1),
        lambda x, y, w: _tf().cross_entropy(x, y, weight=w, label_smoothing=0.1),
        [((4, 3), (4, 3)), ((2, 3, 2), (2, 3, 2))],
        make_inputs=prob_targets(weights=True),
        nondiff=(2,),
    ),
    OpSpec(
        "cross_entropy_probs_none",
        lambda x, y: F.cross_entropy(x, y, reduction="none"),
        lambda x, y: _tf().cross_entropy(x, y, reduction="none"),
        [((4, 3), (4, 3))],
        make_inputs=prob_targets(),
    ),
    OpSpec(
        "cross_entropy_kdim",
        F.cross_entropy,
        lambda x, t: _tf().cross_entropy(x, t),
        [((2, 3, 2, 3), (2, 2, 3)), ((1, 4, 1, 2), (1, 1, 2))],
        make_inputs=class_targets(ignore=-100),
    ),
    OpSpec(
        "cross_entropy_kdim_none",
        lambda x, t: F.cross_entropy(x, t, reduction="none"),
        lambda x, t: _tf().cross_entropy(x, t, reduction="none"),
        [((2, 3, 2, 3), (2, 2, 3))],
        make_inputs=class_targets(),
    ),
    OpSpec(
        "cross_entropy_unbatched",
        F.cross_entropy,
        lambda x, t: _tf().cross_entropy(x, t),
        [((5,), ()), ((1,), ())],
        make_inputs=class_targets(),
    ),
    OpSpec(
        "cross_entropy_unbatched_smoothing_weight",
        lambda x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.2, reduction="sum"),
        lambda x, t, w: _tf().cross_entropy(x, t, weight=w, label_smoothing=0.2, reduction="sum"),
        [((5,), ())],
        make_inputs=class_targets(weights=True),
        nondiff=(2,),
    ),
    OpSpec(
        "cross_entropy_large_logits",
        F.cross_entropy,
        lambda x, t: _tf().cross_entropy(x, t),
        [((4, 5), (4,))],
        make_inputs=lambda rng, s: [
            rng.uniform(-80.0, 80.0, size=s[0]),
            rng.integers(0, s[0][1], size=s[1]),
        ],
        note="logits far apart: softmax saturates, log-softmax stays exact",
    ),
    OpSpec(
        "nll_loss",
        F.nll_loss,
        lambda x, t: _tf().nll_loss(x, t),
        CLASS_CASES + [((5,), ())],
        make_inputs=log_probs_and_targets,
    ),
    OpSpec(
        "nll_loss_weight",
        lambda x, t, w: F.nll_loss(x, t, weight=w),
        lambda x, t, w: _tf().nll_loss(x, t, weight=w),
        [((6, 3), (6,), (3,)), ((2, 3, 4), (2, 4), (3,))],
        make_inputs=log_probs_and_targets,
        nondiff=(2,),
    ),
    OpSpec(
        "nll_loss_none",
        lambda x, t: F.nll_loss(x, t, reduction="none"),
        lambda x, t: _tf().nll_loss(x, t, reduction="none"),
        [((6, 3), (6,)), ((2, 3, 4), (2, 4))],
        make_inputs=log_probs_and_targets,
    ),
    OpSpec(
        "nll_loss_sum",
        lambda x, t: F.nll_loss(x, t, reduction="sum"),
        lambda x, t: _tf().nll_loss(x, t, reduction="sum"),
        [((6, 3), (6,))],
        make_inputs=log_probs_and_targets,
    ),
    OpSpec(
        "kl_div",
        _quiet(F.kl_div),
        _quiet(lambda x, y: _tf().kl_div(x, y)),
        [((), ()), ((4, 3), (4, 3)), ((2, 1, 3), (2, 1, 3))],
        make_inputs=kl_inputs(),
    ),
    OpSpec(
        "kl_div_batchmean",
        lambda x, y: F.kl_div(x, y, reduction="batchmean"),
        lambda x, y: _tf().kl_div(x, y, reduction="batchmean"),
        [((4, 3), (4, 3)), ((5,), (5,))],
        make_inputs=kl_inputs(),
    ),
    OpSpec(
        "kl_div_none",
        lambda x, y: F.kl_div(x, y, reduction="none"),
        lambda x, y: _tf().kl_div(x, y, reduction="none"),
        [((4, 3), (4, 3))],
        make_inputs=kl_inputs(),
    ),
    OpSpec(
        "kl_div_log_target",
        lambda x, y: F.kl_div(x, y, reduction="sum", log_target=True),
        lambda x, y: _tf().kl_div(x, y, reduction="sum", log_target=True),
        [((4, 3), (4, 3)), ((5,), (5,))],
        make_inputs=kl_inputs(log_target=True),
    ),
    OpSpec(
        "cosine_similarity",
        F.cosine_similarity,
        lambda a, b: _tf().cosine_similarity(a, b),
        [((4, 3), (4, 3)), ((2, 3, 2), (2, 3, 2))],
    ),
    OpSpec(
        "cosine_similarity_dim_broadcast",
        lambda a, b: F.cosine_similarity(a, b, dim=-1),
        lambda a, b: _tf().cosine_similarity(a, b, dim=-1),
        [((4, 3), (1, 3)), ((3,), (2, 3)), ((2, 1), (2, 3))],
    ),
    OpSpec(
        "sigmoid_focal_loss",
        F.sigmoid_focal_loss,
        _focal_torch,
        [((5,), (5,)), ((3, 4), (3, 4))],
        make_inputs=logits_and_targets,
    ),
    OpSpec(
        "sigmoid_focal_loss_mean_gamma",
        lambda x, y: F.sigmoid_focal_loss(x, y, alpha=0.6, gamma=1.5, reduction="mean"),
        lambda x, y: _focal_torch(x, y, alpha=0.6, gamma=1.5, reduction="mean"),
        [((3, 4), (3, 4))],
        make_inputs=logits_and_targets,
    ),
    OpSpec(
        "sigmoid_focal_loss_no_alpha_sum",
        lambda x, y: F.sigmoid_focal_loss(x, y, alpha=-1, reduction="sum"),
        lambda x, y: _focal_torch(x, y, alpha=-1, reduction="sum"),
        [((3, 4), (3, 4))],
        make_inputs=logits_and_targets,
    ),
]


# ------------------------------------------------------------ CTC (on logits: its gradient is
# PyTorch's formula for log-probabilities that come from log_softmax)
_CTC_TARGETS = [[1, 2, 2], [3, 1, 0]]


def _ctc(lib, f):
    def call(logits):
        targets = lib.tensor(_CTC_TARGETS)
        return f.ctc_loss(f.log_softmax(logits, 2), targets, lib.tensor([6, 5]), lib.tensor([3, 2]))

    return call


def _ctc_torch(logits):
    import torch

    return _ctc(torch, torch.nn.functional)(logits)


SPECS += [
    OpSpec("ctc_loss", _ctc(chainrule, F), _ctc_torch, [((6, 2, 4),)], rtol=1e-4, atol=1e-5),
]


# ------------------------------------------------------------ pdist, multilabel margin, triplet
def _pdist(p):
    return OpSpec(
        f"pdist_p{p}",
        lambda x: F.pdist(x, p),
        lambda x: _torch().pdist(x, p),
        [((4, 3),), ((2, 5),), ((1, 3),), ((5, 1),)],
    )


def multilabel_targets(rng, shapes):
    """Scores and int64 label lists: a few labels (repeats allowed) then -1, or all C labels."""
    xs = shapes[0]
    c = xs[-1]
    x = rng.uniform(-1.0, 1.0, size=xs)
    t = rng.integers(0, c, size=xs).astype(np.int64)
    flat = t.reshape(-1, c)
    flat[0, 2:] = -1
    if flat.shape[0] > 2:
        flat[2, 0] = -1  # no labels at all: loss 0
    return [x, t]


def _cosine_distance(x1, x2):
    return 1.0 - F.cosine_similarity(x1, x2)


def _cosine_distance_torch(x1, x2):
    return 1.0 - _tf().cosine_similarity(x1, x2)


TRIPLETS = [((4, 3), (4, 3), (4, 3)), ((5,), (5,), (5,))]

SPECS += (
    [_pdist(p) for p in (2, 1, 3, float("inf"))]
    + [
        OpSpec(
            f"multilabel_margin_loss_{r}",
            lambda x, t, r=r: F.multilabel_margin_loss(x, t, reduction=r),
            lambda x, t, r=r: _tf().multilabel_margin_loss(x, t, reduction=r),
            [((3, 5), (3, 5)), ((4,), (4,))],
            make_inputs=multilabel_targets,
        )
        for r in ("mean", "sum", "none")
    ]
    + [
        OpSpec(
            "triplet_margin_with_distance_loss",
            lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, margin=2.0),
            lambda a, p, n: _tf().triplet_margin_with_distance_loss(a, p, n, margin=2.0),
            TRIPLETS,
        ),
        OpSpec(
            "triplet_margin_with_distance_loss_cosine_swap",
            lambda a, p, n: F.triplet_margin_with_distance_loss(
                a, p, n, distance_function=_cosine_distance, margin=0.5, swap=True, reduction="none"
            ),
            lambda a, p, n: _tf().triplet_margin_with_distance_loss(
                a,
                p,
                n,
                distance_function=_cosine_distance_torch,
                margin=0.5,
                swap=True,
                reduction="none",
            ),
            [((4, 3), (4, 3), (4, 3))],
        ),
    ]
)
