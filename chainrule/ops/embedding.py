"""Embedding lookup: y = W[indices], a row gather with a scatter-add backward.

A lookup is a one-hot vector times W, so d loss/dW is the one-hot matrix transposed times the
output gradient: each row receives the sum of the gradients of the positions that read it.
The backward adds those rows into a zeros table and touches no other row.
"""

from __future__ import annotations

from chainrule import backend
from chainrule.autograd.function import Function, composite_backward_graph


def _embedding_reference(ctx, weight, indices, padding_idx, scale_grad_by_freq):
    """weight[indices] in recorded ops, the padding row cut from the gradient."""
    if scale_grad_by_freq:
        raise RuntimeError(
            "backward with create_graph=True: Embedding with scale_grad_by_freq=True has no "
            "differentiable backward yet"
        )
    rows = weight[indices]
    if padding_idx is None:
        return rows
    used = (indices != padding_idx).unsqueeze(-1)  # a constant: padding rows get no gradient
    return rows * used + (rows * ~used).detach()


class Embedding(Function):
    """y = W[i] (rows of W picked by integer indices);  dL/dW[r] = sum of g over positions with
    i = r (0 for the padding row; divided by the count of r with scale_grad_by_freq)."""

    rule = "d W[i]/dW[r] = 1 where i = r (repeated indices accumulate), 0 elsewhere"

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        ctx.save_for_backward(indices)
        ctx.num_rows, ctx.padding_idx = weight.shape[0], padding_idx
        ctx.by_freq = scale_grad_by_freq
        return weight[indices]

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        (indices,) = ctx.saved_tensors
        idx = indices.reshape(-1)
        g = grad.reshape(idx.shape[0], -1)
        if ctx.padding_idx is not None:
            keep = idx != ctx.padding_idx  # the padding row stays fixed: no gradient
            idx, g = idx[keep], g[keep]
        if ctx.by_freq:
            # NOTE: frequent words (say "the") would otherwise get gradients that scale with
            # their count in the batch; dividing by the count evens out the step per word.
            counts = xp.bincount(idx, minlength=ctx.num_rows)
            g = g / counts[idx].astype(g.dtype)[:, None]
        gw = xp.zeros((ctx.num_rows, g.shape[1]), dtype=grad.dtype)
        backend.scatter_add(xp, gw, idx, g)
        return gw, None

    backward_graph = composite_backward_graph(_embedding_reference)


class EmbeddingBag(Function):
    """Bags of rows of W reduced without materialising the (n, D) lookups per bag.

    Shapes: weight (V, D); per_sample_weights s (n,) or None; indices i and bags b (n,), b
    non-decreasing (positions of one bag are contiguous); keep (n,) bool or None (positions
    that count: not padding_idx, not past the last offset) -> out (B, D).

    sum:  out[b] = sum_(k in b) s_k W[i_k];  dL/dW[r] = sum_(k: i_k = r) s_k g[b_k],
          dL/ds_k = W[i_k] . g[b_k].
    mean: out[b] = sum_(k in b) W[i_k] / |b|;  dL/dW[r] = sum_(k: i_k = r) g[b_k] / |b_k|.
    max:  out[b, d] = max_(k in b) W[i_k, d];  g[b, d] goes to W[i_k*, d], k* the first
          position holding the maximum (PyTorch's tie rule).
    An empty bag gives a row of zeros and sends no gradient. scale_grad_by_freq divides each
    row's gradient by the number of times the row is used in the whole batch.
    """

    rule = "d bag_b/dW[r] = sum of s_k over bag b's positions k with i_k = r (1/|b| each for mean)"

    @staticmethod
    def forward(ctx, weight, per_sample_weights, indices, bags, keep, num_bags, mode, by_freq):
        xp = ctx.xp
        idx, bag, s = indices, bags, per_sample_weights
        if keep is not None:
            idx, bag = idx[keep], bag[keep]
            s = None if s is None else s[keep]
        rows = weight[idx]  # (n_kept, D)
        counts = xp.bincount(bag, minlength=num_bags)  # positions that count, per bag
        out = xp.zeros((num_bags, weight.shape[1]), dtype=weight.dtype)
        ctx.mode, ctx.by_freq, ctx.num_rows, ctx.n = mode, by_freq, weight.shape[0], len(indices)
        if mode == "max":
            nonempty = counts > 0
            arg_rows = xp.zeros((0, weight.shape[1]), dtype=idx.dtype)
            if rows.shape[0]:
                starts = (xp.cumsum(counts) - counts)[nonempty]  # first position of each bag
                out[nonempty] = xp.maximum.reduceat(rows, starts, axis=0)
                # the first position of its bag that holds each maximum
                n = rows.shape[0]
                at_max = rows == out[bag]
                first = xp.minimum.reduceat(xp.where(at_max, xp.arange(n)[:, None], n), starts)
                arg_rows = idx[first]  # (bags that are not empty, D): the row each max read
            ctx.save_for_backward(arg_rows, nonempty)
            return out
        if s is not None:
            rows_s = rows * s[:, None]
        else:
            rows_s = rows
        backend.scatter_add(xp, out, bag, rows_s)
        inv = None
        if mode == "mean":
            inv = (1 / xp.maximum(counts, 1)).astype(weight.dtype)  # empty bags stay 0
            out *= inv[:, None]
        ctx.save_for_backward(idx, bag, s, keep, inv, rows if s is not None else None)
        return out

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        dim = grad.shape[1]
        gw = xp.zeros((ctx.num_rows, dim), dtype=grad.dtype)
        if ctx.mode == "max":
            arg_rows, nonempty = ctx.saved_tensors
            flat = (arg_rows * dim + xp.arange(dim)).reshape(-1)
            backend.scatter_add(xp, gw.reshape(-1), flat, grad[nonempty].reshape(-1))
            return gw, None, None, None, None
        idx, bag, s, keep, inv, rows = ctx.saved_tensors
        g = grad[bag]  # (n_kept, D): each position's share of its bag's gradient
        if inv is not None:
            g = g * inv[bag][:, None]
        gs = None
        if s is not None and ctx.needs_input_grad[1]:
            gs_kept = (rows * g).sum(axis=1)
            if keep is None:
                gs = gs_kept
            else:
                gs = xp.zeros(ctx.n, dtype=grad.dtype)
                gs[keep] = gs_kept
        if ctx.needs_input_grad[0]:
            gw_rows = g if s is None else g * s[:, None]
            if ctx.by_freq:
                # NOTE: as in Embedding: a row's step does not grow with its count in the batch.
                counts = xp.bincount(idx, minlength=ctx.num_rows)
                gw_rows = gw_rows / counts[idx].astype(grad.dtype)[:, None]
            backend.scatter_add(xp, gw, idx, gw_rows)
        else:
            gw = None
        return gw, gs, None, None, None
