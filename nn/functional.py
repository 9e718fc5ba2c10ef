"""nn.functional: the stateless form of every layer, activation and loss, with PyTorch's
signatures. Modules call these; each checks its input and names itself in errors (a Module
adds its own repr in front, in Module.__call__).

The differentiable ops come from `autograd.nn_ops` (nn's one door into autograd besides
Tensor methods); what is here turns PyTorch's arguments into theirs and checks shapes.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from autograd import Tensor, from_numpy
from autograd import nn_ops as ops
from autograd.errors import ShapeError
from autograd.nn_ops import Geometry

__all__ = [
    "ShapeError",
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "celu",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "cosine_similarity",
    "cross_entropy",
    "dropout",
    "dropout1d",
    "dropout2d",
    "elu",
    "embedding",
    "gelu",
    "group_norm",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "hinge_loss",
    "huber_loss",
    "interpolate",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "max_pool1d",
    "max_pool2d",
    "max_unpool2d",
    "mish",
    "mse_loss",
    "nll_loss",
    "normalize",
    "one_hot",
    "pad",
    "prelu",
    "relu",
    "relu6",
    "scaled_dot_product_attention",
    "selu",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softmin",
    "softplus",
    "softsign",
    "tanh",
]


# ---- helpers ---------------------------------------------------------------------------------
def _pair(v, name: str = "argument") -> tuple:
    """An int or a pair of ints -> a pair of ints."""
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    v = tuple(int(x) for x in v)
    if len(v) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {v}")
    return v


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _float_pair(a: Tensor, b: Tensor) -> tuple:
    """Cast two tensors to their common float dtype (float32 with float64 gives float64)."""
    dtype = np.result_type(a.dtype, b.dtype)
    return a.astype(dtype), b.astype(dtype)


def _reduce(loss: Tensor, reduction: str, where: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    raise ValueError(f"{where}: {reduction!r} is not a valid value for reduction "
                     f"(expected 'mean', 'sum' or 'none')")


def _check_reduction(reduction: str, where: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{where}: {reduction!r} is not a valid value for reduction "
                         f"(expected 'mean', 'sum' or 'none')")


def _batched(x: Tensor, op: str, what: str = "input") -> tuple:
    """(4-D tensor, unbatched flag) for ops that take (N, C, H, W) or unbatched (C, H, W)."""
    if x.ndim == 3:
        return x.unsqueeze(0), True
    if x.ndim != 4:
        raise ShapeError(f"{op}: expected 3D (unbatched) or 4D (batched) {what}, got "
                         f"{what} of shape {tuple(x.shape)}")
    return x, False


# ---- linear and convolution --------------------------------------------------------------------
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b for x of shape (*, in_features), W (out_features, in_features)."""
    x = _as_tensor(input)
    if x.ndim == 0 or x.shape[-1] != weight.shape[-1]:
        raise ShapeError(f"linear: expected input with {weight.shape[-1]} features in its last "
                         f"dim, got shape {tuple(x.shape)}")
    return ops.linear(x, weight, bias)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
           stride=1, padding=0, dilation=1, groups: int = 1) -> Tensor:
    """2-D cross-correlation of (N, C, H, W) input with (O, C/groups, kh, kw) weight:
    y[n, o, i, j] = b[o] + sum_{c, a, b} w[o, c, a, b] x[n, c, i*s - p + a*d, j*s - p + b*d].
    padding: int, pair, "valid" or "same" (stride 1 only)."""
    op = "conv2d"
    x = _as_tensor(input)
    x4, unbatched = _batched(x, op)
    if weight.ndim != 4:
        raise ShapeError(f"{op}: expected a 4-D weight (out, in/groups, kh, kw), got shape "
                         f"{tuple(weight.shape)}")
    sh, sw = _pair(stride, "stride")
    dh, dw = _pair(dilation, "dilation")
    kh, kw = weight.shape[2:]
    if min(sh, sw) < 1 or min(dh, dw) < 1:
        raise ValueError(f"{op}: stride and dilation must be positive, got stride "
                         f"{(sh, sw)} and dilation {(dh, dw)}")
    if x4.shape[1] != weight.shape[1] * groups:
        raise ShapeError(f"{op}: expected input with {weight.shape[1] * groups} channels, got "
                         f"shape {tuple(x.shape)}")
    if isinstance(padding, str):
        if padding == "valid":
            ph = pw = 0
        elif padding == "same":
            if (sh, sw) != (1, 1):
                raise ValueError(f"{op}: padding='same' is not supported for strided "
                                 f"convolutions (stride {(sh, sw)})")
            total_h, total_w = dh * (kh - 1), dw * (kw - 1)
            ph, pw = total_h // 2, total_w // 2
            if total_h % 2 or total_w % 2:  # the odd pixel goes after, as in PyTorch
                x4 = pad(x4, (0, total_w % 2, 0, total_h % 2))
        else:
            raise ValueError(f"{op}: invalid padding string {padding!r}, should be one of "
                             f"'valid' or 'same'")
    else:
        ph, pw = _pair(padding, "padding")
        if min(ph, pw) < 0:
            raise ValueError(f"{op}: negative padding {(ph, pw)} is not supported")
    h, w = x4.shape[2] + 2 * ph, x4.shape[3] + 2 * pw
    eff_h, eff_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if eff_h > h or eff_w > w:
        raise ShapeError(f"{op}: kernel size {(eff_h, eff_w)} (after dilation) is larger "
                         f"than the padded input size {(h, w)} (input shape {tuple(x.shape)}, "
                         f"padding {(ph, pw)})")
    x4, weight = _float_pair(x4, weight)
    out = ops.conv2d(x4, weight, None if bias is None else bias.astype(weight.dtype),
                     Geometry(kh, kw, sh, sw, ph, pw, dh, dw), groups)
    return out.squeeze(0) if unbatched else out


def _single(v, name: str) -> int:
    """An int or a 1-tuple -> an int (the 1-d layers' kernel_size, stride, ...)."""
    if isinstance(v, (int, np.integer)):
        return int(v)
    v = tuple(int(x) for x in v)
    if len(v) != 1:
        raise ValueError(f"{name} must be an int or a 1-tuple, got {v}")
    return v[0]


def _batched1d(x: Tensor, op: str) -> tuple:
    """((N, C, 1, L) tensor, unbatched flag) for 1-d ops on (N, C, L) or (C, L) input."""
    if x.ndim not in (2, 3):
        raise ShapeError(f"{op}: expected 2D (unbatched) or 3D (batched) input, got input of "
                         f"shape {tuple(x.shape)}")
    x3 = x.unsqueeze(0) if x.ndim == 2 else x
    return x3.unsqueeze(2), x.ndim == 2


