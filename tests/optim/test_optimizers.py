"""Optimizers against torch.optim: 50-step trajectories, state_dict round trips, API checks."""

import copy
import re
import warnings

import numpy as np
import pytest
from helpers_optim import STEPS, Run, batches, initial_weights

import chainrule as cr
import chainrule.optim as optim
from chainrule.optim import functional as F

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-4, 1e-6

# name -> make_opt(module, params); the same call builds the chainrule and the torch optimizer.
CONFIGS = {
    "sgd": lambda m, p: m.SGD(p, lr=0.1),
    "sgd_momentum": lambda m, p: m.SGD(p, lr=0.05, momentum=0.9),
    "sgd_dampening": lambda m, p: m.SGD(p, lr=0.05, momentum=0.9, dampening=0.3),
    "sgd_nesterov": lambda m, p: m.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "sgd_weight_decay": lambda m, p: m.SGD(p, lr=0.05, momentum=0.5, weight_decay=0.01),
    "sgd_maximize": lambda m, p: m.SGD(p, lr=0.002, momentum=0.5, maximize=True),
    "adagrad": lambda m, p: m.Adagrad(p, lr=0.05),
    "adagrad_options": lambda m, p: m.Adagrad(
        p, lr=0.05, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1
    ),
    "adagrad_maximize": lambda m, p: m.Adagrad(p, lr=0.01, maximize=True),
    "rmsprop": lambda m, p: m.RMSprop(p, lr=0.01),
    "rmsprop_centered": lambda m, p: m.RMSprop(p, lr=0.01, centered=True),
    "rmsprop_momentum": lambda m, p: m.RMSprop(p, lr=0.005, momentum=0.9),
    "rmsprop_weight_decay": lambda m, p: m.RMSprop(
        p, lr=0.005, alpha=0.9, weight_decay=0.01, momentum=0.5, centered=True
    ),
    "rmsprop_maximize": lambda m, p: m.RMSprop(p, lr=0.001, maximize=True),
    "adam": lambda m, p: m.Adam(p, lr=0.01),
    "adam_amsgrad": lambda m, p: m.Adam(p, lr=0.01, betas=(0.8, 0.99), amsgrad=True),
    "adam_weight_decay": lambda m, p: m.Adam(p, lr=0.01, weight_decay=0.05),
    "adam_maximize": lambda m, p: m.Adam(p, lr=0.001, maximize=True),
    "adam_decoupled": lambda m, p: m.Adam(
        p, lr=0.01, weight_decay=0.05, decoupled_weight_decay=True
    ),
    "adamw": lambda m, p: m.AdamW(p, lr=0.01),
    "adamw_amsgrad": lambda m, p: m.AdamW(p, lr=0.01, weight_decay=0.1, amsgrad=True),
    "nadam": lambda m, p: m.NAdam(p, lr=0.01),
    "nadam_weight_decay": lambda m, p: m.NAdam(p, lr=0.01, weight_decay=0.05),
    "nadam_decoupled": lambda m, p: m.NAdam(
        p, lr=0.01, weight_decay=0.05, momentum_decay=0.01, decoupled_weight_decay=True
    ),
    "radam": lambda m, p: m.RAdam(p, lr=0.01),
    "radam_weight_decay": lambda m, p: m.RAdam(p, lr=0.01, betas=(0.9, 0.9), weight_decay=0.05),
    "radam_decoupled": lambda m, p: m.RAdam(
        p, lr=0.01, weight_decay=0.05, decoupled_weight_decay=True
    ),
    "adamax": lambda m, p: m.Adamax(p, lr=0.01),
    "adamax_weight_decay": lambda m, p: m.Adamax(p, lr=0.01, weight_decay=0.05, maximize=True),
}

GROUPED = {  # two param groups, the first with its own lr and weight decay
    "grouped_sgd": lambda m, p: m.SGD(p, lr=0.1, momentum=0.9),
    "grouped_adam": lambda m, p: m.Adam(p, lr=0.01),
    "grouped_rmsprop": lambda m, p: m.RMSprop(p, lr=0.01),
    "grouped_adagrad": lambda m, p: m.Adagrad(p, lr=0.05),
}


def assert_same(ours, theirs, step, rtol=RTOL, atol=ATOL):
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(
            a, b, rtol=rtol, atol=atol, err_msg=f"parameter {i} after step {step}"
        )


