"""OpSpecs of the indexing family: getitem, setitem_, gather, scatter, index_select, masked_fill,
take_along_dim.

Integer indices and bool masks are built by ``make_inputs`` (integer/bool arrays never require
grad) or captured as constants in the lambda. Indices repeat on purpose where the op allows it:
the backward must accumulate them.
"""

import numpy as np
from opspec import OpSpec

import chainrule


def _floats(rng, shape):
    return rng.uniform(-2.0, 2.0, size=shape)


def _with(*makers):
    """make_inputs from one maker per input: ``maker(rng, shape, shapes) -> array``."""

    def make(rng, shapes):
        return [m(rng, s, shapes) for m, s in zip(makers, shapes)]

    return make


def F(rng, shape, shapes):  # noqa: N802 - a float input
    return _floats(rng, shape)


def ints_below(dim_of_x: int, low_negative: bool = False):
    """Integer index of the given shape with values valid for ``x.shape[dim_of_x]`` (x is the
    first input); repeats allowed (and likely)."""

    def make(rng, shape, shapes):
        xs = shapes[0]
        n = xs[dim_of_x] if len(xs) else 1
        lo = -n if low_negative else 0
        return rng.integers(lo, n, size=shape).astype(np.int64)

    return make


def distinct_along(dim: int):
    """Index of the given shape whose values along ``dim`` are distinct for every position of
    the other dims (scatter with repeated targets is nondeterministic in PyTorch)."""

    def make(rng, shape, shapes):
        xs = shapes[0]
        if len(shape) == 0:
            return np.array(0, dtype=np.int64)
        perm_shape = list(shape)
        perm_shape[dim] = xs[dim]
        perm = np.argsort(rng.random(perm_shape), axis=dim)
        return np.take(perm, np.arange(shape[dim]), axis=dim).astype(np.int64)

    return make


def mask(rng, shape, shapes):
    return rng.random(shape) > 0.5


def _copy(x):
    # A non-leaf copy to write into (``clone`` lives in the movement family; x * 1.0 is the
    # same value and keeps these specs independent of it).
    return x * 1.0


def _set(x, index, value):
    y = _copy(x)
    y[index] = value
    return y


def _set_torch(x, index, value):
    y = x.clone()
    y[index] = value
    return y


def _gradient_of(fn):
    """x -> d(sum fn(x)^3)/dx, recorded (create_graph=True): the op under test is the
    differentiable backward itself, so its own gradient is a second derivative."""

    def both(x):
        import torch

        lib = chainrule if isinstance(x, chainrule.Tensor) else torch
        with lib.enable_grad():
            if not x.requires_grad:
                x = x.detach().requires_grad_(True)
            (g,) = lib.autograd.grad((fn(x) ** 3).sum(), x, create_graph=True)
        return g

    return {"fn": both, "torch_fn": both}


def _same(fn):
    """The same lambda drives chainrule and torch (they share the indexing syntax)."""
    return {"fn": fn, "torch_fn": fn}


