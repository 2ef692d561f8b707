"""Embedding: a learnable lookup table from integer ids (words, tokens, items) to vectors.

``Embedding(V, D)(ids)`` returns ``weight[ids]``: the same as multiplying one-hot vectors of
size V by the (V, D) table, without building them. Its gradient adds each position's output
gradient into the row it read (repeated ids accumulate) and leaves every other row at zero.
"""

from __future__ import annotations

from chainrule.autograd.function import no_grad
from chainrule.creation import empty
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module, Parameter
from chainrule.tensor import Tensor

__all__ = ["Embedding"]


class Embedding(Module):
    """A (num_embeddings, embedding_dim) table of vectors looked up by integer index.

    Args:
        num_embeddings: V, the number of rows (the vocabulary size).
        embedding_dim: D, the size of each vector.
        padding_idx: this row is initialised to zeros and receives no gradient (a fixed "pad"
            vector); negative values count from the end.
        max_norm: rows looked up whose ``norm_type``-norm exceeds it are rescaled to norm
            max_norm, in place in ``weight`` (as PyTorch does).
        norm_type: the p of the p-norm for ``max_norm`` (default 2).
        scale_grad_by_freq: divide each row's gradient by the row's count in the batch.
        sparse: must be False: chainrule's gradient is a dense table in which only the rows
            used are non-zero.
        _weight: an initial (V, D) table (used by ``from_pretrained``).
        _freeze: create the weight with requires_grad=False.

    Shape: input (*) of int64 (or int32) indices in [0, V) -> output (*, D).
    Init (PyTorch's): weight ~ N(0, 1), the padding row zeroed.

    Example:
        >>> emb = nn.Embedding(10, 3, padding_idx=0)
        >>> out = emb(chainrule.tensor([[1, 2, 0], [4, 0, 9]]))
        >>> out.shape, out[0, 2].tolist()
        (chainrule.Size([2, 3, 3]), [0.0, 0.0, 0.0])
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Tensor | None = None,
        _freeze: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if sparse:
            raise NotImplementedError(
                "Embedding(sparse=True) is not supported: chainrule has no sparse tensors; "
                "use sparse=False (the dense gradient adds only into the rows looked up)"
            )
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        if padding_idx is not None:
            if padding_idx > 0:
                if padding_idx >= num_embeddings:
                    raise AssertionError("Padding_idx must be within num_embeddings")
            elif padding_idx < 0:
                if padding_idx < -num_embeddings:
                    raise AssertionError("Padding_idx must be within num_embeddings")
                padding_idx = num_embeddings + padding_idx
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            self.weight = Parameter(
                empty(num_embeddings, embedding_dim, device=device, dtype=dtype),
                requires_grad=not _freeze,
            )
            self.reset_parameters()
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise AssertionError(
                    "Shape of weight does not match num_embeddings and embedding_dim"
                )
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        if self.padding_idx is not None:
            with no_grad():
                self.weight.data[self.padding_idx] = 0
                self.weight._version[0] += 1

    def forward(self, input):
        return F.embedding(
            input,
            self.weight,
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.sparse,
        )

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(
        cls,
        embeddings,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An Embedding whose table is ``embeddings`` (V, D), frozen by default.

        Example:
            >>> w = chainrule.tensor([[1.0, 2.3, 3.0], [4.0, 5.1, 6.3]])
            >>> nn.Embedding.from_pretrained(w)(chainrule.tensor([1]))
            tensor([[4.0000, 5.1000, 6.3000]])
        """
        if not isinstance(embeddings, Tensor):
            from chainrule.tensor import tensor

            embeddings = tensor(embeddings)
        if embeddings.ndim != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(
            num_embeddings=rows,
            embedding_dim=cols,
            _weight=embeddings,
            _freeze=freeze,
            padding_idx=padding_idx,
            max_norm=max_norm,
            norm_type=norm_type,
            scale_grad_by_freq=scale_grad_by_freq,
            sparse=sparse,
        )
