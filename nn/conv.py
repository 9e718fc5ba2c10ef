"""Conv1d, Conv2d and ConvTranspose2d: convolutions computed as im2col + matmul (and the
transposed one as its adjoint, col2im)."""
from __future__ import annotations

import numpy as np

from autograd import Tensor, get_default_dtype
from autograd.errors import ShapeError

from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class _ConvNd(Module):
    """What Conv1d and Conv2d share: argument checks, the weight (C_out, C_in/groups, *k) and
    bias, PyTorch's default init. `ntuple(value, name)` turns an argument into the layer's
    tuple of per-dimension values."""

    def __init__(self, name: str, ntuple, in_channels: int, out_channels: int, kernel_size,
                 stride, padding, dilation, groups: int, bias: bool, padding_mode: str,
                 dtype) -> None:
        super().__init__()
        _check_groups(name, in_channels, out_channels, groups)
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{name}: padding_mode must be one of 'zeros', 'reflect', "
                             f"'replicate' or 'circular', got {padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = ntuple(kernel_size, "kernel_size")
        self.stride = ntuple(stride, "stride")
        self.dilation = ntuple(dilation, "dilation")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"{name}: invalid padding string {padding!r}, should be one "
                                 f"of 'valid' or 'same'")
            if padding == "same" and set(self.stride) != {1}:
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 "convolutions")
            self.padding = padding
        else:
            self.padding = ntuple(padding, "padding")
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.dilation) < 1:
            raise ValueError(f"{name}: kernel_size, stride and dilation must be positive, got "
                             f"{self.kernel_size}, {self.stride}, {self.dilation}")
        self.groups, self.padding_mode = groups, padding_mode
        _add_weight_and_bias(self, (out_channels, in_channels // groups) + self.kernel_size,
                             out_channels if bias else None, dtype)

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)


class Conv2d(_ConvNd):
    """y[n, o] = b[o] + sum_c w[o, c] (star) x[n, c] over (N, C_in, H, W) input.

    kernel_size, stride, padding and dilation take an int or a pair; padding may also be
    "valid" or "same" (stride 1). groups splits the channels into independent blocks.
    Default init as PyTorch: weight ~ kaiming_uniform_(a=sqrt(5)), bias ~ U(-1/sqrt(fan_in),
    1/sqrt(fan_in)) with fan_in = C_in/groups * kh * kw."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 dtype=None):
        super().__init__("Conv2d", F._pair, in_channels, out_channels, kernel_size, stride,
                         padding, dilation, groups, bias, padding_mode, dtype)

    def forward(self, input: Tensor) -> Tensor:
        padding = self.padding
        if self.padding_mode != "zeros" and padding != "valid":
            x = input
            if x.ndim in (3, 4) and x.shape[-3] != self.in_channels:
                raise ShapeError(f"expected input with {self.in_channels} channels, got shape "
                                 f"{tuple(x.shape)}")
            if padding == "same":
                ph = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
                widths = (ph[1] // 2, ph[1] - ph[1] // 2, ph[0] // 2, ph[0] - ph[0] // 2)
            else:
                widths = (padding[1], padding[1], padding[0], padding[0])
            input, padding = F.pad(x, widths, mode=self.padding_mode), 0
        return F.conv2d(input, self.weight, self.bias, self.stride, padding, self.dilation,
                        self.groups)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) else \
                f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


def _add_weight_and_bias(layer: Module, weight_shape: tuple, bias_size: int | None,
                         dtype) -> None:
    """layer.weight of weight_shape and layer.bias of bias_size (None without a bias), in dtype
    (default: the default dtype), then PyTorch's default init (layer.reset_parameters)."""
    dtype = dtype or get_default_dtype()
    layer.weight = Parameter(np.empty(weight_shape, dtype=dtype))
    if bias_size is not None:
        layer.bias = Parameter(np.empty(bias_size, dtype=dtype))
    else:
        layer.register_parameter("bias", None)
    layer.reset_parameters()


def _single(value, name: str) -> tuple:
    return (F._single(value, name),)


def _check_groups(name: str, in_channels: int, out_channels: int, groups: int) -> None:
    if groups <= 0:
        raise ValueError(f"{name}: groups must be a positive integer")
    if in_channels % groups:
        raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups "
                         f"({groups})")
    if out_channels % groups:
        raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups "
                         f"({groups})")


