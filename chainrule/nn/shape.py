"""Layers that rearrange or pad their input, or compare two inputs: pixel shuffles, the
padding modules, PairwiseDistance, CosineSimilarity, Softmax2d (thin wrappers of
``chainrule.nn.functional``)."""

from __future__ import annotations

from chainrule.nn import functional as F
from chainrule.nn.module import Module

__all__ = [
    "PixelShuffle",
    "PixelUnshuffle",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
    "PairwiseDistance",
    "CosineSimilarity",
    "Softmax2d",
]


class PixelShuffle(Module):
    """(*, C r^2, H, W) -> (*, C, H r, W r) (sub-pixel convolution's rearrangement)."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r^2, H, W), the inverse of PixelShuffle."""

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class _Pad(Module):
    """Pad the last ``_dims`` dims with F.pad (``padding``: an int, or (left, right[, top,
    bottom[, front, back]]))."""

    _dims = 1
    _mode = "constant"

    def __init__(self, padding, value: float = 0.0):
        super().__init__()
        if isinstance(padding, int):
            padding = (padding,) * (2 * self._dims)
        self.padding = tuple(padding)
        self.value = value

    def forward(self, input):
        if self._mode == "constant":
            return F.pad(input, self.padding, mode="constant", value=self.value)
        return F.pad(input, self.padding, mode=self._mode)

    def extra_repr(self) -> str:
        if type(self).__name__.startswith("Constant"):  # PyTorch's reprs differ just here
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


class ZeroPad1d(_Pad):
    """Pad the last dim with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ZeroPad2d(_Pad):
    """Pad the last two dims with zeros."""

    _dims = 2

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ZeroPad3d(_Pad):
    """Pad the last three dims with zeros."""

    _dims = 3

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ConstantPad1d(_Pad):
    """Pad the last dim with ``value``."""


class ConstantPad2d(_Pad):
    """Pad the last two dims with ``value``."""

    _dims = 2


class ConstantPad3d(_Pad):
    """Pad the last three dims with ``value``."""

    _dims = 3


class ReflectionPad1d(_Pad):
    """Pad the last dim with its reflection (the edge value not repeated)."""

    _mode = "reflect"


class ReflectionPad2d(_Pad):
    """Pad the last two dims with their reflection."""

    _dims, _mode = 2, "reflect"


class ReflectionPad3d(_Pad):
    """Pad the last three dims with their reflection."""

    _dims, _mode = 3, "reflect"


class ReplicationPad1d(_Pad):
    """Pad the last dim by repeating its edge values."""

    _mode = "replicate"


class ReplicationPad2d(_Pad):
    """Pad the last two dims by repeating their edge values."""

    _dims, _mode = 2, "replicate"


class ReplicationPad3d(_Pad):
    """Pad the last three dims by repeating their edge values."""

    _dims, _mode = 3, "replicate"


class CircularPad1d(_Pad):
    """Pad the last dim with values wrapped around from the other end."""

    _mode = "circular"


class CircularPad2d(_Pad):
    """Pad the last two dims with values wrapped around from the other ends."""

    _dims, _mode = 2, "circular"


class CircularPad3d(_Pad):
    """Pad the last three dims with values wrapped around from the other ends."""

    _dims, _mode = 3, "circular"


class PairwiseDistance(Module):
    """||x1 - x2 + eps||_p along the last dim (see F.pairwise_distance)."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """x1 . x2 / (||x1|| ||x2||) along ``dim`` (see F.cosine_similarity)."""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class Softmax2d(Module):
    """Softmax over the channels of each position: (N, C, H, W) or (C, H, W)."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(
                f"Softmax2d: expected a 3D or 4D input, got shape {tuple(input.shape)}"
            )
        return F.softmax(input, dim=-3)
