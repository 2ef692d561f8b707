"""A convolution is a linear layer whose weight matrix is banded and shares its entries.

A 1-D convolution (no padding, stride 1) of a length-L input with a length-k kernel w is
y = T x, where T is the (L-k+1) x L Toeplitz matrix with T[i, i+j] = w[j]: the same k numbers
repeated on every row, zeros elsewhere (k parameters instead of (L-k+1) L). Because w[j]
appears in every row, the chain rule adds up the gradients of all its copies:
dL/dw[j] = sum_i dL/dT[i, i+j].
"""

from __future__ import annotations

import numpy as np

import chainrule.nn.functional as F
from chainrule.edu.demos._common import Evidence, finish, new_figure, save_figure, seed, to_tensor

CLAIM = (
    "conv1d equals multiplication by a banded Toeplitz matrix, and the shared kernel's "
    "gradient equals the sum of the gradients of its copies"
)


def shift_matrices(length: int, k: int) -> np.ndarray:
    """E[j] (k of them): ones at (i, i + j), so T = sum_j w[j] E[j] is the conv's matrix."""
    out = length - k + 1
    E = np.zeros((k, out, length), dtype=np.float32)
    for j in range(k):
        E[j, np.arange(out), np.arange(out) + j] = 1.0
    return E


def run(fast: bool = False, out_dir=None) -> Evidence:
    rng = seed(0)
    length, k = 8, 3
    out_len = length - k + 1
    x_np = rng.normal(size=length)
    w_np = rng.normal(size=k)
    cot = to_tensor(rng.normal(size=out_len))  # an arbitrary upstream gradient dL/dy

    # (a) the library's convolution (cross-correlation, as in PyTorch)
    w_conv = to_tensor(w_np, requires_grad=True)
    y_conv = F.conv1d(to_tensor(x_np).reshape(1, 1, length), w_conv.reshape(1, 1, k))
    y_conv = y_conv.reshape(out_len)
    (y_conv * cot).sum().backward()

    # (b) the same map as a matrix built from the shared kernel: T = sum_j w[j] E[j]
    E = to_tensor(shift_matrices(length, k))
    w_mat = to_tensor(w_np, requires_grad=True)
    T = (w_mat.reshape(k, 1, 1) * E).sum(0)
    y_mat = T @ to_tensor(x_np)
    (y_mat * cot).sum().backward()

    # (c) the matrix's entries as independent parameters (the "copies")
    T_free = to_tensor(T.detach().numpy(), requires_grad=True)
    ((T_free @ to_tensor(x_np)) * cot).sum().backward()
    copy_grads = T_free.grad.numpy()
    summed = np.array([np.trace(copy_grads, offset=j) for j in range(k)])  # sum along band j

    output_diff = float(np.abs(y_conv.detach().numpy() - y_mat.detach().numpy()).max())
    grad_diff_matrix = float(np.abs(w_conv.grad.numpy() - w_mat.grad.numpy()).max())
    grad_diff_copies = float(np.abs(w_conv.grad.numpy() - summed).max())
    band_mask = shift_matrices(length, k).sum(0) > 0
    holds = (
        output_diff < 1e-5
        and grad_diff_matrix < 1e-5
        and grad_diff_copies < 1e-5
        and np.all(T.detach().numpy()[~band_mask] == 0)
    )
    rows = [
        [
            f"w[{j}]",
            w_np[j],
            float(w_conv.grad.numpy()[j]),
            float(w_mat.grad.numpy()[j]),
            float(summed[j]),
            out_len,
        ]
        for j in range(k)
    ]

    fig, axes = new_figure(1, 2, width=4.5)
    Tn = T.detach().numpy()
    lim = np.abs(Tn).max()
    axes[0, 0].imshow(Tn, cmap="coolwarm", vmin=-lim, vmax=lim)
    axes[0, 0].set(title=f"conv as a {out_len}x{length} matrix ({k} shared weights)")
    glim = np.abs(copy_grads).max()
    axes[0, 1].imshow(copy_grads, cmap="coolwarm", vmin=-glim, vmax=glim)
    axes[0, 1].set(title="dL/dT: each band sums to dL/dw[j]")
    figure = save_figure(fig, out_dir, "weight_sharing.png")

    return finish(
        Evidence(
            name="weight-sharing",
            claim=CLAIM,
            claim_holds=bool(holds),
            numbers={
                "output_max_diff": output_diff,
                "grad_max_diff_matrix": grad_diff_matrix,
                "grad_max_diff_copies": grad_diff_copies,
                "kernel_grad": w_conv.grad.numpy().tolist(),
                "summed_copy_grads": summed.tolist(),
                "conv_parameters": k,
                "dense_parameters": out_len * length,
            },
            headers=[
                "weight",
                "value",
                "dL/dw (conv1d)",
                "dL/dw (matrix)",
                "sum of copies",
                "copies",
            ],
            rows=rows,
            figures=[figure],
        )
    )
