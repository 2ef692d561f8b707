"""Every Function states its local derivative in a one-line ``rule`` (explain_backward shows it)."""

import importlib
import pkgutil

import chainrule
from chainrule.autograd.function import Function


def _all_functions():
    for info in pkgutil.walk_packages(chainrule.__path__, "chainrule."):
        if info.name.endswith(("__main__", ".cli")):
            continue
        try:
            importlib.import_module(info.name)
        except ImportError:  # an optional dependency (cupy, ...) is missing
            continue
    seen, stack = [], list(Function.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls not in seen:
            seen.append(cls)
            stack.extend(cls.__subclasses__())
    return [c for c in seen if c.__module__.startswith("chainrule.")]


def test_every_function_has_a_rule():
    functions = _all_functions()
    assert len(functions) > 50
    missing = [
        f"{c.__module__}.{c.__name__}"
        for c in functions
        if not isinstance(getattr(c, "rule", None), str) or not c.rule.strip()
    ]
    assert missing == [], f"Functions without a rule: {missing}"
    multiline = [c.__name__ for c in functions if "\n" in c.rule.strip()]
    assert multiline == [], f"rules should be one line: {multiline}"
