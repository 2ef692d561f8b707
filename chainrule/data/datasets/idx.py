"""MNIST and Fashion-MNIST from their IDX files, with a validating IDX parser.

IDX format (LeCun): a big-endian header ``0x00 0x00 <dtype code> <ndim>``, then ``ndim``
big-endian uint32 sizes, then the values in row-major order. MNIST uses dtype code 0x08
(unsigned byte): magic 0x00000803 for images (N, 28, 28) and 0x00000801 for labels (N,).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import tempfile
import urllib.request
import zlib

import numpy as np

from chainrule.data.datasets._common import ArrayDataset

# dtype code -> (numpy dtype, big-endian)
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class IDXError(ValueError):
    """A file is not a valid IDX file (bad magic, truncated, wrong size)."""


def read_idx(path, expected_ndim: int | None = None) -> np.ndarray:
    """Parse an IDX file (``.gz`` or raw) into a NumPy array; checks everything it can.

    Checks the two zero bytes and the dtype code of the magic number, ``ndim`` (against
    ``expected_ndim`` when given), that the header is complete and that the payload holds
    exactly ``prod(dims)`` values. Errors are :class:`IDXError` (a ValueError) naming the file.

    Example:
        >>> read_idx("mnist/train-labels-idx1-ubyte.gz").shape
        (60000,)
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
        if raw[:2] == b"\x1f\x8b":  # gzip magic
            raw = gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise IDXError(f"{path}: corrupt or truncated gzip stream ({e})") from e
    if len(raw) < 4:
        raise IDXError(f"{path}: truncated IDX file ({len(raw)} bytes, no complete header)")
    zero, code, ndim = struct.unpack(">HBB", raw[:4])
    magic = int.from_bytes(raw[:4], "big")
    if zero != 0 or code not in _IDX_DTYPES:
        raise IDXError(
            f"{path}: bad IDX magic number 0x{magic:08x}: expected two zero bytes, a dtype "
            "code (0x08 = unsigned byte) and the number of dims, e.g. 0x00000803 for images "
            "or 0x00000801 for labels"
        )
    if expected_ndim is not None and ndim != expected_ndim:
        raise IDXError(
            f"{path}: IDX magic 0x{magic:08x} says {ndim} dims, expected {expected_ndim} "
            f"(0x{0x800 + expected_ndim:08x})"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(f"{path}: truncated IDX header ({len(raw)} bytes, need {header})")
    dims = struct.unpack(">" + "I" * ndim, raw[4:header])
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    got = len(raw) - header
    if got != expected:
        what = "truncated" if got < expected else "has trailing bytes"
        raise IDXError(
            f"{path}: IDX file {what}: dims {dims} need {expected} bytes of data, found {got}"
        )
    arr = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=False) if dtype.itemsize > 1 else arr