def _unbatch1d(out: Tensor, unbatched: bool) -> Tensor:
    out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
           stride=1, padding=0, dilation=1, groups: int = 1) -> Tensor:
    """1-D cross-correlation of (N, C, L) input with (O, C/groups, k) weight: conv2d on a
    unit-height image. padding: int, 1-tuple, "valid" or "same" (stride 1 only)."""
    op = "conv1d"
    x4, unbatched = _batched1d(_as_tensor(input), op)
    if weight.ndim != 3:
        raise ShapeError(f"{op}: expected a 3-D weight (out, in/groups, k), got shape "
                         f"{tuple(weight.shape)}")
    if x4.shape[1] != weight.shape[1] * groups:
        raise ShapeError(f"{op}: expected input with {weight.shape[1] * groups} channels, got "
                         f"shape {tuple(input.shape)}")
    k, s, d = weight.shape[2], _single(stride, "stride"), _single(dilation, "dilation")
    if not isinstance(padding, str):
        p = _single(padding, "padding")
        if p >= 0 and d * (k - 1) + 1 > x4.shape[3] + 2 * p:
            raise ShapeError(f"{op}: kernel size {d * (k - 1) + 1} (after dilation) is larger "
                             f"than the padded input size {x4.shape[3] + 2 * p} (input shape "
                             f"{tuple(input.shape)}, padding {p})")
        padding = (0, p)
    elif padding == "same" and s != 1:
        raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                         f"(stride {s})")
    out = conv2d(x4, weight.unsqueeze(2), bias, (1, s), padding, (1, d), groups)
    return _unbatch1d(out, unbatched)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """The transposed convolution (conv2d's input gradient) of (N, C_in, H, W) input by a
    (C_in, C_out/groups, kh, kw) weight: OH = (H - 1) sh - 2 ph + dh (kh - 1) + oph + 1."""
    op = "conv_transpose2d"
    x = _as_tensor(input)
    x4, unbatched = _batched(x, op)
    if weight.ndim != 4:
        raise ShapeError(f"{op}: expected a 4-D weight (in, out/groups, kh, kw), got shape "
                         f"{tuple(weight.shape)}")
    if groups < 1 or x4.shape[1] != weight.shape[0] or weight.shape[0] % groups:
        raise ShapeError(f"{op}: weight of shape {tuple(weight.shape)} with groups={groups} "
                         f"does not fit input of shape {tuple(x.shape)} (expected "
                         f"{weight.shape[0]} input channels, divisible by groups)")
    sh, sw = _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    oph, opw = _pair(output_padding, "output_padding")
    dh, dw = _pair(dilation, "dilation")
    kh, kw = weight.shape[2:]
    if min(sh, sw, dh, dw) < 1 or min(ph, pw, oph, opw) < 0:
        raise ValueError(f"{op}: stride and dilation must be positive and padding, "
                         f"output_padding non-negative, got stride {(sh, sw)}, dilation "
                         f"{(dh, dw)}, padding {(ph, pw)}, output_padding {(oph, opw)}")
    if oph >= max(sh, dh) or opw >= max(sw, dw):
        raise ValueError(f"{op}: output padding must be smaller than either stride or "
                         f"dilation, but got output_padding {(oph, opw)}, stride {(sh, sw)}, "
                         f"dilation {(dh, dw)}")
    if oph >= sh or opw >= sw:
        raise NotImplementedError(f"{op}: output_padding {(oph, opw)} not smaller than the "
                                  f"stride {(sh, sw)} is not supported")
    size = ((x4.shape[2] - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1,
            (x4.shape[3] - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1)
    if min(size) <= 0:
        raise ShapeError(f"{op}: the output size {size} is not positive (input shape "
                         f"{tuple(x.shape)}, kernel {(kh, kw)}, padding {(ph, pw)})")
    x4, weight = _float_pair(x4, weight)
    out = ops.conv_transpose2d(x4, weight, None if bias is None else bias.astype(weight.dtype),
                               Geometry(kh, kw, sh, sw, ph, pw, dh, dw), size, groups)
    return out.squeeze(0) if unbatched else out


# ---- resampling ----------------------------------------------------------------------------------
def _resize_plan(x: Tensor, size, scale_factor, op: str) -> tuple:
    """(output sizes, per-dim scale factors or None) of an interpolate over x's last dims."""
    dims = x.ndim - 2
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: either size or scale_factor should be defined (exactly one), "
                         f"got size={size}, scale_factor={scale_factor}")
    if size is not None:
        sizes = (size,) * dims if isinstance(size, (int, np.integer)) else tuple(size)
        if len(sizes) != dims:
            raise ValueError(f"{op}: size {size} must have {dims} entries for input of "
                             f"shape {tuple(x.shape)}")
        out = tuple(int(v) for v in sizes)
        scales = (None,) * dims
    else:
        scales = (scale_factor,) * dims if isinstance(scale_factor, (int, float, np.number)) \
            else tuple(scale_factor)
        if len(scales) != dims:
            raise ValueError(f"{op}: scale_factor {scale_factor} must have {dims} entries for "
                             f"input of shape {tuple(x.shape)}")
        scales = tuple(float(f) for f in scales)
        out = tuple(int(np.floor(n * f)) for n, f in zip(x.shape[2:], scales))
    if min(out) <= 0 or min(x.shape[2:]) <= 0:
        raise ShapeError(f"{op}: input {tuple(x.shape)} and output sizes {out} must be "
                         f"positive")
    return out, scales


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the last dims of (N, C, L) or (N, C, H, W) input to `size` (or by
    `scale_factor`): mode "nearest" (3-D or 4-D), "linear" (3-D) or "bilinear" (4-D) with
    PyTorch's source positions; differentiable (an index gather or two small matmuls)."""
    op = "interpolate"
    x = _as_tensor(input)
    modes = {"nearest": (3, 4), "linear": (3,), "bilinear": (4,)}
    if mode not in modes:
        raise NotImplementedError(f"{op}: mode {mode!r} is not supported (supported: "
                                  f"'nearest', 'linear', 'bilinear')")
    if x.ndim not in modes[mode]:
        raise ShapeError(f"{op}: mode {mode!r} expects "
                         f"{' or '.join(f'{d}-D' for d in modes[mode])} input, got input of "
                         f"shape {tuple(x.shape)}")
    if align_corners is not None and mode == "nearest":
        raise ValueError(f"{op}: align_corners option can only be set with the interpolating "
                         f"modes: linear | bilinear")
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not supported")
    out, scales = _resize_plan(x, size, scale_factor, op)
    if recompute_scale_factor:
        scales = (None,) * len(out)
    if mode != "nearest" or x.ndim == 4:
        # PyTorch copies a dim whose size stays, whatever its scale_factor (except 1-d
        # nearest, which still reads floor(dst / scale_factor))
        scales = tuple(None if n == m else f for n, m, f in zip(x.shape[2:], out, scales))
    if mode == "nearest":
        for axis, (n, m, f) in enumerate(zip(x.shape[2:], out, scales)):
            idx = ops.nearest_index(n, m, f)
            x = x[(slice(None),) * (axis + 2) + (idx,)]
        return x
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: mode {mode!r} expects a floating point input, got {x.dtype}")
    corners = bool(align_corners)
    mats = [from_numpy(ops.linear_matrix(n, m, corners, f, x.dtype)).to(x.device)
            for n, m, f in zip(x.shape[2:], out, scales)]
    if mode == "linear":
        return x @ mats[0].mT
    return mats[0] @ (x @ mats[1].mT)


# ---- pooling -------------------------------------------------------------------------------------
def _pool_geometry(x4, kernel_size, stride, padding, dilation, op):
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = _pair(kernel_size if stride is None or stride == () else stride, "stride")
    ph, pw = _pair(padding, "padding")
    dh, dw = _pair(dilation, "dilation")
    if min(kh, kw, sh, sw, dh, dw) < 1 or min(ph, pw) < 0:
        raise ValueError(f"{op}: kernel size, stride and dilation must be positive and "
                         f"padding non-negative, got kernel {(kh, kw)}, stride {(sh, sw)}, "
                         f"padding {(ph, pw)}, dilation {(dh, dw)}")
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError(f"{op}: pad should be at most half of kernel size, but got "
                         f"padding {(ph, pw)} and kernel size {(kh, kw)}")
    h, w = x4.shape[2] + 2 * ph, x4.shape[3] + 2 * pw
    if dh * (kh - 1) + 1 > h or dw * (kw - 1) + 1 > w:
        raise ShapeError(f"{op}: kernel size {(kh, kw)} is larger than the padded input "
                         f"size {(h, w)} (input shape {tuple(x4.shape)}, padding {(ph, pw)})")
    return Geometry(kh, kw, sh, sw, ph, pw, dh, dw)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """Max over each kh x kw window (padding counts as -inf); stride defaults to the kernel
    size. With return_indices, also the int64 flat index h * W + w of each max within its
    input plane (what max_unpool2d takes), as PyTorch's."""
    x4, unbatched = _batched(_as_tensor(input), "max_pool2d")
    geom = _pool_geometry(x4, kernel_size, stride, padding, dilation, "max_pool2d")
    width = x4.shape[3]
    if ceil_mode:
        x4 = _ceil_mode_pad(x4, geom)
    if not return_indices:
        out = ops.max_pool2d(x4, geom)
        return out.squeeze(0) if unbatched else out
    out, idx = ops.max_pool2d_with_indices(x4, geom)
    if x4.shape[3] != width:  # ceil_mode padded the right edge: back to the input's width
        flat = idx.numpy()
        idx = from_numpy(flat // x4.shape[3] * width + flat % x4.shape[3])
    return (out.squeeze(0), idx.squeeze(0)) if unbatched else (out, idx)


def _ceil_extra(x4: Tensor, geom: Geometry) -> list:
    """Rows and columns to add at the bottom / right so a floor-mode pool gives ceil_mode's
    output: out = ceil((size + 2p - d(k-1) - 1) / s) + 1, minus one if the last window would
    start in the padding (PyTorch's rule)."""
    extra = []
    for size, k, s, p, d in ((x4.shape[2], geom.kh, geom.sh, geom.ph, geom.dh),
                             (x4.shape[3], geom.kw, geom.sw, geom.pw, geom.dw)):
        out = -(-(size + 2 * p - d * (k - 1) - 1) // s) + 1
        if (out - 1) * s >= size + p:
            out -= 1
        extra.append(max((out - 1) * s + d * (k - 1) + 1 - (size + 2 * p), 0))
    return extra


def _ceil_mode_pad(x4: Tensor, geom: Geometry) -> Tensor:
    """Pad the bottom / right with the dtype's lowest value for a ceil_mode max pool."""
    extra = _ceil_extra(x4, geom)
    if not any(extra):
        return x4
    return pad(x4, (0, extra[1], 0, extra[0]), value=ops.lowest(x4.dtype))


def _avg_divisor(size: int, out: int, k: int, s: int, p: int, count_include_pad: bool):
    """PyTorch's avg-pool divisor along one dim: the window clipped to the padded input
    (count_include_pad) or to the input itself."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over each kh x kw window; padded zeros count unless count_include_pad=False.
    ceil_mode adds the partial windows at the bottom / right, divided (as PyTorch) by the
    part of the window inside the padded input, or inside the input."""
    op = "avg_pool2d"
    x4, unbatched = _batched(_as_tensor(input), op)
    if x4.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {x4.dtype} "
                        f"(shape {tuple(x4.shape)})")
    geom = _pool_geometry(x4, kernel_size, stride, padding, 1, op)
    if divisor_override is not None and divisor_override <= 0:
        raise ValueError(f"{op}: divisor_override must be positive, got {divisor_override}")
    extra = _ceil_extra(x4, geom) if ceil_mode else [0, 0]
    if divisor_override is not None:
        out = ops.avg_pool2d(pad(x4, (0, extra[1], 0, extra[0])) if any(extra) else x4, geom,
                             count_include_pad=True) * (geom.kh * geom.kw / divisor_override)
    elif any(extra):
        h, w = x4.shape[2:]
        sums = ops.avg_pool2d(pad(x4, (0, extra[1], 0, extra[0])), geom,
                              count_include_pad=True) * float(geom.kh * geom.kw)
        oh, ow = sums.shape[2:]
        div = np.outer(_avg_divisor(h, oh, geom.kh, geom.sh, geom.ph, count_include_pad),
                       _avg_divisor(w, ow, geom.kw, geom.sw, geom.pw, count_include_pad))
        out = sums / from_numpy(div.astype(x4.dtype)).to(x4.device)
    else:
        out = ops.avg_pool2d(x4, geom, count_include_pad)
    return out.squeeze(0) if unbatched else out


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """Max over each window of (N, C, L) or (C, L) input: max_pool2d on a unit-height image
    (indices are positions along L)."""
    x4, unbatched = _batched1d(_as_tensor(input), "max_pool1d")
    k = _single(kernel_size, "kernel_size")
    s = k if stride is None or stride == () else _single(stride, "stride")
    out = max_pool2d(x4, (1, k), (1, s), (0, _single(padding, "padding")),
                     (1, _single(dilation, "dilation")), ceil_mode, return_indices)
    if return_indices:
        return _unbatch1d(out[0], unbatched), _unbatch1d(out[1], unbatched)
    return _unbatch1d(out, unbatched)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over each window of (N, C, L) or (C, L) input: avg_pool2d on a unit-height
    image."""
    x4, unbatched = _batched1d(_as_tensor(input), "avg_pool1d")
    k = _single(kernel_size, "kernel_size")
    s = k if stride is None or stride == () else _single(stride, "stride")
    out = avg_pool2d(x4, (1, k), (1, s), (0, _single(padding, "padding")), ceil_mode,
                     count_include_pad)
    return _unbatch1d(out, unbatched)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of max_pool2d: zeros with each input value put back at its
    index (flat h * W + w within the output plane). The output size defaults to
    (H - 1) * stride - 2 * padding + kernel_size, or is output_size's last two entries."""
    op = "max_unpool2d"
    x = _as_tensor(input)
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)  # cuda: stays
    x4, unbatched = _batched(x, op)
    if tuple(idx.shape) != tuple(x.shape) or idx.dtype.kind not in "iu":
        raise ShapeError(f"{op}: expected integer indices of the input's shape "
                         f"{tuple(x.shape)}, got {idx.dtype} indices of shape {idx.shape}")
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = _pair(kernel_size if stride is None else stride, "stride")
    ph, pw = _pair(padding, "padding")
    if output_size is None:
        size = ((x4.shape[2] - 1) * sh - 2 * ph + kh, (x4.shape[3] - 1) * sw - 2 * pw + kw)
    else:
        size = tuple(int(v) for v in tuple(output_size)[-2:])
        if len(size) != 2:
            raise ValueError(f"{op}: output_size must have at least 2 entries, got "
                             f"{output_size}")
    if min(size) <= 0:
        raise ShapeError(f"{op}: output size {size} must be positive (input shape "
                         f"{tuple(x.shape)})")
    if idx.size and (idx.min() < 0 or idx.max() >= size[0] * size[1]):
        raise IndexError(f"{op}: found an invalid max index {int(idx.max())} (output plane "
                         f"{size} holds {size[0] * size[1]} elements, input shape "
                         f"{tuple(x.shape)})")
    out = ops.max_unpool2d(x4, idx.reshape(x4.shape), size)
    return out.squeeze(0) if unbatched else out


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) of (N, C, *) input: by the batch's mean and biased
    variance when training (and update the running statistics in place, with the unbiased
    variance), else by running_mean / running_var."""
    x = _as_tensor(input)
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: expected input of shape (N, C, *), got shape "
                         f"{tuple(x.shape)}")
    c = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise ShapeError(f"batch_norm: expected input with {t.shape[0] if t.ndim else t.shape}"
                             f" channels (the size of {name}), got shape {tuple(x.shape)}")
    if training:
        per_channel = x.data.size // max(c, 1)
        if per_channel <= 1:
            raise ValueError(f"batch_norm: Expected more than 1 value per channel when "
                             f"training, got input size {tuple(x.shape)}")
        if (weight is None) != (bias is None):
            weight = weight if weight is not None else from_numpy(np.ones(c, x.dtype))
            bias = bias if bias is not None else from_numpy(np.zeros(c, x.dtype))
        if weight is not None:
            weight, bias = weight.astype(x.dtype), bias.astype(x.dtype)
        out, mean, var = ops.batch_norm(x, weight, bias, eps)
        if running_mean is not None and running_var is not None:
            _update_running_stats(running_mean, running_var, mean, var, per_channel,
                                  0.0 if momentum is None else momentum)
        return out
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var must be given when not "
                         "training")
    shape = (1, c) + (1,) * (x.ndim - 2)
    mean = running_mean.astype(x.dtype).reshape(shape)
    invstd = (running_var.astype(x.dtype).reshape(shape) + eps) ** -0.5
    out = (x - mean) * invstd
    if weight is not None:
        out = out * weight.astype(x.dtype).reshape(shape)
    if bias is not None:
        out = out + bias.astype(x.dtype).reshape(shape)
    return out


@ops.replayable
def _update_running_stats(running_mean: Tensor, running_var: Tensor, mean: Tensor,
                          var: Tensor, count: int, momentum: float) -> None:
    """running = (1 - m) running + m batch, in place, as PyTorch: the unbiased variance
    var * n / (n - 1) goes into running_var. The version bumps let a graph that saved the
    running statistics see that they changed."""
    running_mean.data *= 1 - momentum
    running_mean.data += momentum * mean.data
    running_var.data *= 1 - momentum
    running_var.data += momentum * var.data * (count / max(count - 1, 1))
    running_mean.mark_modified()
    running_var.mark_modified()


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing dims given by normalized_shape:
    y = (x - mean) / sqrt(var + eps) * weight + bias (biased variance)."""
    x = _as_tensor(input)
    shape = ((int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer))
             else tuple(normalized_shape))
    k = len(shape)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != shape:
        raise ShapeError(f"layer_norm: expected input with trailing shape {shape}, got shape "
                         f"{tuple(x.shape)}")
    fused = ops.layer_norm(x, k, weight, bias, eps)  # one op where the dtypes allow
    if fused is not None:
        return fused
    dims = tuple(range(x.ndim - k, x.ndim))
    centred = x - x.mean(dims, keepdim=True)
    var = (centred * centred).mean(dims, keepdim=True)
    out = centred * (var + eps) ** -0.5
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Inverted dropout: zero each element with probability p and scale the rest by
    1 / (1 - p), so the expectation is unchanged; the identity when not training."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = _as_tensor(input)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    return ops.dropout(x, p)



