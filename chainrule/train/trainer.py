"""Trainer: the usual epoch loop, with metrics, validation, callbacks and checkpoints.

It runs exactly the loop you would write by hand (see ``chainrule.train``), so anything it
does can be done without it.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Iterable, Sequence

import numpy as np

from chainrule.autograd.function import no_grad
from chainrule.backend import device as parse_device
from chainrule.metrics import Metric, get_metric
from chainrule.random import Generator, get_rng_state, set_rng_state
from chainrule.tensor import Tensor
from chainrule.train.callbacks import Callback, ProgressBar
from chainrule.train.history import History

__all__ = ["Trainer"]

CHECKPOINT_FORMAT = "chainrule.train.Trainer"


class Trainer:
    """Train ``model`` with ``optimizer`` on ``loss_fn``, epoch after epoch.

    Each training batch runs ``optimizer.zero_grad(); out = model(*inputs);
    loss = loss_fn(out, target); loss.backward()``, clips gradients when ``grad_clip`` is
    set, then ``optimizer.step()``. A batch is ``(inputs..., target)`` (a tuple or list; all
    elements but the last go to the model) or a bare input; Tensors and NumPy arrays in it
    are moved to ``device``.

    Args:
        model: an ``nn.Module`` (moved to ``device``).
        optimizer: an optimizer over the model's parameters.
        loss_fn: ``loss_fn(output, target)`` returning a scalar (mean over the batch), e.g.
            ``nn.CrossEntropyLoss()``.
        metrics: names (``"accuracy"``, ``"top5_accuracy"``, ``"mse"``, ``"mae"``), Metric
            objects (``chainrule.metrics.Accuracy()``) or functions ``fn(output, target)``.
        scheduler: a learning-rate scheduler, stepped once per epoch (after validation;
            ``ReduceLROnPlateau`` receives ``logs[scheduler_monitor]``, falling back to the
            training loss without a validation set) or once per batch with
            ``scheduler_interval="step"``.
        callbacks: :class:`~chainrule.train.callbacks.Callback` objects.
        device: where batches (and the model) go.
        grad_clip: clip the gradients' joint L2 norm to this value (``clip_grad_norm_``).
        verbose: 0 silent, 1 progress bar (one line per epoch when stdout is not a
            terminal), 2 one line per epoch. Ignored when ``callbacks`` has a ProgressBar.

    Attributes:
        epoch: the number of epochs completed (saved in checkpoints).
        global_step: the number of optimizer steps taken.
        history: a :class:`History` of every epoch's logs across ``fit`` calls.
        stop_training: set it to True (from a callback) to stop after the current batch.

    Example:
        >>> trainer = Trainer(model, optim.Adam(model.parameters(), 1e-3),
        ...                   nn.CrossEntropyLoss(), metrics=["accuracy"])
        >>> history = trainer.fit(train_loader, val_loader, epochs=10)
        >>> trainer.evaluate(test_loader)
        {'loss': 0.31, 'accuracy': 0.91}
    """

    def __init__(
        self,
        model,
        optimizer,
        loss_fn,
        metrics: Sequence = ("accuracy",),
        scheduler=None,
        callbacks: Iterable[Callback] = (),
        device="cpu",
        grad_clip: float | None = None,
        verbose: int = 1,
        scheduler_interval: str = "epoch",
        scheduler_monitor: str = "val_loss",
    ) -> None:
        from chainrule.optim.lr_scheduler import ReduceLROnPlateau

        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(
                f"scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}"
            )
        if isinstance(scheduler, ReduceLROnPlateau) and scheduler_interval == "step":
            raise ValueError(
                "ReduceLROnPlateau needs an epoch metric: use scheduler_interval='epoch'"
            )
        self.device = parse_device(device)
        self.model = model
        if any(p.device != self.device for p in model.parameters()):
            model.to(self.device)
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        if isinstance(metrics, str | Metric) or callable(metrics):
            metrics = [metrics]
        self.metrics: list[Metric] = [get_metric(m) for m in (metrics or ())]
        self.scheduler = scheduler
        self.scheduler_interval = scheduler_interval
        self.scheduler_monitor = scheduler_monitor
        self.grad_clip = grad_clip
        self.callbacks: list[Callback] = list(callbacks)
        if verbose and not any(isinstance(cb, ProgressBar) for cb in self.callbacks):
            self.callbacks.insert(0, ProgressBar(verbose))
        self.verbose = verbose
        self.epoch = 0
        self.global_step = 0
        self.history = History()
        self.stop_training = False
        self._train_loader = None
        self._pending_loader_state = None

    # ---------------------------------------------------------------- batches
    def _to_device(self, obj):
        if isinstance(obj, Tensor):
            return obj if obj.device == self.device else obj.to(self.device)
        if isinstance(obj, np.ndarray):
            from chainrule.tensor import tensor

            return tensor(obj, device=self.device)
        if isinstance(obj, list | tuple):
            return type(obj)(self._to_device(o) for o in obj)
        if isinstance(obj, dict):
            return {k: self._to_device(v) for k, v in obj.items()}
        return obj

    def split_batch(self, batch):
        """``(inputs, target)`` of a batch: inputs is a tuple, target None when absent."""
        batch = self._to_device(batch)
        if isinstance(batch, list | tuple):
            if len(batch) == 1:
                return tuple(batch), None
            return tuple(batch[:-1]), batch[-1]
        return (batch,), None

    @staticmethod
    def _batch_size(inputs, target) -> int:
        for x in (target, *inputs):
            if isinstance(x, Tensor | np.ndarray) and x.ndim > 0:
                return int(x.shape[0])
        return 1

    def train_step(self, inputs: tuple, target):
        """One optimisation step on a batch; returns ``(output, loss)``. Override to customise."""
        self.optimizer.zero_grad()
        output = self.model(*inputs)
        loss = self.loss_fn(output, target)
        loss.backward()
        if self.grad_clip is not None:
            from chainrule.nn.utils import clip_grad_norm_

            clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.optimizer.step()
        return output, loss

    # ---------------------------------------------------------------- loops
    def _callback(self, hook: str, logs: dict) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(self, logs)

    def running_metrics(self) -> dict:
        """The metrics accumulated so far in the current epoch (for progress displays)."""
        return {m.name: m.compute() for m in self.metrics}

    def current_lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def fit(self, train_loader, val_loader=None, epochs: int = 1) -> History:
        """Train for ``epochs`` more epochs; returns :attr:`history` (all epochs so far).

        Validation (when ``val_loader`` is given) runs after each epoch, under ``no_grad``
        in eval mode; its results are logged as ``val_loss`` and ``val_<metric>``.
        """
        if self._pending_loader_state is not None:
            _set_loader_state(train_loader, self._pending_loader_state)
            self._pending_loader_state = None
        self._train_loader = train_loader
        self.stop_training = False
        end = self.epoch + epochs
        self._callback("on_train_begin", {"epochs": end})
        try:
            while self.epoch < end and not self.stop_training:
                logs = self._train_epoch(train_loader, val_loader)
                self.history.append(logs)
                self._callback("on_epoch_end", logs)
        finally:
            self._callback("on_train_end", {"epoch": self.epoch})
        return self.history

    def _train_epoch(self, loader, val_loader) -> dict:
        start = time.perf_counter()
        lr = self.current_lr()
        steps = len(loader) if hasattr(loader, "__len__") else None
        self._callback("on_epoch_begin", {"epoch": self.epoch + 1, "steps": steps})
        self.model.train()
        for m in self.metrics:
            m.reset()
        loss_sum, seen, stopped = 0.0, 0, False
        for i, batch in enumerate(loader):
            self._callback("on_batch_begin", {"batch": i})
            inputs, target = self.split_batch(batch)
            output, loss = self.train_step(inputs, target)
            if self.scheduler is not None and self.scheduler_interval == "step":
                self.scheduler.step()
            self.global_step += 1
            n = self._batch_size(inputs, target)
            loss_value = float(loss.item())
            loss_sum += loss_value * n
            seen += n
            output = output.detach() if isinstance(output, Tensor) else output
            if target is not None:
                for m in self.metrics:
                    m.update(output, target)
            self._callback("on_batch_end", {"batch": i, "size": n, "loss": loss_value})
            if self.stop_training:
                stopped = True
                break
        train_time = time.perf_counter() - start
        self.epoch += 1
        logs = {"epoch": self.epoch, "loss": loss_sum / seen if seen else math.nan}
        logs.update(self.running_metrics())
        if val_loader is not None and not stopped:
            logs.update({f"val_{k}": v for k, v in self.evaluate(val_loader).items()})
        if not stopped:
            self._scheduler_epoch_step(logs)
        logs["lr"] = lr
        logs["time"] = time.perf_counter() - start
        logs["samples_per_sec"] = seen / train_time if train_time > 0 else math.nan
        return logs

    def _scheduler_epoch_step(self, logs: dict) -> None:
        if self.scheduler is None or self.scheduler_interval != "epoch":
            return
        from chainrule.optim.lr_scheduler import ReduceLROnPlateau

        if isinstance(self.scheduler, ReduceLROnPlateau):
            value = logs.get(self.scheduler_monitor, logs["loss"])
            self.scheduler.step(value)
        else:
            self.scheduler.step()

    def evaluate(self, loader) -> dict:
        """Mean loss and metrics over ``loader`` (eval mode, no gradients): ``{"loss": ...}``."""
        was_training = self.model.training
        self.model.eval()
        for m in self.metrics:
            m.reset()
        loss_sum, seen = 0.0, 0
        try:
            with no_grad():
                for batch in loader:
                    inputs, target = self.split_batch(batch)
                    output = self.model(*inputs)
                    n = self._batch_size(inputs, target)
                    if target is not None:
                        loss_sum += float(self.loss_fn(output, target).item()) * n
                        for m in self.metrics:
                            m.update(output, target)
                    seen += n
        finally:
            self.model.train(was_training)
        results = {"loss": loss_sum / seen if seen else math.nan}
        results.update(self.running_metrics())
        return results

    def predict(self, loader) -> Tensor:
        """The model's outputs over ``loader``, concatenated along dim 0 (eval, no_grad).

        Batches may be bare inputs or ``(inputs..., target)`` (the target is ignored).
        """
        from chainrule.ops import cat

        was_training = self.model.training
        self.model.eval()
        outputs = []
        try:
            with no_grad():
                for batch in loader:
                    inputs, _ = self.split_batch(batch)
                    outputs.append(self.model(*inputs))
        finally:
            self.model.train(was_training)
        if not outputs:
            raise ValueError("predict: the loader yielded no batches")
        if isinstance(outputs[0], Tensor):
            return cat(outputs, 0)
        return [cat(list(parts), 0) for parts in zip(*outputs)]  # models returning tuples

    # ---------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict:
        """Everything needed to resume: model, optimizer, scheduler, counters, RNG states,
        the training loader's generator state, history and callback states."""
        callbacks = {}
        for key, cb in _callback_keys(self.callbacks):
            state = cb.state_dict()
            if state:
                callbacks[key] = state
        return {
            "format": CHECKPOINT_FORMAT,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "epoch": self.epoch,
            "global_step": self.global_step,
            "rng": get_rng_state(),
            "loader": _get_loader_state(self._train_loader),
            "history": self.history.to_dict(),
            "callbacks": callbacks,
        }

    def load_state_dict(self, state: dict, train_loader=None) -> None:
        """Restore a :meth:`state_dict` (see :meth:`load_checkpoint`)."""
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(
                "not a Trainer checkpoint (no 'format': 'chainrule.train.Trainer'); for bare "
                "weights use model.load_state_dict(chainrule.load(path))"
            )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if state["scheduler"] is not None:
            if self.scheduler is None:
                warnings.warn(
                    "the checkpoint has scheduler state but the Trainer has no scheduler",
                    stacklevel=2,
                )
            else:
                self.scheduler.load_state_dict(state["scheduler"])
        elif self.scheduler is not None:
            warnings.warn(
                "the checkpoint has no scheduler state; the scheduler starts afresh", stacklevel=2
            )
        self.epoch = int(state["epoch"])
        self.global_step = int(state["global_step"])
        set_rng_state(state["rng"])
        self.history = History(state.get("history"))
        saved = state.get("callbacks", {})
        for key, cb in _callback_keys(self.callbacks):
            if key in saved:
                cb.load_state_dict(saved[key])
        loader_state = state.get("loader")
        loader = train_loader if train_loader is not None else self._train_loader
        if loader_state is not None and loader is not None:
            _set_loader_state(loader, loader_state)
            self._pending_loader_state = None
        else:
            self._pending_loader_state = loader_state  # applied by the next fit()

    def save_checkpoint(self, path) -> None:
        """Write :meth:`state_dict` with ``chainrule.save`` (atomically)."""
        from chainrule.serialization import save

        save(self.state_dict(), path)

    def load_checkpoint(self, path, map_location=None, train_loader=None) -> None:
        """Resume from :meth:`save_checkpoint`: the next ``fit`` continues exactly where the
        saved run was (same parameters, optimizer and scheduler state, RNG streams and
        shuffling order of the training loader).

        Args:
            train_loader: the loader whose generator state to restore now; by default the
                state is applied to the loader of the next ``fit`` call.
        """
        from chainrule.serialization import load

        state = load(path, map_location=map_location)
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(
                f"{os.fspath(path)} is not a Trainer checkpoint (written by "
                "Trainer.save_checkpoint or ModelCheckpoint); for bare weights use "
                "model.load_state_dict(chainrule.load(path))"
            )
        self.load_state_dict(state, train_loader)


