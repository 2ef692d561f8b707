"""Runnable demonstrations of neural-network course claims, each backed by a measurement.

Every demo is a module with ``run(fast=False, out_dir=None) -> Evidence``: it trains or
measures something small, prints a short table, saves a PNG where a picture helps (into
``out_dir``, default ``./demo-output``), and reports whether the numbers agree with the claim.

    >>> from chainrule.edu import demos
    >>> [name for name, _ in demos.list_demos()][:2]
    ['perceptron', 'xor']
    >>> demos.run("loss-functions", fast=True)  # doctest: +SKIP
    0
"""

from __future__ import annotations

import importlib

from chainrule.edu.demos._common import Evidence

# name -> (module, one-line description); modules are imported only when run.
DEMOS: dict[str, tuple[str, str]] = {
    "perceptron": (
        "perceptron",
        "Rosenblatt's perceptron converges on separable data and never solves XOR",
    ),
    "xor": (
        "xor",
        "an MLP solves XOR by making its hidden representation linearly separable",
    ),
    "universal-approximation": (
        "universal_approximation",
        "one hidden layer fits sin(x) better and better as it gets wider",
    ),
    "depth": (
        "depth",
        "at the same parameter budget a deep net can represent a sawtooth a shallow one cannot",
    ),
    "vanishing-gradients": (
        "vanishing_gradients",
        "in a 20-layer sigmoid net the first layer's gradient is orders of magnitude smaller",
    ),
    "initialization": (
        "initialization",
        "Xavier (tanh) and He (ReLU) init keep activation scale steady through 10 layers",
    ),
    "dying-relu": (
        "dying_relu",
        "too high a learning rate kills most ReLU units; LeakyReLU units keep a gradient",
    ),
    "optimizers": (
        "optimizers",
        "SGD, momentum, RMSprop and Adam compared on a regression and on Rosenbrock",
    ),
    "newton": (
        "newton",
        "differentiating the gradient gives the Hessian; Newton's method converges in a few steps",
    ),
    "regularization": (
        "regularization",
        "dropout, weight decay and early stopping each shrink an MLP's train/test gap",
    ),
    "batchnorm": (
        "batchnorm",
        "BatchNorm lets a deep MLP reach the target accuracy in fewer steps",
    ),
    "loss-functions": (
        "loss_functions",
        "on a confidently wrong sigmoid, MSE's gradient vanishes while cross-entropy's is ~1",
    ),
    "softmax": (
        "softmax",
        "the softmax Jacobian is diag(s) - s s^T; temperature; softmax vs argmax gradients",
    ),
    "attention": (
        "attention",
        "soft attention spreads gradient over all values; a one-hot weight selects one",
    ),
    "mixture-of-experts": (
        "mixture_of_experts",
        "a softmax gate splits the input space between two linear experts",
    ),
    "weight-sharing": (
        "weight_sharing",
        "a convolution is a banded matrix with shared weights; shared gradients add up",
    ),
    "word2vec": (
        "word2vec",
        "skip-gram vectors on Shakespeare: sensible neighbours; cosine tracks corpus PMI",
    ),
}

__all__ = ["DEMOS", "Evidence", "evidence", "list_demos", "run"]


def list_demos() -> list[tuple[str, str]]:
    """``[(name, one-line description), ...]`` in course order."""
    return [(name, description) for name, (_, description) in DEMOS.items()]


def evidence(name: str, fast: bool = False, out_dir=None) -> Evidence:
    """Run demo ``name`` and return its Evidence (raises KeyError for an unknown name)."""
    if name not in DEMOS:
        raise KeyError(f"unknown demo {name!r}; available: {', '.join(DEMOS)}")
    module = importlib.import_module(f"chainrule.edu.demos.{DEMOS[name][0]}")
    return module.run(fast=fast, out_dir=out_dir)


def run(name: str, fast: bool = False, out_dir=None) -> int:
    """Run demo ``name``, print its evidence; exit code 0 when the claim holds, 1 when the
    measurements contradict it, 2 for an unknown name."""
    if name not in DEMOS:
        print(f"unknown demo {name!r}; available demos:")
        for demo_name, description in list_demos():
            print(f"  {demo_name:<24} {description}")
        return 2
    try:
        result = evidence(name, fast=fast, out_dir=out_dir)  # the demo prints its own table
    except FileNotFoundError as e:  # a demo that needs a dataset says where to put it
        print(f"demo {name}: {e}")
        return 2
    return 0 if result.claim_holds else 1
