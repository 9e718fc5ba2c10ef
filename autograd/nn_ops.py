"""The differentiable ops behind nn's layers, as public functions of Tensors.

This is nn's one door into autograd besides Tensor methods and the top-level names: nn
never imports an op class. Each function runs one op of `autograd.ops` on tensors and
arguments that are already normalised (a `Geometry`, widths per dim, a weight per row);
`nn.functional` turns PyTorch's signatures (ints or pairs, padding strings, reductions,
ignore_index, ...) into these arguments and checks shapes first, so that its messages speak
of what the user passed.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import kernels as K
from . import trace
from .errors import ShapeError
from .kernels import policy
from .ops.attention import ScaledDotProductAttention as _ScaledDotProductAttention
from .ops.conv import Col2Im as _Col2Im
from .ops.conv import Conv2d as _Conv2d
from .ops.conv import Geometry
from .ops.identity import Identity as _Identity
from .ops.interpolate import linear_matrix, nearest_index
from .ops.layernorm import LayerNorm as _LayerNorm
from .ops.linalg import Linear as _Linear
from .ops.linalg import MatMul as _MatMul
from .ops.loss import BinaryCrossEntropy as _BinaryCrossEntropy
from .ops.loss import CrossEntropyIndex as _CrossEntropyIndex
from .ops.loss import Softplus as _Softplus
from .ops.norm import BatchNorm as _BatchNorm
from .ops.pad import ConstantPad as _ConstantPad
from .ops.pad import source_index as pad_source_index
from .ops.pool import AvgPool2d as _AvgPool2d
from .ops.pool import MaxPool2d as _MaxPool2d
from .ops.pool import MaxPool2dBackward as _MaxPool2dBackward
from .ops.pool import lowest
from .ops.unary import Gelu as _Gelu
from .random import generator
from .tensor import Tensor
from .trace import replayable

__all__ = [
    "BatchNormResult",
    "Geometry",
    "ShapeError",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "class_weights",
    "constant_pad",
    "conv2d",
    "conv_transpose2d",
    "cross_entropy_index",
    "dropout",
    "erf",
    "gelu",
    "identity",
    "layer_norm",
    "linear",
    "linear_matrix",
    "lowest",
    "max_pool2d",
    "max_pool2d_with_indices",
    "max_unpool2d",
    "nearest_index",
    "pad_source_index",
    "replayable",
    "scaled_dot_product_attention",
    "softplus",
    "sum_of",
]


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight^T (+ bias); for 2-D weight and batched input the transpose is a flag of
    the matmul kernel (no copy, no transpose node)."""
    if (bias is not None and weight.ndim == 2 and input.ndim >= 2 and bias.ndim == 1
            and type(input.data) is np.ndarray  # the host's gemm (no device kernel)
            and input.dtype == weight.dtype == bias.dtype and input.dtype.kind == "f"
            and policy.gemm_route(policy.GEMM_LINEAR, input.shape[-2] * weight.shape[0]
                                  * weight.shape[1], weight.shape[0], input.dtype.itemsize)):
        return _Linear.apply(input, weight, bias)  # numbagrad's gemm, the bias fused
    if weight.ndim == 2 and input.ndim >= 2:
        out = _MatMul.apply(input, weight, trans_b=True)
    else:
        out = input @ weight.mT if weight.ndim == 2 else input @ weight
    return out if bias is None else out + bias


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None, geometry: Geometry,
           groups: int = 1) -> Tensor:
    """Cross-correlation of (N, C, H, W) input with (O, C/groups, kh, kw) weight (im2col +
    matmul), padding by zeros as `geometry` says; inputs share one float dtype."""
    inputs = (input, weight) if bias is None else (input, weight, bias)
    return _Conv2d.apply(*inputs, geom=geometry, groups=groups)


def max_pool2d(input: Tensor, geometry: Geometry) -> Tensor:
    """Max over each window of (N, C, H, W) input (padding never wins); the dtypes PyTorch
    refuses (bool, uint16/32/64, complex) raise TypeError."""
    return _MaxPool2d.apply(input, geom=geometry)


def max_pool2d_with_indices(input: Tensor, geometry: Geometry) -> tuple:
    """(max_pool2d(input), indices): indices (int64, no grad) hold, per output, the flat
    index h * W + w of the chosen pixel within its (n, c) plane, as PyTorch's."""
    found: list = []
    out = _MaxPool2d.apply(input, geom=geometry, indices=found)
    return out, Tensor.wrap(found[0])  # on the input's device


