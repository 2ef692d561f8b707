"""Recurrences: one layer of an RNN, LSTM or GRU run over a whole sequence, as one op each.

The input projection ``xg = x W_ih^T + b_ih`` does not depend on the state, so the caller
computes it for every time step at once with one matrix product (``ops.linear``) and passes it
in. What is left is the recurrence itself: per time step one product ``h W_hh^T`` for all
gates, then elementwise gate arithmetic. ``backward`` is backpropagation through time written
out by hand: one reverse loop carrying dL/dh (and dL/dc), collecting the gradient of every
step's gate pre-activations; the weight gradient is then one product over all steps,
dL/dW_hh = sum_t dG_t^T h_{t-1}.

Why fused: composed from primitives, an LSTM step is about fifteen graph nodes, and slicing
the time step out of ``xg`` costs a full-size gradient per step in backward. One node per
layer and direction keeps the graph small and the backward pass O(L).

Each op returns one array stacking the outputs of every step with the final state(s):
``(L + 1, N, H)`` (rows 0..L-1: outputs, row L: h_n) and ``(L + 2, N, H)`` for the LSTM (row
L + 1: c_n). The public functions split it into ``(output, h_n[, c_n])``.

Variable lengths: ``valid[t, n]`` says whether step t exists for sequence n. Past its end a
sequence keeps its state (so the final state is the one at its last valid step) and outputs
zeros. ``reverse=True`` runs from t = L-1 down to 0; a sequence's state stays at h0 until its
last valid step, where the reverse pass starts.
"""

from __future__ import annotations

from chainrule.autograd.function import Function, composite_backward_graph
from chainrule.tensor import Tensor

# ---------------------------------------------------------------- helpers


def _sigmoid(xp, x):
    """sigmoid(x) as (1 + tanh(x / 2)) / 2, written into a new array."""
    # NOTE: the identity is exact; tanh saturates to +-1 where 1 / (1 + e^-x) would overflow
    # e^-x for x < -88 (float32), and it costs one transcendental instead of exp and a divide.
    y = xp.tanh(x * 0.5)
    y += 1
    y *= 0.5
    return y


def _in_time_order(a, reverse: bool):
    """``a`` in processing order (reversed along time for a reverse pass): a view."""
    if a is None or not reverse:
        return a
    return a[::-1]


def _stack_outputs(xp, states, valid, reverse: bool, extra=()):
    """Rows 0..L-1: the outputs in time order (zero past each sequence's end); then h_n and
    the ``extra`` final states. The last dim is as wide as the widest of them (an LSTM with a
    projection has h narrower than c): narrower rows are zero-padded at the end."""
    L = states.shape[0] - 1
    P = states.shape[-1]
    width = max([P] + [e.shape[-1] for e in extra])
    make = xp.empty if width == P else xp.zeros
    out = make((L + 1 + len(extra),) + states.shape[1:-1] + (width,), dtype=states.dtype)
    y = states[1:]
    if valid is not None:
        y = y * valid[:, :, None]
    out[:L, ..., :P] = _in_time_order(y, reverse)
    out[L, ..., :P] = states[L]
    for k, s in enumerate(extra):
        out[L + 1 + k, ..., : s.shape[-1]] = s
    return out


def _mask_step(xp, valid, t, new, old):
    """The state after step t: ``new`` where the step exists, ``old`` (carried) elsewhere."""
    if valid is None:
        return new
    return xp.where(valid[t][:, None], new, old)


def _carried_rows(xp, valid):
    """Per step, the (N, 1) mask of the sequences that have ended (they carry their state
    through the step), or None for a step where every sequence runs; None when all run."""
    if valid is None:
        return None
    ended = ~valid
    partial = ended.any(axis=1).tolist()
    return [ended[t][:, None] if p else None for t, p in enumerate(partial)]


def _split_grad(xp, valid, t, carried, dy_t=None):
    """(gradient reaching step t's new state, gradient carried past step t to the old state).

    ``carried`` is dL/d(state after step t); ``dy_t`` the gradient of step t's output, which
    is zero past the sequence's end (so it only counts where the step exists).
    """
    new = carried if dy_t is None else carried + dy_t
    if valid is None:
        return new, None
    m = valid[t][:, None]
    return xp.where(m, new, 0), xp.where(m, 0, carried)


