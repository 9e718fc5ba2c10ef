"""Higher-level derivatives: jacobian, hessian, vjp, hvp (torch.autograd.functional's
conventions), and critical_point, the Hessian test of a stationary point."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .engine import grad
from .functions import stack
from .tensor import Tensor

__all__ = ["CriticalPoint", "critical_point", "hessian", "hvp", "jacobian", "vjp"]


def _prepare(inputs, create_graph: bool) -> tuple:
    """Fresh leaves (or graph-connected aliases when create_graph) requiring grad."""
    is_tuple = isinstance(inputs, (tuple, list))
    items = tuple(inputs) if is_tuple else (inputs,)
    out = []
    for x in items:
        if not isinstance(x, Tensor):
            raise TypeError(f"functional: inputs must be Tensors, got {type(x).__name__}")
        if create_graph and x.requires_grad:
            out.append(x.reshape(x.shape) if x.ndim else x * 1)
        else:
            out.append(x.detach().requires_grad_(True))
    return is_tuple, tuple(out)


def _grads(outputs, inputs, grad_outputs=None, create_graph=False) -> tuple:
    """autograd.grad, with zeros (not None) for inputs the outputs do not depend on."""
    outputs = [o for o in (outputs if isinstance(outputs, (tuple, list)) else [outputs])]
    keep = [i for i, o in enumerate(outputs) if o.requires_grad]
    if not keep:
        gs = [None] * len(inputs)
    else:
        gos = None if grad_outputs is None else [grad_outputs[i] for i in keep]
        gs = grad([outputs[i] for i in keep], inputs, gos, retain_graph=True,
                  create_graph=create_graph, allow_unused=True)
    return tuple(Tensor.wrap(np.zeros(x.shape, x.dtype)) if g is None
                 else (g if create_graph else g.detach()) for g, x in zip(gs, inputs))


def jacobian(func, inputs, create_graph: bool = False):
    """d func(inputs) / d inputs; each block has shape output.shape + input.shape."""
    in_tuple, xs = _prepare(inputs, create_graph)
    outputs = func(*xs)
    out_tuple = isinstance(outputs, tuple)
    outputs = outputs if out_tuple else (outputs,)
    blocks = []
    for o in outputs:
        rows = []
        for k in range(o.data.size):
            onehot = np.zeros(o.data.size, dtype=o.dtype)
            onehot[k] = 1
            rows.append(_grads(o, xs, [Tensor.wrap(onehot.reshape(o.shape))], create_graph))
        blocks.append(tuple(
            (stack([r[i] for r in rows]) if rows else Tensor.wrap(np.zeros((0,) + x.shape)))
            .reshape(*o.shape, *x.shape) for i, x in enumerate(xs)))
    if not in_tuple:
        blocks = [b[0] for b in blocks]
    return tuple(blocks) if out_tuple else blocks[0]


def hessian(func, inputs, create_graph: bool = False):
    """Second derivatives of a scalar func; blocks of shape input_i.shape + input_j.shape."""
    in_tuple = isinstance(inputs, (tuple, list))

    def gradient(*xs):
        out = func(*xs)
        if not isinstance(out, Tensor) or out.data.size != 1:
            raise RuntimeError("hessian: the function must return a single-element Tensor")
        return _grads(out, xs, create_graph=True)

    h = jacobian(gradient, tuple(inputs) if in_tuple else (inputs,), create_graph)
    return h if in_tuple else h[0][0]


def vjp(func, inputs, v=None, create_graph: bool = False):
    """(func(inputs), v^T J): the vector-Jacobian product, shaped like the inputs."""
    in_tuple, xs = _prepare(inputs, create_graph)
    out = func(*xs)
    outs = out if isinstance(out, tuple) else (out,)
    vs = None if v is None else (v if isinstance(v, tuple) else (v,))
    if vs is None and any(o.data.size != 1 for o in outs):
        raise RuntimeError("vjp: v can be omitted only when the function returns a scalar")
    result = _grads(outs, xs, vs, create_graph)
    out = out if create_graph else (tuple(o.detach() for o in outs) if isinstance(out, tuple)
                                    else out.detach())
    return out, (result if in_tuple else result[0])


def hvp(func, inputs, v, create_graph: bool = False):
    """(func(inputs), H v): the Hessian-vector product of a scalar func."""
    in_tuple, xs = _prepare(inputs, create_graph)
    vs = v if isinstance(v, tuple) else (v,)
    out = func(*xs)
    if out.data.size != 1:
        raise RuntimeError("hvp: the function must return a single-element Tensor")
    gs = _grads(out, xs, create_graph=True)
    dot = sum((g * vi).sum() for g, vi in zip(gs, vs))
    result = _grads(dot, xs, create_graph=create_graph) if isinstance(dot, Tensor) and \
        dot.requires_grad else tuple(Tensor.wrap(np.zeros(x.shape, x.dtype)) for x in xs)
    out = out if create_graph else out.detach()
    return out, (result if in_tuple else result[0])


@dataclass
class CriticalPoint:
    """The Hessian test at a point: kind, gradient norm, Hessian eigenvalues (ascending),
    and the unit direction of steepest negative curvature (None if there is none)."""
    kind: str
    gradient_norm: float
    eigenvalues: np.ndarray
    escape_direction: np.ndarray | None
    hessian: np.ndarray
    value: float
    tol: float

    @property
    def is_critical(self) -> bool:
        """True when the gradient vanishes (norm <= tol)."""
        return self.gradient_norm <= self.tol

    @property
    def minimum_ratio(self) -> float:
        """Fraction of positive eigenvalues (1.0 at a local minimum)."""
        return float(np.mean(self.eigenvalues > self.tol)) if self.eigenvalues.size else 0.0


def critical_point(f, x, tol: float = 1e-6) -> CriticalPoint:
    """Classify the point x of scalar f by the eigenvalues of its Hessian.

    All eigenvalues > tol: local minimum; all < -tol: local maximum; both signs: saddle
    point (escape along `escape_direction`, where f decreases to second order); otherwise
    degenerate. Computed in float64."""
    x = Tensor(x.data if isinstance(x, Tensor) else x, dtype=np.float64)
    xg = x.detach().requires_grad_(True)
    value = f(xg)
    if not isinstance(value, Tensor) or value.data.size != 1:
        raise RuntimeError("critical_point: f must return a single-element Tensor")
    (g,) = _grads(value, (xg,))
    n = x.data.size
    h = hessian(f, x).data.reshape(n, n)
    h = (h + h.T) / 2
    eigenvalues, vectors = np.linalg.eigh(h)
    neg, pos = eigenvalues < -tol, eigenvalues > tol
    if neg.any() and pos.any():
        kind = "saddle point"
    elif pos.all():
        kind = "local minimum"
    elif neg.all():
        kind = "local maximum"
    else:
        kind = "degenerate"
    direction = None
    if neg.any():
        direction = vectors[:, 0] / np.linalg.norm(vectors[:, 0])
        direction = direction * np.sign(direction[np.argmax(np.abs(direction))])
        direction = direction.reshape(x.shape)
    return CriticalPoint(kind, float(np.linalg.norm(g.data)), eigenvalues, direction, h,
                         float(value.item()), tol)
