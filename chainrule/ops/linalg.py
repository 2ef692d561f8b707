"""Linear algebra: matmul (batched, broadcasting) and its special cases, outer, einsum, linear.

For C = A B:  dL/dA = dL/dC B^T  and  dL/dB = A^T dL/dC. Every backward here is that rule, with
the batch dimensions that broadcasting added summed back out.
"""

from __future__ import annotations

import string

from chainrule.autograd.function import Function, graph_inputs
from chainrule.ops.common import as_tensor_like
from chainrule.tensor import Tensor

# ---------------------------------------------------------------- helpers


def _sum_to(g, shape):
    """Sum ``g`` over the leading and size-1 dims that broadcasting added; reshape to shape."""
    shape = tuple(shape)
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1
    )
    if axes:
        g = g.sum(axis=axes)
    return g.reshape(shape)


def _matmul(xp, a, b):
    """a @ b. A stack of matrices times one matrix is one BLAS call on (batch * n, k) rows
    instead of a loop of small products."""
    if b.ndim == 2 and a.ndim > 2:
        return (a.reshape(-1, a.shape[-1]) @ b).reshape(a.shape[:-1] + (b.shape[-1],))
    return xp.matmul(a, b)


def _promoted(shape, left: bool):
    """The matrix shape torch.matmul uses for an operand: (k,) -> (1, k) left, (k, 1) right."""
    if len(shape) != 1:
        return tuple(shape)
    return (1,) + tuple(shape) if left else tuple(shape) + (1,)


# ---------------------------------------------------------------- Functions


