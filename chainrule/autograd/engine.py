"""The backward pass: one reverse walk over the recorded graph, applying the chain rule.

For every node in reverse topological order, the engine takes the gradient that reached the
node's output, asks the node's Function for the vector-Jacobian product with respect to each
input, sums that back to the input's shape (unbroadcast) and adds it to what the input has
already received (fan-out adds). Leaves keep their total in ``.grad``.
"""

from __future__ import annotations

from heapq import heappop, heappush

from chainrule.autograd.function import _anomaly_mode, _check_finite


def _topological_order(roots) -> list:
    """Tensors reachable from ``roots`` through recorded nodes, parents before children (for
    the learning tools that draw and name the graph; backward itself orders nodes by their
    creation numbers, see ``run_backward``).

    Iterative depth-first search: an unrolled RNN makes graphs far deeper than Python's
    recursion limit.
    """
    order = []
    visited = set()
    stack = [(r, False) for r in roots]
    while stack:
        t, done = stack.pop()
        if done:
            order.append(t)
            continue
        if id(t) in visited:
            continue
        visited.add(id(t))
        stack.append((t, True))
        ctx = t._ctx
        if ctx is not None:
            for p in ctx.parents:
                if p is not None and id(p) not in visited:
                    stack.append((p, False))
    return order


def unbroadcast(grad, shape, ctx):
    """Sum ``grad`` down to ``shape`` (undoing broadcasting); check the result's shape."""
    if grad.shape == shape:
        return grad
    ndim = len(shape)
    lead = grad.ndim - ndim
    if lead < 0:
        raise RuntimeError(
            f"{ctx.name()}: gradient of shape {tuple(grad.shape)} has fewer dimensions than "
            f"its input of shape {tuple(shape)}"
        )
    if lead:
        grad = grad.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if grad.shape != shape:
        raise RuntimeError(
            f"{ctx.name()}: gradient of shape {tuple(grad.shape)} does not match its input "
            f"of shape {tuple(shape)}"
        )
    return grad


_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or to use saved values after they "
    "were freed): {op} already ran its backward and released what it saved. "
    "Specify retain_graph=True on the first backward() or autograd.grad() call if you need "
    "to backward through the graph a second time."
)


