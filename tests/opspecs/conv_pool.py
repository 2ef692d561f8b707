"""OpSpecs for convolutions, unfold/fold, pooling and interpolation (chainrule.ops.conv)."""

import math
import warnings

import numpy as np
from opspec import OpSpec

import chainrule.nn.functional as F


def _tf():
    import torch.nn.functional as tf

    return tf


SUMS = "sums of up to ~40 products, accumulated in another order than torch's kernels"
CONV_TOL = dict(rtol=1e-4, atol=1e-5, note=SUMS)


def _quiet_torch(fname, **kw):
    def call(*a):
        with warnings.catch_warnings():  # torch warns that even 'same' kernels copy the input
            warnings.simplefilter("ignore", UserWarning)
            return getattr(_tf(), fname)(*a, **kw)

    return call


def conv_spec(name, fname, shapes, **kw):
    """A spec calling F.<fname>(x, w[, b], **kw) in both libraries."""
    return OpSpec(
        name,
        lambda *a: getattr(F, fname)(*a, **kw),
        _quiet_torch(fname, **kw),
        shapes,
        **CONV_TOL,
    )


def unary_spec(name, fname, shapes, tol=None, **kw):
    return OpSpec(
        name,
        lambda x: getattr(F, fname)(x, **kw),
        lambda x: getattr(_tf(), fname)(x, **kw),
        [(s,) for s in shapes],
        **(tol or {}),
    )


def padded_conv_spec(mode):
    """padding_mode as nn.Conv2d does it: F.pad with the mode, then an unpadded conv."""
    return OpSpec(
        f"conv2d_pad_{mode}",
        lambda x, w: F.conv2d(F.pad(x, (1, 2, 1, 1), mode=mode), w),
        lambda x, w: _tf().conv2d(_tf().pad(x, (1, 2, 1, 1), mode=mode), w),
        [((1, 2, 4, 4), (2, 2, 2, 2)), ((2, 1, 3, 3), (1, 1, 3, 2))],
        **CONV_TOL,
    )


def unpool_spec(name, n, shapes, kernel_size, output_size=None):
    """max_unpool{n}d of a random input with valid, distinct indices: one random element of
    each (disjoint, stride = kernel) window, as max_pool{n}d would return them."""
    kernel = (kernel_size,) * n

    def make_inputs(rng, shape_case):
        x_shape = shape_case[0]
        sizes = output_size or tuple(o * k for o, k in zip(x_shape[-n:], kernel))
        index = np.zeros(x_shape, dtype=np.int64)
        for axis, (o, k) in enumerate(zip(x_shape[-n:], kernel)):
            coord = np.arange(o).reshape(-1, *(1,) * (n - 1 - axis)) * k
            coord = coord + rng.integers(0, k, size=x_shape)
            index += coord * math.prod(sizes[axis + 1 :])
        return [rng.uniform(-2.0, 2.0, size=x_shape), index]

    kw = dict(kernel_size=kernel_size, output_size=output_size)
    fname = f"max_unpool{n}d"
    return OpSpec(
        name,
        lambda x, i: getattr(F, fname)(x, i, **kw),
        lambda x, i: getattr(_tf(), fname)(x, i, **kw),
        [(s, s) for s in shapes],
        make_inputs=make_inputs,
    )


