"""Convolution layers: Conv1d/2d/3d, ConvTranspose1d/2d/3d, and Unfold/Fold.

A convolution slides a small learned filter over the input: every output is the dot product
of the filter with one window of the input, so the layer shares its weights across positions
and sees only local neighbourhoods. The computation is im2col plus one matrix product (see
``chainrule.ops.conv``).
"""

from __future__ import annotations

import math

from chainrule.creation import empty
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module, Parameter
from chainrule.ops.conv import ntuple, same_padding

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What Conv and ConvTranspose share: arguments, parameters, init and repr (as torch)."""

    _n: int = 2
    _transposed: bool = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride,
        padding,
        dilation,
        groups: int,
        bias: bool,
        padding_mode: str,
        output_padding=0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        n = self._n
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"Invalid padding string {padding!r}, should be one of {{'same', 'valid'}}"
                )
            if padding == "same" and any(s != 1 for s in ntuple(stride, n, "stride")):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {{'zeros', 'reflect', 'replicate', 'circular'}}, "
                f"but got padding_mode={padding_mode!r}"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = ntuple(kernel_size, n, "kernel_size")
        self.stride = ntuple(stride, n, "stride")
        self.padding = padding if isinstance(padding, str) else ntuple(padding, n, "padding")
        self.dilation = ntuple(dilation, n, "dilation")
        self.transposed = self._transposed
        self.output_padding = ntuple(output_padding, n, "output_padding")
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad's widths (last dim first), used by the non-zero padding modes.
        if padding == "same":
            pairs = same_padding(self.kernel_size, self.dilation)
        elif padding == "valid":
            pairs = ((0, 0),) * n
        else:
            pairs = tuple((p, p) for p in self.padding)
        self._reversed_padding_repeated_twice = [w for pair in reversed(pairs) for w in pair]
        if self._transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(empty(*shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # PyTorch's default: W ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform_ with
        # a = sqrt(5)), fan_in = weight.shape[1] * kernel area; the bias uses the same bound.
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _check_input(self, x) -> None:
        n, c = self._n, self.in_channels
        dims = ", ".join(["D", "H", "W"][3 - n :])
        if x.ndim not in (n + 1, n + 2) or x.shape[-n - 1] != c:
            raise RuntimeError(
                f"{self!r}: expected input of shape (N, {c}, {dims}) or ({c}, {dims}), "
                f"got {tuple(x.shape)}"
            )

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        s += f", stride={self.stride}"
        if self.padding != (0,) * self._n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ):
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device=device,
            dtype=dtype,
        )

    def forward(self, input):
        self._check_input(input)
        conv = (F.conv1d, F.conv2d, F.conv3d)[self._n - 1]
        if self.padding_mode != "zeros":
            # As torch: pad with the mode first, then convolve without padding.
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return conv(
            input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


class Conv2d(_Conv):
    """2-D convolution: y[n, o] = b[o] + sum over c of W[o, c] cross-correlated with x[n, c].

    Args:
        in_channels, out_channels: channels of the input and the output.
        kernel_size: int or (kH, kW).
        stride: step between windows (default 1).
        padding: int, (pH, pW), 'valid' or 'same' (output size = input size; stride 1).
        dilation: spacing between kernel elements (default 1).
        groups: split channels into independent groups; groups = in_channels is depthwise.
        bias: learn a bias per output channel (default True).
        padding_mode: 'zeros' (default), 'reflect', 'replicate' or 'circular'.

    Shape: (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out),
    H_out = floor((H + 2 pH - dH (kH - 1) - 1) / sH) + 1.
    Parameters: weight (C_out, C_in / groups, kH, kW), bias (C_out,); both initialised
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in / groups * kH * kW (PyTorch's default).

    Example:
        >>> conv = nn.Conv2d(1, 6, 5, padding=2)
        >>> conv(chainrule.randn(8, 1, 28, 28)).shape
        chainrule.Size([8, 6, 28, 28])
    """

    _n = 2


class Conv1d(_Conv):
    """1-D convolution over (N, C, L) sequences (the arguments of Conv2d, one int each).

    Shape: (N, C_in, L) or (C_in, L) -> (N, C_out, L_out),
    L_out = floor((L + 2 p - d (k - 1) - 1) / s) + 1.
    Parameters: weight (C_out, C_in / groups, k), bias (C_out,).

    Example:
        >>> nn.Conv1d(2, 4, 3, padding="same")(chainrule.randn(5, 2, 10)).shape
        chainrule.Size([5, 4, 10])
    """

    _n = 1


class Conv3d(_Conv):
    """3-D convolution over volumes (N, C, D, H, W) (the arguments of Conv2d, int or triple).

    Shape: (N, C_in, D, H, W) or (C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out),
    D_out = floor((D + 2 pD - dD (kD - 1) - 1) / sD) + 1 (likewise H, W).
    Parameters: weight (C_out, C_in / groups, kD, kH, kW), bias (C_out,); PyTorch's default
    init with fan_in = C_in / groups * kD * kH * kW.

    Example:
        >>> nn.Conv3d(2, 4, 3, padding=1)(chainrule.randn(1, 2, 5, 6, 7)).shape
        chainrule.Size([1, 4, 5, 6, 7])
    """

    _n = 3


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups: int = 1,
        bias: bool = True,
        dilation=1,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ):
        if padding_mode != "zeros":
            raise ValueError(
                f'Only "zeros" padding mode is supported for {self.__class__.__name__}'
            )
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            output_padding=output_padding,
            device=device,
            dtype=dtype,
        )

    def _output_padding(self, input, output_size) -> tuple:
        """The output_padding that gives ``output_size`` (torch's ConvTranspose argument)."""
        if output_size is None:
            return self.output_padding
        n = self._n
        output_size = tuple(output_size)[-n:]
        result = []
        for d in range(n):
            smallest = (
                (input.shape[d - n] - 1) * self.stride[d]
                - 2 * self.padding[d]
                + self.dilation[d] * (self.kernel_size[d] - 1)
                + 1
            )
            extra = output_size[d] - smallest
            if not 0 <= extra < max(self.stride[d], self.dilation[d]):
                raise ValueError(
                    f"requested an output size of {output_size}, but valid sizes range from "
                    f"{smallest} to {smallest + max(self.stride[d], self.dilation[d]) - 1} "
                    f"(for an input of {tuple(input.shape[-n:])})"
                )
            result.append(extra)
        return tuple(result)

    def forward(self, input, output_size=None):
        self._check_input(input)
        conv = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self._n - 1]
        return conv(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self._output_padding(input, output_size),
            self.groups,
            self.dilation,
        )


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution ("deconvolution"): the gradient of Conv2d with respect to
    its input, used to upsample. Each input pixel adds a copy of the kernel, scaled by its
    value, to the output at stride-spaced positions; ``padding`` is cropped from the result.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, groups, bias, dilation: as
            Conv2d (padding crops d (k - 1) - padding ... from the full output).
        output_padding: extra size on the bottom/right (< stride or dilation) to choose among
            the output sizes that a strided Conv2d maps to the same input size.

    Shape: (N, C_in, H, W) -> (N, C_out, H_out, W_out),
    H_out = (H - 1) sH - 2 pH + dH (kH - 1) + output_padding + 1.
    Parameters: weight (C_in, C_out / groups, kH, kW), bias (C_out,); PyTorch's default init
    with fan_in = C_out / groups * kH * kW.

    Example:
        >>> up = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)
        >>> up(chainrule.randn(1, 4, 5, 5)).shape
        chainrule.Size([1, 2, 10, 10])
    """

    _n = 2


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution over (N, C, L) sequences (see ConvTranspose2d).

    Shape: (N, C_in, L) -> (N, C_out, (L - 1) s - 2 p + d (k - 1) + output_padding + 1).

    Example:
        >>> nn.ConvTranspose1d(2, 3, 4, stride=2)(chainrule.randn(1, 2, 5)).shape
        chainrule.Size([1, 3, 12])
    """

    _n = 1