def _channel_dropout(input, p: float, training: bool, op: str, ndims: tuple) -> Tensor:
    """Zero whole channels: one mask value per (N, C) (per C for unbatched input)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    x = _as_tensor(input)
    if x.ndim not in ndims:
        raise ShapeError(f"{op}: expected {ndims[0]}D (unbatched) or {ndims[1]}D (batched) "
                         f"input, got input of shape {tuple(x.shape)}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    lead = 1 if x.ndim == ndims[0] and ndims[0] == 2 else 2
    return ops.dropout(x, p, tuple(x.shape[:lead]) + (1,) * (x.ndim - lead))


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Channel dropout of (N, C, L) or (C, L) input: each channel zeroed entirely with
    probability p, the rest scaled by 1 / (1 - p)."""
    return _channel_dropout(input, p, training, "dropout1d", (2, 3))


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Channel dropout of (N, C, H, W) input (3-D input is taken as (N, C, L), as PyTorch
    does): each channel zeroed entirely with probability p, the rest scaled by 1 / (1 - p)."""
    return _channel_dropout(input, p, training, "dropout2d", (3, 4))


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise (N, C, *) input over each group of C / num_groups channels and all spatial
    positions (biased variance), then scale and shift per channel."""
    op = "group_norm"
    x = _float_input(input, op)
    if x.ndim < 2:
        raise ShapeError(f"{op}: expected input of shape (N, C, *), got shape "
                         f"{tuple(x.shape)}")
    n, c = x.shape[:2]
    if num_groups <= 0 or c % num_groups:
        raise ShapeError(f"{op}: expected the number of channels ({c}, input shape "
                         f"{tuple(x.shape)}) to be divisible by num_groups ({num_groups})")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise ShapeError(f"{op}: expected input with {t.shape[0] if t.ndim else t.shape} "
                             f"channels (the size of {name}), got shape {tuple(x.shape)}")
    g = x.reshape(n, num_groups, -1)
    centred = g - g.mean(2, keepdim=True)
    var = (centred * centred).mean(2, keepdim=True)
    out = (centred * (var + eps) ** -0.5).reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * weight.astype(x.dtype).reshape(shape)
    if bias is not None:
        out = out + bias.astype(x.dtype).reshape(shape)
    return out