def _weight_grads(ctx, d_gates, states, w_pos: int):
    """dL/dW_hh = sum_t dG_t^T h_{t-1} in one product over all steps; dL/db_hh = sum_t dG_t."""
    G = d_gates.shape[-1]
    H = states.shape[-1]
    dw = db = None
    if ctx.needs_input_grad[w_pos]:
        dw = d_gates.reshape(-1, G).T @ states[:-1].reshape(-1, H)
    if ctx.needs_input_grad[w_pos + 1]:
        db = d_gates.sum(axis=(0, 1))
    return dw, db


# ---------------------------------------------------------------- references in recorded ops
# The same recurrences unrolled with chainrule's ops: the differentiable backward
# (create_graph=True) is their VJP; they are not used for first-order gradients.


def _unrolled(ctx, xg, states, cell, valid, reverse):
    """Run ``cell(x_t, states) -> states`` over time; a sequence past its end keeps its states
    and outputs zeros. Returns the stacked outputs (L + 1 + extra, N, width) as the fused ops
    do: every step's first state in time order, then the final states."""
    from chainrule.ops.elementwise import where
    from chainrule.ops.movement import cat, stack

    L = xg.shape[0]
    outputs = [None] * L
    for t in range(L - 1, -1, -1) if reverse else range(L):
        new = cell(xg[t], states)
        if valid is not None:
            m = Tensor._make(valid[t][:, None], ctx.device)
            new = tuple(where(m, a, b) for a, b in zip(new, states))
            outputs[t] = new[0] * m
        else:
            outputs[t] = new[0]
        states = new
    rows = [stack(outputs, 0)] + [s.unsqueeze(0) for s in states]
    width = max(r.shape[-1] for r in rows)
    padded = [
        r
        if r.shape[-1] == width
        else cat([r, r.new_zeros(r.shape[:-1] + (width - r.shape[-1],))], -1)
        for r in rows
    ]
    return cat(padded, 0)


def _recurrent(h, w_hh, b_hh):
    gh = h.matmul(w_hh.transpose(0, 1))
    return gh if b_hh is None else gh + b_hh


def _rnn_reference(ctx, xg, h0, w_hh, b_hh, nonlinearity="tanh", valid=None, reverse=False):
    def cell(x, states):
        a = x + _recurrent(states[0], w_hh, b_hh)
        return ((a.relu() if nonlinearity == "relu" else a.tanh()),)

    return _unrolled(ctx, xg, (h0,), cell, valid, reverse)


def _lstm_reference(ctx, xg, h0, c0, w_hh, b_hh, w_hr=None, valid=None, reverse=False):
    H = c0.shape[-1]

    def cell(x, states):
        h, c = states
        a = x + _recurrent(h, w_hh, b_hh)
        i, f, g, o = (a[:, k * H : (k + 1) * H] for k in range(4))
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        m = o.sigmoid() * c.tanh()
        return (m if w_hr is None else m.matmul(w_hr.transpose(0, 1))), c

    return _unrolled(ctx, xg, (h0, c0), cell, valid, reverse)


def _gru_reference(ctx, xg, h0, w_hh, b_hh, valid=None, reverse=False):
    H = h0.shape[-1]

    def cell(x, states):
        (h,) = states
        gh = _recurrent(h, w_hh, b_hh)
        r = (x[:, :H] + gh[:, :H]).sigmoid()
        z = (x[:, H : 2 * H] + gh[:, H : 2 * H]).sigmoid()
        n = (x[:, 2 * H :] + r * gh[:, 2 * H :]).tanh()
        return (n + z * (h - n),)

    return _unrolled(ctx, xg, (h0,), cell, valid, reverse)


# ---------------------------------------------------------------- Functions


