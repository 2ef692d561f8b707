"""MNIST-1D (Greydanus & Kobak): 10 classes of 1-D signals of length 40, in NumPy.

The published recipe (``mnist1d.data.make_dataset``) takes ten hand-made 12-point templates
and, per example: pads it with zeros, stretches it to 72 points, scales it, rolls it,
fills the zero background with Gaussian-smoothed noise, adds white noise, shears it and
subsamples it to 40 points. Then the 5,000 examples are shuffled, standardised and split 80/20.
:func:`make_dataset` reimplements it with NumPy only (the original calls SciPy's
``gaussian_filter`` and ``interp1d``) and consumes the random numbers in the same order, from
``np.random.RandomState(seed)`` (the legacy generator the original seeds globally).
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np

from chainrule.data.dataset import Dataset
from chainrule.tensor import Tensor


def get_dataset_args(**overrides) -> SimpleNamespace:
    """The published defaults (``mnist1d.data.get_dataset_args``); keywords override them."""
    args = dict(
        num_samples=5000,
        train_split=0.8,
        template_len=12,
        padding=[36, 60],
        scale_coeff=0.4,
        max_translation=48,
        corr_noise_scale=0.25,
        iid_noise_scale=2e-2,
        shear_scale=0.75,
        shuffle_seq=False,
        final_seq_length=40,
        seed=42,
    )
    unknown = set(overrides) - set(args)
    if unknown:
        raise TypeError(f"get_dataset_args: unknown arguments {sorted(unknown)}")
    args.update(overrides)
    return SimpleNamespace(**args)


def get_templates() -> dict:
    """The ten 12-point digit templates, whitened, starting at 0, divided by 6."""
    d = np.asarray(
        [
            [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5],
            [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],
            [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5],
            [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],
            [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5],
            [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],
            [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5],
            [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],
            [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5],
            [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5],
        ]
    )
    x = d - d.mean(1, keepdims=True)
    x /= x.std(1, keepdims=True)
    x -= x[:, :1]
    return {"x": x / 6.0, "t": np.linspace(-5, 5, d.shape[1]) / 6.0, "y": np.arange(10)}


def gaussian_filter1d(x: np.ndarray, sigma: float, truncate: float = 4.0) -> np.ndarray:
    """SciPy's ``gaussian_filter`` for a 1-D signal: mode "reflect" (``d c b a | a b c d``).

    Kernel ``w_k ∝ exp(-k² / (2σ²))`` for ``|k| <= round(truncate·σ)``, normalised to sum 1.
    The sum is taken in the order of SciPy's C loop for symmetric kernels (the centre, then
    the pairs from the outermost in), so the result matches SciPy to the last bit.
    """
    radius = int(truncate * float(sigma) + 0.5)
    k = np.arange(-radius, radius + 1)
    w = np.exp(-0.5 / (sigma * sigma) * k**2)
    w = w / w.sum()
    n = len(x)
    # NOTE: np.pad "symmetric" repeats the edge sample, which is SciPy's "reflect"; tile the
    # reflection for signals shorter than the kernel radius.
    padded = np.pad(x, radius, mode="symmetric") if n >= radius else _reflect_pad(x, radius)
    out = padded[radius : radius + n] * w[radius]
    for j in range(radius, 0, -1):
        out = (
            out
            + (padded[radius + j : radius + j + n] + padded[radius - j : radius - j + n])
            * (w[radius + j])
        )
    return out


def _reflect_pad(x: np.ndarray, radius: int) -> np.ndarray:
    period = np.concatenate([x, x[::-1]])
    idx = np.arange(-radius, len(x) + radius) % len(period)
    return period[idx]


def _interpolate(x: np.ndarray, n: int) -> np.ndarray:
    """Linear resampling of x onto n evenly spaced points (scipy ``interp1d`` -> ``np.interp``)."""
    return np.interp(np.linspace(0, 1, n), np.linspace(0, 1, len(x)), x)


def _transform(x, t, args, rs: np.random.RandomState, eps=1e-8):
    low, high = args.padding
    p = low + int(rs.rand() * (high - low + 1))
    new_x = np.concatenate([x + eps, np.zeros(p)])  # pad
    length = args.template_len + args.padding[-1]
    new_x = _interpolate(new_x, length)  # dilate
    new_t = _interpolate(t, length)
    new_x *= 1 + args.scale_coeff * (rs.rand() - 0.5)  # scale
    k = rs.choice(args.max_translation)  # translate (roll right by k)
    new_x = np.concatenate([new_x[-k:], new_x[:-k]])
    mask = new_x != 0  # correlated noise on the (numerically) zero background
    corr = gaussian_filter1d(args.corr_noise_scale * rs.randn(*new_x.shape), 2)
    new_x = mask * new_x + (1 - mask) * corr
    new_x = new_x + args.iid_noise_scale * rs.randn(*new_x.shape)
    coeff = args.shear_scale * (rs.rand() - 0.5)  # shear
    new_x = new_x - coeff * np.linspace(-0.5, 0.5, len(new_x))
    new_x = _interpolate(new_x, args.final_seq_length)
    new_t = _interpolate(new_t, args.final_seq_length)
    return new_x, new_t


def make_dataset(args=None, templates=None) -> dict:
    """Generate MNIST-1D procedurally (the published recipe, deterministic for ``args.seed``).

    Returns a dict with ``x`` (N_train, 40) float64, ``y`` int64, ``x_test``, ``y_test``,
    ``t`` (40,) and ``templates``. With the default args it reproduces the published
    ``mnist1d_data.pkl``: labels exactly, signals to about 1e-15.
    """
    templates = get_templates() if templates is None else templates
    args = get_dataset_args() if args is None else args
    if isinstance(args, dict):
        args = get_dataset_args(**args)
    rs = np.random.RandomState(args.seed)
    xs, ys = [], []
    samples_per_class = args.num_samples // len(templates["y"])
    new_t = None
    for label_ix in range(len(templates["y"])):
        for _ in range(samples_per_class):
            x, new_t = _transform(templates["x"][label_ix], templates["t"], args, rs)
            xs.append(x)
            ys.append(templates["y"][label_ix])
    perm = rs.permutation(len(ys))
    xs = np.stack(xs)[perm]
    ys = np.asarray(ys, dtype=np.int64)[perm]
    if args.shuffle_seq:
        xs = xs[..., rs.permutation(args.final_seq_length)]
    new_t = new_t / xs.std()
    xs = (xs - xs.mean()) / xs.std()
    split = int(len(ys) * args.train_split)
    return {
        "x": xs[:split],
        "x_test": xs[split:],
        "y": ys[:split],
        "y_test": ys[split:],
        "t": new_t,
        "templates": templates,
    }


class MNIST1D(Dataset):
    """MNIST-1D: 4,000 train / 1,000 test signals of length 40, 10 classes (Apache-2.0).

    Loads the published arrays from ``mnist1d_data.npz`` (keys ``x, y, x_test, y_test, t``...;
    the published ``mnist1d_data.pkl`` re-saved with ``np.savez``), or generates them.

    Args:
        root: the ``.npz`` file, or a folder holding ``mnist1d_data.npz`` (directly or in
            ``mnist1d/``). Not needed with ``generate=True``.
        train: the first 80% (True) or the last 20% (False).
        transform: applied to each float32 (40,) NumPy signal; without one, items are float32
            Tensors (40,).
        target_transform: applied to the int target.
        generate: build the data with :func:`make_dataset` instead of loading it (about 1 s).
        args: ``get_dataset_args(...)`` for ``generate=True`` (the published defaults if None).

    Attributes: ``data`` float32 (N, 40), ``targets`` int64 (N,), ``t`` (40,).

    Example:
        >>> x, y = MNIST1D(generate=True)[0]   # x: (40,) float32, y: int
    """

    filename = "mnist1d_data.npz"
    classes = [str(i) for i in range(10)]

    def __init__(
        self, root=None, train: bool = True, transform=None, target_transform=None,
        generate: bool = False, args=None,
    ):  # fmt: skip
        if generate:
            d = make_dataset(args)
        else:
            if root is None:
                raise ValueError(
                    "MNIST1D: pass root (the folder or file with mnist1d_data.npz) or "
                    "generate=True to build the data procedurally"
                )
            path = self._find(os.path.expanduser(os.fspath(root)))
            with np.load(path) as f:
                d = {k: f[k] for k in ("x", "y", "x_test", "y_test", "t")}
        x, y = (d["x"], d["y"]) if train else (d["x_test"], d["y_test"])
        self.root = root
        self.train = train
        self.data = np.ascontiguousarray(x, dtype=np.float32)
        self.targets = np.asarray(y, dtype=np.int64)
        self.t = np.asarray(d["t"])
        self.transform = transform
        self.target_transform = target_transform

    def _find(self, root: str) -> str:
        candidates = [root] if root.endswith(".npz") else []
        candidates += [
            os.path.join(root, self.filename),
            os.path.join(root, "mnist1d", self.filename),
        ]
        for c in candidates:
            if os.path.isfile(c):
                return c
        raise FileNotFoundError(
            f"MNIST1D: {self.filename} not found (looked for {candidates}). Put the file there "
            "(the arrays of github.com/greydanus/mnist1d's mnist1d_data.pkl saved with "
            "np.savez), or pass generate=True."
        )

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int):
        x = self.data[index]
        x = self.transform(x.copy()) if self.transform is not None else Tensor._make(x)
        y = int(self.targets[index])
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y

    @property
    def _get_batch(self):
        if self.transform is not None or self.target_transform is not None:
            raise AttributeError("_get_batch")
        return self._batch

    def _batch(self, indices):
        idx = np.asarray(indices, dtype=np.int64)
        return [Tensor._make(self.data[idx]), Tensor._make(self.targets[idx])]
