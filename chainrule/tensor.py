"""Tensor: an array, plus what reverse-mode autodiff needs (grad, requires_grad, the node).

Methods and operators are one-line delegations to the functions in ``chainrule.ops``;
the maths lives there, next to each op's backward.
"""

from __future__ import annotations

import weakref

import numpy as np

from chainrule import dtypes
from chainrule.autograd.function import _grad_enabled
from chainrule.backend import Device, cpu, to_device, to_numpy
from chainrule.backend import device as _parse_device

_ndarray = np.ndarray


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    Build tensors with ``chainrule.tensor(data)``, ``zeros``, ``randn``... ``data`` is the
    underlying NumPy (or CuPy) array; ``grad`` receives d(loss)/d(self) after ``backward()``.
    """

    __slots__ = (
        "data",
        "grad",
        "_requires_grad",
        "_ctx",
        "_device",
        "_version",
        "_hooks",
        "_retains_grad",
        "_is_view",
        "__weakref__",
        "__dict__",
    )
    __array_priority__ = 1000  # numpy_array + tensor defers to Tensor.__radd__

    def __init__(self, data, dtype=None, device=None, requires_grad: bool = False):
        t = tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        self._init_from(t.data, t._device)
        self.requires_grad = requires_grad

    def _init_from(self, data, dev: Device) -> None:
        self.data = data
        self._device = dev
        self.grad = None
        self._requires_grad = False
        self._ctx = None
        self._version = [0]
        self._hooks = None
        self._retains_grad = False
        self._is_view = False

    @classmethod
    def _make(cls, data, dev: Device = cpu) -> Tensor:
        """Wrap an array without copying or checks (the fast path used by ops)."""
        if type(data) is not _ndarray and dev is cpu:
            data = np.asarray(data)
        t = object.__new__(Tensor)
        t.data = data
        t._device = dev
        t.grad = None
        t._requires_grad = False
        t._ctx = None
        t._version = [0]
        t._hooks = None
        t._retains_grad = False
        t._is_view = False
        return t

    # ---------------------------------------------------------------- attributes
    @property
    def requires_grad(self) -> bool:
        if self._is_view:
            _refresh_if_stale(self)  # a view's base may have joined a graph in place since
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if value and self.data.dtype.kind != "f":
            raise RuntimeError(
                "only Tensors of floating point dtype can require gradients, "
                f"got dtype {self.dtype}"
            )
        if not value and self._ctx is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        self._requires_grad = value

    @property
    def shape(self) -> tuple:
        return Size(self.data.shape)

    @property
    def dtype(self) -> dtypes.DType:
        return dtypes.from_numpy(self.data.dtype)

    @property
    def device(self) -> Device:
        return self._device

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def dim(self) -> int:
        return self.data.ndim

    def size(self, dim: int | None = None):
        """The shape, or the length of one dimension."""
        if dim is None:
            return Size(self.data.shape)
        return self.data.shape[_normalize_dim(dim, self.data.ndim, "size")]

    def numel(self) -> int:
        return int(self.data.size)

    def element_size(self) -> int:
        return self.data.itemsize

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return bool(self.data.flags.c_contiguous)

    def stride(self, dim: int | None = None):
        strides = tuple(s // self.data.itemsize for s in self.data.strides)
        return strides if dim is None else strides[dim]

    @property
    def grad_fn(self):
        """The node that created this tensor (None for leaves), e.g. ``<MulBackward object>``."""
        if self._is_view:
            _refresh_if_stale(self)
        return self._ctx

    @property
    def is_leaf(self) -> bool:
        """True for tensors not created by a recorded op (user-made, or not requiring grad)."""
        return self.grad_fn is None

    @property
    def _version_number(self) -> int:
        return self._version[0]

    # ---------------------------------------------------------------- conversion
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self.data.size} elements cannot be converted to a Python scalar"
            )
        return to_numpy(self.data).reshape(()).item()

    def tolist(self):
        return to_numpy(self.data).tolist()

    def numpy(self, force: bool = False) -> np.ndarray:
        """The values as a NumPy array (shares memory on the CPU)."""
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return to_numpy(self.data)

    def __array__(self, dtype=None, copy=None):
        arr = to_numpy(self.data)
        return arr if dtype is None else arr.astype(dtype)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self.data.size} elements is ambiguous"
            )
        return bool(self.item())

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(_ops.unbind(self, 0))

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return _format_tensor(self)

    def __reduce__(self):  # pickling (multiprocessing workers): values only
        return (_rebuild, (to_numpy(self.data), str(self._device), self._requires_grad))

    def __deepcopy__(self, memo):
        if self._ctx is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support deepcopy"
            )
        t = type(self).__new__(type(self))
        Tensor._init_from(t, self.data.copy(), self._device)
        t._requires_grad = self._requires_grad
        if self.grad is not None:
            t.grad = Tensor._make(self.grad.data.copy(), self._device)
        for k, v in getattr(self, "__dict__", {}).items():
            t.__dict__[k] = v
        memo[id(self)] = t
        return t

    # ---------------------------------------------------------------- dtype and device
    def to(self, *args, **kwargs) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``; differentiable."""
        dev, dt = None, None
        for a in list(args) + list(kwargs.values()):
            if isinstance(a, Tensor):
                dev, dt = a._device, a.dtype
            elif isinstance(a, dtypes.DType | np.dtype | type):
                dt = dtypes.get(a)
            elif isinstance(a, str | Device):
                dev = _parse_device(a)
            elif a is not None and not isinstance(a, bool):
                raise TypeError(f"to(): unexpected argument {a!r}")
        out = self
        if dt is not None and dt.np != out.data.dtype:
            out = _ops.cast(out, dt)
        if dev is not None and dev != out._device:
            out = _ops.to_device(out, dev)
        return out

    def type(self, dtype=None):
        if dtype is None:
            return f"chainrule.{self.dtype.name}"
        return self.to(dtypes.get(dtype))

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def half(self) -> Tensor:
        return self.to(dtypes.float16)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool_)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device=None) -> Tensor:
        return self.to(device if device is not None else "cuda")

    # ---------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) (times ``gradient``) into the ``.grad`` of every leaf;
        with ``create_graph=True`` the gradients are recorded (differentiable again)."""
        from chainrule.autograd.engine import backward

        backward(self, gradient, retain_graph, create_graph)

    def detach(self) -> Tensor:
        """The same values (shared memory), cut from the graph."""
        t = Tensor._make(self.data, self._device)
        t._version = self._version
        return t

    def detach_(self) -> Tensor:
        """Cut self from the graph in place; nodes recorded before keep their path through
        its old node (see ``_set_node``)."""
        if self._is_view and _view_root(self) is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._set_node(None)
        self._requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._ctx is not None:
            self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle with ``remove()``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._hooks is None:
            self._hooks = {}
        handle = RemovableHandle(self._hooks)
        self._hooks[handle.id] = hook
        return handle

    # ---------------------------------------------------------------- in-place helpers
    def _check_inplace(self, op: str) -> None:
        if self._requires_grad and self._ctx is None and _grad_enabled.get():
            raise RuntimeError(
                f"{op}: a leaf Variable that requires grad is being used in an in-place "
                "operation. Wrap it in `with chainrule.no_grad():` or use an out-of-place op."
            )

    def _inplace_result(self, result: Tensor, op: str) -> Tensor:
        """Write ``result`` into self's memory; self takes over result's place in the graph."""
        self._check_inplace(op)
        value = result.data
        kind, into = value.dtype.kind, self.data.dtype.kind
        if (kind == "f" and into in "iub") or (kind in "iu" and into == "b"):
            # PyTorch refuses to write floats into an integer tensor (or numbers into a bool
            # one) in place rather than truncate them silently.
            raise RuntimeError(
                f"{op}: result type {result.dtype} can't be cast to the desired output type "
                f"{self.dtype}"
            )
        if value.shape != self.data.shape:
            raise RuntimeError(
                f"{op}: the result of shape {tuple(value.shape)} cannot be written in place into "
                f"a tensor of shape {tuple(self.data.shape)}"
            )
        recording = _grad_enabled.get()
        if self._is_view and recording:
            root = _view_root(self)
            if root is not None and (result._requires_grad or root._requires_grad):
                return _ops.views.write_through_view(self, result, op)
        self._device.xp.copyto(self.data, value, casting="unsafe")
        self._version[0] += 1
        if result._requires_grad:
            # result's node has the old self as parent; rebinding keeps the graph correct.
            self._set_node(result._ctx)
            self._requires_grad = True
        elif recording and self._ctx is not None:
            # Overwritten with values that need no gradient (copy_ of a constant): self's
            # history no longer matters for what it holds now.
            self._set_node(None)
            self._requires_grad = False
        return self

    def _mark_view(self, base: Tensor) -> Tensor:
        """Record that self's array is a view into ``base``'s memory: both share the version
        counter, and self remembers its root (the tensor at the start of the chain of views)
        and the root's node now, so that an in-place change of either one can be followed in
        the graph (``chainrule.ops.views``)."""
        self._version = base._version
        self._is_view = True
        root = _view_root(base) if base._is_view else None
        if root is None:
            root = base
        # NOTE: a weak reference and the node's number, not the node: a view kept for logging
        # must not keep the root's graph alive.
        self.__dict__["_view_root"] = weakref.ref(root)
        self.__dict__["_root_seq"] = _node_number(root)
        return self

    def _set_node(self, ctx) -> None:
        """Give self a new node (or none), keeping the old one reachable for earlier users.

        Nodes recorded before an in-place op hold self as a parent but used its old value;
        the engine (``_value_seen_by``) follows ``_before_inplace`` back to a stand-in that
        has the old node. The snapshot taken for the op is that stand-in when there is one.
        """
        d = self.__dict__
        old = self._ctx
        if old is not None:
            before = d.pop("_snapshot", None)
            if before is None or before._ctx is not old:
                before = Tensor._make(self.data, self._device)
                before._requires_grad = True
                before._ctx = old
            if "_before_inplace" in d:
                before.__dict__["_before_inplace"] = d["_before_inplace"]
            d["_before_inplace"] = before
            # Hooks registered so far belong to the old value (as in PyTorch): they see the
            # gradient with respect to it, which the stand-in receives.
            before._hooks, self._hooks = self._hooks, None
        self._ctx = ctx

    def _snapshot(self, *others) -> Tensor:
        """A tensor standing for self's current value in the graph of an in-place op.

        When a gradient will be recorded, the old value is copied: the op may save it for
        backward (``y.mul_(x)`` needs the old y for x's gradient) and the in-place write is
        about to overwrite self's memory. Otherwise it shares memory (optimizer updates).
        """
        if self._is_view:
            _refresh_if_stale(self)
        recording = _grad_enabled.get() and (
            self._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others)
        )
        t = Tensor._make(self.data.copy() if recording else self.data, self._device)
        t._requires_grad = self._requires_grad
        t._ctx = self._ctx
        if not recording:
            t._version = self._version
        elif t._ctx is not None:
            self.__dict__["_snapshot"] = t  # the stand-in for the old value (see _set_node)
        return t

    # ---------------------------------------------------------------- operators
    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.sub(self, other)

    def __rsub__(self, other):
        return _ops.sub(other, self)

    def __mul__(self, other):
        return _ops.mul(self, other)

    def __rmul__(self, other):
        return _ops.mul(other, self)

    def __truediv__(self, other):
        return _ops.div(self, other)

    def __rtruediv__(self, other):
        return _ops.div(other, self)

    def __floordiv__(self, other):
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ops.floor_divide(other, self)

    def __mod__(self, other):
        return _ops.remainder(self, other)

    def __rmod__(self, other):
        return _ops.remainder(other, self)

    def __pow__(self, other):
        return _ops.pow(self, other)

    def __rpow__(self, other):
        return _ops.pow(other, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __neg__(self):
        return _ops.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __eq__(self, other):  # noqa: D105 - elementwise, as in PyTorch
        return _ops.eq(self, other)

    def __ne__(self, other):
        return _ops.ne(self, other)

    def __lt__(self, other):
        return _ops.lt(self, other)

    def __le__(self, other):
        return _ops.le(self, other)

    def __gt__(self, other):
        return _ops.gt(self, other)

    def __ge__(self, other):
        return _ops.ge(self, other)

    def __and__(self, other):
        return _ops.bitwise_and(self, other)

    def __rand__(self, other):
        return _ops.bitwise_and(other, self)

    def __or__(self, other):
        return _ops.bitwise_or(self, other)

    def __ror__(self, other):
        return _ops.bitwise_or(other, self)

    def __xor__(self, other):
        return _ops.bitwise_xor(self, other)

    def __rxor__(self, other):
        return _ops.bitwise_xor(other, self)

    def __invert__(self):
        return _ops.bitwise_not(self)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    def __setitem__(self, index, value):
        _ops.setitem_(self, index, value)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    # ---------------------------------------------------------------- shapes
    @property
    def T(self):  # noqa: N802 - PyTorch's name
        return _ops.permute(self, tuple(range(self.data.ndim - 1, -1, -1)))

    @property
    def mT(self):  # noqa: N802
        return _ops.transpose(self, -2, -1)

    def reshape(self, *shape):
        return _ops.reshape(self, _shape_args(shape))

    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], dtypes.DType):
            raise NotImplementedError("view(dtype) reinterpretation is not supported; use .to()")
        return _ops.reshape(self, _shape_args(shape))

    def view_as(self, other):
        return _ops.reshape(self, other.shape)

    def reshape_as(self, other):
        return _ops.reshape(self, other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        return _ops.flatten(self, start_dim, end_dim)

    def unflatten(self, dim: int, sizes):
        return _ops.unflatten(self, dim, sizes)

    def squeeze(self, dim=None):
        return _ops.squeeze(self, dim)

    def unsqueeze(self, dim: int):
        return _ops.unsqueeze(self, dim)

    def transpose(self, dim0: int, dim1: int):
        return _ops.transpose(self, dim0, dim1)

    def swapaxes(self, dim0: int, dim1: int):
        return _ops.transpose(self, dim0, dim1)

    def t(self):
        if self.data.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, got {self.data.ndim}")
        return _ops.permute(self, tuple(range(self.data.ndim - 1, -1, -1)))

    def permute(self, *dims):
        return _ops.permute(self, _shape_args(dims))

    def movedim(self, source, destination):
        return _ops.movedim(self, source, destination)

    def narrow(self, dim: int, start: int, length: int):
        return _ops.narrow(self, dim, start, length)

    def select(self, dim: int, index: int):
        return _ops.select(self, dim, index)

    def take(self, index):
        return _ops.take(self, index)

    def masked_select(self, mask):
        return _ops.masked_select(self, mask)

    def broadcast_to(self, *shape):
        return _ops.broadcast_to(self, _shape_args(shape))

    def repeat_interleave(self, repeats, dim=None):
        return _ops.repeat_interleave(self, repeats, dim)

    def fliplr(self):
        return _ops.fliplr(self)

    def unfold(self, dimension: int, size: int, step: int):
        """Sliding windows along ``dimension`` as a new last dim (see ops.unfold_windows)."""
        return _ops.movement.unfold_windows(self, dimension, size, step)

    def flipud(self):
        return _ops.flipud(self)

    # ---------------------------------------------------------------- sorting and searching
    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        return _ops.sort(self, dim, descending, stable)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        return _ops.argsort(self, dim, descending, stable)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
        return _ops.topk(self, k, dim, largest, sorted)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
        return _ops.unique(self, sorted, return_inverse, return_counts, dim)

    def nonzero(self, as_tuple: bool = False):
        return _ops.nonzero(self, as_tuple)

    def count_nonzero(self, dim=None):
        return _ops.count_nonzero(self, dim)

    # ---------------------------------------------------------------- linear algebra extras
    def diag(self, diagonal: int = 0):
        return _ops.diag(self, diagonal)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1):
        return _ops.diagonal(self, offset, dim1, dim2)

    def trace(self):
        return _ops.trace(self)

    def mv(self, vec):
        return _ops.mv(self, vec)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return _ops.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def expand(self, *sizes):
        return _ops.expand(self, _shape_args(sizes))

    def expand_as(self, other):
        return _ops.expand(self, other.shape)

    def repeat(self, *sizes):
        return _ops.repeat(self, _shape_args(sizes))

    def tile(self, *dims):
        return _ops.tile(self, _shape_args(dims))

    def split(self, split_size_or_sections, dim: int = 0):
        return _ops.split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0):
        return _ops.chunk(self, chunks, dim)

    def unbind(self, dim: int = 0):
        return _ops.unbind(self, dim)

    def flip(self, *dims):
        return _ops.flip(self, _shape_args(dims))

    def roll(self, shifts, dims=None):
        return _ops.roll(self, shifts, dims)

    def tril(self, diagonal: int = 0):
        return _ops.tril(self, diagonal)

    def triu(self, diagonal: int = 0):
        return _ops.triu(self, diagonal)

    def contiguous(self):
        return _ops.contiguous(self)

    def clone(self):
        return _ops.clone(self)

    # ---------------------------------------------------------------- math
    def add(self, other, alpha=1):
        return _ops.add(self, other if alpha == 1 else _ops.mul(other, alpha))

    def sub(self, other, alpha=1):
        return _ops.sub(self, other if alpha == 1 else _ops.mul(other, alpha))

    def mul(self, other):
        return _ops.mul(self, other)

    def div(self, other, rounding_mode=None):
        return _ops.div(self, other, rounding_mode=rounding_mode)

    def pow(self, exponent):
        return _ops.pow(self, exponent)

    def matmul(self, other):
        return _ops.matmul(self, other)

    def mm(self, other):
        return _ops.mm(self, other)

    def bmm(self, other):
        return _ops.bmm(self, other)

    def dot(self, other):
        return _ops.dot(self, other)

    def outer(self, other):
        return _ops.outer(self, other)

    def neg(self):
        return _ops.neg(self)

    def exp(self):
        return _ops.exp(self)

    def log(self):
        return _ops.log(self)

    def log1p(self):
        return _ops.log1p(self)

    def expm1(self):
        return _ops.expm1(self)

    def log2(self):
        return _ops.log2(self)

    def log10(self):
        return _ops.log10(self)

    def sqrt(self):
        return _ops.sqrt(self)

    def rsqrt(self):
        return _ops.rsqrt(self)

    def square(self):
        return _ops.square(self)

    def sin(self):
        return _ops.sin(self)

    def cos(self):
        return _ops.cos(self)

    def tanh(self):
        return _ops.tanh(self)

    def tan(self):
        return _ops.tan(self)

    def asin(self):
        return _ops.asin(self)

    def acos(self):
        return _ops.acos(self)

    def atan(self):
        return _ops.atan(self)

    def atan2(self, other):
        return _ops.atan2(self, other)

    arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2

    def sinh(self):
        return _ops.sinh(self)

    def cosh(self):
        return _ops.cosh(self)

    def erf(self):
        return _ops.erf(self)

    def erfinv(self):
        return _ops.erfinv(self)

    def nan_to_num(self, nan: float = 0.0, posinf=None, neginf=None):
        return _ops.nan_to_num(self, nan, posinf, neginf)

    def isclose(self, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False):
        return _ops.isclose(self, other, rtol, atol, equal_nan)

    def absolute(self):
        return _ops.abs(self)

    def negative(self):
        return _ops.neg(self)

    def floor_divide(self, other):
        return _ops.floor_divide(self, other)

    def remainder(self, other):
        return _ops.remainder(self, other)

    def true_divide(self, other):
        return _ops.div(self, other)

    def nelement(self) -> int:
        return int(self.data.size)

    def sgn(self):
        return _ops.sgn(self)

    def frac(self):
        return _ops.frac(self)

    def fmod(self, other):
        return _ops.fmod(self, other)

    def addcmul(self, tensor1, tensor2, *, value=1):
        return _ops.addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1, tensor2, *, value=1):
        return _ops.addcdiv(self, tensor1, tensor2, value=value)

    def deg2rad(self):
        return _ops.deg2rad(self)

    def cumprod(self, dim: int, *, dtype=None):
        return _ops.cumprod(self, dim, dtype=dtype)

    def nansum(self, dim=None, keepdim: bool = False):
        return _ops.nansum(self, dim, keepdim)

    def nanmean(self, dim=None, keepdim: bool = False):
        return _ops.nanmean(self, dim, keepdim)

    def median(self, dim=None, keepdim: bool = False):
        return _ops.median(self, dim, keepdim)

    def nanmedian(self, dim=None, keepdim: bool = False):
        return _ops.nanmedian(self, dim, keepdim)

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False):
        return _ops.kthvalue(self, k, dim, keepdim)

    def argwhere(self):
        return _ops.argwhere(self)

    def inverse(self):
        return _ops.inverse(self)

    def cross(self, other, dim: int = -1):
        return _ops.cross(self, other, dim)

    def byte(self):
        return self.to(dtypes.uint8)

    def bernoulli(self, generator=None):
        from chainrule.creation import bernoulli

        return bernoulli(self, generator=generator)

    def multinomial(self, num_samples: int, replacement: bool = False, *, generator=None):
        from chainrule.creation import multinomial

        return multinomial(self, num_samples, replacement, generator=generator)

    def _unary_(self, op, name: str):
        """self = op(self) in place (recorded like any in-place op)."""
        return self._inplace_result(op(self._snapshot()), name)

    def exp_(self):
        return self._unary_(_ops.exp, "exp_")

    def log_(self):
        return self._unary_(_ops.log, "log_")

    def sqrt_(self):
        return self._unary_(_ops.sqrt, "sqrt_")

    def abs_(self):
        return self._unary_(_ops.abs, "abs_")

    def neg_(self):
        return self._unary_(_ops.neg, "neg_")

    def sigmoid_(self):
        return self._unary_(_ops.sigmoid, "sigmoid_")

    def tanh_(self):
        return self._unary_(_ops.tanh, "tanh_")

    def relu_(self):
        return self._unary_(_ops.relu, "relu_")

    def clamp_min(self, min):  # noqa: A002
        return _ops.clamp(self, min=min)

    def clamp_max(self, max):  # noqa: A002
        return _ops.clamp(self, max=max)

    def logical_xor(self, other):
        return _ops.logical_xor(self, other)

    def bitwise_and(self, other):
        return _ops.bitwise_and(self, other)

    def bernoulli_(self, p: float = 0.5, generator=None):
        """Fill with 1 (probability p) or 0, in place."""
        from chainrule.random import rng

        values = rng(generator).random(self.data.shape) < p
        return self._fill_random(values, "bernoulli_")

    def exponential_(self, lambd: float = 1.0, generator=None):
        """Fill with samples of the exponential distribution of rate ``lambd``, in place."""
        from chainrule.random import rng

        return self._fill_random(
            rng(generator).exponential(1.0 / lambd, self.data.shape), "exponential_"
        )

    def geometric_(self, p: float, generator=None):
        """Fill with the number of Bernoulli(p) trials up to the first success, in place."""
        from chainrule.random import rng

        return self._fill_random(rng(generator).geometric(p, self.data.shape), "geometric_")

    def random_(self, from_: int = 0, to: int | None = None, generator=None):
        """Fill with integers uniform in [from_, to) (one argument: [0, from_)), in place."""
        from chainrule.random import rng

        if to is None:
            if from_ == 0:
                raise RuntimeError(
                    "random_: give an upper bound (random_(to) or random_(from, to))"
                )
            from_, to = 0, from_
        return self._fill_random(rng(generator).integers(from_, to, self.data.shape), "random_")

    def scatter_(self, dim: int, index, src):
        return self._inplace_result(_ops.scatter(self._snapshot(src), dim, index, src), "scatter_")

    def index_add(self, dim: int, index, source, *, alpha=1):
        return _ops.index_add(self, dim, index, source, alpha=alpha)

    def index_add_(self, dim: int, index, source, *, alpha=1):
        snap = self._snapshot(source)
        return self._inplace_result(
            _ops.index_add(snap, dim, index, source, alpha=alpha), "index_add_"
        )

    def index_fill_(self, dim: int, index, value):
        """Set the slices ``index`` along ``dim`` to ``value`` in place."""
        d = _normalize_dim(dim, self.ndim, "index_fill_")
        idx = index if isinstance(index, Tensor) else tensor(index)
        self[(slice(None),) * d + (idx,)] = value
        return self

    def fill_diagonal_(self, fill_value, wrap: bool = False):
        """Set the main diagonal (every dim the same index) to ``fill_value`` in place; for a
        tall 2-D matrix, ``wrap`` restarts the diagonal every (cols + 1) rows."""
        if self.ndim < 2:
            raise RuntimeError("dimensions must larger than 1")
        if self.ndim > 2 and len(set(self.shape)) != 1:
            raise RuntimeError("all dimensions of input must be of equal length")
        xp = self._device.xp
        n = min(self.shape)
        if self.ndim == 2 and wrap and self.shape[0] > self.shape[1] + 1:
            cols = self.shape[1]
            rows = xp.arange(self.shape[0])
            rows = rows[(rows % (cols + 1)) < cols]
            idx = (Tensor._make(rows, self._device), Tensor._make(rows % (cols + 1), self._device))
        else:
            i = Tensor._make(xp.arange(n), self._device)
            idx = (i,) * self.ndim
        self[idx] = fill_value
        return self

    def diff(self, n: int = 1, dim: int = -1, prepend=None, append=None):
        return _ops.diff(self, n, dim, prepend, append)

    def histc(self, bins: int = 100, min: float = 0, max: float = 0):  # noqa: A002
        return _ops.histc(self, bins, min, max)

    def data_ptr(self) -> int:
        """The address of the first element (NumPy: ctypes.data; CuPy: data.ptr)."""
        d = self.data
        return int(d.ctypes.data) if isinstance(d, np.ndarray) else int(d.data.ptr)

    def scatter_add_(self, dim: int, index, src):
        snap = self._snapshot(src)
        return self._inplace_result(_ops.scatter_add(snap, dim, index, src), "scatter_add_")

    def type_as(self, other: Tensor) -> Tensor:
        """self converted to ``other``'s dtype."""
        return self.to(other.dtype)

    # ---------------------------------------------------------------- new tensors like self
    def new_zeros(self, *size, dtype=None, device=None, requires_grad: bool = False):
        return self._new("zeros", size, None, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad: bool = False):
        return self._new("ones", size, None, dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad: bool = False):
        return self._new("zeros", size, None, dtype, device, requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad: bool = False):
        return self._new("full", (size,), fill_value, dtype, device, requires_grad)

    def new_tensor(self, data, dtype=None, device=None, requires_grad: bool = False):
        """A new tensor from ``data`` with self's dtype and device unless given."""
        return tensor(
            data,
            dtype=dtype or self.dtype,
            device=device or self._device,
            requires_grad=requires_grad,
        )

    def _new(self, kind, size, fill_value, dtype, device, requires_grad) -> Tensor:
        """A tensor of ``size`` filled like ``kind``, with self's dtype and device by default."""
        from chainrule import creation

        shape = _shape_args(size)
        kw = {"dtype": dtype or self.dtype, "device": device or self._device}
        if kind == "full":
            out = creation.full(shape, fill_value, **kw)
        else:
            out = getattr(creation, kind)(shape, **kw)
        out.requires_grad = requires_grad
        return out

    def sigmoid(self):
        return _ops.sigmoid(self)

    def relu(self):
        return _ops.relu(self)

    def abs(self):
        return _ops.abs(self)

    def sign(self):
        return _ops.sign(self)

    def floor(self):
        return _ops.floor(self)

    def ceil(self):
        return _ops.ceil(self)

    def round(self, decimals: int = 0):
        return _ops.round(self, decimals)

    def trunc(self):
        return _ops.trunc(self)

    def reciprocal(self):
        return _ops.reciprocal(self)

    def clamp(self, min=None, max=None):  # noqa: A002 - PyTorch's argument names
        return _ops.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return _ops.maximum(self, other)

    def minimum(self, other):
        return _ops.minimum(self, other)

    def lerp(self, end, weight):
        return _ops.lerp(self, end, weight)

    def where(self, condition, other):
        return _ops.where(condition, self, other)

    def masked_fill(self, mask, value):
        return _ops.masked_fill(self, mask, value)

    def isnan(self):
        return _ops.isnan(self)

    def isinf(self):
        return _ops.isinf(self)

    def isfinite(self):
        return _ops.isfinite(self)

    def logical_not(self):
        return _ops.logical_not(self)

    def logical_and(self, other):
        return _ops.logical_and(self, other)

    def logical_or(self, other):
        return _ops.logical_or(self, other)

    def eq(self, other):
        return _ops.eq(self, other)

    def ne(self, other):
        return _ops.ne(self, other)

    def lt(self, other):
        return _ops.lt(self, other)

    def le(self, other):
        return _ops.le(self, other)

    def gt(self, other):
        return _ops.gt(self, other)

    def ge(self, other):
        return _ops.ge(self, other)

    def equal(self, other) -> bool:
        return self.shape == other.shape and bool((self == other).all())

    def allclose(self, other, rtol=1e-5, atol=1e-8, equal_nan=False) -> bool:
        return bool(np.allclose(to_numpy(self.data), to_numpy(other.data), rtol, atol, equal_nan))

    # ---------------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim: bool = False, dtype=None):
        return _ops.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim: bool = False):
        return _ops.mean(self, dim, keepdim)

    def prod(self, dim=None, keepdim: bool = False):
        return _ops.prod(self, dim, keepdim)

    def var(self, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
        return _ops.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
        return _ops.std(self, dim, unbiased, keepdim, correction=correction)

    def max(self, dim=None, keepdim: bool = False):
        return _ops.max(self, dim, keepdim)

    def min(self, dim=None, keepdim: bool = False):
        return _ops.min(self, dim, keepdim)

    def amax(self, dim=None, keepdim: bool = False):
        return _ops.amax(self, dim, keepdim)

    def amin(self, dim=None, keepdim: bool = False):
        return _ops.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim: bool = False):
        return _ops.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim: bool = False):
        return _ops.argmin(self, dim, keepdim)

    def logsumexp(self, dim, keepdim: bool = False):
        return _ops.logsumexp(self, dim, keepdim)

    def norm(self, p=2, dim=None, keepdim: bool = False):
        return _ops.norm(self, p, dim, keepdim)

    def cumsum(self, dim: int):
        return _ops.cumsum(self, dim)

    def all(self, dim=None, keepdim: bool = False):
        return _ops.all(self, dim, keepdim)

    def any(self, dim=None, keepdim: bool = False):
        return _ops.any(self, dim, keepdim)

    def softmax(self, dim: int):
        return _ops.softmax(self, dim)

    def log_softmax(self, dim: int):
        return _ops.log_softmax(self, dim)

    # ---------------------------------------------------------------- indexing
    def gather(self, dim: int, index):
        return _ops.gather(self, dim, index)

    def scatter(self, dim: int, index, src):
        return _ops.scatter(self, dim, index, src)

    def scatter_add(self, dim: int, index, src):
        return _ops.scatter_add(self, dim, index, src)

    def index_select(self, dim: int, index):
        return _ops.index_select(self, dim, index)

    def take_along_dim(self, indices, dim=None):
        return _ops.take_along_dim(self, indices, dim)

    # ---------------------------------------------------------------- in-place
    def add_(self, other, alpha=1):
        return self._inplace_result(self._snapshot(other).add(other, alpha), "add_")

    def sub_(self, other, alpha=1):
        return self._inplace_result(self._snapshot(other).sub(other, alpha), "sub_")

    def mul_(self, other):
        return self._inplace_result(_ops.mul(self._snapshot(other), other), "mul_")

    def div_(self, other):
        return self._inplace_result(_ops.div(self._snapshot(other), other), "div_")

    def pow_(self, exponent):
        return self._inplace_result(_ops.pow(self._snapshot(exponent), exponent), "pow_")

    def clamp_(self, min=None, max=None):  # noqa: A002
        return self._inplace_result(_ops.clamp(self._snapshot(min, max), min, max), "clamp_")

    clip_ = clamp_

    def masked_fill_(self, mask, value):
        return self._inplace_result(
            _ops.masked_fill(self._snapshot(value), mask, value), "masked_fill_"
        )

    def copy_(self, src):
        """Copy ``src``'s values into self (broadcasting); differentiable with respect to src."""
        src = src if isinstance(src, Tensor) else tensor(src, device=self._device)
        out = _ops.expand(_ops.cast(src, self.dtype), self.shape)
        if src._device != self._device:
            out = _ops.to_device(out, self._device)
        return self._inplace_result(out, "copy_")

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        self._check_inplace("fill_")
        if isinstance(value, Tensor) and value._requires_grad:
            return self.copy_(value)
        value = value.data if isinstance(value, Tensor) else value
        if self._is_view and _grad_enabled.get():
            root = _view_root(self)
            if root is not None and root._requires_grad:  # the root's graph must see it
                filled = self._device.xp.full(self.data.shape, value, self.data.dtype)
                return self._inplace_result(Tensor._make(filled, self._device), "fill_")
        self.data[...] = value
        self._version[0] += 1
        if self._ctx is not None and _grad_enabled.get():
            # Overwriting every element of a non-leaf with a constant cuts its history.
            self._set_node(None)
            self._requires_grad = False
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator=None):
        from chainrule.random import rng

        return self._fill_random(rng(generator).uniform(a, b, self.data.shape), "uniform_")

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator=None):
        from chainrule.random import rng

        return self._fill_random(rng(generator).normal(mean, std, self.data.shape), "normal_")

    def _fill_random(self, values: np.ndarray, op: str):
        self._check_inplace(op)
        self.data[...] = to_device(values.astype(self.data.dtype), self._device)
        self._version[0] += 1
        return self


