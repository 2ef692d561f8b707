"""Draw the computation graph that ``backward()`` walks.

Every op that needed a gradient left a node (its ``Context``: the Function, the parent tensors,
what it saved). ``draw_graph(loss)`` collects those nodes and the leaves they start from and
returns a :class:`Graph` that renders as Graphviz DOT, as a Mermaid flowchart, or as an SVG/PNG
file. Arrows point the way values flow forward; gradients flow back against them.

Example:
    >>> import chainrule
    >>> from chainrule.edu import draw_graph
    >>> w = chainrule.tensor([2.0, -1.0], requires_grad=True)
    >>> x = chainrule.tensor([0.5, 3.0])
    >>> loss = (w * x).tanh().sum()
    >>> loss.backward()
    >>> g = draw_graph(loss, params={"w": w})
    >>> [n.title for n in g.nodes]
    ['w', 'v0 = Mul', 'v1 = Tanh', 'loss = Sum']
    >>> print(g.to_mermaid().splitlines()[0])
    flowchart TB
"""

from __future__ import annotations

import html
import shutil
import subprocess
from dataclasses import dataclass, field

import numpy as np

from chainrule.autograd.engine import _topological_order
from chainrule.backend import to_numpy
from chainrule.tensor import Tensor

SMALL_GRAPH_TENSOR = 4  # tensors with at most this many elements show their numbers


# ---------------------------------------------------------------- naming and formatting


def tensor_names(order: list, root: Tensor, params: dict | None = None) -> dict:
    """Readable names for the tensors of a graph, keyed by ``id(tensor)``.

    Names from ``params`` (name -> tensor; any tensor of the graph, not only parameters) win.
    The others: ``loss`` for the root, ``v0, v1, ...`` for op outputs in forward order (the
    "evaluation trace" of the automatic-differentiation literature), ``x0, x1, ...`` for leaves
    that are not Parameters and ``p0, p1, ...`` for unnamed Parameters.
    """
    names = {}
    if params:
        for name, t in dict(params).items():
            if isinstance(t, Tensor):
                names.setdefault(id(t), str(name))
    counters = {"v": 0, "x": 0, "p": 0}
    for t in order:
        if id(t) in names:
            continue
        if t is root:
            names[id(t)] = "loss" if t.data.size == 1 else "out"
            continue
        if t._ctx is not None:
            prefix = "v"
        else:
            prefix = "p" if _is_parameter(t) else "x"
        names[id(t)] = f"{prefix}{counters[prefix]}"
        counters[prefix] += 1
    return names


def _is_parameter(t: Tensor) -> bool:
    return any(c.__name__ == "Parameter" for c in type(t).__mro__)


def shape_str(t) -> str:
    return str(tuple(int(s) for s in t.shape))


def dtype_str(t) -> str:
    return str(np.dtype(t.data.dtype))


def format_array(arr, precision: int = 4, max_elements: int = SMALL_GRAPH_TENSOR) -> str:
    """Numbers of a small array on one line (``precision`` significant digits), else its
    shape and L2 norm.

    Example:
        >>> format_array(np.array([[0.5, -0.25], [1.0, 2.0]]))
        '[[0.5, -0.25], [1, 2]]'
        >>> format_array(np.ones((3, 3)))
        'shape (3, 3), norm 3'
    """
    a = np.asarray(to_numpy(arr))
    if a.size <= max_elements:
        return _nested(a, precision)
    norm = float(np.linalg.norm(a.astype(np.float64).ravel()))
    return f"shape {tuple(a.shape)}, norm {norm:.{precision}g}"


def _nested(a: np.ndarray, precision: int) -> str:
    if a.ndim == 0:
        v = a.item()
        return f"{v:.{precision}g}" if isinstance(v, float) else str(v)
    return "[" + ", ".join(_nested(sub, precision) for sub in a) + "]"


# ---------------------------------------------------------------- the graph


@dataclass
class GraphNode:
    """One box of the drawing: an op (with its output tensor) or a leaf tensor."""

    id: str
    kind: str  # "leaf", "op" or "output"
    title: str
    lines: list = field(default_factory=list)
    tensor: Tensor | None = None

    @property
    def label_lines(self) -> list:
        return [self.title, *self.lines]


