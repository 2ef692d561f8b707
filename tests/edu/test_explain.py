"""explain_backward on Mazur's 2-2-1 network, checked against a hand computation."""

import numpy as np
import pytest

import chainrule
import chainrule.nn.functional as F
from chainrule.edu import explain_backward

RTOL = 1e-6

# Matt Mazur, "A Step by Step Backpropagation Example": inputs, weights, biases, targets.
X = np.array([[0.05, 0.10]])
W1 = np.array([[0.15, 0.25], [0.20, 0.30]])  # W1[i, j]: input i -> hidden j (w1..w4)
B1 = np.array([0.35, 0.35])
W2 = np.array([[0.40, 0.50], [0.45, 0.55]])  # W2[i, j]: hidden i -> output j (w5..w8)
B2 = np.array([0.60, 0.60])
T = np.array([[0.01, 0.99]])


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def hand():
    """Every forward value and every gradient, by the chain rule, written out."""
    net_h = X @ W1 + B1
    h = sigmoid(net_h)
    net_o = h @ W2 + B2
    out = sigmoid(net_o)
    loss = np.mean((out - T) ** 2)  # = 1/2 sum (out - t)^2 for two outputs: Mazur's E_total
    n = out.size
    d = {}
    d["out"] = 2.0 * (out - T) / n  # dL/dout
    d["net_o"] = d["out"] * out * (1 - out)  # sigmoid'(z) = s (1 - s)
    d["W2"] = h.T @ d["net_o"]
    d["b2"] = d["net_o"].sum(axis=0)
    d["h"] = d["net_o"] @ W2.T
    d["net_h"] = d["h"] * h * (1 - h)
    d["W1"] = X.T @ d["net_h"]
    d["b1"] = d["net_h"].sum(axis=0)
    d["x"] = d["net_h"] @ W1.T
    return loss, d


def build():
    f64 = chainrule.float64
    t = {
        "x": chainrule.tensor(X, dtype=f64, requires_grad=True),
        "W1": chainrule.tensor(W1, dtype=f64, requires_grad=True),
        "b1": chainrule.tensor(B1, dtype=f64, requires_grad=True),
        "W2": chainrule.tensor(W2, dtype=f64, requires_grad=True),
        "b2": chainrule.tensor(B2, dtype=f64, requires_grad=True),
    }
    t["net_h"] = t["x"] @ t["W1"] + t["b1"]
    t["h"] = F.sigmoid(t["net_h"])
    t["net_o"] = t["h"] @ t["W2"] + t["b2"]
    t["out"] = F.sigmoid(t["net_o"])
    t["loss"] = F.mse_loss(t["out"], chainrule.tensor(T, dtype=f64))
    return t


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=0)


def test_mazur_numbers():
    loss, d = hand()
    assert loss == pytest.approx(0.298371109, abs=1e-9)  # Mazur's total error
    assert d["W2"][0, 0] == pytest.approx(0.082167041, abs=1e-9)  # his dE/dw5
    assert d["W1"][0, 0] == pytest.approx(0.000438568, abs=1e-9)  # his dE/dw1


def test_trace_reproduces_hand_computation():
    loss, d = hand()
    t = build()
    trace = explain_backward(t["loss"], params={k: v for k, v in t.items() if k != "loss"})
    assert trace.root_name == "loss"
    close(trace.loss, loss)

    # The seed: dL/dL = 1.
    assert trace.steps[0].tensor is t["loss"]
    close(trace.steps[0].upstream, 1.0)

    # Output layer: out = sigmoid(net_o), net_o = h @ W2 + b2.
    s = trace.step_for(t["out"])
    assert s.op == "Sigmoid" and s.rule == "d sigmoid(x)/dx = sigmoid(x) * (1 - sigmoid(x))"
    close(s.upstream, d["out"])
    close(s.downstream[0], d["net_o"])

    s = trace.step_for(t["net_o"])
    assert s.op == "Add"
    close(s.upstream, d["net_o"])
    matmul_o, bias_o = s.inputs
    assert bias_o.name == "b2" and bias_o.grad.shape == (2,)  # summed back (unbroadcast)
    close(matmul_o.grad, d["net_o"])
    close(bias_o.grad, d["b2"])

    s = trace.step_for(matmul_o.tensor)
    assert s.op == "MatMul"
    assert [i.name for i in s.inputs] == ["h", "W2"]
    close(s.downstream[0], d["h"])
    close(s.downstream[1], d["W2"])

    # Hidden layer: h = sigmoid(net_h), net_h = x @ W1 + b1.
    s = trace.step_for(t["h"])
    close(s.upstream, d["h"])
    close(s.downstream[0], d["net_h"])
    s = trace.step_for(t["net_h"])
    close(s.upstream, d["net_h"])
    close(s.inputs[1].grad, d["b1"])
    s = trace.step_for(s.inputs[0].tensor)
    close(s.downstream[0], d["x"])
    close(s.downstream[1], d["W1"])

    # Leaves: recorded as AccumulateGrad steps, and .grad filled exactly as backward() would.
    for name in ("x", "W1", "b1", "W2", "b2"):
        leaf = trace.step_for(t[name])
        assert leaf.kind == "leaf" and leaf.op == "AccumulateGrad"
        close(leaf.upstream, d[name])
        close(trace.grads[name], d[name])
        close(t[name].grad.numpy(), d[name])