class RNNScan(Function):
    """h_t = act(xg_t + h_{t-1} W_hh^T + b_hh), t = 1..L, act = tanh or relu;
    backward: da_t = dh_t act'(a_t), dh_{t-1} = da_t W_hh, dW_hh = sum_t da_t^T h_{t-1}."""

    rule = (
        "through time: da_t = dh_t * act'(a_t); dh_{t-1} = da_t @ W_hh (+ dy_{t-1}); "
        "dxg_t = da_t; dW_hh = sum_t da_t^T h_{t-1}; db_hh = sum_t da_t"
    )

    @staticmethod
    def forward(ctx, xg, h0, w_hh, b_hh, nonlinearity="tanh", valid=None, reverse=False):
        xp = ctx.xp
        L = xg.shape[0]
        xg, valid = _in_time_order(xg, reverse), _in_time_order(valid, reverse)
        states = xp.empty((L + 1,) + h0.shape, dtype=h0.dtype)  # states[t + 1] = h after step t
        states[0] = h0
        w_t = w_hh.T
        relu = nonlinearity == "relu"
        for t in range(L):
            a = xg[t] + states[t] @ w_t
            if b_hh is not None:
                a += b_hh
            if relu:
                xp.maximum(a, 0, out=a)
            else:
                xp.tanh(a, out=a)
            states[t + 1] = _mask_step(xp, valid, t, a, states[t])
        ctx.save_for_backward(states, w_hh)
        ctx.relu, ctx.valid, ctx.reverse = relu, valid, reverse
        return _stack_outputs(xp, states, valid, reverse)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        states, w_hh = ctx.saved_tensors
        valid = ctx.valid
        L = states.shape[0] - 1
        dy = _in_time_order(grad[:L], ctx.reverse)
        dh = grad[L]
        d_pre = xp.empty(dy.shape, dtype=grad.dtype)
        for t in range(L - 1, -1, -1):
            dcand, carry = _split_grad(xp, valid, t, dh, dy[t])
            h = states[t + 1]
            d_pre[t] = dcand * (h > 0) if ctx.relu else dcand * (1 - h * h)
            dh = d_pre[t] @ w_hh
            if carry is not None:
                dh += carry
        dw, db = _weight_grads(ctx, d_pre, states, 2)
        dxg = _in_time_order(d_pre, ctx.reverse) if ctx.needs_input_grad[0] else None
        return dxg, dh, dw, db

    backward_graph = composite_backward_graph(_rnn_reference)


