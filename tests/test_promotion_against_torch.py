"""Random binary operations over every dtype pair, 0-d tensors and Python scalars, in chainrule
and in PyTorch: the result's dtype and values must agree, or both must refuse (subtraction
with bools, integer division by zero, bool ** bool tensor...)."""

import random
import warnings

import numpy as np
import pytest

import chainrule as cr

DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "uint8", "bool"]
OPS = ["add", "sub", "mul", "div", "pow", "eq", "lt", "remainder", "floor_divide", "maximum"]


def _operand(rnd: random.Random):
    kind = rnd.choice(["tensor", "tensor", "0-d", "int", "float", "bool"])
    if kind in ("tensor", "0-d"):
        dtype = rnd.choice(DTYPES)
        shape = () if kind == "0-d" else rnd.choice([(3,), (2, 3), (1, 3)])
        values = np.asarray(np.random.default_rng(rnd.randrange(1000)).uniform(0, 4, size=shape))
        return np.asarray(values > 2.0 if dtype == "bool" else values.astype(dtype))
    if kind == "int":
        return rnd.randint(0, 3)  # 0 on purpose: integer division by zero must refuse
    if kind == "float":
        return round(rnd.uniform(0.5, 3.0), 2)
    return rnd.choice([True, False])


def _apply(lib, op: str, a, b):
    def wrap(v):
        if not isinstance(v, np.ndarray):
            return v
        return cr.tensor(v) if lib is cr else lib.from_numpy(v.copy())

    a, b = wrap(a), wrap(b)
    if op == "maximum":
        return lib.maximum(a, b)
    return {
        "add": lambda: a + b,
        "sub": lambda: a - b,
        "mul": lambda: a * b,
        "div": lambda: a / b,
        "pow": lambda: a**b,
        "eq": lambda: a == b,
        "lt": lambda: a < b,
        "remainder": lambda: a % b,
        "floor_divide": lambda: a // b,
    }[op]()


def _outcome(lib, op, a, b):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # float division by zero: inf, as in torch
            r = _apply(lib, op, a, b)
    except (RuntimeError, TypeError, NotImplementedError, ZeroDivisionError):
        return None
    return str(r.dtype).split(".")[-1], np.asarray(r.numpy(), dtype=np.float64)


@pytest.mark.parametrize("seed", range(4))
def test_random_binary_ops_promote_and_refuse_like_torch(seed, torch):
    rnd = random.Random(seed)
    compared = 0
    for _ in range(600):
        op, a, b = rnd.choice(OPS), _operand(rnd), _operand(rnd)
        if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
            continue  # two Python scalars: not a tensor op
        if op == "maximum" and not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            continue  # torch.maximum takes tensors only
        ours, theirs = _outcome(cr, op, a, b), _outcome(torch, op, a, b)
        where = f"{op} {a!r} {b!r}"
        assert (ours is None) == (theirs is None), f"{where}: chainrule {ours}, torch {theirs}"
        if ours is None:
            continue
        assert ours[0] == theirs[0], f"{where}: dtype {ours[0]} vs torch {theirs[0]}"
        half = "float16" in (ours[0],)
        np.testing.assert_allclose(
            ours[1], theirs[1], rtol=2e-3 if half else 1e-6, equal_nan=True, err_msg=where
        )
        compared += 1
    assert compared > 300
