"""DataLoader: batches from a dataset, optionally shuffled, optionally by worker processes.

PyTorch's ``torch.utils.data.DataLoader`` semantics:

* a sampler orders the indices (sequential, or random when ``shuffle=True``), a
  :class:`BatchSampler` groups them, ``collate_fn`` (default :func:`default_collate`) turns a
  list of samples into one batch;
* every pass (``iter(loader)``) first draws a 63-bit *base seed* from ``generator`` (or the
  global chainrule generator), then the sampler draws its own per-pass seed: the same seed gives
  the same orders, and each epoch differs;
* fast path: when the dataset has a ``_get_batch(indices)`` method (TensorDataset, the bundled
  datasets without transforms) and the collate function is the default, a batch is one
  fancy-index per array instead of one Python call per sample;
* ``num_workers > 0``: worker processes (``fork`` where the platform has it, else ``spawn``)
  fetch whole batches; batch ``i`` goes to worker ``i % num_workers`` and batches come back in
  sampler order. Worker ``k`` is seeded with ``base_seed + k`` (Python's ``random``, NumPy's
  legacy global ``np.random`` and chainrule's global generator), so random augmentations differ
  across workers and repeat for the same seed. :func:`get_worker_info` tells code in a worker
  which one it is.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import queue
import random
import time
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.data.collate import default_collate, default_convert
from chainrule.data.dataset import Dataset, IterableDataset, _numpy_rng
from chainrule.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from chainrule.tensor import Tensor


# ---------------------------------------------------------------------------- worker info
@dataclass(frozen=True)
class WorkerInfo:
    """What a worker process knows about itself: ``id``, ``num_workers``, ``seed``, ``dataset``."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker: its :class:`WorkerInfo` (its own copy of the dataset included).

    In the main process: None. Use it in an ``IterableDataset.__iter__`` to split the stream, or
    in ``worker_init_fn`` to configure each copy of the dataset.
    """
    return _worker_info


def _seed_everything(seed: int) -> None:
    import chainrule.random as crandom

    random.seed(seed)
    np.random.seed(seed % 2**32)
    crandom.manual_seed(seed)


# ---------------------------------------------------------------------------- fetching
class _IterableEnd:
    """Marker: this worker's iterator is exhausted."""


class _InfiniteConstantSampler(Sampler):
    """For iterable datasets: yields None forever (the dataset decides when to stop)."""

    def __iter__(self):
        while True:
            yield None


