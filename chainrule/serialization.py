"""Checkpoints: ``chainrule.save(obj, path)`` and ``chainrule.load(path)``, never pickle.

A checkpoint is one `safetensors <https://github.com/huggingface/safetensors>`_ file. Every
Tensor and NumPy array in ``obj`` is stored as a named array of the file (dtype and shape
kept exactly, 0-d arrays included); the nested structure around them (dicts with any
hashable keys such as an optimizer's int keys, lists, tuples, numbers, strings, ``None``)
is written as one JSON document in the file's ``__metadata__``, with references to the
array names. Loading parses JSON and copies bytes: it never unpickles and never runs code,
so opening a checkpoint from a stranger is safe.

Writes are atomic: the bytes go to a temporary file in the same directory, which is
flushed, ``fsync``-ed and then renamed over ``path`` (``os.replace``). A crash or a kill in
the middle of a save leaves the previous file untouched.

Example:
    >>> ckpt = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}
    >>> chainrule.save(ckpt, "ckpt.safetensors")
    >>> ckpt = chainrule.load("ckpt.safetensors")
    >>> model.load_state_dict(ckpt["model"]); opt.load_state_dict(ckpt["optimizer"])

The arrays can also be read by any safetensors reader (``safetensors.numpy.load_file``);
their names follow the path in ``obj``, e.g. ``model/fc.weight`` or
``optimizer/state/0/exp_avg``.
"""

from __future__ import annotations

import json
import math
import os
import struct
import tempfile
from collections import Counter, OrderedDict
from typing import Any

import numpy as np

from chainrule import dtypes
from chainrule.backend import Device, cpu, to_device, to_numpy
from chainrule.backend import device as _parse_device
from chainrule.tensor import Tensor

__all__ = ["save", "load"]

FORMAT_NAME = "chainrule"
FORMAT_VERSION = 1
_METADATA_KEY = "chainrule"  # the JSON structure, in the safetensors ``__metadata__``
_MAX_HEADER = 100_000_000  # safetensors' own limit on the JSON header

# Dict subclasses whose type is kept (scheduler state holds a Counter, state_dicts are
# OrderedDicts). Other mappings come back as plain dicts.
_DICT_TYPES = {"dict": dict, "OrderedDict": OrderedDict, "Counter": Counter}


# ---------------------------------------------------------------- save
def save(obj: Any, f) -> None:
    """Save a nested structure of Tensors, arrays and plain values to a safetensors file.

    Args:
        obj: dicts (any keys of the supported kinds), lists, tuples, sets, Tensors (and
            Parameters), NumPy arrays and scalars, ``int``, ``float`` (inf and nan too),
            ``str``, ``bool``, ``None``, ``bytes``, devices and dtypes.
        f: a path (``str`` or ``os.PathLike``), written atomically; or a binary file object.

    A Tensor or array that appears several times is stored once, and comes back as one
    object. Raises ``TypeError`` naming the place of an object it cannot store.
    """
    encoder = _Encoder()
    structure = {"format_version": FORMAT_VERSION, "root": encoder.encode(obj, ())}
    metadata = {"format": FORMAT_NAME, _METADATA_KEY: json.dumps(structure, allow_nan=False)}
    if hasattr(f, "write"):
        from safetensors.numpy import save as st_save

        f.write(st_save(encoder.arrays, metadata=metadata))
        return
    _atomic_save(encoder.arrays, metadata, os.fspath(f))


def _atomic_save(arrays: dict, metadata: dict, path: str) -> None:
    from safetensors.numpy import save_file

    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        os.close(fd)
        save_file(arrays, tmp, metadata=metadata)
        with open(tmp, "rb+") as fh:  # the data must be on disk before the rename
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _where(path: tuple) -> str:
    return "obj" + "".join(f"[{p!r}]" for p in path)


