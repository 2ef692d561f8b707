"""The 8x8 handwritten digits (UCI "Optical Recognition of Handwritten Digits"), bundled."""

from __future__ import annotations

import os

import numpy as np

from chainrule.data.datasets._common import ArrayDataset

_BUNDLED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits.npz")
_SPLIT_SEED = 0
_TEST_FRACTION = 0.2


def _stratified_test_mask(targets: np.ndarray) -> np.ndarray:
    """True for test samples: per class, a seeded random round(20%) of its samples."""
    rng = np.random.default_rng(_SPLIT_SEED)
    test = np.zeros(len(targets), dtype=bool)
    for c in range(10):
        idx = np.flatnonzero(targets == c)
        n_test = int(round(_TEST_FRACTION * len(idx)))
        test[rng.permutation(idx)[:n_test]] = True
    return test


class Digits(ArrayDataset):
    """1,797 grey 8x8 images of handwritten digits 0-9, pixel values 0..16 (bundled, offline).

    Source: the test set of the UCI "Optical Recognition of Handwritten Digits" data set
    (E. Alpaydin, C. Kaynak, 1998; license CC BY 4.0), as exported by scikit-learn's
    ``load_digits`` (``digits.npz`` ships inside this package).

    Split (fixed, stratified): for each class, ``round(0.2 * count)`` of its images, chosen by
    ``numpy.random.default_rng(0).permutation`` (classes 0..9 in turn, one generator), are the
    test set: 1,438 train / 359 test, each keeping the original order. Class counts (all):
    178 182 177 183 181 182 181 179 174 180.

    Args:
        root: optional folder (or file) holding another ``digits.npz`` (keys ``images`` uint8
            (N, 8, 8), ``target``); None uses the bundled file.
        train: the train split (True) or the test split (False).
        transform: applied to each image. It receives a float32 (8, 8) NumPy array in [0, 1]
            (pixels / 16), so ``ToTensor()`` gives (1, 8, 8). Without a transform, items are
            float32 Tensors (1, 8, 8) in [0, 1].
        target_transform: applied to the int target.

    Attributes:
        data: uint8 (N, 8, 8) raw images (0..16); targets: int64 (N,); classes: "0".."9".

    Example:
        >>> x, y = Digits(train=True)[0]    # x: (1, 8, 8) float32, y: int
    """

    classes = [str(i) for i in range(10)]

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None):
        path = _BUNDLED
        if root is not None:
            path = os.fspath(root)
            if os.path.isdir(path):
                path = os.path.join(path, "digits.npz")
            if not os.path.isfile(path):
                raise FileNotFoundError(
                    f"Digits: no file {path!r}; pass root=None to use the bundled digits.npz"
                )
        with np.load(path) as f:
            images, targets = f["images"].astype(np.uint8), f["target"].astype(np.int64)
        test = _stratified_test_mask(targets)
        keep = ~test if train else test
        self.root = root
        self.train = train
        self.data = images[keep]
        self.targets = targets[keep]
        self.transform = transform
        self.target_transform = target_transform

    def _default_image(self, raw):
        return (raw.astype(np.float32) / np.float32(16))[:, None]

    def _transform_input(self, raw):
        return raw.astype(np.float32) / np.float32(16)

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        return f"Dataset Digits\n    Number of datapoints: {len(self)}\n    Split: {split}"
