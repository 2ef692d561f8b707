"""Plots for learning: activations and their derivatives, decision boundaries, training curves,
and per-layer activation/gradient statistics.

Every function returns the matplotlib ``Figure`` and, given ``path``, saves it as an image.
matplotlib is imported inside the functions, and figures are bare ``matplotlib.figure.Figure``
objects drawn by the Agg renderer (no pyplot, no GUI window), so ``import chainrule`` never
pulls matplotlib in and the plots work on headless machines.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from chainrule.backend import to_numpy

ACTIVATIONS = (
    "relu",
    "leaky_relu",
    "relu6",
    "elu",
    "celu",
    "selu",
    "gelu",
    "silu",
    "mish",
    "softplus",
    "softsign",
    "sigmoid",
    "logsigmoid",
    "tanh",
    "tanhshrink",
    "hardtanh",
    "hardsigmoid",
    "hardswish",
    "hardshrink",
    "softshrink",
)
"""The activations of ``chainrule.nn.functional`` that ``plot_activations`` draws by default."""


def _figure(nrows: int = 1, ncols: int = 1, figsize=None):
    # A bare Figure (no pyplot) renders with Agg and leaves the user's pyplot state alone.
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize or (5 * ncols, 3.6 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def _save(fig, path) -> None:
    if path is not None:
        fig.savefig(str(path), dpi=100)


# ---------------------------------------------------------------- activations


def activation_and_derivative(name: str, x) -> tuple:
    """``(f(x), f'(x))`` as NumPy arrays for the activation ``chainrule.nn.functional.<name>``.

    The derivative comes from chainrule's own autograd: since each output depends only on
    its own input, the gradient of ``sum(f(x))`` is ``f'(x)`` elementwise.

    Example:
        >>> y, dy = activation_and_derivative("tanh", [0.0])
        >>> float(y[0]), float(dy[0])
        (0.0, 1.0)
    """
    import chainrule
    from chainrule.nn import functional as F

    fn = getattr(F, name, None)
    if fn is None or not callable(fn):
        raise ValueError(f"chainrule.nn.functional has no activation named {name!r}")
    t = chainrule.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    y = fn(t)
    y.sum().backward()
    return to_numpy(y.data).copy(), to_numpy(t.grad.data).copy()


def plot_activations(names=None, x_range=(-4.0, 4.0), path=None, points: int = 401):
    """Each activation f (solid) with its derivative f' (dashed), computed by backward().

    Kinks show as jumps in f' (relu at 0, hardtanh at +-1); saturating functions (sigmoid,
    tanh) show f' vanishing at both ends, the source of vanishing gradients in deep nets.

    Args:
        names: activation names (default: :data:`ACTIVATIONS`, all of them).
        x_range: the interval to plot.
        path: save the figure there (PNG) when given.
        points: samples of the interval.

    Returns:
        the Figure (one axes per activation).
    """
    names = list(ACTIVATIONS if names is None else names)
    if not names:
        raise ValueError("plot_activations: no activation to plot")
    x = np.linspace(float(x_range[0]), float(x_range[1]), points)
    ncols = min(5, len(names))
    nrows = math.ceil(len(names) / ncols)
    fig, axes = _figure(nrows, ncols, figsize=(3.2 * ncols, 2.6 * nrows))
    flat = axes.ravel()
    for ax, name in zip(flat, names):
        y, dy = activation_and_derivative(name, x)
        ax.axhline(0, color="#999999", lw=0.6)
        ax.axvline(0, color="#999999", lw=0.6)
        ax.plot(x, y, label="f(x)", color="C0")
        ax.plot(x, dy, label="f'(x)", color="C3", ls="--")
        ax.set_title(name)
    for ax in flat[len(names) :]:
        fig.delaxes(ax)
    flat[0].legend(loc="upper left", fontsize="small")
    fig.suptitle("Activations (solid) and their derivatives from autograd (dashed)")
    _save(fig, path)
    return fig


# ---------------------------------------------------------------- decision boundary


def plot_decision_boundary(model, X, y, path=None, resolution: int = 200, ax=None):
    """The regions a 2-D classifier assigns to each class, with the data on top.

    Args:
        model: maps a (N, 2) Tensor to logits (N, C), or (N, 1) / (N,) for two classes
            (positive logit = class 1).
        X: (N, 2) points (array or Tensor).
        y: (N,) integer labels.
        path: save the figure there when given.
        resolution: grid points per axis.

    Returns:
        the Figure (one axes).
    """
    import chainrule

    X = np.asarray(to_numpy(X.data) if hasattr(X, "data") else X, dtype=np.float64)
    y = np.asarray(to_numpy(y.data) if hasattr(y, "data") else y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary needs 2-D inputs (N, 2), got {X.shape}")
    pad_x = 0.1 * (X[:, 0].max() - X[:, 0].min() or 1.0)
    pad_y = 0.1 * (X[:, 1].max() - X[:, 1].min() or 1.0)
    gx = np.linspace(X[:, 0].min() - pad_x, X[:, 0].max() + pad_x, resolution)
    gy = np.linspace(X[:, 1].min() - pad_y, X[:, 1].max() + pad_y, resolution)
    xx, yy = np.meshgrid(gx, gy)
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
    dtype = _model_dtype(model)
    was_training = getattr(model, "training", None)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with chainrule.no_grad():
            logits = model(chainrule.tensor(grid.astype(dtype)))
    finally:
        if was_training and hasattr(model, "train"):
            model.train()
    out = np.asarray(to_numpy(logits.data))
    if out.ndim == 1 or out.shape[-1] == 1:
        pred = (out.reshape(-1) > 0).astype(np.int64)
    else:
        pred = out.argmax(axis=-1)
    n_classes = int(max(pred.max(initial=0), y.max(initial=0))) + 1

    if ax is None:
        fig, axes = _figure(1, 1, figsize=(6, 5))
        ax = axes[0, 0]
    else:
        fig = ax.figure
    cmap = _class_cmap(n_classes)
    levels = np.arange(n_classes + 1) - 0.5
    ax.contourf(xx, yy, pred.reshape(xx.shape), levels=levels, cmap=cmap, alpha=0.35)
    ax.scatter(
        X[:, 0], X[:, 1], c=y, cmap=cmap, vmin=-0.5, vmax=n_classes - 0.5, s=14, edgecolors="k"
    )
    accuracy = float((_predict_points(out, pred, grid, X) == y).mean()) if len(y) else 0.0
    ax.set_title(f"Decision boundary (training accuracy {accuracy:.1%})")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    _save(fig, path)
    return fig


def _predict_points(out, pred, grid, X):
    """Nearest grid prediction for each data point (cheap and model-free)."""
    gx = np.unique(grid[:, 0])
    gy = np.unique(grid[:, 1])
    ix = np.clip(np.searchsorted(gx, X[:, 0]), 0, len(gx) - 1)
    iy = np.clip(np.searchsorted(gy, X[:, 1]), 0, len(gy) - 1)
    return pred.reshape(len(gy), len(gx))[iy, ix]


def _class_cmap(n: int):
    from matplotlib.colors import ListedColormap

    base = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04"]
    return ListedColormap([base[i % len(base)] for i in range(max(n, 1))])


def _model_dtype(model):
    params = getattr(model, "parameters", None)
    if callable(params):
        for p in params():
            return p.data.dtype
    return np.float32


# ---------------------------------------------------------------- training curves


def _history_dict(history) -> dict:
    """A dict name -> list of numbers from a dict of lists, a list of per-epoch dicts, or an
    object with a ``history`` attribute (a Trainer's History) or a ``to_dict()`` method."""
    if hasattr(history, "history") and not isinstance(history, Mapping):
        history = history.history
    if not isinstance(history, Mapping) and hasattr(history, "to_dict"):
        history = history.to_dict()
    if isinstance(history, list | tuple) and history and isinstance(history[0], Mapping):
        keys = list(dict.fromkeys(k for rec in history for k in rec))
        history = {k: [rec.get(k, np.nan) for rec in history] for k in keys}
    if not isinstance(history, Mapping):
        raise TypeError(
            "plot_training expects a dict of lists, a list of dicts or an object with .history"
        )
    out = {}
    for k, v in history.items():
        try:
            vals = np.asarray(list(v), dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            continue  # not a numeric series (e.g. an 'epoch' label list of strings)
        if vals.size:
            out[str(k)] = vals
    if not out:
        raise ValueError("plot_training: the history holds no numeric series")
    return out


_NOT_CURVES = ("epoch", "step", "time", "samples_per_sec")


def plot_training(history, path=None, keys=None):
    """Training curves, one axes per metric: ``loss`` with ``val_loss``, ``accuracy`` with
    ``val_accuracy``, and so on (a ``val_`` prefix joins its metric's axes).

    Args:
        history: ``{"loss": [...], "val_loss": [...], "accuracy": [...]}``, a list of per-epoch
            dicts, or an object with a ``.history`` dict (a Trainer's History).
        path: save the figure there when given.
        keys: the series to plot (default: all but epoch, step, time and samples_per_sec).

    Returns:
        the Figure.
    """
    series = _history_dict(history)
    if keys is None:
        series = {k: v for k, v in series.items() if k not in _NOT_CURVES}
    else:
        missing = [k for k in keys if k not in series]
        if missing:
            raise KeyError(f"plot_training: no series named {missing}; have {list(series)}")
        series = {k: series[k] for k in keys}
    if not series:
        raise ValueError("plot_training: nothing to plot")
    groups: dict = {}
    for k in series:
        base = k[4:] if k.startswith("val_") else k
        groups.setdefault(base, []).append(k)
    fig, axes = _figure(1, len(groups), figsize=(4.5 * len(groups), 3.4))
    for ax, (base, keys) in zip(axes.ravel(), groups.items()):
        for k in keys:
            vals = series[k]
            ax.plot(
                np.arange(1, len(vals) + 1),
                vals,
                marker="o" if len(vals) < 30 else None,
                ms=3,
                label=k,
            )
        ax.set_title(base)
        ax.set_xlabel("epoch")
        if "loss" in base and all(np.all(series[k][np.isfinite(series[k])] > 0) for k in keys):
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    _save(fig, path)
    return fig


# ---------------------------------------------------------------- per-layer statistics


class LayerStatsRecorder:
    """Record per-layer statistics during a forward (and backward) pass.

    Forward hooks on the model's leaf modules (layers without children) keep each output's
    mean and standard deviation and a sample of its values; a tensor hook on each output
    records the gradient that reaches it in backward; ``record_grads()`` reads the gradient
    norms of each layer's parameters. Healthy deep networks keep activation scales and gradient
    norms similar from layer to layer; shrinking or exploding ones show up at a glance.

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
        >>> with LayerStatsRecorder(model) as rec:
        ...     model(chainrule.randn(8, 3)).pow(2).mean().backward()
        >>> [s["name"] for s in rec.stats()]
        ['0 (Linear)', '1 (Tanh)', '2 (Linear)']
    """

    def __init__(self, model, modules=None, sample: int = 5000):
        self.model = model
        if modules is None:
            modules = [(n, m) for n, m in model.named_modules() if not list(m.children())]
        self.modules = list(modules)
        self.sample = sample
        self.records: dict = {}
        self._handles = []
        self._tensor_handles = []
        for name, module in self.modules:
            label = f"{name} ({type(module).__name__})" if name else type(module).__name__
            self.records[label] = {"name": label, "module": module}
            self._handles.append(module.register_forward_hook(self._forward_hook(label)))

    def _forward_hook(self, label):
        def hook(module, args, output):
            from chainrule.tensor import Tensor

            if not isinstance(output, Tensor):
                output = output[0] if isinstance(output, tuple | list) and output else None
                if not isinstance(output, Tensor):
                    return None
            a = np.asarray(to_numpy(output.data), dtype=np.float64).ravel()
            rec = self.records[label]
            rec["act_mean"] = float(a.mean()) if a.size else 0.0
            rec["act_std"] = float(a.std()) if a.size else 0.0
            rec["act_values"] = a[: self.sample].copy()
            if output.requires_grad:

                def grad_hook(g, rec=rec):
                    ga = np.asarray(to_numpy(g.data), dtype=np.float64)
                    rec["act_grad_norm"] = float(np.linalg.norm(ga.ravel()))
                    return None

                self._tensor_handles.append(output.register_hook(grad_hook))
            return None

        return hook

    def record_grads(self) -> None:
        """Read the gradient norm of every parameter of each recorded layer (after backward)."""
        for rec in self.records.values():
            norms = {}
            for pname, p in rec["module"].named_parameters(recurse=False):
                if p.grad is not None:
                    g = np.asarray(to_numpy(p.grad.data), dtype=np.float64)
                    norms[pname] = float(np.linalg.norm(g.ravel()))
            rec["param_grad_norms"] = norms

    def stats(self) -> list:
        """One dict per layer, in model order: name, act_mean, act_std, act_values and, after
        backward, act_grad_norm and param_grad_norms (layers that did not run are left out)."""
        self.record_grads()
        return [
            {k: v for k, v in r.items() if k != "module"}
            for r in self.records.values()
            if "act_mean" in r
        ]

    def remove(self) -> None:
        """Remove the hooks."""
        for h in self._handles + self._tensor_handles:
            h.remove()
        self._handles, self._tensor_handles = [], []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False

    def plot(self, path=None):
        """Activation mean +- std per layer, activation histograms, and (after backward)
        gradient norms per layer. Returns the Figure (2 or 3 axes)."""
        stats = self.stats()
        if not stats:
            raise RuntimeError("LayerStatsRecorder: no layer ran; call the model first")
        has_grads = any("act_grad_norm" in s or s.get("param_grad_norms") for s in stats)
        n = 3 if has_grads else 2
        fig, axes = _figure(1, n, figsize=(5.2 * n, 4))
        ax0, ax1 = axes[0, 0], axes[0, 1]
        idx = np.arange(len(stats))
        labels = [s["name"] for s in stats]
        ax0.errorbar(
            idx,
            [s["act_mean"] for s in stats],
            yerr=[s["act_std"] for s in stats],
            fmt="o-",
            capsize=4,
        )
        ax0.set_xticks(idx, labels, rotation=45, ha="right", fontsize="small")
        ax0.set_title("activation mean +- std per layer")
        ax0.grid(alpha=0.3)
        for s in stats:
            vals = s["act_values"]
            if vals.size:
                ax1.hist(vals, bins=50, histtype="step", density=True, label=s["name"])
        ax1.set_title("activation histograms")
        ax1.legend(fontsize="x-small")
        if has_grads:
            ax2 = axes[0, 2]
            act = [s.get("act_grad_norm", np.nan) for s in stats]
            ax2.plot(idx, act, "o-", label="|dL/d(activation)|")
            pnames = sorted({k for s in stats for k in s.get("param_grad_norms", {})})
            for pname in pnames:
                vals = [s.get("param_grad_norms", {}).get(pname, np.nan) for s in stats]
                ax2.plot(idx, vals, "s--", label=f"|dL/d{pname}|")
            ax2.set_xticks(idx, labels, rotation=45, ha="right", fontsize="small")
            finite = [v for v in act if np.isfinite(v) and v > 0]
            if finite:
                ax2.set_yscale("log")
            ax2.set_title("gradient norms per layer")
            ax2.legend(fontsize="x-small")
            ax2.grid(alpha=0.3)
        _save(fig, path)
        return fig


def plot_layer_stats(model, x, y=None, loss_fn=None, path=None):
    """Run ``model(x)`` (and, with ``loss_fn``, backward of ``loss_fn(output, y)``) and plot
    per-layer activation statistics and gradient norms (see :class:`LayerStatsRecorder`).

    The parameters' existing ``.grad`` values are put back afterwards, so this can be called
    in the middle of training.

    Returns:
        the Figure: 3 axes with ``loss_fn`` (activations, histograms, gradients), else 2.
    """
    import chainrule

    if not isinstance(x, chainrule.Tensor):
        x = chainrule.tensor(np.asarray(x), dtype=chainrule.dtypes.from_numpy(_model_dtype(model)))
    if y is not None and not isinstance(y, chainrule.Tensor):
        y = chainrule.tensor(np.asarray(y))
    params = list(model.parameters()) if hasattr(model, "parameters") else []
    saved = [p.grad for p in params]
    for p in params:
        p.grad = None
    try:
        with LayerStatsRecorder(model) as rec:
            out = model(x)
            if loss_fn is not None:
                loss = loss_fn(out) if y is None else loss_fn(out, y)
                loss.backward()
            fig = rec.plot(path)
    finally:
        for p, g in zip(params, saved):
            p.grad = g
    return fig
