"""MultiheadAttention with PyTorch's parameter layout, so a PyTorch state_dict loads as is:
in_proj_weight (3E, E) holding the q, k, v projections stacked (or q_proj_weight,
k_proj_weight, v_proj_weight when kdim or vdim differ from embed_dim), in_proj_bias (3E,),
and out_proj, a Linear(E, E)."""
from __future__ import annotations

import math

import numpy as np

from autograd import Tensor, get_default_dtype
from autograd.errors import ShapeError

from . import functional as F
from . import init
from .linear import Linear
from .module import Module
from .parameter import Parameter


def _float_mask(mask, name: str, dtype) -> Tensor | None:
    """MultiheadAttention's masks as additive floats: a bool mask is True where attention is
    NOT allowed (PyTorch's convention for these masks) and becomes -inf there, 0 elsewhere;
    a float mask is added as is."""
    if mask is None:
        return None
    m = mask if isinstance(mask, Tensor) else Tensor(np.asarray(mask))
    if m.dtype == np.bool_:
        return Tensor(np.where(m.data, -np.inf, 0.0).astype(dtype))
    if m.dtype.kind != "f":
        raise TypeError(f"MultiheadAttention: only bool and floating types of {name} are "
                        f"supported, got {m.dtype}")
    return m if m.dtype == dtype else m.to(dtype)