def max_unpool2d(input: Tensor, indices: np.ndarray, size: tuple) -> Tensor:
    """Zeros of (N, C, *size) with input's values scattered to the flat plane indices (int64,
    input's shape, each in [0, H*W)); the adjoint of gathering at those indices, so it
    differentiates to any order. Repeated indices sum."""
    argmax = (np.ascontiguousarray(indices, np.int64) if isinstance(indices, np.ndarray)
              else indices.astype(np.int64, copy=False))  # a cuda array: on the device
    return _MaxPool2dBackward.apply(input, argmax=argmax, hw=tuple(size))


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None, geometry: Geometry,
                     output_size: tuple, groups: int = 1) -> Tensor:
    """The transposed convolution of (N, C_in, H, W) input by a (C_in, C_out/groups, kh, kw)
    weight: the input gradient of conv2d, col2im(W^T x) onto an output_size (OH, OW) plane
    that conv2d with `geometry` maps back to (H, W). Built from matmul and the Col2Im op, so
    it differentiates to any order."""
    n, c, h, w = input.shape
    cpg, kh, kw = weight.shape[1:]
    k = cpg * kh * kw
    cols = weight.reshape(groups, c // groups, k).mT @ input.reshape(n, groups, c // groups,
                                                                      h * w)
    out = _Col2Im.apply(cols.reshape(n, groups * k, h * w),
                        chw=(groups * cpg,) + tuple(output_size), geom=geometry)
    return out if bias is None else out + bias.reshape(groups * cpg, 1, 1)


def avg_pool2d(input: Tensor, geometry: Geometry, count_include_pad: bool = True) -> Tensor:
    """Mean over each window of (N, C, H, W) float input, divided by kh * kw, or by the
    pixels inside the input when count_include_pad is False."""
    return _AvgPool2d.apply(input, geom=geometry, count_include_pad=count_include_pad)


class BatchNormResult(NamedTuple):
    """What `batch_norm` returns: the normalised output and the per-channel batch statistics
    it used (mean and biased variance, no grad), from which a layer updates its running
    statistics."""
    output: Tensor
    mean: Tensor
    var: Tensor


