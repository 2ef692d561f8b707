"""Image transforms with torchvision's names and semantics, in vectorised NumPy.

Images are NumPy arrays or Tensors shaped ``(C, H, W)`` or ``(H, W)``; ``ToTensor`` also takes
``(H, W, C)`` uint8 arrays (what PIL would give). A transform returns the same kind it gets (an
array stays an array, a Tensor a Tensor) and keeps integer dtypes (interpolated values are
rounded back).

Randomness: each random transform takes ``generator=`` (a ``chainrule.Generator`` or a
``numpy.random.Generator``). When None, it draws from chainrule's global generator at call
time, which ``chainrule.manual_seed`` resets and every DataLoader worker re-seeds with its own
seed: augmentations differ across workers and repeat for the same seed.

Example:
    >>> t = Compose([RandomCrop(28, padding=2), ToTensor(), Normalize((0.1307,), (0.3081,))])
    >>> x = t(np.zeros((28, 28), np.uint8))   # Tensor (1, 28, 28) float32
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from chainrule.backend import to_numpy
from chainrule.data.dataset import _numpy_rng
from chainrule.tensor import Tensor


# ---------------------------------------------------------------------------- helpers
def _unwrap(img):
    """(numpy array, was_tensor, device)."""
    if isinstance(img, Tensor):
        return to_numpy(img.data), True, img.device
    return np.asarray(img), False, None


def _wrap(arr: np.ndarray, was_tensor: bool, dev):
    if not was_tensor:
        return arr
    t = Tensor._make(np.ascontiguousarray(arr))
    return t if dev is None or dev.type == "cpu" else t.to(dev)


def _check_image(arr: np.ndarray, name: str) -> None:
    if arr.ndim not in (2, 3):
        raise ValueError(f"{name}: expected an image of shape (C, H, W) or (H, W), got {arr.shape}")


def _cast_like(out: np.ndarray, dtype) -> np.ndarray:
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(dtype)
    return out.astype(dtype, copy=False)


def _pair(size, name: str) -> tuple[int, int]:
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return int(size[0]), int(size[0])
    if isinstance(size, Sequence) and len(size) == 2:
        return int(size[0]), int(size[1])
    raise ValueError(f"{name}: size should be an int or a sequence of 1 or 2 ints, got {size}")


class Compose:
    """Apply transforms one after the other: ``Compose([RandomCrop(28, 2), ToTensor()])``."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({lines}\n)"


class Lambda:
    """Wrap a function as a transform: ``Lambda(lambda x: x * 2)``."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ToTensor:
    """NumPy image -> float Tensor (C, H, W); uint8 values are divided by 255 into [0, 1].

    As torchvision's ``ToTensor`` on an ndarray: ``(H, W, C)`` becomes ``(C, H, W)``, ``(H, W)``
    becomes ``(1, H, W)``; only uint8 input is rescaled (and becomes float32), other dtypes are
    kept. A Tensor passes through unchanged.
    """

    def __call__(self, pic):
        if isinstance(pic, Tensor):
            return pic
        arr = np.asarray(pic)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        if arr.ndim != 3:
            raise ValueError(f"ToTensor: pic should be 2 or 3 dimensional, got {arr.ndim} dims")
        arr = np.ascontiguousarray(arr.transpose(2, 0, 1))
        if arr.dtype == np.uint8:
            arr = arr.astype(np.float32) / np.float32(255)
        elif arr.dtype == np.bool_:
            arr = arr.astype(np.float32)
        return Tensor._make(arr)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Normalize:
    """Per channel: ``out[c] = (x[c] - mean[c]) / std[c]`` (float images).

    Example:
        >>> Normalize((0.1307,), (0.3081,))   # MNIST's train-set mean and std
    """

    def __init__(self, mean, std, inplace: bool = False):
        self.mean = tuple(np.atleast_1d(np.asarray(mean, dtype=np.float64)).tolist())
        self.std = tuple(np.atleast_1d(np.asarray(std, dtype=np.float64)).tolist())
        if any(s == 0 for s in self.std):
            raise ValueError(f"std evaluated to zero after conversion to float, got {self.std}")
        self.inplace = inplace

    def __call__(self, img):
        arr, was_tensor, dev = _unwrap(img)
        if arr.dtype.kind != "f":
            raise TypeError(f"Normalize: input should be a float image, got dtype {arr.dtype}")
        if arr.ndim < 3:
            raise ValueError(
                f"Normalize: expected an image of shape (..., C, H, W), got {arr.shape}"
            )
        mean = np.asarray(self.mean, dtype=arr.dtype)[:, None, None]
        std = np.asarray(self.std, dtype=arr.dtype)[:, None, None]
        out = (arr - mean) / std
        if self.inplace and not was_tensor:
            arr[...] = out
            return arr
        return _wrap(out, was_tensor, dev)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={list(self.mean)}, std={list(self.std)})"


# ---------------------------------------------------------------------------- geometry
def _pad(arr: np.ndarray, left: int, top: int, right: int, bottom: int, fill, mode: str):
    widths = [(0, 0)] * (arr.ndim - 2) + [(top, bottom), (left, right)]
    if mode == "constant":
        return np.pad(arr, widths, mode="constant", constant_values=fill)
    if mode in ("edge", "reflect", "symmetric"):
        return np.pad(arr, widths, mode=mode)
    raise ValueError(f"padding_mode should be constant, edge, reflect or symmetric, got {mode!r}")


def _padding4(padding) -> tuple[int, int, int, int]:
    """torchvision's padding: int, (left/right, top/bottom) or (left, top, right, bottom)."""
    if isinstance(padding, numbers.Number):
        p = int(padding)
        return p, p, p, p
    padding = [int(p) for p in padding]
    if len(padding) == 1:
        return padding[0], padding[0], padding[0], padding[0]
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return tuple(padding)
    raise ValueError(f"padding must be an int or a 1, 2 or 4 element sequence, got {padding}")


