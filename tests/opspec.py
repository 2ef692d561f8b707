"""The OpSpec table: one entry per op (and per important option), driving two suites.

- ``test_ops.py``: forward and backward against PyTorch (float32) with a random cotangent.
- ``test_gradcheck.py``: central differences in float64 with ``chainrule.autograd.gradcheck``.

Specs live by family in ``tests/opspecs/*.py``, each exporting ``SPECS: list[OpSpec]``.

Inputs: for every case, ``shapes`` gives one shape per input; float inputs are drawn uniformly
from ``domain`` (or built by ``make_inputs(rng, shapes)``, which returns NumPy arrays: float64
for differentiable inputs, integer/bool arrays for constants). Inputs at positions in
``nondiff`` are passed as tensors that do not require grad. Each case also runs with every
float input of 2 or more dimensions laid out non-contiguously (transposed memory).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class OpSpec:
    name: str
    fn: Callable  # chainrule: fn(*tensors) -> Tensor
    torch_fn: Callable | None  # torch: torch_fn(*tensors) -> torch.Tensor
    shapes: list  # list of cases; each a tuple of input shapes
    domain: tuple = (-2.0, 2.0)
    make_inputs: Callable | None = None  # (rng, shapes) -> list[np.ndarray]
    nondiff: tuple = ()  # positions of inputs that never require grad
    rtol: float = 1e-5
    atol: float = 1e-6
    gradcheck: bool = True
    noncontig: bool = True
    note: str = ""  # why tolerances are looser, why gradcheck is off, ...
    gc_atol: float = 1e-5
    gc_rtol: float = 1e-3
    extra: dict = field(default_factory=dict)


def load_specs() -> list[OpSpec]:
    import opspecs

    specs = []
    for mod in pkgutil.iter_modules(opspecs.__path__):
        specs.extend(importlib.import_module(f"opspecs.{mod.name}").SPECS)
    names = [s.name for s in specs]
    dupes = {n for n in names if names.count(n) > 1}
    assert not dupes, f"duplicate OpSpec names: {sorted(dupes)}"
    return specs


def make_case(spec: OpSpec, shapes, seed: int) -> list[np.ndarray]:
    """The inputs of one case as NumPy arrays (float64 for float inputs)."""
    rng = np.random.default_rng(seed)
    if spec.make_inputs is not None:
        return [np.asarray(a) for a in spec.make_inputs(rng, shapes)]
    lo, hi = spec.domain
    return [rng.uniform(lo, hi, size=s) for s in shapes]


def noncontiguous(arrays: list[np.ndarray]) -> tuple[list[np.ndarray], bool]:
    """Same values, but every float array with ndim >= 2 stored transposed in memory."""
    out, changed = [], False
    for a in arrays:
        if a.dtype.kind == "f" and a.ndim >= 2 and a.shape[-1] > 1 and a.shape[-2] > 1:
            t = np.ascontiguousarray(np.swapaxes(a, -1, -2))
            a = np.swapaxes(t, -1, -2)
            assert not a.flags.c_contiguous
            changed = True
        out.append(a)
    return out, changed


def cases(spec: OpSpec):
    """(case id, arrays) for every shape case and its non-contiguous variant."""
    for i, shapes in enumerate(spec.shapes):
        arrays = make_case(spec, shapes, seed=1000 + i)
        yield f"{i}", arrays
        if spec.noncontig:
            nc, changed = noncontiguous(arrays)
            if changed:
                yield f"{i}-noncontig", nc


def differentiable_positions(spec: OpSpec, arrays) -> list[int]:
    return [i for i, a in enumerate(arrays) if a.dtype.kind == "f" and i not in spec.nondiff]
