"""OpSpecs of the linear-algebra family: matmul in all of torch.matmul's cases, mm, bmm, dot,
outer, einsum (explicit, implicit, ellipsis, diagonals, broadcasting), linear."""

import torch
from opspec import OpSpec

import chainrule


def _einsum(equation, shapes, name=None):
    """A spec for one einsum equation (the same call works in chainrule and torch)."""
    return OpSpec(
        name or f"einsum_{equation}",
        fn=lambda *xs: chainrule.einsum(equation, *xs),
        torch_fn=lambda *xs: torch.einsum(equation, *xs),
        shapes=shapes,
    )


SPECS = [
    # ------------------------------------------------------------ matmul
    OpSpec(
        "matmul_2d",
        fn=chainrule.matmul,
        torch_fn=torch.matmul,
        shapes=[((2, 3), (3, 4)), ((1, 3), (3, 1)), ((4, 1), (1, 3))],
    ),
    OpSpec(
        "matmul_1d_1d",
        fn=chainrule.matmul,
        torch_fn=torch.matmul,
        shapes=[((4,), (4,)), ((1,), (1,))],
    ),
    OpSpec(
        "matmul_2d_1d",
        fn=chainrule.matmul,
        torch_fn=torch.matmul,
        shapes=[((2, 3), (3,)), ((1, 3), (3,)), ((4, 1), (1,))],
    ),
    OpSpec(
        "matmul_1d_2d",
        fn=chainrule.matmul,
        torch_fn=torch.matmul,
        shapes=[((3,), (3, 2)), ((3,), (3, 1)), ((1,), (1, 4))],
    ),
    OpSpec(
        "matmul_batched",
        fn=chainrule.matmul,
        torch_fn=torch.matmul,
        shapes=[((2, 2, 3), (2, 3, 4)), ((2, 1, 2, 3), (2, 1, 3, 2))],
    ),
    OpSpec(
        "matmul_batched_broadcast",
        fn=chainrule.matmul,
        torch_fn=torch.matmul,
        shapes=[((2, 1, 2, 3), (3, 3, 2)), ((1, 2, 3), (2, 3, 2)), ((2, 2, 3), (1, 3, 2))],
    ),
    OpSpec(
        "matmul_batched_2d",
        fn=chainrule.matmul,
        torch_fn=torch.matmul,
        shapes=[((2, 3, 3), (3, 2)), ((3, 4), (2, 4, 2)), ((2, 2, 1, 3), (3, 2))],
    ),
    OpSpec(
        "matmul_batched_1d",
        fn=chainrule.matmul,
        torch_fn=torch.matmul,
        shapes=[((3,), (2, 3, 2)), ((2, 2, 3), (3,)), ((3,), (2, 1, 3, 2))],
    ),
    OpSpec(
        "matmul_operator",
        fn=lambda a, b: a @ b,
        torch_fn=lambda a, b: a @ b,
        shapes=[((2, 3), (3, 2)), ((2, 2, 3), (3,))],
    ),
    OpSpec(
        "mm",
        fn=chainrule.mm,
        torch_fn=torch.mm,
        shapes=[((2, 3), (3, 4)), ((1, 1), (1, 3)), ((3, 1), (1, 1))],
    ),
    OpSpec(
        "bmm",
        fn=chainrule.bmm,
        torch_fn=torch.bmm,
        shapes=[((2, 2, 3), (2, 3, 2)), ((1, 2, 2), (1, 2, 3)), ((3, 1, 2), (3, 2, 1))],
    ),
    OpSpec("dot", fn=chainrule.dot, torch_fn=torch.dot, shapes=[((4,), (4,)), ((1,), (1,))]),
    OpSpec(
        "dot_method",
        fn=lambda a, b: a.dot(b),
        torch_fn=lambda a, b: a.dot(b),
        shapes=[((5,), (5,))],
    ),
    OpSpec(
        "outer",
        fn=chainrule.outer,
        torch_fn=torch.outer,
        shapes=[((3,), (4,)), ((1,), (3,)), ((2,), (1,))],
    ),
    # ------------------------------------------------------------ einsum
    _einsum("ij,jk->ik", [((2, 3), (3, 4)), ((1, 3), (3, 1))], "einsum_matmul"),
    _einsum("ij,jk", [((2, 3), (3, 2))], "einsum_implicit_output"),
    _einsum("ba,ac", [((2, 3), (3, 2))], "einsum_implicit_output_sorted"),
    _einsum("ii->i", [((3, 3),), ((1, 1),)], "einsum_diagonal"),
    _einsum("ii->", [((3, 3),)], "einsum_trace"),
    _einsum("ii", [((4, 4),)], "einsum_trace_implicit"),
    _einsum("iij,jk->ik", [((3, 3, 2), (2, 4))], "einsum_repeated_in_operand"),
    _einsum("ij->ji", [((2, 3),), ((1, 4),)], "einsum_transpose"),
    _einsum("ij->", [((2, 3),)], "einsum_sum_all"),
    _einsum("ij,k->ik", [((2, 3), (2,)), ((2, 1), (3,))], "einsum_summed_in_one_operand"),
    _einsum("ijk,ik->j", [((2, 3, 2), (2, 2))], "einsum_contract_two_dims"),
    _einsum("bij,bjk->bik", [((2, 2, 3), (2, 3, 2))], "einsum_batched"),
    _einsum(
        "...ij,...jk->...ik",
        [((2, 1, 2, 3), (3, 3, 2)), ((2, 3), (2, 3, 2)), ((2, 2, 3), (3, 1))],
        "einsum_ellipsis_broadcast",
    ),
    _einsum("...ij->...ji", [((2, 2, 3),), ((2, 3),), ((1, 2, 2),)], "einsum_ellipsis"),
    _einsum("i,j->ij", [((3,), (2,))], "einsum_outer"),
    _einsum("ij,jk,kl->il", [((2, 3), (3, 2), (2, 2))], "einsum_three_operands"),
    _einsum("ij,ij->ij", [((1, 3), (2, 3)), ((2, 1), (2, 3))], "einsum_size1_broadcast"),
    _einsum(",i->i", [((), (3,))], "einsum_scalar_operand"),
    _einsum("i,i", [((4,), (4,))], "einsum_dot"),
    OpSpec(
        "einsum_list_operands",
        fn=lambda a, b: chainrule.einsum("ij, jk -> ik", [a, b]),
        torch_fn=lambda a, b: torch.einsum("ij, jk -> ik", [a, b]),
        shapes=[((2, 3), (3, 2))],
    ),
    OpSpec(
        "einsum_same_operand_twice",
        fn=lambda a: chainrule.einsum("ij,kj->ik", a, a),
        torch_fn=lambda a: torch.einsum("ij,kj->ik", a, a),
        shapes=[((3, 2),)],
    ),
    # ------------------------------------------------------------ linear
    OpSpec(
        "linear",
        fn=chainrule.linear,
        torch_fn=torch.nn.functional.linear,
        shapes=[
            ((4, 3), (2, 3), (2,)),
            ((4, 3), (2, 3), (1,)),
            ((4, 3), (2, 3), ()),
            ((1, 1), (1, 1), (1,)),
        ],
    ),
    OpSpec(
        "linear_no_bias",
        fn=chainrule.linear,
        torch_fn=torch.nn.functional.linear,
        shapes=[((4, 3), (2, 3)), ((1, 3), (1, 3))],
    ),
    OpSpec(
        "linear_3d_input",
        fn=chainrule.linear,
        torch_fn=torch.nn.functional.linear,
        shapes=[((2, 3, 4), (3, 4), (3,)), ((2, 1, 3, 2), (2, 2), (2,))],
    ),
    OpSpec(
        "linear_1d_input",
        fn=chainrule.linear,
        torch_fn=torch.nn.functional.linear,
        shapes=[((3,), (2, 3), (2,)), ((3,), (2, 3))],
    ),
]
