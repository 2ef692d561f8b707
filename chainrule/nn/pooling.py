"""Pooling and resizing layers: MaxPool1d/2d/3d, AvgPool1d/2d/3d, the adaptive pools,
LPPool1d/2d/3d, MaxUnpool1d/2d/3d, Upsample.

Pooling summarises each window of a feature map by its maximum or mean: the map gets smaller
and the result moves less when the input shifts by a pixel. Max pooling's gradient goes only
to each window's maximum; average pooling spreads it evenly over the window. Max-unpooling
puts pooled maxima back where they came from (zeros elsewhere).
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


class MaxPool3d(_MaxPoolNd):
    """The maximum of each (kD, kH, kW) window (arguments as MaxPool2d, int or triple);
    ``return_indices`` gives flat D*H*W argmax indices (what MaxUnpool3d takes).

    Shape: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out).

    Example:
        >>> nn.MaxPool3d(2)(chainrule.randn(1, 3, 4, 6, 8)).shape
        chainrule.Size([1, 3, 2, 3, 4])
    """

    def forward(self, input):
        return F.max_pool3d(
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


class AvgPool3d(AvgPool2d):
    """The mean of each (kD, kH, kW) window (arguments as AvgPool2d, int or triple).

    Shape: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out).

    Example:
        >>> nn.AvgPool3d(2, stride=1)(chainrule.randn(1, 2, 3, 4, 5)).shape
        chainrule.Size([1, 2, 2, 3, 4])
    """

    def forward(self, input):
        return F.avg_pool3d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )


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


class AdaptiveAvgPool3d(_AdaptivePool):
    """Average pooling of (D, H, W) to a fixed (od, oh, ow) (see AdaptiveAvgPool2d).

    Example:
        >>> nn.AdaptiveAvgPool3d((1, 2, None))(chainrule.randn(2, 3, 4, 5, 6)).shape
        chainrule.Size([2, 3, 1, 2, 6])
    """

    def forward(self, input):
        return F.adaptive_avg_pool3d(input, self.output_size)


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


class AdaptiveMaxPool3d(AdaptiveMaxPool2d):
    """Max pooling of (D, H, W) to a fixed (od, oh, ow); indices are flat D*H*W positions.

    Example:
        >>> nn.AdaptiveMaxPool3d(2)(chainrule.randn(1, 2, 5, 5, 5)).shape
        chainrule.Size([1, 2, 2, 2, 2])
    """

    def forward(self, input):
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class _LPPoolNd(Module):
    """Power-average pooling: y = (sum over the window of x^p)^(1/p), PyTorch's formula
    (avg_pool(x^p) * window size)^(1/p). p = inf is max pooling of |x|, p = 1 sum pooling.

    Args:
        norm_type: p.
        kernel_size: window size; stride: step between windows (default kernel_size).
        ceil_mode: round the output size up.
    """

    _fn = staticmethod(F.lp_pool2d)

    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def forward(self, input):
        return self._fn(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"ceil_mode={self.ceil_mode}"
        )


class LPPool1d(_LPPoolNd):
    """Power-average pooling along the last dim (see _LPPoolNd for the arguments).

    Shape: (N, C, L) or (C, L) -> (N, C, L_out), L_out = floor_or_ceil((L - k) / s) + 1.

    Example:
        >>> nn.LPPool1d(2, 3, stride=2)(chainrule.randn(1, 4, 9)).shape
        chainrule.Size([1, 4, 4])
    """

    _fn = staticmethod(F.lp_pool1d)


class LPPool2d(_LPPoolNd):
    """Power-average pooling over (kH, kW) windows (see _LPPoolNd for the arguments).

    Shape: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out).

    Example:
        >>> nn.LPPool2d(2, 2)(chainrule.randn(1, 3, 6, 6)).shape
        chainrule.Size([1, 3, 3, 3])
    """


class LPPool3d(_LPPoolNd):
    """Power-average pooling over (kD, kH, kW) windows (see _LPPoolNd for the arguments).

    Shape: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out).

    Example:
        >>> nn.LPPool3d(1, 2)(chainrule.ones(1, 1, 2, 4, 4))
        tensor([[[[[8., 8.],
                   [8., 8.]]]]])
    """

    _fn = staticmethod(F.lp_pool3d)


class _MaxUnpoolNd(Module):
    """The partial inverse of max pooling: every input value goes to its index (flat within
    the output plane, from MaxPool's ``return_indices``), zeros elsewhere.

    Args:
        kernel_size, stride (default kernel_size), padding: those of the max pooling undone;
            they give the default output size (L_in - 1) s - 2 p + k per spatial dim.

    forward(input, indices, output_size=None): ``output_size`` picks among the sizes that
    pool to the input's size (within a stride of the default).
    """

    _n = 2
    _fn = staticmethod(F.max_unpool2d)

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        n = self._n
        self.kernel_size = ntuple(kernel_size, n, "kernel_size")
        self.stride = ntuple(stride if stride is not None else kernel_size, n, "stride")
        self.padding = ntuple(padding, n, "padding")

    def forward(self, input, indices, output_size=None):
        return self._fn(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Undo MaxPool1d: (N, C, L_in) or (C, L_in) -> (N, C, L_out), L_out = (L_in - 1) s - 2 p + k.

    Example:
        >>> pool, unpool = nn.MaxPool1d(2, return_indices=True), nn.MaxUnpool1d(2)
        >>> unpool(*pool(chainrule.tensor([[[1.0, 3.0, 2.0, 0.0]]])))
        tensor([[[0., 3., 2., 0.]]])
    """

    _n = 1
    _fn = staticmethod(F.max_unpool1d)


class MaxUnpool2d(_MaxUnpoolNd):
    """Undo MaxPool2d: (N, C, H_in, W_in) or (C, H_in, W_in) -> (N, C, H_out, W_out),
    H_out = (H_in - 1) sH - 2 pH + kH (or ``output_size``).

    Example:
        >>> pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
        >>> unpool(*pool(chainrule.arange(4.0).reshape(1, 1, 2, 2)))
        tensor([[[[0., 0.],
                  [0., 3.]]]])
    """


class MaxUnpool3d(_MaxUnpoolNd):
    """Undo MaxPool3d: (N, C, D_in, H_in, W_in) or unbatched -> (N, C, D_out, H_out, W_out).

    Example:
        >>> pool, unpool = nn.MaxPool3d(2, return_indices=True), nn.MaxUnpool3d(2)
        >>> unpool(*pool(chainrule.randn(1, 2, 4, 4, 4))).shape
        chainrule.Size([1, 2, 4, 4, 4])
    """

    _n = 3
    _fn = staticmethod(F.max_unpool3d)


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
