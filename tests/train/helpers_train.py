"""Tiny data and loaders for the training tests (no dependency on chainrule.data)."""

import numpy as np

import chainrule
from chainrule import nn


def blobs(n=96, num_classes=3, dim=4, seed=0):
    """Separable Gaussian blobs: float32 features, int64 labels (NumPy arrays)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3.0, size=(num_classes, dim))
    y = np.arange(n) % num_classes
    x = centers[y] + rng.normal(size=(n, dim))
    return x.astype(np.float32), y.astype(np.int64)


class Loader:
    """Batches of (x, y) Tensors; shuffles each pass with its own seeded generator
    (``generator="global"``: with chainrule's global generator)."""

    def __init__(self, x, y, batch_size=16, shuffle=False, seed=0, generator=None):
        self.x, self.y = np.asarray(x), np.asarray(y)
        self.batch_size = batch_size
        self.shuffle = shuffle
        if generator == "global":
            self.generator = None
        else:
            self.generator = generator or np.random.default_rng(seed)

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __iter__(self):
        n = len(self.x)
        if not self.shuffle:
            order = np.arange(n)
        elif self.generator is None:
            order = chainrule.random.rng().permutation(n)
        else:
            order = self.generator.permutation(n)
        for i in range(0, n, self.batch_size):
            idx = order[i : i + self.batch_size]
            yield chainrule.tensor(self.x[idx]), chainrule.tensor(self.y[idx])


def mlp(dim=4, hidden=16, num_classes=3, dropout=0.0):
    layers = [nn.Linear(dim, hidden), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(hidden, num_classes))
    return nn.Sequential(*layers)


def params(model):
    return [p.detach().numpy().copy() for p in model.parameters()]


def data_loader_class():
    """``(DataLoader, TensorDataset)`` from chainrule.data, or None while it is missing."""
    try:
        from chainrule.data import DataLoader, TensorDataset
    except ImportError:
        try:
            from chainrule.data.dataloader import DataLoader
            from chainrule.data.dataset import TensorDataset
        except ImportError:
            return None
    return DataLoader, TensorDataset
