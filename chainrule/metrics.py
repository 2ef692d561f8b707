"""Evaluation metrics: plain functions, and small stateful objects for the Trainer.

The functions take Tensors, NumPy arrays or lists and return Python floats (or NumPy arrays
for per-class results). Definitions follow scikit-learn's: a confusion matrix has true
classes in rows and predicted classes in columns, and a ratio with a zero denominator is 0.

Where a prediction has one dimension more than the target, it holds scores (logits or
probabilities) and the predicted class is the argmax along ``dim`` (1 by default:
PyTorch's ``(N, C, ...)`` layout; pass ``dim=-1`` for ``(N, L, C)``).

Example:
    >>> from chainrule import metrics
    >>> metrics.accuracy(logits, labels)        # 0.93
    >>> cm = metrics.confusion_matrix(logits, labels, num_classes=10)
    >>> p, r, f1 = metrics.precision_recall_f1(logits, labels, 10)   # macro averages

The stateful metrics (``Accuracy()``, ``TopKAccuracy(5)``, ``MeanSquaredError()``...)
accumulate over batches: ``update(output, target)`` per batch, ``compute()`` at the end of
an epoch, ``reset()`` before the next one. Their ``name`` is the key in the Trainer's logs.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from chainrule.backend import to_numpy
from chainrule.tensor import Tensor

__all__ = [
    "accuracy",
    "top_k_accuracy",
    "confusion_matrix",
    "precision_recall_f1",
    "mse",
    "mae",
    "perplexity",
    "plot_confusion_matrix",
    "Metric",
    "Accuracy",
    "TopKAccuracy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "F1Score",
    "Mean",
    "get_metric",
]


def _np(x) -> np.ndarray:
    if isinstance(x, Tensor):
        return to_numpy(x.data)
    return to_numpy(x) if not isinstance(x, list | tuple | int | float) else np.asarray(x)


def _labels(pred, target, dim: int = 1, threshold: float = 0.5):
    """Predicted labels and targets as integer arrays of one shape."""
    p, t = _np(pred), _np(target)
    if p.ndim == t.ndim + 1:
        p = p.argmax(axis=dim)
    elif p.shape == t.shape and p.dtype.kind == "f":
        p = (p > threshold).astype(np.int64)  # binary probabilities
    if t.dtype.kind == "f":
        t = t.astype(np.int64)
    if p.shape != t.shape:
        raise ValueError(
            f"predictions of shape {p.shape} do not match targets of shape {t.shape}; "
            "pass labels of the target's shape or scores with one more (class) dimension"
        )
    return p, t


def accuracy(pred, target, dim: int = 1, threshold: float = 0.5) -> float:
    """The fraction of correct predictions: mean(argmax(scores) == target).

    Args:
        pred: predicted labels (shape of ``target``), scores with a class dimension ``dim``
            (logits or probabilities, e.g. ``(N, C)``), or binary probabilities of the
            target's shape (thresholded at ``threshold``; use 0.0 for logits).
        target: integer class labels.

    Example:
        >>> accuracy(tensor([[2.0, 1.0], [0.0, 3.0]]), tensor([0, 0]))
        0.5
    """
    p, t = _labels(pred, target, dim, threshold)
    return float((p == t).mean()) if t.size else 0.0


def top_k_accuracy(logits, target, k: int = 5, dim: int = 1) -> float:
    """The fraction of samples whose true class is among the ``k`` highest scores.

    A sample counts as correct when fewer than ``k`` classes score strictly higher than its
    true class (so ties favour the true class). ``k=1`` is :func:`accuracy`, up to ties.
    """
    s, t = _np(logits), _np(target).astype(np.int64)
    s = np.moveaxis(s, dim, -1)
    if s.shape[:-1] != t.shape:
        raise ValueError(f"scores of shape {_np(logits).shape} do not match targets {t.shape}")
    if t.size == 0:
        return 0.0
    true_score = np.take_along_axis(s, t[..., None], axis=-1)
    rank = (s > true_score).sum(axis=-1)
    return float((rank < k).mean())


def confusion_matrix(pred, target, num_classes: int | None = None, dim: int = 1) -> np.ndarray:
    """Counts ``cm[i, j]`` of samples of true class i predicted as class j (int64).

    ``pred`` may be labels or scores (argmax along ``dim``). ``num_classes`` defaults to
    one more than the largest label seen.
    """
    p, t = _labels(pred, target, dim)
    p, t = p.ravel(), t.ravel()
    if num_classes is None:
        num_classes = int(max(p.max(initial=-1), t.max(initial=-1))) + 1
    if p.size and (min(p.min(), t.min()) < 0 or max(p.max(), t.max()) >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}) for num_classes={num_classes}")
    cm = np.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return cm.reshape(num_classes, num_classes).astype(np.int64)


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.divide(a, b, out=np.zeros_like(a), where=b != 0)


def _prf_from_cm(cm: np.ndarray, average: str | None):
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0)
    actual = cm.sum(axis=1)
    if average == "micro":
        total = cm.sum()
        p = r = float(_safe_div(tp.sum(), total))
        f1 = float(_safe_div(2 * p * r, p + r))
        return p, r, f1
    precision = _safe_div(tp, predicted)
    recall = _safe_div(tp, actual)
    f1 = _safe_div(2 * precision * recall, precision + recall)
    if average is None:
        return precision, recall, f1
    if average == "macro":
        return float(precision.mean()), float(recall.mean()), float(f1.mean())
    if average == "weighted":
        w = _safe_div(actual, actual.sum())
        return float((precision * w).sum()), float((recall * w).sum()), float((f1 * w).sum())
    raise ValueError(f"average must be 'macro', 'micro', 'weighted' or None, got {average!r}")


def precision_recall_f1(
    pred, target, num_classes: int | None = None, average: str | None = "macro", dim: int = 1
):
    """Precision TP/(TP+FP), recall TP/(TP+FN) and F1 = 2PR/(P+R) of every class.

    Args:
        average: ``"macro"`` (unweighted mean over the ``num_classes`` classes, as
            scikit-learn's ``average="macro"`` with ``labels=range(num_classes)``),
            ``"weighted"`` (weighted by each class's support), ``"micro"`` (from the
            pooled counts) or ``None`` (three per-class arrays).

    A zero denominator gives 0 (scikit-learn's ``zero_division=0``). Returns
    ``(precision, recall, f1)``: floats, or arrays of shape ``(num_classes,)``.
    """
    cm = confusion_matrix(pred, target, num_classes, dim)
    return _prf_from_cm(cm, average)


def mse(pred, target) -> float:
    """Mean squared error: mean((pred - target)^2)."""
    p, t = _np(pred).astype(np.float64), _np(target).astype(np.float64)
    return float(np.mean((p - t) ** 2))


def mae(pred, target) -> float:
    """Mean absolute error: mean(|pred - target|)."""
    p, t = _np(pred).astype(np.float64), _np(target).astype(np.float64)
    return float(np.mean(np.abs(p - t)))


def perplexity(mean_cross_entropy) -> float:
    """exp(mean cross-entropy in nats): the effective number of equally likely next tokens."""
    value = float(_np(mean_cross_entropy))
    return math.exp(value) if value < 709.0 else math.inf


def plot_confusion_matrix(
    cm, class_names=None, path=None, normalize: bool = False, title: str = "Confusion matrix"
):
    """Draw a confusion matrix as a heat map (true class in rows); returns the Figure.

    Args:
        cm: a ``(C, C)`` matrix from :func:`confusion_matrix`.
        class_names: C labels for the axes (default 0..C-1).
        path: where to save a PNG (optional).
        normalize: show each row as fractions of its true class.

    Needs matplotlib; draws off-screen (no pyplot state, no window).
    """
    from matplotlib.figure import Figure

    cm = _np(cm)
    values = _safe_div(cm, cm.sum(axis=1, keepdims=True)) if normalize else cm
    n = cm.shape[0]
    names = [str(c) for c in (class_names if class_names is not None else range(n))]
    size = max(4.0, 0.5 * n + 2)
    fig = Figure(figsize=(size, size * 0.9))
    ax = fig.add_subplot()
    image = ax.imshow(values, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set(
        xticks=range(n),
        yticks=range(n),
        xticklabels=names,
        yticklabels=names,
        xlabel="predicted",
        ylabel="true",
        title=title,
    )
    ax.tick_params(axis="x", labelrotation=45 if max(map(len, names)) > 3 else 0)
    if n <= 30:
        top = values.max() if values.size else 0
        for i in range(n):
            for j in range(n):
                text = f"{values[i, j]:.2f}" if normalize else str(int(values[i, j]))
                color = "white" if top and values[i, j] > top / 2 else "black"
                ax.text(j, i, text, ha="center", va="center", color=color, fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


# ---------------------------------------------------------------- stateful metrics
class Metric:
    """Base class: accumulate with ``update(output, target)``, read with ``compute()``.

    Subclasses set ``name`` (the key in logs) and whether ``higher_is_better``.
    """

    name: str = "metric"
    higher_is_better: bool = True

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        raise NotImplementedError

    def update(self, output, target) -> None:
        raise NotImplementedError

    def compute(self) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class Accuracy(Metric):
    """Running accuracy over all samples seen since ``reset()`` (see :func:`accuracy`)."""

    def __init__(self, dim: int = 1, threshold: float = 0.5, name: str = "accuracy") -> None:
        self.dim, self.threshold, self.name = dim, threshold, name
        super().__init__()

    def reset(self) -> None:
        self.correct = 0
        self.total = 0

    def update(self, output, target) -> None:
        p, t = _labels(output, target, self.dim, self.threshold)
        self.correct += int((p == t).sum())
        self.total += int(t.size)

    def compute(self) -> float:
        return self.correct / self.total if self.total else 0.0


class TopKAccuracy(Metric):
    """Running top-k accuracy (see :func:`top_k_accuracy`); named ``top{k}_accuracy``."""

    def __init__(self, k: int = 5, dim: int = 1, name: str | None = None) -> None:
        self.k, self.dim = k, dim
        self.name = name or f"top{k}_accuracy"
        super().__init__()

    def reset(self) -> None:
        self.correct = 0.0
        self.total = 0

    def update(self, output, target) -> None:
        n = int(_np(target).size)
        self.correct += top_k_accuracy(output, target, self.k, self.dim) * n
        self.total += n

    def compute(self) -> float:
        return self.correct / self.total if self.total else 0.0


class _MeanError(Metric):
    higher_is_better = False

    def __init__(self, name: str | None = None) -> None:
        if name is not None:
            self.name = name
        super().__init__()

    def reset(self) -> None:
        self.sum = 0.0
        self.count = 0

    def _errors(self, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def update(self, output, target) -> None:
        p, t = _np(output).astype(np.float64), _np(target).astype(np.float64)
        err = self._errors(p, t)
        self.sum += float(err.sum())
        self.count += int(err.size)

    def compute(self) -> float:
        return self.sum / self.count if self.count else 0.0


class MeanSquaredError(_MeanError):
    """Running mean of (output - target)^2 over all elements."""

    name = "mse"

    def _errors(self, p, t):
        return (p - t) ** 2


class MeanAbsoluteError(_MeanError):
    """Running mean of |output - target| over all elements."""

    name = "mae"

    def _errors(self, p, t):
        return np.abs(p - t)


class F1Score(Metric):
    """Running F1 (macro by default) from an accumulated confusion matrix."""

    def __init__(
        self, num_classes: int, average: str = "macro", dim: int = 1, name: str = "f1"
    ) -> None:
        self.num_classes, self.average, self.dim, self.name = num_classes, average, dim, name
        super().__init__()

    def reset(self) -> None:
        self.cm = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def update(self, output, target) -> None:
        self.cm += confusion_matrix(output, target, self.num_classes, self.dim)

    def compute(self) -> float:
        return _prf_from_cm(self.cm, self.average)[2]


class Mean(Metric):
    """The sample-weighted mean of ``fn(output, target)`` over batches (any metric function)."""

    def __init__(self, fn: Callable, name: str | None = None, higher_is_better=True) -> None:
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "metric")
        self.higher_is_better = higher_is_better
        super().__init__()

    def reset(self) -> None:
        self.sum = 0.0
        self.count = 0

    def update(self, output, target) -> None:
        n = len(target) if hasattr(target, "__len__") else 1
        self.sum += float(self.fn(output, target)) * n
        self.count += n

    def compute(self) -> float:
        return self.sum / self.count if self.count else 0.0


_BY_NAME: dict[str, Callable[[], Metric]] = {
    "accuracy": Accuracy,
    "acc": Accuracy,
    "mse": MeanSquaredError,
    "mae": MeanAbsoluteError,
}


def get_metric(spec) -> Metric:
    """A Metric from a name (``"accuracy"``, ``"top5_accuracy"``, ``"mse"``, ``"mae"``),
    a Metric instance (returned as is) or a function ``fn(output, target) -> float``."""
    if isinstance(spec, Metric):
        return spec
    if isinstance(spec, str):
        key = spec.lower()
        if key in _BY_NAME:
            return _BY_NAME[key]()
        if key.startswith("top") and key.endswith("_accuracy") and key[3:-9].isdigit():
            return TopKAccuracy(int(key[3:-9]))
        raise ValueError(
            f"unknown metric {spec!r}: use 'accuracy', 'topK_accuracy' (e.g. 'top5_accuracy'), "
            "'mse', 'mae', a Metric object or a function fn(output, target)"
        )
    if callable(spec):
        return Mean(spec)
    raise TypeError(f"a metric must be a name, a Metric or a function, got {type(spec).__name__}")
