"""chainrule.models: Rosenblatt's Perceptron and the MLP."""

import numpy as np
import pytest

import chainrule
from chainrule import nn
from chainrule.models import MLP, Perceptron


def _separable(n=100, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(4 * n, 2))
    X = X[np.abs(X[:, 0] - 2 * X[:, 1]) > 0.5][:n]
    return X, (X[:, 0] - 2 * X[:, 1] > 0).astype(int)


def test_perceptron_converges_on_separable_data():
    X, y = _separable()
    p = Perceptron(2)
    result = p.fit(X, y, epochs=100)
    assert result.converged and p.converged_
    assert result.epochs == len(result.mistakes) < 100
    assert result.mistakes[-1] == 0 and sum(result.mistakes) > 0
    assert p.score(X, y) == 1.0
    assert set(np.unique(p.predict(X))) == {0, 1}


def test_perceptron_does_not_converge_on_xor():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    p = Perceptron(2)
    result = p.fit(X, np.array([0, 1, 1, 0]), epochs=50)
    assert not result.converged and p.converged_ is False
    assert result.epochs == 50 and all(m > 0 for m in result.mistakes)
    assert p.score(X, [0, 1, 1, 0]) <= 0.75


def test_perceptron_signed_targets_and_update_rule():
    X, y = _separable()
    p = Perceptron(2)
    assert p.fit(X, 2 * y - 1).converged
    assert set(np.unique(p.predict(X))) == {-1, 1}
    assert p.score(X, 2 * y - 1) == 1.0
    # one mistake on x = (1, 2) with target 1 from zero weights: w += lr x, b += lr
    q = Perceptron(2, lr=0.5)
    q.fit(np.array([[1.0, 2.0]]), np.array([1]), epochs=1)
    np.testing.assert_allclose(q.weight, [0.5, 1.0])
    assert q.bias == 0.5


def test_perceptron_rejects_bad_input():
    p = Perceptron(2)
    with pytest.raises(ValueError, match="targets"):
        p.fit(np.zeros((2, 2)), np.array([0, 2]))
    with pytest.raises(ValueError, match="shape"):
        p.fit(np.zeros((2, 3)), np.array([0, 1]))


def test_perceptron_accepts_tensors():
    X, y = _separable(40)
    p = Perceptron(2)
    assert p.fit(chainrule.tensor(X), chainrule.tensor(y)).converged


def test_mlp_structure_and_forward_shape():
    mlp = MLP([3, 16, 8, 2], activation="tanh")
    kinds = [type(m) for m in mlp.layers]
    assert kinds == [nn.Linear, nn.Tanh, nn.Linear, nn.Tanh, nn.Linear]
    assert [m.out_features for m in mlp.layers if isinstance(m, nn.Linear)] == [16, 8, 2]
    assert mlp(chainrule.randn(5, 3)).shape == (5, 2)
    assert mlp.hidden(chainrule.randn(5, 3)).shape == (5, 8)
    assert mlp.hidden(chainrule.randn(5, 3), layer=0).shape == (5, 16)
    n_params = sum(p.numel() for p in mlp.parameters())
    assert n_params == 3 * 16 + 16 + 16 * 8 + 8 + 8 * 2 + 2
    assert "Linear(in_features=3, out_features=16" in repr(mlp) and "Tanh()" in repr(mlp)


def test_mlp_batchnorm_dropout_and_output_activation():
    mlp = MLP(
        [4, 8, 1], activation=nn.GELU, dropout=0.5, batch_norm=True, output_activation="sigmoid"
    )
    kinds = [type(m) for m in mlp.layers]
    assert kinds == [nn.Linear, nn.BatchNorm1d, nn.GELU, nn.Dropout, nn.Linear, nn.Sigmoid]
    mlp.eval()
    out = mlp(chainrule.randn(6, 4))
    assert out.shape == (6, 1)
    assert np.all((out.detach().numpy() > 0) & (out.detach().numpy() < 1))


def test_mlp_activation_instance_is_copied_per_layer_and_backward_works():
    mlp = MLP([2, 4, 4, 1], activation=nn.PReLU())
    prelus = [m for m in mlp.layers if isinstance(m, nn.PReLU)]
    assert len(prelus) == 2 and prelus[0] is not prelus[1]
    mlp(chainrule.randn(3, 2)).sum().backward()
    assert all(p.grad is not None for p in mlp.parameters())


def test_mlp_rejects_bad_arguments():
    with pytest.raises(ValueError, match="unknown activation"):
        MLP([2, 3, 1], activation="nope")
    with pytest.raises(ValueError):
        MLP([2])
    with pytest.raises(ValueError):
        MLP([2, 3, 1], dropout=1.0)
