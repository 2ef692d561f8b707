"""Learning-rate schedulers against torch.optim.lr_scheduler, each driving an optimizer."""

import math
import warnings

import numpy as np
import pytest
from helpers_optim import Run, batches

import chainrule as cr
import chainrule.optim as optim
from chainrule.optim import lr_scheduler as lrs

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-4, 1e-6


def sgd(m, p):
    return m.SGD(p, lr=0.1, momentum=0.9)


def adam(m, p):
    return m.Adam(p, lr=0.01)


def _sequential(m, opt):
    warmup = m.LinearLR(opt, start_factor=0.1, total_iters=10)
    decay = m.CosineAnnealingLR(opt, T_max=40, eta_min=1e-4)
    return m.SequentialLR(opt, [warmup, decay], milestones=[10])


def _sequential3(m, opt):
    first = m.ConstantLR(opt, factor=0.5, total_iters=5)
    second = m.ExponentialLR(opt, gamma=0.95)
    third = m.StepLR(opt, step_size=4, gamma=0.5)
    return m.SequentialLR(opt, [first, second, third], milestones=[8, 20])


def _chained(m, opt):
    return m.ChainedScheduler([m.ExponentialLR(opt, gamma=0.97), m.StepLR(opt, 7, gamma=0.5)])


# name -> (make_opt, make_sched(lr_scheduler_module, optimizer), grouped)
SCHEDULERS = {
    "lambda": (sgd, lambda m, o: m.LambdaLR(o, lambda e: 1.0 / (1 + 0.1 * e)), False),
    "lambda_per_group": (
        adam,
        lambda m, o: m.LambdaLR(o, [lambda e: 0.97**e, lambda e: 1.0 + 0.01 * e]),
        True,
    ),
    "multiplicative": (sgd, lambda m, o: m.MultiplicativeLR(o, lambda e: 0.95), False),
    "step": (sgd, lambda m, o: m.StepLR(o, step_size=7, gamma=0.5), False),
    "multistep": (adam, lambda m, o: m.MultiStepLR(o, [5, 15, 15, 30], gamma=0.5), False),
    "exponential": (adam, lambda m, o: m.ExponentialLR(o, gamma=0.95), True),
    "cosine": (sgd, lambda m, o: m.CosineAnnealingLR(o, T_max=20, eta_min=0.001), False),
    "cosine_past_tmax": (adam, lambda m, o: m.CosineAnnealingLR(o, T_max=7), True),
    "linear": (sgd, lambda m, o: m.LinearLR(o, start_factor=0.2, total_iters=20), False),
    "linear_down": (
        adam,
        lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=30),
        False,
    ),
    "constant": (sgd, lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=12), False),
    "polynomial": (adam, lambda m, o: m.PolynomialLR(o, total_iters=30, power=2.0), False),
    "onecycle_cos_sgd": (sgd, lambda m, o: m.OneCycleLR(o, max_lr=0.2, total_steps=50), False),
    "onecycle_linear_adam": (
        adam,
        lambda m, o: m.OneCycleLR(o, max_lr=0.02, total_steps=50, anneal_strategy="linear"),
        False,
    ),
    "onecycle_three_phase": (
        adam,
        lambda m, o: m.OneCycleLR(
            o, max_lr=[0.02, 0.01], epochs=5, steps_per_epoch=10, three_phase=True
        ),
        True,
    ),
    "onecycle_no_momentum": (
        sgd,
        lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=60, cycle_momentum=False),
        False,
    ),
    "warm_restarts": (sgd, lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=10), False),
    "warm_restarts_mult": (
        adam,
        lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=1e-4),
        False,
    ),
    "sequential_warmup_cosine": (sgd, _sequential, False),
    "sequential_three": (adam, _sequential3, True),
    "chained": (sgd, _chained, False),
    "cyclic_sgd": (
        sgd,
        lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=8, step_size_down=5),
        False,
    ),
    "cyclic_adam_exp_range": (
        adam,
        lambda m, o: m.CyclicLR(
            o, base_lr=0.001, max_lr=0.02, step_size_up=6, mode="exp_range", gamma=0.98
        ),
        False,
    ),
    "cyclic_triangular2": (
        sgd,
        lambda m, o: m.CyclicLR(
            o, base_lr=0.01, max_lr=0.1, step_size_up=5, mode="triangular2", cycle_momentum=False
        ),
        False,
    ),
}