class MultiheadAttention(Module):
    """Attention from num_heads heads of size embed_dim // num_heads, concatenated and
    projected by out_proj. Inputs are (L, N, E) (or (N, L, E) with batch_first) or unbatched
    (L, E); forward returns (output, weights) where weights are the attention weights averaged
    over heads (or per head), or None when need_weights=False. Masks: key_padding_mask (N, S)
    and attn_mask (L, S) or (N * num_heads, L, S); bool True means "do not attend", a float
    mask is added to the scores. Dropout on the attention weights in training mode only.

    Init as PyTorch: xavier_uniform_ on the input projections, zero biases, out_proj's weight
    as a Linear's."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than "
                             f"0, got embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise AssertionError(f"MultiheadAttention: embed_dim must be divisible by num_heads, "
                                 f"got embed_dim={embed_dim} and num_heads={num_heads}")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("MultiheadAttention: add_bias_kv and add_zero_attn are "
                                      "not supported")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout}")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = dropout, batch_first
        self.head_dim = embed_dim // num_heads
        dtype = dtype or get_default_dtype()
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype=dtype))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(np.empty((embed_dim, embed_dim), dtype=dtype))
            self.k_proj_weight = Parameter(np.empty((embed_dim, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(np.empty((embed_dim, self.vdim), dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def _projections(self) -> tuple:
        """(weight, bias) of the q, k and v projections, as views of the stacked parameters."""
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            ws = (w[:e], w[e:2 * e], w[2 * e:])
        else:
            ws = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        b = self.in_proj_bias
        bs = (None, None, None) if b is None else (b[:e], b[e:2 * e], b[2 * e:])
        return tuple(zip(ws, bs))

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask=None,
                need_weights: bool = True, attn_mask=None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        """(output, attention weights or None); see the class docstring for shapes."""
        batched = query.ndim == 3
        self._check_shapes(query, key, value, batched)
        if not batched:  # unbatched (L, E): a batch of one
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = (key_padding_mask if isinstance(key_padding_mask, Tensor)
                                    else Tensor(np.asarray(key_padding_mask))).unsqueeze(0)
        elif self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        if is_causal and attn_mask is None:
            raise RuntimeError("MultiheadAttention: need attn_mask if specifying the is_causal "
                               "hint. You may use the Transformer module method "
                               "`generate_square_subsequent_mask` to create this mask.")
        tgt_len, bsz, e = query.shape
        src_len, h, hd = key.shape[0], self.num_heads, self.head_dim
        dtype = query.dtype
        mask = self._merged_mask(attn_mask, key_padding_mask, tgt_len, src_len, bsz, dtype)
        (wq, bq), (wk, bk), (wv, bv) = self._projections()
        q, k, v = F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)

        def heads(t: Tensor, n: int) -> Tensor:  # (n, N, E) -> (N, H, n, hd)
            return t.reshape(n, bsz * h, hd).transpose(0, 1).reshape(bsz, h, n, hd)

        q, k, v = heads(q, tgt_len), heads(k, src_len), heads(v, src_len)
        p = self.dropout if self.training else 0.0
        weights = None
        if need_weights:
            scores = (q * (1.0 / math.sqrt(hd))) @ k.mT
            if mask is not None:
                scores = scores + mask
            weights = scores.softmax(-1)
            if p > 0.0:
                weights = F.dropout(weights, p, True)
            out = weights @ v
            if average_attn_weights:
                weights = weights.mean(1)
            if not batched:
                weights = weights.squeeze(0)
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        out = out.permute(2, 0, 1, 3).reshape(tgt_len * bsz, e)  # (L, N, H, hd) -> (L*N, E)
        out = self.out_proj(out).reshape(tgt_len, bsz, e)
        if not batched:
            out = out.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, weights

    def _check_shapes(self, query: Tensor, key: Tensor, value: Tensor, batched: bool) -> None:
        nd = 3 if batched else 2
        if query.ndim not in (2, 3) or key.ndim != nd or value.ndim != nd:
            raise ShapeError(f"MultiheadAttention: expected query, key and value all 3-D "
                             f"(batched) or all 2-D (unbatched), got shapes {tuple(query.shape)}, "
                             f"{tuple(key.shape)} and {tuple(value.shape)}")
        if (query.shape[-1] != self.embed_dim or key.shape[-1] != self.kdim
                or value.shape[-1] != self.vdim):
            raise ShapeError(f"MultiheadAttention: expected query, key and value with last dims "
                             f"{self.embed_dim}, {self.kdim} and {self.vdim}, got shapes "
                             f"{tuple(query.shape)}, {tuple(key.shape)} and {tuple(value.shape)}")
        if key.shape[:-1] != value.shape[:-1]:
            raise ShapeError(f"MultiheadAttention: key shape {tuple(key.shape)} does not match "
                             f"value shape {tuple(value.shape)}")
        b = 1 if self.batch_first else 0
        if batched and query.shape[1 - b] != key.shape[1 - b]:
            raise ShapeError(f"MultiheadAttention: query and key must have the same batch size, "
                             f"got shapes {tuple(query.shape)} and {tuple(key.shape)}")

    def _merged_mask(self, attn_mask, key_padding_mask, tgt_len: int, src_len: int, bsz: int,
                     dtype) -> Tensor | None:
        """attn_mask and key_padding_mask as one additive float mask broadcastable to
        (N, H, L, S), or None."""
        h = self.num_heads
        mask = _float_mask(attn_mask, "attn_mask", dtype)
        if mask is not None:
            if mask.ndim == 2:
                if tuple(mask.shape) != (tgt_len, src_len):
                    raise RuntimeError(f"MultiheadAttention: the shape of the 2D attn_mask is "
                                       f"{tuple(mask.shape)}, but should be {(tgt_len, src_len)}.")
            elif mask.ndim == 3:
                if tuple(mask.shape) != (bsz * h, tgt_len, src_len):
                    raise RuntimeError(f"MultiheadAttention: the shape of the 3D attn_mask is "
                                       f"{tuple(mask.shape)}, but should be "
                                       f"{(bsz * h, tgt_len, src_len)}.")
                mask = mask.reshape(bsz, h, tgt_len, src_len)
            else:
                raise RuntimeError(f"MultiheadAttention: attn_mask's dimension {mask.ndim} is "
                                   f"not supported")
        kpm = _float_mask(key_padding_mask, "key_padding_mask", dtype)
        if kpm is not None:
            if tuple(kpm.shape) != (bsz, src_len):
                raise ShapeError(f"MultiheadAttention: expecting key_padding_mask shape of "
                                 f"{(bsz, src_len)}, but got {tuple(kpm.shape)}")
            kpm = kpm.reshape(bsz, 1, 1, src_len)
            mask = kpm if mask is None else mask + kpm
        return mask

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}, batch_first={self.batch_first}")
