"""Helpers shared by the bundled datasets."""

from __future__ import annotations

import numpy as np

from chainrule.data.dataset import Dataset
from chainrule.tensor import Tensor


class ArrayDataset(Dataset):
    """Images and integer targets held as arrays; items ``(image, int target)``.

    Subclasses set ``data`` (raw images), ``targets`` (int64) and implement ``_default_image``
    (raw batch -> float32 batch). Without transforms the DataLoader builds whole batches with
    one fancy-index (``_get_batch``).
    """

    transform = None
    target_transform = None

    def __len__(self) -> int:
        return len(self.targets)

    def _default_image(self, raw: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _transform_input(self, raw: np.ndarray):
        """What a user transform receives (the raw image by default)."""
        return raw

    def __getitem__(self, index: int):
        raw = self.data[index]
        if self.transform is not None:
            img = self.transform(self._transform_input(raw))
        else:
            img = Tensor._make(self._default_image(raw[None])[0])
        target = int(self.targets[index])
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    @property
    def _get_batch(self):
        if self.transform is not None or self.target_transform is not None:
            raise AttributeError("_get_batch")  # transforms run per sample
        return self._batch

    def _batch(self, indices):
        idx = np.asarray(indices, dtype=np.int64)
        return [
            Tensor._make(self._default_image(self.data[idx])),
            Tensor._make(np.ascontiguousarray(self.targets[idx])),
        ]
