"""OpSpecs for chainrule/ops/movement.py.

Ops that return several tensors (split, chunk, unbind) are checked through one tensor built
from all the pieces (joined in reverse order, so that a wrong piece cannot pass by accident).
"""

import torch
import torch.nn.functional as F
from opspec import OpSpec

import chainrule as cr
from chainrule.ops.movement import narrow

ONE = [((3, 4),), ((2, 1, 3),)]  # the harness adds a non-contiguous variant of each
WITH_0D = [((),), ((3, 4),), ((2, 1, 3),)]
THREE_D = [((2, 3, 4),), ((3, 1, 2),)]


def same(name, f, shapes, **kw):
    """A spec whose chainrule and torch functions are the same method calls."""
    return OpSpec(name, f, f, shapes, **kw)


def both(name, f, shapes, **kw):
    """A spec from ``f(lib, *xs)``, called with ``lib`` = chainrule and with torch."""
    return OpSpec(name, lambda *xs: f(cr, *xs), lambda *xs: f(torch, *xs), shapes, **kw)


def pad_spec(name, pad, mode="constant", value=None, shapes=((2, 3, 4),)):
    """A pad spec: chainrule.pad against torch.nn.functional.pad."""
    kw = {} if value is None else {"value": value}
    return OpSpec(
        name,
        lambda x: cr.pad(x, pad, mode=mode, **kw),
        lambda x: F.pad(x, pad, mode=mode, **kw),
        [(s,) for s in shapes],
    )


