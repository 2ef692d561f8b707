"""jacobian_table: the labelled Jacobian, and the softmax facts its docstring teaches."""

import doctest

import numpy as np

import chainrule
import chainrule.edu.jacobian
from chainrule.autograd.functional import jacobian, vjp
from chainrule.edu import jacobian_table


def test_docstring_example_runs():
    result = doctest.testmod(chainrule.edu.jacobian, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 5 and result.failed == 0


def test_softmax_jacobian_facts(capsys):
    x = chainrule.tensor([0.3, -1.2, 2.0, 0.7], dtype=chainrule.float64)
    text = jacobian_table(lambda t: t.softmax(0), x, precision=6)
    assert capsys.readouterr().out.strip() == text.strip()
    s = x.softmax(0).numpy()
    J = jacobian(lambda t: t.softmax(0), x).numpy()
    expected = np.diag(s) - np.outer(s, s)
    np.testing.assert_allclose(J, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(J.sum(axis=1), 0.0, atol=1e-12)  # rows sum to zero
    np.testing.assert_allclose(J, J.T, atol=1e-12)  # and it is symmetric
    # The table shows exactly these numbers, rows y_i and columns x_j.
    lines = text.splitlines()
    assert lines[0] == "Jacobian dy/dx: 4 outputs x 4 inputs"
    assert lines[1].split() == ["dy_i/dx_j", "x_0", "x_1", "x_2", "x_3"]
    for i, line in enumerate(lines[2:]):
        label, *vals = line.split()
        assert label == f"y_{i}"
        np.testing.assert_allclose([float(v) for v in vals], expected[i], atol=1e-6)
    # Backprop uses v^T J without building J.
    v = chainrule.tensor([1.0, 2.0, -1.0, 0.5], dtype=chainrule.float64)
    _, g = vjp(lambda t: t.softmax(0), x, v)
    np.testing.assert_allclose(g.numpy(), v.numpy() @ J, rtol=1e-10)
    np.testing.assert_allclose(g.numpy(), s * (v.numpy() - v.numpy() @ s), rtol=1e-10)


def test_print_false_non_square_and_multi_dim(capsys):
    text = jacobian_table(lambda t: (t * t).sum(0), [[1.0, 2.0], [3.0, 4.0]], print=False)
    assert capsys.readouterr().out == ""
    lines = text.splitlines()
    assert lines[0] == "Jacobian dy/dx: 2 outputs x 4 inputs"
    assert lines[1].split()[1:] == ["x[0,0]", "x[0,1]", "x[1,0]", "x[1,1]"]
    assert [float(v) for v in lines[2].split()[1:]] == [2.0, 0.0, 6.0, 0.0]
    assert [float(v) for v in lines[3].split()[1:]] == [0.0, 4.0, 0.0, 8.0]
