"""Every OpSpec against PyTorch: forward values and input gradients for a random cotangent."""

import numpy as np
import pytest
from opspec import cases, differentiable_positions, load_specs

import chainrule

SPECS = [s for s in load_specs() if s.torch_fn is not None]
PARAMS = [
    pytest.param(spec, cid, arrays, id=f"{spec.name}[{cid}]")
    for spec in SPECS
    for cid, arrays in cases(spec)
]


def _to_float32(a):
    return a.astype(np.float32) if a.dtype.kind == "f" else a


@pytest.mark.parametrize("spec,cid,arrays", PARAMS)
def test_matches_torch(spec, cid, arrays, torch):
    arrays = [_to_float32(a) for a in arrays]
    diff = differentiable_positions(spec, arrays)
    ours = [chainrule.from_numpy(a) for a in arrays]
    theirs = [torch.from_numpy(np.array(a)) for a in arrays]
    for i in diff:
        ours[i].requires_grad_(True)
        theirs[i].requires_grad_(True)

    out = spec.fn(*ours)
    ref = spec.torch_fn(*theirs)
    ref_np = ref.detach().numpy()
    assert tuple(out.shape) == tuple(ref_np.shape), f"{spec.name}: shape {out.shape} vs {ref.shape}"
    assert out.dtype.name == str(ref.dtype).replace("torch.", ""), (out.dtype, ref.dtype)
    np.testing.assert_allclose(
        out.detach().numpy(), ref_np, rtol=spec.rtol, atol=spec.atol, err_msg=f"{spec.name} forward"
    )
    if not diff or not ref.requires_grad:
        return
    rng = np.random.default_rng(7)
    cot = rng.standard_normal(ref_np.shape).astype(ref_np.dtype)
    ref.backward(torch.from_numpy(cot.copy()))
    if not out.requires_grad:
        # Ops without a gradient (sign, floor, ...) record nothing; torch's gradient must be 0.
        for i in diff:
            g_ref = theirs[i].grad
            assert g_ref is None or not g_ref.any(), f"{spec.name}: torch has a gradient"
        return
    out.backward(chainrule.from_numpy(cot.copy()))
    for i in diff:
        g_ref = theirs[i].grad
        g = ours[i].grad
        if g_ref is None:
            assert g is None or not np.any(g.numpy()), f"{spec.name}: input {i} grad should be 0"
            continue
        assert g is not None, f"{spec.name}: input {i} received no gradient"
        np.testing.assert_allclose(
            g.numpy(),
            g_ref.numpy(),
            rtol=spec.rtol,
            atol=spec.atol,
            err_msg=f"{spec.name}: gradient of input {i}",
        )
