"""DataLoader, samplers, collate, random_split, worker processes."""

import collections

import numpy as np
import pytest

import chainrule
from chainrule.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    get_worker_info,
    random_split,
)
from chainrule.data import transforms as T


def _ids(loader):
    return [b[1].numpy().tolist() for b in loader]


def _tds(n=10):
    return TensorDataset(chainrule.arange(n).float().reshape(n, 1) * 10, chainrule.arange(n))


class Squares(Dataset):
    """Deterministic, per-sample path (no _get_batch)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full((2,), i * i, dtype=np.float32), i


class Noisy(Dataset):
    """A random augmentation drawn from the global generator (re-seeded in each worker)."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        x = T.GaussianNoise(std=1.0)(np.zeros(3, np.float32))
        info = get_worker_info()
        return x, -1 if info is None else info.id


# ---------------------------------------------------------------------------- basics
def test_batch_size_len_and_drop_last():
    ds = _tds(10)
    loader = DataLoader(ds, batch_size=3)
    assert len(loader) == 4
    batches = list(loader)
    assert [len(b[1]) for b in batches] == [3, 3, 3, 1]
    assert batches[0][0].shape == (3, 1) and batches[0][1].dtype == chainrule.int64
    assert _ids(loader) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    dl = DataLoader(ds, batch_size=3, drop_last=True)
    assert len(dl) == 3 and [len(b[1]) for b in dl] == [3, 3, 3]
    assert len(DataLoader(ds, batch_size=5)) == 2


def test_fast_path_matches_per_sample_collate():
    ds = _tds(10)
    fast = list(DataLoader(ds, batch_size=4))
    slow = list(DataLoader(ds, batch_size=4, collate_fn=default_collate))
    for a, b in zip(fast, slow):
        assert isinstance(a, list) and isinstance(b, list)
        for ta, tb in zip(a, b):
            assert ta.dtype == tb.dtype and ta.shape == tb.shape
            np.testing.assert_array_equal(ta.numpy(), tb.numpy())
    sub = Subset(ds, [9, 2, 5])
    np.testing.assert_array_equal(next(iter(DataLoader(sub, batch_size=3)))[1].numpy(), [9, 2, 5])


def test_shuffle_seeded_differs_per_epoch():
    ds = _tds(20)
    g = chainrule.Generator().manual_seed(123)
    loader = DataLoader(ds, batch_size=5, shuffle=True, generator=g)
    e1, e2 = sum(_ids(loader), []), sum(_ids(loader), [])
    assert sorted(e1) == list(range(20)) and sorted(e2) == list(range(20))
    assert e1 != e2
    g.manual_seed(123)
    assert sum(_ids(loader), []) == e1 and sum(_ids(loader), []) == e2
    # global generator when none is given
    chainrule.manual_seed(7)
    a = sum(_ids(DataLoader(ds, batch_size=5, shuffle=True)), [])
    chainrule.manual_seed(7)
    b = sum(_ids(DataLoader(ds, batch_size=5, shuffle=True)), [])
    assert a == b and a != list(range(20))


def test_batch_size_none_and_errors():
    ds = Squares(3)
    items = list(DataLoader(ds, batch_size=None))
    assert len(items) == 3 and isinstance(items[1][0], chainrule.Tensor) and items[1][1] == 1
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, batch_sampler=BatchSampler(SequentialSampler(ds), 2, False), batch_size=2)
    with pytest.raises(ValueError, match="prefetch_factor"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers"):
        DataLoader(ds, persistent_workers=True)


def test_batch_sampler_and_iterable_dataset():
    ds = _tds(7)
    bs = BatchSampler(SequentialSampler(ds), batch_size=3, drop_last=False)
    assert list(bs) == [[0, 1, 2], [3, 4, 5], [6]] and len(bs) == 3
    assert len(BatchSampler(range(7), 3, True)) == 2
    loader = DataLoader(ds, batch_sampler=bs)
    assert _ids(loader) == [[0, 1, 2], [3, 4, 5], [6]]

    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    sl = DataLoader(Stream(), batch_size=3)
    assert len(sl) == 3
    assert [b.numpy().tolist() for b in sl] == [[0, 1, 2], [3, 4, 5], [6]]
    with pytest.raises(ValueError, match="IterableDataset"):
        DataLoader(Stream(), shuffle=True)


# ---------------------------------------------------------------------------- samplers
def test_samplers():
    ds = list(range(10))
    g = chainrule.Generator().manual_seed(0)
    rs = RandomSampler(ds, generator=g)
    assert sorted(rs) == ds and len(rs) == 10
    rs = RandomSampler(ds, num_samples=25, generator=g)
    order = list(rs)
    assert len(order) == 25 and sorted(order[:10]) == ds and sorted(order[10:20]) == ds
    rep = list(RandomSampler(ds, replacement=True, num_samples=50, generator=g))
    assert len(rep) == 50 and set(rep) <= set(ds)
    sub = list(SubsetRandomSampler([3, 5, 7], generator=g))
    assert sorted(sub) == [3, 5, 7]


def test_weighted_random_sampler_frequencies():
    w = [1.0, 2.0, 0.0, 7.0]
    s = WeightedRandomSampler(w, 20000, generator=chainrule.Generator().manual_seed(1))
    counts = np.bincount(list(s), minlength=4) / 20000
    np.testing.assert_allclose(counts, np.array(w) / 10, atol=0.015)
    assert counts[2] == 0
    no_rep = list(WeightedRandomSampler([1, 1, 1, 5], 3, replacement=False))
    assert len(set(no_rep)) == 3
    with pytest.raises(RuntimeError):
        WeightedRandomSampler([1, 0, 0], 2, replacement=False)


# ---------------------------------------------------------------------------- collate
def test_default_collate_vs_torch(torch):
    from torch.utils.data import default_collate as tcollate

    Point = collections.namedtuple("Point", "x y")
    samples = [
        {
            "a": np.arange(3, dtype=np.float64) + i,
            "b": (i, float(i), True),
            "c": np.float32(i),
            "d": f"s{i}",
            "e": Point(np.ones(2, np.int32) * i, [i, i + 1]),
            "f": chainrule.tensor([float(i)]),
        }
        for i in range(4)
    ]
    ours = default_collate(samples)
    tsamples = [dict(s, f=torch.tensor([float(i)])) for i, s in enumerate(samples)]
    ref = tcollate(tsamples)

    def check(o, r):
        if isinstance(r, torch.Tensor):
            assert isinstance(o, chainrule.Tensor)
            assert str(o.dtype).split(".")[-1] == str(r.dtype).split(".")[-1]
            np.testing.assert_array_equal(o.numpy(), r.numpy())
        elif isinstance(r, dict):
            assert type(o) is type(r) and o.keys() == r.keys()
            for k in r:
                check(o[k], r[k])
        elif isinstance(r, tuple):  # namedtuple
            assert type(o) is type(r)
            for a, b in zip(o, r):
                check(a, b)
        elif isinstance(r, list):
            assert type(o) is list and len(o) == len(r)
            for a, b in zip(o, r):
                check(a, b)
        else:
            assert o == r

    check(ours, ref)
    assert ours["a"].dtype == chainrule.float64 and ours["b"][1].dtype == chainrule.float64
    assert ours["b"][0].dtype == chainrule.int64 and ours["d"] == ["s0", "s1", "s2", "s3"]
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [1]])


