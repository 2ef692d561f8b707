"""Optimizers and learning-rate schedulers, with ``torch.optim``'s names and semantics.

``chainrule.optim.functional`` holds the update rules as pure functions on arrays; the
classes here keep ``param_groups`` and per-parameter ``state`` and apply those rules in place.

Example:
    >>> import chainrule as cr
    >>> from chainrule import optim
    >>> w = cr.randn(3, requires_grad=True)
    >>> opt = optim.Adam([w], lr=1e-2)
    >>> sched = optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    >>> for _ in range(20):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    ...     sched.step()
"""

from chainrule.optim import functional, lr_scheduler
from chainrule.optim.adagrad import Adagrad
from chainrule.optim.adam import Adam, Adamax, AdamW, NAdam, RAdam
from chainrule.optim.optimizer import Optimizer
from chainrule.optim.rmsprop import RMSprop
from chainrule.optim.sgd import SGD

__all__ = [
    "Optimizer",
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
    "NAdam",
    "RAdam",
    "Adamax",
    "functional",
    "lr_scheduler",
]