def _adaptive_edges(size: int, out: int) -> list:
    """PyTorch's adaptive-pool bins: bin i is [floor(i size / out), ceil((i + 1) size / out))."""
    return [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]


def _adaptive_matrix(size: int, out: int, dtype) -> np.ndarray:
    """(out, size) averaging matrix of PyTorch's adaptive pools: row i averages bin i."""
    m = np.zeros((out, size), dtype=dtype)
    for i, (start, end) in enumerate(_adaptive_edges(size, out)):
        m[i, start:end] = 1.0 / (end - start)
    return m


def _adaptive_sizes(x4: Tensor, output_size, op: str) -> tuple:
    """(OH, OW) from an int, a pair, or None entries (keep that input dim)."""
    sizes = (output_size, output_size) if not isinstance(output_size, (tuple, list)) \
        else tuple(output_size)
    if len(sizes) != 2:
        raise ValueError(f"{op}: output_size must be an int or a pair, got {output_size}")
    h, w = x4.shape[2:]
    oh, ow = (h if sizes[0] is None else int(sizes[0])), (w if sizes[1] is None
                                                          else int(sizes[1]))
    if oh <= 0 or ow <= 0 or min(h, w) == 0:
        raise ShapeError(f"{op}: output size {(oh, ow)} must be positive and the input "
                         f"non-empty, got input of shape {tuple(x4.shape)}")
    return oh, ow