class RandomCrop:
    """Crop a random ``size`` window (after optional padding), as torchvision.

    Args:
        size: output (height, width), or an int for a square.
        padding: pad first: int, (left/right, top/bottom) or (left, top, right, bottom).
        pad_if_needed: pad images smaller than ``size``.
        fill: value of constant padding.
        padding_mode: "constant", "edge", "reflect" or "symmetric".
        generator: chainrule or NumPy generator (global chainrule generator when None).
    """

    def __init__(
        self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant",
        generator=None,
    ):  # fmt: skip
        self.size = _pair(size, "RandomCrop")
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode
        self.generator = generator

    def __call__(self, img):
        arr, was_tensor, dev = _unwrap(img)
        _check_image(arr, "RandomCrop")
        if self.padding is not None:
            arr = _pad(arr, *_padding4(self.padding), self.fill, self.padding_mode)
        th, tw = self.size
        h, w = arr.shape[-2:]
        if self.pad_if_needed and w < tw:
            arr = _pad(arr, tw - w, 0, tw - w, 0, self.fill, self.padding_mode)
        if self.pad_if_needed and h < th:
            arr = _pad(arr, 0, th - h, 0, th - h, self.fill, self.padding_mode)
        h, w = arr.shape[-2:]
        if h < th or w < tw:
            raise ValueError(
                f"Required crop size {(th, tw)} is larger than input image size {(h, w)}"
            )
        rng = _numpy_rng(self.generator)
        i = int(rng.integers(0, h - th + 1))
        j = int(rng.integers(0, w - tw + 1))
        return _wrap(arr[..., i : i + th, j : j + tw].copy(), was_tensor, dev)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class CenterCrop:
    """Crop the central ``size`` window (padding with zeros when the image is smaller)."""

    def __init__(self, size):
        self.size = _pair(size, "CenterCrop")

    def __call__(self, img):
        arr, was_tensor, dev = _unwrap(img)
        _check_image(arr, "CenterCrop")
        th, tw = self.size
        h, w = arr.shape[-2:]
        if th > h or tw > w:
            pl, pt = max(tw - w, 0) // 2, max(th - h, 0) // 2
            pr, pb = max(tw - w, 0) - pl, max(th - h, 0) - pt
            arr = _pad(arr, pl, pt, pr, pb, 0, "constant")
            h, w = arr.shape[-2:]
        i = int(round((h - th) / 2.0))
        j = int(round((w - tw) / 2.0))
        return _wrap(arr[..., i : i + th, j : j + tw].copy(), was_tensor, dev)


class RandomHorizontalFlip:
    """Mirror left-right with probability ``p``."""

    def __init__(self, p: float = 0.5, generator=None):
        self.p = p
        self.generator = generator

    def __call__(self, img):
        if _numpy_rng(self.generator).random() < self.p:
            arr, was_tensor, dev = _unwrap(img)
            return _wrap(arr[..., ::-1].copy(), was_tensor, dev)
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip:
    """Mirror top-bottom with probability ``p``."""

    def __init__(self, p: float = 0.5, generator=None):
        self.p = p
        self.generator = generator

    def __call__(self, img):
        if _numpy_rng(self.generator).random() < self.p:
            arr, was_tensor, dev = _unwrap(img)
            return _wrap(arr[..., ::-1, :].copy(), was_tensor, dev)
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


