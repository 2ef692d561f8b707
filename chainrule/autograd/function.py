"""The Function base class, its Context (a node of the graph) and the grad mode.

A differentiable op is a ``Function`` subclass with two static methods that work on raw arrays:

    forward(ctx, *arrays, **attrs) -> array            f(x)
    backward(ctx, grad) -> grad_x (one per array input) the vector-Jacobian product  grad . df/dx

``Function.apply`` is the one place that unwraps Tensors, checks devices and decides whether
to record a node: ``requires_grad = grad_enabled and any(input.requires_grad)``.
"""

from __future__ import annotations

import contextvars
import functools
import itertools

from chainrule.backend import Device

_grad_enabled = contextvars.ContextVar("chainrule_grad_enabled", default=True)
_anomaly_mode = contextvars.ContextVar("chainrule_anomaly_mode", default=False)
# Every recorded node gets the next number. A node is always created after the nodes of its
# inputs, so running nodes from the highest number down is a valid order for backward.
_sequence = itertools.count(1)


def is_grad_enabled() -> bool:
    """Whether new operations are recorded for backward."""
    return _grad_enabled.get()


class _GradMode:
    """Context manager and decorator that sets grad mode (thread- and task-safe via contextvars)."""

    _mode: bool

    def __enter__(self):
        self._token = _grad_enabled.set(self._mode)
        return self

    def __exit__(self, *exc):
        _grad_enabled.reset(self._token)
        return False

    def __call__(self, fn):
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            token = _grad_enabled.set(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                _grad_enabled.reset(token)

        return wrapper


class no_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Disable graph recording: ``with no_grad(): ...`` or ``@no_grad()``."""

    _mode = False


class enable_grad(_GradMode):  # noqa: N801
    """Re-enable graph recording inside a ``no_grad`` block."""

    _mode = True


class set_grad_enabled(_GradMode):  # noqa: N801
    """``set_grad_enabled(False)`` as a context manager or decorator (or called alone)."""

    def __init__(self, mode: bool):
        self._mode = bool(mode)
        # Called as a plain function, it sets the mode right away, as in PyTorch.
        self._prev = _grad_enabled.get()
        _grad_enabled.set(self._mode)

    def __enter__(self):
        self._token = None
        return self

    def __exit__(self, *exc):
        _grad_enabled.set(self._prev)
        return False


class Context:
    """A node of the graph: which Function made a tensor, from which parents, with what saved.

    ``parents`` holds the input Tensors that need a gradient (None for the others);
    ``saved_tensors`` the arrays ``forward`` kept for ``backward``. Ops may store other
    attributes on it (shapes, axes) in forward.
    """

    # Class-level defaults: creating a node sets only what differs (this is on every op's path).
    parents: tuple = ()
    saved_tensors: tuple | None = ()  # None once backward has run and released them
    _versions = None
    created_at = None

    recording = False
    seq = 0  # creation order of recorded nodes: backward runs them newest first
    _inputs = None  # the inputs of a recorded node when there are several (see ``inputs``)
    attrs: dict = {}  # the keyword attributes of a recorded node (shared when empty: read only)

    def __init__(self, fn, needs_input_grad, device: Device, recording: bool):
        self.fn = fn
        self.needs_input_grad = needs_input_grad
        self.device = device
        self.xp = device.xp
        self.recording = recording

    @property
    def inputs(self) -> tuple:
        """The inputs the node was recorded with (tensors, arrays, numbers, None)."""
        return self._inputs if self._inputs is not None else self.parents

    @property
    def freed(self) -> bool:
        """Whether backward has run and released what this node saved."""
        return self.saved_tensors is None

    def save_for_backward(self, *arrays) -> None:
        """Keep arrays for backward (nothing is kept when the op is not recorded)."""
        if self.recording:
            self.saved_tensors = arrays

    def name(self) -> str:
        return f"{self.fn.__name__}Backward"

    def __repr__(self) -> str:
        return f"<{self.name()} object>"

    # PyTorch's grad_fn.next_functions, handy for walking the graph by hand.
    @property
    def next_functions(self):
        return tuple((p._ctx if p is not None else None, 0) for p in self.parents)


class Function:
    """Base class of every differentiable primitive (see the module docstring).

    ``rule`` states the local derivative in words and formula; ``explain_backward`` prints it.
    """

    rule: str = ""
    differentiable: bool = True
    # The vector-Jacobian product written with chainrule's own (recorded) ops, for
    # backward(create_graph=True): backward_graph(ctx, grad: Tensor) -> Tensors, one per input.
    # ``graph_inputs(ctx)`` gives the inputs as tensors. None: the op supports first-order
    # gradients only.
    backward_graph = None

    @staticmethod
    def forward(ctx: Context, *arrays, **attrs):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **attrs):
        """Run forward on the inputs' arrays; record a node when a gradient is needed.

        Inputs may be Tensors or raw arrays/None (constants). If ``forward`` returns a tuple,
        its first element is the differentiable output and the rest come back as constants.
        """
        # NOTE: this runs once per op, so it is written for speed: the common input patterns
        # (one tensor; a tensor and a constant) skip the general loop and reuse constant
        # tuples, the node is built without an __init__ call, nothing unneeded is computed.
        n = len(inputs)
        a = inputs[0] if n else None
        if n == 1 and isinstance(a, Tensor):
            if a._is_view:
                _refresh_if_stale(a)
            arrays = (a.data,)
            dev = a._device
            any_needs = a._requires_grad
            needs, parents = ((True,), (a,)) if any_needs else ((False,), (None,))
        elif n == 2 and isinstance(a, Tensor) and not isinstance(inputs[1], Tensor):
            if a._is_view:
                _refresh_if_stale(a)
            arrays = (a.data, inputs[1])
            dev = a._device
            any_needs = a._requires_grad
            needs, parents = ((True, False), (a, None)) if any_needs else ((False, False), None)
        else:
            arrays, needs, parents, dev, any_needs = _unpack(cls, inputs)
        ctx = _new_context(Context)
        ctx.fn = cls
        ctx.needs_input_grad = needs
        ctx.device = dev
        ctx.xp = dev._xp or dev.xp
        record = any_needs and _grad_enabled.get()
        if record:
            ctx.recording = True
        try:
            out = cls.forward(ctx, *arrays, **attrs)
        except ValueError as e:
            shapes = ", ".join(str(tuple(a.shape)) for a in arrays if hasattr(a, "shape"))
            raise RuntimeError(f"{cls.__name__}: {e} (input shapes: {shapes})") from None
        extra = None
        if type(out) is tuple:
            out, *extra = out
        result = Tensor._make(out, ctx.device)  # ToDevice changes ctx.device
        if record and cls.differentiable:
            ctx.parents = parents
            # Kept for a differentiable backward (graph_inputs); a lone tensor input is already
            # ctx.parents, and most ops have no attributes (fewer objects for the GC to track).
            if n != 1:
                ctx._inputs = inputs
            if attrs:
                ctx.attrs = attrs

            ctx.seq = next(_sequence)
            saved = ctx.saved_tensors
            if saved:
                # Remember the version of every input (or the output) whose array was saved,
                # so that backward can refuse values changed in place since.
                vs = None
                for s in saved:
                    if s is None:
                        continue
                    if s is out:
                        hit = result
                    else:
                        for t in inputs:
                            if isinstance(t, Tensor) and t.data is s:
                                hit = t
                                break
                        else:
                            continue
                    if vs is None:
                        vs = []
                    vs.append((hit, hit._version[0]))
                ctx._versions = vs
            if _anomaly_mode.get():
                ctx.created_at = _user_frame()
                _check_finite(out, cls.__name__, "forward", ctx)
            result._requires_grad = True
            result._ctx = ctx
        elif _anomaly_mode.get():
            _check_finite(out, cls.__name__, "forward", None)
        if extra is not None:
            return (result, *(Tensor._make(e, ctx.device) for e in extra))
        return result


def graph_inputs(ctx) -> list:
    """A recorded node's inputs for its differentiable backward (``backward_graph``): those that
    need a gradient as the graph tensors they were when the node ran (so that the gradient
    stays connected to them), the others as constant tensors; Python numbers and None as
    they were passed."""
    from chainrule.autograd.engine import _value_seen_by

    out = []
    for x, parent in zip(ctx.inputs, ctx.parents):
        if parent is not None:
            pctx = parent._ctx
            if (pctx.seq > ctx.seq) if pctx is not None else not parent._requires_grad:
                parent = _value_seen_by(parent, ctx.seq)  # changed in place since
            out.append(parent)
        elif isinstance(x, Tensor):
            out.append(Tensor._make(x.data, x._device))
        elif hasattr(x, "shape"):
            out.append(Tensor._make(x, ctx.device))
        else:
            out.append(x)
    return out


def composite_backward_graph(reference):
    """A ``backward_graph`` from a reference implementation of a fused op in recorded ops:
    ``reference(ctx, *graph_inputs(ctx), **attrs)`` recomputes the op's output, and its VJP,
    taken with recorded ops and stopped at the op's inputs, is the differentiable backward.
    (It costs a second forward, paid only under ``create_graph=True``.)"""

    def backward_graph(ctx, grad):
        from chainrule.autograd.engine import local_vjp

        inputs = graph_inputs(ctx)
        with enable_grad():
            out = reference(ctx, *inputs, **ctx.attrs)
        wrt = [x for x, p in zip(inputs, ctx.parents) if p is not None]
        grads = iter(local_vjp(out, wrt, grad))
        return tuple(next(grads) if p is not None else None for p in ctx.parents)

    return staticmethod(backward_graph)


def _unpack(cls, inputs):
    """The arrays of ``inputs``, which need a gradient, their device (general case of apply)."""
    arrays = []
    needs = []
    parents = []
    dev = None
    any_needs = False
    for t in inputs:
        if isinstance(t, Tensor):
            if t._is_view:
                _refresh_if_stale(t)
            arrays.append(t.data)
            if t._requires_grad:
                any_needs = True
                needs.append(True)
                parents.append(t)
            else:
                needs.append(False)
                parents.append(None)
            d = t._device
            if dev is None:
                dev = d
            elif d is not dev and d != dev:
                raise RuntimeError(
                    f"{cls.__name__}: expected all tensors to be on the same device, "
                    f"but found at least two devices, {dev} and {d}"
                )
        else:
            arrays.append(t)
            needs.append(False)
            parents.append(None)
    return arrays, tuple(needs), parents, dev or _cpu, any_needs


def _user_frame() -> str:
    """The first stack frame outside chainrule: where the user created a node."""
    import traceback

    for frame in reversed(traceback.extract_stack()[:-2]):
        if "/chainrule/" not in frame.filename.replace("\\", "/"):
            return (
                f'File "{frame.filename}", line {frame.lineno}, in {frame.name}\n    {frame.line}'
            )
    return "<unknown>"


def _check_finite(array, op: str, phase: str, ctx) -> None:
    xp = getattr(ctx, "xp", None)
    if xp is None:
        import numpy as xp
    if getattr(array, "dtype", None) is not None and array.dtype.kind == "f":
        if not bool(xp.isfinite(array).all()):
            where = f"\nThe op was created at:\n{ctx.created_at}" if ctx and ctx.created_at else ""
            raise RuntimeError(f"detect_anomaly: {op} produced NaN or Inf in {phase}.{where}")


from chainrule.backend import cpu as _cpu  # noqa: E402
from chainrule.tensor import Tensor, _refresh_if_stale  # noqa: E402

_new_context = object.__new__
