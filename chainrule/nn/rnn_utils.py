"""Batches of sequences of different lengths (``chainrule.nn.utils.rnn``), as in PyTorch.

- ``pad_sequence``: a list of (L_i, *) tensors -> one (L_max, N, *) tensor, padded.
- ``pack_padded_sequence``: padded batch + lengths -> a ``PackedSequence`` whose ``data`` holds
  only the real steps, time step by time step, longest sequences first; RNN, LSTM and GRU take
  it and return one. ``batch_sizes[t]`` counts the sequences still running at step t.
- ``pad_packed_sequence``: back to a padded batch and the lengths.

Every conversion is one gather with an index table (differentiable: the gradient flows back
to the positions read), never a loop over the batch.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from chainrule import ops
from chainrule.backend import to_device
from chainrule.tensor import Tensor


class PackedSequence(NamedTuple):
    """A batch of variable-length sequences without padding.

    Fields:
        data: (sum of lengths, *): step 0 of every sequence, then step 1 of those still
            running, ... (sequences ordered longest first).
        batch_sizes: (L_max,) int64: how many sequences have a step t.
        sorted_indices: the batch index of each sorted position (None when the input was
            already sorted by decreasing length).
        unsorted_indices: the inverse permutation (None likewise).
    """

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def to(self, *args, **kwargs) -> PackedSequence:
        """The same sequences with ``data`` moved/cast (the index fields stay on the CPU)."""
        return self._replace(data=self.data.to(*args, **kwargs))


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation of 0..n-1 (None stays None)."""
    if permutation is None:
        return None
    p = _ints(permutation)
    inverse = np.empty_like(p)
    inverse[p] = np.arange(p.size, dtype=p.dtype)
    return Tensor._make(inverse)


def _ints(values) -> np.ndarray:
    """A 1-D int64 NumPy array from a Tensor, list or array (lengths and indices live on CPU)."""
    if isinstance(values, Tensor):
        values = values.numpy()
    return np.asarray(values, dtype=np.int64).reshape(-1)


def _index(idx: np.ndarray, like: Tensor) -> Tensor:
    return Tensor._make(to_device(idx, like._device), like._device)


def _packed_positions(batch_sizes: np.ndarray, sorted_indices):
    """(time index, batch index) of every row of packed data, in packed order."""
    total = int(batch_sizes.sum())
    time_idx = np.repeat(np.arange(batch_sizes.size), batch_sizes)
    starts = np.cumsum(batch_sizes) - batch_sizes
    rank = np.arange(total) - np.repeat(starts, batch_sizes)  # sorted position in the batch
    batch_idx = rank if sorted_indices is None else _ints(sorted_indices)[rank]
    return time_idx, batch_idx


def _padding_row(like: Tensor, padding_value: float) -> Tensor:
    xp = like._device.xp
    row = xp.full((1,) + tuple(like.shape[1:]), padding_value, dtype=like.data.dtype)
    return Tensor._make(row, like._device)