class Graph:
    """A drawable computation graph (see :func:`draw_graph`).

    ``nodes`` lists :class:`GraphNode` in forward (topological) order and ``edges`` the pairs
    ``(parent_id, child_id)``, one per argument (``d * d`` gives two edges).
    """

    def __init__(self, nodes: list, edges: list):
        self.nodes = nodes
        self.edges = edges

    def __repr__(self) -> str:
        return f"<Graph: {len(self.nodes)} nodes, {len(self.edges)} edges>"

    # -------------------------------------------------------- text formats
    def to_dot(self) -> str:
        """Graphviz DOT text (render with ``dot -Tsvg graph.dot -o graph.svg``)."""
        style = {
            "leaf": 'shape=box, style="filled", fillcolor="#dbeafe"',
            "op": 'shape=box, style="rounded,filled", fillcolor="#f3f4f6"',
            "output": 'shape=box, style="rounded,filled", fillcolor="#fde68a"',
        }
        out = [
            "digraph chainrule {",
            "  rankdir=TB;",
            '  node [fontname="Helvetica", fontsize=11];',
            '  edge [color="#555555"];',
        ]
        for n in self.nodes:
            label = "\\n".join(_dot_escape(s) for s in n.label_lines)
            out.append(f'  {n.id} [label="{label}", {style[n.kind]}];')
        for a, b in self.edges:
            out.append(f"  {a} -> {b};")
        out.append("}")
        return "\n".join(out) + "\n"

    @property
    def dot(self) -> str:
        """The DOT source (as ``graphviz.Digraph.source``)."""
        return self.to_dot()

    @property
    def source(self) -> str:
        return self.to_dot()

    def to_mermaid(self) -> str:
        """A Mermaid flowchart (GitHub and many Markdown viewers render ```mermaid blocks)."""
        out = ["flowchart TB"]
        for n in self.nodes:
            label = "<br/>".join(_mermaid_escape(s) for s in n.label_lines)
            out.append(f'  {n.id}["{label}"]')
        for a, b in self.edges:
            out.append(f"  {a} --> {b}")
        out.append("  classDef leaf fill:#dbeafe,stroke:#1e3a8a")
        out.append("  classDef op fill:#f3f4f6,stroke:#374151")
        out.append("  classDef output fill:#fde68a,stroke:#92400e")
        for kind in ("leaf", "op", "output"):
            ids = [n.id for n in self.nodes if n.kind == kind]
            if ids:
                out.append(f"  class {','.join(ids)} {kind}")
        return "\n".join(out) + "\n"

    # -------------------------------------------------------- images
    def to_svg(self, engine: str = "auto") -> str:
        """SVG text: through Graphviz ``dot`` when installed (``engine="auto"`` or ``"dot"``),
        else (or with ``engine="builtin"``) from the small layered layout of this module."""
        if engine not in ("auto", "dot", "builtin"):
            raise ValueError(f"engine must be 'auto', 'dot' or 'builtin', got {engine!r}")
        if engine == "dot" or (engine == "auto" and have_dot()):
            return _run_dot(self.to_dot(), "svg").decode("utf-8")
        return _layout(self).to_svg()

    def _repr_svg_(self) -> str:
        return self.to_svg()

    def save(self, path, engine: str = "auto") -> str:
        """Write the graph to ``path``; the suffix chooses the format.

        ``.svg`` and ``.png`` go through Graphviz ``dot`` when it is on PATH; without it, SVG
        comes from the built-in layout and PNG from matplotlib. ``.dot``/``.gv`` write the DOT
        text and ``.mmd``/``.mermaid`` the Mermaid text. Returns the path.
        """
        path = str(path)
        suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
        if suffix in ("dot", "gv"):
            _write(path, self.to_dot())
        elif suffix in ("mmd", "mermaid"):
            _write(path, self.to_mermaid())
        elif suffix == "svg":
            _write(path, self.to_svg(engine))
        elif suffix == "png":
            if engine == "dot" or (engine == "auto" and have_dot()):
                with open(path, "wb") as f:
                    f.write(_run_dot(self.to_dot(), "png"))
            else:
                _layout(self).to_png(path)
        else:
            raise ValueError(
                f"save: unknown file type {path!r}; use .svg, .png, .dot, .gv, .mmd or .mermaid"
            )
        return path


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def _dot_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')


def _mermaid_escape(s: str) -> str:
    return html.escape(s, quote=False).replace('"', "#quot;")


def have_dot() -> bool:
    """Whether the Graphviz ``dot`` program is on PATH."""
    return shutil.which("dot") is not None


