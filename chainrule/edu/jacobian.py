"""Print a Jacobian as a labelled table, to see what backprop avoids building."""

from __future__ import annotations

import builtins

import numpy as np

from chainrule.autograd.functional import jacobian
from chainrule.backend import to_numpy
from chainrule.tensor import Tensor


def _labels(prefix: str, shape: tuple) -> list:
    if len(shape) <= 1:
        return [f"{prefix}_{i}" for i in range(int(np.prod(shape, dtype=np.int64)))]
    return [f"{prefix}[{','.join(map(str, idx))}]" for idx in np.ndindex(*shape)]


def jacobian_table(fn, x, precision: int = 4, print: bool = True) -> str:  # noqa: A002
    """The Jacobian J[i, j] = dy_i/dx_j of ``y = fn(x)`` at ``x``, as a table.

    Rows are the outputs y_i, columns the inputs x_j (tensors of more than one dimension are
    flattened, their labels keep the multi-index). The matrix comes from
    :func:`chainrule.autograd.functional.jacobian`: one backward pass per output element.

    Backprop never builds this matrix. For a softmax of n logits it has n^2 entries, and the
    whole Jacobian of a network's loss with respect to its activations would be enormous.
    Each node's ``backward`` computes the vector-Jacobian product ``v^T J`` straight from the
    formula (for softmax ``s * (v - (v . s))``), never J itself.

    Args:
        fn: a function of one tensor returning one tensor.
        x: the point (a Tensor, or anything ``chainrule.tensor`` accepts).
        precision: digits after the decimal point.
        print: also print the table (default True).

    Returns:
        the table as a string.

    Example (softmax: J = diag(s) - s s^T, and every row sums to zero because the outputs
    always sum to one):
        >>> import numpy as np
        >>> import chainrule
        >>> from chainrule.autograd.functional import jacobian
        >>> x = chainrule.tensor([1.0, 2.0, 3.0], dtype=chainrule.float64)
        >>> table = jacobian_table(lambda t: t.softmax(0), x)
        Jacobian dy/dx: 3 outputs x 3 inputs
        dy_i/dx_j      x_0      x_1      x_2
              y_0   0.0819  -0.0220  -0.0599
              y_1  -0.0220   0.1848  -0.1628
              y_2  -0.0599  -0.1628   0.2227
        >>> s = x.softmax(0).numpy()
        >>> J = jacobian(lambda t: t.softmax(0), x).numpy()
        >>> bool(np.allclose(J, np.diag(s) - np.outer(s, s)))
        True
        >>> bool(np.allclose(J.sum(axis=1), 0.0))
        True
    """
    if not isinstance(x, Tensor):
        from chainrule.tensor import tensor

        x = tensor(x)
    J = jacobian(fn, x.detach())
    out_shape = tuple(J.shape)[: J.ndim - x.ndim]
    matrix = np.asarray(to_numpy(J.data), dtype=np.float64).reshape(
        int(np.prod(out_shape, dtype=np.int64)), int(x.data.size)
    )
    rows = _labels("y", out_shape)
    cols = _labels("x", tuple(x.shape))
    cells = [[f"{v:.{precision}f}" for v in row] for row in matrix]
    corner = "dy_i/dx_j"
    w0 = max([len(corner), *map(len, rows)])
    w = max([len(c) for c in cols] + [len(c) for r in cells for c in r])
    lines = [
        f"Jacobian dy/dx: {len(rows)} outputs x {len(cols)} inputs",
        corner.rjust(w0) + "".join("  " + c.rjust(w) for c in cols),
    ]
    for label, row in zip(rows, cells):
        lines.append(label.rjust(w0) + "".join("  " + c.rjust(w) for c in row))
    text = "\n".join(lines)
    if print:
        builtins.print(text)
    return text