class MatMul(Function):
    """C = A @ B (batched, broadcasting);  dC/dA = grad @ B^T, dC/dB = A^T @ grad.

    A 1-D operand is promoted to a matrix ((k,) -> (1, k) on the left, (k, 1) on the right)
    and the added dimension removed again, as in torch.matmul.
    """

    rule = "d(A @ B)/dA = grad @ B^T, d(A @ B)/dB = A^T @ grad (broadcast batch dims summed)"

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        ctx.a_shape, ctx.b_shape = a.shape, b.shape
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        return _matmul(ctx.xp, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        a_shape, b_shape = ctx.a_shape, ctx.b_shape
        if len(a_shape) == 1 and len(b_shape) == 1:  # dot product: grad is a scalar
            return (grad * b if need_a else None), (grad * a if need_b else None)
        pa, pb = _promoted(a_shape, True), _promoted(b_shape, False)
        g = grad
        if len(a_shape) == 1:
            g = g[..., None, :]
        if len(b_shape) == 1:
            g = g[..., None]
        ga = gb = None
        if need_a:
            b2 = b.reshape(pb)
            ga = _matmul(ctx.xp, g, b2.swapaxes(-1, -2))
            ga = _sum_to(ga, pa).reshape(a_shape)
        if need_b:
            a2 = a.reshape(pa)
            if len(pb) == 2 and g.ndim > 2:
                # B is shared by every batch: sum over the batch in one (k, N) @ (N, m) product.
                k, m = pb
                gb = a2.reshape(-1, k).T @ g.reshape(-1, m)
            else:
                gb = _sum_to(ctx.xp.matmul(a2.swapaxes(-1, -2), g), pb)
            gb = gb.reshape(b_shape)
        return ga, gb

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = graph_inputs(ctx)
        need_a, need_b = ctx.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:
            return (grad * b if need_a else None), (grad * a if need_b else None)
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g = grad.unsqueeze(-2) if a.ndim == 1 else grad
        g = g.unsqueeze(-1) if b.ndim == 1 else g
        ga = gb = None
        if need_a:
            ga = g.matmul(b2.transpose(-1, -2))
            ga = ga.reshape(-1, a.shape[0]).sum(0) if a.ndim == 1 else ga
        if need_b:
            gb = a2.transpose(-1, -2).matmul(g)
            gb = gb.reshape(-1, b.shape[0]).sum(0) if b.ndim == 1 else gb
        return ga, gb  # batch dims that broadcasting added: the engine sums them


class Outer(Function):
    """C[i, j] = a[i] b[j];  dC/da = grad @ b, dC/db = grad^T @ a."""

    rule = "d outer(a, b)/da = grad @ b, d outer(a, b)/db = grad^T @ a"

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        return a[:, None] * b[None, :]

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        ga = grad @ b if ctx.needs_input_grad[0] else None
        gb = a @ grad if ctx.needs_input_grad[1] else None
        return ga, gb

    @staticmethod
    def backward_graph(ctx, grad):
        a, b = graph_inputs(ctx)
        need_a, need_b = ctx.needs_input_grad
        return ((grad * b).sum(1) if need_a else None), (
            (grad * a.unsqueeze(1)).sum(0) if need_b else None
        )


class Einsum(Function):
    """C = einsum(subscripts, A, B, ...), a sum of products over the repeated indices;
    dC/dA = einsum of grad with the other operands, onto A's subscripts.

    Indices of A that appear nowhere else were summed out of A alone: their gradient is
    broadcast back. A repeated index inside A (a diagonal, ``'ii->i'``) gets the gradient on
    that diagonal and zeros elsewhere.
    """

    rule = "d einsum(..., A, ...)/dA = einsum(grad, other operands -> A's subscripts)"

    @staticmethod
    def forward(ctx, *operands, terms, output, optimize):
        ctx.terms, ctx.output = terms, output
        ctx.save_for_backward(*operands)
        xp = ctx.xp
        out = xp.asarray(xp.einsum(",".join(terms) + "->" + output, *operands, optimize=optimize))
        # NumPy's einsum may return a view of an operand ('ij->ji', 'ii->i') or permuted
        # strides: the result must own its memory, and row-major suits the ops that follow.
        if any(xp.may_share_memory(out, op) for op in operands):
            return out.copy()
        return out if out.ndim == 0 else xp.ascontiguousarray(out)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        operands = ctx.saved_tensors
        terms, output = ctx.terms, ctx.output
        sizes = {}
        for term, op in zip(terms, operands):
            for letter, n in zip(term, op.shape):
                sizes[letter] = max(sizes.get(letter, 1), n)
        grads = []
        for i, (term, op) in enumerate(zip(terms, operands)):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [j for j in range(len(terms)) if j != i]
            elsewhere = set(output).union(*(terms[j] for j in others))
            unique = list(dict.fromkeys(term))
            own = {letter: op.shape[term.index(letter)] for letter in unique}
            # Letters found nowhere else, or broadcast from size 1 here, are summed (then
            # broadcast back); the rest come out of one einsum of grad with the other operands.
            keep = [c for c in unique if c in elsewhere and own[c] == sizes[c]]
            subs = ",".join([output] + [terms[j] for j in others]) + "->" + "".join(keep)
            g = xp.asarray(
                xp.einsum(subs, grad, *(operands[j] for j in others), optimize=len(others) > 0)
            )
            kept = iter(g.shape)
            g = g.reshape(tuple(next(kept) if c in keep else 1 for c in unique))
            full = tuple(own[c] for c in unique)
            if g.shape != full:
                g = xp.broadcast_to(g, full)
            if len(unique) < len(term):
                # A repeated letter: the gradient lives on the diagonal of those dims.
                n = len(unique)
                full_g = xp.zeros(op.shape, dtype=grad.dtype)
                where = []
                for c in term:
                    shape = [1] * n
                    shape[unique.index(c)] = own[c]
                    where.append(xp.arange(own[c]).reshape(shape))
                full_g[tuple(where)] = g
                g = full_g
            elif not g.flags.writeable:
                g = xp.ascontiguousarray(g)
            grads.append(g)
        return tuple(grads)


class Linear(Function):
    """y = x W^T + b  (x: (*, in), W: (out, in), b: (out,));
    dy/dx = grad W, dy/dW = grad^T x (over all rows), dy/db = sum of grad over rows."""

    rule = "d(x W^T + b)/dx = grad @ W, d/dW = grad^T @ x, d/db = grad summed over rows"

    @staticmethod
    def forward(ctx, x, weight, bias):
        need_x, need_w, _ = ctx.needs_input_grad
        ctx.x_shape = x.shape
        ctx.save_for_backward(x if need_w else None, weight if need_x else None)
        out = x.reshape(-1, x.shape[-1]) @ weight.T  # W^T is a free transposed view for BLAS
        if bias is not None:
            out += bias
        return out.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        g2 = grad.reshape(-1, grad.shape[-1])  # every leading dim is a row of one big GEMM
        gx = (g2 @ weight).reshape(ctx.x_shape) if need_x else None
        gw = g2.T @ x.reshape(-1, x.shape[-1]) if need_w else None
        gb = g2.sum(axis=0) if need_b else None
        return gx, gw, gb

    @staticmethod
    def backward_graph(ctx, grad):
        x, weight, bias = graph_inputs(ctx)
        need_x, need_w, need_b = ctx.needs_input_grad
        g2 = grad.reshape(-1, weight.shape[0])
        gx = grad.matmul(weight) if need_x else None
        gw = g2.transpose(0, 1).matmul(x.reshape(-1, weight.shape[1])) if need_w else None
        gb = g2.sum(0) if need_b else None
        return gx, gw, gb


# ---------------------------------------------------------------- checks


def _operands(a, b, op: str):
    if not isinstance(a, Tensor):
        a = as_tensor_like(a, b)
    if not isinstance(b, Tensor):
        b = as_tensor_like(b, a)
    if a.data.dtype != b.data.dtype:
        raise RuntimeError(
            f"{op}: expected both operands to have the same dtype, but got {a.dtype.name} and "
            f"{b.dtype.name}"
        )
    return a, b


def _cannot_multiply(op, a, b, k1, k2):
    return RuntimeError(
        f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied ({k1} != {k2})"
    )


# ---------------------------------------------------------------- public functions


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with torch.matmul's rules.

    - 1-D @ 1-D: the dot product (a scalar).
    - 2-D @ 2-D: the matrix product.
    - 1-D @ 2-D / 2-D @ 1-D: the vector is treated as a row (left) or column (right) matrix,
      and that dimension is removed from the result.
    - N-D: batched over the leading dims, which broadcast (``(5, 1, n, k) @ (3, k, m)`` gives
      ``(5, 3, n, m)``).

    Backward: dA = grad @ B^T, dB = A^T @ grad, summed over broadcast batch dims.

    Shape: a (*, n, k), b (*, k, m) -> (*, n, m).

    Example:
        >>> a = chainrule.ones(2, 3)
        >>> (a @ chainrule.ones(3)).shape
        chainrule.Size([2])
    """
    a, b = _operands(a, b, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"matmul: both arguments need to be at least 1D, but they are {a.ndim}D and {b.ndim}D"
        )
    k1 = a.data.shape[-1]
    k2 = b.data.shape[-2] if b.ndim >= 2 else b.data.shape[0]
    if k1 != k2:
        raise _cannot_multiply("matmul", a, b, k1, k2)
    batch_a, batch_b = a.data.shape[:-2], b.data.shape[:-2]
    for x, y in zip(reversed(batch_a), reversed(batch_b)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(
                f"matmul: the batch dimensions {tuple(batch_a)} and {tuple(batch_b)} of shapes "
                f"{tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast together"
            )
    return MatMul.apply(a, b)


def mm(a: Tensor, b: Tensor) -> Tensor:
    """The product of two matrices (2-D only; no broadcasting): (n, k) @ (k, m) -> (n, m)."""
    a, b = _operands(a, b, "mm")
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected two 2-D matrices, but got {a.ndim}D and {b.ndim}D")
    if a.data.shape[1] != b.data.shape[0]:
        raise _cannot_multiply("mm", a, b, a.data.shape[1], b.data.shape[0])
    return MatMul.apply(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched matrix product of 3-D tensors (no broadcasting): (B, n, k) @ (B, k, m)."""
    a, b = _operands(a, b, "bmm")
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"bmm: expected two 3-D tensors, but got {a.ndim}D and {b.ndim}D")
    if a.data.shape[0] != b.data.shape[0]:
        raise RuntimeError(
            f"bmm: batch sizes differ: shapes {tuple(a.shape)} and {tuple(b.shape)} "
            f"({a.data.shape[0]} != {b.data.shape[0]})"
        )
    if a.data.shape[2] != b.data.shape[1]:
        raise _cannot_multiply("bmm", a, b, a.data.shape[2], b.data.shape[1])
    return MatMul.apply(a, b)


