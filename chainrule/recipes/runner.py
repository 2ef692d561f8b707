"""Run a recipe: build data, model, optimizer and schedule from its config, train with the
Trainer, evaluate, and write the run folder (checkpoint, metrics.json, history.csv,
curves.png). Also rebuilds a model from a checkpoint for ``evaluate``, ``predict`` and
``sample``.
"""

from __future__ import annotations

import json
import math
import os
import time

import numpy as np

import chainrule
from chainrule import nn, optim
from chainrule.data import DataLoader, Subset
from chainrule.nn import functional as F
from chainrule.recipes.base import Recipe, RecipeData, default_data_dir
from chainrule.train import LambdaCallback, Trainer

CHECKPOINT_NAME = "checkpoint.safetensors"


# ---------------------------------------------------------------- small builders
def subset(dataset, n: int | None, seed: int = 0):
    """A seeded random subset of ``n`` items (the whole dataset when n is None or too big)."""
    if n is None or n >= len(dataset):
        return dataset
    idx = np.sort(np.random.default_rng(seed).permutation(len(dataset))[:n])
    return Subset(dataset, idx.tolist())


def loader(dataset, cfg: dict, train: bool, batch_size: int | None = None) -> DataLoader:
    """A DataLoader: shuffled with a generator seeded from ``cfg["seed"]`` when training
    (unless ``cfg["shuffle"]`` is False), batches of ``cfg["batch_size"]``."""
    bs = batch_size or (cfg["batch_size"] if train else cfg.get("eval_batch_size", 500))
    shuffle = train and cfg.get("shuffle", True)
    gen = chainrule.Generator().manual_seed(int(cfg["seed"])) if shuffle else None
    return DataLoader(dataset, batch_size=bs, shuffle=shuffle, generator=gen)


def make_optimizer(model, cfg: dict):
    name = cfg.get("optimizer", "adam")
    wd = cfg.get("weight_decay", 0.0)
    if name == "adam":
        return optim.Adam(model.parameters(), lr=cfg["lr"], weight_decay=wd)
    if name == "adamw":
        betas = tuple(cfg.get("betas", (0.9, 0.999)))
        return optim.AdamW(model.parameters(), lr=cfg["lr"], betas=betas, weight_decay=wd)
    if name == "sgd":
        return optim.SGD(
            model.parameters(), lr=cfg["lr"], momentum=cfg.get("momentum", 0.9), weight_decay=wd
        )
    raise ValueError(f"unknown optimizer {name!r}")


class WarmupCosine:
    """lr factor: linear warmup over ``warmup`` steps, then a cosine from 1 to ``min_ratio``."""

    def __init__(self, warmup: int, total: int, min_ratio: float) -> None:
        self.warmup, self.total, self.min_ratio = warmup, total, min_ratio

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / self.warmup
        t = min(1.0, (step - self.warmup) / max(1, self.total - self.warmup))
        return self.min_ratio + (1 - self.min_ratio) * 0.5 * (1 + math.cos(math.pi * t))


def make_scheduler(opt, cfg: dict, steps_per_epoch: int):
    """``(scheduler, interval)``: all schedules here are stepped once per batch."""
    name = cfg.get("schedule", "constant")
    total = cfg["epochs"] * steps_per_epoch
    if name == "constant":
        return None, "epoch"
    if name == "onecycle":
        return optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg["lr"], total_steps=total), "step"
    if name == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total), "step"
    if name == "warmup-cosine":
        fn = WarmupCosine(cfg.get("warmup_steps", 100), total, cfg.get("min_lr_ratio", 0.1))
        return optim.lr_scheduler.LambdaLR(opt, fn), "step"
    raise ValueError(f"unknown schedule {name!r}")