def test_same_grads_as_backward_and_accumulates():
    a, b = build(), build()
    explain_backward(a["loss"])
    b["loss"].backward()
    for name in ("x", "W1", "b1", "W2", "b2"):
        np.testing.assert_array_equal(a[name].grad.numpy(), b[name].grad.numpy())
    # A second pass accumulates into .grad, like backward().
    c = build()
    for leaf in ("x", "W1", "b1", "W2", "b2"):
        c[leaf].grad = None
    explain_backward(c["loss"], retain_graph=True)
    explain_backward(c["loss"])
    close(c["W1"].grad.numpy(), 2 * b["W1"].grad.numpy())
    with pytest.raises(RuntimeError, match="second time"):
        explain_backward(c["loss"])


def test_order_is_reverse_topological():
    t = build()
    trace = explain_backward(t["loss"])
    position = {id(s.tensor): s.index for s in trace.steps}
    for s in trace.steps:
        for inp in s.inputs:
            assert position[id(inp.tensor)] > s.index  # every input is visited after its user
    assert [s.index for s in trace.steps] == list(range(1, len(trace) + 1))


def test_fan_out_sums_upstream():
    x = chainrule.tensor([1.0, 2.0], dtype=chainrule.float64, requires_grad=True)
    y = x * x  # x used twice
    trace = explain_backward(y.sum(), params={"x": x, "y": y})
    mul = trace["y"]
    np.testing.assert_allclose(mul.downstream[0], [1.0, 2.0])
    np.testing.assert_allclose(mul.downstream[1], [1.0, 2.0])
    np.testing.assert_allclose(trace.step_for(x).upstream, [2.0, 4.0])  # 2x: the two uses add
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_hooks_retain_grad_and_gradient_argument():
    x = chainrule.tensor([1.0, -2.0, 3.0], requires_grad=True)
    h = x * 2.0
    h.retain_grad()
    h.register_hook(lambda g: g * 10)
    y = h.tanh()
    trace = explain_backward(y, gradient=chainrule.ones(3))
    ref = chainrule.tensor([1.0, -2.0, 3.0], requires_grad=True)
    rh = ref * 2.0
    rh.register_hook(lambda g: g * 10)
    rh.tanh().backward(chainrule.ones(3))
    np.testing.assert_allclose(x.grad.numpy(), ref.grad.numpy(), rtol=1e-6)
    assert h.grad is not None
    assert trace.root_name == "out"
    assert "retain_grad" in str(trace)


def test_text_and_markdown_tables():
    t = build()
    trace = explain_backward(t["loss"], params={"W1": t["W1"], "h": t["h"]})
    text = str(trace)
    assert "Backward pass from loss = 0.298371" in text
    assert "d sigmoid(x)/dx = sigmoid(x) * (1 -" in text
    assert "h = Sigmoid" in text and "W1 (leaf)" in text
    assert "0.000438568" in text  # small tensors print their numbers
    md = trace.to_markdown()
    assert md.count("\n| ") == len(trace) + 1
    assert "| step | node |" in md


def test_large_tensors_show_shape_and_norm():
    x = chainrule.ones(4, 5, requires_grad=True)
    trace = explain_backward((x * 3.0).sum(), params={"x": x})
    assert "shape (4, 5), norm" in str(trace)
    assert trace["x"].upstream.shape == (4, 5)


def test_constant_inputs_are_skipped_and_no_grad_inputs_listed():
    w = chainrule.tensor([2.0, 3.0], requires_grad=True)
    c = chainrule.tensor([5.0, 7.0])
    trace = explain_backward((w * c).sum(), params={"w": w})
    mul = trace.steps[1]
    assert [i.name for i in mul.inputs] == ["w"]
    np.testing.assert_allclose(mul.downstream[0], [5.0, 7.0])


def test_requires_a_tensor_with_grad():
    with pytest.raises(TypeError):
        explain_backward(1.0)
    with pytest.raises(RuntimeError, match="does not require grad"):
        explain_backward(chainrule.ones(2).sum())


def test_module_doctests():
    import doctest

    import chainrule.edu.explain
    import chainrule.edu.graph
    import chainrule.edu.plots

    for mod in (chainrule.edu.graph, chainrule.edu.explain, chainrule.edu.plots):
        result = doctest.testmod(mod)
        assert result.attempted > 0 and result.failed == 0, mod.__name__
