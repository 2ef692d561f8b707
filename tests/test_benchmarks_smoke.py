"""Keep the benchmark suite from rotting: every workload runs one tiny step (no timings)."""

import json

import numpy as np
import pytest

from benchmarks import machine, memory, run, workloads

TINY = {
    "W1": {"batch": 4, "width": 16},
    "W2": {"batch": 2},
    "W3": {"batch": 2, "seq": 5, "hidden": 8},
    "W4": {"batch": 2, "seq": 8},
    "W4m": {"batch": 2, "seq": 8},
    "W5": {"reps": 3},
}


@pytest.mark.parametrize("workload", workloads.WORKLOADS)
def test_workload_runs_one_step_in_chainrule(workload):
    step = workloads.build(workload, "chainrule", **TINY[workload])
    assert step.fn() is None
    if workload == "W5":
        assert step.ops == 9 and len(step.phases) == 1


def test_step_changes_the_weights():
    import chainrule as cr

    cr.manual_seed(0)
    model = workloads.mlp(cr.nn, 16)
    before = model[0].weight.detach().numpy().copy()
    x, y = workloads.mlp_data(4)
    opt = cr.optim.Adam(model.parameters(), lr=1e-3)
    workloads._module_step(model, opt, cr.nn.functional, cr.tensor(x), cr.tensor(y), False)()
    assert not np.allclose(before, model[0].weight.detach().numpy())


def test_unknown_names_and_unsupported_frameworks():
    with pytest.raises(ValueError):
        workloads.build("W9", "chainrule")
    with pytest.raises(ValueError):
        workloads.build("W1", "jax")
    with pytest.raises(workloads.Unsupported):
        workloads.build("W3", "micrograd", **TINY["W3"])


def test_time_workload_and_render():
    res = run.time_workload("W5", ["chainrule"], repeat=1, warmup=1, target_s=0.0, reps=3)
    assert res["chainrule"]["n"] == 1 and res["chainrule"]["us_per_op"] > 0
    report = {"machine": machine.describe(), "timing": {"W5": res}}
    text = run.render(report, ["chainrule"])
    assert "W5" in text and "Machine" in text
    json.dumps(report, default=str)


def test_memory_child_runs_one_tiny_step():
    out = memory.run_child("train", "W1", "chainrule", "--steps", "1", "--sizes", '{"batch": 2}')
    assert out["train_peak"] >= out["build_peak"] > 0 and out["tracemalloc_step_peak"] > 0


def test_installed_size_counts_chainrule():
    sizes = memory.installed_size("chainrule")
    assert sizes["per_distribution"]["chainrule"] > 0 and "numpy" in sizes["per_distribution"]
