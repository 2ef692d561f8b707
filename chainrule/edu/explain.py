"""Watch backpropagation step by step: ``explain_backward(loss)``.

It runs the same reverse walk as ``loss.backward()`` (same order, same hooks, same
unbroadcasting, same accumulation into ``.grad``) and records, for every node:

* the op and its local derivative (the Function's one-line ``rule``),
* the upstream gradient dL/d(output) that reached the node (summed over every use),
* the gradient it sends to each input: the vector-Jacobian product of the upstream gradient
  with the local derivative, summed back to the input's shape.

Example:
    >>> import chainrule
    >>> from chainrule.edu import explain_backward
    >>> w = chainrule.tensor([2.0, -1.0], requires_grad=True)
    >>> x = chainrule.tensor([0.5, 3.0])
    >>> trace = explain_backward((w * x).sum(), params={"w": w})
    >>> [s.op for s in trace.steps]
    ['Sum', 'Mul', 'AccumulateGrad']
    >>> trace.step_for(w).upstream.tolist()
    [0.5, 3.0]
    >>> w.grad.tolist()
    [0.5, 3.0]
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import numpy as np

from chainrule.autograd.engine import _root_grads, _topological_order, run_backward
from chainrule.backend import to_numpy
from chainrule.edu.graph import format_array, tensor_names
from chainrule.tensor import Tensor

SMALL_TRACE_TENSOR = 8  # tensors with at most this many elements are printed in full


@dataclass
class InputGradient:
    """The gradient one node sends to one of its inputs (``grad`` is None when the input
    needs no gradient)."""

    name: str
    shape: tuple
    grad: np.ndarray | None
    tensor: Tensor | None = field(default=None, repr=False)


@dataclass
class BackwardStep:
    """One node of the reverse walk.

    Attributes:
        index: 1-based position in the walk.
        kind: "op" for a recorded operation, "leaf" where a gradient lands in ``.grad``.
        name: the node's output tensor's name (``loss``, ``v3``, a ``params`` name...).
        op: the Function's name (``Sigmoid``) or ``AccumulateGrad`` for leaves.
        rule: the local derivative, e.g. ``d tanh(x)/dx = 1 - tanh(x)^2``.
        shape, dtype: of the node's output tensor.
        upstream: dL/d(output), a NumPy array of the output's shape.
        inputs: an :class:`InputGradient` per input (empty for leaves).
        tensor: the output tensor itself.
    """

    index: int
    kind: str
    name: str
    op: str
    rule: str
    shape: tuple
    dtype: str
    upstream: np.ndarray
    inputs: list = field(default_factory=list)
    tensor: Tensor | None = field(default=None, repr=False)

    @property
    def downstream(self) -> tuple:
        """The gradients sent to the inputs, in argument order (None where not needed)."""
        return tuple(i.grad for i in self.inputs)


def _fmt(arr, precision: int) -> str:
    return format_array(arr, precision, SMALL_TRACE_TENSOR)


class BackwardTrace:
    """What :func:`explain_backward` saw: ``steps`` (a list of :class:`BackwardStep` in the
    order the engine visited them), ``loss`` (the root's value), ``grads`` (name -> the
    gradient each leaf received in this pass). ``str(trace)`` is a table; ``to_markdown()``
    the same as Markdown."""

    def __init__(self, steps: list, root_name: str, loss: np.ndarray, grads: dict):
        self.steps = steps
        self.root_name = root_name
        self.loss = loss
        self.grads = grads

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def __getitem__(self, key):
        """``trace[0]`` (position) or ``trace["v3"]`` (the step whose output has that name)."""
        if isinstance(key, str):
            for s in self.steps:
                if s.name == key:
                    return s
            raise KeyError(key)
        return self.steps[key]

    def step_for(self, tensor: Tensor) -> BackwardStep:
        """The step whose output is ``tensor``."""
        for s in self.steps:
            if s.tensor is tensor:
                return s
        raise KeyError("this tensor is not a node of the traced graph")

    # -------------------------------------------------------- tables
    def _rows(self, precision: int):
        for s in self.steps:
            node = f"{s.name} = {s.op}" if s.kind == "op" else f"{s.name} (leaf)"
            if s.kind == "op":
                sends = [
                    f"dL/d{i.name} = {_fmt(i.grad, precision)}"
                    for i in s.inputs
                    if i.grad is not None
                ]
                if s.tensor is not None and s.tensor._retains_grad:
                    sends.append(f"{s.name}.grad += upstream (retain_grad)")
            else:
                sends = []
            up = f"dL/d{s.name} = {_fmt(s.upstream, precision)}"
            if s.index == 1:
                up += " (the seed)"
            yield str(s.index), node, f"{tuple(s.shape)} {s.dtype}", s.rule, up, sends

    def format(self, precision: int = 6, width: int = 44) -> str:
        """The trace as a plain-text table; cells wrap at ``width`` characters."""
        headers = ("step", "node", "output", "local derivative (rule)", "upstream", "sends")
        rows = []
        for step, node, out, rule, up, sends in self._rows(precision):
            cells = [
                [step],
                [node],
                [out],
                textwrap.wrap(rule, width) or [""],
                textwrap.wrap(up, width) or [""],
                [ln for s in sends for ln in textwrap.wrap(s, width, subsequent_indent="  ")]
                or ["-"],
            ]
            rows.append(cells)
        widths = [len(h) for h in headers]
        for cells in rows:
            for j, c in enumerate(cells):
                widths[j] = max(widths[j], *(len(x) for x in c))

        def line(vals):
            return "  ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()

        head = (
            f"Backward pass from {self.root_name} = {_fmt(self.loss, precision)}: "
            f"{len(self.steps)} nodes in reverse topological order (L = {self.root_name})"
        )
        out = [head, "", line(headers), line(["-" * w for w in widths])]
        for cells in rows:
            height = max(len(c) for c in cells)
            for k in range(height):
                out.append(line([c[k] if k < len(c) else "" for c in cells]))
        return "\n".join(out)

    def __str__(self) -> str:
        return self.format()

    def __repr__(self) -> str:
        return f"<BackwardTrace of {self.root_name}: {len(self.steps)} steps>"

    def to_markdown(self, precision: int = 6) -> str:
        """The trace as a Markdown table."""

        def esc(s: str) -> str:
            return s.replace("|", "\\|")

        out = [
            f"Backward pass from `{self.root_name} = {_fmt(self.loss, precision)}` "
            f"(L = {self.root_name})",
            "",
            "| step | node | output | local derivative (rule) | upstream | sends |",
            "|---:|---|---|---|---|---|",
        ]
        for step, node, shape, rule, up, sends in self._rows(precision):
            cells = [step, f"`{node}`", shape, esc(rule), esc(up), "<br>".join(map(esc, sends))]
            out.append("| " + " | ".join(cells) + " |")
        return "\n".join(out) + "\n"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def explain_backward(
    loss: Tensor,
    params: dict | None = None,
    gradient=None,
    retain_graph: bool = False,
) -> BackwardTrace:
    """Run ``loss.backward(gradient, retain_graph)`` and record every step of it.

    Leaves accumulate into ``.grad`` exactly as ``backward()`` would (tensors that called
    ``retain_grad()`` keep theirs; tensor hooks run), so this can replace ``backward()`` in a
    training step.

    Args:
        loss: the tensor to differentiate (a scalar, or give ``gradient``).
        params: optional name -> tensor mapping (``dict(model.named_parameters())``, or any
            tensors of the graph, intermediates too) used to name the nodes.
        gradient: dL/d(loss) for a non-scalar ``loss``.
        retain_graph: keep the saved values for another backward.

    Returns:
        a :class:`BackwardTrace`; ``print(trace)`` shows the table.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor(0.5, requires_grad=True)
        >>> trace = explain_backward(x.tanh(), params={"x": x})
        >>> print(trace.steps[0].rule)
        d tanh(x)/dx = 1 - tanh(x)^2
    """
    if not isinstance(loss, Tensor):
        raise TypeError(f"explain_backward expects a Tensor, got {type(loss).__name__}")
    (root_grad,) = _root_grads([loss], [gradient], "explain_backward")
    names = tensor_names(_topological_order([loss]), loss, params)
    steps: list = []
    leaf_grads: dict = {}

    def record(t, g, ctx, sent):
        name = names[id(t)]
        upstream = np.array(to_numpy(g), copy=True)
        common = dict(
            index=len(steps) + 1,
            name=name,
            shape=tuple(t.data.shape),
            dtype=str(np.dtype(t.data.dtype)),
            upstream=upstream,
            tensor=t,
        )
        if ctx is None:
            leaf_grads[name] = upstream
            steps.append(
                BackwardStep(
                    kind="leaf",
                    op="AccumulateGrad",
                    rule=f"a leaf: {name}.grad += upstream",
                    **common,
                )
            )
            return
        inputs = [
            InputGradient(
                names[id(p)],
                tuple(p.data.shape),
                None if gi is None else np.array(to_numpy(gi), copy=True),
                p,
            )
            for p, gi in sent
        ]
        steps.append(
            BackwardStep(
                kind="op",
                op=ctx.fn.__name__,
                rule=ctx.fn.rule or "(no rule given)",
                inputs=inputs,
                **common,
            )
        )

    # The engine itself runs the pass (hooks, retain_grad, freed graphs, version checks,
    # anomaly mode, accumulation): the trace only watches it.
    run_backward([loss], [root_grad], retain_graph, on_node=record)
    loss_value = np.array(to_numpy(loss.data), copy=True)
    return BackwardTrace(steps, names[id(loss)], loss_value, leaf_grads)
