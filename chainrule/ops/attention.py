"""Scaled dot-product attention as one fused op: softmax(q k^T * scale + bias) v.

Composed from primitives, attention records five nodes (matmul, scale, add, softmax, matmul)
and keeps the (..., L, S) score matrix alive several times over; fused, forward keeps only the
attention weights P, and backward is four batched matrix products and the softmax rule:

    S = scale q k^T + bias,   P = softmax(S) (over keys),   y = (P * keep) v
    dv = (P * keep)^T g,   dP = (g v^T) * keep,   dS = P * (dP - sum_j dP P),
    dq = scale dS k,   dk = scale dS^T q,   dbias = dS

``bias`` is the additive mask (0 where a key takes part, -inf where it does not, or any float
values; differentiable), ``keep`` the dropout mask already scaled by 1/(1 - p) (a constant).
Batch dimensions broadcast as in matmul; the engine sums gradients back to each input's shape.

Memory: P is as large as the scores, (..., L, S) per head, and would be held from forward to
backward. Forward keeps only the softmax's row statistics (the row max it subtracted and the
row sum it divided by, (..., L, 1)); backward recomputes S and then P with the very same
operations and statistics, so it gets the same P, for one more q k^T product. q, k, v and the
bias are the op's inputs, which the graph holds anyway. Long sequences are processed a block
of query rows at a time, so the score-sized temporaries never exceed one block.
"""

from __future__ import annotations

import math

from chainrule.autograd.function import Function, composite_backward_graph
from chainrule.ops.common import sum_keepdims
from chainrule.tensor import Tensor


def _swap(xp, a):
    return xp.swapaxes(a, -1, -2)


def _broadcasts_into(small: tuple, big: tuple) -> bool:
    """True when an array of shape ``small`` broadcasts to ``big`` without growing it."""
    if len(small) > len(big):
        return False
    return all(s == 1 or s == b for s, b in zip(reversed(small), reversed(big)))


_log_tiny: dict = {}


def _exp_(xp, t):
    """t = e^t in place. When NumPy is set to report underflow (``errstate(under=...)`` other
    than the default 'ignore'), results below the smallest normal number are flushed to 0
    first, as ``chainrule.ops.common.exp_no_underflow`` does, so that nothing is reported."""
    # NOTE: exponents below log(tiny) become -inf, whose e^ is exactly 0 without the underflow
    # flag; masked scores already are -inf. Under the default error state the flag is ignored
    # and the two extra passes over the score-sized array are skipped: the results differ by
    # less than tiny (1.2e-38 in float32). CuPy has no floating-point flags.
    if xp.__name__ == "numpy" and xp.geterr()["under"] != "ignore":
        low = _log_tiny.get(t.dtype)
        if low is None:
            low = _log_tiny[t.dtype] = math.log(float(xp.finfo(t.dtype).tiny))
        xp.copyto(t, -math.inf, where=t < low)
    xp.exp(t, out=t)
    return t


def _scores(xp, q, k, bias, scale):
    """S = scale q k^T + bias, a new array."""
    s = xp.matmul(q * scale, _swap(xp, k))  # (..., L, S)
    if bias is not None:
        if _broadcasts_into(bias.shape, s.shape):
            s += bias
        else:
            s = s + bias
    return s


def _safe_softmax(xp, s):
    """softmax over the last axis of ``s`` (which it overwrites), and the row statistics that
    :func:`_softmax_again` needs to repeat it; a row whose every score is -inf (no key may be
    attended to) gives weights 0 instead of 0/0 = nan, as torch's SDPA does."""
    # NOTE: shift by the row max so that no exponent is positive (no overflow, sum >= 1). A
    # fully masked row has max -inf; shifting by 0 instead makes every e^(-inf) = 0 and the
    # sum 0, which is then divided by 1 rather than by 0.
    m = s.max(axis=-1, keepdims=True)
    finite = xp.isfinite(m)
    if not bool(finite.all()):
        m = xp.where(finite, m, 0)
    s -= m
    p = _exp_(xp, s)
    total = sum_keepdims(xp, p, -1)
    total[total == 0] = 1
    p /= total
    return p, m, total


def _softmax_again(xp, s, m, total):
    """The softmax of ``s`` (overwritten) from forward's statistics: the same numbers."""
    s -= m
    p = _exp_(xp, s)
    p /= total
    return p