def pad_sequence(
    sequences, batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"
) -> Tensor:
    """Stack sequences of different lengths into one tensor, padding the short ones.

    Args:
        sequences: a list of tensors (L_i, *) with the same trailing dims.
        batch_first: return (N, L_max, *) instead of (L_max, N, *).
        padding_value: the value of the padded positions.
        padding_side: ``'right'`` (pad after each sequence) or ``'left'``.

    Example:
        >>> a, b = chainrule.ones(3, 2), chainrule.ones(1, 2)
        >>> nn.utils.rnn.pad_sequence([a, b]).shape
        chainrule.Size([3, 2, 2])
    """
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(
            f"Expected padding_side to be one of left or right, but got {padding_side}."
        )
    trailing = tuple(sequences[0].shape[1:])
    for k, s in enumerate(sequences):
        if s.ndim == 0 or tuple(s.shape[1:]) != trailing:
            raise RuntimeError(
                f"pad_sequence: every sequence must be (L_i, *{trailing}); sequence {k} has "
                f"shape {tuple(s.shape)}"
            )
    lengths = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    total, longest = int(lengths.sum()), int(lengths.max())
    # idx[t, n] = the row of cat(sequences) at step t of sequence n, or the padding row.
    idx = np.full((longest, len(sequences)), total, dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    for n, (start, length) in enumerate(zip(starts, lengths)):  # a loop over the index table
        first = 0 if padding_side == "right" else longest - length
        idx[first : first + length, n] = np.arange(start, start + length)
    flat = ops.cat(sequences + [_padding_row(sequences[0], padding_value)], dim=0)
    return flat[_index(idx.T if batch_first else idx, flat)]


def pack_padded_sequence(
    input: Tensor, lengths, batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Pack a padded batch: keep only the real steps of each sequence.

    Args:
        input: (L, N, *) (or (N, L, *) with batch_first), padded.
        lengths: the length of each sequence (a list or a CPU int64 tensor).
        batch_first: the layout of ``input``.
        enforce_sorted: require lengths in decreasing order; with False, the sequences are
            sorted here and the permutation is kept in the result.

    Example:
        >>> x = chainrule.randn(4, 2, 3)
        >>> nn.utils.rnn.pack_padded_sequence(x, [4, 2]).batch_sizes
        tensor([2, 2, 1, 1])
    """
    lengths = _ints(lengths)
    batch_dim = 0 if batch_first else 1
    if input.ndim < 2:
        raise RuntimeError(
            f"pack_padded_sequence: expected input of at least 2 dims, got {tuple(input.shape)}"
        )
    if lengths.size != input.shape[batch_dim]:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {lengths.size} "
            f"(batch_size={input.shape[batch_dim]})"
        )
    if (lengths <= 0).any():
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' "
            "that is <= 0"
        )
    if lengths.max() > input.shape[1 - batch_dim]:
        raise RuntimeError(
            f"pack_padded_sequence: lengths {lengths.tolist()} exceed the padded length "
            f"{input.shape[1 - batch_dim]}"
        )
    if enforce_sorted:
        if (np.diff(lengths) > 0).any():
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability."
            )
        sorted_indices = None
        sorted_lengths = lengths
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = Tensor._make(order.astype(np.int64))
        sorted_lengths = lengths[order]
    steps = np.arange(int(sorted_lengths[0]))
    batch_sizes = (sorted_lengths[None, :] > steps[:, None]).sum(axis=1).astype(np.int64)
    time_idx, batch_idx = _packed_positions(batch_sizes, sorted_indices)
    if batch_first:
        time_idx, batch_idx = batch_idx, time_idx
    data = input[_index(time_idx, input), _index(batch_idx, input)]
    return PackedSequence(
        data, Tensor._make(batch_sizes), sorted_indices, invert_permutation(sorted_indices)
    )


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
):
    """Undo ``pack_padded_sequence``: (padded batch, lengths), in the original batch order.

    Args:
        sequence: a PackedSequence.
        batch_first: return (N, L, *) instead of (L, N, *).
        padding_value: the value of the padded positions.
        total_length: pad to this length instead of the longest sequence.

    Returns: the padded tensor and the lengths (int64, CPU).
    """
    batch_sizes = _ints(sequence.batch_sizes)
    steps, batch = batch_sizes.size, int(batch_sizes[0])
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{steps}"
            )
        steps = total_length
    data = sequence.data
    total = data.shape[0]
    time_idx, batch_idx = _packed_positions(batch_sizes, sequence.sorted_indices)
    idx = np.full((steps, batch), total, dtype=np.int64)
    idx[time_idx, batch_idx] = np.arange(total)
    flat = ops.cat([data, _padding_row(data, padding_value)], dim=0)
    padded = flat[_index(idx.T if batch_first else idx, flat)]
    lengths = np.zeros(batch, dtype=np.int64)
    np.add.at(lengths, batch_idx, 1)
    return padded, Tensor._make(lengths)


def _pack_like(padded: Tensor, template: PackedSequence) -> PackedSequence:
    """Pack a time-major (L, N, *) tensor with the structure of ``template``."""
    time_idx, batch_idx = _packed_positions(_ints(template.batch_sizes), template.sorted_indices)
    data = padded[_index(time_idx, padded), _index(batch_idx, padded)]
    return template._replace(data=data)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of (L_i, *) tensors: ``pack_padded_sequence(pad_sequence(...), lengths)``."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """The list of sequences (L_i, *) inside a padded batch."""
    lengths = _ints(lengths)
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[n, : int(length)] for n, length in enumerate(lengths)]


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences (L_i, *) inside a PackedSequence, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]
