"""The losses beyond the course's list (margin ranking, hinge embedding, soft margin, Poisson
and Gaussian NLL, triplet margin, multi-margin, multilabel soft margin) against PyTorch."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 5))
Y = RNG.standard_normal((4, 5))
SIGNS = np.where(RNG.standard_normal(4) > 0, 1.0, -1.0)
SIGNS_2D = np.where(Y > 0, 1.0, -1.0)
LABELS = np.array([0, 3, 4, 1])
MULTI = (Y > 0).astype(float)
WEIGHT = RNG.uniform(0.5, 2.0, 5)

CASES = [
    (
        "margin_ranking",
        lambda f, t, x, r: f.margin_ranking_loss(
            x[:, 0], t(Y[:, 0]), t(SIGNS), margin=0.3, reduction=r
        ),
    ),
    (
        "hinge_embedding",
        lambda f, t, x, r: f.hinge_embedding_loss(x, t(SIGNS_2D), margin=0.8, reduction=r),
    ),
    ("soft_margin", lambda f, t, x, r: f.soft_margin_loss(x, t(SIGNS_2D), reduction=r)),
    ("poisson", lambda f, t, x, r: f.poisson_nll_loss(x, t(np.abs(Y) * 3), reduction=r)),
    (
        "poisson_full",
        lambda f, t, x, r: f.poisson_nll_loss(
            x.exp(), t(np.abs(Y) * 3), log_input=False, full=True, reduction=r
        ),
    ),
    (
        "gaussian",
        lambda f, t, x, r: f.gaussian_nll_loss(x, t(Y), t(np.abs(Y[:, :1]) + 0.1), reduction=r),
    ),
    (
        "gaussian_full",
        lambda f, t, x, r: f.gaussian_nll_loss(x, t(Y), t(np.abs(Y) + 0.1), full=True, reduction=r),
    ),
    ("triplet", lambda f, t, x, r: f.triplet_margin_loss(x, t(Y), t(Y[::-1].copy()), reduction=r)),
    (
        "triplet_swap_p1",
        lambda f, t, x, r: f.triplet_margin_loss(x, t(Y), t(-Y), p=1.0, swap=True, reduction=r),
    ),
    ("multi_margin", lambda f, t, x, r: f.multi_margin_loss(x, t(LABELS), reduction=r)),
    (
        "multi_margin_p2_w",
        lambda f, t, x, r: f.multi_margin_loss(
            x, t(LABELS), p=2, margin=0.5, weight=t(WEIGHT), reduction=r
        ),
    ),
    (
        "multilabel_soft",
        lambda f, t, x, r: f.multilabel_soft_margin_loss(
            x, t(MULTI), weight=t(WEIGHT), reduction=r
        ),
    ),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name, call", CASES, ids=[c[0] for c in CASES])
def test_loss_matches_torch(name, call, reduction, torch):
    outs = []
    for lib, f in ((cr, F), (torch, torch.nn.functional)):
        x = lib.tensor(X, requires_grad=True)
        loss = call(f, lambda v, lib=lib: lib.tensor(v), x, reduction)
        cot = np.cos(np.arange(loss.numel())).reshape(tuple(loss.shape))
        loss.backward(lib.tensor(cot))
        outs.append((loss.detach().numpy(), x.grad.numpy()))
    (lo, go), (lt, gt) = outs
    assert lo.shape == lt.shape
    np.testing.assert_allclose(lo, lt, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(go, gt, rtol=1e-10, atol=1e-12)


def test_loss_modules_call_the_functional_forms(torch):
    x = np.random.default_rng(3).standard_normal((4, 5))
    pairs = [
        ("MarginRankingLoss", {"margin": 0.2}, lambda t: (t(X[:, 0]), t(Y[:, 0]), t(SIGNS))),
        ("HingeEmbeddingLoss", {}, lambda t: (t(X), t(SIGNS_2D))),
        ("SoftMarginLoss", {"reduction": "sum"}, lambda t: (t(X), t(SIGNS_2D))),
        ("PoissonNLLLoss", {"full": True}, lambda t: (t(X), t(np.abs(Y) * 3))),
        ("GaussianNLLLoss", {"full": True}, lambda t: (t(X), t(Y), t(np.abs(Y) + 0.1))),
        ("TripletMarginLoss", {"swap": True}, lambda t: (t(X), t(Y), t(x))),
        ("MultiMarginLoss", {"margin": 0.5}, lambda t: (t(X), t(LABELS))),
        ("MultiLabelSoftMarginLoss", {}, lambda t: (t(X), t(MULTI))),
    ]
    for name, kw, args in pairs:
        ours = getattr(cr.nn, name)(**kw)(*args(cr.tensor)).item()
        theirs = getattr(torch.nn, name)(**kw)(*args(torch.tensor)).item()
        assert ours == pytest.approx(theirs, rel=1e-10), name
