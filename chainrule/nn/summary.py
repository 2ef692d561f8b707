"""``summary(model, input_size)``: a Keras-style table of layers, output shapes and parameters."""

from __future__ import annotations

from chainrule.autograd.function import no_grad
from chainrule.creation import zeros
from chainrule.tensor import Tensor


def _shape_of(out) -> str:
    if isinstance(out, Tensor):
        return str(list(out.shape))
    if isinstance(out, tuple | list):
        return ", ".join(_shape_of(o) for o in out if isinstance(o, Tensor | tuple | list))
    return "-"


def summary(model, input_size, batch_size: int = 1, dtype=None, device=None, file=None) -> str:
    """Run a zero input of shape ``(batch_size, *input_size)`` through ``model`` and print a
    table: each leaf layer with its output shape and parameter count, then the totals.

    Args:
        model: a Module.
        input_size: one sample's shape, e.g. ``(1, 28, 28)``; a list of shapes for several
            inputs.
    Returns the table as a string (also printed unless ``file`` is False).
    """
    sizes = input_size if input_size and isinstance(input_size[0], tuple | list) else [input_size]
    if device is None:
        p = next(model.parameters(), None)
        device = p.device if p is not None else "cpu"
    inputs = [zeros((batch_size, *s), dtype=dtype, device=device) for s in sizes]
    rows, handles = [], []
    for name, mod in model.named_modules():
        if next(mod.children(), None) is not None:
            continue  # only leaf layers get a row

        def hook(m, args, out, name=name):
            n = sum(p.numel() for p in m.parameters(recurse=False))
            rows.append((f"{name} ({type(m).__name__})", _shape_of(out), n))

        handles.append(mod.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(*inputs)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    w1 = max([len("Layer (type)")] + [len(r[0]) for r in rows]) + 2
    w2 = max([len("Output Shape")] + [len(r[1]) for r in rows]) + 2
    line = "-" * (w1 + w2 + 12)
    out = [line, f"{'Layer (type)':<{w1}}{'Output Shape':<{w2}}{'Param #':>12}", "=" * len(line)]
    out += [f"{a:<{w1}}{b:<{w2}}{c:>12,}" for a, b, c in rows]
    out += [
        "=" * len(line),
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
        line,
    ]
    text = "\n".join(out)
    if file is not False:
        print(text, file=file)
    return text
