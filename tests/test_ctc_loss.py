"""The CTC loss against PyTorch: values and gradients for every reduction, padded and
concatenated targets, repeated labels (which need a blank between them), empty targets,
impossible alignments (inf, or 0 with zero_infinity), unbatched input, float32."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

T, N, C = 12, 4, 5


def _inputs(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((T, N, C))
    lp = (logits - np.log(np.exp(logits).sum(-1, keepdims=True))).astype(dtype)
    targets = rng.integers(1, C, (N, 5))
    targets[1, 1] = targets[1, 0]  # a repeated label
    input_lengths = np.array([12, 9, 7, 2])
    target_lengths = np.array([5, 3, 0, 2])  # an empty target; the last one is too long
    targets[3, :2] = [2, 2]  # "2 2" needs 3 frames (a blank between): impossible in 2
    return lp, targets, input_lengths, target_lengths


def _run(lib, f, lp, targets, il, tl, **kw):
    x = lib.tensor(lp, requires_grad=True)
    loss = f.ctc_loss(x, lib.tensor(targets), lib.tensor(il), lib.tensor(tl), **kw)
    cot = np.cos(np.arange(loss.numel())).reshape(tuple(loss.shape))
    loss.backward(lib.tensor(cot))
    return loss.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("concatenated", [False, True])
def test_ctc_loss_matches_torch(torch, reduction, zero_infinity, concatenated):
    lp, targets, il, tl = _inputs()
    if concatenated:
        targets = np.concatenate([targets[n, : tl[n]] for n in range(N)])
    kw = dict(reduction=reduction, zero_infinity=zero_infinity)
    ours = _run(cr, F, lp, targets, il, tl, **kw)
    theirs = _run(torch, torch.nn.functional, lp, targets, il, tl, **kw)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, equal_nan=True)
    if reduction == "none":
        assert np.isinf(ours[0][3]) != zero_infinity  # the impossible alignment


def test_ctc_loss_unbatched_and_float32_match_torch(torch):
    lp, targets, il, tl = _inputs(np.float32, seed=1)
    for lo, lt in (
        (
            _run(cr, F, lp[:, 0], targets[0, :3], np.array([10]), np.array([3])),
            _run(torch, torch.nn.functional, lp[:, 0], targets[0, :3], np.array(10), np.array(3)),
        ),
        (
            _run(cr, F, lp[:, :3], targets[:3], il[:3], tl[:3]),
            _run(torch, torch.nn.functional, lp[:, :3], targets[:3], il[:3], tl[:3]),
        ),
    ):
        for a, b in zip(lo, lt, strict=True):
            assert a.dtype == b.dtype == np.float32
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_ctc_loss_module_and_blank_index(torch):
    lp, targets, il, tl = _inputs(seed=2)
    targets = np.where(targets == 4, 1, targets)  # labels 1..3: class 4 can be the blank
    ours = cr.nn.CTCLoss(blank=4, reduction="sum")
    theirs = torch.nn.CTCLoss(blank=4, reduction="sum")
    assert repr(ours) == repr(theirs)
    a = ours(cr.tensor(lp[:, :3]), cr.tensor(targets[:3]), cr.tensor(il[:3]), cr.tensor(tl[:3]))
    b = theirs(
        torch.tensor(lp[:, :3]),
        torch.tensor(targets[:3]),
        torch.tensor(il[:3]),
        torch.tensor(tl[:3]),
    )
    assert a.item() == pytest.approx(b.item(), rel=1e-10)
