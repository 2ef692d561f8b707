"""chainrule: a deep-learning framework built from the chain rule up.

Tensors hold NumPy (or CuPy) arrays; every op records how to pass gradients back; ``backward()``
applies the chain rule through the recorded graph. The API follows PyTorch's.
"""

# Order matters: autograd.function first (tensor.py imports from it, ops import Tensor).
from chainrule.autograd.function import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from chainrule import dtypes
from chainrule.dtypes import (
    bool_ as bool,
    double,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
    DType as dtype,
)
from chainrule.backend import Device, device, is_cuda_available
from chainrule.tensor import Size, Tensor, tensor
from chainrule.ops import *  # noqa: F403 - the op namespace is the public math API
from chainrule.ops import abs, all, any, max, min, pow, round, sum  # shadow builtins on purpose
from chainrule.creation import (
    arange,
    as_tensor,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tril_indices,
    triu_indices,
    zeros,
    zeros_like,
)
from chainrule.random import (
    Generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from chainrule import autograd
from chainrule.autograd import grad as _grad  # noqa: F401

__version__ = "0.1.0"


class _Cuda:
    """``chainrule.cuda.is_available()``, as in PyTorch."""

    @staticmethod
    def is_available() -> bool:
        return is_cuda_available()


cuda = _Cuda()

from chainrule import nn, optim  # noqa: E402 - after the core they build on
from chainrule.nn.functional import cdist  # noqa: E402 - torch.cdist is top-level too


def is_tensor(obj) -> bool:
    """Whether ``obj`` is a chainrule Tensor."""
    return isinstance(obj, Tensor)


def numel(t: Tensor) -> int:
    """The number of elements of ``t``."""
    return t.numel()


from chainrule.serialization import load, save  # noqa: E402

# The rest is imported on first use (PEP 562), so that `import chainrule` stays light:
# `chainrule.data`, `chainrule.train`... work as if imported eagerly.
_LAZY_SUBMODULES = {"data", "train", "metrics", "edu", "models", "recipes", "linalg"}


def __getattr__(name: str):
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"chainrule.{name}")
    raise AttributeError(f"module 'chainrule' has no attribute '{name}'")
