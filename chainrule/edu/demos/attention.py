"""Attention is a soft, differentiable switch; a one-hot weight vector is a hard one.

A query q scores each key: scores_i = k_i . q / sqrt(d); weights = softmax(scores); the output
is sum_i w_i v_i. Every value gets a share of the output, so every value gets a share of the
gradient (dL/dv_i = w_i dL/dout), and the scores get gradient too: the model can learn where
to look. Replace the weights by a one-hot vector (a hard switch) and the output is exactly one
value: only that value receives gradient, and the choice itself receives none.
"""

from __future__ import annotations

import numpy as np

import chainrule
from chainrule.edu.demos._common import Evidence, finish, new_figure, save_figure, seed, to_tensor

CLAIM = (
    "soft attention weights (softmax of scores) send gradient to every value and to the "
    "scores; a one-hot weight vector selects exactly one value and only it gets gradient"
)


def attend(q, K, V, hard: bool):
    """(output, weights, scores) for one query; weights one-hot at argmax when ``hard``."""
    d = K.shape[1]
    scores = (K @ q) / float(np.sqrt(d))
    if hard:
        # argmax is not differentiable: the one-hot vector is a constant as far as autograd
        # is concerned, so nothing flows back to the scores, keys or query.
        onehot = np.zeros(K.shape[0], dtype=np.float32)
        onehot[int(np.argmax(scores.detach().numpy()))] = 1.0
        weights = to_tensor(onehot)
    else:
        weights = chainrule.softmax(scores, 0)
    return weights @ V, weights, scores


def run(fast: bool = False, out_dir=None) -> Evidence:
    rng = seed(0)
    n, d, dv = 6, 8, 4
    target = 3  # the toy task: retrieve the value whose key matches the query
    keys = rng.normal(size=(n, d))
    values = rng.normal(size=(n, dv))
    query = keys[target] + 0.5 * rng.normal(size=d)
    cotangent = rng.normal(size=dv)  # an arbitrary upstream gradient dL/dout

    results = {}
    for mode in ("soft", "hard"):
        q = to_tensor(query, requires_grad=True)
        K = to_tensor(keys, requires_grad=True)
        V = to_tensor(values, requires_grad=True)
        out, weights, _ = attend(q, K, V, hard=mode == "hard")
        (out * to_tensor(cotangent)).sum().backward()
        v_grad_norms = np.linalg.norm(V.grad.numpy(), axis=1)
        q_grad = np.zeros(d) if q.grad is None else q.grad.numpy()
        results[mode] = {
            "weights": weights.detach().numpy().astype(np.float64),
            "output": out.detach().numpy(),
            "value_grad_norms": v_grad_norms,
            "values_with_grad": int(np.sum(v_grad_norms > 0)),
            "query_grad_norm": float(np.linalg.norm(q_grad)),
        }
    soft, hard = results["soft"], results["hard"]
    selected = int(np.argmax(hard["weights"]))
    holds = (
        abs(soft["weights"].sum() - 1) < 1e-6
        and soft["values_with_grad"] == n
        and soft["query_grad_norm"] > 0
        and hard["values_with_grad"] == 1
        and int(np.argmax(hard["value_grad_norms"])) == selected
        and np.allclose(hard["output"], values[selected].astype(np.float32))
        and hard["query_grad_norm"] == 0.0
    )
    rows = [
        [
            i,
            soft["weights"][i],
            soft["value_grad_norms"][i],
            hard["weights"][i],
            hard["value_grad_norms"][i],
        ]
        for i in range(n)
    ]
    rows.append(["dL/dq", "-", soft["query_grad_norm"], "-", hard["query_grad_norm"]])

    fig, axes = new_figure(1, 2, width=4.5)
    for ax, mode in zip(axes[0], ("soft", "hard")):
        r = results[mode]
        ax.bar(np.arange(n) - 0.2, r["weights"], 0.4, label="weight w_i")
        ax.bar(np.arange(n) + 0.2, r["value_grad_norms"], 0.4, label="||dL/dv_i||")
        ax.set(title=f"{mode} attention (query matches key {target})", xlabel="value i")
        ax.legend(fontsize=8)
    figure = save_figure(fig, out_dir, "attention.png")

    return finish(
        Evidence(
            name="attention",
            claim=CLAIM,
            claim_holds=bool(holds),
            numbers={
                "target": target,
                "soft_weights": soft["weights"].tolist(),
                "soft_values_with_grad": soft["values_with_grad"],
                "soft_query_grad_norm": soft["query_grad_norm"],
                "hard_selected": selected,
                "hard_values_with_grad": hard["values_with_grad"],
                "hard_query_grad_norm": hard["query_grad_norm"],
                "hard_value_grad_norms": hard["value_grad_norms"].tolist(),
            },
            headers=["value", "soft w", "soft ||dL/dv||", "hard w", "hard ||dL/dv||"],
            rows=rows,
            figures=[figure],
        )
    )
