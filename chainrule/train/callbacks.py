"""Callbacks: code the Trainer runs at fixed points of training.

Subclass :class:`Callback` and override any of its hooks; each receives the trainer and a
``logs`` dict. Epoch logs hold ``epoch`` (1-based: the number of epochs completed),
``loss``, the metrics, ``val_loss`` and ``val_<metric>`` (with a validation loader),
``lr``, ``time`` and ``samples_per_sec``. Batch logs hold ``batch`` (0-based index in
the epoch), ``size`` and ``loss``. Setting ``trainer.stop_training = True`` ends training
after the current batch (from ``on_batch_end``) or epoch (from ``on_epoch_end``).

Order of events per epoch: batches (``on_batch_begin``/``on_batch_end``), validation,
scheduler step, then ``on_epoch_end`` (so a checkpoint written there is a consistent
"after epoch N" state).
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time
import warnings

import numpy as np

from chainrule.train.progress import format_logs, summary_line

__all__ = [
    "Callback",
    "EarlyStopping",
    "ModelCheckpoint",
    "TerminateOnNaN",
    "CSVLogger",
    "LambdaCallback",
    "ProgressBar",
]


class Callback:
    """Base class: every hook does nothing. ``state_dict()`` is saved in Trainer checkpoints."""

    def on_train_begin(self, trainer, logs: dict) -> None:
        pass

    def on_train_end(self, trainer, logs: dict) -> None:
        pass

    def on_epoch_begin(self, trainer, logs: dict) -> None:
        pass

    def on_epoch_end(self, trainer, logs: dict) -> None:
        pass

    def on_batch_begin(self, trainer, logs: dict) -> None:
        pass

    def on_batch_end(self, trainer, logs: dict) -> None:
        pass

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class LambdaCallback(Callback):
    """A callback from functions: ``LambdaCallback(on_epoch_end=lambda trainer, logs: ...)``."""

    def __init__(self, **hooks) -> None:
        for name, fn in hooks.items():
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise ValueError(f"unknown callback hook {name!r}")
            setattr(self, name, fn)


def _resolve_mode(mode: str, monitor: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    name = monitor.lower()
    higher = ("acc", "f1", "precision", "recall", "auc", "top")
    return "max" if any(h in name for h in higher) else "min"


class _Monitor:
    """The "is this value an improvement" rule shared by EarlyStopping and ModelCheckpoint."""

    def __init__(self, monitor: str, mode: str, min_delta: float = 0.0) -> None:
        self.monitor = monitor
        self.mode = _resolve_mode(mode, monitor)
        self.min_delta = abs(min_delta)
        self.best = math.inf if self.mode == "min" else -math.inf

    def improved(self, current: float) -> bool:
        if math.isnan(current):
            return False
        if self.mode == "min":
            return current < self.best - self.min_delta
        return current > self.best + self.min_delta

    def value(self, logs: dict, who: str):
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"{who}: the monitored quantity {self.monitor!r} is not in the logs "
                f"(available: {', '.join(sorted(logs))}); skipping",
                RuntimeWarning,
                stacklevel=3,
            )
            return None
        return float(current)


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    An epoch improves when ``value < best - min_delta`` (mode "min") or
    ``value > best + min_delta`` ("max"); "auto" picks "max" for names with acc, f1,
    precision, recall or auc, else "min".

    Args:
        restore_best_weights: at the end of training, load the model weights of the best
            epoch (whether training stopped early or ran out of epochs).

    Attributes:
        best, best_epoch, stopped_epoch (0 when training was not stopped), wait.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = False,
        verbose: int = 0,
    ) -> None:
        self._rule = _Monitor(monitor, mode, min_delta)
        self.monitor, self.mode, self.min_delta = monitor, self._rule.mode, min_delta
        self.patience = patience
        self.restore_best_weights = restore_best_weights
        self.verbose = verbose
        self.wait = 0
        self.best_epoch = 0
        self.stopped_epoch = 0
        self.best_weights = None

    @property
    def best(self) -> float:
        return self._rule.best

    def on_train_begin(self, trainer, logs: dict) -> None:
        self.stopped_epoch = 0

    def on_epoch_end(self, trainer, logs: dict) -> None:
        current = self._rule.value(logs, "EarlyStopping")
        if current is None:
            return
        epoch = logs.get("epoch", trainer.epoch)
        if self._rule.improved(current):
            self._rule.best = current
            self.best_epoch = epoch
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = _snapshot(trainer.model.state_dict())
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            trainer.stop_training = True
            if self.verbose:
                print(
                    f"EarlyStopping: no improvement of {self.monitor} for {self.wait} epochs; "
                    f"stopping after epoch {epoch} (best {self.best:.6g} at epoch "
                    f"{self.best_epoch})"
                )

    def on_train_end(self, trainer, logs: dict) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            if self.best_epoch != trainer.epoch:
                trainer.model.load_state_dict(self.best_weights)
                if self.verbose:
                    print(f"EarlyStopping: restored the weights of epoch {self.best_epoch}")

    def state_dict(self) -> dict:
        return {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
            "best_weights": self.best_weights,
        }

    def load_state_dict(self, state: dict) -> None:
        self._rule.best = state["best"]
        self.best_epoch = state["best_epoch"]
        self.wait = state["wait"]
        self.stopped_epoch = state["stopped_epoch"]
        self.best_weights = state.get("best_weights")


def _snapshot(state_dict) -> dict:
    """A copy of a state_dict's values that later training steps will not change."""
    return {
        k: np.array(v.data if hasattr(v, "data") else v, copy=True) for k, v in state_dict.items()
    }