def check_trajectory(make_opt, grouped=False):
    ours = Run(None, make_opt, grouped=grouped)
    theirs = Run(torch, make_opt, grouped=grouped)
    for step, (x, y) in enumerate(batches()):
        loss_ours, loss_theirs = ours.step(x, y), theirs.step(x, y)
        np.testing.assert_allclose(loss_ours, loss_theirs, rtol=RTOL, atol=ATOL)
        assert_same(ours.weights(), theirs.weights(), step)
    for w in ours.weights():
        assert w.dtype == np.float32
    return ours, theirs


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_trajectory_matches_torch(name):
    ours, theirs = check_trajectory(CONFIGS[name])
    # The state holds the same buffers, with the same values, as PyTorch's.
    assert sorted(ours.opt.state_dict()["state"]) == sorted(theirs.opt.state_dict()["state"])
    for p_ours, p_theirs in zip(ours.params, theirs.params):
        s_ours, s_theirs = ours.opt.state[p_ours], theirs.opt.state[p_theirs]
        assert sorted(s_ours) == sorted(s_theirs)
        for key, value in s_theirs.items():
            np.testing.assert_allclose(
                np.asarray(s_ours[key].data), value.numpy(), rtol=1e-3, atol=1e-6, err_msg=key
            )
            if key not in ("step", "mu_product"):
                assert s_ours[key].data.dtype == np.float32


@pytest.mark.parametrize("name", sorted(GROUPED))
def test_param_groups_match_torch(name):
    ours, theirs = check_trajectory(GROUPED[name], grouped=True)
    assert ours.opt.param_groups[0]["lr"] == 0.03
    assert ours.opt.param_groups[0]["weight_decay"] == 0.1
    assert ours.opt.param_groups[1]["weight_decay"] == theirs.opt.param_groups[1]["weight_decay"]


def test_float64_parameters_match_torch():
    w0 = np.random.default_rng(3).standard_normal((4, 3))
    ours = cr.tensor(w0, dtype=cr.float64, requires_grad=True)
    theirs = torch.tensor(w0, requires_grad=True)
    opt_ours = optim.Adam([ours], lr=0.1, amsgrad=True)
    opt_theirs = torch.optim.Adam([theirs], lr=0.1, amsgrad=True)
    for _ in range(10):
        for p, opt in ((ours, opt_ours), (theirs, opt_theirs)):
            opt.zero_grad()
            ((p * p * p).sum()).backward()
            opt.step()
        assert ours.data.dtype == np.float64
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12)


# ---------------------------------------------------------------- state_dict


@pytest.mark.parametrize(
    "name", ["sgd_momentum", "adagrad_options", "rmsprop_weight_decay", "adam_amsgrad",
             "adamw", "nadam_decoupled", "radam", "adamax"]
)  # fmt: skip
def test_state_dict_round_trip(name):
    make_opt = CONFIGS[name]
    data = batches(20)
    first = Run(None, make_opt, grouped=False)
    for x, y in data[:10]:
        first.step(x, y)
    saved = first.opt.state_dict()
    second = Run(None, make_opt, weights=first.weights())
    second.opt.load_state_dict(saved)
    # Loading copies: the loaded buffers are not the saved ones.
    for p1, p2 in zip(first.params, second.params):
        for key, value in first.opt.state[p1].items():
            assert second.opt.state[p2][key] is not value
            assert second.opt.state[p2][key].data is not value.data
    for x, y in data[10:]:
        first.step(x, y)
        second.step(x, y)
        for a, b in zip(first.weights(), second.weights()):
            np.testing.assert_array_equal(a, b)


def test_state_dict_layout_matches_torch():
    ours = Run(None, CONFIGS["adam_amsgrad"], grouped=True)
    theirs = Run(torch, CONFIGS["adam_amsgrad"], grouped=True)
    for x, y in batches(3):
        ours.step(x, y)
        theirs.step(x, y)
    sd_ours, sd_theirs = ours.opt.state_dict(), theirs.opt.state_dict()
    assert sorted(sd_ours) == ["param_groups", "state"]
    assert sorted(sd_ours["state"]) == sorted(sd_theirs["state"]) == [0, 1, 2, 3]
    for i in range(4):
        assert sorted(sd_ours["state"][i]) == sorted(sd_theirs["state"][i])
        assert float(sd_ours["state"][i]["step"].item()) == 3.0
    torch_only = {"foreach", "capturable", "differentiable", "fused"}
    for g_ours, g_theirs in zip(sd_ours["param_groups"], sd_theirs["param_groups"]):
        assert g_ours == {k: v for k, v in g_theirs.items() if k not in torch_only}


