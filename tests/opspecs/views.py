"""OpSpecs of the view bookkeeping (chainrule.ops.views): in-place ops with autograd on a view
(the root gets a ViewScatter node) and views used after their root changed in place (the view
gets a ViewGather node). The same code runs in both frameworks: torch's semantics are the
reference, values and gradients.
"""

from opspec import OpSpec


def _augmented_assignment(x):
    y = x * 1.0
    y[:, 0] *= 3.0  # getitem view, mul_ on it, then setitem of the view back
    return y * y


def _write_through_view(x):
    y = x * 1.0
    v = y[1:]
    v.mul_(x[:-1])  # changes y too; v and y are both used afterwards
    return y * 2.0 + (v * v).sum()


def _transposed_view(x):
    y = x * 1.0
    t = y.transpose(0, 1)
    t.add_(1.5)
    return y * y


def _view_of_a_view(x):
    y = x * 1.0
    w = y.reshape(-1)[1:3]
    w.mul_(w * 1.0)
    return y * 3.0


def _stale_view(x):
    y = x * 1.0
    v = y[:, 1:]
    y.mul_(x)  # v now shows x^2 values: its gradient must see the change
    return v * v


def _stale_expanded_view(x):
    y = x * 1.0
    v = y[:1].expand(3, -1)  # one row read three times: gradients add up
    y.mul_(2.0)
    return v * x


SHAPES = [((3, 4),)]

SPECS = [
    OpSpec(
        "view_inplace_augmented_assignment", _augmented_assignment, _augmented_assignment, SHAPES
    ),
    OpSpec("view_inplace_write_through", _write_through_view, _write_through_view, SHAPES),
    OpSpec("view_inplace_transposed", _transposed_view, _transposed_view, SHAPES),
    OpSpec("view_inplace_view_of_view", _view_of_a_view, _view_of_a_view, SHAPES),
    OpSpec("view_stale_after_root_inplace", _stale_view, _stale_view, SHAPES),
    OpSpec("view_stale_expanded", _stale_expanded_view, _stale_expanded_view, SHAPES),
]