def dot(a: Tensor, b: Tensor) -> Tensor:
    """The dot product sum_i a_i b_i of two 1-D tensors of the same length."""
    a, b = _operands(a, b, "dot")
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"dot: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.data.shape[0] != b.data.shape[0]:
        raise _cannot_multiply("dot", a, b, a.data.shape[0], b.data.shape[0])
    return MatMul.apply(a, b)


def outer(a: Tensor, b: Tensor) -> Tensor:
    """The outer product: out[i, j] = a[i] * b[j] for 1-D a (n,) and b (m,) -> (n, m)."""
    a, b = _operands(a, b, "outer")
    for name, t in (("self", a), ("vec2", b)):
        if t.ndim != 1:
            raise RuntimeError(f"outer: expected 1-D argument {name}, but got {t.ndim}-D")
    return Outer.apply(a, b)


def _parse_einsum(equation: str, shapes):
    """The equation with every '...' replaced by letters and the output made explicit.

    Returns (terms, output): one subscript string per operand and the output subscripts.
    """
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(
            f"einsum(): the equation {equation!r} has {len(terms)} operand(s), but "
            f"{len(shapes)} were given"
        )
    for term in terms + [out]:
        if any(not c.isalpha() for c in term.replace("...", "")):
            raise RuntimeError(f"einsum(): invalid subscript in {equation!r}: use letters a-zA-Z")
    free = [c for c in string.ascii_letters if c not in eq]
    n_ell = []
    for term, shape in zip(terms, shapes):
        explicit = len(term.replace("...", ""))
        k = len(shape) - explicit if "..." in term else 0
        if k < 0 or ("..." not in term and explicit != len(shape)):
            raise RuntimeError(
                f"einsum(): the subscripts {term!r} do not match an operand of shape "
                f"{tuple(shape)} ({explicit} subscripts for {len(shape)} dimensions)"
            )
        n_ell.append(k)
    ell = "".join(free[: max(n_ell, default=0)])
    terms = [
        t.replace("...", ell[len(ell) - k :]) if "..." in t else t for t, k in zip(terms, n_ell)
    ]
    if arrow:
        output = out.replace("...", ell)
    else:
        # Implicit output: the broadcast dims, then the letters used once, alphabetically.
        counts = {}
        for t in terms:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        output = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return terms, output


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation: multiply the operands, matching dims by letter, and sum over the
    letters missing from the output.

    ``'ij,jk->ik'`` is a matrix product, ``'ii->i'`` a diagonal, ``'...ij->...ji'`` a batched
    transpose; without ``->`` the output holds the letters used once, in alphabetical order.
    Operands may be given one by one or as a single list.

    Example:
        >>> a, b = chainrule.ones(2, 3), chainrule.ones(3, 4)
        >>> chainrule.einsum("ij,jk->ik", a, b).shape
        chainrule.Size([2, 4])
    """
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    first = next((t for t in operands if isinstance(t, Tensor)), None)
    if first is None:
        raise TypeError("einsum(): expected Tensor operands")
    operands = tuple(as_tensor_like(t, first) for t in operands)
    dtypes = {t.data.dtype for t in operands}
    if len(dtypes) > 1:
        raise RuntimeError(
            "einsum(): expected all operands to have the same dtype, but got "
            + ", ".join(t.dtype.name for t in operands)
        )
    terms, output = _parse_einsum(equation, [t.data.shape for t in operands])
    return Einsum.apply(*operands, terms=tuple(terms), output=output, optimize=len(operands) > 1)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b, the affine map of a fully connected layer (one fused op).

    Args:
        x: input of shape (*, in_features).
        weight: (out_features, in_features).
        bias: (out_features,) or None.

    Shape: (*, in_features) -> (*, out_features).

    Example:
        >>> chainrule.linear(chainrule.ones(4, 3), chainrule.ones(2, 3)).shape
        chainrule.Size([4, 2])
    """
    if x.ndim == 0:
        raise RuntimeError("linear: the input must have at least 1 dimension, got a 0-d tensor")
    if weight.ndim != 2:
        raise RuntimeError(
            f"linear: weight must be 2-D (out_features, in_features), got shape "
            f"{tuple(weight.shape)}"
        )
    in_features = weight.data.shape[1]
    if x.data.shape[-1] != in_features:
        raise RuntimeError(
            f"linear: expected input with {in_features} features (in_features of the weight of "
            f"shape {tuple(weight.shape)}), but got {x.data.shape[-1]} features "
            f"(input shape {tuple(x.shape)})"
        )
    dtypes = [x.data.dtype, weight.data.dtype] + ([bias.data.dtype] if bias is not None else [])
    if len(set(dtypes)) > 1:
        raise RuntimeError(
            "linear: expected input, weight and bias to have the same dtype, but got "
            + ", ".join(str(d) for d in dtypes)
        )
    if bias is not None:
        out_features = weight.data.shape[0]
        if bias.ndim > 1 or bias.data.size not in (1, out_features):
            raise RuntimeError(
                f"linear: bias of shape {tuple(bias.shape)} does not match out_features "
                f"{out_features}"
            )
    return Linear.apply(x, weight, bias)


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the (dim1, dim2) planes, shifted by ``offset``, as the last dim."""
    return _diagonal(x, offset, dim1, dim2)


def _diagonal(x: Tensor, offset: int, dim1: int, dim2: int) -> Tensor:
    from chainrule.ops.common import normalize_dim
    from chainrule.ops.indexing import getitem
    from chainrule.ops.movement import movedim

    d1, d2 = normalize_dim(dim1, x.ndim, "diagonal"), normalize_dim(dim2, x.ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal: dim1 and dim2 cannot be the same dimension ({d1})")
    moved = movedim(x, (d1, d2), (-2, -1))
    rows, cols = moved.shape[-2], moved.shape[-1]
    n = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    xp = x._device.xp
    i = xp.arange(n) - min(offset, 0)
    j = xp.arange(n) + max(offset, 0)
    return getitem(moved, (Ellipsis, Tensor._make(i, x._device), Tensor._make(j, x._device)))


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """1-D x: a square matrix with x on the ``diagonal``-th diagonal; 2-D x: that diagonal."""
    if x.ndim == 2:
        return _diagonal(x, diagonal, 0, 1)
    if x.ndim != 1:
        raise RuntimeError(f"diag: expected a 1-D or 2-D tensor, got shape {tuple(x.shape)}")
    from chainrule.ops.indexing import setitem_

    n = x.shape[0] + abs(diagonal)
    xp = x._device.xp
    out = Tensor._make(xp.zeros((n, n), dtype=x.data.dtype), x._device)
    i = xp.arange(x.shape[0]) - min(diagonal, 0)
    j = xp.arange(x.shape[0]) + max(diagonal, 0)
    setitem_(out, (Tensor._make(i, x._device), Tensor._make(j, x._device)), x)
    return out


def trace(x: Tensor) -> Tensor:
    """The sum of the main diagonal of a 2-D tensor."""
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a 2-D tensor, got shape {tuple(x.shape)}")
    return _diagonal(x, 0, 0, 1).sum()


def mv(a: Tensor, v: Tensor) -> Tensor:
    """Matrix (n, m) times vector (m,): (n,)."""
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(
            f"mv: expected a 2-D matrix and a 1-D vector, got {tuple(a.shape)} and {tuple(v.shape)}"
        )
    return matmul(a, v)


def addmm(input: Tensor, a: Tensor, b: Tensor, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """beta * input + alpha * (a @ b)."""
    return _scaled_sum(input, mm(a, b), beta, alpha)


class Inverse(Function):
    """Y = A^-1 (square, batched);  dL/dA = -Y^T (dL/dY) Y^T."""

    rule = "d inverse(A) . G = -A^-T G A^-T"

    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        try:
            out = xp.linalg.inv(a)
        except xp.linalg.LinAlgError as e:
            raise RuntimeError(
                f"inverse: the matrix of shape {tuple(a.shape)} is singular ({e})"
            ) from None
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        (out,) = ctx.saved_tensors
        t = xp.swapaxes(out, -1, -2)
        return -(t @ grad @ t)

    @staticmethod
    def backward_graph(ctx, grad):
        (a,) = graph_inputs(ctx)
        y_t = inverse(a).transpose(-1, -2)
        return -(y_t.matmul(grad).matmul(y_t))


def inverse(a: Tensor) -> Tensor:
    """The inverse of a square matrix (or of each in a batch, (..., n, n))."""
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(
            f"inverse: expected a square matrix or a batch of them, got shape {tuple(a.shape)}"
        )
    if a.data.dtype.kind != "f":
        raise RuntimeError(f"inverse: expected a floating point tensor, got {a.dtype.name}")
    return Inverse.apply(a)


def cross(a: Tensor, b: Tensor, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``dim``: a x b (broadcasting)."""
    from chainrule.ops.common import normalize_dim
    from chainrule.ops.movement import roll

    xp = a._device.xp
    shape = xp.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    d = normalize_dim(dim, len(shape), "cross") - len(shape)  # counted from the end
    if shape[d] != 3 or a.shape[d] != 3 or b.shape[d] != 3:
        raise RuntimeError(
            f"cross: inputs dimension {dim} must have length 3, got shapes "
            f"{tuple(a.shape)} and {tuple(b.shape)}"
        )
    # (a x b)_i = a_(i+1) b_(i+2) - a_(i+2) b_(i+1): two rolls of each
    return roll(a, -1, d) * roll(b, -2, d) - roll(a, -2, d) * roll(b, -1, d)


