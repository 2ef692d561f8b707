"""Embedding lookup: y = W[indices], a row gather with a scatter-add backward.

A lookup is a one-hot vector times W, so d loss/dW is the one-hot matrix transposed times the
output gradient: each row receives the sum of the gradients of the positions that read it.
The backward adds those rows into a zeros table and touches no other row.
"""

from __future__ import annotations

from chainrule import backend
from chainrule.autograd.function import Function


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