def run_backward(roots, root_grads, retain_graph: bool = False, capture=None, on_node=None):
    """Propagate ``root_grads`` (arrays) from ``roots`` (Tensors) to every leaf.

    Without ``capture``, leaves accumulate into ``.grad`` (and tensors that called
    ``retain_grad()`` keep theirs). With ``capture`` (a set of tensor ids), nothing is written
    to ``.grad``; the gradients of those tensors are returned in a dict keyed by id.
    ``on_node(tensor, upstream, ctx, sent)``, if given, is called once per tensor reached, in
    processing order: ``ctx`` is None for leaves; ``sent`` lists ``(parent, gradient)`` for
    each parent that needs a gradient (after unbroadcasting; None where the op sent none).
    ``chainrule.edu.explain_backward`` records its trace through it.

    Order: a priority queue of the tensors that have received a gradient, newest node first
    (``ctx.seq``), leaves last. A node runs only after every node created later, so after all
    of its consumers: its gradient is complete when it runs. The walk and the backward are one
    pass; no separate topological sort is needed.
    """
    from chainrule.tensor import Tensor

    grads, heap = _seed(roots, root_grads)
    # A leaf may keep the gradient array it receives, without a copy, and a gradient may be
    # summed into in place on fan-in, only when nothing else can hold that array. Arrays
    # that others may hold are listed here by id: the caller's root gradients, hook inputs
    # and results, captured and on_node-recorded arrays, and an array a node hands to two
    # inputs (Add's backward returns (grad, grad)). A node passing on the array it received
    # passes its status on; views (``base`` set) are never written to either.
    shared = {id(g) for g in grads.values()}
    captured = {}
    anomaly = _anomaly_mode.get()
    while heap:
        t = heappop(heap)[2]
        g = grads.pop(id(t))
        if t._hooks:
            for hook in t._hooks.values():
                shared.add(id(g))  # the hook may keep it
                out = hook(Tensor._make(g, t._device))
                if out is not None:
                    g = out.data
                    shared.add(id(g))
        ctx = t._ctx
        if capture is not None:
            if id(t) in capture:
                captured[id(t)] = g
                shared.add(id(g))
        elif ctx is None:
            _accumulate(t, g, not retain_graph and g.base is None and id(g) not in shared)
        elif t._retains_grad:
            _accumulate(t, g)
        if ctx is None:
            if on_node is not None:
                on_node(t, g, None, None)
            continue
        if ctx.saved_tensors is None:
            raise RuntimeError(_FREED_MESSAGE.format(op=ctx.name()))
        versions = ctx._versions
        if versions:
            for saved, version in versions:
                if saved._version[0] != version:
                    _raise_modified(ctx, saved, version)
            if not retain_graph:
                ctx._versions = None
        parents = ctx.parents
        in_grads = ctx.fn.backward(ctx, g)
        if type(in_grads) is not tuple:
            in_grads = (in_grads,)
        elif len(in_grads) == 2:  # the common case of _note_shared, inline
            a, b = in_grads
            if a is b and a is not None and parents[0] is not None and parents[1] is not None:
                shared.add(id(a))
        elif len(in_grads) > 2:
            _note_shared(in_grads, parents, shared)
        if not retain_graph:
            ctx.saved_tensors = None  # frees the saved arrays; marks the node as run
        sent = [] if on_node is not None else None
        seq = ctx.seq
        for p, gi in zip(parents, in_grads):
            if p is None:
                continue
            if gi is None:
                if sent is not None:
                    sent.append((p, None))
                continue
            pctx = p._ctx
            if (pctx.seq > seq) if pctx is not None else not p._requires_grad:
                # p was changed in place after this node used it: its gradient belongs to the
                # value this node saw (see Tensor._set_node).
                p = _value_seen_by(p, seq)
                pctx = p._ctx
            if anomaly:
                _check_finite(gi, ctx.fn.__name__, "backward", ctx)
            pdata = p.data
            if gi.shape != pdata.shape:
                gi = unbroadcast(gi, pdata.shape, ctx)
            if gi.dtype is not pdata.dtype and gi.dtype != pdata.dtype:
                gi = gi.astype(pdata.dtype)
            key = id(p)
            if key in grads:
                total = grads[key]
                if total.base is None and id(total) not in shared and _writeable(total):
                    total += gi  # ours alone (see `shared`): no new array per fan-in
                else:
                    grads[key] = total + gi
            else:
                grads[key] = gi
                # Inline _push: this line runs once per edge of the graph.
                heappush(heap, (-pctx.seq if pctx is not None else 0, key, p))
            if sent is not None:
                sent.append((p, gi))
                shared.add(id(gi))  # the trace keeps it: never accumulate into it in place
        if on_node is not None:
            on_node(t, g, ctx, sent)
    return captured


def run_backward_graph(roots, root_grads, capture=None, stop_at_capture: bool = False):
    """``run_backward`` for ``create_graph=True``: the same walk, but every gradient is a Tensor
    computed by the node's ``backward_graph`` with recorded ops, so the gradients themselves
    can be differentiated (Hessian-vector products, gradient penalties, d(output)/d(input)
    terms in a loss). Saved values are kept (the graph is retained, as in PyTorch). With
    ``stop_at_capture`` the walk does not go past the captured tensors (a local VJP)."""
    from chainrule.autograd.function import enable_grad

    with enable_grad():
        grads, heap = _seed(roots, root_grads)
        captured = {}
        while heap:
            t = heappop(heap)[2]
            g = grads.pop(id(t))
            if t._hooks:
                for hook in t._hooks.values():
                    out = hook(g)
                    if out is not None:
                        g = out
            ctx = t._ctx
            if capture is not None:
                if id(t) in capture:
                    captured[id(t)] = g
                    if stop_at_capture:
                        continue
            elif ctx is None or t._retains_grad:
                t.grad = g if t.grad is None else t.grad + g
            if ctx is None:
                continue
            if ctx.saved_tensors is None:
                raise RuntimeError(_FREED_MESSAGE.format(op=ctx.name()))
            for saved, version in ctx._versions or ():
                if saved._version[0] != version:
                    _raise_modified(ctx, saved, version)
            if ctx.fn.backward_graph is None:
                raise RuntimeError(
                    f"backward with create_graph=True: {ctx.name()} has no differentiable "
                    "backward yet, so gradients through it cannot be differentiated again "
                    "(docs/architecture.md lists the ops that have one)"
                )
            in_grads = ctx.fn.backward_graph(ctx, g)
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            for p, gi in zip(ctx.parents, in_grads):
                if p is None or gi is None:
                    continue
                pctx = p._ctx
                if (pctx.seq > ctx.seq) if pctx is not None else not p._requires_grad:
                    p = _value_seen_by(p, ctx.seq)
                if tuple(gi.shape) != tuple(p.shape):
                    gi = _unbroadcast_tensor(gi, tuple(p.shape), ctx)
                if gi.dtype != p.dtype:
                    gi = gi.to(p.dtype)
                key = id(p)
                if key in grads:
                    grads[key] = grads[key] + gi
                else:
                    grads[key] = gi
                    _push(heap, p)
        return captured