class _Fetcher:
    """Turns what the sampler yields into a batch (runs in the main process or a worker)."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last, batch_size, fast):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.batch_size = batch_size
        self.fast = fast
        self.iterable = isinstance(dataset, IterableDataset)
        self._it = None

    def reset(self):
        self._it = iter(self.dataset) if self.iterable else None

    def fetch(self, index):
        if self.iterable:
            if self._it is None:
                self.reset()
            if not self.auto_collation:
                return self.collate_fn(next(self._it))
            data = list(itertools.islice(self._it, self.batch_size))
            if not data or (self.drop_last and len(data) < self.batch_size):
                raise StopIteration
            return self.collate_fn(data)
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.fast:
            return self.dataset._get_batch(np.asarray(index, dtype=np.int64))
        getitems = getattr(self.dataset, "__getitems__", None)
        data = getitems(index) if getitems else [self.dataset[i] for i in index]
        return self.collate_fn(data)


class _ExceptionWrapper:
    """An exception raised in a worker, carried back as text (exceptions may not pickle)."""

    def __init__(self, exc: BaseException, where: str):
        self.exc_type = type(exc)
        self.msg = f"Caught {type(exc).__name__} {where}.\nOriginal {traceback.format_exc()}"

    def reraise(self):
        try:
            err = self.exc_type(self.msg)
        except Exception:
            err = RuntimeError(self.msg)
        raise err


def _worker_loop(
    dataset, fetcher, index_queue, result_queue, worker_id, num_workers, seed, init_fn
):
    global _worker_info
    _seed_everything(seed)
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    init_error = None
    if init_fn is not None:
        try:
            init_fn(worker_id)
        except Exception as e:
            init_error = _ExceptionWrapper(e, f"in worker_init_fn of DataLoader worker {worker_id}")
    epoch = None
    while True:
        try:
            task = index_queue.get()
        except (EOFError, OSError, KeyboardInterrupt):
            break
        if task is None:
            break
        task_epoch, task_id, index = task
        if init_error is not None:
            result_queue.put((task_epoch, task_id, init_error))
            continue
        if task_epoch != epoch:  # a new pass: restart the iterable dataset's stream
            epoch = task_epoch
            fetcher.reset()
        try:
            data = fetcher.fetch(index)
        except StopIteration:
            data = _IterableEnd()
        except Exception as e:
            data = _ExceptionWrapper(e, f"in DataLoader worker process {worker_id}")
        result_queue.put((task_epoch, task_id, data))


# ---------------------------------------------------------------------------- iterators
def _move(batch, device):
    if isinstance(batch, Tensor):
        return batch.to(device)
    if isinstance(batch, dict):
        return {k: _move(v, device) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(_move(v, device) for v in batch))
    if isinstance(batch, list | tuple):
        return type(batch)(_move(v, device) for v in batch)
    return batch


class _SingleProcessIter:
    def __init__(self, loader: DataLoader):
        self._device = loader.device
        self._fetcher = loader._make_fetcher()
        self._fetcher.reset()
        self._sampler_iter = iter(loader._index_sampler)

    def __iter__(self):
        return self

    def __next__(self):
        index = next(self._sampler_iter)
        data = self._fetcher.fetch(index)
        return data if self._device is None else _move(data, self._device)


class _MultiProcessIter:
    # NOTE: no reference back to the loader: a loader <-> iterator cycle (persistent workers)
    # would be freed by the garbage collector, which closes the queues' feeder threads before
    # any __del__ runs, so the workers would never hear the shutdown message.
    def __init__(self, loader: DataLoader, base_seed: int):
        self._index_sampler = loader._index_sampler
        self._device = loader.device
        self._num_workers = loader.num_workers
        self._prefetch = loader.prefetch_factor * loader.num_workers
        self._timeout = loader.timeout
        self._persistent = loader.persistent_workers
        self._iterable = isinstance(loader.dataset, IterableDataset)
        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        if isinstance(ctx, str):
            ctx = mp.get_context(ctx)
        self._result_queue = ctx.Queue()
        self._index_queues, self._workers = [], []
        fetcher = loader._make_fetcher()
        for wid in range(self._num_workers):
            iq = ctx.Queue()
            w = ctx.Process(
                target=_worker_loop,
                args=(
                    loader.dataset,
                    fetcher,
                    iq,
                    self._result_queue,
                    wid,
                    self._num_workers,
                    base_seed + wid,
                    loader.worker_init_fn,
                ),
                daemon=True,
            )
            w.start()
            self._index_queues.append(iq)
            self._workers.append(w)
        self._shutdown = False
        self._epoch = -1
        self._reset()

    def _reset(self):
        self._epoch += 1
        self._sampler_iter = iter(self._index_sampler)
        self._send_idx = 0
        self._rcvd_idx = 0
        self._tasks: dict[int, list] = {}  # task id -> [worker id] or [worker id, data]
        self._active = [True] * self._num_workers
        self._next_worker = itertools.cycle(range(self._num_workers))
        for _ in range(self._prefetch):
            self._put_index()

    def _put_index(self):
        if self._iterable:
            index = None
        else:
            try:
                index = next(self._sampler_iter)
            except StopIteration:
                return
        for _ in range(self._num_workers):
            wid = next(self._next_worker)
            if self._active[wid]:
                break
        else:
            return
        self._index_queues[wid].put((self._epoch, self._send_idx, index))
        self._tasks[self._send_idx] = [wid]
        self._send_idx += 1

    def _get_result(self):
        start = time.monotonic()
        while True:
            try:
                return self._result_queue.get(timeout=1.0)
            except queue.Empty:
                dead = [w for w in self._workers if not w.is_alive()]
                if dead:
                    self._shutdown_workers()
                    pids = ", ".join(str(w.pid) for w in dead)
                    raise RuntimeError(
                        f"DataLoader worker (pid(s) {pids}) exited unexpectedly"
                    ) from None
                if self._timeout > 0 and time.monotonic() - start > self._timeout:
                    self._shutdown_workers()
                    raise RuntimeError(
                        f"DataLoader timed out after {self._timeout} seconds"
                    ) from None

    def __iter__(self):
        return self

    def __next__(self):
        while True:
            # Skip tasks that went to an exhausted (iterable) worker and have no result.
            while self._rcvd_idx < self._send_idx:
                info = self._tasks.get(self._rcvd_idx)
                if info is not None and (len(info) == 2 or self._active[info[0]]):
                    break
                self._tasks.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            info = self._tasks[self._rcvd_idx]
            if len(info) == 2:
                del self._tasks[self._rcvd_idx]
                self._rcvd_idx += 1
                self._put_index()
                return self._process(info[1])
            epoch, idx, data = self._get_result()
            if epoch != self._epoch or idx not in self._tasks:
                continue  # left over from an abandoned pass
            if isinstance(data, _IterableEnd):
                self._active[self._tasks.pop(idx)[0]] = False
                self._put_index()
                continue
            if idx != self._rcvd_idx:
                self._tasks[idx].append(data)
                continue
            del self._tasks[idx]
            self._rcvd_idx += 1
            self._put_index()
            return self._process(data)

    def _process(self, data):
        if isinstance(data, _ExceptionWrapper):
            self._shutdown_workers()
            data.reraise()
        return data if self._device is None else _move(data, self._device)

    def _shutdown_workers(self, graceful: bool = True):
        if self._shutdown:
            return
        self._shutdown = True
        if graceful:
            for q in self._index_queues:
                try:
                    q.put(None)
                except Exception:
                    pass
        for w in self._workers:
            if graceful:
                w.join(timeout=5)
            if w.is_alive():
                w.terminate()
                w.join(timeout=1)
        for q in [*self._index_queues, self._result_queue]:
            q.cancel_join_thread()
            q.close()

    def __del__(self):
        try:
            self._shutdown_workers(graceful=False)
        except Exception:
            pass


# ---------------------------------------------------------------------------- DataLoader
class DataLoader:
    """Iterate over a dataset in (shuffled) batches.

    Args:
        dataset: a map-style :class:`Dataset` (``__getitem__``/``__len__``) or an
            :class:`IterableDataset`.
        batch_size: samples per batch; None disables batching (samples are only converted).
        shuffle: a new random order every epoch (map-style datasets only).
        sampler: the order of indices (exclusive with ``shuffle``).
        batch_sampler: yields lists of indices (exclusive with batch_size, shuffle, sampler,
            drop_last).
        num_workers: worker processes (0: load in the main process).
        collate_fn: list of samples -> batch (default :func:`default_collate`).
        pin_memory: accepted for compatibility; does nothing.
        drop_last: drop the last incomplete batch.
        timeout: seconds to wait for a worker's batch (0: forever).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after seeding.
        generator: ``chainrule.Generator`` (or NumPy Generator) for the per-epoch seeds
            (global generator when None).
        prefetch_factor: batches in flight per worker (default 2 when ``num_workers > 0``).
        persistent_workers: keep the workers between epochs.
        device: extension: move every Tensor of each batch to this device.

    Example:
        >>> ds = TensorDataset(chainrule.randn(10, 3), chainrule.arange(10))
        >>> for x, y in DataLoader(ds, batch_size=4, shuffle=True):
        ...     pass  # x: (4, 3) float32, y: (4,) int64; the last batch has 2
    """

    def __init__(
        self,
        dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler=None,
        batch_sampler=None,
        num_workers: int = 0,
        collate_fn=None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn=None,
        multiprocessing_context=None,
        generator=None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
        device=None,
    ):
        if num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable "
                "multiprocessing."
            )
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing."
                "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor "
                "to None."
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        if isinstance(dataset, IterableDataset):
            if shuffle not in {False, None}:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified shuffle option, "
                    f"but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified sampler option, "
                    f"but got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler "
                    f"option, but got batch_sampler={batch_sampler}"
                )
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive "
                "with drop_last"
            )

        if sampler is None:
            if isinstance(dataset, IterableDataset):
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self.device = device
        self._default_collate = collate_fn is None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._iterator = None

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def _make_fetcher(self) -> _Fetcher:
        fast = (
            self._auto_collation
            and self._default_collate
            and not isinstance(self.dataset, IterableDataset)
            and hasattr(self.dataset, "_get_batch")
        )
        return _Fetcher(
            self.dataset,
            self._auto_collation,
            self.collate_fn,
            self.drop_last,
            self.batch_size,
            fast,
        )

    def __iter__(self):
        # Drawn every pass, as in PyTorch, so the sampler's seeds do not depend on num_workers.
        base_seed = int(_numpy_rng(self.generator).integers(0, 2**62))
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if self.persistent_workers:
            if self._iterator is None:
                self._iterator = _MultiProcessIter(self, base_seed)
            else:
                self._iterator._reset()
            return self._iterator
        return _MultiProcessIter(self, base_seed)

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)

    def __del__(self):
        it = self.__dict__.get("_iterator")
        if it is not None:
            it._shutdown_workers(graceful=False)


__all__ = ["DataLoader", "Dataset", "WorkerInfo", "get_worker_info"]
