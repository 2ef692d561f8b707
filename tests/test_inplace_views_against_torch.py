"""Random programs of views (slices, reshapes, transposes, expands, views of views), in-place
ops on views and on their base (mul_, add_, div_, clamp_, copy_, fill_, detach_), setitem and
out-of-place steps, run in chainrule and in PyTorch: x's gradient must agree, or both must
refuse (a value needed for backward was changed in place, or a view was detached in place)."""

import random

import numpy as np
import pytest

import chainrule as cr

VIEWS = ("row", "col", "T", "flat", "rowslice", "unsqueeze", "permute", "expand", "of_view")
ON_VIEWS = ("mul_x", "div_", "clamp_", "copy_", "fill_", "detach_")


def _program(seed: int) -> list:
    rnd = random.Random(seed)
    steps, n_views = [], 0
    for _ in range(rnd.randint(2, 9)):
        kind = rnd.choice(["view"] * 3 + ["on_base", "on_view", "outplace", "setitem", "use"])
        scale = round(rnd.uniform(0.5, 2.0), 2)
        if kind == "view":
            of = rnd.randrange(n_views) if n_views else -1
            steps.append(("view", rnd.choice(VIEWS), rnd.randint(0, 2), of))
            n_views += 1
        elif kind == "on_base":
            steps.append(("on_base", rnd.choice(["mul_", "add_", "sub_", "div_"]), scale))
        elif kind == "on_view" and n_views:
            steps.append(("on_view", rnd.randrange(n_views), rnd.choice(ON_VIEWS), scale))
        elif kind == "outplace":
            steps.append(("outplace", scale))
        elif kind == "setitem":
            steps.append(("setitem", rnd.randint(0, 2), scale))
        elif kind == "use" and n_views:
            steps.append(("use", rnd.randrange(n_views)))
    return steps


def _view(y, views, kind: str, i: int, of: int):
    if kind == "of_view" and of >= 0:
        v = views[of]
        return v.reshape(-1)[:2] if v.is_contiguous() else v[..., :1]
    if kind == "row":
        return y[i]
    if kind == "col":
        return y[:, i]
    if kind == "T":
        return y.T
    if kind == "flat":
        return y.reshape(-1)[i : i + 4]
    if kind == "unsqueeze":
        return y.unsqueeze(0)
    if kind == "permute":
        return y.permute(1, 0)
    if kind == "expand":
        return y[:1].expand(3, 3)
    return y[i:]


def _on_view(x, v, op: str, scale: float) -> None:
    if op == "mul_x":
        v.mul_(x.mean() * scale)
    elif op == "div_":
        v.div_(scale)
    elif op == "clamp_":
        v.clamp_(max=scale * 5)
    elif op == "copy_":
        v.copy_(x.reshape(-1)[: v.numel()].reshape(v.shape) * scale)
    elif op == "fill_":
        v.fill_(scale)
    else:
        v.detach_()


def _run(lib, steps):
    x = lib.tensor(np.arange(1.0, 10.0).reshape(3, 3), requires_grad=True)
    y = x * 1.0
    views, uses = [], []
    for step in steps:
        kind = step[0]
        if kind == "view":
            views.append(_view(y, views, *step[1:]))
        elif kind == "on_base":
            getattr(y, step[1])(step[2])
        elif kind == "on_view":
            _on_view(x, views[step[1]], step[2], step[3])
        elif kind == "outplace":
            y = y * step[1] + x  # the old views stay views of the old y
        elif kind == "setitem":
            y[step[1]] = x[step[1]] * step[2]
        else:
            v = views[step[1]]
            uses.append((v * v).sum() if v.requires_grad else (v * x.sum()).sum())
    total = (y * y).sum()
    for u in uses:
        total = total + u
    for v in views:
        total = total + (v * 0.5 * x.mean()).sum()
    total.backward()
    return x.grad.numpy()


@pytest.mark.parametrize("block", range(6))
def test_random_view_and_inplace_programs_match_torch(block, torch):
    checked = 0
    for seed in range(block * 100, block * 100 + 100):
        steps = _program(seed)
        outcomes = []
        for lib in (cr, torch):
            try:
                outcomes.append(_run(lib, steps))
            except RuntimeError as e:
                message = str(e)
                assert "inplace" in message or "in-place" in message or "memory" in message

                outcomes.append(None)
        ours, theirs = outcomes
        assert (ours is None) == (theirs is None), (seed, steps, ours, theirs)
        if ours is not None:
            np.testing.assert_allclose(ours, theirs, rtol=1e-6, err_msg=f"{seed} {steps}")
            checked += 1
    assert checked >= 50  # most programs are valid in both frameworks