def local_vjp(output, inputs, grad) -> list:
    """d(output)/d(input) . grad for each of ``inputs`` (None for one not used), recorded, and
    stopping at the inputs: the gradient each input receives from this output alone."""
    captured = run_backward_graph([output], [grad], {id(x) for x in inputs}, True)
    return [captured.get(id(x)) for x in inputs]


def _unbroadcast_tensor(grad, shape: tuple, ctx):
    """``unbroadcast`` with recorded ops (sums), for gradients that are Tensors."""
    lead = grad.ndim - len(shape)
    if lead < 0:
        raise RuntimeError(
            f"{ctx.name()}: gradient of shape {tuple(grad.shape)} has fewer dimensions than "
            f"its input of shape {shape}"
        )
    if lead:
        grad = grad.sum(tuple(range(lead)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axes, keepdim=True)
    if tuple(grad.shape) != shape:
        raise RuntimeError(
            f"{ctx.name()}: gradient of shape {tuple(grad.shape)} does not match its input "
            f"of shape {shape}"
        )
    return grad


def _writeable(a) -> bool:
    flags = a.flags
    return getattr(flags, "writeable", True)  # CuPy's flags have no such field


def _note_shared(in_grads: tuple, parents, shared: set) -> None:
    """Mark arrays that a backward handed to more than one input that needs a gradient."""
    seen = set()
    for p, gi in zip(parents, in_grads):
        if gi is not None and p is not None:
            if id(gi) in seen:
                shared.add(id(gi))
            seen.add(id(gi))


def _raise_modified(ctx, saved, version: int):
    """Refuse to run a node whose saved values were changed in place after it saved them."""
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified "
        f"by an inplace operation: {ctx.name()} saved a tensor of shape "
        f"{tuple(saved.shape)} at version {version}, and it is now at version "
        f"{saved._version[0]}. Use an out-of-place op (or .clone()) instead."
    )


def _seed(roots, root_grads) -> tuple[dict, list]:
    """The gradients that start a backward pass (summed for a root given twice), and the
    queue holding their tensors."""
    grads: dict = {}
    heap: list = []
    for r, g in zip(roots, root_grads):
        if id(r) in grads:
            grads[id(r)] = grads[id(r)] + g
        else:
            grads[id(r)] = g
            _push(heap, r)
    return grads, heap


def _push(heap: list, t) -> None:
    """Queue ``t``: nodes by decreasing creation number, then leaves (in any order)."""
    ctx = t._ctx
    # Leaves all get priority 0; the id (unique among live objects) breaks ties, so two
    # entries never compare their tensors.
    heappush(heap, (-ctx.seq if ctx is not None else 0, id(t), t))


def _value_seen_by(t, seq: int):
    """The stand-in for the value ``t`` had when node number ``seq`` was recorded."""
    while True:
        ctx = t._ctx
        if (ctx.seq < seq) if ctx is not None else t._requires_grad:
            return t
        before = t.__dict__.get("_before_inplace")
        if before is None:
            return t
        t = before


