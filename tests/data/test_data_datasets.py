"""Datasets: IDX parser and MNIST/Fashion-MNIST, Digits, MNIST-1D, TextCorpus, toy sets."""

import gzip
import hashlib
import os
import shutil

import numpy as np
import pytest

import chainrule
from chainrule.data import DataLoader, TensorDataset
from chainrule.data import transforms as T
from chainrule.data.datasets import (
    MNIST,
    MNIST1D,
    Digits,
    FashionMNIST,
    IDXError,
    TextCorpus,
    get_dataset_args,
    make_dataset,
    read_idx,
    toy,
)

SHARED_DATA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data")


def _shared(*parts):
    path = os.path.join(SHARED_DATA, *parts)
    if not os.path.exists(path):
        pytest.skip(f"shared data not available: {path}")
    return path


# ---------------------------------------------------------------------------- IDX / MNIST
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_read_idx_real_files():
    root = _shared("mnist")
    labels = read_idx(os.path.join(root, "train-labels-idx1-ubyte.gz"))
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    assert np.bincount(labels).tolist() == MNIST_TRAIN_COUNTS
    images = read_idx(os.path.join(root, "t10k-images-idx3-ubyte.gz"))
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    f_labels = read_idx(os.path.join(_shared("fashion-mnist"), "t10k-labels-idx1-ubyte.gz"))
    assert np.bincount(f_labels).tolist() == [1000] * 10


def test_read_idx_truncated_and_corrupt(tmp_path):
    src = os.path.join(_shared("mnist"), "t10k-labels-idx1-ubyte.gz")
    raw = gzip.decompress(open(src, "rb").read())
    # truncated raw IDX
    p = tmp_path / "short-labels-idx1-ubyte"
    p.write_bytes(raw[:-10])
    with pytest.raises(IDXError, match="short-labels-idx1-ubyte.*truncated"):
        read_idx(p)
    # truncated gzip stream
    p = tmp_path / "cut-labels-idx1-ubyte.gz"
    p.write_bytes(open(src, "rb").read()[:2000])
    with pytest.raises(IDXError, match="cut-labels-idx1-ubyte.gz"):
        read_idx(p)
    # corrupted magic
    p = tmp_path / "bad-magic-idx1-ubyte.gz"
    p.write_bytes(gzip.compress(b"\x12\x34" + raw[2:]))
    with pytest.raises(IDXError, match="bad-magic-idx1-ubyte.gz.*magic"):
        read_idx(p)
    # wrong number of dims for images
    p = tmp_path / "labels-as-images"
    p.write_bytes(raw)
    with pytest.raises(IDXError, match="labels-as-images.*dims"):
        read_idx(p, expected_ndim=3)
    # too short for a header
    p = tmp_path / "tiny"
    p.write_bytes(b"\x00\x00")
    with pytest.raises(IDXError, match="tiny"):
        read_idx(p)


def test_mnist_dataset():
    root = _shared("mnist")
    test = MNIST(root, train=False)
    assert len(test) == 10000 and test.data.shape == (10000, 28, 28)
    assert test.targets.dtype == np.int64
    assert np.bincount(test.targets).tolist() == MNIST_TEST_COUNTS
    x, y = test[0]
    assert x.shape == (1, 28, 28) and x.dtype == chainrule.float32 and y == 7
    assert 0.0 <= x.numpy().min() and x.numpy().max() <= 1.0
    np.testing.assert_allclose(x.numpy()[0], test.data[0] / 255.0, rtol=1e-6)
    # the fast path equals the per-sample path
    xb, yb = next(iter(DataLoader(test, batch_size=5)))
    assert xb.shape == (5, 1, 28, 28) and yb.dtype == chainrule.int64
    np.testing.assert_array_equal(xb.numpy()[0], x.numpy())
    # transforms receive the uint8 (28, 28) array
    seen = []
    tt = MNIST(
        root, train=False, transform=T.Compose([T.Lambda(seen.append), T.Lambda(lambda _: 0)])
    )
    tt[3]
    assert seen[0].dtype == np.uint8 and seen[0].shape == (28, 28)
    assert MNIST(root, train=False, transform=T.ToTensor())[0][0].shape == (1, 28, 28)
    # the parent folder works too (root/mnist), as does torchvision's root/MNIST/raw
    assert len(MNIST(os.path.dirname(root), train=False)) == 10000
    assert "Number of datapoints: 10000" in repr(test)


def test_fashion_mnist_dataset():
    root = _shared("fashion-mnist")
    ds = FashionMNIST(root, train=False)
    assert len(ds) == 10000 and np.bincount(ds.targets).tolist() == [1000] * 10
    assert ds.classes[9] == "Ankle boot" and ds.class_to_idx["Bag"] == 8


