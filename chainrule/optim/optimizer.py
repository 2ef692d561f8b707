"""The Optimizer base class: parameter groups, per-parameter state, zero_grad, state_dict.

An optimizer holds ``param_groups`` (a list of dicts: ``"params"`` plus that group's
hyperparameters) and ``state`` (a dict keyed by parameter holding its buffers, e.g. Adam's
``exp_avg``). ``step()`` applies the update rule of ``chainrule.optim.functional`` to every
parameter that has a gradient, in place and under ``no_grad``.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

import numpy as np

from chainrule.autograd.function import enable_grad, no_grad
from chainrule.backend import cpu, to_device
from chainrule.tensor import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks a hyperparameter with no default: every param group must give it."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

# State entries that are bookkeeping scalars kept on the CPU (as in PyTorch), never cast
# to the parameter's dtype or device when a state_dict is loaded.
_CPU_SCALAR_STATE = ("step", "mu_product")


def _scalar_state(value: float) -> Tensor:
    """A 0-d float32 CPU tensor, like the ``step`` tensors of ``torch.optim``."""
    return Tensor._make(np.array(value, dtype=np.float32), cpu)


def _typename(obj) -> str:
    t = type(obj)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts (parameter
            groups: ``{"params": [...], "lr": 0.1, ...}``, options missing from a group
            take the optimizer's defaults).
        defaults: the default hyperparameters of the optimizer.

    Subclasses implement ``_update_group(group)``, which updates the parameters of one group
    (``step`` has already switched gradients off), or override ``step`` altogether.
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                "dicts, but got " + _typename(params)
            )
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # ---------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (e.g. to unfreeze layers later)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)

        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are "
                    "missing"
                )
            param_group["param_names"] = names

        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is " + _typename(p)
                )
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            param_group.setdefault(name, default)

        ids = {id(p) for p in tensors}
        if len(ids) != len(tensors):
            # PyTorch only warns here (and announces an error "in future"): a parameter
            # listed twice would be updated twice per step, so chainrule refuses it now.
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {which} to the optimizer"
                )
            if any(id(p) in ids for p in group["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---------------------------------------------------------------- gradients and steps
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to ``None`` (default) or to zeros in place.

        With ``set_to_none=True`` a parameter that gets no gradient in the next backward
        keeps ``grad=None`` and is skipped by ``step()``; zeros would still step (momentum,
        weight decay).
        """
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g.data[...] = 0
                    g._version[0] += 1

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient; return ``closure()``'s loss, if given.

        Args:
            closure: re-evaluates the model and returns the loss (run with gradients on,
                before the update); needed by optimizers that evaluate the loss several times.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._update_group(group)
        return loss

    def _update_group(self, group: dict[str, Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    @staticmethod
    def _params_with_grad(group: dict[str, Any]):
        """The parameters of ``group`` that received a gradient (the others are skipped)."""
        return [p for p in group["params"] if p.grad is not None]

    @staticmethod
    def _bump_version(p: Tensor) -> None:
        # An update in place, like PyTorch's: a graph that saved the old value must refuse it.
        p._version[0] += 1

    # ---------------------------------------------------------------- state_dict
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as ``{"state": {index: {...}}, "param_groups": [...]}``.

        Parameters are replaced by their index in the order of ``param_groups`` (PyTorch's
        layout). The state tensors are the live ones, as in PyTorch: ``copy.deepcopy`` the
        result for a snapshot that later steps will not change.
        """
        param_mappings: dict[int, int] = {}
        start_index = 0

        def pack_group(group: dict[str, Any]) -> dict[str, Any]:
            nonlocal start_index
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start_index):
                param_mappings.setdefault(id(p), i)
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {
            (param_mappings[id(k)] if isinstance(k, Tensor) else k): dict(v)
            for k, v in self.state.items()
        }
        return {"state": packed_state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state from :meth:`state_dict`; arrays are copied onto each parameter's device
        (floating state cast to the parameter's dtype, ``step`` kept as it is)."""
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of "
                "optimizer's group"
            )
        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )

        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = {key: _cast_state(param, key, val) for key, val in v.items()}
            else:
                state[k] = copy.deepcopy(v)

        for group, new_group in zip(groups, saved_groups):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
        self.state = state
        self.param_groups = saved_groups
        self._fill_defaults()

    def _fill_defaults(self) -> None:
        """Give loaded groups any option they lack (state_dicts of older versions)."""
        for group in self.param_groups:
            for name, default in self.defaults.items():
                if default is not required:
                    group.setdefault(name, default)

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        out = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            out += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    out += f"    {key}: {group[key]}\n"
        return out + ")"


def _cast_state(param: Tensor, key, value):
    """A copy of one loaded state value, on ``param``'s device (and dtype, if floating)."""
    if isinstance(value, Tensor | np.ndarray):
        array = value.data if isinstance(value, Tensor) else value
        if key in _CPU_SCALAR_STATE:
            return Tensor._make(to_device(array, cpu).copy(), cpu)
        array = to_device(array, param._device)
        if param.is_floating_point() and array.dtype.kind == "f":
            array = array.astype(param.data.dtype, copy=True)
        else:
            array = array.copy()
        return Tensor._make(array, param._device)
    if isinstance(value, dict):
        return {k: _cast_state(param, k, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_cast_state(param, None, v) for v in value)
    return copy.deepcopy(value)