class ConvTranspose3d(_ConvTranspose):
    """3-D transposed convolution over volumes (N, C, D, H, W) (see ConvTranspose2d).

    Shape: (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out),
    D_out = (D - 1) sD - 2 pD + dD (kD - 1) + output_padding + 1 (likewise H, W).
    Parameters: weight (C_in, C_out / groups, kD, kH, kW), bias (C_out,).

    Example:
        >>> nn.ConvTranspose3d(2, 3, 2, stride=2)(chainrule.randn(1, 2, 2, 3, 4)).shape
        chainrule.Size([1, 3, 4, 6, 8])
    """

    _n = 3


class Unfold(Module):
    """Extract sliding local blocks (im2col): (N, C, H, W) -> (N, C kH kW, L).

    Args: kernel_size, dilation=1, padding=0, stride=1 (ints or pairs), as F.unfold.

    Example:
        >>> nn.Unfold(2)(chainrule.randn(1, 3, 4, 4)).shape
        chainrule.Size([1, 12, 9])
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
            f"stride={self.stride}"
        )


class Fold(Module):
    """Combine sliding local blocks into an image (col2im; overlapping blocks add up):
    (N, C kH kW, L) -> (N, C, *output_size).

    Args: output_size, kernel_size, dilation=1, padding=0, stride=1, as F.fold.

    Example:
        >>> nn.Fold((4, 4), 2)(chainrule.randn(1, 12, 9)).shape
        chainrule.Size([1, 3, 4, 4])
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(
            input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride
        )

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
            f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}"
        )
