"""Normalisation layers: standardise activations, then scale and shift them with learned
per-feature parameters (y = (x - mean) / sqrt(var + eps) * weight + bias).

They differ in which values share a mean and variance:

- ``BatchNorm1d/2d/3d``: each channel over the batch (and spatial positions). Training uses
  the batch's statistics and tracks running averages; evaluation uses the running ones.
- ``LayerNorm``: each sample over its trailing ``normalized_shape`` dims (transformers, RNNs).
- ``GroupNorm``: each sample over groups of channels (small batches, detection models).
- ``RMSNorm``: like LayerNorm without centring and bias: x / sqrt(mean(x^2) + eps) * weight.

Parameter and buffer names, defaults, initialisation and ``repr`` are PyTorch's, so a torch
``state_dict`` converted to NumPy loads with ``load_state_dict``.
"""

from __future__ import annotations

import numbers

from chainrule import dtypes
from chainrule.autograd.function import no_grad
from chainrule.creation import empty, ones, zeros
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.module import Module, Parameter
from chainrule.tensor import tensor

__all__ = [
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "LayerNorm",
    "GroupNorm",
    "RMSNorm",
]


def _register_affine(module, shape, affine: bool, bias: bool, device, dtype) -> None:
    """The learnable scale ``weight`` (and shift ``bias``) of ``shape``, or None placeholders
    (PyTorch's parameter names either way)."""
    if affine:
        module.weight = Parameter(empty(*shape, device=device, dtype=dtype))
        if bias:
            module.bias = Parameter(empty(*shape, device=device, dtype=dtype))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def _reset_affine(module) -> None:
    """weight = 1 and bias = 0: the layer starts as a pure normalisation, as in PyTorch."""
    if module.weight is not None:
        init.ones_(module.weight)
    if getattr(module, "bias", None) is not None:
        init.zeros_(module.bias)


class _NormBase(Module):
    """Parameters (weight, bias) and running statistics shared by the BatchNorm layers."""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _register_affine(self, (num_features,), affine, bias, device, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype))
            self.register_buffer(
                "num_batches_tracked", tensor(0, dtype=dtypes.int64, device=device)
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """running_mean = 0, running_var = 1, num_batches_tracked = 0."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.data[...] = 0
                self.running_var.data[...] = 1
                self.num_batches_tracked.data[...] = 0
                for b in (self.running_mean, self.running_var, self.num_batches_tracked):
                    b._version[0] += 1

    def reset_parameters(self) -> None:
        """Running statistics reset; weight = 1 and bias = 0 (the identity map), as PyTorch."""
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input_dim(self, input) -> None:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    def forward(self, input):
        self._check_input_dim(input)
        if input.shape[1] != self.num_features:
            raise RuntimeError(
                f"{self!r}: expected input with {self.num_features} channels (dim 1), got input "
                f"of shape {tuple(input.shape)}"
            )
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with no_grad():
                self.num_batches_tracked.data += 1
                self.num_batches_tracked._version[0] += 1
            if self.momentum is None:  # cumulative moving average: the mean of all batches
                factor = 1.0 / float(self.num_batches_tracked.data)
        # Batch statistics in training, and in eval when no running statistics are kept.
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch,
            factor,
            self.eps,
        )


_BN_DOC = """Batch normalisation over {what}: each channel c is standardised with the mean
    and variance of its values in the batch, then scaled and shifted:
    y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c.

    Training normalises with the batch's (biased) variance and updates the running averages
    running = (1 - momentum) running + momentum batch_stat (the unbiased variance for
    running_var; momentum=None: the cumulative average of all batches so far). Evaluation
    (``.eval()``) normalises with the running statistics, so the output of a sample no longer
    depends on its batch.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance (default 1e-5).
        momentum: weight of each new batch in the running statistics (default 0.1), or None.
        affine: learn weight (init 1) and bias (init 0) (default True).
        track_running_stats: keep running statistics (default True); when False, evaluation
            also uses batch statistics.
        bias: learn the bias (keyword only, default True).

    Shape: {shape}.
    Buffers: running_mean (C,), running_var (C,), num_batches_tracked (int64 scalar).

    Example:
        >>> bn = nn.{name}(3)
        >>> bn(chainrule.randn({example})).shape
        chainrule.Size([{example}])
    """


class BatchNorm1d(_BatchNorm):
    __doc__ = _BN_DOC.format(
        what="a batch of vectors or of sequences",
        shape="input (N, C) or (N, C, L) -> the same",
        name="BatchNorm1d",
        example="4, 3",
    )

    def _check_input_dim(self, input) -> None:
        if input.ndim != 2 and input.ndim != 3:
            raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")


class BatchNorm2d(_BatchNorm):
    __doc__ = _BN_DOC.format(
        what="a batch of images",
        shape="input (N, C, H, W) -> the same",
        name="BatchNorm2d",
        example="2, 3, 4, 4",
    )

    def _check_input_dim(self, input) -> None:
        if input.ndim != 4:
            raise ValueError(f"expected 4D input (got {input.ndim}D input)")


class BatchNorm3d(_BatchNorm):
    __doc__ = _BN_DOC.format(
        what="a batch of volumes",
        shape="input (N, C, D, H, W) -> the same",
        name="BatchNorm3d",
        example="2, 3, 2, 2, 2",
    )

    def _check_input_dim(self, input) -> None:
        if input.ndim != 5:
            raise ValueError(f"expected 5D input (got {input.ndim}D input)")


def _as_shape(normalized_shape) -> tuple:
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(normalized_shape)


class _InstanceNorm(_NormBase):
    """Instance normalisation: each channel of each sample is standardised over its spatial
    positions, then scaled and shifted per channel (GroupNorm(C, C) with optional running
    statistics). Defaults as PyTorch: affine=False, track_running_stats=False."""

    _spatial_dims = 1

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, input):
        batched = input.ndim == self._spatial_dims + 2
        if not batched and input.ndim != self._spatial_dims + 1:
            raise ValueError(
                f"{type(self).__name__}: expected {self._spatial_dims + 1}D (unbatched) or "
                f"{self._spatial_dims + 2}D (batched) input, got shape {tuple(input.shape)}"
            )
        x = input if batched else input.unsqueeze(0)
        if x.shape[1] != self.num_features and self.affine:
            raise RuntimeError(
                f"{self!r}: expected input with {self.num_features} channels (dim 1), got input "
                f"of shape {tuple(input.shape)}"
            )
        out = F.instance_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            0.0 if self.momentum is None else self.momentum,
            self.eps,
        )
        return out if batched else out.squeeze(0)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) or (C, L) inputs (see ``_InstanceNorm``)."""

    _spatial_dims = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) or (C, H, W) inputs (see ``_InstanceNorm``)."""

    _spatial_dims = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) or (C, D, H, W) inputs."""

    _spatial_dims = 3


