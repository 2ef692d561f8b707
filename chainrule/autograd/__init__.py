"""Reverse-mode automatic differentiation: Function, the engine, and checking tools."""

from chainrule.autograd import functional
from chainrule.autograd.checks import detect_anomaly, gradcheck
from chainrule.autograd.engine import backward, grad
from chainrule.autograd.function import (
    Context,
    Function,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
