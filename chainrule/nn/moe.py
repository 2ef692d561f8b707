"""Mixture of experts: a gate chooses, per input, which expert networks compute the output.

Not in PyTorch. The gate is attention's soft switch applied to whole networks: a softmax over
the experts' scores weights their outputs. With ``top_k`` the switch is made sparse: each input
goes only to its k best experts, so the compute per input stays that of k experts however many
there are (the idea behind sparse Transformers such as the Switch Transformer).
"""

from __future__ import annotations

from chainrule import ops
from chainrule.nn import functional as F
from chainrule.nn.containers import ModuleList
from chainrule.nn.module import Module
from chainrule.tensor import Tensor

__all__ = ["MixtureOfExperts"]


class MixtureOfExperts(Module):
    """y(x) = sum_i g_i(x) expert_i(x), with gate weights g(x) = softmax(gate(x)) over experts.

    Soft mode (``top_k=None``): every expert computes every input, g = softmax over all experts.

    Sparse mode (``top_k=k``): each input is routed to the k experts with the largest gate
    logits, g renormalised over them (the softmax of the k chosen logits); the others get
    weight 0 and do not run on it. Each expert gathers the rows routed to it, computes on that
    subset only, and the weighted results are scattered back to their rows.

    Also returned: the Switch Transformer load-balancing loss (Fedus, Zoph and Shazeer 2021,
    "Switch Transformers: Scaling to Trillion Parameter Models with Simple and Efficient
    Sparsity", eq. 4), to be added to the training loss with a small coefficient (e.g. 0.01):

        aux_loss = num_experts * sum_i f_i P_i,

    f_i = the fraction of the inputs whose top-1 expert is i (a count: no gradient), P_i = the
    mean gate probability softmax(gate(x))_i over the inputs (differentiable). It is 1 when the
    routing is uniform and grows to num_experts when one expert takes everything, so its
    gradient pushes the gate's probabilities away from overloaded experts. With ``top_k=1`` the
    renormalised weight of the chosen expert is always 1, so the gate learns only from this
    loss; use k >= 2 (or soft mode) for the task loss to train the gate.

    Args:
        experts: a list (or ModuleList) of modules mapping (N, d_in) -> (N, d_out).
        gate: a module mapping (N, d_in) -> (N, num_experts) logits (e.g. a Linear).
        top_k: None for soft mode, or the number k of experts per input (1 <= k <= E).

    Shape: input (*, d_in) -> (output (*, d_out), aux_loss ()).

    Example:
        >>> moe = nn.MixtureOfExperts([nn.Linear(4, 3) for _ in range(4)], nn.Linear(4, 4),
        ...                           top_k=2)
        >>> y, aux_loss = moe(chainrule.randn(8, 4))
        >>> y.shape, aux_loss.shape
        (chainrule.Size([8, 3]), chainrule.Size([]))
    """

    def __init__(self, experts, gate: Module, top_k: int | None = None) -> None:
        super().__init__()
        if not isinstance(experts, ModuleList):
            experts = ModuleList(list(experts))
        if len(experts) == 0:
            raise ValueError("MixtureOfExperts needs at least one expert")
        self.experts = experts
        self.gate = gate
        self.num_experts = len(experts)
        if top_k is not None and not 1 <= int(top_k) <= self.num_experts:
            raise ValueError(
                f"top_k must be None or between 1 and the number of experts "
                f"({self.num_experts}), got {top_k}"
            )
        self.top_k = None if top_k is None else int(top_k)

    def forward(self, input: Tensor):
        if input.ndim == 0:
            raise RuntimeError("MixtureOfExperts: expected input of shape (*, d_in), got a scalar")
        lead = tuple(input.shape[:-1])
        x = input if input.ndim == 2 else ops.reshape(input, (-1, input.shape[-1]))
        n = x.shape[0]
        logits = self.gate(x)
        if tuple(logits.shape) != (n, self.num_experts):
            raise RuntimeError(
                f"MixtureOfExperts: the gate must map ({n}, d_in) to ({n}, {self.num_experts}) "
                f"logits, got shape {tuple(logits.shape)}"
            )
        probs = F.softmax(logits, dim=-1)
        aux_loss = self._load_balancing_loss(probs)
        if self.top_k is None:
            outs = ops.stack([expert(x) for expert in self.experts], 1)  # (N, E, d_out)
            out = ops.sum(ops.mul(ops.unsqueeze(probs, -1), outs), 1)
        else:
            out = self._sparse(x, logits)
        return ops.reshape(out, lead + tuple(out.shape[-1:])), aux_loss

    def _sparse(self, x: Tensor, logits: Tensor) -> Tensor:
        xp, dev = logits._device.xp, logits._device
        n, k = x.shape[0], self.top_k
        # The k largest logits of each row (ties: the lower expert index), best first.
        chosen = xp.argsort(-logits.data, axis=1, kind="stable")[:, :k]  # (N, k)
        weights = F.softmax(ops.gather(logits, 1, Tensor._make(chosen, dev)), dim=-1)
        pieces, positions, offset = [], xp.empty((n, k), dtype=xp.int64), 0
        for e, expert in enumerate(self.experts):
            rows, slots = xp.nonzero(chosen == e)
            if rows.size == 0:
                continue  # no input routed here: the expert does not run
            pieces.append(expert(x[Tensor._make(rows, dev)]))
            positions[rows, slots] = xp.arange(offset, offset + rows.size)
            offset += rows.size
        results = pieces[0] if len(pieces) == 1 else ops.cat(pieces, 0)  # (N * k, d_out)
        routed = results[Tensor._make(positions, dev)]  # (N, k, d_out), back in row order
        return ops.sum(ops.mul(routed, ops.unsqueeze(weights, -1)), 1)

    def _load_balancing_loss(self, probs: Tensor) -> Tensor:
        """num_experts * sum_i f_i P_i (Fedus et al. 2021, eq. 4)."""
        xp, dev = probs._device.xp, probs._device
        n = probs.shape[0]
        top1 = probs.data.argmax(axis=1)
        counts = xp.bincount(top1, minlength=self.num_experts)
        fraction = (counts / max(n, 1)).astype(probs.data.dtype)
        mean_prob = ops.mean(probs, 0)
        return ops.mul(
            ops.sum(ops.mul(mean_prob, Tensor._make(fraction, dev))), float(self.num_experts)
        )

    def extra_repr(self) -> str:
        return f"num_experts={self.num_experts}, top_k={self.top_k}"