def stretch_schedule(sched, total: int) -> None:
    """Give a restored per-step schedule a new length (``--resume`` with more ``--epochs``):
    the step counter continues, the remaining part of the curve is stretched to fit."""
    if isinstance(sched, optim.lr_scheduler.OneCycleLR) and sched.total_steps != total:
        if len(sched._schedule_phases) == 2:  # the default two-phase cycle, pct_start 0.3
            sched._schedule_phases[0]["end_step"] = float(0.3 * total) - 1
            sched._schedule_phases[1]["end_step"] = total - 1
            sched.total_steps = total
    elif isinstance(sched, optim.lr_scheduler.CosineAnnealingLR):
        sched.T_max = total
    elif isinstance(sched, optim.lr_scheduler.LambdaLR):
        for fn in sched.lr_lambdas:
            if isinstance(fn, WarmupCosine):
                fn.total = total


def sequence_cross_entropy(logits, target):
    """Mean next-token cross-entropy: logits (N, T, V), target (N, T)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))


# ---------------------------------------------------------------- training
def _timestamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def default_out_dir(name: str) -> str:
    return os.path.join("runs", f"{name}-{_timestamp()}")


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def build(recipe: Recipe, cfg: dict, data_dir: str | None, device="cpu", verbose: int = 1):
    """Data, model, and a ready Trainer for ``cfg`` (used by train and evaluate)."""
    data_dir = data_dir or default_data_dir()
    data: RecipeData = recipe.make_data(cfg, data_dir)
    cfg["input_size"] = list(data.input_size)  # saved with the config, for predict
    model = recipe.make_model(cfg)
    opt = make_optimizer(model, cfg)
    steps = len(data.train) if data.train is not None else 1
    sched, interval = make_scheduler(opt, cfg, steps)
    lm = recipe.task == "language-model"
    trainer = Trainer(
        model,
        opt,
        sequence_cross_entropy if lm else nn.CrossEntropyLoss(),
        metrics=[] if lm else ["accuracy"],
        scheduler=sched,
        scheduler_interval=interval,
        device=device,
        grad_clip=cfg.get("grad_clip"),
        verbose=verbose,
    )
    return data, model, trainer


def train(
    recipe: Recipe,
    cfg: dict,
    data_dir: str | None = None,
    out_dir: str | None = None,
    resume: str | None = None,
    device="cpu",
    verbose: int = 1,
) -> dict:
    """Train ``recipe`` with ``cfg``; writes the run folder and returns the metrics dict."""
    out_dir = out_dir or default_out_dir(recipe.name)
    chainrule.manual_seed(int(cfg["seed"]))
    np.random.seed(int(cfg["seed"]) % 2**32)
    start = time.perf_counter()
    if recipe.task == "external":
        os.makedirs(out_dir, exist_ok=True)
        metrics = recipe.run(cfg, data_dir or default_data_dir(), out_dir)
        metrics = {"recipe": recipe.name, "config": cfg, **metrics}
        metrics["total_seconds"] = time.perf_counter() - start
        _write_json(os.path.join(out_dir, "metrics.json"), metrics)
        return metrics

    data, model, trainer = build(recipe, cfg, data_dir, device, verbose)
    os.makedirs(out_dir, exist_ok=True)  # only once the data loaded
    dtype = chainrule.int64 if data.input_dtype == "int64" else None
    if verbose:
        print(f"recipe {recipe.name}: {recipe.model} on {recipe.dataset}")
        nn.summary(model, data.input_size, dtype=dtype, device=trainer.device)
    if resume:
        trainer.load_checkpoint(resume)
        stretch_schedule(trainer.scheduler, cfg["epochs"] * len(data.train))
        if verbose:
            print(f"resumed from {resume} after epoch {trainer.epoch}")
    ckpt_path = os.path.join(out_dir, CHECKPOINT_NAME)

    def save_checkpoint(extra: dict | None = None) -> None:
        state = trainer.state_dict()
        state.update(recipe=recipe.name, config=cfg, **(extra or {}))
        chainrule.save(state, ckpt_path)

    # A checkpoint after an epoch when the last one is more than 30 s old: an interrupted
    # run resumes with --resume, and short epochs do not pay for a save each.
    last_save = [time.perf_counter()]

    def checkpoint_now(tr, logs) -> None:
        if time.perf_counter() - last_save[0] > 30:
            save_checkpoint()
            last_save[0] = time.perf_counter()

    trainer.callbacks.append(LambdaCallback(on_epoch_end=checkpoint_now))
    remaining = max(0, int(cfg["epochs"]) - trainer.epoch)
    t0 = time.perf_counter()
    history = trainer.fit(data.train, data.val, epochs=remaining)
    train_seconds = time.perf_counter() - t0

    results = trainer.evaluate(data.test) if data.test is not None else {}
    name = data.test_name
    metrics = {
        "recipe": recipe.name,
        "dataset": recipe.dataset,
        "model": recipe.model,
        "target": recipe.target,
        "epochs": trainer.epoch,
        "steps": trainer.global_step,
        "parameters": sum(p.numel() for p in model.parameters()),
        f"{name}_loss": results.get("loss"),
        "train_seconds": train_seconds,
    }
    if "accuracy" in results:
        metrics[f"{name}_accuracy"] = results["accuracy"]
    if recipe.task == "language-model":
        metrics["val_bits_per_char"] = results["loss"] / math.log(2)
    metrics["config"] = cfg

    save_checkpoint({"metrics": _jsonable(metrics)})
    history.to_csv(os.path.join(out_dir, "history.csv"))
    try:
        history.plot(os.path.join(out_dir, "curves.png"))
    except ImportError:  # matplotlib is a dependency, but do not lose a run over a plot
        pass
    metrics["total_seconds"] = time.perf_counter() - start
    metrics["out_dir"] = out_dir
    _write_json(os.path.join(out_dir, "metrics.json"), metrics)
    return metrics


def _write_json(path: str, obj) -> None:
    with open(path, "w") as fh:
        json.dump(_jsonable(obj), fh, indent=2, default=str)
        fh.write("\n")


# ---------------------------------------------------------------- checkpoints
def load_checkpoint(path: str) -> dict:
    state = chainrule.load(path)
    if not isinstance(state, dict) or "recipe" not in state or "config" not in state:
        raise ValueError(
            f"{path} is not a `chainrule train` checkpoint (it has no recipe name and config)"
        )
    return state


def model_from_checkpoint(state: dict, recipe: Recipe):
    model = recipe.make_model(state["config"])
    model.load_state_dict(state["model"])
    model.eval()
    return model


def evaluate(recipe: Recipe, state: dict, data_dir: str | None, device="cpu") -> dict:
    """Test metrics of a checkpoint's model, rebuilt from its config."""
    cfg = dict(state["config"])
    data, model, trainer = build(recipe, cfg, data_dir, device, verbose=0)
    model.load_state_dict(state["model"])
    results = trainer.evaluate(data.test)
    out = {f"{data.test_name}_{k}": v for k, v in results.items()}
    if recipe.task == "language-model":
        out["val_bits_per_char"] = results["loss"] / math.log(2)
    return out


def generate(model, ids: list[int], length: int, temperature: float = 1.0, seed: int = 0):
    """Sample ``length`` tokens after ``ids`` from a language model (one at a time).

    Models with an LSTM carry their state (one step per new token); others (MiniGPT) are
    re-run on the last ``block_size`` tokens.
    """
    rng = np.random.default_rng(seed)
    out = list(ids)
    stateful = hasattr(model, "lstm")
    block = getattr(model, "block_size", None)
    state = None
    feed = out
    with chainrule.no_grad():
        for _ in range(length):
            context = feed if stateful else (out[-block:] if block else out)
            x = chainrule.tensor(np.asarray([context], dtype=np.int64))
            if stateful:
                logits, state = model(x, state, return_state=True)
            else:
                logits = model(x)
            z = logits.numpy()[0, -1].astype(np.float64) / max(temperature, 1e-6)
            p = np.exp(z - z.max())
            p /= p.sum()
            nxt = int(rng.choice(len(p), p=p))
            out.append(nxt)
            feed = [nxt]
    return out[len(ids) :]
