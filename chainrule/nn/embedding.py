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

__all__ = ["Embedding", "EmbeddingBag"]


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
        self.padding_idx = _padding_row(padding_idx, num_embeddings)
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        _init_table(self, _weight, _freeze, device, dtype)

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
        s += _lookup_options_repr(self)
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
        embeddings = _as_table(embeddings)
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


def _padding_row(padding_idx: int | None, num_embeddings: int) -> int | None:
    """padding_idx as a row number in [0, num_embeddings) (negative counts from the end)."""
    if padding_idx is not None:
        if padding_idx >= num_embeddings or padding_idx < -num_embeddings:
            raise AssertionError(
                f"Padding_idx must be within num_embeddings (expected {-num_embeddings} to "
                f"{num_embeddings - 1}, got {padding_idx})"
            )
        if padding_idx < 0:
            padding_idx = num_embeddings + padding_idx
    return padding_idx


def _init_table(module, _weight, _freeze: bool, device, dtype) -> None:
    """Give ``module`` its (num_embeddings, embedding_dim) weight: ``_weight`` or a new one."""
    shape = [module.num_embeddings, module.embedding_dim]
    if _weight is None:
        module.weight = Parameter(
            empty(*shape, device=device, dtype=dtype), requires_grad=not _freeze
        )
        module.reset_parameters()
    else:
        if list(_weight.shape) != shape:
            raise AssertionError(
                f"Shape of weight {tuple(_weight.shape)} does not match num_embeddings and "
                f"embedding_dim {tuple(shape)}"
            )
        module.weight = Parameter(_weight, requires_grad=not _freeze)


def _lookup_options_repr(module) -> str:
    """The max_norm, norm_type and scale_grad_by_freq part of the repr, when not defaults."""
    s = ""
    if module.max_norm is not None:
        s += f", max_norm={module.max_norm}"
    if module.norm_type != 2:
        s += f", norm_type={module.norm_type}"
    if module.scale_grad_by_freq is not False:
        s += f", scale_grad_by_freq={module.scale_grad_by_freq}"
    return s


def _as_table(embeddings) -> Tensor:
    if not isinstance(embeddings, Tensor):
        from chainrule.tensor import tensor

        embeddings = tensor(embeddings)
    if embeddings.ndim != 2:
        raise AssertionError(
            f"Embeddings parameter is expected to be 2-dimensional, got shape "
            f"{tuple(embeddings.shape)}"
        )
    return embeddings


class EmbeddingBag(Module):
    """Sums, means or maxima of "bags" of embedding rows, without building the per-bag lookups
    (bag-of-words models, recommender features): ``EmbeddingBag(mode='sum')(ids, offsets)`` is
    ``Embedding(ids)`` summed within each bag.

    Args:
        num_embeddings: V, the number of rows.
        embedding_dim: D, the size of each vector.
        max_norm, norm_type: as in Embedding (rows used are rescaled in place).
        scale_grad_by_freq: divide each row's gradient by its count in the batch (not 'max').
        mode: 'sum', 'mean' (default) or 'max'.
        sparse: must be False (chainrule's gradient is dense).
        _weight: an initial (V, D) table (used by ``from_pretrained``).
        include_last_offset: offsets has B + 1 entries, the last one ending the last bag.
        padding_idx: this row is initialised to zeros, left out of every bag (and of its
            count for 'mean') and receives no gradient.

    Shape: input (B, L) with offsets None, or (n,) with offsets (B,) -> output (B, D);
    per_sample_weights (input's shape, 'sum' only) weight each looked-up row.
    Init (PyTorch's): weight ~ N(0, 1), the padding row zeroed.

    Example:
        >>> bag = nn.EmbeddingBag(10, 3, mode="sum")
        >>> bag(chainrule.tensor([1, 2, 4, 5, 4]), chainrule.tensor([0, 2])).shape
        chainrule.Size([2, 3])
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        _weight: Tensor | None = None,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if sparse:
            raise NotImplementedError(
                "EmbeddingBag(sparse=True) is not supported: chainrule has no sparse tensors; "
                "use sparse=False (the dense gradient adds only into the rows looked up)"
            )
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode has to be 'sum', 'mean' or 'max', got {mode!r}")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset
        self.padding_idx = _padding_row(padding_idx, num_embeddings)
        _init_table(self, _weight, False, device, dtype)

    reset_parameters = Embedding.reset_parameters
    _fill_padding_idx_with_zero = Embedding._fill_padding_idx_with_zero

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(
            input,
            self.weight,
            offsets,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.mode,
            self.sparse,
            per_sample_weights,
            self.include_last_offset,
            self.padding_idx,
        )

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}{_lookup_options_repr(self)}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(
        cls,
        embeddings,
        freeze: bool = True,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
    ) -> EmbeddingBag:
        """An EmbeddingBag whose table is ``embeddings`` (V, D), frozen by default.

        Example:
            >>> w = chainrule.tensor([[1.0, 2.0], [3.0, 4.0]])
            >>> nn.EmbeddingBag.from_pretrained(w)(chainrule.tensor([[0, 1]]))
            tensor([[2., 3.]])
        """
        embeddings = _as_table(embeddings)
        rows, cols = embeddings.shape
        bag = cls(
            num_embeddings=rows,
            embedding_dim=cols,
            _weight=embeddings,
            max_norm=max_norm,
            norm_type=norm_type,
            scale_grad_by_freq=scale_grad_by_freq,
            mode=mode,
            sparse=sparse,
            include_last_offset=include_last_offset,
            padding_idx=padding_idx,
        )
        bag.weight.requires_grad = not freeze
        return bag