def _momenta(opt):
    return [g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups]


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler_trajectory_matches_torch(name):
    make_opt, make_sched, grouped = SCHEDULERS[name]
    ours = Run(None, make_opt, make_sched, grouped=grouped)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's own deprecation chatter
        theirs = Run(torch, make_opt, make_sched, grouped=grouped)
    np.testing.assert_allclose(ours.lrs(), theirs.lrs(), rtol=1e-12)
    assert getattr(ours.sched, "last_epoch", None) == getattr(theirs.sched, "last_epoch", None)
    for step, (x, y) in enumerate(batches()):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # we step in the right order: no warning
            ours.step(x, y)
        theirs.step(x, y)
        np.testing.assert_allclose(ours.lrs(), theirs.lrs(), rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(
            ours.sched.get_last_lr(), theirs.sched.get_last_lr(), rtol=1e-9, atol=1e-15
        )
        np.testing.assert_allclose(_momenta(ours.opt), _momenta(theirs.opt), rtol=1e-12)
        for i, (a, b) in enumerate(zip(ours.weights(), theirs.weights())):
            np.testing.assert_allclose(
                a, b, rtol=RTOL, atol=ATOL, err_msg=f"parameter {i} after step {step}"
            )
    assert getattr(ours.sched, "last_epoch", None) == getattr(theirs.sched, "last_epoch", None)


# A metric that improves, plateaus, wobbles and improves again (fixed, so both frameworks
# see the same values).
METRIC = [1.0 / (1 + i) for i in range(10)] + [0.1] * 15 + [0.1 - 1e-6 * i for i in range(25)]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"patience": 2},
        {"patience": 1, "cooldown": 3, "factor": 0.5, "min_lr": 0.01},
        {"mode": "max", "threshold_mode": "abs", "threshold": 0.01, "patience": 0},
        {"threshold": 1e-3, "patience": 3, "min_lr": [0.001, 0.02], "eps": 1e-3},
    ],
)
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    def make_sched(m, o):
        return m.ReduceLROnPlateau(o, **kwargs)

    ours = Run(None, sgd, make_sched, grouped=True)
    theirs = Run(torch, sgd, make_sched, grouped=True)
    for step, ((x, y), metric) in enumerate(zip(batches(), METRIC)):
        ours.step(x, y, metric=metric)
        theirs.step(x, y, metric=metric)
        assert ours.lrs() == pytest.approx(theirs.lrs(), rel=1e-12)
        assert ours.sched.get_last_lr() == pytest.approx(theirs.sched.get_last_lr(), rel=1e-12)
        assert ours.sched.num_bad_epochs == theirs.sched.num_bad_epochs
        assert ours.sched.cooldown_counter == theirs.sched.cooldown_counter
        for i, (a, b) in enumerate(zip(ours.weights(), theirs.weights())):
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=f"{i} at {step}")
    assert min(ours.lrs()) < 0.03  # the schedule did reduce