def _bin_index(size: int, out: int) -> np.ndarray:
    """(out, widest bin) input positions of each bin, a short bin padded with its first
    position (a repeat never changes a max nor which position first holds it)."""
    edges = _adaptive_edges(size, out)
    width = max(end - start for start, end in edges)
    idx = np.empty((out, width), dtype=np.int64)
    for i, (start, end) in enumerate(edges):
        idx[i] = start
        idx[i, :end - start] = np.arange(start, end)
    return idx


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Max of (N, C, H, W) or (C, H, W) input over output_size (int, pair, None keeps that
    dim) bins with PyTorch's bin edges; with return_indices also the flat index h * W + w
    of each max in its plane. The first maximum of a bin wins (row-major), as PyTorch."""
    op = "adaptive_max_pool2d"
    x4, unbatched = _batched(_as_tensor(input), op)
    oh, ow = _adaptive_sizes(x4, output_size, op)
    n, c, h, w = x4.shape
    rows, cols = _bin_index(h, oh), _bin_index(w, ow)
    kh, kw = rows.shape[1], cols.shape[1]
    if x4.is_cuda:
        out, idx = _adaptive_max_on_device(x4, rows, cols)
        if not return_indices:
            return out.squeeze(0) if unbatched else out
        return (out.squeeze(0), idx.squeeze(0)) if unbatched else (out, idx)
    windows = x4.numpy()[:, :, rows[:, :, None, None], cols[None, None, :, :]]
    windows = windows.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, kh * kw)
    best = windows.argmax(-1)  # first maximum; NaN counts as the maximum
    flat = (rows[np.arange(oh)[:, None], best // kw] * w
            + cols[np.arange(ow)[None, :], best % kw])  # (N, C, OH, OW) plane indices
    planes = x4.reshape(n, c, h * w)
    out = planes[np.arange(n)[:, None, None], np.arange(c)[None, :, None],
                 flat.reshape(n, c, oh * ow)].reshape(n, c, oh, ow)
    if not return_indices:
        return out.squeeze(0) if unbatched else out
    idx = from_numpy(np.ascontiguousarray(flat, dtype=np.int64))
    return (out.squeeze(0), idx.squeeze(0)) if unbatched else (out, idx)


def _adaptive_max_on_device(x4: Tensor, rows: np.ndarray, cols: np.ndarray) -> tuple:
    """adaptive_max_pool2d of a tensor on a device, in tensor ops that run there: the bins
    gathered by indexing, their max (the first maximum, as the CPU path), and the plane index
    of each from the bins' start and the position of the max (a short bin's padding repeats
    its first position, which an earlier maximum always wins)."""
    n, c, _, w = x4.shape
    (oh, kh), (ow, kw) = rows.shape, cols.shape
    windows = x4[:, :, rows[:, :, None, None], cols[None, None, :, :]]  # (N, C, OH, KH, OW, KW)
    values, best = windows.permute(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, kh * kw).max(-1)
    start_h = Tensor(rows[:, :1].copy()).to(x4.device)  # (OH, 1)
    start_w = Tensor(cols[:, 0].copy()).to(x4.device)  # (OW,)
    return values, (start_h + best // kw) * w + (start_w + best % kw)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average (N, C, H, W) or (C, H, W) input into output_size (int, pair, None keeps that
    dim) bins, with PyTorch's bin edges: out = A_h @ x @ A_w^T for averaging matrices A."""
    op = "adaptive_avg_pool2d"
    x4, unbatched = _batched(_float_input(input, op), op)
    h, w = x4.shape[2:]
    oh, ow = _adaptive_sizes(x4, output_size, op)
    if h % oh == 0 and w % ow == 0:
        n, c = x4.shape[:2]
        out = x4.reshape(n, c, oh, h // oh, ow, w // ow).mean((3, 5))
    else:
        ah = from_numpy(_adaptive_matrix(h, oh, x4.dtype)).to(x4.device)
        awt = from_numpy(_adaptive_matrix(w, ow, x4.dtype).T.copy()).to(x4.device)
        out = ah @ (x4 @ awt)
    return out.squeeze(0) if unbatched else out

# ---- activations -------------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0)."""
    return _as_tensor(input).relu()


def leaky_relu(input: Tensor, negative_slope: float = 0.01,
               inplace: bool = False) -> Tensor:
    """x for x > 0, negative_slope * x otherwise."""
    return _as_tensor(input).leaky_relu(negative_slope)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """max(0, x) + a * min(0, x), with the learnable slope a per channel (dim 1) or shared."""
    x = _as_tensor(input)
    a = weight
    if weight.numel() > 1:
        if x.ndim < 2 or x.shape[1] != weight.numel():
            raise ShapeError(f"prelu: expected input with {weight.numel()} channels (dim 1), "
                             f"got shape {tuple(x.shape)}")
        a = weight.reshape((1, -1) + (1,) * (x.ndim - 2))
    elif weight.ndim:
        a = weight.reshape(())
    return x.relu() - a * (-x).relu()


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + e^-x)."""
    return _as_tensor(input).sigmoid()


def tanh(input: Tensor) -> Tensor:
    return _as_tensor(input).tanh()


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear in between."""
    return (_as_tensor(input) + 3).clamp(0, 6) / 6


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta x)) / beta, computed without overflow (threshold is accepted for
    PyTorch compatibility; the stable form needs no cut-off)."""
    x = _as_tensor(input)
    return ops.softplus(x) if beta == 1 else ops.softplus(x * beta) / beta


def _softmax_dim(ndim: int) -> int:
    """PyTorch's legacy choice when dim is None: 0 for 0-, 1- and 3-D input, else 1."""
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """exp(x) / sum(exp(x)) along dim (stable for any input)."""
    x = _as_tensor(input)
    x = x if dtype is None else x.astype(dtype)
    return x.softmax(_softmax_dim(x.ndim) if dim is None else dim)


def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """x - logsumexp(x) along dim (stable for any input)."""
    x = _as_tensor(input)
    x = x if dtype is None else x.astype(dtype)
    return x.log_softmax(_softmax_dim(x.ndim) if dim is None else dim)



def _float_input(input, op: str) -> Tensor:
    x = _as_tensor(input)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {x.dtype} "
                        f"(shape {tuple(x.shape)})")
    return x