def _run_dot(source: str, fmt: str) -> bytes:
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError("the Graphviz 'dot' program is not on PATH (use engine='builtin')")
    proc = subprocess.run(
        [exe, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"dot failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


# ---------------------------------------------------------------- building the graph


def draw_graph(
    tensor: Tensor,
    params: dict | None = None,
    show_values: bool = False,
    show_grads: bool = True,
) -> Graph:
    """The computation graph that produced ``tensor``, ready to draw.

    Each op node shows the op (``Mul``, ``Sigmoid``...), its output's shape and dtype; each
    leaf its name (from ``params``, e.g. ``dict(model.named_parameters())``, which may name any
    tensor of the graph) or ``input x0`` / ``parameter p0``. After ``backward()`` the nodes also
    show their gradient where one is kept: leaves' ``.grad`` and intermediates that called
    ``retain_grad()`` (numbers for tensors of at most 4 elements, else the L2 norm).

    Args:
        tensor: the output (usually the loss).
        params: optional name -> tensor mapping for labels.
        show_values: also show forward values of small tensors.
        show_grads: show known gradients.

    Returns:
        a :class:`Graph` with ``to_dot()``, ``to_mermaid()``, ``save(path)`` and an SVG repr.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([1.0, 2.0], requires_grad=True)
        >>> g = draw_graph((x * x).sum(), params={"x": x})
        >>> len(g.nodes), len(g.edges)
        (3, 3)
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph expects a Tensor, got {type(tensor).__name__}")
    params = dict(params) if params is not None else {}  # may be a generator
    named_ids = {id(t) for t in params.values()}
    order = _topological_order([tensor])
    names = tensor_names(order, tensor, params)
    ids = {id(t): f"n{i}" for i, t in enumerate(order)}
    nodes, edges = [], []
    for t in order:
        ctx = t._ctx
        name = names[id(t)]
        if ctx is None:
            kind = "output" if t is tensor else "leaf"
            if id(t) in named_ids:
                title = name
            else:
                title = f"{'parameter' if _is_parameter(t) else 'input'} {name}"
        else:
            kind = "output" if t is tensor else "op"
            title = f"{name} = {ctx.fn.__name__}"
            for p in ctx.parents:
                if p is not None:
                    edges.append((ids[id(p)], ids[id(t)]))
        lines = [f"{shape_str(t)} {dtype_str(t)}"]
        if show_values and t.data.size <= SMALL_GRAPH_TENSOR:
            lines.append(f"value {format_array(t.data)}")
        if show_grads and t.grad is not None:
            lines.append(f"grad {format_array(t.grad.data)}")
        nodes.append(GraphNode(ids[id(t)], kind, title, lines, t))
    return Graph(nodes, edges)


# ---------------------------------------------------------------- the built-in layout

_CHAR_W = 7.2  # width of one character of 12px monospace, roughly
_LINE_H = 16
_PAD_X, _PAD_Y = 10, 6
_GAP_X, _GAP_Y = 24, 44
_MARGIN = 16


@dataclass
class _Box:
    node: GraphNode
    layer: int
    x: float = 0.0  # left
    y: float = 0.0  # top
    w: float = 0.0
    h: float = 0.0


class _Layout:
    def __init__(self, boxes: dict, edges: list, width: float, height: float):
        self.boxes = boxes
        self.edges = edges
        self.width = width
        self.height = height

    def _edge_points(self):
        """(x1, y1, x2, y2) per edge: bottom of the parent to the top of the child. Repeated
        edges (``d * d``) are spread apart so that both arrows show."""
        seen: dict = {}
        for a, b in self.edges:
            k = seen.get((a, b), 0)
            seen[(a, b)] = k + 1
            pa, pb = self.boxes[a], self.boxes[b]
            dx = 8.0 * k
            yield (pa.x + pa.w / 2 + dx, pa.y + pa.h, pb.x + pb.w / 2 + dx, pb.y)

    def to_svg(self) -> str:
        fill = {"leaf": "#dbeafe", "op": "#f3f4f6", "output": "#fde68a"}
        w, h = int(self.width + 0.5), int(self.height + 0.5)
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" font-family="monospace" font-size="12">',
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
            'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
            '<path d="M 0 0 L 10 5 L 0 10 z" fill="#555555"/></marker></defs>',
            f'<rect x="0" y="0" width="{w}" height="{h}" fill="white"/>',
        ]
        for x1, y1, x2, y2 in self._edge_points():
            out.append(
                f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                'stroke="#555555" stroke-width="1.2" marker-end="url(#arrow)"/>'
            )
        for box in self.boxes.values():
            n = box.node
            rx = 0 if n.kind == "leaf" else 6
            out.append(f'<g class="node {n.kind}" id="{n.id}">')
            out.append(
                f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h:.1f}" '
                f'rx="{rx}" fill="{fill[n.kind]}" stroke="#374151"/>'
            )
            for i, line in enumerate(n.label_lines):
                ty = box.y + _PAD_Y + (i + 0.75) * _LINE_H
                weight = ' font-weight="bold"' if i == 0 else ""
                out.append(
                    f'<text x="{box.x + box.w / 2:.1f}" y="{ty:.1f}" text-anchor="middle"'
                    f"{weight}>{html.escape(line)}</text>"
                )
            out.append("</g>")
        out.append("</svg>")
        return "\n".join(out) + "\n"

    def to_png(self, path: str, dpi: int = 100) -> None:
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyBboxPatch

        fill = {"leaf": "#dbeafe", "op": "#f3f4f6", "output": "#fde68a"}
        fig = Figure(figsize=(max(self.width, 50) / dpi, max(self.height, 50) / dpi), dpi=dpi)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, self.width)
        ax.set_ylim(self.height, 0)
        ax.axis("off")
        for x1, y1, x2, y2 in self._edge_points():
            ax.annotate(
                "",
                xy=(x2, y2),
                xytext=(x1, y1),
                arrowprops=dict(arrowstyle="-|>", color="#555555", lw=1.0),
            )
        for box in self.boxes.values():
            n = box.node
            style = "square,pad=0" if n.kind == "leaf" else "round,pad=0,rounding_size=6"
            ax.add_patch(
                FancyBboxPatch(
                    (box.x, box.y),
                    box.w,
                    box.h,
                    boxstyle=style,
                    facecolor=fill[n.kind],
                    edgecolor="#374151",
                )
            )
            for i, line in enumerate(n.label_lines):
                ax.text(
                    box.x + box.w / 2,
                    box.y + _PAD_Y + (i + 0.5) * _LINE_H,
                    line,
                    ha="center",
                    va="center",
                    family="monospace",
                    fontsize=8.5,
                    fontweight="bold" if i == 0 else "normal",
                )
        fig.savefig(path, dpi=dpi)


def _layout(graph: Graph) -> _Layout:
    """Place nodes in layers: an op one below its deepest parent (longest path from the
    leaves), a leaf just above its first consumer; order each layer by the mean position of
    its neighbours (a few barycentre sweeps keep crossings down), then centre the layers."""
    parents: dict = {n.id: [] for n in graph.nodes}
    children: dict = {n.id: [] for n in graph.nodes}
    for a, b in graph.edges:
        parents[b].append(a)
        children[a].append(b)
    layer: dict = {}
    for n in graph.nodes:  # topological order: parents come first
        ps = parents[n.id]
        layer[n.id] = 1 + max(layer[p] for p in ps) if ps else 0
    for n in graph.nodes:
        if not parents[n.id] and children[n.id]:
            layer[n.id] = min(layer[c] for c in children[n.id]) - 1
    low = min(layer.values(), default=0)
    n_layers = max(layer.values(), default=0) - low + 1
    layers: list = [[] for _ in range(n_layers)]
    for n in graph.nodes:
        layer[n.id] -= low
        layers[layer[n.id]].append(n.id)

    pos = {nid: float(i) for row in layers for i, nid in enumerate(row)}

    def sweep(rows, neighbours):
        for row in rows:

            def key(nid, row=row):
                nb = neighbours[nid]
                return sum(pos[m] for m in nb) / len(nb) if nb else pos[nid]

            row.sort(key=key)
            for i, nid in enumerate(row):
                pos[nid] = float(i)

    for _ in range(3):
        sweep(layers[1:], parents)
        sweep(layers[-2::-1], children)

    by_id = {n.id: n for n in graph.nodes}
    boxes: dict = {}
    row_heights, row_widths = [], []
    for li, row in enumerate(layers):
        heights, width = [], 0.0
        for nid in row:
            node = by_id[nid]
            lines = node.label_lines
            w = max(len(s) for s in lines) * _CHAR_W + 2 * _PAD_X
            h = len(lines) * _LINE_H + 2 * _PAD_Y
            boxes[nid] = _Box(node, li, w=w, h=h)
            heights.append(h)
            width += w
        width += _GAP_X * max(len(row) - 1, 0)
        row_heights.append(max(heights, default=0.0))
        row_widths.append(width)
    total_w = max(row_widths, default=0.0) + 2 * _MARGIN
    y = _MARGIN
    for li, row in enumerate(layers):
        x = _MARGIN + (total_w - 2 * _MARGIN - row_widths[li]) / 2
        for nid in row:
            b = boxes[nid]
            b.x, b.y = x, y + (row_heights[li] - b.h) / 2
            x += b.w + _GAP_X
        y += row_heights[li] + _GAP_Y
    total_h = y - _GAP_Y + _MARGIN
    return _Layout(boxes, graph.edges, total_w, total_h)
