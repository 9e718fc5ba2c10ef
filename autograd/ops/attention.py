"""Scaled dot-product attention as one fused op.

q (..., L, E), k (..., S, E), v (..., S, Ev), batch dims broadcasting as matmul's:

    S = q k^T * scale (+ float mask),  masked-out entries -inf,
    P = softmax(S) along S (row max subtracted first),  O = (P * D) v

with D the inverted-dropout factor (keep / (1 - p)) or 1. A row whose every entry is masked
out gets P = 0 and so O = 0, as PyTorch 2.13 does (for bool and for -inf float masks).

Forward keeps P (the one L x S array backward needs), the dropout factor and the bool mask;
backward is written with Tensor ops so it is itself differentiable:

    dV = (P D)^T dO,   dP = (dO V^T) D,   dS = P (dP - rowsum(dP P)),
    dQ = dS K scale,   dK = dS^T Q scale,  dmask = dS

Under create_graph, P is recomputed from q and k with Tensor ops (so the second derivative
sees P's dependence on them); otherwise the saved P is used as a constant.
"""
from __future__ import annotations

import numpy as np

from .. import kernels as K
from ..function import Function
from ..grad_mode import is_grad_enabled
from ..kernels.cuda.array import from_host, kernel
from ..wrap import wrap
from .device import on_cuda
from .softmax import softmax_grad


def _softmax_rows(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stable softmax along the last axis; rows that are all -inf give 0. Returns (P, dead)
    where dead marks (keepdims) the fully masked rows."""
    if on_cuda(s):  # one launch on the device
        return kernel("attention", "softmax_rows")(s)
    # the softmax kernel (one fused pass per row); a fully masked row comes out NaN there
    # (as does a row holding NaN or +inf): only then the general path below
    p = K.softmax(s, -1)
    suspect = np.isnan(p[..., :1])
    if not suspect.any():
        return p, suspect
    m = s.max(axis=-1, keepdims=True)
    dead = np.isneginf(m)
    e = np.exp(s - np.where(dead, 0, m))
    z = e.sum(axis=-1, keepdims=True)
    return e / np.where(dead, 1, z), dead


class ScaledDotProductAttention(Function):
    """softmax(q k^T * scale + mask) v with optional dropout on the weights. Inputs are q, k, v
    and, optionally, an additive float mask (differentiable); `allowed` is a bool array
    (True = attend) broadcastable to (..., L, S) combining a bool mask and causality; `keep`
    is the dropout factor (keep / (1 - p), already in q's dtype) or None."""
    save_inputs = True

    def forward(self, q, k, v, *mask, allowed=None, keep=None, scale: float = 1.0):
        if on_cuda(q):  # the causal mask and the dropout mask are drawn on the CPU
            allowed = from_host(allowed) if isinstance(allowed, np.ndarray) else allowed
            keep = from_host(keep) if isinstance(keep, np.ndarray) else keep
        kt = np.swapaxes(k, -1, -2)
        # K.matmul: BLAS, or numbagrad's gemm where the gemm_matmul policy says
        s = K.matmul(q, kt) * q.dtype.type(scale)
        if mask:
            s = s + mask[0]
        if allowed is not None:
            s = np.where(allowed, s, q.dtype.type(-np.inf)).astype(q.dtype, copy=False)
        p, dead = _softmax_rows(s)
        self.scale, self.allowed, self.keep = scale, allowed, keep
        self.p = p.astype(q.dtype, copy=False)
        self.dead = dead if on_cuda(dead) or dead.any() else None  # cuda: no sync for any()
        pd = self.p if keep is None else self.p * keep
        return K.matmul(pd, v).astype(q.dtype, copy=False)

    def _probabilities(self, q, k, mask):
        """P as a Tensor: recomputed with Tensor ops (differentiable in q, k, mask) under
        create_graph, else the saved array as a constant."""
        if not is_grad_enabled():
            return wrap(self.p)
        s = (q @ k.mT) * self.scale
        if mask:
            s = s + mask[0]
        if self.allowed is not None:
            s = s.masked_fill(wrap(~np.broadcast_to(self.allowed, s.shape)), float("-inf"))
        if self.dead is None:
            return s.softmax(-1)
        dead = np.broadcast_to(self.dead, s.shape)
        live = wrap((~dead).astype(self.p.dtype))
        return s.masked_fill(wrap(dead), 0.0).softmax(-1) * live

    def backward(self, g):
        q, k, v, *mask = self.inputs
        need = [n is not None for n in self.next]
        p = self._probabilities(q, k, mask)
        keep = None if self.keep is None else wrap(self.keep)
        pd = p if keep is None else p * keep
        dv = (pd.mT @ g).sum_to(v.shape) if need[2] else None
        if not (need[0] or need[1] or (mask and need[3])):
            return (None, None, dv) + ((None,) if mask else ())
        dp = g @ v.mT
        if keep is not None:
            dp = dp * keep
        ds = softmax_grad(p, dp, -1)
        dq = ((ds @ k) * self.scale).sum_to(q.shape) if need[0] else None
        dk = ((ds.mT @ q) * self.scale).sum_to(k.shape) if need[1] else None
        if not mask:
            return dq, dk, dv
        return dq, dk, dv, (ds.sum_to(mask[0].shape) if need[3] else None)