class ModelCheckpoint(Callback):
    """Write a checkpoint (``chainrule.save``) at the end of every epoch, or of the best ones.

    The checkpoint is ``trainer.save_checkpoint(path)``: model, optimizer and scheduler
    state, epoch counter, RNG states and history, enough to resume training exactly; with
    ``save_weights_only=True`` only ``model.state_dict()``.

    Args:
        path: the file name; may contain ``{epoch}`` and any log key, e.g.
            ``"ckpt/epoch{epoch:03d}-{val_loss:.3f}.safetensors"``.
        monitor: the quantity compared when ``save_best_only``.
        save_best_only: write only when ``monitor`` improves on its best value so far.
        mode: "min", "max" or "auto" (as in :class:`EarlyStopping`).

    Attributes:
        best: the best monitored value; ``last_path``: the file written last.
    """

    def __init__(
        self,
        path,
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str = "auto",
        save_weights_only: bool = False,
        verbose: int = 0,
    ) -> None:
        self.path = os.fspath(path)
        self._rule = _Monitor(monitor, mode)
        self.monitor, self.mode = monitor, self._rule.mode
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.verbose = verbose
        self.last_path: str | None = None
        self.saved_epochs: list[int] = []

    @property
    def best(self) -> float:
        return self._rule.best

    def on_epoch_end(self, trainer, logs: dict) -> None:
        if self.save_best_only:
            current = self._rule.value(logs, "ModelCheckpoint")
            if current is None or not self._rule.improved(current):
                return
            self._rule.best = current
        path = self.path.format(**{**logs, "epoch": logs.get("epoch", trainer.epoch)})
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            from chainrule.serialization import save

            save(trainer.model.state_dict(), path)
        else:
            trainer.save_checkpoint(path)
        self.last_path = path
        self.saved_epochs.append(logs.get("epoch", trainer.epoch))
        if self.verbose:
            print(f"ModelCheckpoint: saved {path}")

    def state_dict(self) -> dict:
        return {"best": self.best, "last_path": self.last_path}

    def load_state_dict(self, state: dict) -> None:
        self._rule.best = state["best"]
        self.last_path = state.get("last_path")


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch loss is nan or infinite."""

    def __init__(self) -> None:
        self.stopped_at: tuple[int, int] | None = None

    def on_batch_end(self, trainer, logs: dict) -> None:
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(loss):
            self.stopped_at = (trainer.epoch + 1, logs.get("batch", -1))
            print(
                f"TerminateOnNaN: loss is {loss} at batch {logs.get('batch')} of epoch "
                f"{trainer.epoch + 1}; stopping"
            )
            trainer.stop_training = True


class CSVLogger(Callback):
    """Append each epoch's logs as a row of a CSV file (header from the first epoch).

    Args:
        path: the CSV file.
        append: keep an existing file and add rows to it (when resuming); otherwise the
            file is overwritten when training begins.
    """

    def __init__(self, path, separator: str = ",", append: bool = False) -> None:
        self.path = os.fspath(path)
        self.separator = separator
        self.append = append
        self.keys: list[str] | None = None
        self._file = None
        self._writer = None

    def on_train_begin(self, trainer, logs: dict) -> None:
        self.keys = None
        if self.append and os.path.exists(self.path) and os.path.getsize(self.path) > 0:
            with open(self.path, newline="") as fh:
                self.keys = next(csv.reader(fh, delimiter=self.separator), None)
            self._file = open(self.path, "a", newline="")  # noqa: SIM115 - closed at train end
        else:
            self._file = open(self.path, "w", newline="")  # noqa: SIM115
        self._writer = csv.writer(self._file, delimiter=self.separator)
        self.append = True  # a second fit() on the same trainer continues the file

    def on_epoch_end(self, trainer, logs: dict) -> None:
        if self._writer is None:
            self.on_train_begin(trainer, {})
        if self.keys is None:
            self.keys = ["epoch"] + [k for k in logs if k != "epoch"]
            self._writer.writerow(self.keys)
        self._writer.writerow([_csv_value(logs.get(k, "")) for k in self.keys])
        self._file.flush()

    def on_train_end(self, trainer, logs: dict) -> None:
        if self._file is not None:
            self._file.close()
        self._file = self._writer = None


def _csv_value(value) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


class ProgressBar(Callback):
    """Shows training progress with tqdm (see ``chainrule.train.progress``).

    ``verbose=0``: nothing. ``verbose=1``: a bar per epoch in a terminal (loss, metrics,
    samples/s), one summary line per epoch when stdout is not a terminal. ``verbose=2``:
    one summary line per epoch always.

    Args:
        verbose: 0, 1 or 2.
        file: the stream to write to (default: ``sys.stdout`` at the time of writing).
    """

    def __init__(self, verbose: int = 1, file=None) -> None:
        self.verbose = verbose
        self.file = file
        self._bar = None
        self._epochs = None

    def _stream(self):
        return self.file if self.file is not None else sys.stdout

    def _use_bar(self) -> bool:
        if self.verbose != 1:
            return False
        try:
            return bool(self._stream().isatty())
        except (AttributeError, ValueError):
            return False

    def on_train_begin(self, trainer, logs: dict) -> None:
        self._epochs = logs.get("epochs")

    def on_epoch_begin(self, trainer, logs: dict) -> None:
        self._start = time.perf_counter()
        self._seen = 0
        self._loss_sum = 0.0
        if not self._use_bar():
            return
        from tqdm.auto import tqdm

        epoch = logs.get("epoch", trainer.epoch + 1)
        desc = f"epoch {epoch}/{self._epochs}" if self._epochs else f"epoch {epoch}"
        self._bar = tqdm(
            total=logs.get("steps"), desc=desc, unit="batch", file=self._stream(), leave=True
        )

    def on_batch_end(self, trainer, logs: dict) -> None:
        if self._bar is None:
            return
        size = logs.get("size", 0)
        self._seen += size
        self._loss_sum += logs.get("loss", 0.0) * size
        elapsed = max(time.perf_counter() - self._start, 1e-9)
        running = {"loss": self._loss_sum / max(self._seen, 1), **trainer.running_metrics()}
        self._bar.set_postfix_str(
            f"{format_logs(running)}  {self._seen / elapsed:.0f} samples/s", refresh=False
        )
        self._bar.update(1)

    def on_epoch_end(self, trainer, logs: dict) -> None:
        if self._bar is not None:
            text = format_logs(logs)
            if "samples_per_sec" in logs:
                text += f"  {logs['samples_per_sec']:.0f} samples/s"
            self._bar.set_postfix_str(text, refresh=True)
            self._bar.close()
            self._bar = None
        elif self.verbose:
            print(summary_line(logs, self._epochs), file=self._stream(), flush=True)

    def on_train_end(self, trainer, logs: dict) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