class LSTMScan(Function):
    """i,f,g,o = sig, sig, tanh, sig of (xg_t + h_{t-1} W_hh^T + b_hh); c_t = f c_{t-1} + i g;
    h_t = o tanh(c_t), or with a projection h_t = (o tanh c_t) W_hr^T. Backward: dc_t += dm_t o
    (1 - tanh^2 c_t) with dm_t = dh_t (W_hr); di = dc g, df = dc c_{t-1}, dg = dc i,
    do = dm tanh c_t, each times its activation's derivative; dc_{t-1} = dc f."""

    rule = (
        "through time: dc += dh * o * (1 - tanh(c)^2); d(i,f,g,o) = (dc*g, dc*c_prev, dc*i, "
        "dh*tanh(c)) * act'; dh_prev = dG @ W_hh; dc_prev = dc * f; dW_hh = sum_t dG_t^T h_{t-1}"
    )

    # Speed: the per-step products dominate; around them, about a dozen in-place NumPy calls
    # per step on preallocated buffers. The activations are stored gate-major, acts[t] = (i,
    # f, g, o), each gate a contiguous (N, H) block that one batched product (h W_k^T for the
    # four gates) writes directly: a call on a contiguous block costs about a third of one on
    # an (N, H) column slice of an (N, 4H) row. Measured and not worth it: computing the
    # backward's step-independent factors for all steps at once, adding b_hh to xg up front.

    @staticmethod
    def forward(ctx, xg, h0, c0, w_hh, b_hh, w_hr=None, valid=None, reverse=False):
        xp = ctx.xp
        L, N = xg.shape[0], xg.shape[1]
        H, P = c0.shape[-1], h0.shape[-1]  # P < H with a projection h = (o tanh c) W_hr^T
        dtype = h0.dtype
        xg, valid = _in_time_order(xg, reverse), _in_time_order(valid, reverse)
        hs = xp.empty((L + 1, N, P), dtype=dtype)
        cs = xp.empty((L + 1, N, H), dtype=dtype)
        tanh_c = xp.empty((L, N, H), dtype=dtype)
        acts = xp.empty((L, 4, N, H), dtype=dtype)  # acts[t, k]: gate k after its activation
        hs[0], cs[0] = h0, c0
        # W_k^T for each gate, h @ w_gates -> (4, N, H); contiguous, which BLAS runs faster
        w_gates = xp.ascontiguousarray(w_hh.reshape(4, H, P).transpose(0, 2, 1))
        w_proj = None if w_hr is None else w_hr.T  # (H, P)
        m = None if w_hr is None else xp.empty((N, H), dtype=dtype)
        xg_gates = xg.reshape(L, N, 4, H).transpose(0, 2, 1, 3)  # (L, 4, N, H), a view
        b_gates = None if b_hh is None else b_hh.reshape(4, 1, H)
        keep = _carried_rows(xp, valid)
        ig = xp.empty((N, H), dtype=dtype)
        matmul, add, multiply, tanh = xp.matmul, xp.add, xp.multiply, xp.tanh
        for t in range(L):
            a = acts[t]
            matmul(hs[t], w_gates, out=a)
            add(a, xg_gates[t], out=a)
            if b_gates is not None:
                add(a, b_gates, out=a)
            # NOTE: sigmoid(x) = (1 + tanh(x / 2)) / 2, exact (see _sigmoid); halving the i, f
            # and o rows first lets one tanh call cover all four gates.
            sig_if, i, f, g, o = a[:2], a[0], a[1], a[2], a[3]
            multiply(sig_if, 0.5, out=sig_if)
            multiply(o, 0.5, out=o)
            tanh(a, out=a)
            multiply(sig_if, 0.5, out=sig_if)
            add(sig_if, 0.5, out=sig_if)
            multiply(o, 0.5, out=o)
            add(o, 0.5, out=o)
            c = cs[t + 1]
            multiply(f, cs[t], out=c)
            multiply(i, g, out=ig)
            add(c, ig, out=c)
            tanh(c, out=tanh_c[t])
            if w_proj is None:
                multiply(o, tanh_c[t], out=hs[t + 1])
            else:
                multiply(o, tanh_c[t], out=m)
                matmul(m, w_proj, out=hs[t + 1])
            if keep is not None and keep[t] is not None:
                xp.copyto(cs[t + 1], cs[t], where=keep[t])
                xp.copyto(hs[t + 1], hs[t], where=keep[t])
        ctx.save_for_backward(hs, cs, tanh_c, acts, w_hh, w_hr)
        ctx.valid, ctx.reverse = valid, reverse
        return _stack_outputs(xp, hs, valid, reverse, extra=(cs[L],))

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        hs, cs, tanh_c, acts, w_hh, w_hr = ctx.saved_tensors
        valid = ctx.valid
        L, N, H = tanh_c.shape
        P = hs.shape[-1]
        dtype = grad.dtype
        dy = _in_time_order(grad[:L, ..., :P], ctx.reverse)
        dh, dc = grad[L, ..., :P], grad[L + 1]
        d_gates = xp.empty((L, N, 4 * H), dtype=dtype)
        d_gates_by_gate = d_gates.reshape(L, N, 4, H).transpose(0, 2, 1, 3)  # a view
        # Buffers reused by every step: dL/dh_t and dL/dc_t before and after the step; with a
        # projection, dh_all keeps every step's dL/dh_t (for dW_hr) and dm = dL/d(o tanh c).
        dc_t, tmp = (xp.empty((N, H), dtype=dtype) for _ in range(2))
        dh_all = None if w_hr is None else xp.empty((L, N, P), dtype=dtype)
        dm = None if w_hr is None else xp.empty((N, H), dtype=dtype)
        dh_buf = xp.empty((N, P), dtype=dtype)
        dh_prev, dc_prev = xp.empty((N, P), dtype=dtype), xp.empty((N, H), dtype=dtype)
        deriv = xp.empty((4, N, H), dtype=dtype)  # per gate: act' times the other factor
        keep = _carried_rows(xp, valid)
        matmul, add, subtract, multiply = xp.matmul, xp.add, xp.subtract, xp.multiply
        for t in range(L - 1, -1, -1):
            a = acts[t]
            i, f, g, o = a[0], a[1], a[2], a[3]
            tc = tanh_c[t]
            dh_t = dh_buf if dh_all is None else dh_all[t]
            add(dh, dy[t], out=dh_t)
            dc_in = dc
            carry_h = carry_c = None
            if keep is not None and keep[t] is not None:  # rows past their end carry through
                m = keep[t]
                carry_h, carry_c = xp.where(m, dh, 0), xp.where(m, dc, 0)
                dh_t[...] = xp.where(m, 0, dh_t)
                dc_in = xp.where(m, 0, dc)
            if dm is not None:  # projection: dL/d(o tanh c) = dL/dh_t W_hr
                dh_t = matmul(dh_t, w_hr, out=dm)
            # dL/dc_t = dc + dh_t * o * (1 - tanh(c_t)^2)
            multiply(tc, tc, out=tmp)
            subtract(1, tmp, out=tmp)
            multiply(tmp, o, out=tmp)
            multiply(tmp, dh_t, out=tmp)
            add(dc_in, tmp, out=dc_t)
            # sigmoid' = s (1 - s); tanh' = 1 - g^2 = (1 - g)(1 + g)
            subtract(1, a, out=deriv)
            multiply(deriv[:2], a[:2], out=deriv[:2])
            multiply(deriv[3], o, out=deriv[3])
            add(g, 1, out=tmp)
            multiply(deriv[2], tmp, out=deriv[2])
            # times dc_t g, dc_t c_{t-1}, dc_t i, dh_t tanh(c_t): the gates' gradients
            multiply(deriv[0], g, out=deriv[0])
            multiply(deriv[1], cs[t], out=deriv[1])
            multiply(deriv[2], i, out=deriv[2])
            multiply(deriv[3], tc, out=deriv[3])
            dG = d_gates_by_gate[t]
            multiply(deriv[:3], dc_t, out=dG[:3])
            multiply(deriv[3], dh_t, out=dG[3])
            dc = multiply(dc_t, f, out=dc_prev)
            dh = matmul(d_gates[t], w_hh, out=dh_prev)
            if carry_h is not None:
                add(dh, carry_h, out=dh)
                add(dc, carry_c, out=dc)
        dw, db = _weight_grads(ctx, d_gates, hs, 3)
        dxg = _in_time_order(d_gates, ctx.reverse) if ctx.needs_input_grad[0] else None
        dw_hr = None
        if dh_all is not None and ctx.needs_input_grad[5]:
            # dL/dW_hr = sum_t dh_t^T (o_t tanh c_t), one product over all steps
            projected = acts[:, 3] * tanh_c
            dw_hr = dh_all.reshape(-1, P).T @ projected.reshape(-1, H)
        return dxg, dh, dc, dw, db, dw_hr

    backward_graph = composite_backward_graph(_lstm_reference)