SPECS = [
    # ------------------------------------------------------------ basic indexing (views)
    OpSpec("getitem_int", **_same(lambda x: x[1]), shapes=[((3,),), ((3, 4),), ((2, 3, 2),)]),
    OpSpec(
        "getitem_negative_int",
        **_same(lambda x: x[-1, 0]),
        shapes=[((3, 4),), ((2, 1, 3),)],
    ),
    OpSpec(
        "getitem_slice",
        **_same(lambda x: x[1:3]),
        shapes=[((4,),), ((4, 3),), ((4, 1, 2),)],
    ),
    OpSpec(
        "getitem_slice_step",
        **_same(lambda x: x[::2, 1::2]),
        shapes=[((5, 4),), ((5, 4, 2),), ((1, 3),)],
    ),
    OpSpec(
        "getitem_slice_negative_bounds",
        **_same(lambda x: x[-3:-1, :-1]),
        shapes=[((4, 3),), ((3, 2, 2),)],
    ),
    OpSpec(
        "getitem_none_ellipsis",
        **_same(lambda x: x[None, ..., None]),
        shapes=[((),), ((3,),), ((2, 3),)],
    ),
    OpSpec(
        "getitem_ellipsis_int",
        **_same(lambda x: x[..., 0]),
        shapes=[((3, 2),), ((2, 3, 2),), ((4,),)],
    ),
    OpSpec("getitem_empty_tuple", **_same(lambda x: x[()]), shapes=[((),), ((2, 3),)]),
    # ------------------------------------------------------------ advanced indexing (copies)
    OpSpec(
        "getitem_int_tensor_repeated",
        **_same(lambda x, i: x[i]),
        shapes=[((3,), (6,)), ((3, 4), (5,)), ((3, 1, 2), (2, 3)), ((2,), ())],
        make_inputs=_with(F, ints_below(0)),
    ),
    OpSpec(
        "getitem_int_tensor_negative",
        **_same(lambda x, i: x[i]),
        shapes=[((4,), (5,)), ((3, 2), (4,))],
        make_inputs=_with(F, ints_below(0, low_negative=True)),
    ),
    OpSpec(
        "getitem_int_list",
        **_same(lambda x: x[[0, 0, 2, -1]]),
        shapes=[((3,),), ((3, 4),)],
    ),
    OpSpec(
        "getitem_int_tensor_dim1",
        **_same(lambda x, i: x[:, i]),
        shapes=[((2, 3), (4,)), ((2, 3, 2), (2, 2))],
        make_inputs=_with(F, ints_below(1)),
    ),
    OpSpec(
        "getitem_bool_mask",
        **_same(lambda x, m: x[m]),
        shapes=[((3, 4), (3, 4)), ((5,), (5,)), ((2, 3, 2), (2, 3)), ((), ())],
        make_inputs=_with(F, mask),
    ),
    OpSpec(
        "getitem_bool_mask_dim1",
        **_same(lambda x, m: x[:, m]),
        shapes=[((2, 4), (4,)), ((3, 4, 2), (4,))],
        make_inputs=_with(F, mask),
    ),
    OpSpec(
        "getitem_mixed_advanced_slice",
        **_same(lambda x, i, j: x[i, :, j]),
        shapes=[((3, 2, 4), (5,), (5,)), ((2, 3, 3), (2, 1), (3,))],
        make_inputs=_with(F, ints_below(0), ints_below(2)),
    ),
    OpSpec(
        "getitem_int_then_tensor",
        # PyTorch applies the int first: x[0, :, i] has shape (4, len(i)), not NumPy's.
        **_same(lambda x, i: x[0, :, i]),
        shapes=[((2, 4, 3), (5,)), ((3, 2, 3), (2, 2))],
        make_inputs=_with(F, ints_below(2)),
    ),
    OpSpec(
        "getitem_broadcast_index_tensors",
        **_same(lambda x, i, j: x[i[:, None], j]),
        shapes=[((3, 4), (2,), (3,)), ((3, 4, 2), (4,), (1,))],
        make_inputs=_with(F, ints_below(0), ints_below(1)),
    ),
    OpSpec(
        "getitem_0d_index_tensor",
        **_same(lambda x, i: x[i, 1:]),
        shapes=[((3, 4), ()), ((2, 3), ())],
        make_inputs=_with(F, ints_below(0)),
    ),
    # ------------------------------------------------------------ setitem (in place)
    OpSpec(
        "setitem_slice_tensor",
        fn=lambda x, v: _set(x, slice(1, 3), v),
        torch_fn=lambda x, v: _set_torch(x, slice(1, 3), v),
        shapes=[
            ((4, 3), (3,)),
            ((4, 3), (1, 3)),
            ((4, 3), (2, 3)),
            ((3,), ()),
            ((4, 2, 2), (2, 1)),
        ],
    ),
    OpSpec(
        "setitem_int_number",
        fn=lambda x: _set(x, (0, 1), 2.5),
        torch_fn=lambda x: _set_torch(x, (0, 1), 2.5),
        shapes=[((2, 3),), ((3, 2, 2),)],
    ),
    OpSpec(
        "setitem_advanced_tensor",
        fn=lambda x, v: _set(x, [0, 2], v),
        torch_fn=lambda x, v: _set_torch(x, [0, 2], v),
        shapes=[((3, 4), (2, 4)), ((3, 4), (4,)), ((4,), (2,)), ((3, 2, 2), (1, 2))],
    ),
    OpSpec(
        "setitem_mask_0d_value",
        fn=lambda x, m, v: _set(x, m, v),
        torch_fn=lambda x, m, v: _set_torch(x, m, v),
        shapes=[((3, 4), (3, 4), ()), ((5,), (5,), ()), ((2, 3), (2,), (3,))],
        make_inputs=_with(F, mask, F),
    ),
    OpSpec(
        "setitem_mixed_index",
        fn=lambda x, i, v: _set(x, (i, slice(None), 1), v),
        torch_fn=lambda x, i, v: _set_torch(x, (i, slice(None), 1), v),
        shapes=[((3, 2, 3), (2,), (2, 2)), ((3, 2, 3), (2,), ())],
        make_inputs=_with(F, lambda rng, s, ss: np.array([2, 0]), F),
    ),
    # ------------------------------------------------------------ gather / take_along_dim
    OpSpec(
        "gather_dim0",
        fn=lambda x, i: chainrule.gather(x, 0, i),
        torch_fn=lambda x, i: x.gather(0, i),
        shapes=[((3, 4), (5, 4)), ((3, 4), (2, 3)), ((1, 3), (2, 1)), ((4,), (6,)), ((), ())],
        make_inputs=_with(F, ints_below(0)),
    ),
    OpSpec(
        "gather_dim1",
        fn=lambda x, i: x.gather(-2, i),
        torch_fn=lambda x, i: x.gather(-2, i),
        shapes=[((2, 3, 2), (2, 5, 2)), ((3, 4), (3, 4)), ((2, 3, 2), (1, 2, 1))],
        make_inputs=_with(F, ints_below(-2)),
    ),
    OpSpec(
        "take_along_dim",
        fn=lambda x, i: chainrule.take_along_dim(x, i, 1),
        torch_fn=lambda x, i: x.take_along_dim(i, 1),
        shapes=[((3, 4), (3, 6)), ((2, 3, 2), (2, 2, 2))],
        make_inputs=_with(F, ints_below(1)),
    ),
    OpSpec(
        "take_along_dim_broadcast",
        fn=lambda x, i: chainrule.take_along_dim(x, i, -1),
        torch_fn=lambda x, i: x.take_along_dim(i, -1),
        shapes=[((3, 4), (1, 5)), ((1, 4), (3, 2)), ((2, 1, 3), (1, 4, 2))],
        make_inputs=_with(F, ints_below(-1)),
    ),
    OpSpec(
        "take_along_dim_flat",
        fn=lambda x, i: chainrule.take_along_dim(x, i),
        # torch's dim=None path uses view(-1), which fails on non-contiguous input.
        torch_fn=lambda x, i: x.contiguous().take_along_dim(i),
        shapes=[((3, 4), (7,)), ((2, 3), (2, 2)), ((), ())],
        make_inputs=_with(F, lambda rng, s, ss: rng.integers(0, max(1, int(np.prod(ss[0]))), s)),
    ),
    # ------------------------------------------------------------ scatter
    OpSpec(
        "scatter",
        fn=lambda x, i, s: chainrule.scatter(x, 0, i, s),
        torch_fn=lambda x, i, s: x.scatter(0, i, s),
        shapes=[
            ((4, 3), (2, 3), (2, 3)),
            ((4, 3), (3, 3), (3, 3)),
            ((5,), (3,), (3,)),
            ((), (), ()),
        ],
        make_inputs=_with(F, distinct_along(0), F),
    ),
    OpSpec(
        "scatter_src_larger_than_index",
        fn=lambda x, i, s: chainrule.scatter(x, 0, i, s),
        torch_fn=None,
        shapes=[((4, 3), (3, 2), (4, 3)), ((5,), (3,), (4,))],
        make_inputs=_with(F, distinct_along(0), F),
        note="torch 2.13's scatter backward returns src's gradient in index's shape and fails "
        "when src is larger than index: checked by gradcheck only",
    ),
    OpSpec(
        "scatter_dim1",
        fn=lambda x, i, s: x.scatter(1, i, s),
        torch_fn=lambda x, i, s: x.scatter(1, i, s),
        shapes=[((2, 4, 2), (2, 3, 2), (2, 3, 2)), ((3, 4), (1, 2), (1, 2))],
        make_inputs=_with(F, distinct_along(1), F),
    ),
    OpSpec(
        "scatter_value",
        fn=lambda x, i: chainrule.scatter(x, 1, i, -1.5),
        torch_fn=lambda x, i: x.scatter(1, i, -1.5),
        shapes=[((3, 4), (3, 2)), ((2, 3, 2), (1, 2, 2))],
        make_inputs=_with(F, distinct_along(1)),
    ),
    OpSpec(
        "scatter_add",
        fn=lambda x, i, s: chainrule.scatter_add(x, 0, i, s),
        torch_fn=lambda x, i, s: x.scatter_add(0, i, s),
        shapes=[
            ((3, 4), (5, 4), (5, 4)),
            ((3, 4), (2, 3), (2, 3)),
            ((4,), (7,), (7,)),
            ((), (), ()),
        ],
        make_inputs=_with(F, ints_below(0), F),
    ),
    OpSpec(
        "scatter_add_src_larger_than_index",
        fn=lambda x, i, s: chainrule.scatter_add(x, 1, i, s),
        torch_fn=None,
        shapes=[((3, 4), (2, 3), (3, 4)), ((2, 2, 3), (1, 3, 2), (2, 3, 3))],
        make_inputs=_with(F, ints_below(1), F),
        note="torch 2.13's scatter_add backward fails when src is larger than index",
    ),
    OpSpec(
        "scatter_add_dim1",
        fn=lambda x, i, s: x.scatter_add(-1, i, s),
        torch_fn=lambda x, i, s: x.scatter_add(-1, i, s),
        shapes=[((2, 3), (2, 5), (2, 5)), ((2, 2, 3), (1, 2, 4), (1, 2, 4))],
        make_inputs=_with(F, ints_below(-1), F),
    ),
    # ------------------------------------------------------------ index_select
    OpSpec(
        "index_select",
        fn=lambda x, i: chainrule.index_select(x, 0, i),
        torch_fn=lambda x, i: x.index_select(0, i),
        shapes=[((3, 4), (5,)), ((4,), (3,)), ((3, 1, 2), (2,)), ((3, 2), ()), ((), ())],
        make_inputs=_with(F, ints_below(0)),
    ),
    OpSpec(
        "index_select_dim1",
        fn=lambda x, i: x.index_select(-1, i),
        torch_fn=lambda x, i: x.index_select(-1, i),
        shapes=[((3, 4), (6,)), ((2, 3, 2), (3,))],
        make_inputs=_with(F, ints_below(-1)),
    ),
    # ------------------------------------------------------------ masked_fill
    OpSpec(
        "masked_fill",
        fn=lambda x, m: chainrule.masked_fill(x, m, 0.5),
        torch_fn=lambda x, m: x.masked_fill(m, 0.5),
        shapes=[((3, 4), (3, 4)), ((5,), (5,)), ((), ())],
        make_inputs=_with(F, mask),
    ),
    OpSpec(
        "masked_fill_broadcast_mask",
        fn=lambda x, m: x.masked_fill(m, -1e9),
        torch_fn=lambda x, m: x.masked_fill(m, -1e9),
        shapes=[((3, 4), (1, 4)), ((2, 3, 4), (3, 1)), ((2, 3), ())],
        make_inputs=_with(F, mask),
    ),
    OpSpec(
        "masked_fill_tensor_value",
        fn=lambda x, m, v: chainrule.masked_fill(x, m, v),
        torch_fn=lambda x, m, v: x.masked_fill(m, v),
        shapes=[((3, 4), (3, 4), ()), ((2, 3), (3,), ())],
        make_inputs=_with(F, mask, F),
    ),
    # ------------------------------------------------------------ indexing's adjoint
    OpSpec(
        "indexing_adjoint_basic",
        **_gradient_of(lambda x: x[1:, ::2]),
        shapes=[((3, 4),)],
        note="LinearAdjoint: x[index]'s backward recorded as an op (create_graph=True)",
    ),
    OpSpec(
        "indexing_adjoint_repeats",
        **_gradient_of(lambda x: x[[0, 2, 0], 1:]),
        shapes=[((3, 4),)],
    ),
]
