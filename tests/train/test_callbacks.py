"""Callbacks: early stopping, checkpoints, NaN termination, CSV logging, progress display."""

import csv
import io
import math

import numpy as np
import pytest
from helpers_train import Loader, blobs, mlp, params

from chainrule import nn, optim
from chainrule.serialization import load, save
from chainrule.train import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    ModelCheckpoint,
    ProgressBar,
    TerminateOnNaN,
    Trainer,
)


class Scripted(Callback):
    """Overwrites a log entry with a scripted sequence (callbacks share the logs dict) and
    records the weights after every epoch."""

    def __init__(self, key, values):
        self.key, self.values = key, values
        self.weights = {}

    def on_epoch_end(self, trainer, logs):
        logs[self.key] = self.values[logs["epoch"] - 1]
        self.weights[logs["epoch"]] = params(trainer.model)


def make_trainer(callbacks, lr=0.05, **kwargs):
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=lr)
    kwargs.setdefault("verbose", 0)
    return Trainer(model, opt, nn.CrossEntropyLoss(), callbacks=callbacks, **kwargs)


def loaders():
    x, y = blobs()
    return Loader(x, y, 16), Loader(x, y, 48)


def test_early_stopping_stops_at_the_right_epoch_and_restores_best_weights():
    script = Scripted("val_loss", [1.0, 0.8, 0.9, 0.85, 0.95, 0.7, 0.6])
    stop = EarlyStopping(patience=3, restore_best_weights=True)
    trainer = make_trainer([script, stop])
    train, val = loaders()
    history = trainer.fit(train, val, epochs=7)
    # best at epoch 2; epochs 3, 4, 5 do not improve -> stop after epoch 5
    assert trainer.epoch == 5 and len(history) == 5
    assert stop.stopped_epoch == 5 and stop.best_epoch == 2 and stop.best == 0.8
    for now, best in zip(params(trainer.model), script.weights[2]):
        np.testing.assert_array_equal(now, best)
    assert not np.array_equal(script.weights[5][0], script.weights[2][0])


def test_early_stopping_min_delta_and_max_mode():
    stop = EarlyStopping(patience=2, min_delta=0.1)
    trainer = make_trainer([Scripted("val_loss", [1.0, 0.95, 0.92, 0.5]), stop])
    trainer.fit(*loaders(), epochs=4)
    assert trainer.epoch == 3  # 0.95 and 0.92 are not 0.1 better than 1.0

    stop = EarlyStopping(monitor="val_accuracy", patience=1)  # "auto" -> max
    assert stop.mode == "max"
    trainer = make_trainer([Scripted("val_accuracy", [0.5, 0.7, 0.6, 0.9]), stop])
    trainer.fit(*loaders(), epochs=4)
    assert trainer.epoch == 3 and stop.best == 0.7


def test_early_stopping_restores_best_weights_when_epochs_run_out():
    script = Scripted("val_loss", [1.0, 0.5, 0.7])
    trainer = make_trainer([script, EarlyStopping(patience=5, restore_best_weights=True)])
    trainer.fit(*loaders(), epochs=3)
    assert trainer.epoch == 3
    np.testing.assert_array_equal(params(trainer.model)[0], script.weights[2][0])


def test_early_stopping_warns_when_the_monitored_value_is_missing():
    trainer = make_trainer([EarlyStopping(monitor="val_loss", patience=1)])
    train, _ = loaders()
    with pytest.warns(RuntimeWarning, match="'val_loss' is not in the logs"):
        trainer.fit(train, epochs=1)


def test_model_checkpoint_best_only_writes_on_improvement(tmp_path):
    ckpt = ModelCheckpoint(tmp_path / "ck{epoch}.safetensors", save_best_only=True)
    trainer = make_trainer([Scripted("val_loss", [1.0, 1.2, 0.9, 0.9, 0.5]), ckpt])
    trainer.fit(*loaders(), epochs=5)
    assert ckpt.saved_epochs == [1, 3, 5]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "ck1.safetensors",
        "ck3.safetensors",
        "ck5.safetensors",
    ]
    state = load(tmp_path / "ck3.safetensors")
    assert state["epoch"] == 3
    assert {"model", "optimizer", "scheduler", "rng", "history"} <= set(state)
    # a checkpoint written by the callback resumes a Trainer
    other = make_trainer([])
    other.load_checkpoint(tmp_path / "ck5.safetensors")
    assert other.epoch == 5 and len(other.history) == 5
    for a, b in zip(params(other.model), params(trainer.model)):
        np.testing.assert_array_equal(a, b)


