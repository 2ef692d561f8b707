"""``chainrule.linalg``: the linear-algebra functions of ``torch.linalg`` that a course needs —
inverse, determinant, solving a linear system, norms, matrix powers — batched over leading
dims ``(..., n, n)`` and differentiable.

Determinants and solves are Functions here (NumPy's LAPACK calls do the work); the norms and
the matrix power are compositions of existing ops.
"""

from __future__ import annotations

import math

from chainrule.autograd.function import Function
from chainrule.ops import linalg as _linalg
from chainrule.ops import reduce as _reduce
from chainrule.ops.linalg import cross, inverse
from chainrule.tensor import Tensor

__all__ = [
    "svd",
    "qr",
    "svdvals",
    "matrix_rank",
    "cholesky",
    "eigh",
    "eigvalsh",
    "inv",
    "det",
    "slogdet",
    "solve",
    "norm",
    "vector_norm",
    "matrix_norm",
    "matrix_power",
    "cross",
]

inv = inverse


def _square(a: Tensor, op: str) -> None:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(
            f"linalg.{op}: expected a square matrix or a batch of them, got shape {tuple(a.shape)}"
        )
    if a.data.dtype.kind != "f":
        raise RuntimeError(f"linalg.{op}: expected a floating point tensor, got {a.dtype.name}")


class Det(Function):
    """y = det A;  dy/dA = the cofactor matrix of A (= det(A) A^-T when A is invertible)."""

    rule = "d det(A)/dA = cofactor(A) = det(A) * A^-T"

    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        ctx.save_for_backward(a)
        return xp.asarray(xp.linalg.det(a), dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        (a,) = ctx.saved_tensors
        # NOTE: det(A) A^-T has no meaning for a singular A, whose cofactors may still be
        # non-zero (rank n - 1). With A = U S V^T the cofactor matrix is
        # det(U) det(V) U diag(prod_{j != i} s_j) V^T: exact for every A, no division.
        u, s, vh = xp.linalg.svd(a)
        sign = xp.linalg.det(u) * xp.linalg.det(vh)
        ones = xp.ones(s.shape[:-1] + (1,), dtype=s.dtype)
        left = xp.cumprod(xp.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
        right = xp.flip(
            xp.cumprod(xp.concatenate([ones, xp.flip(s, -1)[..., :-1]], axis=-1), axis=-1), -1
        )
        cofactor = (u * (left * right)[..., None, :]) @ vh
        return (grad * sign)[..., None, None] * cofactor


class SlogDet(Function):
    """(sign, log|det A|) of A; the differentiable output is log|det A|, d/dA = A^-T."""

    rule = "d log|det A|/dA = A^-T"

    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        sign, logabs = xp.linalg.slogdet(a)
        ctx.save_for_backward(a)
        return xp.asarray(logabs, dtype=a.dtype), xp.asarray(sign, dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        (a,) = ctx.saved_tensors
        try:
            inv_t = xp.swapaxes(xp.linalg.inv(a), -1, -2)
        except xp.linalg.LinAlgError:  # log|det| = -inf: no finite gradient
            inv_t = xp.full_like(a, xp.nan)
        return grad[..., None, None] * inv_t


class Solve(Function):
    """X = A^-1 B (A (..., n, n), B (..., n, k));  dL/dB = A^-T G, dL/dA = -(A^-T G) X^T."""

    rule = "d solve(A, B): dB = solve(A^T, G), dA = -dB X^T"

    @staticmethod
    def forward(ctx, a, b):
        xp = ctx.xp
        try:
            x = xp.linalg.solve(a, b)
        except xp.linalg.LinAlgError as e:
            raise RuntimeError(f"linalg.solve: the matrix is singular ({e})") from None
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        a, x = ctx.saved_tensors
        gb = xp.linalg.solve(xp.swapaxes(a, -1, -2), grad)
        ga = -(gb @ xp.swapaxes(x, -1, -2)) if ctx.needs_input_grad[0] else None
        return ga, gb if ctx.needs_input_grad[1] else None


def det(a: Tensor) -> Tensor:
    """The determinant of a square matrix, or of each in a batch (..., n, n) -> (...)."""
    _square(a, "det")
    return Det.apply(a)


def slogdet(a: Tensor):
    """(sign, logabsdet) of the determinant: log|det A| without overflow; sign is a constant."""
    _square(a, "slogdet")
    logabs, sign = SlogDet.apply(a)
    return sign, logabs


def solve(a: Tensor, b: Tensor) -> Tensor:
    """X with A X = B: A (..., n, n); B (..., n, k), or (..., n) for one right-hand side."""
    _square(a, "solve")
    vector = b.ndim == a.ndim - 1
    if vector:
        b = b.unsqueeze(-1)
    if b.shape[-2] != a.shape[-1]:
        raise RuntimeError(
            f"linalg.solve: A of shape {tuple(a.shape)} and B of shape {tuple(b.shape)} "
            "do not fit (A X = B needs B's rows to match A's size)"
        )
    out = Solve.apply(a, b)
    return out.squeeze(-1) if vector else out


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """The vector ``ord``-norm of x's elements over ``dim`` (all of them by default)."""
    return _reduce.norm(x, ord, dim, keepdim, dtype)


def matrix_norm(x: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False) -> Tensor:  # noqa: A002
    """The Frobenius norm (``'fro'``), the nuclear norm (``'nuc'``), the largest (2) or
    smallest (-2) singular value, or the max column (ord=1) / row (ord=inf) abs sum, of the
    matrices in ``dim`` (the last two by default)."""
    d0, d1 = (d % x.ndim for d in dim)
    if ord == "fro":
        return _reduce.norm(x, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):  # from the singular values of the (d0, d1) matrices
        from chainrule.ops.movement import movedim

        s = svdvals(movedim(x, (d0, d1), (-2, -1)))
        out = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord == 2 else s.amin(-1))
        if keepdim:
            out = out.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1))
        return out
    if ord in (1, -1):  # the largest (smallest) column sum
        sums, other = _reduce.sum(x.abs(), d0, keepdim=True), d1
    elif ord in (math.inf, -math.inf):  # the largest (smallest) row sum
        sums, other = _reduce.sum(x.abs(), d1, keepdim=True), d0
    else:
        raise RuntimeError(
            f"linalg.matrix_norm: ord={ord!r} is not supported ('fro', 'nuc', 2, -2, 1, inf)"
        )
    pick = _reduce.amax if ord in (1, math.inf) else _reduce.amin
    out = pick(sums, other, keepdim=True)
    return out if keepdim else out.squeeze(max(d0, d1)).squeeze(min(d0, d1))


