"""Small synthetic 2-D datasets for first experiments (seeded, deterministic, NumPy only).

Every function returns ``(X, y)``: ``X`` float32 (n_samples, n_features) and ``y`` int64 class
labels (float32 (n_samples, 1) targets for :func:`sine_regression`), shuffled, or a
:class:`TensorDataset` of both with ``as_dataset=True``. The same ``seed`` gives the same data.

Example:
    >>> X, y = moons(200, noise=0.1, seed=0)            # (200, 2) float32, (200,) int64
    >>> ds = spirals(300, n_classes=3, as_dataset=True)  # TensorDataset
"""

from __future__ import annotations

import numpy as np

from chainrule.data.dataset import TensorDataset


def _finish(X, y, rng: np.random.Generator, as_dataset: bool, y_dtype=np.int64):
    perm = rng.permutation(len(X))
    X = np.ascontiguousarray(X[perm], dtype=np.float32)
    y = np.ascontiguousarray(y[perm], dtype=y_dtype)
    return TensorDataset(X, y) if as_dataset else (X, y)


def _split_counts(n: int, k: int) -> list[int]:
    """n samples over k groups, the first ones getting the remainder."""
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def xor(n_samples: int = 200, noise: float = 0.0, seed: int = 0, as_dataset: bool = False):
    """Points uniform in [-1, 1]²; label 1 when the two coordinates have different signs.

    ``noise`` adds N(0, noise²) to the points after labelling (so some cross the axes).
    """
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n_samples, 2))
    y = (X[:, 0] * X[:, 1] < 0).astype(np.int64)
    X = X + noise * rng.standard_normal(X.shape)
    return _finish(X, y, rng, as_dataset)


def spirals(
    n_samples: int = 300, noise: float = 0.2, seed: int = 0, as_dataset: bool = False,
    n_classes: int = 2,
):  # fmt: skip
    """Interleaved spiral arms, one per class (the CS231n spiral data).

    Arm ``k`` has radius r in [0, 1] and angle ``4r + 2πk/n_classes`` (+ noise · N(0, 1)).
    """
    rng = np.random.default_rng(seed)
    Xs, ys = [], []
    for k, m in enumerate(_split_counts(n_samples, n_classes)):
        r = np.linspace(0.0, 1.0, m)
        theta = 4.0 * r + 2 * np.pi * k / n_classes + noise * rng.standard_normal(m)
        Xs.append(np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))
        ys.append(np.full(m, k))
    return _finish(np.concatenate(Xs), np.concatenate(ys), rng, as_dataset)


def moons(n_samples: int = 200, noise: float = 0.1, seed: int = 0, as_dataset: bool = False):
    """Two interleaving half circles (scikit-learn's ``make_moons`` recipe)."""
    rng = np.random.default_rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    X = np.concatenate(
        [
            np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
            np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], axis=1),
        ]
    )
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    X = X + noise * rng.standard_normal(X.shape)
    return _finish(X, y, rng, as_dataset)


def circles(
    n_samples: int = 200, noise: float = 0.05, seed: int = 0, as_dataset: bool = False,
    factor: float = 0.5,
):  # fmt: skip
    """A circle of radius 1 (label 0) around one of radius ``factor`` (label 1)."""
    if not 0 < factor < 1:
        raise ValueError("factor has to be between 0 and 1")
    rng = np.random.default_rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.concatenate(
        [
            np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
            factor * np.stack([np.cos(t_in), np.sin(t_in)], axis=1),
        ]
    )
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    X = X + noise * rng.standard_normal(X.shape)
    return _finish(X, y, rng, as_dataset)


def blobs(
    n_samples: int = 300, noise: float = 1.0, seed: int = 0, as_dataset: bool = False,
    centers: int = 3, n_features: int = 2, center_box: tuple = (-10.0, 10.0),
):  # fmt: skip
    """Gaussian clusters: ``centers`` centres uniform in ``center_box``, std ``noise`` each."""
    rng = np.random.default_rng(seed)
    mu = rng.uniform(center_box[0], center_box[1], size=(centers, n_features))
    counts = _split_counts(n_samples, centers)
    y = np.repeat(np.arange(centers), counts)
    X = mu[y] + noise * rng.standard_normal((n_samples, n_features))
    return _finish(X, y, rng, as_dataset)


def linearly_separable(
    n_samples: int = 200, noise: float = 0.0, seed: int = 0, as_dataset: bool = False,
    n_features: int = 2, margin: float = 0.1,
):  # fmt: skip
    """Points uniform in [-1, 1]^d labelled by a random hyperplane, with a gap of ``margin``.

    Points closer than ``margin`` to the plane are pushed out along its normal, so with
    ``noise=0`` a perceptron converges; ``noise`` then adds N(0, noise²) to the points.
    """
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(n_features)
    w /= np.linalg.norm(w)
    b = rng.uniform(-0.2, 0.2)
    X = rng.uniform(-1, 1, size=(n_samples, n_features))
    dist = X @ w + b
    y = (dist > 0).astype(np.int64)
    sign = np.where(y == 1, 1.0, -1.0)
    push = np.maximum(margin - sign * dist, 0.0)
    X = X + (sign * push)[:, None] * w
    X = X + noise * rng.standard_normal(X.shape)
    return _finish(X, y, rng, as_dataset)


def sine_regression(
    n_samples: int = 200, noise: float = 0.1, seed: int = 0, as_dataset: bool = False,
    low: float = -np.pi, high: float = np.pi,
):  # fmt: skip
    """x uniform in [low, high], target ``sin(x) + noise · N(0, 1)``; both float32 (n, 1)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, size=(n_samples, 1))
    y = np.sin(x) + noise * rng.standard_normal(x.shape)
    return _finish(x, y, rng, as_dataset, y_dtype=np.float32)


__all__ = [
    "blobs",
    "circles",
    "linearly_separable",
    "moons",
    "sine_regression",
    "spirals",
    "xor",
]