class GRUScan(Function):
    """r, z = sig(xg_t + h W_hh^T + b_hh) (their parts); n = tanh(xg_n + r (h W_hn^T + b_hn));
    h_t = (1 - z) n + z h_{t-1}. Backward: dn = dh (1 - z), dz = dh (h_{t-1} - n),
    dr = dn (1 - n^2) (h W_hn^T + b_hn), dh_{t-1} = dh z + dG_h W_hh."""

    rule = (
        "through time: dn = dh*(1-z); dz = dh*(h_prev - n); da_n = dn*(1-n^2); "
        "dr = da_n * (W_hn h + b_hn); dh_prev = dh*z + [da_r, da_z, da_n*r] @ W_hh"
    )

    @staticmethod
    def forward(ctx, xg, h0, w_hh, b_hh, valid=None, reverse=False):
        xp = ctx.xp
        L = xg.shape[0]
        H = h0.shape[-1]
        xg, valid = _in_time_order(xg, reverse), _in_time_order(valid, reverse)
        states = xp.empty((L + 1,) + h0.shape, dtype=h0.dtype)
        acts = xp.empty(xg.shape, dtype=h0.dtype)  # r, z, n after their activations
        hn_part = xp.empty((L,) + h0.shape, dtype=h0.dtype)  # h W_hn^T + b_hn, for dr
        states[0] = h0
        w_t = w_hh.T
        for t in range(L):
            h = states[t]
            gh = h @ w_t
            if b_hh is not None:
                gh += b_hh
            x = xg[t]
            act = acts[t]
            act[:, : 2 * H] = _sigmoid(xp, x[:, : 2 * H] + gh[:, : 2 * H])
            r, z = act[:, :H], act[:, H : 2 * H]
            hn_part[t] = gh[:, 2 * H :]
            n = xp.tanh(x[:, 2 * H :] + r * gh[:, 2 * H :], out=act[:, 2 * H :])
            states[t + 1] = _mask_step(xp, valid, t, n + z * (h - n), h)
        ctx.save_for_backward(states, acts, hn_part, w_hh)
        ctx.valid, ctx.reverse = valid, reverse
        return _stack_outputs(xp, states, valid, reverse)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        states, acts, hn_part, w_hh = ctx.saved_tensors
        valid = ctx.valid
        L = states.shape[0] - 1
        H = states.shape[-1]
        dy = _in_time_order(grad[:L], ctx.reverse)
        dh = grad[L]
        d_x = xp.empty(acts.shape, dtype=grad.dtype)  # gradient of xg_t
        d_h = xp.empty(acts.shape, dtype=grad.dtype)  # gradient of h W_hh^T + b_hh
        for t in range(L - 1, -1, -1):
            dcand, carry = _split_grad(xp, valid, t, dh, dy[t])
            act = acts[t]
            r, z, n = act[:, :H], act[:, H : 2 * H], act[:, 2 * H :]
            h = states[t]
            da_n = dcand * (1 - z) * (1 - n * n)
            dx, dgh = d_x[t], d_h[t]
            dx[:, :H] = da_n * hn_part[t] * r * (1 - r)
            dx[:, H : 2 * H] = dcand * (h - n) * z * (1 - z)
            dx[:, 2 * H :] = da_n
            dgh[:, : 2 * H] = dx[:, : 2 * H]
            dgh[:, 2 * H :] = da_n * r
            dh = dgh @ w_hh
            dh += dcand * z
            if carry is not None:
                dh += carry
        dw, db = _weight_grads(ctx, d_h, states, 2)
        dxg = _in_time_order(d_x, ctx.reverse) if ctx.needs_input_grad[0] else None
        return dxg, dh, dw, db

    backward_graph = composite_backward_graph(_gru_reference)