def norm(x: Tensor, ord=None, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """A vector norm (1-D input, or an int ``dim``) or a matrix norm (2-D input, or two dims);
    ``ord=None``: 2 for vectors, Frobenius for matrices."""
    if (dim is None and x.ndim == 2) or (isinstance(dim, tuple) and len(dim) == 2):
        return matrix_norm(x, "fro" if ord is None else ord, dim or (-2, -1), keepdim)
    return vector_norm(x, 2 if ord is None else ord, dim, keepdim)


def matrix_power(a: Tensor, n: int) -> Tensor:
    """A^n by repeated squaring (n < 0: the inverse's power; n = 0: the identity)."""
    _square(a, "matrix_power")
    if n < 0:
        a, n = inverse(a), -n
    if n == 0:  # the identity, still in A's graph (with zero gradient), as PyTorch
        from chainrule.creation import eye

        size = a.shape[-1]
        return a * 0.0 + eye(size, dtype=a.dtype, device=a.device)
    result = None
    base = a
    while n:
        if n & 1:
            result = base if result is None else _linalg.matmul(result, base)
        n >>= 1
        if n:
            base = _linalg.matmul(base, base)
    return result


class Cholesky(Function):
    """L = chol(A) (A symmetric positive definite, L lower triangular, A = L L^T);
    dL/dA = sym(L^-T Phi(L^T G) L^-1), Phi = lower triangle with the diagonal halved."""

    rule = "d chol(A): S = L^-T Phi(L^T G) L^-1, dA = (S + S^T) / 2"

    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        try:
            out = xp.linalg.cholesky(a)
        except xp.linalg.LinAlgError as e:
            raise RuntimeError(
                f"linalg.cholesky: the input is not positive-definite ({e})"
            ) from None
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        (low,) = ctx.saved_tensors
        t = xp.swapaxes
        phi = xp.tril(t(low, -1, -2) @ grad)
        n = phi.shape[-1]
        phi[..., xp.arange(n), xp.arange(n)] *= 0.5
        inv = xp.linalg.inv(low)
        s = t(inv, -1, -2) @ phi @ inv
        return (s + t(s, -1, -2)) * 0.5


class Eigh(Function):
    """(w, V) of a symmetric A = V diag(w) V^T, w ascending. The differentiable output stacks
    w as an extra last row under V: (..., n + 1, n). dL/dA = V (diag(gw) + F * (V^T gV)) V^T
    with F_ij = 1 / (w_j - w_i) off the diagonal, symmetrised."""

    rule = "d eigh: dA = V (diag(g_w) + (V^T g_V) / (w_j - w_i)) V^T, symmetrised"

    @staticmethod
    def forward(ctx, a, uplo):
        xp = ctx.xp
        w, v = xp.linalg.eigh(a, UPLO=uplo)
        ctx.save_for_backward(w, v)
        return xp.concatenate([v, w[..., None, :]], axis=-2)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        w, v = ctx.saved_tensors
        t = xp.swapaxes
        n = w.shape[-1]
        g_v, g_w = grad[..., :n, :], grad[..., n, :]
        gap = w[..., None, :] - w[..., :, None]  # w_j - w_i
        off = ~xp.eye(n, dtype=bool)
        with (
            xp.errstate(divide="ignore", invalid="ignore") if hasattr(xp, "errstate") else _Quiet()
        ):
            f = xp.where(off, 1.0 / xp.where(off, gap, 1.0), 0.0)
        inner = f * (t(v, -1, -2) @ g_v)
        inner[..., xp.arange(n), xp.arange(n)] += g_w
        out = v @ inner @ t(v, -1, -2)
        return (out + t(out, -1, -2)) * 0.5


class _Quiet:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def cholesky(a: Tensor, *, upper: bool = False) -> Tensor:
    """L lower triangular with A = L L^T (A symmetric positive definite); ``upper``: L^T."""
    _square(a, "cholesky")
    low = Cholesky.apply(a)
    return low.transpose(-2, -1) if upper else low


def eigh(a: Tensor, UPLO: str = "L"):  # noqa: N803 - PyTorch's name
    """(eigenvalues ascending, eigenvectors as columns) of a symmetric matrix (..., n, n).
    Only the lower (UPLO='L') or upper ('U') triangle of A is read, as in LAPACK; the gradient
    is that of the symmetric matrix, as in PyTorch."""
    _square(a, "eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    # NOTE: the gradient is PyTorch's: that of a symmetric A (symmetrised), whichever
    # triangle the values were read from.
    both = Eigh.apply(a, uplo=UPLO)
    n = a.shape[-1]
    return both[..., n, :], both[..., :n, :]


def eigvalsh(a: Tensor, UPLO: str = "L") -> Tensor:  # noqa: N803
    """The eigenvalues (ascending) of a symmetric matrix."""
    return eigh(a, UPLO)[0]


class SvdVals(Function):
    """s = the singular values of A (..., m, n), descending;  dL/dA = U diag(g) V^T."""

    rule = "d svdvals(A) . g = U diag(g) V^T"

    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        ctx.save_for_backward(u, vh)
        return s

    @staticmethod
    def backward(ctx, grad):
        u, vh = ctx.saved_tensors
        return (u * grad[..., None, :]) @ vh


def svdvals(a: Tensor) -> Tensor:
    """The singular values of a matrix (or of each in a batch), descending; differentiable
    (for distinct singular values: the gradient does not depend on the singular vectors'
    signs)."""
    if a.ndim < 2:
        raise RuntimeError(f"linalg.svdvals: expected a matrix, got shape {tuple(a.shape)}")
    return SvdVals.apply(a)


def matrix_rank(a: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The number of singular values above max(atol, rtol * largest) (default rtol: eps *
    max(m, n)), as int64 (not differentiable)."""
    xp = a._device.xp
    s = xp.linalg.svd(a.data, compute_uv=False)
    biggest = s[..., :1] if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), dtype=s.dtype)
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else xp.finfo(s.dtype).eps * max(a.shape[-2:])
    tol = xp.maximum(atol or 0.0, rtol * biggest)
    return Tensor._make(xp.sum(s > tol, axis=-1).astype(xp.int64), a._device)


class QR(Function):
    """(Q, R) of A (..., m, n), m >= n, reduced: Q (..., m, n) orthonormal columns, R upper
    triangular; the differentiable output stacks Q over R: (..., m + n, n).
    dL/dA = (gQ + Q copyltu(M)) R^-T with M = R gR^T - gQ^T Q and copyltu(M) the lower
    triangle of M mirrored onto the upper one."""

    rule = "d qr: M = R gR^T - gQ^T Q; dA = (gQ + Q copyltu(M)) R^-T"

    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        q, r = xp.linalg.qr(a, mode="reduced")
        ctx.save_for_backward(q, r)
        return xp.concatenate([q, r], axis=-2)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        q, r = ctx.saved_tensors
        t = xp.swapaxes
        m = q.shape[-2]
        g_q, g_r = grad[..., :m, :], grad[..., m:, :]
        mm = r @ t(g_r, -1, -2) - t(g_q, -1, -2) @ q
        low = xp.tril(mm, -1)
        n = mm.shape[-1]
        sym = low + t(low, -1, -2)
        sym[..., xp.arange(n), xp.arange(n)] = mm[..., xp.arange(n), xp.arange(n)]
        b = g_q + q @ sym
        # b R^-T: solve R X^T = b^T for X
        return t(xp.linalg.solve(r, t(b, -1, -2)), -1, -2)


def qr(a: Tensor, mode: str = "reduced"):
    """(Q, R) with A = Q R, Q with orthonormal columns, R upper triangular (reduced mode, for
    matrices with at least as many rows as columns); differentiable where R is invertible."""
    if mode != "reduced":
        raise RuntimeError(f"linalg.qr: only mode='reduced' is supported, got {mode!r}")
    if a.ndim < 2 or a.shape[-2] < a.shape[-1]:
        raise RuntimeError(
            f"linalg.qr: expected a matrix (..., m, n) with m >= n, got shape {tuple(a.shape)}"
        )
    both = QR.apply(a)
    m = a.shape[-2]
    return both[..., :m, :], both[..., m:, :]


class SVD(Function):
    """(U, S, Vh) of A (..., m, n), reduced (k = min(m, n)); the differentiable output packs
    them flat: (..., m k + k + k n). With F_ij = 1 / (s_j^2 - s_i^2) off the diagonal:
    dA = U [(F * (U^T gU - gU^T U)) S + diag(gS) + S (F * (V^T gV - gV^T V))] V^T
         + (I - U U^T) gU S^-1 V^T + U S^-1 gV^T (I - V V^T)   (Townsend, 2016)."""

    rule = "d svd: dA = U [(F*(U^T gU - gU^T U)) S + diag(gS) + S (F*(V^T gV - gV^T V))] V^T + ..."

    @staticmethod
    def forward(ctx, a, full_matrices=False):
        xp = ctx.xp
        u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
        k = s.shape[-1]
        # The extra columns of a full U / rows of a full Vh get no gradient (as in PyTorch).
        ctx.save_for_backward(u[..., :k], s, vh[..., :k, :])
        ctx.full_shapes = (u.shape[-1], vh.shape[-2])
        lead = a.shape[:-2]
        return xp.concatenate([u.reshape(lead + (-1,)), s, vh.reshape(lead + (-1,))], axis=-1)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        u, s, vh = ctx.saved_tensors
        t = xp.swapaxes
        m, k = u.shape[-2], u.shape[-1]
        n = vh.shape[-1]
        cu, rv = ctx.full_shapes  # columns of the returned U, rows of the returned Vh
        lead = grad.shape[:-1]
        g_u = grad[..., : m * cu].reshape(lead + (m, cu))[..., :k]
        g_s = grad[..., m * cu : m * cu + k]
        g_v = t(grad[..., m * cu + k :].reshape(lead + (rv, n))[..., :k, :], -1, -2)  # (n, k)
        v = t(vh, -1, -2)
        s2 = s * s
        gap = s2[..., None, :] - s2[..., :, None]  # s_j^2 - s_i^2
        off = ~xp.eye(k, dtype=bool)
        with (
            xp.errstate(divide="ignore", invalid="ignore") if hasattr(xp, "errstate") else _Quiet()
        ):
            f = xp.where(off, 1.0 / xp.where(off, gap, 1.0), 0.0)
            inv_s = 1.0 / s
        j = f * (t(u, -1, -2) @ g_u - t(g_u, -1, -2) @ u)
        kk = f * (t(v, -1, -2) @ g_v - t(g_v, -1, -2) @ v)
        inner = j * s[..., None, :] + kk * s[..., :, None]
        inner[..., xp.arange(k), xp.arange(k)] += g_s
        out = u @ inner @ vh
        if m > k:  # the part of gU outside U's column space
            out = out + (g_u - u @ (t(u, -1, -2) @ g_u)) * inv_s[..., None, :] @ vh
        if n > k:  # the part of gV outside V's column space
            out = out + (u * inv_s[..., None, :]) @ t(g_v - v @ (t(v, -1, -2) @ g_v), -1, -2)
        return out


def svd(a: Tensor, full_matrices: bool = True):
    """(U, S, Vh) with A = U diag(S) Vh for A (..., m, n); U (..., m, m) and Vh (..., n, n), or
    (..., m, k) and (..., k, n) with k = min(m, n) when ``full_matrices=False``. Differentiable
    for distinct, non-zero singular values and a loss that does not depend on the singular
    vectors' signs; the extra columns of a full U or Vh get no gradient, as in PyTorch."""
    if a.ndim < 2:
        raise RuntimeError(f"linalg.svd: expected a matrix, got shape {tuple(a.shape)}")
    m, n = a.shape[-2], a.shape[-1]
    k = min(m, n)
    cu, rv = (m, n) if full_matrices else (k, k)
    flat = SVD.apply(a, full_matrices=bool(full_matrices))
    lead = tuple(a.shape[:-2])
    u = flat[..., : m * cu].reshape(lead + (m, cu))
    s = flat[..., m * cu : m * cu + k]
    vh = flat[..., m * cu + k :].reshape(lead + (rv, n))
    return u, s, vh
