"""Rosenblatt's perceptron: a linear threshold unit and its mistake-driven learning rule.

    prediction = 1 if w . x + b > 0 else 0
    on a mistake:  w <- w + lr (target - prediction) x,   b <- b + lr (target - prediction)

The perceptron rule is *not* gradient descent on a differentiable loss: the step activation
has zero derivative almost everywhere, so there is no gradient to follow. The rule only moves
the boundary when a sample is misclassified. The perceptron convergence theorem guarantees it
stops after finitely many mistakes when the data are linearly separable; on data that are not
(XOR) it never stops making mistakes. That is why this model needs no autograd and keeps its
weights as plain NumPy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class PerceptronFitResult:
    """What ``Perceptron.fit`` measured.

    Attributes:
        converged: True when an epoch went by without a single mistake.
        epochs: the number of epochs run (the last one is the mistake-free one if converged).
        mistakes: the number of mistakes (= weight updates) in each epoch.
    """

    converged: bool
    epochs: int
    mistakes: list[int] = field(default_factory=list)


def _as_array(x) -> np.ndarray:
    if hasattr(x, "detach") and hasattr(x, "numpy"):  # a chainrule Tensor
        x = x.detach().numpy()
    return np.asarray(x, dtype=np.float64)


class Perceptron:
    """A single linear threshold unit trained with Rosenblatt's rule.

    Args:
        n_features: the input dimension.
        lr: the step size of each correction (default 1.0; with zero initial weights the
            learned boundary does not depend on it).

    Targets may be 0/1 or -1/+1. With -1/+1 targets they are mapped to 0/1 for learning and
    ``predict`` answers in the same -1/+1 encoding that ``fit`` saw.

    Attributes:
        weight: (n_features,) NumPy array, starts at zeros.
        bias: float, starts at 0.
        converged_: set by ``fit``.

    Example:
        >>> import numpy as np
        >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
        >>> p = Perceptron(2)
        >>> p.fit(X, np.array([0, 0, 0, 1])).converged   # AND is linearly separable
        True
        >>> p.fit(X, np.array([0, 1, 1, 0]), epochs=50).converged   # XOR is not
        False
    """

    def __init__(self, n_features: int, lr: float = 1.0):
        self.n_features = int(n_features)
        self.lr = float(lr)
        self.weight = np.zeros(self.n_features)
        self.bias = 0.0
        self.converged_: bool | None = None
        self._signed = False  # targets were -1/+1

    def __repr__(self) -> str:
        return f"Perceptron(n_features={self.n_features}, lr={self.lr})"

    def reset_parameters(self) -> None:
        self.weight = np.zeros(self.n_features)
        self.bias = 0.0
        self.converged_ = None

    def decision_function(self, X) -> np.ndarray:
        """w . x + b for each row of X."""
        X = _as_array(X)
        return X @ self.weight + self.bias

    def predict(self, X) -> np.ndarray:
        """1 where w . x + b > 0, else 0 (or +1 / -1 when fit saw -1/+1 targets)."""
        step = (self.decision_function(X) > 0).astype(np.int64)
        return 2 * step - 1 if self._signed else step

    def score(self, X, y) -> float:
        """The fraction of samples classified correctly."""
        return float(np.mean(self.predict(X) == np.asarray(y)))

    def fit(self, X, y, epochs: int = 100) -> PerceptronFitResult:
        """Run the perceptron rule over the samples in order, up to ``epochs`` passes.

        Stops early after an epoch with no mistakes (the data were separated).
        """
        X = _as_array(X)
        y = np.asarray(_as_array(y)).reshape(-1)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"expected X of shape (N, {self.n_features}), got {X.shape}")
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)} targets")
        labels = set(np.unique(y).tolist())
        if labels <= {0.0, 1.0}:
            self._signed = False
            t = y
        elif labels <= {-1.0, 1.0}:
            self._signed = True
            t = (y > 0).astype(np.float64)
        else:
            raise ValueError(f"targets must be 0/1 or -1/+1, got {sorted(labels)}")

        mistakes: list[int] = []
        converged = False
        for _ in range(epochs):
            errors = 0
            # The loop over samples is inherent to Rosenblatt's online rule: each update
            # changes the boundary that the next sample is judged by, so it cannot be
            # batched without becoming a different algorithm.
            for xi, ti in zip(X, t):
                pred = 1.0 if xi @ self.weight + self.bias > 0 else 0.0
                delta = ti - pred
                if delta != 0.0:
                    self.weight += self.lr * delta * xi
                    self.bias += self.lr * delta
                    errors += 1
            mistakes.append(errors)
            if errors == 0:
                converged = True
                break
        self.converged_ = converged
        return PerceptronFitResult(converged=converged, epochs=len(mistakes), mistakes=mistakes)