def _neg_part(x: Tensor) -> Tensor:
    """min(x, 0) as x - relu(x): slope 1 for x <= 0 (PyTorch's ELU family takes the negative
    branch's derivative at 0), 0 above."""
    return x - x.relu()


_SQRT_2_OVER_PI = 0.7978845608028654


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)); approximate="tanh":
    0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))."""
    x = _float_input(input, "gelu")
    if approximate == "none":
        return ops.gelu(x)  # one op, fused kernels (the composition on a device tensor)
    if approximate == "tanh":
        return 0.5 * x * (1 + (_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)).tanh())
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x sigmoid(x) (swish)."""
    x = _float_input(input, "silu")
    return x * x.sigmoid()


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x tanh(softplus(x))."""
    x = _float_input(input, "mish")
    return x * ops.softplus(x).tanh()


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, alpha (e^x - 1) otherwise."""
    x = _float_input(input, "elu")
    return x.relu() + alpha * (_neg_part(x).exp() - 1)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants alpha = 1.6733, scale =
    1.0507."""
    x = _float_input(input, "selu")
    return _SELU_SCALE * (x.relu() + _SELU_ALPHA * (_neg_part(x).exp() - 1))


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha (e^(x / alpha) - 1))."""
    x = _float_input(input, "celu")
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return x.relu() + alpha * ((_neg_part(x) / alpha).exp() - 1)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """x clamped to [min_val, max_val]; as PyTorch, the gradient is 0 at both ends (written
    as max - relu(max - (min + relu(x - min))), relu'(0) = 0)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    x = _as_tensor(input)
    return max_val - (max_val - (min_val + (x - min_val).relu())).relu()


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6), gradient 0 at 0 and 6 (as PyTorch)."""
    return hardtanh(input, 0.0, 6.0)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x relu6(x + 3) / 6: 0 below -3, x above 3."""
    x = _float_input(input, "hardswish")
    return x * (x + 3).clamp(0, 6) / 6


def logsigmoid(input: Tensor) -> Tensor:
    """log(1 / (1 + e^-x)) = -softplus(-x), stable for any x."""
    return -ops.softplus(-_float_input(input, "logsigmoid"))


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return _float_input(input, "softsign").softsign()


def softmin(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """softmax(-x) along dim."""
    x = _as_tensor(input)
    x = x if dtype is None else x.astype(dtype)
    return (-x).softmax(_softmax_dim(x.ndim) if dim is None else dim)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(||x||_p, eps) along dim."""
    x = _float_input(input, "normalize")
    if x.ndim and not -x.ndim <= dim < x.ndim:
        raise IndexError(f"normalize: dim {dim} is out of range for input of shape "
                         f"{tuple(x.shape)}")
    if p == 2:
        norm = (x * x).sum(dim, keepdim=True).sqrt()
    else:
        norm = (x.abs() ** p).sum(dim, keepdim=True) ** (1.0 / p)
    return x / norm.clamp(min=eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 x2) / (max(||x1||, eps) max(||x2||, eps)) along dim (inputs broadcast)."""
    a, b = _float_input(x1, "cosine_similarity"), _float_input(x2, "cosine_similarity")
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ShapeError(f"cosine_similarity: the shapes {tuple(a.shape)} and "
                         f"{tuple(b.shape)} do not broadcast") from None
    if not -len(shape) <= dim < max(len(shape), 1):
        raise IndexError(f"cosine_similarity: dim {dim} is out of range for inputs of shape "
                         f"{tuple(shape)}")
    na = (a * a).sum(dim, keepdim=True).sqrt().clamp(min=eps)
    nb = (b * b).sum(dim, keepdim=True).sqrt().clamp(min=eps)
    return ((a / na) * (b / nb)).sum(dim)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of weight (num_embeddings, embedding_dim) picked by the integer indices of
    input: output shape input.shape + (embedding_dim,). The row padding_idx gets no
    gradient."""
    op = "embedding"
    idx = _as_tensor(input)
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError(f"{op}: max_norm, scale_grad_by_freq and sparse are not "
                                  f"supported")
    if not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"{op}: expected integer indices (int32 or int64), got dtype "
                        f"{idx.dtype} (shape {tuple(idx.shape)})")
    if weight.ndim != 2:
        raise ShapeError(f"{op}: expected a 2-D weight (num_embeddings, embedding_dim), got "
                         f"shape {tuple(weight.shape)}")
    n = weight.shape[0]
    data = _embedding_indices(idx.data, tuple(weight.shape))
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"{op}: padding_idx {padding_idx} must be within "
                             f"num_embeddings ({n})")
        padding_idx %= n
    out = weight[data]
    if padding_idx is None or not weight.requires_grad:
        return out
    # the padding row's value, but no gradient into it
    keep, pad = _padding_rows(data, padding_idx, weight.dtype)
    return out * from_numpy(keep) + weight.detach()[data] * from_numpy(pad)


@ops.replayable  # computed from the indices: a compiled step recomputes it on each replay
def _embedding_indices(data: np.ndarray, weight_shape: tuple) -> np.ndarray:
    """The indices as int64, each checked against the number of embeddings."""
    n = weight_shape[0]
    data = data.astype(np.int64, copy=False)
    if data.size and (data.min() < 0 or data.max() >= n):
        bad = int(data[(data < 0) | (data >= n)].ravel()[0])
        raise IndexError(f"embedding: index {bad} is out of range for {n} embeddings (input "
                         f"shape {data.shape}, weight shape {weight_shape})")
    return data


@ops.replayable
def _padding_rows(data: np.ndarray, padding_idx: int, dtype) -> tuple:
    """(1 where the index is not padding_idx, else 0; its complement), shaped to broadcast
    over the embedding dim."""
    pad = (data == padding_idx)[..., None].astype(dtype)
    return 1 - pad, pad


# ---- losses ------------------------------------------------------------------------------------
def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """(x - y)^2, reduced."""
    x, y = _as_tensor(input), _as_tensor(target)
    _check_reduction(reduction, "mse_loss")
    _check_same_shape(x, y, "mse_loss")
    d = x - y
    return _reduce(d * d, reduction, "mse_loss")


def _check_same_shape(x: Tensor, y: Tensor, op: str) -> None:
    if tuple(x.shape) != tuple(y.shape):
        try:
            np.broadcast_shapes(x.shape, y.shape)
        except ValueError:
            raise ShapeError(f"{op}: the target of shape {tuple(y.shape)} does not match the "
                             f"input of shape {tuple(x.shape)}") from None


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """|x - y|, reduced."""
    x, y = _as_tensor(input), _as_tensor(target)
    _check_reduction(reduction, "l1_loss")
    _check_same_shape(x, y, "l1_loss")
    return _reduce((x - y).abs(), reduction, "l1_loss")



