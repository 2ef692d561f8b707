"""OpSpecs of the recurrences (chainrule.ops.recurrent): RNN (tanh, relu), LSTM and GRU scans,
forward and reverse, with and without bias, with variable lengths.

Each spec returns the outputs of every step followed by the final state(s) in one tensor;
the PyTorch side is the same recurrence written step by step with torch ops.
"""

from opspec import OpSpec

import chainrule
from chainrule.ops.recurrent import gru_scan, lstm_scan, rnn_scan

# (L, N, H): one step and one sequence; a few of each; a wider hidden state.
SIZES = [(1, 1, 1), (3, 2, 2), (4, 3, 3)]


def _lengths(L, N):
    """Per-sequence lengths from L down, wrapping to 0 (an empty sequence) when N > L."""
    return [(L - n) % (L + 1) for n in range(N)]


def _stacked(outputs):
    out, *finals = outputs
    return chainrule.cat([out] + [f.unsqueeze(0) for f in finals], dim=0)


# ---------------------------------------------------------------- torch references


def _torch_rnn_cell(act):
    def cell(x, states, w, b):
        (h,) = states
        a = x + h @ w.T + (0 if b is None else b)
        return (a.tanh() if act == "tanh" else a.relu(),)

    return cell


def _torch_lstm_cell(x, states, w, b):
    h, c = states
    i, f, g, o = (x + h @ w.T + (0 if b is None else b)).chunk(4, dim=1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


def _torch_gru_cell(x, states, w, b):
    (h,) = states
    H = h.shape[1]
    gh = h @ w.T + (0 if b is None else b)
    r = (x[:, :H] + gh[:, :H]).sigmoid()
    z = (x[:, H : 2 * H] + gh[:, H : 2 * H]).sigmoid()
    n = (x[:, 2 * H :] + r * gh[:, 2 * H :]).tanh()
    return ((1 - z) * n + z * h,)


def _torch_scan(cell, xg, states, w, b, with_lengths, reverse):
    import torch

    L, N = xg.shape[:2]
    lengths = torch.tensor(_lengths(L, N)) if with_lengths else None
    outs = [None] * L
    for t in range(L - 1, -1, -1) if reverse else range(L):
        new = cell(xg[t], states, w, b)
        if lengths is not None:
            m = (lengths > t)[:, None]
            outs[t] = torch.where(m, new[0], torch.zeros_like(new[0]))
            new = tuple(torch.where(m, a, s) for a, s in zip(new, states))
        else:
            outs[t] = new[0]
        states = new
    return torch.cat([torch.stack(outs)] + [s[None] for s in states])


# ---------------------------------------------------------------- specs


def _spec(kind, gates, n_states, bias=True, with_lengths=False, reverse=False, act="tanh"):
    name = f"{kind}_scan" + ("_" + act if kind == "rnn" else "")
    name += "" if bias else "_no_bias"
    name += "_lengths" if with_lengths else ""
    name += "_reverse" if reverse else ""

    def fn(xg, *rest):
        states, (w, *b) = rest[:n_states], rest[n_states:]
        b = b[0] if b else None
        L, N = xg.shape[:2]
        kw = dict(lengths=_lengths(L, N) if with_lengths else None, reverse=reverse)
        if kind == "rnn":
            return _stacked(rnn_scan(xg, *states, w, b, nonlinearity=act, **kw))
        scan = lstm_scan if kind == "lstm" else gru_scan
        return _stacked(scan(xg, *states, w, b, **kw))

    cell = {"rnn": _torch_rnn_cell(act), "lstm": _torch_lstm_cell, "gru": _torch_gru_cell}[kind]

    def torch_fn(xg, *rest):
        states, (w, *b) = rest[:n_states], rest[n_states:]
        return _torch_scan(cell, xg, states, w, b[0] if b else None, with_lengths, reverse)

    shapes = []
    for L, N, H in SIZES:
        case = [(L, N, gates * H)] + [(N, H)] * n_states + [(gates * H, H)]
        shapes.append(tuple(case + ([(gates * H,)] if bias else [])))
    return OpSpec(
        name,
        fn,
        torch_fn,
        shapes,
        domain=(-1.5, 1.5),
        rtol=1e-5,
        atol=1e-5,
        note="atol 1e-5: sums over up to four steps of float32 products",
    )


SPECS = [
    _spec("rnn", 1, 1),
    _spec("rnn", 1, 1, act="relu", reverse=True),
    _spec("rnn", 1, 1, bias=False, with_lengths=True),
    _spec("rnn", 1, 1, act="relu", with_lengths=True, reverse=True),
    _spec("lstm", 4, 2),
    _spec("lstm", 4, 2, bias=False, reverse=True),
    _spec("lstm", 4, 2, with_lengths=True),
    _spec("lstm", 4, 2, with_lengths=True, reverse=True),
    _spec("gru", 3, 1),
    _spec("gru", 3, 1, bias=False, with_lengths=True),
    _spec("gru", 3, 1, with_lengths=True, reverse=True),
]


# ---------------------------------------------------------------- LSTM with a projection


def _projected_spec(with_lengths: bool, reverse: bool):
    """lstm_scan with w_hr: h_t = (o tanh c_t) W_hr^T of size P < H; output rows and h_n are
    P wide, c_n H wide (concatenated along features for the comparison)."""

    def fn(xg, h0, c0, w, b, w_hr):
        L, N = xg.shape[:2]
        kw = dict(lengths=_lengths(L, N) if with_lengths else None, reverse=reverse)
        out, h, c = lstm_scan(xg, h0, c0, w, b, w_hr=w_hr, **kw)
        return chainrule.cat([out.reshape(-1), h.reshape(-1), c.reshape(-1)])

    def torch_fn(xg, h0, c0, w, b, w_hr):
        import torch

        def cell(x, states, w, b):
            h, c = _torch_lstm_cell(x, states, w, b)
            return h @ w_hr.T, c

        stacked_len = xg.shape[0]
        L, N, P = stacked_len, xg.shape[1], w_hr.shape[0]
        lengths = torch.tensor(_lengths(L, N)) if with_lengths else None
        states, outs = (h0, c0), [None] * L
        for t in range(L - 1, -1, -1) if reverse else range(L):
            new = cell(xg[t], states, w, b)
            if lengths is not None:
                m = (lengths > t)[:, None]
                outs[t] = torch.where(m, new[0], torch.zeros_like(new[0]))
                new = tuple(torch.where(m, a, s) for a, s in zip(new, states))
            else:
                outs[t] = new[0]
            states = new
        parts = [torch.stack(outs).reshape(-1), states[0].reshape(-1), states[1].reshape(-1)]
        assert parts[0].numel() == L * N * P
        return torch.cat(parts)

    name = "lstm_scan_projected" + ("_lengths" if with_lengths else "")
    name += "_reverse" if reverse else ""
    shapes = [
        ((L, N, 4 * H), (N, P), (N, H), (4 * H, P), (4 * H,), (P, H))
        for L, N, H, P in [(1, 1, 2, 1), (3, 2, 3, 2), (4, 3, 4, 2)]
    ]
    return OpSpec(name, fn, torch_fn, shapes, domain=(-1.5, 1.5), rtol=1e-5, atol=1e-5)


SPECS += [_projected_spec(False, False), _projected_spec(True, True)]