def test_mnist_layouts_and_missing_files(tmp_path):
    src = _shared("mnist")
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(os.path.join(src, f), raw / f)
    assert len(MNIST(tmp_path, train=False)) == 10000  # torchvision's layout
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz.*download=True"):
        MNIST(tmp_path, train=True)


def test_mnist_download_offline_message(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr("urllib.request.urlopen", no_network)
    with pytest.raises(RuntimeError, match="Without network, put the files"):
        MNIST(tmp_path, train=False, download=True)
    assert not [p for p in (tmp_path / "MNIST" / "raw").iterdir()]  # no partial files left


def test_mnist_download_verifies_and_writes(tmp_path, monkeypatch):
    src = _shared("mnist")

    class Resp:
        def __init__(self, path):
            self.f = open(path, "rb")

        def read(self, n):
            return self.f.read(n)

        def __enter__(self):
            return self

        def __exit__(self, *a):
            self.f.close()

    def fake_urlopen(req, timeout=None):
        return Resp(os.path.join(src, req.full_url.rsplit("/", 1)[1]))

    monkeypatch.setattr("urllib.request.urlopen", fake_urlopen)
    ds = MNIST(tmp_path, train=False, download=True)
    assert len(ds) == 10000
    got = sorted(os.listdir(tmp_path / "MNIST" / "raw"))
    assert got == sorted(f for f, _ in MNIST.resources)
    for f, md5 in MNIST.resources:
        assert hashlib.md5((tmp_path / "MNIST" / "raw" / f).read_bytes()).hexdigest() == md5


# ---------------------------------------------------------------------------- Digits
def test_digits_bundled_split():
    import chainrule.data.datasets.digits as digits_mod

    path = digits_mod._BUNDLED
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    assert digest == "a7e90fa73760e8f2b1dedf547e10a262714d3855f807565302a081a95da5177c"
    train, test = Digits(train=True), Digits(train=False)
    assert (len(train), len(test)) == (1438, 359)
    x, y = train[0]
    assert x.shape == (1, 8, 8) and x.dtype == chainrule.float32 and isinstance(y, int)
    assert 0 <= x.numpy().min() and x.numpy().max() <= 1
    # stratified: each class keeps about 20% in test
    all_counts = np.bincount(train.targets) + np.bincount(test.targets)
    assert all_counts.tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    np.testing.assert_allclose(np.bincount(test.targets) / all_counts, 0.2, atol=0.01)
    # fixed: the same split every time, and disjoint
    np.testing.assert_array_equal(Digits(train=False).data, test.data)
    with np.load(digits_mod._BUNDLED) as f:
        everything = f["images"].reshape(1797, -1)
    together = np.concatenate([train.data, test.data]).reshape(1797, -1)
    np.testing.assert_array_equal(np.unique(together, axis=0), np.unique(everything, axis=0))
    xb, yb = next(iter(DataLoader(train, batch_size=4)))
    np.testing.assert_array_equal(xb.numpy()[0], x.numpy())
    seen = []
    Digits(transform=T.Lambda(lambda a: seen.append(a) or 0))[0]
    assert seen[0].shape == (8, 8) and seen[0].dtype == np.float32 and seen[0].max() <= 1


# ---------------------------------------------------------------------------- MNIST-1D
def test_mnist1d_loads_shared():
    root = _shared("mnist1d")
    train, test = MNIST1D(root, train=True), MNIST1D(root, train=False)
    assert train.data.shape == (4000, 40) and test.data.shape == (1000, 40)
    counts = [398, 396, 411, 394, 394, 402, 401, 404, 402, 398]
    assert np.bincount(train.targets).tolist() == counts
    assert np.bincount(test.targets).tolist() == [102, 104, 89, 106, 106, 98, 99, 96, 98, 102]
    x, y = train[0]
    assert x.shape == (40,) and x.dtype == chainrule.float32 and isinstance(y, int)
    xb, yb = next(iter(DataLoader(train, batch_size=8)))
    assert xb.shape == (8, 40) and yb.dtype == chainrule.int64


def test_mnist1d_generation_matches_frozen():
    path = os.path.join(_shared("mnist1d"), "mnist1d_data.npz")
    frozen = np.load(path)
    d = make_dataset()
    np.testing.assert_array_equal(d["y"], frozen["y"])
    np.testing.assert_array_equal(d["y_test"], frozen["y_test"])
    np.testing.assert_allclose(d["x"], frozen["x"], rtol=0, atol=1e-13)
    np.testing.assert_allclose(d["x_test"], frozen["x_test"], rtol=0, atol=1e-13)
    np.testing.assert_allclose(d["t"], frozen["t"], rtol=0, atol=1e-13)
    np.testing.assert_allclose(d["templates"]["x"], frozen["templates_x"], rtol=0, atol=1e-15)
    small = get_dataset_args(num_samples=300)
    a, b = make_dataset(small), make_dataset(small)
    np.testing.assert_array_equal(a["x"], b["x"])  # deterministic
    np.testing.assert_array_equal(a["y_test"], b["y_test"])
    gen = MNIST1D(generate=True, train=False, args=small)
    assert len(gen) == 60 and gen[0][0].shape == (40,)


def test_gaussian_filter_matches_scipy():
    ndimage = pytest.importorskip("scipy.ndimage")
    from chainrule.data.datasets.mnist1d import gaussian_filter1d

    rng = np.random.default_rng(0)
    for n in (72, 9, 5):
        x = rng.standard_normal(n)
        np.testing.assert_allclose(gaussian_filter1d(x, 2), ndimage.gaussian_filter(x, 2),
                                   rtol=0, atol=1e-15)  # fmt: skip


# ---------------------------------------------------------------------------- text
def test_text_corpus_shakespeare():
    path = os.path.join(_shared("tinyshakespeare"), "input.txt")
    c = TextCorpus(path)
    assert c.vocab_size == 65
    assert "".join(c.itos) == "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    assert (len(c.train_data), len(c.val_data)) == (1003854, 111540)
    s = "First Citizen:\nBefore we proceed"
    assert c.decode(c.encode(s)) == s
    g = chainrule.Generator().manual_seed(0)
    x, y = c.batches("train", batch_size=4, block_size=16, generator=g)
    assert x.shape == y.shape == (4, 16) and x.dtype == chainrule.int64
    np.testing.assert_array_equal(x.numpy()[:, 1:], y.numpy()[:, :-1])
    # each row is a real window of the stream
    row = x.numpy()[0]
    starts = np.flatnonzero(c.train_data[: len(c.train_data) - 16] == row[0])
    assert any(np.array_equal(c.train_data[s : s + 16], row) for s in starts)
    g2 = chainrule.Generator().manual_seed(0)
    x2, _ = c.batches("train", 4, 16, generator=g2)
    np.testing.assert_array_equal(x.numpy(), x2.numpy())


def test_text_corpus_word_level_and_sequence_dataset():
    text = "the cat sat on the mat. the dog sat too!\nthe end"
    c = TextCorpus(text, level="word", val_fraction=0.25, min_count=2)
    assert c.itos[0] == "<unk>" and c.itos[1] == "the"
    assert c.decode(c.encode("the sat")) == "the sat"
    assert c.decode(c.encode("cat")) == "<unk>"
    assert len(c.train_data) + len(c.val_data) == len(c.data)
    chars = TextCorpus(text=text, val_fraction=0.0)
    ds = chars.dataset("train", block_size=5)
    assert len(ds) == (len(text) - 6) // 5 + 1
    x, y = ds[1]
    assert chars.decode(x) == text[5:10] and chars.decode(y) == text[6:11]
    xb, yb = next(iter(DataLoader(ds, batch_size=3)))
    assert xb.shape == (3, 5)
    np.testing.assert_array_equal(xb.numpy()[1], x.numpy())
    strided = chars.dataset("train", block_size=5, stride=1)
    assert len(strided) == len(text) - 5


# ---------------------------------------------------------------------------- toy sets
@pytest.mark.parametrize(
    "fn", [toy.xor, toy.spirals, toy.moons, toy.circles, toy.blobs, toy.linearly_separable]
)
def test_toy_classification_sets(fn):
    X, y = fn(n_samples=101, seed=3)
    assert X.shape == (101, 2) and X.dtype == np.float32 and y.shape == (101,)
    assert y.dtype == np.int64 and len(np.unique(y)) >= 2
    X2, y2 = fn(n_samples=101, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = fn(n_samples=101, seed=4)
    assert not np.array_equal(X, X3)
    ds = fn(n_samples=20, as_dataset=True)
    assert isinstance(ds, TensorDataset) and len(ds) == 20


def test_toy_sets_properties():
    X, y = toy.sine_regression(n_samples=50, noise=0.0)
    assert X.shape == y.shape == (50, 1) and y.dtype == np.float32
    np.testing.assert_allclose(y, np.sin(X), atol=1e-6)
    X, y = toy.spirals(n_samples=300, n_classes=3)
    assert np.bincount(y).tolist() == [100, 100, 100]
    X, y = toy.xor(n_samples=200, noise=0.0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(np.int64))
    X, y = toy.circles(n_samples=200, noise=0.0, factor=0.5)
    r = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(r[y == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.5, atol=1e-6)