def _regression_pair(input, target, op: str, reduction: str) -> tuple:
    x, y = _as_tensor(input), _as_tensor(target)
    _check_reduction(reduction, op)
    _check_same_shape(x, y, op)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {x.dtype} "
                        f"(shape {tuple(x.shape)})")
    return x, y.astype(x.dtype)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (d = x - y); beta = 0 is
    the L1 loss. Written as 0.5 c^2 / beta + (|d| - c) with c = min(|d|, beta)."""
    op = "smooth_l1_loss"
    x, y = _regression_pair(input, target, op, reduction)
    if beta < 0:
        raise ValueError(f"{op}: beta must be non-negative, got {beta}")
    a = (x - y).abs()
    if beta == 0:
        return _reduce(a, reduction, op)
    c = a.clamp(max=beta)
    return _reduce(0.5 / beta * c * c + (a - c), reduction, op)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",
               delta: float = 1.0) -> Tensor:
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere (= delta * smooth L1
    with beta = delta)."""
    op = "huber_loss"
    x, y = _regression_pair(input, target, op, reduction)
    if delta <= 0:
        raise ValueError(f"{op}: delta must be positive, got {delta}")
    a = (x - y).abs()
    c = a.clamp(max=delta)
    return _reduce(0.5 * c * c + delta * (a - c), reduction, op)


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(target || exp(input)) pointwise for log-probabilities input: target (log target -
    input), 0 where target = 0; with log_target the target is given as log-probabilities:
    e^t (t - input). reduction 'batchmean' divides the sum by the batch size (the
    mathematically right KL); 'mean' divides by the element count, as PyTorch."""
    op = "kl_div"
    if reduction not in ("mean", "sum", "none", "batchmean"):
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction "
                         f"(expected 'mean', 'batchmean', 'sum' or 'none')")
    x, y = _regression_pair(input, target, op, "none")
    if log_target:
        loss = y.exp() * (y - x)
    else:
        zero = Tensor.wrap(_zero_mask(y.data, x.dtype))  # xlogy: 0 log 0 = 0 (y's device)
        loss = y * ((y + zero).log() - x)
    if reduction == "batchmean":
        return loss.sum() / (x.shape[0] if x.ndim else 1)
    return _reduce(loss, reduction, op)

@ops.replayable
def _zero_mask(y: np.ndarray, dtype) -> np.ndarray:
    return (y == 0).astype(dtype)


def _class_rows(x: Tensor, target: Tensor, op: str, what: str = "input"):
    """Move the class dim (1, or 0 for unbatched) last and flatten: (M, C) rows, the (M,)
    int targets, and the target's shape (the shape of reduction='none')."""
    if x.ndim == 0:
        raise ShapeError(f"{op}: expected {what} of shape (C,), (N, C) or (N, C, d1, ...), "
                         f"got a scalar")
    if x.ndim == 1:  # unbatched (C,) with a scalar target
        if target.ndim != 0:
            raise ShapeError(f"{op}: for unbatched {what} of shape {tuple(x.shape)} the "
                             f"target must be a scalar, got shape {tuple(target.shape)}")
        return x.reshape(1, -1), target.data.reshape(1), ()
    expected = (x.shape[0],) + tuple(x.shape[2:])
    if tuple(target.shape) != expected:
        raise ShapeError(f"{op}: expected target of shape {expected} for {what} of shape "
                         f"{tuple(x.shape)}, got target of shape {tuple(target.shape)}")
    c = x.shape[1]
    rows = x if x.ndim == 2 else x.permute(0, *range(2, x.ndim), 1).reshape(-1, c)
    return rows, target.data.reshape(-1), expected


@ops.replayable  # computed from the targets: a compiled step recomputes it on each replay
def _class_weights(t: np.ndarray, c: int, weight, ignore_index: int, dtype, op, x_shape):
    """Check the class indices and return (safe indices, per-row weight w[t] or 0 if ignored)."""
    if not isinstance(t, np.ndarray):  # targets on a device: checked and weighted there
        return ops.class_weights(t, c, weight, ignore_index, dtype, op, x_shape)
    t = t.astype(np.int64, copy=False)
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= c))
    if bad.any():
        raise IndexError(f"{op}: target {int(t[bad][0])} is out of bounds for {c} classes "
                         f"(input shape {tuple(x_shape)})")
    safe = np.where(valid, t, 0)
    if weight is None:
        w = valid.astype(dtype)
    else:
        if tuple(weight.shape) != (c,):
            raise ShapeError(f"{op}: expected a weight of shape ({c},) for {c} classes, got "
                             f"{tuple(weight.shape)}")
        w = np.where(valid, weight.data.astype(dtype)[safe], 0).astype(dtype)
    return safe, w


def _weighted_reduce(per: Tensor, row_weight: np.ndarray, reduction: str, shape, op):
    """nll-style reduction: 'mean' divides by the total weight of the non-ignored targets."""
    if reduction == "none":
        return per.reshape(shape)
    if reduction == "sum":
        return per.sum()
    if not isinstance(row_weight, np.ndarray):  # on a device: 0 / 0 there is NaN, no sync
        return per.sum() / ops.sum_of(row_weight)
    return per.sum() / Tensor.wrap(_total_weight(row_weight))


@ops.replayable
def _total_weight(row_weight: np.ndarray) -> np.ndarray:
    """The divisor of a 'mean' over weighted targets (NaN when every target is ignored)."""
    total = row_weight.sum()
    return np.asarray(total if total != 0 else np.nan, dtype=row_weight.dtype)


@ops.replayable
def _valid_rows(t: np.ndarray, ignore_index: int, dtype) -> np.ndarray:
    return (t != ignore_index).astype(dtype)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits (N, C) or (N, C, d1, ...) against class indices or class
    probabilities, via a fused, stable log-softmax. With class indices:
    loss_n = -w[t_n] log softmax(x_n)[t_n]; 'mean' divides by sum of w[t_n]."""
    op = "cross_entropy"
    x, target = _as_tensor(input), _as_tensor(target)
    _check_reduction(reduction, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    if np.issubdtype(target.dtype, np.floating):
        return _cross_entropy_probs(x, target, weight, reduction, label_smoothing, op)
    if not np.issubdtype(target.dtype, np.integer):
        raise TypeError(f"{op}: expected integer class indices or float probabilities as "
                        f"target, got dtype {target.dtype}")
    rows, t, shape = _class_rows(x, target, op)
    c = rows.shape[1]
    safe, w = _class_weights(t, c, weight, ignore_index, rows.dtype, op, x.shape)
    per = ops.cross_entropy_index(rows, safe, w)
    loss = _weighted_reduce(per, w, reduction, shape, op)
    if label_smoothing == 0:
        return loss
    class_w = (from_numpy(np.ones(c, rows.dtype)).to(rows.device) if weight is None
               else weight.astype(rows.dtype))
    valid = Tensor.wrap(_valid_rows(t, ignore_index, rows.dtype))  # on the target's device
    smooth = -(rows.log_softmax(1) * class_w).sum(1) * valid
    smooth = _weighted_reduce(smooth, w, reduction, shape, op)
    return (1 - label_smoothing) * loss + smooth * (label_smoothing / c)


def _cross_entropy_probs(x, target, weight, reduction, label_smoothing, op) -> Tensor:
    if tuple(target.shape) != tuple(x.shape):
        raise ShapeError(f"{op}: class-probability targets must have the input's shape "
                         f"{tuple(x.shape)}, got {tuple(target.shape)}")
    cdim = 0 if x.ndim == 1 else 1
    c = x.shape[cdim]
    target = target.astype(x.dtype)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / c
    terms = x.log_softmax(cdim) * target
    if weight is not None:
        terms = terms * weight.astype(x.dtype).reshape((c,) + (1,) * (x.ndim - cdim - 1))
    per = -terms.sum(cdim)
    if reduction == "mean":
        return per.sum() / (x.data.size // max(c, 1))
    return _reduce(per, reduction, op)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             size_average=None, ignore_index: int = -100, reduce=None,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities (N, C) or (N, C, d1, ...):
    loss_n = -w[t_n] x[n, t_n]; 'mean' divides by sum of w[t_n]."""
    op = "nll_loss"
    x, target = _as_tensor(input), _as_tensor(target)
    _check_reduction(reduction, op)
    if not np.issubdtype(target.dtype, np.integer):
        raise TypeError(f"{op}: expected integer class indices as target, got dtype "
                        f"{target.dtype}")
    rows, t, shape = _class_rows(x, target, op)
    safe, w = _class_weights(t, rows.shape[1], weight, ignore_index, rows.dtype, op, x.shape)
    per = -rows[np.arange(rows.shape[0]), safe] * Tensor.wrap(w)  # w: on the target's device
    return _weighted_reduce(per, w, reduction, shape, op)


