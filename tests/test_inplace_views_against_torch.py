"""Random programs of views, in-place ops (on views and on their base), setitem and
out-of-place steps, run in chainrule and in PyTorch: x's gradient must agree, or both must
refuse (a value needed for backward was changed in place)."""

import random

import numpy as np
import pytest

import chainrule as cr

VIEWS = ("row", "col", "T", "flat", "rowslice")


def _program(seed: int) -> list:
    rnd = random.Random(seed)
    steps, n_views = [], 0
    for _ in range(rnd.randint(2, 7)):
        kind = rnd.choice(["view", "view", "inplace_base", "inplace_view", "outplace", "setitem"])
        scale = round(rnd.uniform(0.5, 2.0), 2)
        if kind == "view":
            steps.append(("view", rnd.choice(VIEWS), rnd.randint(0, 2)))
            n_views += 1
        elif kind == "inplace_base":
            steps.append(("inplace_base", rnd.choice(["mul_", "add_", "sub_"]), scale))
        elif kind == "inplace_view" and n_views:
            op = rnd.choice(["mul_", "add_x", "mul_x"])
            steps.append(("inplace_view", rnd.randrange(n_views), op, scale))
        elif kind == "outplace":
            steps.append(("outplace", scale))
        elif kind == "setitem":
            steps.append(("setitem", rnd.randint(0, 2), scale))
    return steps


def _view(y, kind: str, i: int):
    if kind == "row":
        return y[i]
    if kind == "col":
        return y[:, i]
    if kind == "T":
        return y.T
    if kind == "flat":
        return y.reshape(-1)[i : i + 4]
    return y[i:]


def _run(lib, steps):
    x = lib.tensor(np.arange(1.0, 10.0).reshape(3, 3), requires_grad=True)
    y = x * 1.0
    views = []
    for step in steps:
        kind = step[0]
        if kind == "view":
            views.append(_view(y, step[1], step[2]))
        elif kind == "inplace_base":
            getattr(y, step[1])(step[2])
        elif kind == "inplace_view":
            v, op, scale = views[step[1]], step[2], step[3]
            if op == "mul_":
                v.mul_(scale)
            elif op == "add_x":
                v.add_(x.sum() * scale)
            else:
                v.mul_(x.mean() * scale)
        elif kind == "outplace":
            y = y * step[1] + x  # the old views stay views of the old y
        else:
            y[step[1]] = x[step[1]] * step[2]
    total = (y * y).sum()
    for v in views:
        total = total + (v * v * 0.5).sum()
    total.backward()
    return x.grad.numpy()


@pytest.mark.parametrize("block", range(4))
def test_random_view_and_inplace_programs_match_torch(block, torch):
    checked = 0
    for seed in range(block * 100, block * 100 + 100):
        steps = _program(seed)
        outcomes = []
        for lib in (cr, torch):
            try:
                outcomes.append(_run(lib, steps))
            except RuntimeError as e:
                assert "inplace" in str(e) or "in-place" in str(e), (seed, steps, str(e))
                outcomes.append(None)
        ours, theirs = outcomes
        assert (ours is None) == (theirs is None), (seed, steps, ours, theirs)
        if ours is not None:
            np.testing.assert_allclose(ours, theirs, rtol=1e-6, err_msg=f"{seed} {steps}")
            checked += 1
    assert checked >= 50  # most programs are valid in both frameworks