SPECS = [
    # ------------------------------------------------------------ reshape family
    same("reshape", lambda x: x.reshape(4, 3), [((3, 4),), ((2, 6),)]),
    same("reshape_infer", lambda x: x.reshape(-1, 2), [((3, 4),), ((2, 1, 6),)]),
    same("reshape_0d", lambda x: x.reshape(1, 1), [((),)]),
    same("reshape_to_0d", lambda x: x.reshape(()), [((1, 1),)]),
    same("view", lambda x: x.view(2, -1, 2), [((3, 4),)], noncontig=False),
    same(
        "view_as",
        lambda a, b: a.view_as(b),
        [((3, 4), (2, 6))],
        nondiff=(1,),
        noncontig=False,
        note="torch's view needs viewable strides: no non-contiguous case",
    ),
    same("flatten", lambda x: x.flatten(), WITH_0D),
    same("flatten_middle", lambda x: x.flatten(1, 2), [((2, 3, 4),), ((2, 1, 3, 2),)]),
    same("unflatten", lambda x: x.unflatten(1, (2, -1)), [((3, 4),), ((2, 6, 1),)]),
    same("squeeze_all", lambda x: x.squeeze(), [((2, 1, 3),), ((1, 3, 1, 2),), ((),)]),
    same("squeeze_dim", lambda x: x.squeeze(1), [((2, 1, 3),), ((3, 4),)]),
    same("squeeze_dims_tuple", lambda x: x.squeeze((0, -1)), [((1, 3, 1),), ((1, 2, 3),)]),
    same("unsqueeze", lambda x: x.unsqueeze(1), ONE),
    same("unsqueeze_neg_0d", lambda x: x.unsqueeze(-1), WITH_0D),
    # ------------------------------------------------------------ reordering dims
    same("transpose", lambda x: x.transpose(0, 1), ONE),
    same("transpose_neg", lambda x: x.transpose(-1, -3), THREE_D),
    same("permute", lambda x: x.permute(2, 0, 1), THREE_D),
    same("permute_0d", lambda x: x.permute(()), [((),)]),
    same("T_2d", lambda x: x.T, [((3, 4),), ((1, 5),)]),
    same("mT", lambda x: x.mT, THREE_D),
    same("movedim_int", lambda x: x.movedim(0, -1), THREE_D),
    same("movedim_tuple", lambda x: x.movedim((0, 1), (2, 0)), THREE_D),
    # ------------------------------------------------------------ expand / repeat / tile
    same("expand", lambda x: x.expand(2, 3, 4), [((3, 1),), ((1, 4),), ((2, 1, 4),)]),
    same("expand_minus1", lambda x: x.expand(2, -1, 5), [((3, 1),), ((3, 5),)]),
    same("expand_0d", lambda x: x.expand(2, 3), [((),)]),
    same("expand_as", lambda a, b: a.expand_as(b), [((3, 1), (2, 3, 4))], nondiff=(1,)),
    same("repeat", lambda x: x.repeat(2, 3), [((3, 2),), ((1, 4),)]),
    same("repeat_more_dims", lambda x: x.repeat(2, 1, 2), [((3, 2),), ((),)]),
    same("repeat_ones", lambda x: x.repeat(1, 1), [((3, 4),)]),
    same("tile_short_dims", lambda x: x.tile((2,)), [((3, 2),), ((2, 1, 3),)]),
    same("tile_long_dims", lambda x: x.tile((2, 1, 2)), [((3, 2),)]),
    # ------------------------------------------------------------ joining
    both("cat_dim0", lambda m, a, b: m.cat([a, b]), [((2, 3), (4, 3)), ((1, 2, 2), (2, 2, 2))]),
    both(
        "cat_dim1_three",
        lambda m, a, b, c: m.cat([a, b, c], dim=1),
        [((2, 3), (2, 1), (2, 2)), ((2, 1, 3), (2, 2, 3), (2, 1, 3))],
    ),
    both("cat_neg_dim", lambda m, a, b: m.cat((a, b), -1), [((3, 2), (3, 3))]),
    both(
        "cat_partly_constant",
        lambda m, a, b: m.concat([a, b], dim=0),
        [((2, 3), (1, 3))],
        nondiff=(1,),
    ),
    both("concatenate", lambda m, a, b: m.concatenate([a, b], axis=1), [((2, 3), (2, 2))]),
    both("stack", lambda m, a, b: m.stack([a, b]), [((3, 4), (3, 4)), ((), ())]),
    both(
        "stack_neg_dim",
        lambda m, a, b, c: m.stack([a, b, c], dim=-1),
        [((2, 3), (2, 3), (2, 3)), ((2, 1), (2, 1), (2, 1))],
    ),
    # ------------------------------------------------------------ splitting
    OpSpec(
        "narrow",
        lambda x: narrow(x, 1, 1, 2),
        lambda x: torch.narrow(x, 1, 1, 2),
        [((3, 4),), ((2, 3, 2),)],
    ),
    both("narrow_method", lambda m, x: x.narrow(-1, 0, 1) * 2.0, [((3, 4),), ((2, 3, 2),)]),
    both("split_int", lambda m, x: m.cat(x.split(2, 1)[::-1], 1), [((3, 5),), ((2, 4, 2),)]),
    both(
        "split_sections",
        lambda m, x: m.cat(x.split([1, 3, 1], dim=-1)[::-1], -1),
        [((2, 5),), ((2, 1, 5),)],
    ),
    both("split_dim0", lambda m, x: m.stack(x.split(1)[::-1], 0), [((3, 4),)]),
    both("chunk", lambda m, x: m.cat(x.chunk(3, 1)[::-1], 1), [((2, 6),), ((2, 5),)]),
    both("chunk_more_than_size", lambda m, x: m.cat(x.chunk(4, 0)[::-1], 0), [((3, 2),)]),
    both("unbind", lambda m, x: m.stack(x.unbind()[::-1], 1), [((3, 4),), ((2, 1, 3),)]),
    both("unbind_dim1", lambda m, x: m.stack(x.unbind(1)[::-1], 0), [((3, 4),), ((2, 3, 2),)]),
    # ------------------------------------------------------------ flip / roll
    same("flip", lambda x: x.flip(0), ONE),
    same("flip_dims_tuple", lambda x: x.flip(0, -1), [((3, 4),), ((2, 3, 4),)]),
    both("flip_0d", lambda m, x: m.flip(x, (0,)), [((),)]),
    same("roll_flat", lambda x: x.roll(2), [((3, 4),), ((5,),)]),
    same("roll_dim", lambda x: x.roll(1, 1), ONE),
    same("roll_dims_tuple", lambda x: x.roll((-1, 2), (0, 2)), THREE_D),
    # ------------------------------------------------------------ triangles
    same("tril", lambda x: x.tril(), [((3, 4),), ((4, 3),), ((2, 3, 3),)]),
    same("tril_diagonal", lambda x: x.tril(1), [((3, 4),), ((2, 1, 4),)]),
    same("triu", lambda x: x.triu(), [((3, 4),), ((4, 3),), ((2, 3, 3),)]),
    same("triu_neg_diagonal", lambda x: x.triu(-1), [((3, 4),), ((2, 4, 1),)]),
    # ------------------------------------------------------------ padding
    pad_spec("pad_constant", (1, 2)),
    pad_spec("pad_constant_value", (1, 0, 2, 1), value=-1.5),
    pad_spec("pad_constant_three_dims", (1, 1, 0, 1, 1, 0), shapes=((2, 3, 2), (1, 1, 1))),
    pad_spec("pad_constant_negative", (-1, 2, 1, -1)),
    pad_spec("pad_constant_crop_only", (-1, -2)),
    pad_spec("pad_constant_0d", (), shapes=((),)),
    pad_spec("pad_reflect", (2, 1), mode="reflect", shapes=((2, 4), (2, 3, 4))),
    pad_spec("pad_reflect_2d", (1, 2, 2, 1), mode="reflect", shapes=((1, 3, 4), (2, 1, 3, 4))),
    pad_spec("pad_reflect_negative", (1, -1), mode="reflect", shapes=((2, 4),)),
    pad_spec("pad_replicate", (3, 1), mode="replicate", shapes=((2, 3), (2, 1, 3))),
    pad_spec("pad_replicate_2d", (1, 2, 0, 2), mode="replicate", shapes=((2, 3, 2),)),
    pad_spec("pad_replicate_3d", (1, 0, 1, 1, 0, 1), mode="replicate", shapes=((1, 2, 2, 2),)),
    pad_spec("pad_circular", (2, 1), mode="circular", shapes=((2, 3), (1, 2, 4))),
    pad_spec("pad_circular_2d", (1, 1, 2, 1), mode="circular", shapes=((1, 2, 3),)),
    # ------------------------------------------------------------ copies
    same("contiguous", lambda x: x.contiguous(), ONE),
    same("contiguous_of_transpose", lambda x: x.t().contiguous(), [((3, 4),)]),
    same("clone", lambda x: x.clone(), WITH_0D),
]