def test_model_checkpoint_every_epoch_with_log_formatting_and_weights_only(tmp_path):
    ckpt = ModelCheckpoint(tmp_path / "sub" / "e{epoch:02d}-{val_loss:.2f}.safetensors")
    weights = ModelCheckpoint(tmp_path / "w.safetensors", save_weights_only=True)
    trainer = make_trainer([Scripted("val_loss", [0.5, 0.25]), ckpt, weights])
    trainer.fit(*loaders(), epochs=2)
    names = sorted(p.name for p in (tmp_path / "sub").iterdir())
    assert names == ["e01-0.50.safetensors", "e02-0.25.safetensors"]
    state = load(tmp_path / "w.safetensors")
    assert set(state) == {"0.weight", "0.bias", "2.weight", "2.bias"}


def test_terminate_on_nan_stops_training():
    x, y = blobs()
    x[40] = np.nan  # in the third batch of 16
    trainer = make_trainer([TerminateOnNaN()])
    trainer.fit(Loader(x, y, 16), Loader(x, y, 48), epochs=3)
    assert trainer.epoch == 1 and trainer.global_step == 3
    assert len(trainer.history) == 1 and math.isnan(trainer.history["loss"][0])
    assert "val_loss" not in trainer.history  # validation is skipped after a stop mid-epoch


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    path = tmp_path / "log.csv"
    trainer = make_trainer([CSVLogger(path)])
    train, val = loaders()
    trainer.fit(train, val, epochs=3)
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 3
    assert list(rows[0])[:5] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    for row, loss, lr in zip(rows, trainer.history["loss"], trainer.history["lr"]):
        assert float(row["loss"]) == loss and float(row["lr"]) == lr
    trainer.fit(train, val, epochs=1)  # a later fit appends, without a second header
    rows = list(csv.DictReader(path.open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]


def test_callback_hooks_order_and_lambda_callback():
    events = []

    def recorder(name):
        return lambda trainer, logs: events.append(name)

    names = ["on_train_begin", "on_epoch_begin", "on_batch_begin", "on_batch_end"]
    names += ["on_epoch_end", "on_train_end"]
    hooks = {name: recorder(name) for name in names}
    x, y = blobs(n=32)
    make_trainer([LambdaCallback(**hooks)]).fit(Loader(x, y, 16), epochs=1)
    assert events == [
        "on_train_begin",
        "on_epoch_begin",
        "on_batch_begin",
        "on_batch_end",
        "on_batch_begin",
        "on_batch_end",
        "on_epoch_end",
        "on_train_end",
    ]
    with pytest.raises(ValueError, match="unknown callback hook"):
        LambdaCallback(on_banana=print)


def test_stop_training_from_a_callback_stops_after_the_epoch():
    def stop_at_two(trainer, logs):
        if logs["epoch"] == 2:
            trainer.stop_training = True

    trainer = make_trainer([LambdaCallback(on_epoch_end=stop_at_two)])
    trainer.fit(*loaders(), epochs=10)
    assert trainer.epoch == 2


# ---------------------------------------------------------------- progress
def test_progress_prints_one_line_per_epoch_when_not_a_terminal(capsys):
    trainer = make_trainer([], verbose=1)
    trainer.fit(*loaders(), epochs=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("epoch 1/2") and lines[1].startswith("epoch 2/2")
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "samples/s"):
        assert key in lines[1]


def test_progress_is_silent_with_verbose_0(capsys):
    make_trainer([], verbose=0).fit(*loaders(), epochs=2)
    assert capsys.readouterr().out == ""


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_in_a_terminal_shows_loss_metrics_and_speed():
    stream = FakeTerminal()
    trainer = make_trainer([ProgressBar(verbose=1, file=stream)])
    trainer.fit(*loaders(), epochs=2)
    text = stream.getvalue()
    assert "epoch 1/2" in text and "epoch 2/2" in text
    assert "samples/s" in text and "val_accuracy" in text and "loss" in text
    assert "6/6" in text  # 96 samples in batches of 16

    stream = FakeTerminal()
    make_trainer([ProgressBar(verbose=2, file=stream)]).fit(*loaders(), epochs=1)
    assert stream.getvalue().startswith("epoch 1/1  loss")


def test_callbacks_state_is_saved_in_trainer_checkpoints(tmp_path):
    stop = EarlyStopping(patience=3)
    trainer = make_trainer([Scripted("val_loss", [1.0, 0.5, 0.7]), stop])
    trainer.fit(*loaders(), epochs=3)
    trainer.save_checkpoint(tmp_path / "t.safetensors")
    stop2 = EarlyStopping(patience=3)
    make_trainer([stop2]).load_checkpoint(tmp_path / "t.safetensors")
    assert (stop2.best, stop2.best_epoch, stop2.wait) == (0.5, 2, 1)


def test_trainer_checkpoint_of_a_plain_weights_file_is_refused(tmp_path):
    save(mlp().state_dict(), tmp_path / "w.safetensors")
    with pytest.raises(ValueError, match="w.safetensors is not a Trainer checkpoint"):
        make_trainer([]).load_checkpoint(tmp_path / "w.safetensors")