class LayerNorm(Module):
    """Layer normalisation: each sample is standardised over its last dims (the
    ``normalized_shape``), then scaled and shifted elementwise:
    y = (x - mean) / sqrt(var + eps) * weight + bias. Independent of the batch, so training and
    evaluation behave the same. A fused op with a closed-form backward.

    Args:
        normalized_shape: the trailing shape to normalise over (an int for the last dim).
        eps: added to the variance (default 1e-5).
        elementwise_affine: learn weight (init 1) and bias (init 0) of shape
            ``normalized_shape`` (default True).
        bias: learn the bias (default True).

    Shape: input (*, *normalized_shape) -> the same.

    Example:
        >>> ln = nn.LayerNorm(4)
        >>> y = ln(chainrule.randn(2, 5, 4))
        >>> y.shape, abs(y.mean().item()) < 1e-6  # each row now has mean 0 and variance 1
        (chainrule.Size([2, 5, 4]), True)
    """

    def __init__(
        self,
        normalized_shape,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _register_affine(self, self.normalized_shape, elementwise_affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Group normalisation: the C channels of each sample are split into ``num_groups`` groups,
    each standardised over its channels and positions; then a per-channel scale and shift.
    GroupNorm(1, C) normalises each sample over everything (like LayerNorm over (C, *));
    GroupNorm(C, C) normalises each channel of each sample (InstanceNorm). Batch-independent.

    Args:
        num_groups: number of groups; must divide num_channels.
        num_channels: C.
        eps: added to the variance (default 1e-5).
        affine: learn weight (init 1) and bias (init 0) of shape (C,) (default True).
        bias: learn the bias (keyword only, default True).

    Shape: input (N, C, *) -> the same.

    Example:
        >>> gn = nn.GroupNorm(2, 4)
        >>> gn(chainrule.randn(3, 4, 5)).shape
        chainrule.Size([3, 4, 5])
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(
                f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _register_affine(self, (num_channels,), affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class RMSNorm(Module):
    """Root-mean-square normalisation: y = x / sqrt(mean(x^2) + eps) * weight over the trailing
    ``normalized_shape`` dims (LayerNorm without subtracting the mean, and without bias; used
    by LLaMA-style transformers). A fused op with a closed-form backward.

    Args:
        normalized_shape: the trailing shape to normalise over (an int for the last dim).
        eps: added to the mean square; None (default) uses the input dtype's machine epsilon.
        elementwise_affine: learn weight (init 1) of shape ``normalized_shape`` (default True).

    Shape: input (*, *normalized_shape) -> the same.

    Example:
        >>> rms = nn.RMSNorm(2, eps=0.0)
        >>> rms(chainrule.tensor([[3.0, 4.0]]))
        tensor([[0.8485, 1.1314]], grad_fn=<RMSNormBackward>)
    """

    def __init__(
        self,
        normalized_shape,
        eps: float | None = None,
        elementwise_affine: bool = True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(empty(*self.normalized_shape, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input):
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


class LocalResponseNorm(Module):
    """Local response normalisation across channels (AlexNet): each value divided by
    (k + alpha / size * sum of the squares of the ``size`` neighbouring channels)^beta.

    Args:
        size: how many neighbouring channels share the normalisation.
        alpha: the scale of the sum of squares (default 1e-4).
        beta: the exponent (default 0.75).
        k: the additive constant (default 1).

    Shape: input (N, C, *) with at least 3 dims -> the same.

    Example:
        >>> lrn = nn.LocalResponseNorm(2)
        >>> lrn(chainrule.randn(2, 4, 3, 3)).shape
        chainrule.Size([2, 4, 3, 3])
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


__all__ += ["LocalResponseNorm"]