class Conv1d(_ConvNd):
    """y[n, o] = b[o] + sum_c w[o, c] (star) x[n, c] over (N, C_in, L) input: conv2d on a
    unit-height image. kernel_size, stride, padding, dilation: int or 1-tuple; padding may
    be "valid" or "same" (stride 1). Weight (C_out, C_in/groups, k); PyTorch's init
    (kaiming_uniform_(a=sqrt(5)), bias U(+-1/sqrt(fan_in)), fan_in = C_in/groups * k)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 dtype=None):
        super().__init__("Conv1d", _single, in_channels, out_channels, kernel_size, stride,
                         padding, dilation, groups, bias, padding_mode, dtype)

    def forward(self, input: Tensor) -> Tensor:
        padding = self.padding if isinstance(self.padding, str) else self.padding[0]
        if self.padding_mode != "zeros" and padding != "valid":
            if input.ndim in (2, 3) and input.shape[-2] != self.in_channels:
                raise ShapeError(f"Conv1d: expected input with {self.in_channels} channels, "
                                 f"got shape {tuple(input.shape)}")
            if padding == "same":
                total = self.dilation[0] * (self.kernel_size[0] - 1)
                widths = (total // 2, total - total // 2)
            else:
                widths = (padding, padding)
            input, padding = F.pad(input, widths, mode=self.padding_mode), 0
        return F.conv1d(input, self.weight, self.bias, self.stride, padding, self.dilation,
                        self.groups)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,):
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) else \
                f", padding={self.padding}"
        if self.dilation != (1,):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class ConvTranspose2d(Module):
    """The transposed 2-D convolution (conv2d's input gradient) over (N, C_in, H, W) input:
    OH = (H - 1) stride - 2 padding + dilation (kh - 1) + output_padding + 1. Weight laid
    out as PyTorch's, (C_in, C_out/groups, kh, kw), with its init (kaiming_uniform_(a=
    sqrt(5)); bias U(+-1/sqrt(fan_in)), fan_in = C_out/groups * kh * kw). forward's
    output_size picks among the sizes the stride allows (as PyTorch)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", dtype=None):
        super().__init__()
        _check_groups("ConvTranspose2d", in_channels, out_channels, groups)
        if padding_mode != "zeros":
            raise ValueError(f"ConvTranspose2d: only 'zeros' padding mode is supported, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = F._pair(kernel_size, "kernel_size")
        self.stride = F._pair(stride, "stride")
        self.padding = F._pair(padding, "padding")
        self.output_padding = F._pair(output_padding, "output_padding")
        self.dilation = F._pair(dilation, "dilation")
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.dilation) < 1:
            raise ValueError(f"ConvTranspose2d: kernel_size, stride and dilation must be "
                             f"positive, got {self.kernel_size}, {self.stride}, "
                             f"{self.dilation}")
        self.groups, self.padding_mode = groups, padding_mode
        _add_weight_and_bias(self, (in_channels, out_channels // groups) + self.kernel_size,
                             out_channels if bias else None, dtype)

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)

    def _output_padding(self, input: Tensor, output_size) -> tuple:
        """output_padding, or the one that makes the output output_size's last two dims."""
        if output_size is None:
            return self.output_padding
        want = tuple(int(v) for v in tuple(output_size)[-2:])
        pads = []
        for d, size in enumerate(want):
            low = ((input.shape[d - 2] - 1) * self.stride[d] - 2 * self.padding[d]
                   + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            if not low <= size < low + self.stride[d]:
                raise ShapeError(f"ConvTranspose2d: requested an output size of {want}, but "
                                 f"valid sizes range from {low} to {low + self.stride[d] - 1} "
                                 f"along dim {d} (for an input of shape "
                                 f"{tuple(input.shape)})")
            pads.append(size - low)
        return tuple(pads)

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        if input.ndim in (3, 4) and input.shape[-3] != self.in_channels:
            raise ShapeError(f"ConvTranspose2d: expected input with {self.in_channels} "
                             f"channels, got shape {tuple(input.shape)}")
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                  self._output_padding(input, output_size), self.groups,
                                  self.dilation)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s