def test_state_dict_from_torch_loads():
    """A torch state_dict, converted to numpy arrays, continues the same trajectory here."""
    data = batches(20)
    theirs = Run(torch, CONFIGS["nadam"])
    for x, y in data[:10]:
        theirs.step(x, y)
    sd = theirs.opt.state_dict()
    converted = {
        "state": {k: {n: t.numpy().copy() for n, t in v.items()} for k, v in sd["state"].items()},
        "param_groups": sd["param_groups"],
    }
    ours = Run(None, CONFIGS["nadam"], weights=theirs.weights())
    ours.opt.load_state_dict(converted)
    assert isinstance(ours.opt.state[ours.params[0]]["exp_avg"], cr.Tensor)
    for step, (x, y) in enumerate(data[10:]):
        ours.step(x, y)
        theirs.step(x, y)
        assert_same(ours.weights(), theirs.weights(), step)


def test_load_state_dict_errors():
    p = [cr.zeros(2, requires_grad=True), cr.zeros(3, requires_grad=True)]
    opt = optim.SGD(p, lr=0.1)
    other = optim.SGD([{"params": p[:1]}, {"params": p[1:]}], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict(other.state_dict())
    single = optim.SGD(p[:1], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict(single.state_dict())


def test_load_state_dict_casts_and_restores_hyperparameters():
    p = cr.zeros(3, requires_grad=True)
    opt = optim.Adam([p], lr=0.5)
    p.grad = cr.ones(3)
    opt.step()
    sd = copy.deepcopy(opt.state_dict())
    sd["state"][0]["exp_avg"] = cr.tensor(np.ones(3), dtype=cr.float64)
    fresh = optim.Adam([p], lr=0.1)
    fresh.load_state_dict(sd)
    assert fresh.param_groups[0]["lr"] == 0.5
    assert fresh.param_groups[0]["params"][0] is p
    assert fresh.state[p]["exp_avg"].data.dtype == np.float32
    assert fresh.state[p]["step"].data.dtype == np.float32


def test_adamw_stays_decoupled_after_load():
    p = cr.zeros(3, requires_grad=True)
    sd = optim.Adam([p]).state_dict()
    opt = optim.AdamW([p])
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True


# ---------------------------------------------------------------- hyperparameter checks

INVALID = [
    ("SGD", {"lr": -1}),
    ("SGD", {"lr": 0.1, "momentum": -0.5}),
    ("SGD", {"lr": 0.1, "weight_decay": -1e-3}),
    ("SGD", {"lr": 0.1, "nesterov": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}),
    ("Adagrad", {"lr": -0.1}),
    ("Adagrad", {"lr_decay": -1}),
    ("Adagrad", {"weight_decay": -1}),
    ("Adagrad", {"initial_accumulator_value": -2}),
    ("Adagrad", {"eps": -1e-10}),
    ("RMSprop", {"lr": -0.01}),
    ("RMSprop", {"eps": -1}),
    ("RMSprop", {"momentum": -1}),
    ("RMSprop", {"weight_decay": -1}),
    ("RMSprop", {"alpha": -0.9}),
    ("Adam", {"lr": -1}),
    ("Adam", {"eps": -1}),
    ("Adam", {"betas": (1.0, 0.999)}),
    ("Adam", {"betas": (0.9, -0.1)}),
    ("Adam", {"weight_decay": -0.1}),
    ("AdamW", {"lr": -1e-3}),
    ("AdamW", {"betas": (0.9, 1.5)}),
    ("NAdam", {"lr": -1}),
    ("NAdam", {"momentum_decay": -4e-3}),
    ("NAdam", {"betas": (-0.1, 0.999)}),
    ("RAdam", {"lr": -1}),
    ("RAdam", {"weight_decay": -1}),
    ("Adamax", {"lr": -1}),
    ("Adamax", {"betas": (0.9, 1.0)}),
]


@pytest.mark.parametrize(("name", "kwargs"), INVALID)
def test_invalid_hyperparameters_raise_like_torch(name, kwargs):
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError, match=re.escape(str(theirs.value))):
        getattr(optim, name)([cr.zeros(2, requires_grad=True)], **kwargs)


def test_error_message_names_the_value():
    with pytest.raises(ValueError, match="^Invalid learning rate: -1$"):
        optim.SGD([cr.zeros(2, requires_grad=True)], lr=-1)


def test_invalid_params_arguments():
    w = cr.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([w, 3.0], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {w}}], lr=0.1)


