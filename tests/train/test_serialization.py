"""chainrule.save / chainrule.load: round trips, atomic writes, clear errors, no pickle."""

import io
import json
import math
import os
import pickle
import signal
import struct
import subprocess
import sys
import textwrap
from collections import Counter, OrderedDict

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.optim import lr_scheduler
from chainrule.serialization import load, save

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def trained_state():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = lr_scheduler.MultiStepLR(opt, milestones=[1, 3], gamma=0.5)
    for _ in range(2):
        opt.zero_grad()
        model(chainrule.randn(5, 3)).sum().backward()
        opt.step()
        sched.step()
    plateau = lr_scheduler.ReduceLROnPlateau(opt)  # holds inf
    return model, opt, sched, plateau


def assert_same(a, b, where="obj"):
    """Deep equality with types: Tensors and arrays by dtype, shape and values."""
    if isinstance(a, chainrule.Tensor):
        assert type(b) is chainrule.Tensor, where
        assert b.dtype == a.dtype and tuple(b.shape) == tuple(a.shape), where
        np.testing.assert_array_equal(b.detach().numpy(), a.detach().numpy(), err_msg=where)
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and b.dtype == a.dtype and b.shape == a.shape, where
        np.testing.assert_array_equal(b, a, err_msg=where)
    elif isinstance(a, np.generic):
        assert type(b) is type(a) and b == a, where
    elif isinstance(a, dict):
        assert type(b) is type(a), where
        assert list(b.keys()) == list(a.keys()), where
        for k in a:
            assert type(k) is type(next(kb for kb in b if kb == k)), where
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, list | tuple):
        assert type(b) is type(a) and len(b) == len(a), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert isinstance(b, float) and math.isnan(b), where
    else:
        assert type(b) is type(a) and b == a, where


def test_round_trip_of_a_full_training_state(tmp_path):
    model, opt, sched, plateau = trained_state()
    ckpt = {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "plateau": plateau.state_dict(),
        "epoch": 3,
        "rng": chainrule.get_rng_state(),
        "config": {"lr": 1e-3, "name": "mlp", "layers": [3, 4, 2], "dropout": None},
    }
    path = tmp_path / "ckpt.safetensors"
    save(ckpt, path)
    back = load(path)
    assert_same(ckpt, back)
    # the pieces that need exact types: int keys, Counter, tuples, inf, 0-d float32 step
    assert list(back["optimizer"]["state"]) == [0, 1, 2, 3]
    assert isinstance(back["scheduler"]["milestones"], Counter)
    assert isinstance(back["model"], OrderedDict)
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["plateau"]["best"] == math.inf
    step = back["optimizer"]["state"][0]["step"]
    assert step.shape == () and step.dtype == chainrule.float32
    assert back["rng"]["state"]["state"] == ckpt["rng"]["state"]["state"]  # 128-bit ints

    # and the loaded states drive fresh objects to the same place
    model2, opt2, sched2, _ = trained_state()
    model2.load_state_dict(back["model"])
    opt2.load_state_dict(back["optimizer"])
    sched2.load_state_dict(back["scheduler"])
    assert sched2.get_last_lr() == sched.get_last_lr()
    for o, m in ((opt, model), (opt2, model2)):
        o.zero_grad()
        m(chainrule.ones(2, 3)).sum().backward()
        o.step()
    for p, q in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_dtypes_zero_d_numpy_and_python_values(tmp_path):
    obj = {
        "f64": np.arange(6, dtype=np.float64).reshape(2, 3),
        "f16": np.array([1.5, -2.0], dtype=np.float16),
        "i64": np.array([2**40, -1], dtype=np.int64),
        "i32_0d": np.array(7, dtype=np.int32),
        "u8": np.array([0, 255], dtype=np.uint8),
        "bool": np.array([[True, False]]),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "noncontig": np.arange(12.0).reshape(3, 4)[:, ::2],
        "scalar_f32": np.float32(2.5),
        "scalar_i64": np.int64(-3),
        "t_bool": chainrule.tensor([True, False]),
        "t_long_0d": chainrule.tensor(5),
        "t_f64": chainrule.tensor([1.0, 2.0], dtype=chainrule.float64),
        "inf": -math.inf,
        "nan": math.nan,
        "tuple": (1, "a", None, True, 2.5),
        "set": {1, 2},
        "bytes": b"\x00\xff",
        7: "int key",
        None: "None key",
        (1, "x"): "tuple key",
        2.5: "float key",
        True: "bool value is not a key clash",
        "device": chainrule.device("cpu"),
        "dtype": chainrule.int64,
    }
    path = tmp_path / "values.safetensors"
    save(obj, path)
    back = load(path)
    expected = dict(obj)
    expected["noncontig"] = np.ascontiguousarray(obj["noncontig"])
    expected.pop("set")
    expected.pop("device")
    expected.pop("dtype")
    back_set, back_dev, back_dt = back.pop("set"), back.pop("device"), back.pop("dtype")
    assert_same(expected, back)
    assert back_set == {1, 2} and back_dev == chainrule.device("cpu")
    assert back_dt == chainrule.int64
    assert back["t_long_0d"].shape == () and back["i32_0d"].shape == ()


