"""Recurrent layers: RNN, LSTM, GRU (multi-layer, bidirectional, packed sequences) and cells.

Every layer and direction does the same two things:

1. the input projection for all time steps at once, ``xg = x W_ih^T + b_ih``: one matrix
   product of the (L * N, H_in) inputs with the weights of all gates;
2. the recurrence (``chainrule.ops.recurrent``): per step one product ``h W_hh^T`` for all
   gates and the gate arithmetic, with a hand-written backward through time.

Parameter names, shapes, gate order and output layout are PyTorch's, so a PyTorch state_dict
converted to NumPy loads and gives the same outputs.
"""

from __future__ import annotations

import math
import numbers
import warnings

from chainrule import ops
from chainrule.creation import empty
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module, Parameter
from chainrule.nn.rnn_utils import PackedSequence, _pack_like, pad_packed_sequence
from chainrule.ops.recurrent import gru_scan, lstm_scan, rnn_scan
from chainrule.tensor import Tensor

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _zeros_state(x: Tensor, n: int, hidden: int) -> Tensor:
    xp = x._device.xp
    return Tensor._make(xp.zeros((n, hidden), dtype=x.data.dtype), x._device)


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters of every layer and direction, the checks
    of input and initial states, the loop over layers and directions, packed sequences.

    Parameters, per layer k and direction (suffix ``_reverse`` for the backward one), G gates:
    ``weight_ih_l{k}`` (G*H, H_in for k = 0 else D*H), ``weight_hh_l{k}`` (G*H, H),
    ``bias_ih_l{k}``, ``bias_hh_l{k}`` (G*H,). All are initialised U(-1/sqrt(H), 1/sqrt(H)).
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if (
            not isinstance(dropout, numbers.Number)
            or isinstance(dropout, bool)
            or not 0 <= dropout <= 1
        ):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                "element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=2,
            )
        for name, value in (("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
            if value <= 0:
                raise ValueError(f"{name} must be greater than zero")
        if not isinstance(proj_size, int) or proj_size < 0:
            raise ValueError(
                "proj_size should be a positive integer or zero to disable projections"
            )
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size  # the size of h (c keeps hidden_size)
        directions = 2 if bidirectional else 1
        names = []
        for layer in range(num_layers):
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                layer_in = input_size if layer == 0 else real_hidden * directions
                shapes = {
                    "weight_ih": (gate_size, layer_in),
                    "weight_hh": (gate_size, real_hidden),
                }
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                for kind, shape in shapes.items():
                    setattr(
                        self, kind + suffix, Parameter(empty(*shape, device=device, dtype=dtype))
                    )
                    names.append(kind + suffix)
        self._flat_weights_names = names
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """A no-op, for PyTorch compatibility (cuDNN wants one contiguous weight buffer)."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        """The parameters grouped per layer and direction: [[w_ih, w_hh, b_ih, b_hh], ...]."""
        per = (4 if self.bias else 2) + (1 if self.proj_size else 0)
        flat = self._flat_weights
        return [flat[k : k + per] for k in range(0, len(flat), per)]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ---------------------------------------------------------------- forward
    def _num_states(self) -> int:
        return 2 if self.mode == "LSTM" else 1

    def _prepare(self, input, hx):
        """Time-major input (L, N, H_in), lengths (or None), the initial states as a tuple
        (or None), and how to shape the outputs."""
        name = type(self).__name__
        packed = isinstance(input, PackedSequence)
        n_states = self._num_states()
        if packed:
            x, lengths = pad_packed_sequence(input)
            if input.data.ndim != 2:
                raise RuntimeError(f"input must have 2 dimensions, got {input.data.ndim}")
            batched = True
        else:
            if not isinstance(input, Tensor):
                raise TypeError(
                    f"{name}: expected a Tensor or a PackedSequence as input, "
                    f"got {type(input).__name__}"
                )
            if input.ndim not in (2, 3):
                raise ValueError(
                    f"{name}: Expected input to be 2D or 3D, got {input.ndim}D tensor instead "
                    f"(shape {tuple(input.shape)})"
                )
            batched = input.ndim == 3
            x = input if batched else input.unsqueeze(1)
            if batched and self.batch_first:
                x = x.transpose(0, 1)
            lengths = None
        if x.shape[-1] != self.input_size:
            raise RuntimeError(
                f"{name}: input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {x.shape[-1]} (input shape {tuple(x.shape)})"
            )
        if x.data.dtype != self.weight_ih_l0.data.dtype:
            raise ValueError(
                f"{name}: input dtype ({x.dtype.name}) does not match weight dtype "
                f"({self.weight_ih_l0.dtype.name})"
            )
        if hx is not None:
            states = tuple(hx) if n_states == 2 else (hx,)
            if n_states == 2 and (not isinstance(hx, tuple | list) or len(states) != 2):
                raise TypeError(f"{name}: expected hx to be a tuple (h_0, c_0)")
            want_dim = 3 if batched else 2
            for s in states:
                if s.ndim != want_dim:
                    kind = "batched 3-D" if batched else "unbatched 2-D"
                    raise RuntimeError(
                        f"{name}: For {kind} input, hx should also be {want_dim}-D but got "
                        f"{s.ndim}-D tensor (shape {tuple(s.shape)})"
                    )
            if not batched:
                states = tuple(s.unsqueeze(1) for s in states)
            for k, s in enumerate(states):
                expected = (
                    self.num_layers * (2 if self.bidirectional else 1),
                    x.shape[1],
                    self.proj_size if k == 0 and self.proj_size else self.hidden_size,
                )
                if tuple(s.shape) != expected:
                    which = f"hidden[{k}] " if n_states == 2 else "hidden "
                    raise RuntimeError(
                        f"{name}: Expected {which}size {expected}, got {list(s.shape)}"
                    )
        else:
            states = None
        return x, lengths, states, packed, batched

    def _scan(self, xg, init_states, w_hh, b_hh, lengths, reverse, w_hr=None):
        """(output, final states tuple) of one layer in one direction."""
        if self.mode == "LSTM":
            out, h, c = lstm_scan(
                xg, *init_states, w_hh, b_hh, lengths=lengths, reverse=reverse, w_hr=w_hr
            )
            return out, (h, c)
        if self.mode == "GRU":
            out, h = gru_scan(xg, *init_states, w_hh, b_hh, lengths=lengths, reverse=reverse)
        else:
            act = "relu" if self.mode == "RNN_RELU" else "tanh"
            out, h = rnn_scan(xg, *init_states, w_hh, b_hh, act, lengths=lengths, reverse=reverse)
        return out, (h,)

    def forward(self, input, hx=None):
        x, lengths, states, packed, batched = self._prepare(input, hx)
        n = x.shape[1]
        directions = 2 if self.bidirectional else 1
        finals = [[] for _ in range(self._num_states())]
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                w_ih = getattr(self, "weight_ih" + suffix)
                w_hh = getattr(self, "weight_hh" + suffix)
                b_ih = getattr(self, "bias_ih" + suffix) if self.bias else None
                b_hh = getattr(self, "bias_hh" + suffix) if self.bias else None
                k = layer * directions + direction
                w_hr = getattr(self, "weight_hr" + suffix) if self.proj_size else None
                if states is None:
                    sizes = [self.proj_size or self.hidden_size, self.hidden_size]
                    init_states = tuple(
                        _zeros_state(x, n, sizes[j]) for j in range(self._num_states())
                    )
                else:
                    init_states = tuple(s[k] for s in states)
                # One product for every time step and gate: (L * N, H_in) @ (H_in, G * H).
                xg = ops.linear(layer_input, w_ih, b_ih)
                out, final = self._scan(xg, init_states, w_hh, b_hh, lengths, direction == 1, w_hr)
                outputs.append(out)
                for store, s in zip(finals, final):
                    store.append(s)
            layer_input = outputs[0] if directions == 1 else ops.cat(outputs, dim=2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, p=self.dropout, training=True)
        output = layer_input
        finals = tuple(ops.stack(store, dim=0) for store in finals)
        if packed:
            output = _pack_like(output, input)
        elif not batched:
            output = output.squeeze(1)
            finals = tuple(s.squeeze(1) for s in finals)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, (finals if self.mode == "LSTM" else finals[0])


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh or relu.

    Args:
        input_size: features of x_t (H_in).
        hidden_size: features of h_t (H).
        num_layers: stacked layers, each feeding its outputs to the next (default 1).
        nonlinearity: ``'tanh'`` (default) or ``'relu'``.
        bias: learn b_ih and b_hh (default True).
        batch_first: input and output are (N, L, *) instead of (L, N, *) (not h_n).
        dropout: dropout probability on the outputs of every layer but the last (training).
        bidirectional: also run each layer from the last step to the first and concatenate.

    Shape: input (L, N, H_in), (N, L, H_in) with batch_first, (L, H_in) unbatched, or a
    PackedSequence; h_0 (D * num_layers, N, H), zeros when omitted (D = 2 if bidirectional).
    Output (L, N, D * H) (a PackedSequence for packed input) and h_n (D * num_layers, N, H),
    ordered layer by layer, forward direction first.

    Example:
        >>> rnn = nn.RNN(10, 20, num_layers=2)
        >>> output, h_n = rnn(chainrule.randn(5, 3, 10))
        >>> output.shape, h_n.shape
        (chainrule.Size([5, 3, 20]), chainrule.Size([2, 3, 20]))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
    ):
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        super().__init__(
            mode,
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
        )
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory: gates from x_t and h_{t-1}, a cell state c_t that is updated
    additively (which lets gradients travel far), h_t read from it.

        i, f, g, o = sig(.), sig(.), tanh(.), sig(.) of x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
        c_t = f * c_{t-1} + i * g,    h_t = o * tanh(c_t)

    Args: as :class:`RNN` (without nonlinearity), and ``proj_size`` P (default 0: none): h_t is
    projected, h_t = (o * tanh(c_t)) W_hr^T of size P < H, with a ``weight_hr_l{k}`` (P, H).

    Shape: as :class:`RNN`, with the state a pair (h, c) of (D * num_layers, N, H) each:
    ``output, (h_n, c_n) = lstm(input, (h_0, c_0))``. The weights stack the gates in the order
    i, f, g, o: weight_ih_l0 is (4H, H_in).

    Example:
        >>> lstm = nn.LSTM(10, 20, batch_first=True)
        >>> output, (h_n, c_n) = lstm(chainrule.randn(3, 5, 10))
        >>> output.shape, c_n.shape
        (chainrule.Size([3, 5, 20]), chainrule.Size([1, 3, 20]))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ):
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device=device,
            dtype=dtype,
        )


class GRU(RNNBase):
    """Gated recurrent unit: a reset gate r, an update gate z, a candidate n.

        r, z = sig(.) of x_t W_i{r,z}^T + b_i{r,z} + h_{t-1} W_h{r,z}^T + b_h{r,z}
        n = tanh(x_t W_in^T + b_in + r * (h_{t-1} W_hn^T + b_hn))
        h_t = (1 - z) * n + z * h_{t-1}

    Args and Shape: as :class:`RNN` (without nonlinearity). Gates are stacked r, z, n.

    Example:
        >>> gru = nn.GRU(10, 20, bidirectional=True)
        >>> output, h_n = gru(chainrule.randn(5, 3, 10))
        >>> output.shape, h_n.shape
        (chainrule.Size([5, 3, 40]), chainrule.Size([2, 3, 20]))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
        )


# ---------------------------------------------------------------- cells


class RNNCellBase(Module):
    """One time step of a recurrent layer: weight_ih (G*H, H_in), weight_hh (G*H, H),
    bias_ih and bias_hh (G*H,), all U(-1/sqrt(H), 1/sqrt(H))."""

    _gates = 1  # gate blocks stacked in the weights
    _num_states = 1  # h, or (h, c) for the LSTM

    def __init__(self, input_size: int, hidden_size: int, bias: bool, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gate_size = self._gates * hidden_size
        self.weight_ih = Parameter(empty(gate_size, input_size, device=device, dtype=dtype))
        self.weight_hh = Parameter(empty(gate_size, hidden_size, device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(gate_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(empty(gate_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = self.__dict__.get("nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s

    def _prepare(self, input, states):
        """(batched input (N, H_in), batched states, whether the input was batched)."""
        name = type(self).__name__
        if not isinstance(input, Tensor) or input.ndim not in (1, 2):
            got = f"{input.ndim}D" if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {got} instead")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if x.shape[1] != self.input_size:
            raise RuntimeError(
                f"{name}: input has inconsistent input_size: expected {self.input_size}, got "
                f"{x.shape[1]} (input shape {tuple(input.shape)})"
            )
        n = x.shape[0]
        if states is None:
            return (
                x,
                tuple(_zeros_state(x, n, self.hidden_size) for _ in range(self._num_states)),
                batched,
            )
        out = []
        for k, s in enumerate(states):
            if s.ndim != input.ndim:
                raise RuntimeError(
                    f"{name}: Expected hidden to be {input.ndim}D like the input, got "
                    f"{s.ndim}D (shape {tuple(s.shape)})"
                )
            s = s if batched else s.unsqueeze(0)
            if tuple(s.shape) != (n, self.hidden_size):
                raise RuntimeError(
                    f"{name}: expected hidden[{k}] of shape {(n, self.hidden_size)}, got "
                    f"{tuple(s.shape)}"
                )
            out.append(s)
        return x, tuple(out), batched

    def _xg(self, x):
        return ops.linear(x, self.weight_ih, self.bias_ih).unsqueeze(0)  # one step: (1, N, G*H)


class RNNCell(RNNCellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act = tanh or relu: one step of :class:`RNN`.

    Args:
        input_size: features of x (H_in).
        hidden_size: features of h (H).
        bias: learn b_ih and b_hh (default True).
        nonlinearity: ``'tanh'`` (default) or ``'relu'``.

    Shape: input (N, H_in) or (H_in); hidden (N, H) or (H), zeros when omitted -> h' (N, H).

    Example:
        >>> cell = nn.RNNCell(10, 20)
        >>> h = cell(chainrule.randn(3, 10))
        >>> cell(chainrule.randn(3, 10), h).shape
        chainrule.Size([3, 20])
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device=None,
        dtype=None,
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, None if hx is None else (hx,))
        _, h = rnn_scan(self._xg(x), h, self.weight_hh, self.bias_hh, self.nonlinearity)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One step of :class:`LSTM`: (h', c') from x and (h, c); gates i, f, g, o.

    Args:
        input_size, hidden_size, bias: as :class:`RNNCell`.

    Shape: input (N, H_in) or (H_in); hx a pair (h, c) of (N, H) or (H), zeros when omitted.
    Output: the pair (h', c').

    Example:
        >>> cell = nn.LSTMCell(10, 20)
        >>> h, c = cell(chainrule.randn(3, 10))
        >>> h.shape, c.shape
        (chainrule.Size([3, 20]), chainrule.Size([3, 20]))
    """

    _gates = 4
    _num_states = 2

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None
    ):
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        if hx is not None and (not isinstance(hx, tuple | list) or len(hx) != 2):
            raise TypeError("LSTMCell: expected hx to be a tuple (h, c)")
        x, (h, c), batched = self._prepare(input, hx)
        _, h, c = lstm_scan(self._xg(x), h, c, self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One step of :class:`GRU`: h' = (1 - z) n + z h with gates r, z and candidate n.

    Args:
        input_size, hidden_size, bias: as :class:`RNNCell`.

    Shape: input (N, H_in) or (H_in); hidden (N, H) or (H), zeros when omitted -> h' (N, H).

    Example:
        >>> cell = nn.GRUCell(10, 20)
        >>> cell(chainrule.randn(3, 10)).shape
        chainrule.Size([3, 20])
    """

    _gates = 3

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None
    ):
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, None if hx is None else (hx,))
        _, h = gru_scan(self._xg(x), h, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)
