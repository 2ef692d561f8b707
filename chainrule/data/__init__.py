"""Data loading, PyTorch's ``torch.utils.data`` API, plus transforms and ready-made datasets.

``Dataset`` / ``TensorDataset`` / ``Subset`` / ``ConcatDataset`` / ``random_split``, samplers,
``DataLoader`` (seeded shuffling, worker processes, a fast path for array-backed datasets),
``default_collate``; ``chainrule.data.transforms`` (torchvision-style image transforms) and
``chainrule.data.datasets`` (Digits bundled; MNIST, Fashion-MNIST, MNIST-1D, text, toy sets).
"""

from chainrule.data import datasets, transforms
from chainrule.data.collate import default_collate, default_convert
from chainrule.data.dataloader import DataLoader, WorkerInfo, get_worker_info
from chainrule.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from chainrule.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "datasets",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
    "transforms",
]
