"""Differentiable primitives, one family per file, and the public functions built on them.

``chainrule.ops`` is the namespace Tensor methods delegate to; ``chainrule`` re-exports it.
"""

from chainrule.ops.common import cast
from chainrule.ops.common import to_device_op as to_device
from chainrule.ops.elementwise import (
    abs, absolute, add, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, ceil, clamp, clip,
    cos, div, divide, eq, exp, expm1, floor, floor_divide, ge, greater, greater_equal, gt,
    isfinite, isinf, isnan, le, lerp, less, less_equal, log, log1p, log2, log10, logical_and,
    logical_not, logical_or, logical_xor, lt, maximum, minimum, mul, multiply, ne, neg, negative,
    pow, reciprocal, relu, remainder, round, rsqrt, sigmoid, sign, sin, sqrt, square, sub,
    subtract, tanh, true_divide, trunc, where,
)
from chainrule.ops.reduce import (
    all, amax, amin, any, argmax, argmin, cumsum, logsumexp, max, mean, min, norm, prod, std,
    sum, var,
)
from chainrule.ops.movement import (
    cat, chunk, clone, concat, concatenate, contiguous, expand, flatten, flip, movedim, pad,
    permute, repeat, reshape, roll, split, squeeze, stack, tile, transpose, tril, triu, unbind,
    unflatten, unsqueeze,
)
from chainrule.ops.indexing import (
    gather, getitem, index_select, masked_fill, scatter, scatter_add, setitem_, take_along_dim,
)
from chainrule.ops.linalg import bmm, dot, einsum, linear, matmul, mm, outer
from chainrule.ops.nn import log_softmax, softmax
