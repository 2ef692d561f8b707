"""Each demo, run fast, reports the evidence its claim rests on."""

import sys

import pytest

from chainrule.edu import demos

NAMES = [
    "perceptron",
    "xor",
    "universal-approximation",
    "depth",
    "vanishing-gradients",
    "initialization",
    "dying-relu",
    "optimizers",
    "newton",
    "regularization",
    "batchnorm",
    "loss-functions",
    "softmax",
    "attention",
    "mixture-of-experts",
    "weight-sharing",
    "word2vec",
]


def test_registry_lists_all_demos():
    listed = demos.list_demos()
    assert [name for name, _ in listed] == NAMES
    assert all(isinstance(d, str) and d for _, d in listed)


def test_importing_chainrule_does_not_import_matplotlib():
    import subprocess

    code = "import chainrule, chainrule.edu.demos, sys; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_run_unknown_demo_returns_nonzero(capsys):
    assert demos.run("no-such-demo") == 2
    assert "perceptron" in capsys.readouterr().out


def _evidence(name, tmp_path):
    ev = demos.evidence(name, fast=True, out_dir=tmp_path)
    assert ev.name == name and ev.claim_holds is True
    for fig in ev.figures:
        assert fig.parent == tmp_path and fig.suffix == ".png" and fig.stat().st_size > 0
    return ev


def test_run_returns_zero_and_prints_table(tmp_path, capsys):
    assert demos.run("softmax", fast=True, out_dir=tmp_path) == 0
    out = capsys.readouterr().out
    assert "claim holds: yes" in out and "entropy" in out
    assert (tmp_path / "softmax.png").stat().st_size > 0


def test_run_returns_nonzero_when_evidence_contradicts(monkeypatch, tmp_path):
    from chainrule.edu.demos import attention

    real = attention.run

    def contradicted(fast=False, out_dir=None):
        ev = real(fast=fast, out_dir=out_dir)
        ev.claim_holds = False
        return ev

    monkeypatch.setattr(attention, "run", contradicted)
    assert demos.run("attention", fast=True, out_dir=tmp_path) == 1


def test_default_output_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ev = demos.evidence("loss-functions", fast=True)
    assert ev.figures == [tmp_path / "demo-output" / "loss_functions.png"]


def test_perceptron(tmp_path):
    ev = _evidence("perceptron", tmp_path)
    assert ev["separable_converged"] and ev["separable_accuracy"] == 1.0
    assert ev["separable_mistakes"][-1] == 0
    assert not ev["xor_converged"] and ev["xor_best_accuracy"] <= 0.75
    assert min(ev["xor_mistakes"]) >= 1


def test_xor(tmp_path):
    ev = _evidence("xor", tmp_path)
    assert ev["mlp_accuracy"] == 1.0
    assert ev["hidden_probe_converged"] and ev["hidden_probe_accuracy"] == 1.0
    assert ev["linear_mlp_accuracy"] < 1.0
    assert not ev["linear_hidden_probe_converged"] and not ev["input_probe_converged"]


def test_universal_approximation(tmp_path):
    ev = _evidence("universal-approximation", tmp_path)
    errors = ev["errors"]
    assert ev["widths"] == [1, 2, 4, 8, 32]
    assert errors[-1] < errors[0] / 10
    assert errors[-1] < errors[2] < errors[1] * 1.05


def test_depth(tmp_path):
    ev = _evidence("depth", tmp_path)
    assert ev["parameters"] == 6 * ev["k"] + 1 == 3 * ev["shallow_width"] + 1
    assert ev["deep_pieces"] == ev["target_pieces"] == 2 ** ev["k"]
    assert ev["shallow_max_pieces"] < ev["target_pieces"]
    assert ev["deep_error"] < 1e-8 and ev["shallow_error"] > 1e-2


def test_vanishing_gradients(tmp_path):
    ev = _evidence("vanishing-gradients", tmp_path)
    ratio = ev["last_over_first"]
    assert ratio["sigmoid"] >= 100 and ratio["relu"] < 10
    assert len(ev["norms"]["sigmoid"]) == ev["depth"] + 1


def test_initialization(tmp_path):
    ev = _evidence("initialization", tmp_path)
    steady, stds = ev["steady"], ev["stds"]
    assert steady["tanh/xavier"] and steady["relu/he"]
    assert not steady["relu/xavier"] and not steady["relu/N(0,1)"]
    assert not steady["tanh/N(0,1)"] and not steady["relu/N(0,0.01)"]
    assert stds["relu/N(0,1)"][-1] > 1e3 * stds["relu/N(0,1)"][0]  # explodes
    assert stds["tanh/N(0,0.01)"][-1] < 1e-3 * stds["tanh/N(0,0.01)"][0]  # vanishes
    assert 0.5 <= stds["relu/he"][-1] / stds["relu/he"][0] <= 2


