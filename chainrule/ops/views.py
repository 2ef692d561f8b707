"""Views across in-place changes: the bookkeeping that keeps their gradients right.

A view (``y[:, 0]``, ``y.reshape(...)``, ``y.T``) shares memory with its *root*, the tensor it
was cut from (through any chain of views). Two events make the graph fall behind the memory:

- an in-place op with autograd on the view (``y[:, 0] *= 3``) changes the root's values too:
  the root gets a ``ViewScatter`` node (its old value outside the view's elements, the op's
  result inside them);
- an in-place op with autograd on the root (``y.mul_(3)``) changes the values a view shows:
  the next time the view is used, it gets a ``ViewGather`` node that reads its elements from
  the root's new node (``Function.apply`` checks every view input).

Both address the view's elements by their flat (C-order) positions in the root, found from
the arrays' offsets and strides (``view_positions``), so every kind of view is handled alike.
"""

from __future__ import annotations

import numpy as np

from chainrule.autograd.function import Function, is_grad_enabled
from chainrule.backend import scatter_add
from chainrule.tensor import Tensor


def _address(xp, a) -> int:
    return a.ctypes.data if xp is np else a.data.ptr


def view_positions(xp, root, view, op: str, writing: bool = False):
    """The flat C-order position in ``root`` of every element of ``view`` (an array into
    root's memory), shaped like ``view``. ``writing``: refuse views in which several elements
    share one memory location (``expand``), as PyTorch does."""
    if writing and any(s == 0 and n > 1 for s, n in zip(view.strides, view.shape)):
        raise RuntimeError(
            f"{op}: unsupported operation: more than one element of the written-to tensor "
            "refers to a single memory location. Please clone() the tensor before performing "
            "the operation."
        )
    if not (root.flags.c_contiguous or root.flags.f_contiguous):
        raise RuntimeError(
            f"{op}: the view's base tensor (shape {tuple(root.shape)}) is not contiguous, so the "
            "view's place in it cannot be tracked through an in-place change; use .clone() "
            "or an out-of-place op"
        )
    item = root.itemsize
    # Each element's memory offset from root's start, in elements: the view's offset plus
    # index times stride along every dim (arrays of the view's size only).
    pos = xp.asarray((_address(xp, view) - _address(xp, root)) // item, dtype=np.intp)
    for d, (n, stride) in enumerate(zip(view.shape, view.strides)):
        shape = [1] * view.ndim
        shape[d] = n
        pos = pos + xp.arange(n, dtype=np.intp).reshape(shape) * (stride // item)
    pos = xp.broadcast_to(pos, view.shape)
    if root.flags.c_contiguous:  # memory order is C order
        return xp.array(pos)
    # F-contiguous root: turn memory (F-order) offsets into C-order positions
    return xp.ravel_multi_index(xp.unravel_index(pos, root.shape, order="F"), root.shape)


class ViewGather(Function):
    """y = the root's elements at the view's positions (y is the view's own array);
    dL/droot = dL/dy sent back to those positions (summed where a position repeats)."""

    rule = "d view(root)/droot: the gradient goes back to the positions the view reads"

    @staticmethod
    def forward(ctx, root, view, positions):
        ctx.root_shape, ctx.positions = root.shape, positions
        return view

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        g = xp.zeros(ctx.root_shape, dtype=grad.dtype)
        scatter_add(xp, g.reshape(-1), ctx.positions.reshape(-1), grad.reshape(-1))
        return g, None, None


class ViewScatter(Function):
    """y = the root with the view's positions holding v (what an in-place op on the view
    wrote); dL/droot_old = dL/dy with those positions zeroed, dL/dv = dL/dy at them."""

    rule = "d/droot_old = 1 outside the view's positions, 0 inside; d/dv = 1 at them"

    @staticmethod
    def forward(ctx, root_old, v, positions, current):
        ctx.positions = positions
        return current  # the root's memory, which the in-place op has already written

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        need_old, need_v = ctx.needs_input_grad[:2]
        flat = xp.ascontiguousarray(grad).reshape(-1)
        g_v = flat[ctx.positions] if need_v else None
        g_old = None
        if need_old:
            g_old = flat.copy()
            g_old[ctx.positions] = 0
            g_old = g_old.reshape(grad.shape)
        return g_old, g_v, None, None


def write_through_view(view: Tensor, result: Tensor, op: str) -> Tensor:
    """``view`` (a view, with autograd) takes the value of ``result`` in place: the root's
    memory changes with it, so the root gets a ViewScatter node (``result`` may be a constant
    written into a root that needs a gradient: fill_, copy_)."""
    root = view.__dict__["_view_root"]()  # alive: Tensor._inplace_result checked
    if root._requires_grad and root._ctx is None:
        raise RuntimeError(
            f"{op}: a view of a leaf Variable that requires grad is being used in an in-place "
            "operation. Wrap it in `with chainrule.no_grad():` or use an out-of-place op."
        )
    xp = view._device.xp
    positions = view_positions(xp, root.data, view.data, op, writing=True)
    xp.copyto(view.data, result.data, casting="unsafe")
    view._version[0] += 1
    # The view takes over result's node (one node belongs to one tensor), then stands for
    # the written values in the root's new node.
    view._set_node(result._ctx)
    view._requires_grad = result._requires_grad
    view.__dict__["_root_seq"] = 0 if root._ctx is None else root._ctx.seq  # current again
    before = Tensor._make(root.data, root._device)  # stands for the root's old value
    before._requires_grad, before._ctx = root._requires_grad, root._ctx
    if before._ctx is not None:
        root.__dict__["_snapshot"] = before  # reused as the stand-in (Tensor._set_node)
    node = ViewScatter.apply(before, view, positions, root.data)._ctx
    root._set_node(node)
    root._requires_grad = True
    view.__dict__["_root_seq"] = node.seq
    return view


def refresh_view(view: Tensor, root: Tensor) -> None:
    """``view``'s root got a new node since the view last looked (an in-place op with autograd
    on the root): give the view a ViewGather node that reads from the root's new one."""
    if not is_grad_enabled():
        return  # nothing is recorded now; the view is brought up to date when it next is
    xp = view._device.xp
    positions = view_positions(xp, root.data, view.data, "view")
    gathered = ViewGather.apply(root, view.data, positions)
    view._set_node(gathered._ctx)
    view._requires_grad = gathered._requires_grad
    view.__dict__["_root_seq"] = 0 if root._ctx is None else root._ctx.seq