def _accumulate(t, g, fresh: bool = False) -> None:
    """Add ``g`` into ``t.grad``. Unless ``fresh`` (owned by nobody else), the first gradient
    is copied: gradient arrays can be shared between nodes (Add hands one array to both)."""
    from chainrule.tensor import Tensor

    if g.dtype != t.data.dtype:
        g = g.astype(t.data.dtype)
        fresh = True
    if t.grad is None:
        xp = t._device.xp
        t.grad = Tensor._make(g if fresh else xp.array(g, copy=True), t._device)
    else:
        t.grad = Tensor._make(t.grad.data + g, t._device)


def _root_grads(outputs, grad_outputs, who: str):
    from chainrule.tensor import Tensor

    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise RuntimeError(
                f"{who}: element {i} of tensors does not require grad and does not have a grad_fn"
            )
        if g is None:
            if out.data.size != 1:
                raise RuntimeError(
                    f"{who}: grad can be implicitly created only for scalar outputs "
                    f"(output {i} has shape {tuple(out.shape)}); pass gradient=..."
                )
            grads.append(out._device.xp.ones_like(out.data))
            continue
        garr = g.data if isinstance(g, Tensor) else out._device.xp.asarray(g, out.data.dtype)
        if garr.shape != out.data.shape:
            raise RuntimeError(
                f"{who}: Mismatch in shape: grad_output[{i}] has a shape of "
                f"{tuple(garr.shape)} and output[{i}] has a shape of {tuple(out.shape)}."
            )
        grads.append(garr)
    return grads


def _graph_root_grads(tensors, grad_tensors, who: str) -> list:
    """The root gradients as Tensors (a given Tensor keeps its graph, as in PyTorch)."""
    from chainrule.tensor import Tensor

    arrays = _root_grads(tensors, grad_tensors, who)
    return [
        g if isinstance(g, Tensor) else Tensor._make(a, t._device)
        for t, g, a in zip(tensors, grad_tensors, arrays)
    ]


def backward(
    tensors, grad_tensors=None, retain_graph: bool | None = None, create_graph: bool = False
) -> None:
    """Accumulate d(tensors)/d(leaf) . grad_tensors into every leaf's ``.grad``. With
    ``create_graph=True`` the gradients are recorded, so they can be differentiated again."""
    from chainrule.tensor import Tensor

    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors] * len(tensors)
    if create_graph:
        run_backward_graph(tensors, _graph_root_grads(tensors, grad_tensors, "backward"))
        return
    run_backward(tensors, _root_grads(tensors, grad_tensors, "backward"), bool(retain_graph))


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph: bool = False,
    allow_unused: bool = False,
):
    """The gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated).

    Args:
        outputs: a Tensor or a sequence of Tensors.
        inputs: a Tensor or a sequence of Tensors that ``outputs`` depend on.
        grad_outputs: the vector of the vector-Jacobian product (ones for scalar outputs).
        retain_graph: keep saved values for another backward (default: ``create_graph``).
        create_graph: record the gradient computation, so that the returned gradients can be
            differentiated again (second derivatives, Hessian-vector products).
        allow_unused: return None for an input the outputs do not depend on, instead of raising.
    """
    from chainrule.tensor import Tensor

    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    if create_graph:
        captured = run_backward_graph(
            outputs,
            _graph_root_grads(outputs, grad_outputs, "grad"),
            capture={id(x) for x in inputs},
        )
    else:
        captured = run_backward(
            outputs,
            _root_grads(outputs, grad_outputs, "grad"),
            bool(retain_graph),
            capture={id(x) for x in inputs},
        )
    result = []
    for i, x in enumerate(inputs):
        g = captured.get(id(x))
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {tuple(x.shape)}) was not used in the graph of the "
                    "outputs. Set allow_unused=True if this is the desired behavior."
                )
            result.append(None)
        elif isinstance(g, Tensor):  # create_graph: a recorded gradient
            result.append(g if g.dtype == x.dtype else g.to(x.dtype))
        else:
            if g.dtype != x.data.dtype:
                g = g.astype(x.data.dtype)
            result.append(Tensor._make(g, x._device))
    return tuple(result)