class _Encoder:
    """Turns ``obj`` into JSON-able nodes; arrays are collected in ``self.arrays``."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self._memo: dict[int, str] = {}  # id(tensor or array) -> its array name
        self._keep: list = []  # keeps memoised objects alive (ids stay unique)

    def encode(self, obj, path: tuple):
        if obj is None or isinstance(obj, bool | str):
            return obj
        if isinstance(obj, np.generic):
            if isinstance(obj, np.bool_ | np.number):
                return {
                    "type": "numpy_scalar",
                    "key": self._array(np.asarray(obj), path, scalar=True),
                }
            raise TypeError(f"chainrule.save: cannot save a {type(obj).__name__} at {_where(path)}")
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"type": "float", "value": repr(float(obj))}
        if isinstance(obj, Tensor):
            node = {"type": "tensor", "key": self._array(obj, path)}
            node["device"] = str(obj.device)
            if obj.requires_grad:
                node["requires_grad"] = True
            return node
        if isinstance(obj, np.ndarray):
            return {"type": "ndarray", "key": self._array(obj, path)}
        if isinstance(obj, dict):
            kind = type(obj).__name__ if type(obj).__name__ in _DICT_TYPES else "dict"
            items = []
            for k, v in obj.items():
                items.append([self._key(k, path), self.encode(v, (*path, k))])
            node = {"type": "dict", "items": items}
            if kind != "dict":
                node["class"] = kind
            return node
        if isinstance(obj, list):
            return [self.encode(v, (*path, i)) for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            return {
                "type": "tuple",
                "items": [self.encode(v, (*path, i)) for i, v in enumerate(obj)],
            }
        if isinstance(obj, set | frozenset):
            items = sorted((self.encode(v, (*path, "<set>")) for v in obj), key=json.dumps)
            return {"type": type(obj).__name__, "items": items}
        if isinstance(obj, bytes):
            return {"type": "bytes", "hex": obj.hex()}
        if isinstance(obj, Device):
            return {"type": "device", "value": str(obj)}
        if isinstance(obj, dtypes.DType):
            return {"type": "dtype", "value": obj.name}
        raise TypeError(
            f"chainrule.save: cannot save an object of type {type(obj).__module__}."
            f"{type(obj).__qualname__} at {_where(path)}; a checkpoint holds Tensors, NumPy "
            "arrays, dicts, lists, tuples, numbers, strings, bools and None (save a "
            "state_dict() rather than a module or an optimizer)"
        )

    def _key(self, key, path: tuple):
        """Dict keys are encoded like values, restricted to hashable, immutable kinds."""
        if key is None or isinstance(key, bool | int | float | str | bytes | tuple | frozenset):
            return self.encode(key, (*path, "<key>"))
        raise TypeError(
            f"chainrule.save: cannot save a dict key of type {type(key).__name__} at {_where(path)}"
        )

    def _array(self, obj, path: tuple, scalar: bool = False) -> str:
        name = None if scalar else self._memo.get(id(obj))
        if name is not None:
            return name
        array = to_numpy(obj.data if isinstance(obj, Tensor) else obj)
        if array.dtype.kind not in "biuf" or array.dtype.itemsize > 8:
            raise TypeError(
                f"chainrule.save: cannot save an array of dtype {array.dtype} at {_where(path)} "
                "(supported: bool, integers, float16/32/64)"
            )
        if not array.flags.c_contiguous:  # (np.ascontiguousarray would make 0-d arrays 1-d)
            array = array.copy(order="C")
        if not array.dtype.isnative:
            array = array.astype(array.dtype.newbyteorder("="))
        name = "/".join(str(p) for p in path) or "root"
        if name in self.arrays or name == "__metadata__":
            n = 1
            while f"{name}#{n}" in self.arrays:
                n += 1
            name = f"{name}#{n}"
        self.arrays[name] = array
        self._memo[id(obj)] = name
        self._keep.append(obj)
        return name


# ---------------------------------------------------------------- load
def load(f, map_location=None, weights_only: bool = True) -> Any:
    """Load what :func:`save` wrote: Tensors come back as Tensors, arrays as arrays.

    Args:
        f: a path or a binary file object.
        map_location: ``None`` puts each Tensor back on the device it was saved from;
            ``"cpu"``, ``"cuda:0"`` or a Device puts all of them there.
        weights_only: accepted for PyTorch compatibility; loading never runs code anyway.

    Parameters come back as plain Tensors (``requires_grad`` kept). Raises ``ValueError``
    naming the file when it is truncated, corrupt, or not a chainrule checkpoint.
    """
    if hasattr(f, "read"):
        data = f.read()
        name = getattr(f, "name", "<file object>")
    else:
        name = os.fspath(f)
        with open(name, "rb") as fh:
            data = fh.read()
    header = _read_header(data, name)
    metadata = header.get("__metadata__")
    if not isinstance(metadata, dict) or _METADATA_KEY not in metadata:
        raise ValueError(
            f"{name!s}: a safetensors file without chainrule metadata (written by another "
            "tool?): chainrule.load needs a file written by chainrule.save. Read its arrays "
            "with safetensors.numpy.load_file instead."
        )
    try:
        structure = json.loads(metadata[_METADATA_KEY])
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name!s}: corrupt chainrule checkpoint: bad metadata JSON ({e})") from e
    if not isinstance(structure, dict) or "root" not in structure:
        raise ValueError(f"{name!s}: corrupt chainrule checkpoint: metadata has no 'root'")
    version = structure.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{name!s}: checkpoint format version {version!r} is newer than this chainrule "
            f"understands ({FORMAT_VERSION}); upgrade chainrule"
        )
    arrays = _read_arrays(data, name)
    dev = _parse_device(map_location) if map_location is not None else None
    return _Decoder(arrays, name, dev).decode(structure["root"])


def _read_header(data: bytes, name: str) -> dict:
    """The safetensors JSON header, checked against the file's size before any parsing."""
    what = f"{name!s} is not a chainrule checkpoint"
    n = struct.unpack("<Q", data[:8])[0] if len(data) >= 8 else None
    if n is None or n > len(data) - 8 or n > _MAX_HEADER:
        if data[:1] == b"\x80" or data[:2] == b"PK":
            kind = "a pickle" if data[:1] == b"\x80" else "a zip archive (torch.save?)"
            raise ValueError(
                f"{what}: it looks like {kind}; chainrule never unpickles (files from "
                "torch.save or pickle cannot be loaded)"
            )
        if n is None:
            raise ValueError(f"{what}: the file has only {len(data)} bytes (empty or truncated)")
        raise ValueError(
            f"{what}, or it is truncated: its first 8 bytes announce a {n}-byte header but only "
            f"{len(data) - 8} bytes follow (not a safetensors file, e.g. text or a pickle?)"
        )
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError(f"{what}: the safetensors header is not valid JSON ({e})") from e
    if not isinstance(header, dict):
        raise ValueError(f"{what}: the safetensors header is not a JSON object")
    body = len(data) - 8 - n
    end = 0
    for key, info in header.items():
        if key == "__metadata__":
            continue
        try:
            end = max(end, int(info["data_offsets"][1]))
        except (TypeError, KeyError, IndexError, ValueError) as e:
            raise ValueError(f"{what}: corrupt header entry for array {key!r}") from e
    if end != body:
        state = "truncated" if end > body else "corrupt (trailing bytes)"
        raise ValueError(
            f"{name!s}: {state} checkpoint: the header describes {end} bytes of array data but "
            f"the file holds {body}"
        )
    return header