def _callback_keys(callbacks):
    counts: dict[str, int] = {}
    for cb in callbacks:
        name = type(cb).__name__
        k = counts.get(name, 0)
        counts[name] = k + 1
        yield (name if k == 0 else f"{name}#{k}"), cb


_LOADER_GENERATOR_PATHS = ("generator", "sampler.generator", "batch_sampler.sampler.generator")


def _resolve(obj, path: str):
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _get_loader_state(loader):
    """The loader's own ``state_dict()``, or the states of the generators it shuffles with."""
    if loader is None:
        return None
    if callable(getattr(loader, "state_dict", None)):
        return {"state_dict": loader.state_dict()}
    generators, seen = {}, set()
    for path in _LOADER_GENERATOR_PATHS:
        gen = _resolve(loader, path)
        if id(gen) in seen:  # the loader and its sampler usually share one generator
            continue
        seen.add(id(gen))
        if isinstance(gen, Generator):
            generators[path] = gen.get_state()
        elif isinstance(gen, np.random.Generator):
            generators[path] = gen.bit_generator.state
    return {"generators": generators} if generators else None


def _set_loader_state(loader, state) -> None:
    if state is None or loader is None:
        return
    if "state_dict" in state:
        if callable(getattr(loader, "load_state_dict", None)):
            loader.load_state_dict(state["state_dict"])
        return
    for path, gen_state in state.get("generators", {}).items():
        gen = _resolve(loader, path)
        if isinstance(gen, Generator):
            gen.set_state(gen_state)
        elif isinstance(gen, np.random.Generator):
            gen.bit_generator.state = gen_state
        else:
            warnings.warn(
                f"the checkpoint has a generator state for loader.{path}, but this loader has "
                "no such generator; its shuffling order will differ from the saved run",
                stacklevel=3,
            )
