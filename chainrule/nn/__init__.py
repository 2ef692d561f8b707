"""Neural-network building blocks with PyTorch's names: Module, layers, init, functional."""

from chainrule.nn import functional, init, utils
from chainrule.nn.containers import (
    ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential,
)
from chainrule.nn.linear import Bilinear, Flatten, Identity, Linear, Unflatten
from chainrule.nn.module import Module, Parameter
from chainrule.nn.summary import summary