def _inverse_affine_matrix(angle, translate, scale, shear) -> np.ndarray:
    """Output pixel -> input pixel, both relative to the image centre (torchvision's formula).

    The forward map is ``T * C * R(angle) * Shear * Scale * C^-1``; ``angle`` is clockwise in
    degrees for an image whose rows go down (``rotate`` passes ``-angle``).
    """
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = np.array([d, -b, 0.0, -c, a, 0.0]) / scale
    m[2] += m[0] * -tx + m[1] * -ty
    m[5] += m[3] * -tx + m[4] * -ty
    return m.reshape(2, 3)


def _warp(arr: np.ndarray, inv: np.ndarray, interpolation: str, fill, center=None) -> np.ndarray:
    """Resample ``arr`` (..., H, W): out[y, x] = arr at ``inv @ (x, y, 1)`` (centred coords).

    Samples outside the image take ``fill``. Bilinear blends towards ``fill`` across the border
    (the image is padded by one pixel of ``fill``), like ``grid_sample`` with zero padding.
    """
    h, w = arr.shape[-2:]
    cx, cy = ((w - 1) * 0.5, (h - 1) * 0.5) if center is None else center
    ys, xs = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64),
                         indexing="ij")  # fmt: skip
    xo, yo = xs - cx, ys - cy
    src_x = inv[0, 0] * xo + inv[0, 1] * yo + inv[0, 2] + cx
    src_y = inv[1, 0] * xo + inv[1, 1] * yo + inv[1, 2] + cy
    lead = arr.shape[:-2]
    flat = arr.reshape((-1, h, w)).astype(np.float64)
    fill_v = np.broadcast_to(np.asarray(fill, dtype=np.float64), (flat.shape[0],))
    padded = np.empty((flat.shape[0], h + 2, w + 2))
    padded[...] = fill_v[:, None, None]
    padded[:, 1:-1, 1:-1] = flat
    # Shift by one for the border of fill; a tiny tolerance keeps exact grid points (e.g. a
    # rotation by 90 degrees, where cos is 6e-17 and not 0) on the image.
    px, py = src_x + 1, src_y + 1
    if interpolation == "nearest":
        # Round half to even, as grid_sample's nearest mode (nearbyint).
        ix = np.rint(px).astype(np.int64)
        iy = np.rint(py).astype(np.int64)
        inside = (ix >= 1) & (ix <= w) & (iy >= 1) & (iy <= h)
        ix = np.where(inside, ix, 0)
        iy = np.where(inside, iy, 0)
        out = padded[:, iy, ix]
    elif interpolation == "bilinear":
        px = np.clip(np.where(np.abs(px - np.rint(px)) < 1e-9, np.rint(px), px), 0, w + 1)
        py = np.clip(np.where(np.abs(py - np.rint(py)) < 1e-9, np.rint(py), py), 0, h + 1)
        x0 = np.minimum(np.floor(px).astype(np.int64), w)
        y0 = np.minimum(np.floor(py).astype(np.int64), h)
        fx, fy = px - x0, py - y0
        out = (
            padded[:, y0, x0] * ((1 - fx) * (1 - fy))
            + padded[:, y0, x0 + 1] * (fx * (1 - fy))
            + padded[:, y0 + 1, x0] * ((1 - fx) * fy)
            + padded[:, y0 + 1, x0 + 1] * (fx * fy)
        )
        outside = (src_x < -1) | (src_x > w) | (src_y < -1) | (src_y > h)
        out[:, outside] = fill_v[:, None]
    else:
        raise ValueError(f"interpolation should be 'nearest' or 'bilinear', got {interpolation!r}")
    return _cast_like(out.reshape(lead + (h, w)), arr.dtype)


def _degrees_range(degrees, name: str) -> tuple[float, float]:
    if isinstance(degrees, numbers.Number):
        if degrees < 0:
            raise ValueError(f"{name}: if degrees is a single number, it must be positive")
        return -float(degrees), float(degrees)
    if len(degrees) != 2:
        raise ValueError(f"{name}: degrees should be a number or a sequence of 2 numbers")
    return float(degrees[0]), float(degrees[1])


class RandomRotation:
    """Rotate by an angle drawn uniformly from ``[-degrees, degrees]`` (counter-clockwise).

    Inverse mapping: every output pixel looks up its source position (rotated about the image
    centre) and samples it with ``interpolation`` ("nearest", torchvision's default, or
    "bilinear"); pixels from outside the image get ``fill``. The output keeps the input size.

    Example:
        >>> RandomRotation((90, 90))(img)  # == np.rot90(img, axes=(-2, -1)) for square img
    """

    def __init__(
        self, degrees, interpolation="nearest", expand=False, center=None, fill=0,
        generator=None,
    ):  # fmt: skip
        if expand:
            raise NotImplementedError("RandomRotation: expand=True is not supported")
        self.degrees = _degrees_range(degrees, "RandomRotation")
        self.interpolation = interpolation
        self.center = center
        self.fill = fill
        self.generator = generator

    def __call__(self, img):
        arr, was_tensor, dev = _unwrap(img)
        _check_image(arr, "RandomRotation")
        angle = float(_numpy_rng(self.generator).uniform(*self.degrees))
        inv = _inverse_affine_matrix(-angle, (0.0, 0.0), 1.0, (0.0, 0.0))
        out = _warp(arr, inv, self.interpolation, self.fill, self.center)
        return _wrap(out, was_tensor, dev)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(degrees={self.degrees}, interpolation={self.interpolation})"