def test_parameters_given_twice_raise():
    w, v = cr.zeros(2, requires_grad=True), cr.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="duplicate parameters"):
        optim.SGD([w, v, w], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [w]}, {"params": [v, w]}], lr=0.1)
    opt = optim.Adam([w])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": w})


# ---------------------------------------------------------------- API behaviour


def test_defaults_and_groups_like_torch():
    for name in ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "NAdam", "RAdam", "Adamax"]:
        ours = getattr(optim, name)([cr.zeros(2, requires_grad=True)])
        theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)])
        torch_only = {"foreach", "capturable", "differentiable", "fused"}
        expected = {k: v for k, v in theirs.defaults.items() if k not in torch_only}
        assert ours.defaults == expected, name
        group = {k: v for k, v in ours.param_groups[0].items() if k != "params"}
        assert group == expected, name


def test_add_param_group_uses_defaults():
    w, v = cr.zeros(2, requires_grad=True), cr.zeros(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": v, "lr": 0.5})
    assert opt.param_groups[1]["params"] == [v]
    assert opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["momentum"] == 0.9


def test_named_parameters():
    w = cr.zeros(2, requires_grad=True)
    opt = optim.Adam([("layer.weight", w)])
    assert opt.param_groups[0]["params"][0] is w
    assert opt.param_groups[0]["param_names"] == ["layer.weight"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["layer.weight"]


def test_repr_like_torch():
    ours = optim.SGD([cr.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9)
    text = repr(ours)
    assert text.startswith("SGD (\nParameter Group 0\n    dampening: 0\n")
    assert "    lr: 0.1\n" in text and "    momentum: 0.9\n" in text
    assert text.endswith(")")
    theirs = repr(torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9))
    torch_only = ("foreach", "differentiable", "fused")
    kept = [ln for ln in theirs.splitlines() if not ln.strip().startswith(torch_only)]
    assert text.splitlines() == kept


def test_zero_grad_set_to_none():
    w = cr.ones(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    assert w.grad is not None
    opt.zero_grad()
    assert w.grad is None
    opt.zero_grad()  # no grad: nothing to do


def test_zero_grad_to_zeros_in_place():
    w = cr.ones(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    grad = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is grad
    np.testing.assert_array_equal(w.grad.data, np.zeros(3, np.float32))
    assert not w.grad.requires_grad
    (w * w).sum().backward()  # accumulates onto the zeros
    np.testing.assert_array_equal(w.grad.data, np.full(3, 2.0, np.float32))


def test_zero_grads_still_step_but_none_is_skipped():
    # With zeros, SGD's weight decay still moves the parameter; with None it is skipped.
    w = cr.ones(3, requires_grad=True)
    v = cr.ones(3, requires_grad=True)
    opt = optim.SGD([w, v], lr=0.1, weight_decay=1.0)
    w.grad = cr.zeros(3)
    opt.step()
    np.testing.assert_allclose(w.data, np.full(3, 0.9, np.float32))
    np.testing.assert_array_equal(v.data, np.ones(3, np.float32))
    assert v not in opt.state or len(opt.state[v]) == 0


def test_params_without_grad_get_no_state():
    w, v = cr.ones(3, requires_grad=True), cr.ones(2, requires_grad=True)
    opt = optim.Adam([w, v], lr=0.1)
    (w * 2).sum().backward()
    opt.step()
    assert set(opt.state_dict()["state"]) == {0}
    np.testing.assert_array_equal(v.data, np.ones(2, np.float32))


def test_closure_is_evaluated_with_grad_and_returned():
    w = cr.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    calls = []

    def closure():
        calls.append(cr.is_grad_enabled())
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with cr.no_grad():
        loss = opt.step(closure)
    assert calls == [True]
    assert float(loss.item()) == 5.0
    np.testing.assert_allclose(w.data, [0.8, -1.6], rtol=1e-6)
    assert opt.step() is None


def test_step_runs_without_recording_a_graph():
    w = cr.ones(3, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert w.is_leaf and w.grad_fn is None and w.requires_grad
    assert opt.state[w]["exp_avg"].grad_fn is None


def test_step_bumps_the_version_counter():
    w = cr.ones(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    version = w._version_number
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    opt.step()
    assert w._version_number == version + 1
    with pytest.raises(RuntimeError, match="modified"):
        loss.backward()


def test_optimizer_pickles_state_through_deepcopy():
    w = cr.ones(3, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    snapshot = copy.deepcopy(opt.state_dict())
    opt.step()
    assert float(snapshot["state"][0]["step"].item()) == 1.0
    assert float(opt.state[w]["step"].item()) == 2.0


# ---------------------------------------------------------------- functional rules


class _Float32Only(np.ndarray):
    """An array that fails any ufunc call with a float64 operand or result."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        outs = kwargs.get("out", ())
        for a in (*inputs, *outs):
            if isinstance(a, np.ndarray) and a.dtype == np.float64:
                raise AssertionError(f"{ufunc.__name__} got a float64 array")
        plain = [a.view(np.ndarray) if isinstance(a, _Float32Only) else a for a in inputs]
        if outs:
            kwargs["out"] = tuple(o.view(np.ndarray) for o in outs)
        result = getattr(ufunc, method)(*plain, **kwargs)
        if (
            isinstance(result, np.ndarray)
            and result.dtype.kind == "f"
            and result.dtype != np.float32
        ):
            raise AssertionError(f"{ufunc.__name__} returned {result.dtype}")
        if outs:
            return outs[0] if len(outs) == 1 else outs
        return result.view(_Float32Only) if isinstance(result, np.ndarray) else result


def _f32(rng, shape=(4, 3), positive=False):
    a = rng.standard_normal(shape).astype(np.float32)
    return (np.abs(a) if positive else a).view(_Float32Only)


RULES = {
    "sgd": lambda r, p, g: F.sgd(
        p, g, _f32(r), lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.1, maximize=True
    ),
    "sgd_nesterov": lambda r, p, g: F.sgd(
        p, g, _f32(r), lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True
    ),
    "adagrad": lambda r, p, g: F.adagrad(
        p, g, _f32(r, positive=True), step=3, lr=0.1, lr_decay=0.1, weight_decay=0.1
    ),
    "rmsprop": lambda r, p, g: F.rmsprop(
        p, g, _f32(r, positive=True) + 1, _f32(r) * 0.1, _f32(r), lr=0.1, weight_decay=0.1,
        momentum=0.9, centered=True, maximize=True,
    ),
    "adam": lambda r, p, g: F.adam(
        p, g, _f32(r), _f32(r, positive=True), _f32(r, positive=True), step=3, lr=0.1,
        weight_decay=0.1, amsgrad=True,
    ),
    "adamw": lambda r, p, g: F.adamw(
        p, g, _f32(r), _f32(r, positive=True), step=3, lr=0.1, weight_decay=0.1, maximize=True
    ),
    "nadam": lambda r, p, g: F.nadam(
        p, g, _f32(r), _f32(r, positive=True), np.array(0.9, np.float32).view(_Float32Only),
        step=3, lr=0.1, weight_decay=0.1,
    ),
    "radam": lambda r, p, g: F.radam(
        p, g, _f32(r), _f32(r, positive=True), step=10, lr=0.1, weight_decay=0.1,
        decoupled_weight_decay=True,
    ),
    "radam_warmup": lambda r, p, g: F.radam(p, g, _f32(r), _f32(r, positive=True), step=2, lr=0.1),
    "adamax": lambda r, p, g: F.adamax(
        p, g, _f32(r), _f32(r, positive=True), step=3, lr=0.1, weight_decay=0.1
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(RULES))
def test_functional_rules_stay_float32_and_leave_grad_alone(name):
    rng = np.random.default_rng(0)
    param, grad = _f32(rng), _f32(rng)
    before_param, before_grad = param.copy(), grad.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RULES[name](rng, param, grad)
    assert param.dtype == np.float32
    assert not np.array_equal(param.view(np.ndarray), before_param.view(np.ndarray))
    np.testing.assert_array_equal(grad.view(np.ndarray), before_grad.view(np.ndarray))


def test_functional_rules_have_math_docstrings():
    for name in ["sgd", "adagrad", "rmsprop", "adam", "adamw", "nadam", "radam", "adamax"]:
        doc = getattr(F, name).__doc__
        assert doc and "=" in doc, name


def test_initial_weights_are_not_trivial():
    # Guards the oracle tests: a trajectory that never moves would match trivially.
    run = Run(None, CONFIGS["adam"])
    start = run.weights()
    for x, y in batches(STEPS)[:5]:
        run.step(x, y)
    assert all(not np.allclose(a, b) for a, b in zip(start, run.weights()))
    assert len(initial_weights()) == 4