def binary_cross_entropy(input: Tensor, target: Tensor,
                         weight: Tensor | None = None, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """-w (y log p + (1 - y) log(1 - p)) for probabilities p, each log clamped at -100."""
    op = "binary_cross_entropy"
    p, y = _as_tensor(input), _as_tensor(target)
    _check_reduction(reduction, op)
    if tuple(p.shape) != tuple(y.shape):
        raise ShapeError(f"{op}: using a target of shape {tuple(y.shape)} that is different "
                         f"from the input shape {tuple(p.shape)} is not supported")
    if p.data.size and not ((p.data >= 0) & (p.data <= 1)).all():
        raise ValueError(f"{op}: all elements of input should be between 0 and 1")
    loss = ops.binary_cross_entropy(p, y.astype(p.dtype))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, op)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """BCE of sigmoid(x), computed stably from the logits x:
    (1 - y) x + (1 + (pos_weight - 1) y) softplus(-x), softplus(z) = log(1 + e^z)
    (= max(x, 0) - x y + log(1 + e^-|x|) without pos_weight)."""
    op = "binary_cross_entropy_with_logits"
    x, y = _as_tensor(input), _as_tensor(target)
    _check_reduction(reduction, op)
    if tuple(x.shape) != tuple(y.shape):
        raise ShapeError(f"{op}: target size {tuple(y.shape)} must be the same as input "
                         f"size {tuple(x.shape)}")
    y = y.astype(x.dtype)
    softplus_neg = ops.softplus(-x)
    if pos_weight is None:
        loss = (1 - y) * x + softplus_neg
    else:
        loss = (1 - y) * x + (1 + (pos_weight.astype(x.dtype) - 1) * y) * softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, op)


def hinge_loss(input: Tensor, target: Tensor, reduction: str = "mean",
               margin: float = 1.0) -> Tensor:
    """max(0, margin - y f(x)) for targets y in {-1, +1} (the SVM hinge), reduced."""
    op = "hinge_loss"
    x, y = _as_tensor(input), _as_tensor(target)
    _check_reduction(reduction, op)
    _check_same_shape(x, y, op)
    if y.data.size and not np.isin(y.data, (-1, 1)).all():
        bad = y.data[~np.isin(y.data, (-1, 1))].ravel()[0]
        raise ValueError(f"{op}: targets must be -1 or +1, got {bad.item()} (target shape "
                         f"{tuple(y.shape)})")
    return _reduce((margin - y.astype(x.dtype) * x).relu(), reduction, op)


# ---- utilities ---------------------------------------------------------------------------------
_PAD_MODES = ("reflect", "replicate", "circular")


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",
        value: float | None = None) -> Tensor:
    """Pad the trailing dims: pad = (left, right) for the last dim, then (top, bottom) for the
    one before, ... Negative widths crop. Modes: constant, reflect, replicate, circular, with
    PyTorch's rules (`autograd.nn_ops.pad_source_index`); shape errors are RuntimeError."""
    x = _as_tensor(input)
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise RuntimeError(f"pad: padding length must be even and at most 2 * ndim "
                           f"({2 * x.ndim}), got {len(pad)} for input of shape "
                           f"{tuple(x.shape)}")
    if mode != "constant" and mode not in _PAD_MODES:
        raise NotImplementedError(f"pad: unknown mode {mode!r}; choose constant, reflect, "
                                  f"replicate or circular")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode != "constant":  # a gather of existing elements: differentiable
        for d, (b, a) in enumerate(widths):
            if b or a:
                idx = ops.pad_source_index(mode, x.shape[d], b, a)
                x = x[(slice(None),) * d + (idx,)]
        return x
    for d, ((b, a), n) in enumerate(zip(widths, x.shape)):
        if n + b + a < 0:
            raise RuntimeError(f"pad: padding {pad} would give dim {d} of the input of shape "
                               f"{tuple(x.shape)} a negative size ({n + b + a})")
    if any(b < 0 or a < 0 for b, a in widths):  # crop first
        crop = tuple(slice(max(-b, 0), n - max(-a, 0)) for (b, a), n in zip(widths, x.shape))
        x = x[crop]
        widths = [(max(b, 0), max(a, 0)) for b, a in widths]
    if not any(b or a for b, a in widths):
        return x
    return ops.constant_pad(x, tuple(widths), 0.0 if value is None else value)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape (*tensor.shape, num_classes) with a 1 at each class index."""
    t = _as_tensor(tensor)
    if not np.issubdtype(t.dtype, np.integer):
        raise TypeError(f"one_hot: expected an integer tensor, got dtype {t.dtype}")
    idx = t.data.astype(np.int64)
    if idx.size and idx.min() < 0:
        raise ValueError("one_hot: class values must be non-negative")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and idx.max() >= num_classes:
        raise ValueError(f"one_hot: class values must be smaller than num_classes "
                         f"({num_classes}), got {int(idx.max())}")
    out = np.zeros_like(idx, shape=idx.shape + (num_classes,))  # on idx's device
    np.put_along_axis(out, idx.reshape(idx.shape + (1,)), 1, axis=-1)
    return Tensor.wrap(out)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None) -> Tensor:
    """softmax(query key^T * scale + attn_mask) value, one fused op (see
    autograd.nn_ops.scaled_dot_product_attention): (..., L, E), (..., S, E), (..., S, Ev) ->
    (..., L, Ev). A bool attn_mask is True where a query may attend, a float one is added;
    is_causal masks keys after the query; dropout_p drops attention weights (PyTorch applies
    it whenever dropout_p > 0, so modules pass 0.0 in eval); scale defaults to 1/sqrt(E)."""
    return ops.scaled_dot_product_attention(_as_tensor(query), _as_tensor(key),
                                            _as_tensor(value), attn_mask, dropout_p, is_causal,
                                            scale)
