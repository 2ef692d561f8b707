"""Random loss calls (cross-entropy with indices, probabilities and extra dims, NLL, BCE, BCE
with logits and pos_weight, MSE, L1, Huber, smooth L1, KL) with random reductions, class
weights, ignore_index (every target ignored included) and label smoothing, in chainrule and
in PyTorch: same value and input gradient (float64), or both refuse."""

import random
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

KINDS = ["ce", "ce_probs", "ce_extra_dim", "nll", "bce", "bce_logits", "mse", "l1", "huber"]
KINDS += ["smooth_l1", "kl"]


def _case(rnd: random.Random) -> dict:
    n, c = rnd.randint(1, 4), rnd.randint(2, 5)
    rng = np.random.default_rng(rnd.randrange(10_000))
    target = rng.integers(0, c, n)
    reduction = rnd.choice(["mean", "sum", "none"])
    return {
        "kind": rnd.choice(KINDS),
        "x": rng.standard_normal((n, c)),
        "y": rng.standard_normal((n, c)),
        "target": target,
        "weight": rng.uniform(0.1, 2.0, c) if rnd.random() < 0.5 else None,
        "ignore": int(target[0]) if rnd.random() < 0.4 else -100,
        "smoothing": rnd.choice([0.0, 0.1]),
        "pos_weight": rng.uniform(0.5, 2.0, c) if rnd.random() < 0.5 else None,
        "reduction": reduction,
        "kl_reduction": rnd.choice(["batchmean", "sum", "none"]),
    }


def _loss(lib, f, case, x):
    def t(v):
        return None if v is None else lib.tensor(v)

    k, red, w = case["kind"], case["reduction"], t(case["weight"])
    y, target = case["y"], case["target"]
    probs = np.abs(y) / np.abs(y).sum(1, keepdims=True)
    if k == "ce":
        return f.cross_entropy(
            x,
            t(target),
            weight=w,
            ignore_index=case["ignore"],
            reduction=red,
            label_smoothing=case["smoothing"],
        )
    if k == "ce_probs":
        return f.cross_entropy(
            x, t(probs), weight=w, reduction=red, label_smoothing=case["smoothing"]
        )
    if k == "ce_extra_dim":
        x3 = x.reshape(x.shape[0], x.shape[1], 1) * lib.tensor(np.array([1.0, -0.5, 2.0]))
        t3 = t(np.stack([target, target[::-1].copy(), target], 1))
        return f.cross_entropy(x3, t3, weight=w, ignore_index=case["ignore"], reduction=red)
    if k == "nll":
        logp = f.log_softmax(x, 1)
        return f.nll_loss(logp, t(target), weight=w, ignore_index=case["ignore"], reduction=red)
    if k == "bce":
        return f.binary_cross_entropy(x.sigmoid(), t((y > 0) * 1.0), weight=w, reduction=red)
    if k == "bce_logits":
        return f.binary_cross_entropy_with_logits(
            x, t((y > 0) * 1.0), weight=w, pos_weight=t(case["pos_weight"]), reduction=red
        )
    if k == "mse":
        return f.mse_loss(x, t(y), reduction=red)
    if k == "l1":
        return f.l1_loss(x, t(y), reduction=red)
    if k == "huber":
        return f.huber_loss(x, t(y), reduction=red, delta=0.7)
    if k == "smooth_l1":
        return f.smooth_l1_loss(x, t(y), reduction=red, beta=0.6)
    return f.kl_div(f.log_softmax(x, 1), t(probs), reduction=case["kl_reduction"])


def _outcome(lib, f, case):
    x = lib.tensor(case["x"], requires_grad=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loss = _loss(lib, f, case, x)
            cot = np.cos(np.arange(loss.numel())).reshape(tuple(loss.shape))
            loss.backward(lib.tensor(cot))
    except (RuntimeError, ValueError):
        return None
    return np.asarray(loss.detach().numpy(), dtype=np.float64), x.grad.numpy()


@pytest.mark.parametrize("seed", range(3))
def test_random_loss_calls_match_torch(seed, torch):
    import torch.nn.functional as torch_f

    rnd = random.Random(seed)
    for _ in range(300):
        case = _case(rnd)
        ours, theirs = _outcome(cr, F, case), _outcome(torch, torch_f, case)
        where = {k: v for k, v in case.items() if k not in ("x", "y")}
        assert (ours is None) == (theirs is None), where
        if ours is None:
            continue
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=where)
