"""Pooling and resizing layers: MaxPool1d/2d, AvgPool1d/2d, the adaptive pools, Upsample.

Pooling summarises each window of a feature map by its maximum or mean: the map gets smaller
and the result moves less when the input shifts by a pixel. Max pooling's gradient goes only
to each window's maximum; average pooling spreads it evenly over the window.
"""

from __future__ import annotations

from chainrule.nn import functional as F
from chainrule.nn.module import Module
from chainrule.ops.conv import ntuple


class _MaxPoolNd(Module):
    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        dilation=1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool2d(_MaxPoolNd):
    """The maximum of each (kH, kW) window.

    Args:
        kernel_size: window size (int or pair).
        stride: step between windows (default: kernel_size).
        padding: implicit -inf border, at most half the kernel (default 0).
        dilation: spacing between window elements (default 1).
        return_indices: also return the argmax (flat H*W index) of every window.
        ceil_mode: round the output size up (keep a last, partial window).

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out),
    H_out = floor_or_ceil((H + 2 p - d (k - 1) - 1) / s) + 1.

    Example:
        >>> nn.MaxPool2d(2)(chainrule.randn(1, 6, 28, 28)).shape
        chainrule.Size([1, 6, 14, 14])
    """

    def forward(self, input):
        return F.max_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )


class MaxPool1d(_MaxPoolNd):
    """The maximum of each window along the last dim (arguments as MaxPool2d, one int each).

    Shape: (N, C, L) or (C, L) -> (N, C, L_out).

    Example:
        >>> nn.MaxPool1d(2)(chainrule.randn(1, 3, 10)).shape
        chainrule.Size([1, 3, 5])
    """

    def forward(self, input):
        return F.max_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )


class AvgPool2d(Module):
    """The mean of each (kH, kW) window.

    Args:
        kernel_size, stride (default kernel_size), padding (zeros, at most half the kernel),
        ceil_mode: as MaxPool2d.
        count_include_pad: divide by the window size including the zero padding (default
            True) or by the number of real elements.
        divisor_override: divide every window sum by this number instead.

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out).

    Example:
        >>> nn.AvgPool2d(2)(chainrule.randn(1, 3, 8, 8)).shape
        chainrule.Size([1, 3, 4, 4])
    """

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return F.avg_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(Module):
    """The mean of each window along the last dim (arguments as AvgPool2d, one int each).

    Shape: (N, C, L) or (C, L) -> (N, C, L_out).

    Example:
        >>> nn.AvgPool1d(3, stride=2)(chainrule.randn(1, 4, 9)).shape
        chainrule.Size([1, 4, 4])
    """

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ):
        super().__init__()
        self.kernel_size = ntuple(kernel_size, 1, "kernel_size")
        self.stride = ntuple(stride if stride is not None else kernel_size, 1, "stride")
        self.padding = ntuple(padding, 1, "padding")
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        return F.avg_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePool(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptivePool):
    """Average pooling to a fixed output size, whatever the input size: output (i, j) is the
    mean over rows [floor(i H / oh), ceil((i + 1) H / oh)) and the matching columns.

    Args:
        output_size: int or (oh, ow); None keeps that input size.

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, oh, ow).

    Example:
        >>> nn.AdaptiveAvgPool2d(1)(chainrule.randn(2, 8, 7, 5)).shape
        chainrule.Size([2, 8, 1, 1])
    """

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool1d(_AdaptivePool):
    """Average pooling of the last dim to ``output_size`` windows (see AdaptiveAvgPool2d).

    Example:
        >>> nn.AdaptiveAvgPool1d(3)(chainrule.randn(2, 4, 10)).shape
        chainrule.Size([2, 4, 3])
    """

    def forward(self, input):
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveMaxPool2d(_AdaptivePool):
    """Max pooling to a fixed output size (windows as AdaptiveAvgPool2d).

    Args:
        output_size: int or (oh, ow); None keeps that input size.
        return_indices: also return the argmax of every window (flat H*W index).

    Example:
        >>> nn.AdaptiveMaxPool2d((2, 3))(chainrule.randn(1, 4, 7, 8)).shape
        chainrule.Size([1, 4, 2, 3])
    """

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    """Max pooling of the last dim to ``output_size`` windows (see AdaptiveMaxPool2d)."""

    def forward(self, input):
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class Upsample(Module):
    """Resize (N, C, L) or (N, C, H, W) inputs with F.interpolate.

    Args:
        size: output size (int or tuple), or
        scale_factor: output = floor(input * scale_factor) (float or tuple).
        mode: 'nearest' (default), 'linear' (3-D) or 'bilinear' (4-D).
        align_corners: for the linear modes, map corner pixels to corner pixels.
        recompute_scale_factor: derive the step from the sizes instead of scale_factor.

    Example:
        >>> nn.Upsample(scale_factor=2, mode="bilinear")(chainrule.randn(1, 3, 4, 4)).shape
        chainrule.Size([1, 3, 8, 8])
    """

    def __init__(
        self,
        size=None,
        scale_factor=None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return F.interpolate(
            input,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Upsample with mode='nearest' (PyTorch's older name)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Upsample with mode='bilinear' and align_corners=True (PyTorch's older name)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
