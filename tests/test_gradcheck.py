"""Every OpSpec through chainrule.autograd.gradcheck in float64 (needs no PyTorch)."""

import pytest
from opspec import cases, differentiable_positions, load_specs

import chainrule
from chainrule.autograd import gradcheck

SPECS = [s for s in load_specs() if s.gradcheck]
PARAMS = [
    pytest.param(spec, cid, arrays, id=f"{spec.name}[{cid}]")
    for spec in SPECS
    for cid, arrays in cases(spec)
]


@pytest.mark.parametrize("spec,cid,arrays", PARAMS)
def test_gradcheck(spec, cid, arrays):
    diff = differentiable_positions(spec, arrays)
    if not diff:
        pytest.skip("no differentiable input")
    inputs = [chainrule.from_numpy(a.copy()) for a in arrays]
    for i in diff:
        inputs[i].requires_grad_(True)
    assert gradcheck(spec.fn, inputs, eps=1e-6, atol=spec.gc_atol, rtol=spec.gc_rtol)


def test_table_is_large_and_covers_every_function():
    """A Function without an OpSpec fails here: every Function class must appear in the graph
    of at least one spec's output."""
    from chainrule.autograd.function import Function
    from chainrule.ops.common import ToDevice

    specs = load_specs()
    assert len(specs) >= 120, f"only {len(specs)} OpSpecs"
    covered = set()
    for spec in specs:
        _, arrays = next(cases(spec))
        inputs = [chainrule.from_numpy(a.copy()) for a in arrays]
        for i in differentiable_positions(spec, arrays):
            inputs[i].requires_grad_(True)
        out = spec.fn(*inputs)
        stack, seen = [out], set()
        while stack:
            t = stack.pop()
            if id(t) in seen or t.grad_fn is None:
                continue
            seen.add(id(t))
            covered.add(t.grad_fn.fn)
            stack.extend(p for p in t.grad_fn.parents if p is not None)

    def all_subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from all_subclasses(sub)

    gpu_only = {ToDevice}  # moving between devices needs a GPU: tests/test_cuda.py covers it
    functions = {c for c in all_subclasses(Function) if c.__module__.startswith("chainrule.")}
    missing = sorted(c.__name__ for c in functions - covered - gpu_only)
    assert not missing, f"Functions without an OpSpec: {missing}"