class Size(tuple):
    """A shape: a tuple of ints that prints like PyTorch's ``torch.Size``."""

    def __repr__(self) -> str:
        return f"chainrule.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


class RemovableHandle:
    """Returned by ``register_*hook``: ``handle.remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict):
        self.hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _rebuild(array, device_str, requires_grad):
    t = tensor(array, device=device_str)
    t.requires_grad = requires_grad
    return t


def _shape_args(args) -> tuple:
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` alike."""
    if len(args) == 1 and isinstance(args[0], tuple | list | Size):
        return tuple(args[0])
    return tuple(args)


def _normalize_dim(dim: int, ndim: int, op: str) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
            f"but got {dim})"
        )
    return dim % n


# ---------------------------------------------------------------- creation
def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (list, scalar, NumPy array or Tensor).

    Python floats give float32, Python ints int64, bools bool; a NumPy array keeps its dtype.

    Example:
        >>> chainrule.tensor([[1.0, 2.0]], requires_grad=True)
        tensor([[1., 2.]], requires_grad=True)
    """
    dev = _parse_device(device) if device is not None else None
    if isinstance(data, Tensor):
        arr = to_numpy(data.data)
        dev = dev or data._device
        dt = dtypes.get(dtype) if dtype is not None else data.dtype
    elif isinstance(data, np.ndarray | np.generic):
        arr = data
        dt = dtypes.get(dtype) if dtype is not None else dtypes.from_numpy(arr.dtype)
    elif hasattr(data, "__cuda_array_interface__"):
        arr = data
        dev = dev or _parse_device(f"cuda:{data.device.id}")
        dt = dtypes.get(dtype) if dtype is not None else dtypes.from_numpy(arr.dtype)
    else:
        if isinstance(data, list | tuple) and any(isinstance(x, Tensor) for x in _flat(data)):
            data = _nested_to_numpy(data)
        dt = dtypes.get(dtype) if dtype is not None else dtypes.infer(data)
        arr = data
    dev = dev or cpu
    arr = (
        dev.xp.array(arr, dtype=dt.np, copy=True)
        if dev.type == "cuda"
        else np.array(arr, dtype=dt.np, copy=True)
    )
    t = Tensor._make(arr, dev)
    if requires_grad:
        t.requires_grad = True
    return t


def _flat(data):
    for x in data:
        if isinstance(x, list | tuple):
            yield from _flat(x)
        else:
            yield x


def _nested_to_numpy(data):
    if isinstance(data, Tensor):
        return to_numpy(data.data)
    if isinstance(data, list | tuple):
        return [_nested_to_numpy(x) for x in data]
    return data


# ---------------------------------------------------------------- printing
def _format_tensor(t: Tensor) -> str:
    arr = to_numpy(t.data)
    body = _format_array(arr)
    extras = []
    if t._device.type != "cpu":
        extras.append(f"device='{t._device}'")
    default_dtypes = (np.float32, np.int64, np.bool_)
    if arr.dtype not in default_dtypes or (arr.size == 0 and arr.dtype != np.float32):
        extras.append(f"dtype=chainrule.{t.dtype.name}")
    if arr.size == 0 and arr.ndim != 1:
        extras.insert(0, f"size={tuple(arr.shape)}")
    if t._ctx is not None:
        extras.append(f"grad_fn=<{t._ctx.name()}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + ", ".join([body, *extras]) + ")"


def _format_array(arr: np.ndarray) -> str:
    """PyTorch's layout: one format for all elements, padded to the widest one."""
    shown = _summarized(arr)
    if arr.dtype.kind == "f":
        finite = shown[np.isfinite(shown)].astype(np.float64)
        nonzero = np.abs(finite[finite != 0])
        integral = finite.size == 0 or bool(np.all(finite == np.round(finite)))
        # PyTorch's rule: scientific when the range is wide, huge, or (non-integers) tiny.
        sci = nonzero.size > 0 and (
            nonzero.max() / nonzero.min() > 1000
            or nonzero.max() > 1e8
            or (not integral and nonzero.min() < 1e-4)
        )
        if sci:

            def fmt(v):
                return f"{v:.4e}"
        elif integral:

            def fmt(v):
                return f"{v:.0f}." if np.isfinite(v) else f"{v}"
        else:

            def fmt(v):
                return f"{v:.4f}"
    elif arr.dtype.kind == "b":

        def fmt(v):
            return "True" if v else "False"
    else:

        def fmt(v):
            return str(v)

    if arr.dtype.kind == "f":
        # PyTorch sizes the columns by the non-zero finite values only (inf/nan/0 don't widen).
        flat = shown.ravel()
        width = max((len(fmt(v)) for v in flat[np.isfinite(flat) & (flat != 0)]), default=1)
    else:
        width = max((len(fmt(v)) for v in shown.ravel()), default=0)
    text = np.array2string(
        arr,
        separator=", ",
        prefix="tensor(",
        threshold=1000,
        edgeitems=3,
        max_line_width=80,
        formatter={"all": lambda v: fmt(v).rjust(width)},
    )
    return text.replace(", ...,", ",  ...,")


