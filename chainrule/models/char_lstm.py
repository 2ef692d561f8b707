"""A character-level LSTM language model (char-rnn, Karpathy 2015)."""

from __future__ import annotations

from chainrule import nn


class CharLSTM(nn.Module):
    """Embedding -> LSTM -> Linear: the logits of the next character at every position.

    p(x_{t+1} | x_{<=t}) = softmax(W h_t + b), h_t = LSTM(embed(x_t), h_{t-1}).

    Args:
        vocab_size: number of distinct characters.
        embed_dim: size of the character embeddings.
        hidden_size: LSTM state size.
        num_layers: stacked LSTM layers.
        dropout: dropout between LSTM layers and before the output layer.

    Shape: input (N, T) int64 -> logits (N, T, vocab_size); ``forward`` also accepts and
    returns the recurrent state with ``return_state=True`` (used when sampling).

    Example:
        >>> model = CharLSTM(65)
        >>> model(chainrule.zeros(2, 16, dtype=chainrule.int64)).shape
        chainrule.Size([2, 16, 65])
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int = 64,
        hidden_size: int = 256,
        num_layers: int = 1,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(
            embed_dim,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx, state=None, return_state: bool = False):
        out, state = self.lstm(self.embedding(idx), state)
        logits = self.head(self.dropout(out))
        return (logits, state) if return_state else logits