def batch_norm(input: Tensor, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> BatchNormResult:
    """Training-mode batch norm of (N, C, *) input: each channel normalised by its batch mean
    and biased variance, then scaled by weight and shifted by bias (both or neither). One
    fused op; it writes into no running statistics."""
    stats: list = []
    affine = () if weight is None else (weight, bias)
    out = _BatchNorm.apply(input, *affine, eps=eps, batch_stats=stats)
    return BatchNormResult(out, Tensor.wrap(stats[0]), Tensor.wrap(stats[1]))


def class_weights(target, c: int, weight: Tensor | None, ignore_index: int, dtype, op: str,
                  x_shape: tuple) -> tuple:
    """(safe class indices, per-row weight) of device targets, computed on their device:
    ignored rows get index 0 and weight 0; IndexError (naming `op` and the input's shape)
    for an index outside [0, c)."""
    w = None if weight is None else weight.data.astype(dtype, copy=False)
    try:
        return K.class_weights(target, c, w, ignore_index, np.dtype(dtype))
    except IndexError as e:
        raise IndexError(f"{op}: {e} (input shape {tuple(x_shape)})") from None


def sum_of(array) -> Tensor:
    """The sum of an array's elements as a 0-d tensor on its device (no graph)."""
    return Tensor.wrap(K.sum(array))


def cross_entropy_index(logits: Tensor, target: np.ndarray, row_weight: np.ndarray) -> Tensor:
    """Per-row loss -w_m log softmax(logits)[m, t_m] of (M, C) logits against valid class
    indices t (M,), weighted by w (M,); a fused, stable log-softmax."""
    return _CrossEntropyIndex.apply(logits, target=target, row_weight=row_weight)


def softplus(input: Tensor) -> Tensor:
    """log(1 + e^x) elementwise, without overflow; d/dx = sigmoid(x)."""
    return _Softplus.apply(input)


def gelu(input: Tensor) -> Tensor:
    """GELU's exact form 0.5 x (1 + erf(x / sqrt 2)) as one op (fused kernels both ways) on
    a float tensor in host memory. A device tensor takes the composition (its kernels), and
    so does the numpy backend: its erf is a Python call per element, which the fused
    backward would make once more than the composition's (whose derivative needs only exp)."""
    if type(input.data) is not np.ndarray or policy.get_backend() == "numpy":
        return 0.5 * input * (1 + (input * _SQRT_HALF).erf())
    return _Gelu.apply(input)


_SQRT_HALF = 0.7071067811865476


def layer_norm(input: Tensor, dims: int, weight: Tensor | None, bias: Tensor | None,
               eps: float) -> Tensor | None:
    """Layer norm of input over its last `dims` dims (weight and bias of those dims' shape,
    or None) as one fused op, for a non-empty float tensor in host memory whose weight and
    bias share its dtype; None where that does not hold (nn.functional then composes it)."""
    if not (type(input.data) is np.ndarray and input.dtype.kind == "f" and input.data.size
            and all(p is None or (type(p.data) is np.ndarray and p.dtype == input.dtype)
                    for p in (weight, bias))):
        return None
    affine = tuple(p for p in (weight, bias) if p is not None)
    return _LayerNorm.apply(input, *affine, dims=dims, eps=float(eps),
                            weight=weight is not None, bias=bias is not None)


def erf(input: Tensor) -> Tensor:
    """The error function elementwise (float64-accurate), differentiable to any order; GELU's
    exact form is 0.5 x (1 + erf(x / sqrt 2)). The same op as `Tensor.erf` (numba kernel)."""
    return input.erf()


def identity(input: Tensor) -> Tensor:
    """A new graph node with input's values: a hook registered on it (Tensor.register_hook)
    sees the gradient of this one use of input, which is how nn's full backward hooks see
    a module's grad_input."""
    return _Identity.apply(input)


def binary_cross_entropy(input: Tensor, target: Tensor) -> Tensor:
    """-(y log p + (1 - y) log(1 - p)) elementwise for probabilities p = input and targets
    y of the same shape and dtype, each log clamped at -100 (as PyTorch)."""
    return _BinaryCrossEntropy.apply(input, target)


def constant_pad(input: Tensor, widths: tuple, value: float = 0.0) -> Tensor:
    """input surrounded by `value`; widths is ((before, after), ...) per dim, all >= 0."""
    return _ConstantPad.apply(input, widths=tuple(widths), value=value)


def dropout(input: Tensor, p: float, mask_shape: tuple | None = None) -> Tensor:
    """Training-mode inverted dropout, 0 <= p < 1: each element zeroed with probability p,
    the others scaled by 1 / (1 - p). The mask comes from the seeded generator
    (autograd.manual_seed); a `mask_shape` that broadcasts to the input's (e.g. (N, C, 1, 1))
    drops whole channels at once."""
    mask = Tensor.wrap(keep_mask(input.shape if mask_shape is None else mask_shape, p,
                                 input.dtype))
    if input.device.type == "cuda":  # drawn on the CPU (autograd.manual_seed), uploaded
        mask = mask.to(input.device)
    return input * mask


@trace.replayable
def keep_mask(shape: tuple, p: float, dtype) -> np.ndarray:
    """Inverted dropout's mask: 0 with probability p, else 1 / (1 - p), drawn from the
    seeded generator (a compiled step draws a fresh one on every replay)."""
    return ((generator().random(shape) >= p) / (1.0 - p)).astype(dtype)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None) -> Tensor:
    """softmax(query key^T * scale + mask) value for (..., L, E), (..., S, E), (..., S, Ev)
    inputs (batch dims broadcast), as one fused op that keeps only the L x S weights for
    backward. A bool attn_mask says where to attend (True), a float one is added to the
    scores; both broadcast to (..., L, S). is_causal masks out keys after the query
    (tril of ones(L, S)); a fully masked row gives zeros. dropout_p > 0 drops attention
    weights with a mask from the seeded generator (autograd.manual_seed). scale defaults to
    1 / sqrt(E)."""
    name = "scaled_dot_product_attention"
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ShapeError(f"{name}: expected query, key and value to be at least 2-D, got "
                         f"shapes {query.shape}, {key.shape} and {value.shape}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ShapeError(f"{name}: query (..., L, E), key (..., S, E) and value (..., S, Ev) "
                         f"must agree in E and S, got shapes {query.shape}, {key.shape} and "
                         f"{value.shape}")
    if not (query.dtype == key.dtype == value.dtype) or query.dtype.kind != "f":
        raise TypeError(f"{name}: query, key and value must share one float dtype, got "
                        f"{query.dtype}, {key.dtype} and {value.dtype}")
    try:
        batch = np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise ShapeError(f"{name}: the batch dims of query {query.shape}, key {key.shape} and "
                         f"value {value.shape} do not broadcast") from None
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"{name}: dropout_p must be in [0, 1), got {dropout_p}")
    if is_causal and attn_mask is not None:
        raise ValueError(f"{name}: an explicit attn_mask must not be set when is_causal=True")
    L, S = query.shape[-2], key.shape[-2]
    scores = (*batch, L, S)
    allowed, masks = None, ()
    if attn_mask is not None:
        m = attn_mask if isinstance(attn_mask, Tensor) else Tensor(np.asarray(attn_mask))
        try:
            np.broadcast_shapes(m.shape, scores)
        except ValueError:
            raise ShapeError(f"{name}: attn_mask of shape {m.shape} does not broadcast to the "
                             f"attention weights' shape {scores}") from None
        if m.dtype == np.bool_:
            allowed = m.data
        elif m.dtype.kind == "f":
            masks = (m if m.dtype == query.dtype else m.to(query.dtype),)
        else:
            raise TypeError(f"{name}: attn_mask must be bool or float, got {m.dtype}")
    if is_causal:
        allowed = np.tril(np.ones((L, S), dtype=bool))
    keep = None
    if dropout_p > 0.0:
        shape = np.broadcast_shapes(scores, masks[0].shape if masks else (),
                                    allowed.shape if allowed is not None else ())
        keep = keep_mask(shape, dropout_p, query.dtype)
    scale = 1.0 / float(np.sqrt(query.shape[-1])) if scale is None else float(scale)
    return _ScaledDotProductAttention.apply(query, key, value, *masks, allowed=allowed,
                                            keep=keep, scale=scale)