def _summarized(arr: np.ndarray, edge: int = 3) -> np.ndarray:
    """The elements a summarized print shows (first and last ``edge`` along long dims)."""
    if arr.size <= 1000:
        return arr
    for axis, n in enumerate(arr.shape):
        if n > 2 * edge:
            arr = np.concatenate(
                [arr.take(range(edge), axis), arr.take(range(n - edge, n), axis)], axis
            )
    return arr


def _view_root(view: Tensor):
    """The live tensor at the start of ``view``'s chain of views, or None."""
    ref = view.__dict__.get("_view_root")
    return None if ref is None else ref()


def _node_number(t: Tensor) -> int:
    """The creation number of t's node (0 without one): unique, so it tells nodes apart."""
    return 0 if t._ctx is None else t._ctx.seq


def _refresh_if_stale(view: Tensor) -> None:
    """Bring a view's node up to date if its root was changed in place since (see
    ``chainrule.ops.views``); two lookups when nothing changed."""
    root = _view_root(view)
    if root is not None and _node_number(root) != view.__dict__["_root_seq"]:
        _ops.views.refresh_view(view, root)


from chainrule import ops as _ops  # noqa: E402  (ops import Tensor: resolve the cycle here)

# ---------------------------------------------------------------- methods that only delegate
# Most Tensor methods above are written out; these are PyTorch's many methods that do nothing
# but call the op of the same name (``x.hypot(y)`` is ``chainrule.hypot(x, y)``), and their
# in-place forms (``x.hypot_(y)``), generated from two lists so that each stays one line.


