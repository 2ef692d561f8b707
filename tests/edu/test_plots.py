"""chainrule.edu.plots: every plot returns a Figure with the expected axes and writes a PNG."""

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import chainrule  # noqa: E402
from chainrule import nn  # noqa: E402
from chainrule.edu import plots  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def is_png(path):
    data = path.read_bytes()
    return len(data) > 1000 and data[:8] == PNG


def test_import_chainrule_does_not_import_matplotlib():
    code = (
        "import sys, chainrule, chainrule.edu, chainrule.edu.plots; "
        "assert 'matplotlib' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "name, f, df",
    [
        ("relu", lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(float)),
        ("sigmoid", lambda x: 1 / (1 + np.exp(-x)), lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
        ("tanh", np.tanh, lambda x: 1 - np.tanh(x) ** 2),
        ("softplus", lambda x: np.log1p(np.exp(x)), lambda x: 1 / (1 + np.exp(-x))),
    ],
)
def test_activation_derivatives_match_formulas(name, f, df):
    x = np.array([-3.0, -1.0, -0.25, 0.5, 2.0, 4.0])
    y, dy = plots.activation_and_derivative(name, x)
    np.testing.assert_allclose(y, f(x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dy, df(x), rtol=1e-10, atol=1e-12)


def test_activation_unknown_name():
    with pytest.raises(ValueError, match="no activation"):
        plots.activation_and_derivative("nope", [0.0])


def test_every_listed_activation_exists():
    for name in plots.ACTIVATIONS:
        y, dy = plots.activation_and_derivative(name, np.linspace(-2, 2, 9))
        assert y.shape == dy.shape == (9,) and np.all(np.isfinite(dy))


def test_plot_activations(tmp_path):
    fig = plots.plot_activations(path=tmp_path / "act.png", points=81)
    assert len(fig.axes) == len(plots.ACTIVATIONS)
    assert is_png(tmp_path / "act.png")
    fig = plots.plot_activations(["relu", "tanh", "gelu"], x_range=(-2, 2), points=41)
    assert [ax.get_title() for ax in fig.axes] == ["relu", "tanh", "gelu"]
    # The dashed line is the autograd derivative.
    x_line, dy_line = fig.axes[1].get_lines()[-1].get_data()
    np.testing.assert_allclose(dy_line, 1 - np.tanh(x_line) ** 2, rtol=1e-10)


def _blobs():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-1, 0.5, (30, 2)), rng.normal(1, 0.5, (30, 2))])
    y = np.repeat([0, 1], 30)
    return X.astype(np.float32), y


def test_plot_decision_boundary_multiclass_and_binary(tmp_path):
    X, y = _blobs()
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    fig = plots.plot_decision_boundary(model, X, y, path=tmp_path / "db.png", resolution=40)
    assert len(fig.axes) == 1
    assert is_png(tmp_path / "db.png")
    assert model.training  # restored after the eval-mode sweep

    class Fixed(nn.Module):  # x1 + x2 > 0 -> class 1: perfect on the blobs
        def forward(self, x):
            return x.sum(1, keepdim=True)

    fig = plots.plot_decision_boundary(
        Fixed(), chainrule.tensor(X), chainrule.tensor(y), resolution=50
    )
    assert "accuracy 100.0%" in fig.axes[0].get_title()
    with pytest.raises(ValueError):
        plots.plot_decision_boundary(Fixed(), np.zeros((4, 3)), np.zeros(4))


def test_plot_training(tmp_path):
    history = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.7, 0.5], "accuracy": [0.5, 0.7, 0.8]}
    fig = plots.plot_training(history, path=tmp_path / "hist.png")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert len(fig.axes[0].get_lines()) == 2
    assert is_png(tmp_path / "hist.png")

    class History:
        def __init__(self, h):
            self.history = h

    assert len(plots.plot_training(History(history)).axes) == 2
    records = [{"epoch": 1, "loss": 1.0, "val_accuracy": 0.4}, {"epoch": 2, "loss": 0.5}]
    fig = plots.plot_training(records)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    with pytest.raises(TypeError):
        plots.plot_training(3)
    assert len(plots.plot_training(history, keys=["accuracy"]).axes) == 1
    with pytest.raises(KeyError):
        plots.plot_training(history, keys=["nope"])


def test_plot_training_with_trainer_history():
    history_mod = pytest.importorskip("chainrule.train.history")
    h = history_mod.History()
    h.append({"epoch": 1, "loss": 1.0, "accuracy": 0.5, "lr": 0.1, "time": 2.0})
    h.append({"epoch": 2, "loss": 0.5, "val_loss": 0.7, "accuracy": 0.8, "lr": 0.1, "time": 2.0})
    fig = plots.plot_training(h)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy", "lr"]


def test_layer_stats_recorder_and_plot(tmp_path):
    model = nn.Sequential(
        nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3)
    )
    x = chainrule.randn(32, 4)
    with plots.LayerStatsRecorder(model) as rec:
        out = model(x)
        out.pow(2).mean().backward()
    stats = rec.stats()
    assert [s["name"] for s in stats] == [
        "0 (Linear)",
        "1 (Tanh)",
        "2 (Linear)",
        "3 (ReLU)",
        "4 (Linear)",
    ]
    tanh_out = np.tanh(model[0](x).detach().numpy())
    assert stats[1]["act_mean"] == pytest.approx(float(tanh_out.mean()), rel=1e-5)
    assert stats[1]["act_std"] == pytest.approx(float(tanh_out.std()), rel=1e-5)
    assert stats[0]["param_grad_norms"]["weight"] == pytest.approx(
        float(np.linalg.norm(model[0].weight.grad.numpy())), rel=1e-6
    )
    assert all(s["act_grad_norm"] > 0 for s in stats)
    assert len(rec.plot(tmp_path / "rec.png").axes) == 3
    assert is_png(tmp_path / "rec.png")

    # plot_layer_stats restores existing gradients.
    before = model[0].weight.grad.numpy().copy()
    y = chainrule.randint(0, 3, (32,))
    fig = plots.plot_layer_stats(model, x, y, nn.CrossEntropyLoss(), path=tmp_path / "ls.png")
    assert len(fig.axes) == 3
    assert is_png(tmp_path / "ls.png")
    np.testing.assert_array_equal(model[0].weight.grad.numpy(), before)
    assert len(plots.plot_layer_stats(model, x.numpy()).axes) == 2  # forward only
