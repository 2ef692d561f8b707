"""History: what ``Trainer.fit`` measured, one row per epoch."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator


class History:
    """Per-epoch logs as a dict of equally long lists: ``history["val_loss"][-1]``.

    Keys are those of the Trainer's epoch logs: ``epoch``, ``loss``, each metric
    (``accuracy``...), ``val_loss`` and ``val_<metric>`` when there is a validation set,
    ``lr``, ``time`` (seconds) and ``samples_per_sec``. A value missing in some epoch
    (no validation that epoch) is ``nan``, so every list has one entry per epoch.
    """

    def __init__(self, history: dict[str, list] | None = None) -> None:
        self.history: dict[str, list] = {k: list(v) for k, v in (history or {}).items()}

    def append(self, logs: dict) -> None:
        """Add one epoch's logs (numbers only; other values are skipped)."""
        n = len(self)
        for key, value in logs.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if key not in self.history:
                self.history[key] = [math.nan] * n
            self.history[key].append(value)
        for values in self.history.values():
            if len(values) == n:
                values.append(math.nan)

    def __len__(self) -> int:
        return max((len(v) for v in self.history.values()), default=0)

    def __getitem__(self, key: str) -> list:
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def __iter__(self) -> Iterator[str]:
        return iter(self.history)

    def keys(self):
        return self.history.keys()

    def items(self):
        return self.history.items()

    def rows(self) -> list[dict]:
        """One dict per epoch."""
        return [{k: v[i] for k, v in self.history.items()} for i in range(len(self))]

    def to_dict(self) -> dict[str, list]:
        return {k: list(v) for k, v in self.history.items()}

    def __repr__(self) -> str:
        return f"History(epochs={len(self)}, keys={list(self.history)})"

    def to_csv(self, path) -> None:
        """Write one row per epoch with a header line."""
        with open(path, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(list(self.history))
            for row in self.rows():
                writer.writerow([_fmt(v) for v in row.values()])

    def plot(self, path=None, keys=None):
        """Loss and metric curves, training and validation side by side; returns the Figure.

        One panel per quantity (``loss``, then each metric; ``lr`` when it changed), with
        ``val_*`` drawn in the same panel as its training curve. Saves a PNG to ``path``
        when given. Needs matplotlib; draws off-screen (no pyplot, no window).
        """
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator

        skip = {"epoch", "time", "samples_per_sec"}
        if keys is None:
            keys = [k for k in self.history if not k.startswith("val_") and k not in skip]
            lr = self.history.get("lr", [])
            if "lr" in keys and len({v for v in lr if not math.isnan(v)}) <= 1:
                keys.remove("lr")
            for k in self.history:  # validation metrics without a training counterpart
                if k.startswith("val_") and k[4:] not in keys and k[4:] not in self.history:
                    keys.append(k[4:])
        n = max(len(keys), 1)
        fig = Figure(figsize=(4.2 * n, 3.4))
        axes = fig.subplots(1, n, squeeze=False)[0]
        epochs = self.history.get("epoch") or list(range(1, len(self) + 1))
        for ax, key in zip(axes, keys):
            if key in self.history:
                ax.plot(epochs, self.history[key], marker="o", markersize=3, label="train")
            if key != "lr" and "val_" + key in self.history:
                ax.plot(
                    epochs, self.history["val_" + key], marker="o", markersize=3, label="validation"
                )
                ax.legend()
            if key == "lr":
                ax.set_yscale("log")
            ax.set(xlabel="epoch", title=key)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=100)
        return fig


def _fmt(value) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)