# ---------------------------------------------------------------- public functions


def _valid_mask(xg: Tensor, lengths):
    """The (L, N) bool mask t < lengths[n], or None when every sequence fills all L steps."""
    if lengths is None:
        return None
    xp = xg._device.xp
    L, N = xg.shape[0], xg.shape[1]
    lengths = xp.asarray(lengths.data if isinstance(lengths, Tensor) else lengths).reshape(-1)
    if lengths.shape[0] != N:
        raise RuntimeError(
            f"lengths: expected one length per sequence ({N}), got {lengths.shape[0]} lengths"
        )
    if bool((lengths == L).all()):
        return None
    if bool((lengths < 0).any()) or bool((lengths > L).any()):
        raise RuntimeError(f"lengths must lie in [0, {L}], got {lengths.tolist()}")
    return xp.arange(L)[:, None] < lengths[None, :]


def _check_scan(name, xg, states, w_hh, b_hh, gates):
    H = states[0].shape[-1]
    L, N = xg.shape[0], xg.shape[1]
    expect = {
        "xg": (xg, (L, N, gates * H)),
        "w_hh": (w_hh, (gates * H, H)),
        "b_hh": (b_hh, (gates * H,)),
    }
    for k, s in enumerate(states):
        expect[f"state {k}"] = (s, (N, H))
    for what, (t, shape) in expect.items():
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(
                f"{name}: expected {what} of shape {shape}, got {tuple(t.shape)} "
                f"(hidden size {H}, {gates} gate(s))"
            )