# Query rows per block: forward and backward work on (..., rows, S) blocks of the scores of
# about this many elements (16 MiB in float32), so that their memory stays bounded whatever the
# sequence length, and a block's temporaries are still in cache when the next pass reads them.
_BLOCK_ELEMENTS = 1 << 22
# With a causal mask, a block of rows i..j-1 sees only keys 0..j-1: cutting the rows into at
# least this many blocks (of at least _CAUSAL_MIN_ELEMENTS scores each) skips most of the
# masked upper triangle, about (n - 1) / 2n of the work for n blocks.
_CAUSAL_BLOCKS = 8
_CAUSAL_MIN_ELEMENTS = 1 << 18


def _row_blocks(q, k, L: int, S: int, causal: bool) -> list:
    """(start, stop) ranges of query rows: one block when the score matrix is small, the last
    rows first (with a causal mask the last block sees every key, so the arrays that add up
    the blocks' dk and dv start full-size)."""
    n = S
    for d in _broadcast_batch(q.shape[:-2], k.shape[:-2]):
        n *= d
    n = max(n, 1)
    rows = max(1, _BLOCK_ELEMENTS // n)
    if causal:
        rows = min(rows, max(-(-L // _CAUSAL_BLOCKS), -(-_CAUSAL_MIN_ELEMENTS // n)))
    return [(i, min(i + rows, L)) for i in range(0, L, rows)][::-1]


def _broadcast_batch(a: tuple, b: tuple) -> tuple:
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    return tuple(max(x, y) for x, y in zip(a, b))


def _rows(a, i: int, j: int, L: int):
    """Rows i:j (axis -2) of an array shaped (..., L, X): a view, or ``a`` when the block is
    every row."""
    return a if i == 0 and j == L else a[..., i:j, :]


def _block(a, i: int, j: int, L: int, stop: int, S: int):
    """Rows i:j and keys :stop of a mask broadcastable to (..., L, S) (dims of size 1 kept)."""
    if a is None:
        return None
    if a.ndim >= 2 and a.shape[-2] != 1 and not (i == 0 and j == L):
        a = a[..., i:j, :]
    if stop < S and a.shape[-1] != 1:
        a = a[..., :stop]
    return a


def _into(full, part, i: int, j: int, L: int, xp):
    """Write a block of rows ``part`` into ``full`` (created on the first block)."""
    if full is None:
        if i == 0 and j == L:
            return part
        full = xp.empty(part.shape[:-2] + (L, part.shape[-1]), dtype=part.dtype)
    full[..., i:j, :] = part
    return full


def _add_keys(total, part, stop: int, S: int, xp):
    """Add a block's contribution to dk or dv, which covers keys :stop (the first block's
    array is reused when it covers them all)."""
    if total is None:
        if stop == S:
            return part
        total = xp.zeros(part.shape[:-2] + (S, part.shape[-1]), dtype=part.dtype)
    total[..., :stop, :] += part
    return total


def _attention_reference(ctx, q, k, v, bias, keep, **_):
    """softmax(scale q k^T + bias) v in recorded ops (for the differentiable backward). A row
    with every score -inf gives weights 0, as the fused forward does."""
    s = q.matmul(k.transpose(-1, -2)) * ctx.attrs["scale"]
    if bias is not None:
        s = s + bias
    dead = Tensor._make(ctx.xp.isneginf(s.data).all(axis=-1, keepdims=True), ctx.device)
    p = s.masked_fill(dead, 0.0).softmax(-1).masked_fill(dead, 0.0)
    if keep is not None:
        p = p * keep
    return p.matmul(v)


class ScaledDotProductAttention(Function):
    """y = softmax(scale q k^T + bias) v (softmax over keys);  with P the weights and g = dL/dy:
    dv = P^T g, dS = P (g v^T - rowsum(g v^T P)), dq = scale dS k, dk = scale dS^T q, dbias = dS.
    """

    rule = (
        "d attention/dv = P^T g; dS = P * (g v^T - sum_j (g v^T)_j P_j); "
        "dq = scale dS k, dk = scale dS^T q, dbias = dS"
    )

    # NOTE: every row of the scores depends only on its own query, so both passes run over
    # blocks of query rows (see _BLOCK_ELEMENTS): dq is written block by block, dk and dv
    # add up every block's contribution. One block (the usual case) is the plain formula.
    # ``causal`` says that ``bias`` is the causal mask (query r sees keys <= r), so a block
    # of rows i..j-1 only needs keys :j.

    @staticmethod
    def forward(ctx, q, k, v, bias, keep, scale, causal=False):
        xp = ctx.xp
        L, S = q.shape[-2], k.shape[-2]
        out = m = total = None
        for i, j in _row_blocks(q, k, L, S, causal):
            stop = min(j, S) if causal else S
            k_b, v_b = (k, v) if stop == S else (k[..., :stop, :], v[..., :stop, :])
            s = _scores(xp, _rows(q, i, j, L), k_b, _block(bias, i, j, L, stop, S), scale)
            p, m_i, total_i = _safe_softmax(xp, s)
            keep_b = _block(keep, i, j, L, stop, S)
            if keep_b is not None:
                p = p * keep_b
            out = _into(out, xp.matmul(p, v_b), i, j, L, xp)
            m, total = _into(m, m_i, i, j, L, xp), _into(total, total_i, i, j, L, xp)
        ctx.scale, ctx.causal = scale, causal
        ctx.save_for_backward(q, k, v, bias, keep, m, total)  # not P: see the module notes
        return out

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        q, k, v, bias, keep, m, total = ctx.saved_tensors
        need_q, need_k, need_v, need_bias = ctx.needs_input_grad[:4]
        scale, causal = ctx.scale, ctx.causal
        L, S = q.shape[-2], k.shape[-2]
        gq = gk = gv = gbias = None
        for i, j in _row_blocks(q, k, L, S, causal):
            stop = min(j, S) if causal else S
            k_b, v_b = (k, v) if stop == S else (k[..., :stop, :], v[..., :stop, :])
            q_i, g_i = _rows(q, i, j, L), _rows(grad, i, j, L)
            keep_b = _block(keep, i, j, L, stop, S)
            s = _scores(xp, q_i, k_b, _block(bias, i, j, L, stop, S), scale)
            p = _softmax_again(xp, s, _rows(m, i, j, L), _rows(total, i, j, L))
            if need_v:
                pk = p if keep_b is None else p * keep_b
                gv = _add_keys(gv, xp.matmul(_swap(xp, pk), g_i), stop, S, xp)
                del pk
            if need_q or need_k or need_bias:
                dp = xp.matmul(g_i, _swap(xp, v_b))
                if keep_b is not None:
                    dp *= keep_b
                # softmax backward, row by row: dS = P * (dP - <dP, P>); einsum forms the row
                # dot products without a score-sized temporary (3x faster than (dP * P).sum)
                ds = dp
                ds -= xp.einsum("...j,...j->...", dp, p)[..., None]
                ds *= p
                del p
                if need_q:
                    gq_i = xp.matmul(ds, k_b)
                    gq_i *= scale
                    gq = _into(gq, gq_i, i, j, L, xp)
                if need_k:
                    gk_i = xp.matmul(_swap(xp, ds), q_i)
                    gk_i *= scale
                    gk = _add_keys(gk, gk_i, stop, S, xp)
                if need_bias:
                    if gbias is None:
                        if i == 0 and j == L and stop == S:
                            gbias = ds
                            continue
                        gbias = xp.zeros(ds.shape[:-2] + (L, S), dtype=ds.dtype)
                    gbias[..., i:j, :stop] = ds  # 0 for the keys a causal block skipped
        return gq, gk, gv, gbias, None

    backward_graph = composite_backward_graph(_attention_reference)


def attention(
    q: Tensor, k: Tensor, v: Tensor, bias=None, keep=None, scale: float = 1.0, causal=False
) -> Tensor:
    """softmax(scale q k^T + bias) (keep *) v, fused (no argument checks: see
    ``chainrule.nn.functional.scaled_dot_product_attention`` for the public function).

    Args:
        q: (..., L, E) queries.  k: (..., S, E) keys.  v: (..., S, Ev) values.
        bias: None, or a Tensor/array broadcastable to (..., L, S) added to the scores.
        keep: None, or a constant array broadcastable to (..., L, S): the dropout mask of the
            weights, already scaled by 1/(1 - p).
        scale: multiplies q k^T.
        causal: ``bias`` is the causal mask (0 where key j <= query i, -inf above), which lets
            long sequences skip the masked keys block by block.

    Shape: output (..., L, Ev), the batch dims broadcast.
    """
    return ScaledDotProductAttention.apply(q, k, v, bias, keep, scale=scale, causal=causal)