def kron(a: Tensor, b: Tensor) -> Tensor:
    """The Kronecker product: every element of a times the whole of b, as blocks."""
    n = max(a.ndim, b.ndim)
    a = a.reshape((1,) * (n - a.ndim) + tuple(a.shape))
    b = b.reshape((1,) * (n - b.ndim) + tuple(b.shape))
    # a[i, j] * b[k, l] at [i, k, j, l] (interleaved), then merged pairwise
    a_shape = [s for d in a.shape for s in (d, 1)]
    b_shape = [s for d in b.shape for s in (1, d)]
    out = a.reshape(a_shape) * b.reshape(b_shape)
    return out.reshape(tuple(x * y for x, y in zip(a.shape, b.shape)))


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """beta * input + alpha * (batch1 @ batch2), batched: (B, n, m) @ (B, m, p)."""
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


# ---------------------------------------------------------------- more products and diagonals


def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Contract the last ``dims`` dims of a with the first ``dims`` of b (or the listed pairs
    ``dims=([a dims], [b dims])``): one matrix product after moving the contracted dims."""
    from chainrule.ops.common import normalize_dim
    from chainrule.ops.movement import permute

    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    # paired in the given order (normalize_dims would sort them)
    da = [normalize_dim(d, a.ndim, "tensordot") for d in da]
    db = [normalize_dim(d, b.ndim, "tensordot") for d in db]
    if len(da) != len(db) or any(a.shape[i] != b.shape[j] for i, j in zip(da, db, strict=True)):
        raise RuntimeError(
            f"tensordot: contracted dims of a {list(a.shape)} at {da} and of b {list(b.shape)} at "
            f"{db} must have the same sizes"
        )
    free_a = [d for d in range(a.ndim) if d not in da]
    free_b = [d for d in range(b.ndim) if d not in db]
    k = 1
    for d in da:
        k *= a.shape[d]
    left = permute(a, free_a + da).reshape(-1, k)
    right = permute(b, db + free_b).reshape(k, -1)
    shape = tuple(a.shape[d] for d in free_a) + tuple(b.shape[d] for d in free_b)
    return mm(left, right).reshape(shape)


def inner(a: Tensor, b: Tensor) -> Tensor:
    """Sum over the last dims of a and b of their product (a number times a tensor for 0-d)."""
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, ([-1], [-1]))


def vdot(a: Tensor, b: Tensor) -> Tensor:
    """The dot product of two 1-D tensors (no conjugation: chainrule is real)."""
    return dot(a, b)


def ger(a: Tensor, b: Tensor) -> Tensor:
    """Alias of ``outer``."""
    return outer(a, b)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """beta * input + alpha * (mat @ vec)."""
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """beta * input + alpha * outer(vec1, vec2)."""
    return _scaled_sum(input, outer(vec1, vec2), beta, alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """beta * input + alpha * sum_b batch1[b] @ batch2[b]."""
    return _scaled_sum(input, bmm(batch1, batch2).sum(0), beta, alpha)


def _scaled_sum(input, prod, beta, alpha):  # noqa: A002
    """beta * input + alpha * prod; with beta = 0, input is ignored (NaN and inf in it do not
    propagate, as in PyTorch) but still sets the broadcast shape."""
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        from chainrule.ops.movement import broadcast_shapes, expand

        return expand(prod, broadcast_shapes(input.shape, prod.shape)).clone()
    return (input if beta == 1 else input * beta) + prod


def chain_matmul(*matrices) -> Tensor:
    """The product of the given 2-D tensors, left to right."""
    out = matrices[0]
    for m in matrices[1:]:
        out = mm(out, m)
    return out


def diag_embed(x: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices whose ``offset`` diagonal is x's last dim, in the (dim1, dim2) planes of the
    result (one more dim than x); the rest is zero."""
    from chainrule.ops.common import normalize_dim
    from chainrule.ops.indexing import setitem_
    from chainrule.ops.movement import movedim

    xp = x._device.xp
    n = x.shape[-1] + abs(offset)
    lead = tuple(x.shape[:-1])
    out = Tensor._make(xp.zeros(lead + (n, n), dtype=x.data.dtype), x._device)
    i = xp.arange(x.shape[-1]) - min(offset, 0)
    j = xp.arange(x.shape[-1]) + max(offset, 0)
    setitem_(out, (Ellipsis, Tensor._make(i, x._device), Tensor._make(j, x._device)), x)
    d1 = normalize_dim(dim1, x.ndim + 1, "diag_embed")
    d2 = normalize_dim(dim2, x.ndim + 1, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diag_embed: dim1 and dim2 cannot be the same ({d1})")
    return movedim(out, (-2, -1), (d1, d2))


def diagflat(x: Tensor, offset: int = 0) -> Tensor:
    """A square matrix with the flattened x on its ``offset`` diagonal."""
    return diag(x.reshape(-1), offset)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803
    """The Vandermonde matrix of a 1-D x: columns x^(N-1), ..., x, 1 (reversed if
    ``increasing``)."""
    from chainrule.ops.elementwise import pow as _pow
    from chainrule.ops.movement import flip

    if x.ndim != 1:
        raise RuntimeError(f"x must be a one-dimensional tensor, got shape {list(x.shape)}")
    n = x.shape[0] if N is None else N
    powers = Tensor._make(x._device.xp.arange(n), x._device)
    out = _pow(x.unsqueeze(1), powers)
    return out if increasing else flip(out, (1,))


# ---------------------------------------------------------------- torch.* names of chainrule.linalg
# (imported when called: chainrule.linalg builds on this module)


def det(a: Tensor) -> Tensor:
    """The determinant of square matrices (..., n, n); see ``chainrule.linalg.det``."""
    from chainrule import linalg

    return linalg.det(a)


def slogdet(a: Tensor):
    """(sign, log|det|) of square matrices; see ``chainrule.linalg.slogdet``."""
    from chainrule import linalg

    return linalg.slogdet(a)


def logdet(a: Tensor) -> Tensor:
    """log det(A): NaN where the determinant is negative, -inf where it is 0."""
    from chainrule import linalg
    from chainrule.ops.elementwise import where

    sign, logabs = linalg.slogdet(a)
    return where(sign < 0, float("nan"), where(sign == 0, float("-inf"), logabs))


def cholesky(a: Tensor, upper: bool = False) -> Tensor:
    """The Cholesky factor L (A = L L^T) of symmetric positive-definite matrices, or U = L^T
    with ``upper=True``."""
    from chainrule import linalg

    return linalg.cholesky(a, upper=upper)


def matrix_power(a: Tensor, n: int) -> Tensor:
    """A^n for square matrices (negative n inverts); see ``chainrule.linalg.matrix_power``."""
    from chainrule import linalg

    return linalg.matrix_power(a, n)


def svd(a: Tensor, some: bool = True, compute_uv: bool = True):
    """(U, S, V) with A = U diag(S) V^T (PyTorch's older ``torch.svd``: V, not V^T, and
    ``some=True`` for the reduced decomposition). Without ``compute_uv`` U and V are zeros."""
    from chainrule import linalg

    if not compute_uv:
        s = linalg.svdvals(a)
        xp = a._device.xp
        m, n = a.shape[-2], a.shape[-1]
        lead = tuple(a.shape[:-2])
        cu, cv = (min(m, n), min(m, n)) if some else (m, n)
        zeros_u = Tensor._make(xp.zeros(lead + (m, cu), dtype=a.data.dtype), a._device)
        zeros_v = Tensor._make(xp.zeros(lead + (n, cv), dtype=a.data.dtype), a._device)
        return zeros_u, s, zeros_v
    u, s, vh = linalg.svd(a, full_matrices=not some)
    return u, s, vh.transpose(-2, -1)