def _md5(path: str) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class MNIST(ArrayDataset):
    """MNIST: 60,000 train / 10,000 test grey 28x28 handwritten digits (LeCun, Cortes, Burges).

    torchvision's signature. Reads the four IDX files (``train-images-idx3-ubyte.gz``,
    ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``;
    ``.gz`` or uncompressed) from the first of these folders that has them:
    ``root`` itself, ``root/MNIST/raw`` (torchvision's layout), ``root/mnist``.

    Args:
        root: the folder (see above).
        train: the 60,000 training images (True) or the 10,000 test images (False).
        transform: applied to each image. It receives the raw uint8 (28, 28) NumPy array
            (where torchvision passes a PIL image), so ``ToTensor()`` gives (1, 28, 28) in
            [0, 1]. Without a transform, items are float32 Tensors (1, 28, 28) in [0, 1].
        target_transform: applied to the int target.
        download: fetch missing files into ``root/MNIST/raw`` from the mirrors, check their
            md5, write them atomically. Without network it fails saying which files to put
            where.

    Attributes:
        data: uint8 (N, 28, 28); targets: int64 (N,); classes; class_to_idx.

    License: CC BY-SA 3.0 (Y. LeCun and C. Cortes).

    Example:
        >>> ds = MNIST("data", train=False)   # data/ holds the 4 .gz files
        >>> x, y = ds[0]                       # x: (1, 28, 28) float32, y: 7
    """

    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    folder_names = ("mnist",)
    classes = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
    ]  # fmt: skip

    def __init__(
        self, root, train: bool = True, transform=None, target_transform=None,
        download: bool = False,
    ):  # fmt: skip
        if root is None:
            raise ValueError(f"{type(self).__name__}: root must be a folder, got None")
        self.root = os.path.expanduser(os.fspath(root))
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        prefix = "train" if train else "t10k"
        names = [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]
        folder = self._find_folder(names)
        if folder is None and download:
            self.download()
            folder = self._find_folder(names)
        if folder is None:
            raise FileNotFoundError(self._missing_message(names))
        images = read_idx(self._file(folder, names[0]), expected_ndim=3)
        labels = read_idx(self._file(folder, names[1]), expected_ndim=1)
        if len(images) != len(labels):
            raise IDXError(
                f"{folder}: {len(images)} images but {len(labels)} labels in {names[0]} / "
                f"{names[1]}"
            )
        self.data = images
        self.targets = labels.astype(np.int64)

    # ------------------------------------------------------------------ files
    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "raw")

    def _candidates(self) -> list[str]:
        return [self.root, self.raw_folder] + [
            os.path.join(self.root, n) for n in self.folder_names
        ]

    @staticmethod
    def _file(folder: str, name: str) -> str | None:
        for fname in (name + ".gz", name):
            p = os.path.join(folder, fname)
            if os.path.isfile(p):
                return p
        return None

    def _find_folder(self, names) -> str | None:
        for folder in self._candidates():
            if all(self._file(folder, n) for n in names):
                return folder
        return None

    def _missing_message(self, names) -> str:
        files = ", ".join(n + ".gz" for n in names)
        where = ", ".join(repr(c) for c in self._candidates())
        return (
            f"{type(self).__name__}: dataset files not found. Put {files} (gzipped or not) in "
            f"one of {where}, or pass download=True to fetch them into {self.raw_folder!r}."
        )

    @property
    def class_to_idx(self) -> dict:
        return {c: i for i, c in enumerate(self.classes)}

    def download(self) -> None:
        """Fetch the four files into ``raw_folder`` (md5-checked, atomic writes)."""
        os.makedirs(self.raw_folder, exist_ok=True)
        for fname, md5 in self.resources:
            target = os.path.join(self.raw_folder, fname)
            if os.path.isfile(target) and _md5(target) == md5:
                continue
            errors = []
            for mirror in self.mirrors:
                url = mirror + fname
                try:
                    self._fetch(url, target, md5)
                    break
                except Exception as e:  # try the next mirror
                    errors.append(f"{url}: {e}")
            else:
                listing = ", ".join(f for f, _ in self.resources)
                raise RuntimeError(
                    f"{type(self).__name__}: could not download {fname} ("
                    + "; ".join(errors)
                    + f"). Without network, put the files {listing} in {self.raw_folder!r} "
                    f"(or directly in {self.root!r}) and use download=False."
                )

    @staticmethod
    def _fetch(url: str, target: str, md5: str) -> None:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".part")
        try:
            req = urllib.request.Request(url, headers={"User-Agent": "chainrule"})
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(req, timeout=30) as resp:
                h = hashlib.md5()
                for chunk in iter(lambda: resp.read(1 << 20), b""):
                    h.update(chunk)
                    out.write(chunk)
            if h.hexdigest() != md5:
                raise ValueError(f"md5 mismatch: got {h.hexdigest()}, expected {md5}")
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    # ------------------------------------------------------------------ items
    def _default_image(self, raw):
        return (raw.astype(np.float32) / np.float32(255))[:, None]

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        return (
            f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
            f"    Root location: {self.root}\n    Split: {split}"
        )


class FashionMNIST(MNIST):
    """Fashion-MNIST (Xiao, Rasul, Vollgraf 2017): Zalando article images, MNIST's format.

    Same signature, layout and items as :class:`MNIST` (folders searched: ``root``,
    ``root/FashionMNIST/raw``, ``root/fashion-mnist``, ``root/fashion_mnist``). License: MIT.
    Classes: T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot.
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    folder_names = ("fashion-mnist", "fashion_mnist")
    classes = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]  # fmt: skip
