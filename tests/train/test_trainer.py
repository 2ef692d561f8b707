"""Trainer: fit / evaluate / predict on a tiny problem, schedulers, clipping, resume."""

import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from helpers_train import Loader, blobs, data_loader_class, mlp, params

import chainrule
from chainrule import nn, optim
from chainrule.optim import lr_scheduler
from chainrule.serialization import load
from chainrule.train import History, Trainer

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def setup(lr=0.05, **kwargs):
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    kwargs.setdefault("verbose", 0)
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), **kwargs)
    x, y = blobs()
    return trainer, Loader(x, y, 16, shuffle=True), Loader(x, y, 32)


def test_fit_reduces_the_loss_and_fills_the_history():
    trainer, train, val = setup(metrics=["accuracy", "top2_accuracy"])
    history = trainer.fit(train, val, epochs=5)
    assert isinstance(history, History) and history is trainer.history and len(history) == 5
    expected = {"epoch", "loss", "accuracy", "top2_accuracy", "val_loss", "val_accuracy"}
    expected |= {"val_top2_accuracy", "lr", "time", "samples_per_sec"}
    assert set(history.keys()) == expected
    assert all(len(v) == 5 for v in history.history.values())
    assert history["epoch"] == [1, 2, 3, 4, 5]
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["val_accuracy"][-1] > 0.9
    assert all(t > 0 for t in history["time"]) and all(s > 0 for s in history["samples_per_sec"])
    assert history["lr"] == [0.05] * 5
    assert trainer.epoch == 5 and trainer.global_step == 5 * 6
    trainer.fit(train, val, epochs=2)  # a second fit continues the count and the history
    assert trainer.epoch == 7 and history["epoch"][-1] == 7


def test_evaluate_and_predict():
    trainer, train, val = setup()
    trainer.fit(train, epochs=3)
    results = trainer.evaluate(val)
    assert set(results) == {"loss", "accuracy"}
    logits = trainer.predict(val)
    assert tuple(logits.shape) == (96, 3) and not logits.requires_grad
    x, y = blobs()
    with chainrule.no_grad():
        direct = trainer.model(chainrule.tensor(x))
        expected_loss = nn.CrossEntropyLoss()(direct, chainrule.tensor(y)).item()
    np.testing.assert_allclose(logits.numpy(), direct.numpy(), rtol=1e-6)
    assert results["loss"] == pytest.approx(expected_loss, rel=1e-5)
    assert results["accuracy"] == chainrule.metrics.accuracy(direct, y)
    # bare-input batches work for predict
    bare = [chainrule.tensor(x[:50]), chainrule.tensor(x[50:])]
    np.testing.assert_allclose(trainer.predict(bare).numpy(), direct.numpy(), rtol=1e-6)


class ModeRecorder(nn.Module):
    """Records (training flag, grad mode) at every forward."""

    def __init__(self):
        super().__init__()
        self.net = mlp()
        self.calls = []

    def forward(self, x):
        self.calls.append((self.training, chainrule.is_grad_enabled()))
        return self.net(x)


def test_train_and_eval_modes_and_no_grad():
    model = ModeRecorder()
    trainer = Trainer(
        model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), verbose=0
    )
    x, y = blobs(n=32)
    train, val = Loader(x, y, 16), Loader(x, y, 32)
    trainer.fit(train, val, epochs=1)
    assert model.calls == [(True, True), (True, True), (False, False)]
    assert model.training  # back in training mode after validation
    model.calls.clear()
    model.eval()
    trainer.evaluate(val)
    trainer.predict(val)
    assert model.calls == [(False, False), (False, False)] and not model.training
    model.train()
    trainer.predict(val)
    assert model.calls[-1] == (False, False) and model.training


def test_trainer_runs_the_plain_loop():
    """The Trainer is a convenience: its parameters equal those of the hand-written loop."""
    x, y = blobs()
    chainrule.manual_seed(0)
    model = mlp(dropout=0.3)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(2):
        model.train()
        for xb, yb in Loader(x, y, 16):
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()

    chainrule.manual_seed(0)
    model2 = mlp(dropout=0.3)
    opt2 = optim.SGD(model2.parameters(), lr=0.05, momentum=0.9)
    Trainer(model2, opt2, loss_fn, verbose=0).fit(Loader(x, y, 16), epochs=2)
    for a, b in zip(params(model), params(model2)):
        np.testing.assert_array_equal(a, b)


def test_numpy_batches_and_multiple_inputs():
    class TwoInputs(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 3)
            self.b = nn.Linear(4, 3)

        def forward(self, x1, x2):
            return self.a(x1) + self.b(x2)

    x, y = blobs(n=48)
    batches = [(x[i : i + 16], x[i : i + 16] * 2, y[i : i + 16]) for i in range(0, 48, 16)]
    model = TwoInputs()
    trainer = Trainer(
        model, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), verbose=0
    )
    history = trainer.fit(batches, batches, epochs=3)
    assert history["loss"][-1] < history["loss"][0]
    assert tuple(trainer.predict(batches).shape) == (48, 3)


def test_regression_with_mse_metric_objects():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]])).astype(np.float32)
    model = nn.Linear(3, 1)
    trainer = Trainer(
        model,
        optim.SGD(model.parameters(), lr=0.1),
        nn.MSELoss(),
        metrics=[chainrule.metrics.MeanSquaredError(), "mae"],
        verbose=0,
    )
    history = trainer.fit(Loader(x, y, 16), epochs=10)
    assert history["mse"][-1] < 0.01 * history["mse"][0]
    assert history["mse"][-1] == pytest.approx(history["loss"][-1], rel=1e-5)
    assert "mae" in history