class RandomAffine:
    """Random rotation, translation, scale and shear about the image centre (torchvision).

    Args:
        degrees: angle range ``[-d, d]`` or ``(min, max)`` (clockwise, as torchvision's affine).
        translate: ``(a, b)``: horizontal shift drawn from ``[-a*W, a*W]`` (rounded to whole
            pixels), vertical from ``[-b*H, b*H]``.
        scale: ``(lo, hi)``: zoom factor drawn uniformly.
        shear: x-shear range in degrees (number or (min, max)), or 4 numbers for x and y.
        interpolation: "nearest" (default) or "bilinear".
        fill: value for pixels from outside the image.
    """

    def __init__(
        self, degrees, translate=None, scale=None, shear=None, interpolation="nearest",
        fill=0, center=None, generator=None,
    ):  # fmt: skip
        self.degrees = _degrees_range(degrees, "RandomAffine")
        if translate is not None:
            if len(translate) != 2 or not all(0.0 <= t <= 1.0 for t in translate):
                raise ValueError("translate should be a sequence of 2 values between 0 and 1")
        if scale is not None and (len(scale) != 2 or any(s <= 0 for s in scale)):
            raise ValueError("scale should be a sequence of 2 positive values")
        if shear is not None:
            if isinstance(shear, numbers.Number):
                shear = (-float(shear), float(shear))
            if len(shear) not in (2, 4):
                raise ValueError("shear should be a number or a sequence of 2 or 4 numbers")
        self.translate = translate
        self.scale = scale
        self.shear = shear
        self.interpolation = interpolation
        self.fill = fill
        self.center = center
        self.generator = generator

    def get_params(self, rng, h: int, w: int):
        angle = float(rng.uniform(*self.degrees))
        tx = ty = 0.0
        if self.translate is not None:
            max_dx, max_dy = self.translate[0] * w, self.translate[1] * h
            tx = float(round(rng.uniform(-max_dx, max_dx)))
            ty = float(round(rng.uniform(-max_dy, max_dy)))
        scale = 1.0 if self.scale is None else float(rng.uniform(*self.scale))
        shx = shy = 0.0
        if self.shear is not None:
            shx = float(rng.uniform(self.shear[0], self.shear[1]))
            if len(self.shear) == 4:
                shy = float(rng.uniform(self.shear[2], self.shear[3]))
        return angle, (tx, ty), scale, (shx, shy)

    def __call__(self, img):
        arr, was_tensor, dev = _unwrap(img)
        _check_image(arr, "RandomAffine")
        h, w = arr.shape[-2:]
        angle, translate, scale, shear = self.get_params(_numpy_rng(self.generator), h, w)
        inv = _inverse_affine_matrix(angle, translate, scale, shear)
        out = _warp(arr, inv, self.interpolation, self.fill, self.center)
        return _wrap(out, was_tensor, dev)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(degrees={self.degrees}, translate={self.translate}, "
            f"scale={self.scale}, shear={self.shear})"
        )


class GaussianNoise:
    """Add ``N(mean, std^2)`` noise to a float image; ``clip=True`` clips the result to [0, 1]."""

    def __init__(self, mean: float = 0.0, std: float = 0.1, clip: bool = False, generator=None):
        if std < 0:
            raise ValueError(f"std should be non-negative, got {std}")
        self.mean = mean
        self.std = std
        self.clip = clip
        self.generator = generator

    def __call__(self, img):
        arr, was_tensor, dev = _unwrap(img)
        if arr.dtype.kind != "f":
            raise TypeError(f"GaussianNoise: input should be a float image, got {arr.dtype}")
        noise = _numpy_rng(self.generator).normal(self.mean, self.std, arr.shape)
        out = (arr + noise).astype(arr.dtype)
        if self.clip:
            out = np.clip(out, 0, 1)
        return _wrap(out, was_tensor, dev)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std}, clip={self.clip})"


__all__ = [
    "CenterCrop",
    "Compose",
    "GaussianNoise",
    "Lambda",
    "Normalize",
    "RandomAffine",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomRotation",
    "RandomVerticalFlip",
    "ToTensor",
]