@pytest.mark.parametrize(
    ("name", "epochs"),
    [("step", [3, 7, 14, 15, 21]), ("multistep", [2, 5, 16, 40]), ("exponential", [4, 9]),
     ("cosine", [3, 10, 20, 27]), ("linear", [5, 25]), ("constant", [3, 12, 20]),
     ("polynomial", [10, 40]), ("warm_restarts", [3, 10, 12.5, 25]),
     ("warm_restarts_mult", [2, 5, 7.5, 16, 40])],
)  # fmt: skip
def test_step_with_epoch_uses_closed_form_like_torch(name, epochs):
    make_opt, make_sched, grouped = SCHEDULERS[name]
    ours = Run(None, make_opt, make_sched, grouped=grouped)
    theirs = Run(torch, make_opt, make_sched, grouped=grouped)
    for epoch in epochs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours.sched.step(epoch)
            theirs.sched.step(epoch)
        np.testing.assert_allclose(ours.lrs(), theirs.lrs(), rtol=1e-12)
        assert getattr(ours.sched, "last_epoch", None) == getattr(theirs.sched, "last_epoch", None)


def test_cosine_recursion_agrees_with_closed_form():
    w = cr.zeros(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.5)
    sched = lrs.CosineAnnealingLR(opt, T_max=10, eta_min=0.05)
    for epoch in range(1, 35):
        opt.step()
        sched.step()
        closed = 0.05 + (0.5 - 0.05) * (1 + math.cos(math.pi * epoch / 10)) / 2
        assert sched.get_last_lr()[0] == pytest.approx(closed, rel=1e-6, abs=1e-12)


# ---------------------------------------------------------------- state_dict round trips


@pytest.mark.parametrize(
    "name",
    ["step", "multistep", "cosine", "onecycle_three_phase", "warm_restarts_mult",
     "sequential_warmup_cosine", "chained", "cyclic_adam_exp_range", "lambda", "linear"],
)  # fmt: skip
def test_scheduler_state_dict_round_trip(name):
    make_opt, make_sched, grouped = SCHEDULERS[name]
    data = batches(20)
    first = Run(None, make_opt, make_sched, grouped=grouped)
    for x, y in data[:10]:
        first.step(x, y)
    opt_state, sched_state = first.opt.state_dict(), first.sched.state_dict()
    assert "optimizer" not in sched_state
    second = Run(None, make_opt, make_sched, weights=first.weights(), grouped=grouped)
    second.sched.load_state_dict(sched_state)
    second.opt.load_state_dict(opt_state)  # after the scheduler, as PyTorch documents
    assert second.sched.get_last_lr() == first.sched.get_last_lr()
    for x, y in data[10:]:
        first.step(x, y)
        second.step(x, y)
        assert second.lrs() == first.lrs()
        for a, b in zip(first.weights(), second.weights()):
            np.testing.assert_array_equal(a, b)


def test_reduce_lr_on_plateau_state_dict_round_trip():
    def make_sched(m, o):
        return m.ReduceLROnPlateau(o, patience=1, cooldown=2)

    first = Run(None, sgd, make_sched)
    data = batches(30)
    for (x, y), metric in zip(data[:15], METRIC[5:20]):
        first.step(x, y, metric=metric)
    second = Run(None, sgd, make_sched, weights=first.weights())
    second.sched.load_state_dict(first.sched.state_dict())
    second.opt.load_state_dict(first.opt.state_dict())
    for (x, y), metric in zip(data[15:], METRIC[20:35]):
        first.step(x, y, metric=metric)
        second.step(x, y, metric=metric)
        assert second.lrs() == first.lrs()
        for a, b in zip(first.weights(), second.weights()):
            np.testing.assert_array_equal(a, b)


def test_scheduler_state_dict_keys_like_torch():
    ours = Run(None, sgd, SCHEDULERS["step"][1])
    theirs = Run(torch, sgd, SCHEDULERS["step"][1])
    sd_ours, sd_theirs = ours.sched.state_dict(), theirs.sched.state_dict()
    assert set(sd_ours) == set(sd_theirs)
    for key in ("step_size", "gamma", "base_lrs", "last_epoch", "_step_count", "_last_lr"):
        assert sd_ours[key] == sd_theirs[key], key


