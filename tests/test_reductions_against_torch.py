"""Random reductions (sum, mean, prod, max/min with and without dim, amax, argmax/argmin, std,
var, all, any, logsumexp, cumsum, norm) over dtypes, shapes (0-d and empty included), dims and
keepdim, in chainrule and in PyTorch: same dtype, shape and values, or both refuse."""

import random
import warnings

import numpy as np
import pytest

import chainrule as cr

DTYPES = ["float32", "float64", "int64", "int32", "uint8", "bool"]
OPS = ["sum", "mean", "prod", "max", "min", "amax", "argmax", "argmin", "std", "var", "all"]
OPS += ["any", "logsumexp", "cumsum", "norm"]


def _reduce(t, op: str, dim, keepdim: bool):
    if op in ("max", "min"):
        if dim is None or isinstance(dim, tuple):
            return getattr(t, op)()
        return getattr(t, op)(dim, keepdim=keepdim)[0]
    if op in ("argmax", "argmin"):
        if dim is None or isinstance(dim, tuple):
            return getattr(t, op)()
        return getattr(t, op)(dim, keepdim=keepdim)
    if op == "cumsum":
        return t.cumsum(dim if isinstance(dim, int) else 0)
    if op == "logsumexp":
        return t.logsumexp(dim=0 if dim is None else dim, keepdim=keepdim)
    if op == "norm" and dim is None:
        return t.norm()
    if dim is None:
        return getattr(t, op)()
    return getattr(t, op)(dim=dim, keepdim=keepdim)


def _outcome(lib, arr, op, dim, keepdim):
    t = cr.tensor(arr) if lib is cr else lib.from_numpy(arr.copy())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # std of one element: nan, as in torch
            r = _reduce(t, op, dim, keepdim)
    except (RuntimeError, IndexError, TypeError, ValueError):
        return None
    return str(r.dtype).split(".")[-1], np.asarray(r.numpy(), dtype=np.float64)


@pytest.mark.parametrize("seed", range(3))
def test_random_reductions_match_torch(seed, torch):
    rnd = random.Random(seed)
    compared = 0
    for _ in range(500):
        dtype = rnd.choice(DTYPES)
        shape = rnd.choice([(), (3,), (2, 3), (2, 0), (2, 3, 4)])
        values = np.random.default_rng(rnd.randrange(999)).uniform(-3, 3, size=shape)
        if dtype == "bool":
            arr = np.asarray(values > 0)
        else:
            arr = np.asarray((np.abs(values) if "int" in dtype else values).astype(dtype))
        op = rnd.choice(OPS)
        dims = [None, 0, -1] + ([(0, 1)] if len(shape) >= 2 else [])
        dim, keepdim = rnd.choice(dims), rnd.choice([False, True])
        ours, theirs = _outcome(cr, arr, op, dim, keepdim), _outcome(torch, arr, op, dim, keepdim)
        where = f"{op} {dtype}{list(shape)} dim={dim} keepdim={keepdim}"
        assert (ours is None) == (theirs is None), f"{where}: chainrule {ours}, torch {theirs}"
        if ours is None:
            continue
        assert ours[0] == theirs[0], f"{where}: dtype {ours[0]} vs torch {theirs[0]}"
        assert ours[1].shape == theirs[1].shape, where
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5, equal_nan=True, err_msg=where)
        compared += 1
    assert compared > 250


@pytest.mark.parametrize("seed", range(40))
def test_order_statistics_with_nans_match_torch(seed, torch):
    """median (NaN where a slice has one), nanmedian (NaN ignored) and kthvalue (NaN last) on
    rows with random NaNs and all-NaN rows: values on small integers (ties), and indices and
    gradients on distinct numbers (slices with one NaN at most). Which of several tied indices
    PyTorch returns depends on its selection algorithm and the memory layout, as does the index
    nanmedian gives an all-NaN slice: those are checked to point at the value instead."""
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(1, 5, rng.integers(1, 4)))
    ties = rng.integers(-3, 4, shape).astype(np.float64)
    ties[rng.random(shape) < 0.3] = np.nan
    distinct = rng.permutation(ties.size).reshape(shape).astype(np.float64)
    distinct[np.isnan(ties)] = np.nan
    dim = int(rng.integers(-len(shape), len(shape)))
    keepdim = bool(rng.integers(2))
    k = int(rng.integers(1, shape[dim] + 1))
    for op in ["median", "nanmedian", "kthvalue"]:
        args = (k, dim, keepdim) if op == "kthvalue" else (dim, keepdim)
        ours = getattr(cr.tensor(ties), op)(*args)
        theirs = getattr(torch.tensor(ties), op)(*args)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        idx = ours.indices.numpy()
        picked = np.take_along_axis(ties, idx if keepdim else np.expand_dims(idx, dim), dim)
        np.testing.assert_array_equal(picked.reshape(idx.shape), ours.values.numpy())

        x = cr.tensor(distinct, requires_grad=True)
        xt = torch.tensor(distinct, requires_grad=True)
        ours, theirs = getattr(x, op)(*args), getattr(xt, op)(*args)
        np.testing.assert_array_equal(ours.values.detach().numpy(), theirs.values.detach().numpy())
        # Several NaNs in a slice tie too (and an all-NaN slice has no number for nanmedian).
        nans = np.isnan(distinct).sum(axis=dim, keepdims=keepdim)
        chosen = (nans <= 1) & (nans < shape[dim]) if op == "nanmedian" else nans <= 1
        np.testing.assert_array_equal(
            np.where(chosen, ours.indices.numpy(), 0), np.where(chosen, theirs.indices.numpy(), 0)
        )
        cot = rng.standard_normal(tuple(theirs.values.shape))
        ours.values.backward(cr.tensor(cot))
        theirs.values.backward(torch.tensor(cot))
        if chosen.all():
            np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())
    for op in ["median", "nanmedian"]:  # over every element: ties share the gradient
        x = cr.tensor(ties, requires_grad=True)
        xt = torch.tensor(ties, requires_grad=True)
        ours, theirs = getattr(x, op)(), getattr(xt, op)()
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
        ours.backward()
        theirs.backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-15)