def _delegate(name: str):
    op = getattr(_ops, name)

    def method(self, *args, **kwargs):
        return op(self, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = op.__doc__
    return method


def _delegate_inplace(name: str):
    op = getattr(_ops, name)

    def method(self, *args, **kwargs):
        result = op(self._snapshot(*args, *kwargs.values()), *args, **kwargs)
        return self._inplace_result(result, f"{name}_")

    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = f"In-place ``{name}``: self = {name}(self, ...)."
    return method


_DELEGATED = (
    "acosh asinh atanh arccosh arcsinh arctanh hypot logaddexp logaddexp2 sinc exp2 logit xlogy "
    "copysign signbit isposinf isneginf isreal positive fmax fmin float_power heaviside gcd lcm "
    "ldexp nextafter frexp subtract multiply divide greater greater_equal less less_equal "
    "not_equal rad2deg absolute arccos arcsin arctan arctan2 fix tensor_split hsplit vsplit "
    "dsplit swapaxes swapdims moveaxis ravel rot90 diag_embed diagflat inner ger addmv addr "
    "addbmm baddbmm addmm det slogdet logdet cholesky matrix_power svd logcumsumexp cummax "
    "cummin aminmax quantile nanquantile mode dist cov corrcoef index_copy index_put "
    "masked_scatter select_scatter slice_scatter diagonal_scatter msort unique_consecutive "
    "equal var_mean std_mean"
)
_DELEGATED_INPLACE = (
    "acos asin atan atan2 acosh asinh atanh arccos arcsin arctan arctan2 arccosh arcsinh "
    "arctanh sin cos tan sinh cosh sinc erf erfinv expm1 exp2 log10 log1p log2 logit rsqrt "
    "square reciprocal negative neg sign sgn floor ceil trunc fix round frac fmod remainder "
    "deg2rad rad2deg hypot copysign xlogy ldexp nextafter heaviside gcd lcm lerp float_power "
    "nan_to_num eq ne lt le gt ge greater greater_equal less less_equal not_equal logical_and "
    "logical_or logical_xor logical_not subtract multiply divide true_divide floor_divide "
    "absolute clamp_min clamp_max index_copy index_put masked_scatter addmv addr addbmm "
    "baddbmm addmm cumsum cumprod logcumsumexp"
)
for _name in _DELEGATED.split():
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, _delegate(_name))
for _name in _DELEGATED_INPLACE.split():
    if not hasattr(Tensor, f"{_name}_"):
        setattr(Tensor, f"{_name}_", _delegate_inplace(_name))
