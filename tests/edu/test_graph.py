"""draw_graph: node labels, DOT, Mermaid and the built-in SVG/PNG layout."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest

import chainrule
from chainrule import nn
from chainrule.edu import draw_graph
from chainrule.edu.graph import Graph, _layout, format_array, have_dot


def small_net():
    chainrule.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    x = chainrule.randn(5, 3)
    loss = model(x).pow(2).mean()
    return model, loss


def test_nodes_edges_and_labels_before_and_after_backward():
    model, loss = small_net()
    params = dict(model.named_parameters())
    g = draw_graph(loss, params=params)
    assert isinstance(g, Graph)
    titles = [n.title for n in g.nodes]
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert name in titles
    ops = [n for n in g.nodes if n.kind in ("op", "output")]
    assert any("Tanh" in n.title for n in ops)
    assert g.nodes[-1].kind == "output" and g.nodes[-1].tensor is loss
    assert all("float32" in n.lines[0] for n in g.nodes)
    assert not any(line.startswith("grad") for n in g.nodes for line in n.lines)
    n_edges = sum(sum(p is not None for p in n.tensor._ctx.parents) for n in ops)
    assert len(g.edges) == n_edges

    loss.backward()
    g = draw_graph(loss, params=params)  # the engine keeps the structure after backward
    by_title = {n.title: n for n in g.nodes}
    bias_line = [s for s in by_title["2.bias"].lines if s.startswith("grad")]
    assert bias_line == [f"grad {format_array(model[2].bias.grad.numpy())}"]
    weight_line = [s for s in by_title["0.weight"].lines if s.startswith("grad")][0]
    assert "norm" in weight_line  # 12 elements: the norm, not the numbers
    assert not any(s.startswith("grad") for s in by_title[ops[0].title].lines)


def test_unnamed_leaves_values_and_retained_grads():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    w = nn.Parameter(chainrule.tensor([0.5, -1.0]))
    h = x * w
    h.retain_grad()
    loss = h.sum()
    loss.backward()
    g = draw_graph(loss, show_values=True)
    titles = [n.title for n in g.nodes]
    assert "input x0" in titles and "parameter p0" in titles
    mul = next(n for n in g.nodes if n.title.endswith("= Mul"))
    assert "value [0.5, -2]" in mul.lines
    assert "grad [1, 1]" in mul.lines  # retain_grad keeps the intermediate's gradient
    assert "(2,) float32" in mul.lines
    assert not any(
        line.startswith("grad") for line in draw_graph(loss, show_grads=False).nodes[0].lines
    )


def test_to_dot_and_mermaid():
    model, loss = small_net()
    g = draw_graph(loss, params=dict(model.named_parameters()))
    dot = g.to_dot()
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    assert dot.count("->") == len(g.edges)
    assert 'label="0.weight\\n(4, 3) float32"' in dot
    assert g.dot == dot
    mm = g.to_mermaid()
    assert mm.startswith("flowchart TB")
    assert mm.count("-->") == len(g.edges)
    assert "0.weight<br/>(4, 3) float32" in mm
    for n in g.nodes:
        assert f"  {n.id}[" in mm


def test_escaping():
    x = chainrule.tensor([1.0], requires_grad=True)
    g = draw_graph(x.exp(), params={'a "quoted" <name>': x})
    assert 'a \\"quoted\\" <name>' in g.to_dot()
    assert "a #quot;quoted#quot; &lt;name&gt;" in g.to_mermaid()
    svg = g.to_svg(engine="builtin")
    ET.fromstring(svg)  # well-formed XML despite the quotes and brackets


def test_layout_layers_by_longest_path():
    a = chainrule.tensor([1.0], requires_grad=True)
    b = chainrule.tensor([2.0], requires_grad=True)
    u = a.exp()  # layer 1
    v = u.exp()  # layer 2
    w = v * b  # layer 3: b sits just above it, not at the top
    names = {"a": a, "b": b, "u": u, "v": v, "w": w}
    g = draw_graph(w, params=names)
    lay = _layout(g)
    layer = {
        k: next(b.layer for b in lay.boxes.values() if b.node.tensor is t) for k, t in names.items()
    }
    assert layer == {"a": 0, "u": 1, "v": 2, "b": 2, "w": 3}
    ys = {k: next(b.y for b in lay.boxes.values() if b.node.tensor is t) for k, t in names.items()}
    assert ys["a"] < ys["u"] < ys["v"] < ys["w"]


def test_builtin_svg_and_png(tmp_path):
    model, loss = small_net()
    loss.backward()
    g = draw_graph(loss, params=dict(model.named_parameters()))
    svg_path = g.save(tmp_path / "graph.svg", engine="builtin")
    root = ET.parse(svg_path).getroot()
    assert root.tag.endswith("svg")
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert len(root.findall(".//s:g", ns)) == len(g.nodes)
    assert len(root.findall(".//s:line", ns)) == len(g.edges)
    texts = [t.text for t in root.findall(".//s:text", ns)]
    assert "0.weight" in texts
    png = tmp_path / "graph.png"
    g.save(png, engine="builtin")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    g.save(tmp_path / "graph.dot")
    g.save(tmp_path / "graph.mmd")
    assert (tmp_path / "graph.dot").read_text() == g.to_dot()
    assert (tmp_path / "graph.mmd").read_text() == g.to_mermaid()
    assert g._repr_svg_().lstrip().startswith(("<svg", "<?xml"))
    with pytest.raises(ValueError):
        g.save(tmp_path / "graph.jpg")


@pytest.mark.skipif(not have_dot(), reason="Graphviz dot is not installed")
def test_dot_program(tmp_path):
    _, loss = small_net()
    g = draw_graph(loss)
    g.save(tmp_path / "g.svg", engine="dot")
    assert "<svg" in (tmp_path / "g.svg").read_text()


def test_leaf_only_and_type_error():
    x = chainrule.tensor([1.0, 2.0])
    g = draw_graph(x)
    assert len(g.nodes) == 1 and g.edges == []
    assert g.nodes[0].kind == "output"
    ET.fromstring(g.to_svg(engine="builtin"))
    with pytest.raises(TypeError):
        draw_graph(np.ones(2))


def test_format_array():
    assert format_array(np.array(0.123456)) == "0.1235"
    assert format_array(np.array([[1.0, -2.5]])) == "[[1, -2.5]]"
    assert format_array(np.ones(5)).startswith("shape (5,), norm 2.236")


def test_params_may_be_a_generator():
    model, loss = small_net()
    g = draw_graph(loss, params=model.named_parameters())
    assert "0.weight" in [n.title for n in g.nodes]