def test_resume_with_last_epoch():
    w = cr.zeros(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        lrs.StepLR(opt, step_size=2, last_epoch=3)
    sched = lrs.StepLR(opt, step_size=2)
    assert opt.param_groups[0]["initial_lr"] == 0.1
    assert sched.base_lrs == [0.1] and sched.last_epoch == 0
    resumed = lrs.StepLR(opt, step_size=2, last_epoch=5)
    assert resumed.last_epoch == 6


# ---------------------------------------------------------------- argument checks and warnings


INVALID = [
    ("ConstantLR", {"factor": 1.5}),
    ("LinearLR", {"start_factor": 0}),
    ("LinearLR", {"end_factor": 2.0}),
    ("CosineAnnealingWarmRestarts", {"T_0": 0}),
    ("CosineAnnealingWarmRestarts", {"T_0": 5, "T_mult": 0}),
    ("OneCycleLR", {"max_lr": 0.1}),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": -3}),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 10, "pct_start": 1.5}),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 10, "anneal_strategy": "exp"}),
    ("OneCycleLR", {"max_lr": [0.1, 0.2], "total_steps": 10}),
    ("ReduceLROnPlateau", {"factor": 1.0}),
    ("ReduceLROnPlateau", {"mode": "median"}),
    ("ReduceLROnPlateau", {"threshold_mode": "ratio"}),
    ("ReduceLROnPlateau", {"min_lr": [0.1, 0.2]}),
    ("LambdaLR", {"lr_lambda": [lambda e: 1.0, lambda e: 1.0]}),
]


@pytest.mark.parametrize(("name", "kwargs"), INVALID)
def test_invalid_scheduler_arguments_raise_like_torch(name, kwargs):
    with pytest.raises(ValueError) as theirs:
        opt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9)
        getattr(torch.optim.lr_scheduler, name)(opt, **kwargs)
    with pytest.raises(ValueError) as ours:
        opt = optim.SGD([cr.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9)
        getattr(lrs, name)(opt, **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_cycle_momentum_needs_momentum():
    opt = optim.Adagrad([cr.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="momentum or beta1"):
        lrs.OneCycleLR(opt, max_lr=0.1, total_steps=10)


def test_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lrs.StepLR(object(), step_size=3)


def test_onecycle_refuses_extra_steps():
    opt = optim.SGD([cr.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9)
    sched = lrs.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    for _ in range(3):
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        sched.step()


def test_sequential_checks():
    opt = optim.SGD([cr.zeros(2, requires_grad=True)], lr=0.1)
    other = optim.SGD([cr.zeros(2, requires_grad=True)], lr=0.1)
    a, b = lrs.StepLR(opt, 3), lrs.ExponentialLR(other, 0.9)
    with pytest.raises(ValueError, match="same optimizer"):
        lrs.SequentialLR(opt, [a, b], milestones=[3])
    with pytest.raises(ValueError, match="number of milestones"):
        lrs.SequentialLR(opt, [a, lrs.StepLR(opt, 2)], milestones=[3, 4])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        lrs.SequentialLR(opt, [a, lrs.ReduceLROnPlateau(opt)], milestones=[3])


def test_warns_when_scheduler_steps_before_optimizer():
    opt = optim.SGD([cr.zeros(2, requires_grad=True)], lr=0.1)
    sched = lrs.StepLR(opt, 3)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


def test_get_lr_outside_step_warns():
    opt = optim.SGD([cr.zeros(2, requires_grad=True)], lr=0.1)
    sched = lrs.ExponentialLR(opt, 0.5)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


def test_scheduler_state_dict_with_callable_object_lambda():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate**epoch

    opt = optim.SGD([cr.zeros(2, requires_grad=True)], lr=0.1)
    sched = lrs.LambdaLR(opt, Decay(0.5))
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"rate": 0.5}]
    other = lrs.LambdaLR(optim.SGD([cr.zeros(2, requires_grad=True)], lr=0.1), Decay(0.9))
    other.load_state_dict(sd)
    assert other.lr_lambdas[0].rate == 0.5
    assert sd["lr_lambdas"] == [{"rate": 0.5}]  # loading leaves the dict as it was