# ---------------------------------------------------------------------------- split / concat
def test_random_split_lengths_like_torch(torch):
    from torch.utils.data import random_split as trs

    for n, fracs in [(10, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]), (7, [0.1, 0.2, 0.7]), (5, [3, 2])]:
        ours = random_split(range(n), fracs, generator=chainrule.Generator().manual_seed(0))
        ref = trs(range(n), fracs, generator=torch.Generator().manual_seed(0))
        assert [len(s) for s in ours] == [len(s) for s in ref]
        assert sorted(sum((list(s) for s in ours), [])) == list(range(n))
    a = random_split(range(10), [0.5, 0.5], generator=chainrule.Generator().manual_seed(3))
    b = random_split(range(10), [0.5, 0.5], generator=chainrule.Generator().manual_seed(3))
    assert list(a[0]) == list(b[0])
    with pytest.raises(ValueError):
        random_split(range(10), [3, 3])


def test_concat_dataset():
    c = ConcatDataset([Squares(3), Squares(2)])
    assert len(c) == 5 and c[3][1] == 0 and c[-1][1] == 1 and c[2][1] == 2
    assert len(Squares(2) + Squares(4)) == 6


# ---------------------------------------------------------------------------- workers
def test_workers_same_batches_same_order():
    ds = Squares(23)
    for kwargs in [dict(), dict(shuffle=True)]:
        ref = list(
            DataLoader(ds, batch_size=4, generator=chainrule.Generator().manual_seed(5), **kwargs)
        )
        got = list(
            DataLoader(
                ds,
                batch_size=4,
                num_workers=2,
                generator=chainrule.Generator().manual_seed(5),
                **kwargs,
            )
        )
        assert len(ref) == len(got) == 6
        for (x0, y0), (x1, y1) in zip(ref, got):
            np.testing.assert_array_equal(x0.numpy(), x1.numpy())
            np.testing.assert_array_equal(y0.numpy(), y1.numpy())
    # fast path inside workers, persistent workers over two epochs
    loader = DataLoader(_tds(10), batch_size=3, num_workers=2, persistent_workers=True)
    assert _ids(loader) == _ids(loader) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]


def test_worker_augmentations_differ_and_repeat():
    def run(seed):
        loader = DataLoader(
            Noisy(), batch_size=2, num_workers=2, generator=chainrule.Generator().manual_seed(seed)
        )
        return [(x.numpy(), w.numpy()) for x, w in loader]

    a, b, c = run(0), run(0), run(1)
    assert [w.tolist() for _, w in a] == [[0, 0], [1, 1], [0, 0], [1, 1]]
    for (xa, _), (xb, _) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)  # same seed -> same augmentations
    # worker 0's and worker 1's first batches differ; another seed changes them
    assert not np.allclose(a[0][0], a[1][0])
    assert not np.allclose(a[0][0], c[0][0])


def test_worker_error_is_reported():
    class Bad(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            raise KeyError(f"bad sample {i}")

    with pytest.raises(KeyError, match="bad sample"):
        list(DataLoader(Bad(), batch_size=2, num_workers=2))


class Range(IterableDataset):
    """Each worker yields its share of range(n) (the get_worker_info idiom)."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


def test_iterable_dataset_with_workers():
    got = [b.numpy().tolist() for b in DataLoader(Range(10), batch_size=2, num_workers=2)]
    # batches alternate between the workers until each is exhausted
    assert got == [[0, 2], [1, 3], [4, 6], [5, 7], [8], [9]]
    got = [b.numpy().tolist() for b in DataLoader(Range(7), batch_size=2, num_workers=2,
                                                  drop_last=True)]  # fmt: skip
    assert got == [[0, 2], [1, 3], [4, 6]]


def test_spawn_context():
    ds = _tds(9)
    loader = DataLoader(ds, batch_size=4, num_workers=2, multiprocessing_context="spawn")
    assert _ids(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8]]
