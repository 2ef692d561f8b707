"""Ready-made datasets: Digits (bundled), MNIST, FashionMNIST, MNIST1D, TextCorpus, toy sets."""

from chainrule.data.datasets import toy
from chainrule.data.datasets.digits import Digits
from chainrule.data.datasets.idx import MNIST, FashionMNIST, IDXError, read_idx
from chainrule.data.datasets.mnist1d import MNIST1D, get_dataset_args, make_dataset
from chainrule.data.datasets.text import SequenceDataset, TextCorpus

__all__ = [
    "Digits",
    "FashionMNIST",
    "IDXError",
    "MNIST",
    "MNIST1D",
    "SequenceDataset",
    "TextCorpus",
    "get_dataset_args",
    "make_dataset",
    "read_idx",
    "toy",
]
