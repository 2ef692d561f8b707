"""MiniGPT: a small decoder-only transformer (GPT-2's block layout, nanoGPT's sizes)."""

from __future__ import annotations

import math

from chainrule import nn
from chainrule.creation import arange
from chainrule.nn import functional as F


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which position t sees only positions <= t.

    q, k, v = split(x W_qkv); head_i = softmax(q_i k_i^T / sqrt(d) + causal mask) v_i;
    y = concat(heads) W_o. The masked softmax is ``F.scaled_dot_product_attention(...,
    is_causal=True)``, one fused op with its own backward.

    Shape: (N, T, C) -> (N, T, C).
    """

    def __init__(self, n_embd: int, n_head: int, dropout: float = 0.0, bias: bool = False):
        super().__init__()
        if n_embd % n_head:
            raise ValueError(f"n_embd ({n_embd}) must be divisible by n_head ({n_head})")
        self.n_head = n_head
        self.qkv = nn.Linear(n_embd, 3 * n_embd, bias=bias)
        self.proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.dropout = dropout
        self.resid_dropout = nn.Dropout(dropout)

    def forward(self, x):
        n, t, c = x.shape
        h = self.n_head
        # (N, T, 3C) -> (3, N, H, T, C/H)
        qkv = self.qkv(x).reshape(n, t, 3, h, c // h).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        y = y.transpose(1, 2).reshape(n, t, c)
        return self.resid_dropout(self.proj(y))


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(ln(x)), then x + mlp(ln(x)) (MLP 4x wide, GELU)."""

    def __init__(self, n_embd: int, n_head: int, dropout: float = 0.0, bias: bool = False):
        super().__init__()
        self.ln1 = nn.LayerNorm(n_embd, bias=bias)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout, bias)
        self.ln2 = nn.LayerNorm(n_embd, bias=bias)
        self.mlp = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd, bias=bias),
            nn.GELU(),
            nn.Linear(4 * n_embd, n_embd, bias=bias),
            nn.Dropout(dropout),
        )

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class MiniGPT(nn.Module):
    """A GPT: token + position embeddings, ``n_layer`` causal blocks, final LayerNorm, and
    an output layer that shares its weight with the token embedding (weight tying).

    Initialisation follows GPT-2 / nanoGPT: weights N(0, 0.02), the residual projections
    N(0, 0.02 / sqrt(2 n_layer)), biases 0.

    Args:
        vocab_size: number of tokens.
        block_size: the longest context (positions 0..block_size-1 have embeddings).
        n_layer, n_head, n_embd: depth, heads per block, model width.
        dropout: dropout on embeddings, attention weights and residual branches.
        bias: biases in Linear and LayerNorm layers (nanoGPT's default is False).

    Shape: input (N, T) int64 with T <= block_size -> logits (N, T, vocab_size).

    Example:
        >>> model = MiniGPT(65, block_size=32, n_layer=2, n_head=2, n_embd=32)
        >>> model(chainrule.zeros(2, 32, dtype=chainrule.int64)).shape
        chainrule.Size([2, 32, 65])
    """

    def __init__(
        self,
        vocab_size: int,
        block_size: int = 128,
        n_layer: int = 4,
        n_head: int = 4,
        n_embd: int = 128,
        dropout: float = 0.0,
        bias: bool = False,
    ):
        super().__init__()
        self.vocab_size = vocab_size
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, n_embd)
        self.pos_emb = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(n_embd, n_head, dropout, bias) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd, bias=bias)
        self.head = nn.Linear(n_embd, vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight  # weight tying (Press & Wolf 2017)
        self._init_weights(n_layer)

    def _init_weights(self, n_layer: int) -> None:
        for name, p in self.named_parameters():
            if p.ndim < 2:
                continue  # biases and LayerNorm gains keep their defaults (0 and 1)
            std = 0.02
            if name.endswith("attn.proj.weight") or name.endswith("mlp.2.weight"):
                std = 0.02 / math.sqrt(2 * n_layer)
            nn.init.normal_(p, 0.0, std)

    def forward(self, idx):
        n, t = idx.shape
        if t > self.block_size:
            raise ValueError(f"sequence length {t} exceeds block_size {self.block_size}")
        pos = arange(t, device=idx.device)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))