def test_parameters_come_back_as_tensors_and_shared_objects_stay_shared(tmp_path):
    lin = nn.Linear(2, 2)
    arr = np.ones(3)
    save({"w": lin.weight, "again": lin.weight, "a": arr, "b": arr}, tmp_path / "p.st")
    back = load(tmp_path / "p.st")
    assert type(back["w"]) is chainrule.Tensor and back["w"].requires_grad
    assert back["w"] is back["again"] and back["a"] is back["b"]
    back["a"][0] = 5.0  # loaded arrays are writable copies
    assert arr[0] == 1.0


def test_file_objects_and_readable_array_names(tmp_path):
    from safetensors.numpy import load_file

    model, opt, _, _ = trained_state()
    buf = io.BytesIO()
    save({"model": model.state_dict(), "optimizer": opt.state_dict()}, buf)
    buf.seek(0)
    back = load(buf)
    assert_same(model.state_dict(), back["model"])
    save({"model": model.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "c.st")
    names = set(load_file(tmp_path / "c.st"))
    assert {"model/0.weight", "model/2.bias", "optimizer/state/0/exp_avg"} <= names


def test_unsupported_objects_raise_type_error_naming_the_place(tmp_path):
    with pytest.raises(TypeError, match=r"\['config'\]\['fn'\].*state_dict"):
        save({"config": {"fn": lambda x: x}}, tmp_path / "x.st")
    with pytest.raises(TypeError, match="Linear"):
        save(nn.Linear(2, 2), tmp_path / "x.st")
    with pytest.raises(TypeError, match="complex"):
        save({"z": np.array([1j])}, tmp_path / "x.st")
    assert not os.listdir(tmp_path)  # nothing, not even a temporary file, is left


def test_map_location(tmp_path):
    save({"t": chainrule.ones(2)}, tmp_path / "m.st")
    assert load(tmp_path / "m.st", map_location="cpu")["t"].device == chainrule.device("cpu")


# ---------------------------------------------------------------- errors
def good_file(tmp_path):
    path = tmp_path / "good.safetensors"
    save({"w": np.arange(100, dtype=np.float32), "epoch": 1}, path)
    return path


def test_truncated_file_raises_naming_the_file(tmp_path):
    data = good_file(tmp_path).read_bytes()
    for cut in (0, 5, 8, 20, len(data) - 100, len(data) - 1):
        bad = tmp_path / f"cut{cut}.safetensors"
        bad.write_bytes(data[:cut])
        with pytest.raises(ValueError, match=f"cut{cut}.safetensors.*(truncated|too short|only)"):
            load(bad)


def test_foreign_files_raise_clear_errors(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("just some text, not a checkpoint at all\n" * 3)
    with pytest.raises(ValueError, match="notes.txt is not a chainrule checkpoint"):
        load(text)

    pkl = tmp_path / "model.pkl"
    pkl.write_bytes(pickle.dumps({"w": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="model.pkl.*pickle.*never unpickles"):
        load(pkl)

    from safetensors.numpy import save_file

    plain = tmp_path / "plain.safetensors"
    save_file({"w": np.ones(3, dtype=np.float32)}, str(plain))
    with pytest.raises(ValueError, match="plain.safetensors.*without chainrule metadata"):
        load(plain)
    other = tmp_path / "other.safetensors"
    save_file({"w": np.ones(3, dtype=np.float32)}, str(other), metadata={"format": "pt"})
    with pytest.raises(ValueError, match="other.safetensors.*without chainrule metadata"):
        load(other)


def test_corrupt_header_and_structure_raise(tmp_path):
    data = good_file(tmp_path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])

    def write(name, new_header, body=data[8 + n :]):
        raw = json.dumps(new_header).encode()
        path = tmp_path / name
        path.write_bytes(struct.pack("<Q", len(raw)) + raw + body)
        return path

    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(data[:8] + b"\xff" * n + data[8 + n :])
    with pytest.raises(ValueError, match="garbage.safetensors.*not valid JSON"):
        load(garbage)

    meta = dict(header["__metadata__"])
    meta["chainrule"] = "{not json"
    with pytest.raises(ValueError, match="badjson.safetensors.*metadata JSON"):
        load(write("badjson.safetensors", {**header, "__metadata__": meta}))

    structure = json.loads(header["__metadata__"]["chainrule"])
    structure["root"]["items"][0][1]["key"] = "missing"
    meta["chainrule"] = json.dumps(structure)
    with pytest.raises(ValueError, match="dangling.safetensors.*missing array"):
        load(write("dangling.safetensors", {**header, "__metadata__": meta}))

    structure["root"] = {"type": "module", "code": "os.system('echo hi')"}
    meta["chainrule"] = json.dumps(structure)
    with pytest.raises(ValueError, match="evil.safetensors.*unknown node type 'module'"):
        load(write("evil.safetensors", {**header, "__metadata__": meta}))

    structure["format_version"] = 99
    meta["chainrule"] = json.dumps(structure)
    with pytest.raises(ValueError, match="future.safetensors.*version 99"):
        load(write("future.safetensors", {**header, "__metadata__": meta}))

    extra = tmp_path / "extra.safetensors"
    extra.write_bytes(data + b"\x00" * 16)
    with pytest.raises(ValueError, match="extra.safetensors.*trailing"):
        load(extra)


def test_loading_never_unpickles(tmp_path, monkeypatch):
    model, opt, sched, _ = trained_state()
    path = tmp_path / "ckpt.safetensors"
    save({"model": model.state_dict(), "opt": opt.state_dict(), "s": sched.state_dict()}, path)

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle was used")

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    monkeypatch.setattr(np, "load", forbidden)
    back = load(path)
    assert_same(model.state_dict(), back["model"])


# ---------------------------------------------------------------- atomic writes
def test_failed_save_keeps_the_previous_file_and_cleans_up(tmp_path, monkeypatch):
    path = good_file(tmp_path)
    before = path.read_bytes()

    def crash(fd):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk on fire"):
        save({"w": np.zeros(10)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["good.safetensors"]


WRITER = textwrap.dedent(
    """
    import os
    import sys
    import time
    import numpy as np
    sys.path.insert(0, {repo!r})
    from chainrule.serialization import save
    path = sys.argv[1]
    real_fsync = os.fsync
    state = {{"i": 0}}

    def fsync_then_hang(fd):
        # From the third save on, stop inside the write (temporary file written, not yet
        # renamed) and tell the parent, which kills us right there: a deterministic crash.
        if state["i"] >= 3:
            print("mid-write", flush=True)
            time.sleep(60)
        real_fsync(fd)

    os.fsync = fsync_then_hang
    big = np.empty(4_000_000, dtype=np.float32)  # 16 MB
    while True:
        big.fill(state["i"])
        save({{"w": big, "i": state["i"], "tail": np.full(3, state["i"])}}, path)
        state["i"] += 1
    """
)


def test_killed_writer_leaves_a_complete_checkpoint(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(repo=REPO))
    path = tmp_path / "ckpt.safetensors"
    save({"w": np.full(4_000_000, -1, dtype=np.float32), "i": -1, "tail": np.full(3, -1)}, path)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "mid-write"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    leftovers = [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    assert leftovers, "the killed save should have left its temporary file behind"
    back = load(path)  # the previous complete version, every part from the same save
    assert back["i"] == 2
    assert back["w"].shape == (4_000_000,)
    assert (back["w"] == 2).all() and (back["tail"] == 2).all()
