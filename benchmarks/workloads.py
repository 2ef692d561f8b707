"""The benchmark workloads, built identically in every framework that can express them.

One *step* is: zero_grad, forward, loss, backward, optimizer step. Every model is built in
chainrule first (fixed seed) and its initial weights are copied into the other framework, so
both do the same arithmetic on the same data (float32, generated with NumPy, fixed seeds).

``build(workload, framework, **sizes)`` returns a :class:`Step`; frameworks that cannot
express a workload raise :class:`Unsupported` with the reason. Other frameworks are imported
lazily, so this module needs only chainrule and NumPy.
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import chainrule as cr
import chainrule.nn.functional as crF

FRAMEWORKS = ("chainrule", "torch", "tinygrad", "mygrad", "micrograd")
WORKLOADS = ("W1", "W2", "W3", "W4", "W4m", "W5")

DESCRIPTIONS = {
    "W1": "mlp 784-512-512-10, batch 128, Adam",
    "W2": "LeNet-5, batch 64x1x28x28, SGD momentum",
    "W3": "char LSTM 65/64/256, batch 32 x seq 64, Adam",
    "W4": "GPT 2 blocks d128 h4, batch 32 x seq 64, AdamW (fused SDPA)",
    "W4m": "W4 with attention written out (matmul, mask, softmax, matmul)",
    "W5": "600 scalar ops on a (1,) tensor + backward",
}

DEFAULT_SIZES: dict[str, dict] = {
    "W1": {"batch": 128, "width": 512},
    "W2": {"batch": 64},
    "W3": {"batch": 32, "seq": 64, "hidden": 256},
    "W4": {"batch": 32, "seq": 64},
    "W4m": {"batch": 32, "seq": 64},
    "W5": {"reps": 200},
}

VOCAB = 65  # a character vocabulary (tiny-shakespeare sized)


class Unsupported(Exception):
    """The framework is not installed, or cannot express this workload."""


@dataclass
class Step:
    """One training step of a workload in one framework.

    ``fn()`` runs one step. When ``self_timed`` is true it returns the seconds to record
    itself (used for extrapolated runs). ``phases`` collects (forward_s, backward_s) per call
    where the workload reports a split (W5). ``note`` qualifies the number in the table.
    """

    fn: Callable[[], float | None]
    self_timed: bool = False
    note: str = ""
    phases: list[tuple[float, float]] = field(default_factory=list)
    ops: int = 0  # differentiable ops per step, where meaningful (W5)


def framework_version(framework: str) -> str | None:
    """The installed version of a framework, or None when it cannot be imported."""
    try:
        module = importlib.import_module(framework)
    except Exception:
        return None
    version = getattr(module, "__version__", None)
    if version is None:
        try:
            from importlib.metadata import version as dist_version

            version = dist_version(framework)
        except Exception:
            version = "?"
    return str(version)


def _require(framework: str):
    try:
        return importlib.import_module(framework)
    except Exception as exc:  # ImportError, or a broken install
        raise Unsupported(f"{framework} not importable ({type(exc).__name__})") from exc


# ----------------------------------------------------------------------------- data


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def mlp_data(batch: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = _rng(seed)
    return rng.standard_normal((batch, 784), dtype=np.float32), rng.integers(0, 10, batch)


def image_data(batch: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = _rng(seed)
    return rng.standard_normal((batch, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, batch)


def token_data(batch: int, seq: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = _rng(seed)
    tokens = rng.integers(0, VOCAB, (batch, seq + 1))
    return tokens[:, :-1].copy(), tokens[:, 1:].copy()


# ----------------------------------------------------------------------------- models
# Written once against the shared PyTorch-shaped API: ``nn`` is chainrule.nn or torch.nn.


def mlp(nn, width: int = 512):
    return nn.Sequential(
        nn.Linear(784, width),
        nn.ReLU(),
        nn.Linear(width, width),
        nn.ReLU(),
        nn.Linear(width, 10),
    )


def lenet5(nn):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )


def char_lstm(nn, hidden: int = 256, embed: int = 64):
    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, embed)
            self.lstm = nn.LSTM(embed, hidden, batch_first=True)
            self.head = nn.Linear(hidden, VOCAB)

        def forward(self, idx):
            h, _ = self.lstm(self.embed(idx))
            return self.head(h)

    return CharLSTM()


def mini_gpt(lib, seq: int, d: int = 128, heads: int = 4, layers: int = 2, attention="sdpa"):
    """Pre-LayerNorm decoder: x + attn(ln1(x)); x + mlp(ln2(x)); then ln_f and a head.

    ``lib`` is chainrule or torch. ``attention``: "sdpa" calls the library's fused
    ``scaled_dot_product_attention(is_causal=True)``; "manual" writes it out.
    """
    nn, F = lib.nn, lib.nn.functional
    head_dim = d // heads
    causal = lib.tensor(np.triu(np.ones((seq, seq), dtype=bool), 1))  # True = masked

    def attend(q, k, v):
        if attention == "sdpa":
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(head_dim))
        scores = scores.masked_fill(causal, float("-inf"))
        return F.softmax(scores, dim=-1) @ v

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(d)
            self.qkv = nn.Linear(d, 3 * d)
            self.proj = nn.Linear(d, d)
            self.ln2 = nn.LayerNorm(d)
            self.fc1 = nn.Linear(d, 4 * d)
            self.act = nn.GELU()
            self.fc2 = nn.Linear(4 * d, d)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(C, dim=-1)
            q, k, v = (t.reshape(B, T, heads, head_dim).transpose(1, 2) for t in (q, k, v))
            y = attend(q, k, v).transpose(1, 2).reshape(B, T, C)
            x = x + self.proj(y)
            return x + self.fc2(self.act(self.fc1(self.ln2(x))))

    class MiniGPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(VOCAB, d)
            self.pos = nn.Parameter(lib.randn(seq, d) * 0.02)
            self.blocks = nn.ModuleList([Block() for _ in range(layers)])
            self.ln_f = nn.LayerNorm(d)
            self.head = nn.Linear(d, VOCAB)

        def forward(self, idx):
            x = self.tok(idx) + self.pos[: idx.shape[1]]
            for block in self.blocks:
                x = block(x)
            return self.head(self.ln_f(x))

    return MiniGPT()


# ----------------------------------------------------------------------------- builders


def _weights(model) -> dict[str, np.ndarray]:
    return {
        k: np.array(v.numpy(), dtype=np.float32, copy=True) for k, v in model.state_dict().items()
    }


def _chainrule_model(workload: str, sizes: dict):
    cr.manual_seed(0)
    if workload == "W1":
        return mlp(cr.nn, sizes["width"])
    if workload == "W2":
        return lenet5(cr.nn)
    if workload == "W3":
        return char_lstm(cr.nn, sizes["hidden"])
    attention = "manual" if workload == "W4m" else "sdpa"
    return mini_gpt(cr, sizes["seq"], attention=attention)


def _data(workload: str, sizes: dict):
    if workload == "W1":
        return mlp_data(sizes["batch"])
    if workload == "W2":
        return image_data(sizes["batch"])
    return token_data(sizes["batch"], sizes["seq"])


def _optimizer(optim, workload: str, params):
    if workload == "W1":
        return optim.Adam(params, lr=1e-3)
    if workload == "W2":
        return optim.SGD(params, lr=0.01, momentum=0.9)
    if workload == "W3":
        return optim.Adam(params, lr=2e-3)
    return optim.AdamW(params, lr=3e-4, weight_decay=0.01)


def _module_step(model, optimizer, F, x, y, flatten_logits: bool) -> Callable[[], None]:
    def step() -> None:
        optimizer.zero_grad()
        logits = model(x)
        if flatten_logits:
            logits = logits.reshape(-1, logits.shape[-1])
        loss = F.cross_entropy(logits, y)
        loss.backward()
        optimizer.step()

    return step


def _build_chainrule(workload: str, sizes: dict) -> Step:
    if workload == "W5":
        return _overhead_chainrule(sizes["reps"])
    model = _chainrule_model(workload, sizes)
    xn, yn = _data(workload, sizes)
    x, y = cr.tensor(xn), cr.tensor(yn)
    if workload in ("W3", "W4", "W4m"):
        y = y.reshape(-1)
    opt = _optimizer(cr.optim, workload, model.parameters())
    return Step(_module_step(model, opt, crF, x, y, workload in ("W3", "W4", "W4m")))


def _build_torch(workload: str, sizes: dict) -> Step:
    torch = _require("torch")
    if workload == "W5":
        return _overhead_torch(torch, sizes["reps"])
    weights = _weights(_chainrule_model(workload, sizes))
    torch.manual_seed(0)
    if workload == "W1":
        model = mlp(torch.nn, sizes["width"])
    elif workload == "W2":
        model = lenet5(torch.nn)
    elif workload == "W3":
        model = char_lstm(torch.nn, sizes["hidden"])
    else:
        attention = "manual" if workload == "W4m" else "sdpa"
        model = mini_gpt(torch, sizes["seq"], attention=attention)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    xn, yn = _data(workload, sizes)
    x, y = torch.from_numpy(xn), torch.from_numpy(yn)
    if workload in ("W3", "W4", "W4m"):
        y = y.reshape(-1)
    opt = _optimizer(torch.optim, workload, model.parameters())
    return Step(
        _module_step(model, opt, torch.nn.functional, x, y, workload in ("W3", "W4", "W4m"))
    )


# W5: 200 x (mul, add, tanh) on a (1,)-shaped leaf, then backward.
X0, MUL, ADD = 0.5, 1.0001, 0.0001


def _timed_overhead(forward, backward, reps: int) -> Step:
    step = Step(fn=lambda: None, ops=3 * reps)

    def fn() -> None:
        t0 = time.perf_counter()
        y = forward()
        t1 = time.perf_counter()
        backward(y)
        step.phases.append((t1 - t0, time.perf_counter() - t1))

    step.fn = fn
    return step


def _overhead_chainrule(reps: int) -> Step:
    x = cr.tensor(np.array([X0], dtype=np.float32), requires_grad=True)
    seed = cr.ones(1)

    def forward():
        y = x
        for _ in range(reps):
            y = (y * MUL + ADD).tanh()
        return y

    def backward(y) -> None:
        x.grad = None
        y.backward(seed)

    return _timed_overhead(forward, backward, reps)


def _overhead_torch(torch, reps: int) -> Step:
    x = torch.tensor([X0], dtype=torch.float32, requires_grad=True)
    seed = torch.ones(1)

    def forward():
        y = x
        for _ in range(reps):
            y = (y * MUL + ADD).tanh()
        return y

    def backward(y) -> None:
        x.grad = None
        y.backward(seed)

    return _timed_overhead(forward, backward, reps)


# ----------------------------------------------------------------------------- tinygrad


def _build_tinygrad(workload: str, sizes: dict) -> Step:
    if workload == "W5":
        raise Unsupported(
            "tinygrad is lazy: it fuses the 600-op chain into one kernel (clang rejects it, "
            "bracket nesting > 256) and realizing midway drops the gradient"
        )
    if workload not in ("W1", "W2"):
        raise Unsupported("not written for tinygrad")
    _require("tinygrad")
    from tinygrad import Context, Device, Tensor
    from tinygrad.nn.optim import SGD, Adam

    try:
        Device[Device.DEFAULT]
    except Exception as exc:
        raise Unsupported(f"tinygrad has no usable device ({exc})") from exc
    w = _weights(_chainrule_model(workload, sizes))
    params = {k: Tensor(v) for k, v in w.items()}
    xn, yn = _data(workload, sizes)
    x, y = Tensor(xn).is_param_(False), Tensor(yn).is_param_(False)
    if workload == "W1":
        layers = ["0", "2", "4"]

        def forward(h):
            for i, name in enumerate(layers):
                h = h.linear(params[f"{name}.weight"].T, params[f"{name}.bias"])
                h = h.relu() if i < len(layers) - 1 else h
            return h

        opt = Adam(list(params.values()), lr=1e-3)
    else:

        def forward(h):
            for name, pad in (("0", 2), ("3", 0)):
                h = h.conv2d(params[f"{name}.weight"], params[f"{name}.bias"], padding=pad)
                h = h.relu().max_pool2d(2)
            h = h.flatten(1)
            for i, name in enumerate(["7", "9", "11"]):
                h = h.linear(params[f"{name}.weight"].T, params[f"{name}.bias"])
                h = h.relu() if i < 2 else h
            return h

        opt = SGD(list(params.values()), lr=0.01, momentum=0.9)

    def step() -> None:
        with Context(TRAINING=1):
            opt.zero_grad()
            loss = forward(x).sparse_categorical_crossentropy(y)
            loss.backward()
            opt.step()

    return Step(step, note="eager (no TinyJit)")


# ----------------------------------------------------------------------------- MyGrad


def _adam_numpy(lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8):
    """PyTorch's Adam on a list of NumPy arrays (in place), for frameworks without one."""
    state: dict[int, list] = {}

    def update(params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        for i, (p, g) in enumerate(zip(params, grads)):
            m, v, t = state.setdefault(i, [np.zeros_like(p), np.zeros_like(p), 0])
            t += 1
            state[i][2] = t
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            denom = np.sqrt(v / (1 - b2**t)) + eps
            p -= (lr / (1 - b1**t)) * m / denom

    return update


def _build_mygrad(workload: str, sizes: dict) -> Step:
    mg = _require("mygrad")
    if workload == "W5":
        reps = sizes["reps"]
        x = mg.tensor(np.array([X0], dtype=np.float32))

        def forward():
            y = x
            for _ in range(reps):
                y = mg.tanh(y * MUL + ADD)
            return y

        return _timed_overhead(forward, lambda y: y.backward(), reps)
    if workload != "W1":
        raise Unsupported("not written for MyGrad")
    from mygrad.nnet import relu, softmax_crossentropy

    w = _weights(_chainrule_model(workload, sizes))
    names = ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    arrays = [w[n] for n in names]
    xn, yn = _data(workload, sizes)
    x = mg.Tensor(xn, constant=True)
    adam = _adam_numpy(1e-3)

    def step() -> None:
        p = [mg.Tensor(a) for a in arrays]  # fresh leaves: MyGrad has no zero_grad
        h = relu(x @ p[0].T + p[1])
        h = relu(h @ p[2].T + p[3])
        loss = softmax_crossentropy(h @ p[4].T + p[5], yn)
        loss.backward()
        adam(arrays, [t.grad for t in p])

    return Step(step)


# ----------------------------------------------------------------------------- micrograd


def _micrograd_ops():
    """tanh, exp and log for micrograd's Value, written the way its own ops are."""
    from micrograd.engine import Value

    def unary(v, f, df, name):
        out = Value(f(v.data), (v,), name)

        def _backward():
            v.grad += df(v.data, out.data) * out.grad

        out._backward = _backward
        return out

    def tanh(v):
        return unary(v, math.tanh, lambda x, y: 1.0 - y * y, "tanh")

    def exp(v):
        return unary(v, math.exp, lambda x, y: y, "exp")

    def log(v):
        return unary(v, math.log, lambda x, y: 1.0 / x, "log")

    return Value, tanh, exp, log


# micrograd computes with Python floats, one node per scalar op: W1 at full size would take
# many minutes a step. It runs a narrow net on one sample and is extrapolated linearly.
MICROGRAD_WIDTH = 32


def _build_micrograd(workload: str, sizes: dict) -> Step:
    _require("micrograd")
    Value, tanh, exp, log = _micrograd_ops()
    if workload == "W5":
        reps = sizes["reps"]
        x = Value(X0)

        def forward():
            y = x
            for _ in range(reps):
                y = tanh(y * MUL + ADD)
            return y

        def backward(y) -> None:
            x.grad = 0
            y.backward()

        return _timed_overhead(forward, backward, reps)
    if workload != "W1":
        raise Unsupported("not written for micrograd")
    batch, width = sizes["batch"], sizes["width"]
    small = MICROGRAD_WIDTH
    w = _weights(_chainrule_model("W1", {"batch": 1, "width": small}))
    shapes = [(784, small), (small, small), (small, 10)]
    layers = []
    for i, name in enumerate(["0", "2", "4"]):
        weight = [[Value(float(a)) for a in row] for row in w[f"{name}.weight"]]
        bias = [Value(float(b)) for b in w[f"{name}.bias"]]
        layers.append((weight, bias, i < 2))
    params = [p for weight, bias, _ in layers for row in weight + [bias] for p in row]
    xn, yn = mlp_data(1)
    sample, label = [float(a) for a in xn[0]], int(yn[0])
    m = [0.0] * len(params)
    v = [0.0] * len(params)
    counter = [0]

    full_macs = batch * (784 * width + width * width + width * 10)
    small_macs = sum(a * b for a, b in shapes)
    full_params = 784 * width + width * width + width * 10 + 2 * width + 10

    def fn() -> float:
        t0 = time.perf_counter()
        for p in params:
            p.grad = 0.0
        h = [Value(a) for a in sample]
        for weight, bias, act in layers:
            out = []
            for row, b in zip(weight, bias):
                s = b
                for wi, hi in zip(row, h):
                    s = s + wi * hi
                out.append(s.relu() if act else s)
            h = out
        top = max(z.data for z in h)
        logsumexp = log(sum((exp(z - top) for z in h), Value(0.0))) + top
        loss = logsumexp - h[label]
        loss.backward()
        t1 = time.perf_counter()
        counter[0] += 1
        t = counter[0]
        for i, p in enumerate(params):  # Adam, lr 1e-3
            m[i] = 0.9 * m[i] + 0.1 * p.grad
            v[i] = 0.999 * v[i] + 0.001 * p.grad * p.grad
            p.data -= 1e-3 * (m[i] / (1 - 0.9**t)) / (math.sqrt(v[i] / (1 - 0.999**t)) + 1e-8)
        t2 = time.perf_counter()
        # forward+backward scale with multiply-adds, the update with the parameter count
        return (t1 - t0) * full_macs / small_macs + (t2 - t1) * full_params / len(params)

    note = f"extrapolated from width {small}, batch 1 (x{full_macs / small_macs:.0f} MACs)"
    return Step(fn, self_timed=True, note=note)


_BUILDERS = {
    "chainrule": _build_chainrule,
    "torch": _build_torch,
    "tinygrad": _build_tinygrad,
    "mygrad": _build_mygrad,
    "micrograd": _build_micrograd,
}


def build(workload: str, framework: str, **sizes) -> Step:
    """One step of ``workload`` (W1..W5, W4m) in ``framework``, at the given sizes."""
    if workload not in WORKLOADS:
        raise ValueError(f"unknown workload {workload!r}; expected one of {WORKLOADS}")
    if framework not in _BUILDERS:
        raise ValueError(f"unknown framework {framework!r}; expected one of {FRAMEWORKS}")
    full = {**DEFAULT_SIZES[workload], **sizes}
    return _BUILDERS[framework](workload, full)


def forward_flops_w1(batch: int = 128, width: int = 512) -> int:
    """Forward matmul FLOPs of W1: 2 * B * (784 w + w w + 10 w)."""
    return 2 * batch * (784 * width + width * width + width * 10)