def test_scheduler_per_epoch_and_per_step():
    trainer, train, _ = setup(lr=0.1)
    trainer.scheduler = lr_scheduler.StepLR(trainer.optimizer, step_size=1, gamma=0.5)
    trainer.fit(train, epochs=3)
    assert trainer.history["lr"] == pytest.approx([0.1, 0.05, 0.025])

    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    trainer = Trainer(
        model, opt, nn.CrossEntropyLoss(), scheduler=sched, scheduler_interval="step", verbose=0
    )
    trainer.fit(train, epochs=1)  # 6 batches -> 6 scheduler steps
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**6)


def test_reduce_lr_on_plateau_gets_the_validation_loss():
    class Recording(lr_scheduler.ReduceLROnPlateau):
        seen = []

        def step(self, metrics, epoch=None):
            self.seen.append(metrics)
            super().step(metrics, epoch)

    trainer, train, val = setup()
    trainer.scheduler = Recording(trainer.optimizer, patience=0)
    trainer.fit(train, val, epochs=3)
    assert Recording.seen == trainer.history["val_loss"]
    Recording.seen = []
    trainer.fit(train, epochs=1)  # without validation: the training loss
    assert Recording.seen == trainer.history["loss"][-1:]
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        Trainer(
            trainer.model,
            trainer.optimizer,
            nn.CrossEntropyLoss(),
            scheduler=trainer.scheduler,
            scheduler_interval="step",
        )


def test_grad_clip_bounds_the_update():
    model = mlp()
    before = params(model)
    opt = optim.SGD(model.parameters(), lr=1.0)
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), grad_clip=1e-3, verbose=0)
    x, y = blobs(n=16)
    trainer.fit(Loader(x, y, 16), epochs=1)  # one step: |update| = lr * |clipped grad|
    delta = np.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(params(model), before)))
    assert 0 < delta <= 1e-3 * (1 + 1e-4)


def test_history_plot_and_csv(tmp_path):
    trainer, train, val = setup()
    history = trainer.fit(train, val, epochs=3)
    history.to_csv(tmp_path / "h.csv")
    lines = (tmp_path / "h.csv").read_text().strip().splitlines()
    assert lines[0].split(",")[:2] == ["epoch", "loss"] and len(lines) == 4
    pytest.importorskip("matplotlib")
    fig = history.plot(tmp_path / "h.png")
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss", "accuracy"]  # lr was constant: no lr panel
    assert len(fig.axes[0].get_lines()) == 2  # train and validation


def test_history_fills_missing_values_with_nan():
    h = History()
    h.append({"epoch": 1, "loss": 1.0, "note": "text is skipped"})
    h.append({"epoch": 2, "loss": 0.5, "val_loss": 0.7})
    assert h["val_loss"][0] != h["val_loss"][0] and h["val_loss"][1] == 0.7
    assert len(h) == 2 and "note" not in h
    assert math.isnan(h.rows()[0]["val_loss"])


# ---------------------------------------------------------------- resume
RESUME_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {repo!r})
    sys.path.insert(0, {tests!r})
    import chainrule
    from chainrule import nn, optim
    from chainrule.serialization import save
    from chainrule.train import Trainer
    from helpers_train import Loader, blobs, mlp

    mode, generator, out, ckpt = sys.argv[1:5]
    chainrule.manual_seed(0)
    model = mlp(dropout=0.2)  # dropout draws from the global generator
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    x, y = blobs()
    if generator == "dataloader":  # chainrule.data's DataLoader with its own Generator
        from helpers_train import data_loader_class

        DataLoader, TensorDataset = data_loader_class()
        dataset = TensorDataset(chainrule.tensor(x), chainrule.tensor(y))
        g = chainrule.Generator().manual_seed(123)
        train = DataLoader(dataset, batch_size=16, shuffle=True, generator=g)
    else:
        train = Loader(x, y, 16, shuffle=True, seed=123,
                       generator="global" if generator == "global" else None)
    val = Loader(x, y, 48)
    trainer = Trainer(model, opt, nn.CrossEntropyLoss(), scheduler=sched, verbose=0)
    if mode == "full":
        trainer.fit(train, val, epochs=4)
    elif mode == "first":
        trainer.fit(train, val, epochs=2)
        trainer.save_checkpoint(ckpt)
    else:
        trainer.load_checkpoint(ckpt)
        trainer.fit(train, val, epochs=2)
    save({{"model": model.state_dict(), "optimizer": opt.state_dict(),
          "scheduler": sched.state_dict(), "epoch": trainer.epoch,
          "history": trainer.history.to_dict()}}, out)
    """
)


@pytest.mark.parametrize("generator", ["own", "global", "dataloader"])
def test_resume_in_a_new_process_equals_uninterrupted_training(tmp_path, generator):
    if generator == "dataloader" and data_loader_class() is None:
        pytest.skip("chainrule.data.DataLoader is not available")
    script = tmp_path / "run.py"
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    script.write_text(RESUME_SCRIPT.format(repo=REPO, tests=tests_dir))
    ckpt = tmp_path / "after2.safetensors"

    def run(mode):
        out = tmp_path / f"{mode}.safetensors"
        subprocess.run(
            [sys.executable, str(script), mode, generator, str(out), str(ckpt)],
            check=True,
            timeout=60,
        )
        return load(out)

    full = run("full")
    run("first")
    resumed = run("resume")
    assert resumed["epoch"] == full["epoch"] == 4
    for key, p in full["model"].items():
        np.testing.assert_array_equal(resumed["model"][key].numpy(), p.numpy(), err_msg=key)
    for i, state in full["optimizer"]["state"].items():
        for name, value in state.items():
            np.testing.assert_array_equal(
                resumed["optimizer"]["state"][i][name].numpy(), value.numpy()
            )
    assert resumed["scheduler"] == full["scheduler"]
    for key in ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert resumed["history"][key] == full["history"][key], key