def _read_arrays(data: bytes, name: str) -> dict[str, np.ndarray]:
    from safetensors.numpy import load as st_load

    try:
        return st_load(data)
    except Exception as e:  # SafetensorError: bad dtype, offsets, shapes...
        raise ValueError(f"{name!s}: corrupt checkpoint: {e}") from e


class _Decoder:
    def __init__(self, arrays: dict, name: str, dev: Device | None) -> None:
        self.arrays = arrays
        self.name = name
        self.dev = dev
        self._memo: dict[str, Any] = {}

    def _corrupt(self, what: str) -> ValueError:
        return ValueError(f"{self.name!s}: corrupt chainrule checkpoint: {what}")

    def decode(self, node):
        if node is None or isinstance(node, bool | int | float | str):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            raise self._corrupt(f"unexpected node {node!r}")
        kind = node.get("type")
        try:
            if kind == "dict":
                cls = _DICT_TYPES.get(node.get("class", "dict"))
                if cls is None:
                    raise self._corrupt(f"unknown dict class {node.get('class')!r}")
                return cls({self.decode(k): self.decode(v) for k, v in node["items"]})
            if kind == "tuple":
                return tuple(self.decode(v) for v in node["items"])
            if kind in ("set", "frozenset"):
                items = (self.decode(v) for v in node["items"])
                return set(items) if kind == "set" else frozenset(items)
            if kind in ("tensor", "ndarray", "numpy_scalar"):
                return self._array(node, kind)
            if kind == "float":
                if node["value"] not in ("inf", "-inf", "nan"):
                    raise self._corrupt(f"bad float {node['value']!r}")
                return float(node["value"])
            if kind == "bytes":
                return bytes.fromhex(node["hex"])
            if kind == "device":
                return _parse_device(node["value"])
            if kind == "dtype":
                return dtypes.get(node["value"])
        except (KeyError, TypeError) as e:
            raise self._corrupt(f"malformed {kind} node ({e!r})") from e
        raise self._corrupt(f"unknown node type {kind!r}")

    def _array(self, node: dict, kind: str):
        key = node["key"]
        memo_key = f"{kind}:{key}"
        if memo_key in self._memo:
            return self._memo[memo_key]
        if key not in self.arrays:
            raise self._corrupt(f"the structure refers to a missing array {key!r}")
        array = self.arrays[key]
        if not array.flags.writeable:
            array = array.copy()
        if kind == "ndarray":
            out = array
        elif kind == "numpy_scalar":
            out = array[()]
        else:
            dev = self.dev or _parse_device(node.get("device", "cpu"))
            if dev.type != "cpu":
                try:
                    data = to_device(array, dev)
                except RuntimeError as e:
                    raise RuntimeError(
                        f"{self.name!s}: a tensor was saved on {dev}, which is not available "
                        f"here ({e}); pass map_location='cpu' to chainrule.load"
                    ) from e
                out = Tensor._make(data, dev)
            else:
                out = Tensor._make(array, cpu)
            if node.get("requires_grad") and array.dtype.kind == "f":
                out.requires_grad = True
        self._memo[memo_key] = out
        return out