def rnn_scan(xg, h0, w_hh, b_hh=None, nonlinearity="tanh", lengths=None, reverse=False):
    """Run h_t = act(xg_t + h_{t-1} W_hh^T + b_hh) over all steps (one layer, one direction).

    Args:
        xg: the input projection x_t W_ih^T + b_ih of every step, (L, N, H).
        h0: the initial state, (N, H).
        w_hh, b_hh: (H, H) and (H,) or None.
        nonlinearity: ``"tanh"`` or ``"relu"``.
        lengths: (N,) valid steps per sequence, or None (all L).
        reverse: run from the last step to the first.

    Returns: ``(output, h_n)``: (L, N, H) with zeros past each length, and (N, H).

    Example:
        >>> out, h = rnn_scan(chainrule.zeros(5, 2, 3), chainrule.zeros(2, 3), chainrule.eye(3))
        >>> out.shape, h.shape
        (chainrule.Size([5, 2, 3]), chainrule.Size([2, 3]))
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
    _check_scan("rnn_scan", xg, (h0,), w_hh, b_hh, 1)
    out = RNNScan.apply(
        xg,
        h0,
        w_hh,
        b_hh,
        nonlinearity=nonlinearity,
        valid=_valid_mask(xg, lengths),
        reverse=reverse,
    )
    L = xg.shape[0]
    return out[:L], out[L]


def lstm_scan(xg, h0, c0, w_hh, b_hh=None, lengths=None, reverse=False, w_hr=None):
    """Run the LSTM recurrence over all steps (one layer, one direction); gates i, f, g, o.

    Args:
        xg: x_t W_ih^T + b_ih of every step, (L, N, 4H).
        h0, c0: the initial states, (N, P) and (N, H) (P = H without a projection).
        w_hh, b_hh: (4H, P) and (4H,) or None.
        lengths, reverse: as in :func:`rnn_scan`.
        w_hr: (P, H), the projection h_t = (o_t tanh c_t) W_hr^T (LSTM ``proj_size``), or None.

    Returns: ``(output, h_n, c_n)``: (L, N, P), (N, P), (N, H).
    """
    H = c0.shape[-1]
    P = H if w_hr is None else w_hr.shape[0]
    if w_hr is not None and tuple(w_hr.shape) != (P, H):
        raise RuntimeError(f"lstm_scan: expected w_hr of shape (P, {H}), got {tuple(w_hr.shape)}")
    _check_scan("lstm_scan", xg, (c0,), None, b_hh, 4)
    if tuple(h0.shape) != (xg.shape[1], P) or tuple(w_hh.shape) != (4 * H, P):
        raise RuntimeError(
            f"lstm_scan: expected h0 of shape {(xg.shape[1], P)} and w_hh of shape {(4 * H, P)}, "
            f"got {tuple(h0.shape)} and {tuple(w_hh.shape)}"
        )
    out = LSTMScan.apply(
        xg, h0, c0, w_hh, b_hh, w_hr, valid=_valid_mask(xg, lengths), reverse=reverse
    )
    L = xg.shape[0]
    if P == H:
        return out[:L], out[L], out[L + 1]
    return out[:L, ..., :P], out[L, ..., :P], out[L + 1]


def gru_scan(xg, h0, w_hh, b_hh=None, lengths=None, reverse=False):
    """Run the GRU recurrence over all steps (one layer, one direction); gates r, z, n.

    Args:
        xg: x_t W_ih^T + b_ih of every step, (L, N, 3H).
        h0: the initial state, (N, H).
        w_hh, b_hh: (3H, H) and (3H,) or None.
        lengths, reverse: as in :func:`rnn_scan`.

    Returns: ``(output, h_n)``: (L, N, H) and (N, H).
    """
    _check_scan("gru_scan", xg, (h0,), w_hh, b_hh, 3)
    out = GRUScan.apply(xg, h0, w_hh, b_hh, valid=_valid_mask(xg, lengths), reverse=reverse)
    L = xg.shape[0]
    return out[:L], out[L]