def test_dying_relu(tmp_path):
    ev = _evidence("dying-relu", tmp_path)
    assert ev["relu_dead_fraction"] > 0.5 and ev["relu_zero_grad_fraction"] > 0.5
    assert ev["leaky_zero_grad_fraction"] == 0.0
    assert ev["leaky_negative_fraction"] > 0.5  # pushed negative, yet not dead
    assert ev["relu_good_lr_dead_fraction"] < 0.5


def test_optimizers(tmp_path):
    ev = _evidence("optimizers", tmp_path)
    for losses in (ev["regression_loss"], ev["rosenbrock_loss"]):
        assert set(losses) == {"SGD", "momentum", "RMSprop", "Adam"}
        assert losses["Adam"] < losses["SGD"] and losses["momentum"] < losses["SGD"]


def test_newton(tmp_path):
    ev = _evidence("newton", tmp_path)
    assert ev["hessian_relative_error"] < 1e-10
    assert ev["newton_steps"] < 10
    norms = ev["newton_norms"]
    # quadratic convergence: once close, each step at least squares the error (roughly)
    assert norms[-2] < 1e-8 and norms[-1] < 1e-12


def test_regularization(tmp_path):
    ev = _evidence("regularization", tmp_path)
    gaps = ev["gaps"]
    for variant in ("dropout", "weight decay", "early stopping"):
        assert gaps[variant] < gaps["baseline"]
    assert ev["train"]["baseline"] < ev["train"]["dropout"]


def test_batchnorm(tmp_path):
    ev = _evidence("batchnorm", tmp_path)
    assert ev["steps_with_bn"] is not None
    assert ev["steps_without_bn"] is None or ev["steps_with_bn"] < ev["steps_without_bn"]


def test_loss_functions(tmp_path):
    ev = _evidence("loss-functions", tmp_path)
    assert abs(ev["mse_grad"]) < 1e-3
    assert ev["mse_grad"] == pytest.approx(-2 * ev["sigmoid_prime"], rel=1e-2)
    assert ev["bce_grad"] == pytest.approx(-1.0, abs=1e-3)


def test_softmax(tmp_path):
    ev = _evidence("softmax", tmp_path)
    assert ev["jacobian_max_error"] < 1e-10 and ev["row_sums_max_abs"] < 1e-12
    entropies = ev["entropies"]
    assert all(b < a for a, b in zip(entropies, entropies[1:]))
    assert max(abs(g) for g in ev["argmax_grad"]) == 0.0
    assert max(abs(g) for g in ev["softmax_grad"]) > 1e-3


def test_attention(tmp_path):
    ev = _evidence("attention", tmp_path)
    assert sum(ev["soft_weights"]) == pytest.approx(1.0, abs=1e-6)
    assert ev["soft_values_with_grad"] == 6 and ev["soft_query_grad_norm"] > 0
    assert ev["hard_values_with_grad"] == 1 and ev["hard_query_grad_norm"] == 0.0
    assert ev["hard_selected"] == ev["target"]
    assert ev["hard_value_grad_norms"][ev["hard_selected"]] > 0


def test_mixture_of_experts(tmp_path):
    ev = _evidence("mixture-of-experts", tmp_path)
    assert ev["moe_accuracy"] >= 0.95 and ev["linear_accuracy"] < 0.8
    assert ev["gate_region_agreement"] >= 0.9
    assert ev["restarts_that_found_regions"] >= 1


def test_weight_sharing(tmp_path):
    ev = _evidence("weight-sharing", tmp_path)
    assert ev["output_max_diff"] < 1e-5
    assert ev["grad_max_diff_matrix"] < 1e-5 and ev["grad_max_diff_copies"] < 1e-5
    assert ev["kernel_grad"] == pytest.approx(ev["summed_copy_grads"], abs=1e-5)
    assert ev["conv_parameters"] == 3 and ev["dense_parameters"] == 48


def test_demo_needing_a_missing_dataset_says_where_to_put_it(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path))
    assert demos.run("word2vec", fast=True, out_dir=tmp_path) == 2
    assert "tinyshakespeare/input.txt" in capsys.readouterr().out