SPECS = [
    conv_spec(
        "conv2d",
        "conv2d",
        [((1, 2, 4, 4), (2, 2, 2, 2), (2,)), ((2, 1, 3, 5), (3, 1, 2, 3), (3,))],
    ),
    conv_spec("conv2d_unbatched", "conv2d", [((2, 4, 4), (2, 2, 3, 3), (2,))]),
    conv_spec(
        "conv2d_stride_padding",
        "conv2d",
        [((1, 2, 5, 5), (2, 2, 3, 3), (2,)), ((1, 1, 6, 5), (2, 1, 2, 3), (2,))],
        stride=2,
        padding=1,
    ),
    conv_spec(
        "conv2d_stride_pair_padding_pair",
        "conv2d",
        [((1, 2, 6, 5), (2, 2, 3, 2))],
        stride=(2, 1),
        padding=(0, 2),
    ),
    conv_spec(
        "conv2d_dilation",
        "conv2d",
        [((1, 1, 6, 5), (2, 1, 2, 2)), ((1, 2, 5, 6), (1, 2, 2, 3))],
        dilation=2,
        padding=(1, 0),
    ),
    conv_spec("conv2d_same", "conv2d", [((1, 2, 4, 4), (2, 2, 2, 3))], padding="same"),
    conv_spec(
        "conv2d_same_dilation",
        "conv2d",
        [((1, 1, 5, 6), (2, 1, 3, 2))],
        padding="same",
        dilation=(1, 2),
    ),
    conv_spec("conv2d_valid", "conv2d", [((1, 2, 4, 3), (1, 2, 2, 2))], padding="valid"),
    conv_spec(
        "conv2d_groups",
        "conv2d",
        [((1, 4, 4, 3), (4, 2, 2, 2), (4,)), ((2, 2, 3, 3), (4, 1, 2, 2), (4,))],
        groups=2,
    ),
    conv_spec(
        "conv2d_depthwise",
        "conv2d",
        [((1, 3, 4, 4), (6, 1, 2, 2))],
        groups=3,
        stride=(1, 2),
        padding=1,
    ),
    padded_conv_spec("reflect"),
    padded_conv_spec("replicate"),
    padded_conv_spec("circular"),
    conv_spec(
        "conv1d",
        "conv1d",
        [((2, 2, 6), (3, 2, 3), (3,)), ((3, 5), (2, 3, 2), (2,))],
        stride=2,
        padding=1,
    ),
    conv_spec(
        "conv1d_same_dilation_groups",
        "conv1d",
        [((2, 4, 5), (2, 2, 2))],
        padding="same",
        dilation=2,
        groups=2,
    ),
    conv_spec(
        "conv_transpose2d",
        "conv_transpose2d",
        [((1, 2, 3, 3), (2, 2, 3, 3), (2,)), ((2, 1, 2, 3), (1, 3, 2, 2), (3,))],
        stride=2,
        padding=1,
        output_padding=1,
    ),
    conv_spec("conv_transpose2d_plain", "conv_transpose2d", [((1, 2, 3, 3), (2, 1, 2, 2))]),
    conv_spec(
        "conv_transpose2d_groups_dilation",
        "conv_transpose2d",
        [((1, 4, 3, 2), (4, 1, 2, 2), (2,))],
        stride=(1, 2),
        output_padding=(0, 1),
        groups=2,
        dilation=2,
    ),
    conv_spec(
        "conv_transpose1d",
        "conv_transpose1d",
        [((2, 2, 4), (2, 3, 3), (3,)), ((2, 3), (2, 1, 2), (1,))],
        stride=3,
        padding=1,
        output_padding=2,
        dilation=2,
    ),
    unary_spec(
        "unfold",
        "unfold",
        [(1, 2, 4, 5), (2, 3, 3)],
        kernel_size=(2, 3),
        padding=1,
        stride=(2, 1),
    ),
    unary_spec("unfold_dilation", "unfold", [(1, 1, 6, 5)], kernel_size=2, dilation=(2, 1)),
    unary_spec(
        "fold",
        "fold",
        [(1, 8, 9), (8, 9)],
        tol=CONV_TOL,
        output_size=(4, 4),
        kernel_size=2,
    ),
    unary_spec(
        "fold_stride_padding_dilation",
        "fold",
        [(2, 4, 9)],
        tol=CONV_TOL,
        output_size=(4, 5),
        kernel_size=2,
        stride=2,
        padding=1,
        dilation=(1, 2),
    ),
    unary_spec("max_pool2d", "max_pool2d", [(1, 2, 4, 4), (2, 5, 4)], kernel_size=2),
    # A large kernel over few windows takes the argmax path instead of the per-offset loop.
    unary_spec("max_pool2d_large_kernel", "max_pool2d", [(1, 1, 6, 6)], kernel_size=5, stride=1),
    unary_spec(
        "max_pool2d_overlapping",
        "max_pool2d",
        [(1, 1, 5, 5)],
        kernel_size=3,
        stride=1,
        padding=1,
    ),
    unary_spec(
        "max_pool2d_ceil_dilation",
        "max_pool2d",
        [(1, 2, 6, 7)],
        kernel_size=(2, 3),
        stride=2,
        padding=1,
        dilation=(2, 1),
        ceil_mode=True,
    ),
    unary_spec(
        "max_pool1d",
        "max_pool1d",
        [(2, 3, 7), (3, 8)],
        kernel_size=3,
        stride=2,
        padding=1,
        ceil_mode=True,
    ),
    unary_spec("avg_pool2d", "avg_pool2d", [(1, 2, 4, 4), (2, 5, 4)], kernel_size=2),
    unary_spec(
        "avg_pool2d_padding_ceil",
        "avg_pool2d",
        [(1, 2, 5, 6)],
        kernel_size=3,
        stride=2,
        padding=1,
        ceil_mode=True,
    ),
    unary_spec(
        "avg_pool2d_exclude_pad",
        "avg_pool2d",
        [(1, 2, 5, 6)],
        kernel_size=(3, 2),
        stride=(2, 1),
        padding=1,
        ceil_mode=True,
        count_include_pad=False,
    ),
    unary_spec(
        "avg_pool2d_divisor_override",
        "avg_pool2d",
        [(1, 1, 5, 5)],
        kernel_size=2,
        stride=1,
        divisor_override=3,
    ),
    unary_spec(
        "avg_pool1d",
        "avg_pool1d",
        [(2, 3, 7), (3, 6)],
        kernel_size=3,
        stride=2,
        padding=1,
        count_include_pad=False,
    ),
    unary_spec(
        "adaptive_avg_pool2d",
        "adaptive_avg_pool2d",
        [(1, 2, 5, 7), (2, 4, 4)],
        output_size=(3, 4),
    ),
    unary_spec(
        "adaptive_avg_pool2d_none", "adaptive_avg_pool2d", [(1, 2, 5, 3)], output_size=(2, None)
    ),
    unary_spec("adaptive_avg_pool1d", "adaptive_avg_pool1d", [(2, 3, 7), (2, 5)], output_size=3),
    unary_spec(
        "adaptive_max_pool2d",
        "adaptive_max_pool2d",
        [(1, 2, 5, 7), (2, 4, 4)],
        output_size=(3, 4),
    ),
    unary_spec("adaptive_max_pool1d", "adaptive_max_pool1d", [(2, 3, 7)], output_size=3),
    unary_spec("interpolate_nearest_scale", "interpolate", [(1, 2, 3, 3)], scale_factor=2),
    unary_spec("interpolate_nearest_size", "interpolate", [(1, 2, 3, 4), (2, 2, 5)], size=5),
    unary_spec("interpolate_nearest_down", "interpolate", [(1, 1, 7, 6)], scale_factor=(0.6, 0.5)),
    unary_spec(
        "interpolate_bilinear_align",
        "interpolate",
        [(1, 2, 3, 3), (1, 1, 4, 5)],
        size=(4, 6),
        mode="bilinear",
        align_corners=True,
    ),
    unary_spec(
        "interpolate_bilinear",
        "interpolate",
        [(1, 2, 3, 4), (2, 1, 4, 3)],
        scale_factor=1.5,
        mode="bilinear",
        align_corners=False,
    ),
    unary_spec(
        "interpolate_bilinear_down",
        "interpolate",
        [(1, 1, 7, 6)],
        size=(3, 4),
        mode="bilinear",
    ),
    unary_spec(
        "interpolate_linear",
        "interpolate",
        [(2, 2, 5)],
        size=8,
        mode="linear",
        align_corners=False,
    ),
    # ---- 3-D convolutions and pooling (the 2-D Functions' code over one more spatial axis)
    conv_spec(
        "conv3d",
        "conv3d",
        [((1, 2, 3, 4, 3), (2, 2, 2, 2, 2), (2,)), ((2, 3, 3, 4), (2, 2, 1, 2, 2), (2,))],
    ),
    conv_spec(
        "conv3d_stride_padding_dilation_groups",
        "conv3d",
        [((1, 4, 4, 3, 5), (2, 2, 2, 1, 2), (2,))],
        stride=(2, 1, 2),
        padding=(1, 0, 1),
        dilation=(1, 1, 2),
        groups=2,
    ),
    conv_spec("conv3d_same", "conv3d", [((1, 1, 3, 4, 3), (2, 1, 2, 3, 2))], padding="same"),
    conv_spec(
        "conv_transpose3d",
        "conv_transpose3d",
        [((1, 2, 2, 3, 2), (2, 2, 2, 2, 3), (2,)), ((2, 2, 2, 2), (2, 1, 2, 1, 2), (1,))],
        stride=(2, 1, 2),
        padding=(1, 0, 0),
        output_padding=(1, 0, 1),
    ),
    conv_spec(
        "conv_transpose3d_groups_dilation",
        "conv_transpose3d",
        [((1, 4, 2, 2, 3), (4, 1, 2, 2, 1))],
        groups=2,
        dilation=(2, 1, 1),
    ),
    unary_spec("max_pool3d", "max_pool3d", [(1, 2, 4, 4, 4), (2, 3, 4, 5)], kernel_size=2),
    unary_spec(
        "max_pool3d_ceil_padding_dilation",
        "max_pool3d",
        [(1, 1, 5, 4, 6)],
        kernel_size=(2, 3, 2),
        stride=(2, 1, 2),
        padding=1,
        dilation=(2, 1, 1),
        ceil_mode=True,
    ),
    # 27 offsets over few windows: the argmax path instead of the per-offset loop.
    unary_spec("max_pool3d_large_kernel", "max_pool3d", [(1, 1, 4, 4, 4)], kernel_size=3, stride=1),
    unary_spec("avg_pool3d", "avg_pool3d", [(1, 2, 4, 4, 4), (2, 3, 4, 5)], kernel_size=2),
    unary_spec(
        "avg_pool3d_exclude_pad_ceil",
        "avg_pool3d",
        [(1, 2, 5, 4, 3)],
        kernel_size=(3, 2, 2),
        stride=2,
        padding=1,
        ceil_mode=True,
        count_include_pad=False,
    ),
    unary_spec(
        "avg_pool3d_divisor_override",
        "avg_pool3d",
        [(1, 1, 3, 3, 4)],
        kernel_size=2,
        stride=1,
        divisor_override=5,
    ),
    unary_spec(
        "adaptive_avg_pool3d",
        "adaptive_avg_pool3d",
        [(1, 2, 5, 4, 3), (2, 3, 4, 5)],
        output_size=(2, 3, None),
    ),
    unary_spec(
        "adaptive_max_pool3d",
        "adaptive_max_pool3d",
        [(1, 2, 5, 4, 3), (2, 3, 4, 5)],
        output_size=(2, 3, 2),
    ),
    # ---- power-average pooling: (avg_pool(x^p) * kernel area)^(1/p), as torch composes it
    OpSpec(
        "lp_pool1d",
        lambda x: F.lp_pool1d(x, 3, 3, stride=2, ceil_mode=True),
        lambda x: _tf().lp_pool1d(x, 3, 3, stride=2, ceil_mode=True),
        [((2, 3, 8),), ((3, 7),)],
        domain=(0.2, 2.0),  # x^p of a negative x with non-even p is NaN, in torch too
    ),
    unary_spec("lp_pool2d", "lp_pool2d", [(1, 2, 4, 5), (2, 4, 4)], norm_type=2, kernel_size=2),
    OpSpec(
        "lp_pool2d_fractional_p",
        lambda x: F.lp_pool2d(x, 1.5, (2, 3), stride=(1, 2)),
        lambda x: _tf().lp_pool2d(x, 1.5, (2, 3), stride=(1, 2)),
        [((1, 2, 4, 6),)],
        domain=(0.2, 2.0),
    ),
    unary_spec("lp_pool2d_inf", "lp_pool2d", [(1, 2, 4, 4)], norm_type=math.inf, kernel_size=2),
    unary_spec("lp_pool3d", "lp_pool3d", [(1, 2, 4, 4, 3)], norm_type=2, kernel_size=2),
    # ---- max-unpooling: values scattered to the flat indices of each plane
    unpool_spec("max_unpool1d", 1, [(2, 3, 4), (3, 5)], 2),
    unpool_spec("max_unpool2d", 2, [(1, 2, 2, 3), (2, 3, 2)], 2),
    unpool_spec("max_unpool2d_output_size", 2, [(1, 2, 2, 3)], 2, output_size=(5, 7)),
    unpool_spec("max_unpool3d", 3, [(1, 2, 2, 2, 3)], 2),
]
