"""Progress display for ``Trainer.fit``: a tqdm bar in a terminal, one line per epoch elsewhere.

The :class:`~chainrule.train.callbacks.ProgressBar` callback uses these helpers.
``ProgressBar(verbose)``:

- ``verbose=0``: prints nothing.
- ``verbose=1`` (default): in a terminal, a tqdm bar per epoch over the batches, showing
  the running loss, the metrics and samples/s, and the validation results when the epoch
  ends. When stdout is not a terminal (a log file, CI, a notebook's captured output) bars
  would only add noise, so it prints one summary line per epoch instead.
- ``verbose=2``: one summary line per epoch, even in a terminal.

A summary line looks like::

    epoch 3/10  loss 0.3120  accuracy 0.9100  val_loss 0.3402  val_accuracy 0.9000  lr 0.01
      4120 samples/s  0.6s

(on one line).
"""

from __future__ import annotations

import math

_SKIP = ("epoch", "time", "samples_per_sec", "lr")


def format_logs(logs: dict, keys=None) -> str:
    """``key value`` pairs of the numeric logs, in a fixed short format."""
    parts = []
    for key in keys or logs:
        value = logs.get(key)
        if key in _SKIP or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        parts.append(f"{key} {_fmt(value)}")
    return "  ".join(parts)


def _fmt(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"


def summary_line(logs: dict, epochs: int | None = None) -> str:
    """The one-line epoch summary printed when there is no progress bar."""
    epoch = logs.get("epoch", "?")
    head = f"epoch {epoch}/{epochs}" if epochs else f"epoch {epoch}"
    parts = [head, format_logs(logs)]
    if "lr" in logs:
        parts.append(f"lr {logs['lr']:.3g}")
    if "samples_per_sec" in logs:
        parts.append(f"{logs['samples_per_sec']:.0f} samples/s")
    if "time" in logs:
        parts.append(f"{logs['time']:.1f}s")
    return "  ".join(p for p in parts if p)
