"""Multi-head attention, as ``torch.nn.MultiheadAttention``.

One head compares every query with every key and mixes the values with the softmax of the
scores: softmax(Q K^T / sqrt(d)) V. Several heads do this in parallel on learned projections
of dimension d = embed_dim / num_heads, so that each head can attend to something different;
their outputs are concatenated and projected back to embed_dim.
"""

from __future__ import annotations

from chainrule.creation import empty
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.linear import Linear
from chainrule.nn.module import Module, Parameter

__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear"]


class NonDynamicallyQuantizableLinear(Linear):
    """A ``Linear`` under PyTorch's name for the output projection of ``MultiheadAttention``
    (the name only marks it for PyTorch's quantisation tools; it computes x W^T + b)."""


class MultiheadAttention(Module):
    """MultiHead(Q, K, V) = concat(head_1, ..., head_h) W_o^T + b_o, with
    head_i = softmax((Q W_q^i)(K W_k^i)^T / sqrt(d) + M) (V W_v^i) and d = embed_dim / num_heads.

    Args:
        embed_dim: total dimension E of the model (split across the heads).
        num_heads: number of parallel heads; must divide ``embed_dim``.
        dropout: dropout probability on the attention weights (default 0.0, training only).
        bias: add biases to the input and output projections (default True).
        add_bias_kv: append a learned key and value (``bias_k``, ``bias_v``) to the sequences.
        add_zero_attn: append a key and value of zeros (after the projections).
        kdim, vdim: feature sizes of key and value (default ``embed_dim``); when they differ from
            it, the projections are separate parameters ``q_proj_weight``, ``k_proj_weight``,
            ``v_proj_weight`` instead of the packed ``in_proj_weight`` (3E, E).
        batch_first: inputs and output are (N, L, E) instead of (L, N, E).

    Forward args:
        query (L, N, E), key (S, N, kdim), value (S, N, vdim) (batch second unless
        ``batch_first``; or unbatched (L, E), (S, kdim), (S, vdim)).
        key_padding_mask: (N, S) or (S,): True (or -inf) marks keys to ignore (padding).
        need_weights: also return the attention weights (slower: they are materialised).
        attn_mask: (L, S) or (N * num_heads, L, S): True = not allowed to attend; float masks
            are added to the scores.
        average_attn_weights: average the returned weights over the heads.
        is_causal: hint that ``attn_mask`` is the causal mask (it must still be given).

    Shape: output (L, N, E) (or (N, L, E) with ``batch_first``, (L, E) unbatched); weights
    (N, L, S) averaged or (N, num_heads, L, S) per head, or None.

    Init (PyTorch's): in_proj (or q/k/v) weights Xavier-uniform, biases 0, out_proj weight as
    a Linear, bias_k/bias_v Xavier-normal.

    Example:
        >>> mha = nn.MultiheadAttention(16, 4, batch_first=True)
        >>> x = chainrule.randn(2, 5, 16)
        >>> out, weights = mha(x, x, x)
        >>> out.shape, weights.shape
        (chainrule.Size([2, 5, 16]), chainrule.Size([2, 5, 5]))
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} "
                f"and num_heads={num_heads} instead"
            )
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != self.embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, **factory))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, **factory))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, **factory))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, **factory))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **factory)
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, embed_dim, **factory))
            self.bias_v = Parameter(empty(1, 1, embed_dim, **factory))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    reset_parameters = _reset_parameters

    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights: bool = True,
        attn_mask=None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ):
        separate = not self._qkv_same_embed_dim
        return F._multi_head_attention(
            query,
            key,
            value,
            self.embed_dim,
            self.num_heads,
            self.in_proj_weight,
            self.in_proj_bias,
            self.bias_k,
            self.bias_v,
            self.add_zero_attn,
            self.dropout,
            self.out_proj.weight,
            self.out_proj.bias,
            self.training,
            key_padding_mask,
            need_weights,
            attn_mask,
            separate,
            self.q_proj_weight,
            self.k_proj_weight,
            self.v_proj_weight,
            None,
            None,
            average_attn_weights,
            is_causal,
            batch_first=self.batch_first,
        )
