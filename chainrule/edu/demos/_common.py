"""Shared pieces of the demos: the Evidence record, tables, figures, seeding, toy data."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import chainrule


@dataclass
class Evidence:
    """What a demo measured.

    Attributes:
        name: the demo's registry name.
        claim: the course claim, in one sentence.
        claim_holds: True when the measurements agree with the claim.
        numbers: the measured values the claim is judged by (tests assert on these).
        headers / rows: the table printed by the demo.
        figures: paths of the PNG files written.
    """

    name: str
    claim: str
    claim_holds: bool
    numbers: dict[str, Any] = field(default_factory=dict)
    headers: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)

    def __getitem__(self, key: str) -> Any:
        return self.numbers[key]

    def table(self) -> str:
        return format_table(self.headers, self.rows)

    def report(self) -> str:
        lines = [f"== {self.name}: {self.claim}"]
        if self.rows:
            lines.append(self.table())
        for path in self.figures:
            lines.append(f"figure: {path}")
        lines.append(f"claim holds: {'yes' if self.claim_holds else 'NO'}")
        return "\n".join(lines)


def finish(evidence: Evidence) -> Evidence:
    """Print the evidence and hand it back (the last line of every demo's ``run``)."""
    print(evidence.report())
    return evidence


def _cell(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        v = float(value)
        if v == 0.0 or math.isnan(v) or math.isinf(v):
            return f"{v:g}"
        if abs(v) >= 1e4 or abs(v) < 1e-3:
            return f"{v:.3e}"
        return f"{v:.4f}"
    return str(value)


def format_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A plain-text table with right-aligned columns."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    lines = [fmt.format(*cells[0]), "  ".join("-" * w for w in widths)]
    lines += [fmt.format(*r) for r in cells[1:]]
    return "\n".join(lines)


def output_dir(out_dir) -> Path:
    """Where figures go: ``out_dir``, or ``./demo-output`` by default (created on demand)."""
    path = Path(out_dir) if out_dir is not None else Path.cwd() / "demo-output"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_figure(nrows: int = 1, ncols: int = 1, width: float = 5.0, height: float = 4.0):
    """A matplotlib Figure and its axes, without pyplot's global state (safe headless).

    matplotlib is imported here, lazily, so ``import chainrule`` never pulls it in.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def save_figure(fig, out_dir, filename: str) -> Path:
    path = output_dir(out_dir) / filename
    fig.savefig(path, dpi=100)
    return path


def seed(value: int = 0) -> np.random.Generator:
    """Seed chainrule's generator and return a NumPy Generator with the same seed."""
    chainrule.manual_seed(value)
    return np.random.default_rng(value)


def to_tensor(array, requires_grad: bool = False) -> chainrule.Tensor:
    return chainrule.tensor(np.asarray(array, dtype=np.float32), requires_grad=requires_grad)


def xor_data() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points and their labels."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    return X, y


def train_full_batch(model, loss_fn, steps: int, optimizer, callback=None) -> list[float]:
    """``steps`` full-batch updates of ``loss_fn(model)``; returns the loss after each one."""
    losses = []
    for step in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if callback is not None:
            callback(step, model)
    return losses
