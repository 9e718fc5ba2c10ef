"""Function: the base class of every differentiable op, and the node type of the graph.

An op subclasses Function and writes `forward` on numpy arrays and `backward` on Tensors
(so that backward itself is differentiable and higher derivatives come for free):

    class Mul(Function):
        save_inputs = True
        def forward(self, a, b):         # arrays in, array out
            return kernels.mul(a, b)
        def backward(self, g):           # Tensor in, one Tensor (or None) per input out
            a, b = self.inputs
            return g * b, g * a

`Mul.apply(x, y)` runs forward and, when grad mode is on and an input requires grad,
links the result into the graph. A node's `next` holds, per input, the node that produced
it (a Function), the input itself when it is a leaf that requires grad, or None.
"""
from __future__ import annotations

from typing import Any

from . import anomaly, trace
from .grad_mode import _state as _grad_mode
from .wrap import wrap

_FREED = ("Trying to backward through the graph a second time (or directly access saved "
          "tensors after they have already been freed). Saved intermediate values of the graph "
          "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
          "you need to backward through the graph a second time or if you need to access saved "
          "tensors after calling backward.")


class Function:
    save_inputs = False  # keep the input Tensors for backward (checked against in-place writes)
    save_output = False  # keep the output array; `self.output()` rebuilds it as a Tensor

    next: tuple = ()
    freed = False
    created_at = None
    _hooks = None
    _retained = None

    @classmethod
    def apply(cls, *inputs, **kwargs):
        """Run forward on the inputs' arrays and record the op in the graph if needed."""
        fn = cls()
        n = len(inputs)  # one and two inputs spelled out: no list per call (issue 15)
        if n == 2:
            data = fn.forward(inputs[0].data, inputs[1].data, **kwargs)
        elif n == 1:
            data = fn.forward(inputs[0].data, **kwargs)
        else:
            data = fn.forward(*[t.data for t in inputs], **kwargs)
        if _grad_mode.enabled:
            for t in inputs:
                if t.requires_grad:
                    return fn._record(inputs, data)
        return wrap(data)

    def _record(self, inputs: tuple, data):
        """Link the output into the graph: one edge per input, saved tensors, versions."""
        for t in inputs:
            if t._base is not None and t._version[0] != t._base_version and t.requires_grad:
                raise RuntimeError(
                    f"{type(self).__name__}: an input of shape {t.shape} is a view whose base "
                    f"tensor was modified in place after the view was taken; take the view "
                    f"again after the in-place operation")
        out = wrap(data, True, self)
        self.dtype = data.dtype  # gradients reaching this node are cast to it
        if len(inputs) == 2:  # the binary ops, spelled out (no list per node: issue 15)
            a, b = inputs
            self.next = (a.grad_fn if a.grad_fn is not None else (a if a.requires_grad else None),
                         b.grad_fn if b.grad_fn is not None else (b if b.requires_grad else None))
            if self.save_inputs:
                self._inputs = inputs
                self._versions = (a._version[0], b._version[0])
        else:
            self.next = tuple([t.grad_fn if t.grad_fn is not None else
                               (t if t.requires_grad else None) for t in inputs])
            if self.save_inputs:
                self._inputs = inputs
                self._versions = tuple([t._version[0] for t in inputs])
        if self.save_output:
            self._out = (data, out._version, out._version[0])
        if anomaly.state.enabled:  # only backward outputs are checked (-inf masks are fine)
            self.created_at = anomaly.creation_site()
        return out

    def forward(self, *arrays: Any, **kwargs: Any):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    @property
    def name(self) -> str:
        return f"{type(self).__name__}Backward"

    @property
    def inputs(self) -> tuple:
        """The saved input Tensors, after checking that none was modified in place."""
        return tuple(self.saved_input(i) for i in range(len(self._inputs or ())))

    def saved_input(self, i: int):
        """Saved input i, after checking that it was not modified in place since forward
        (backward checks only the inputs it reads, as PyTorch does)."""
        if self.freed:
            raise RuntimeError(_FREED)
        t, v = self._inputs[i], self._versions[i]
        if t._version[0] != v:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified "
                f"by an inplace operation: input {i} of {self.name}, a tensor of shape "
                f"{t.shape}, is at version {t._version[0]}; expected version {v} instead.")
        return t

    def output(self):
        """The saved output as a Tensor whose grad_fn is this node (differentiable)."""
        if self.freed:
            raise RuntimeError(_FREED)
        data, version, seen = self._out
        if version[0] != seen:
            raise self._output_modified()
        return wrap(data, True, self, version)

    def output_array(self):
        """The saved output's array, after `output`'s checks: for a backward that runs a
        kernel straight on it when no graph is recorded (no Tensor to make)."""
        if self.freed:
            raise RuntimeError(_FREED)
        data, version, seen = self._out
        if version[0] != seen:
            raise self._output_modified()
        return data

    def _output_modified(self) -> RuntimeError:
        data, version, seen = self._out
        return RuntimeError(
            f"one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: the output of {self.name}, a tensor of shape {data.shape}, "
            f"is at version {version[0]}; expected version {seen} instead.")

    def release(self) -> None:
        """Drop everything forward kept for backward (saved tensors, masks, indices), keeping
        only the graph's shape; called after backward unless retain_graph=True. Not while
        autograd.compile records: a replay may call this node's backward again."""
        if trace.ACTIVE[0] is not None:
            return
        state = self.__dict__
        if not ("_hooks" in state or "_retained" in state or "created_at" in state):
            try:  # a recorded node without hooks: the common case, one dict made whole
                self.__dict__ = {"next": state["next"], "freed": True, "dtype": state["dtype"]}
                return
            except KeyError:  # not recorded through `_record`: the general path below
                pass
        kept = {"next": state.get("next", ()), "freed": True}
        if "dtype" in state:
            kept["dtype"] = state["dtype"]
        for k in ("_hooks", "_retained", "created_at"):  # set on few nodes
            if k in state:
                kept[k] = state[k]
        self.__dict__ = kept  # one new dict: cheaper than clearing the old one key by key

    def resave(self) -> None:
        """Take the saved tensors as they are now (a compiled step's replay calls backward
        again after the optimiser has updated the parameters this node saved)."""
        inputs = self.__dict__.get("_inputs")
        if inputs is not None:
            self._versions = tuple([t._version[0] for t in inputs])
        out = self.__dict__.get("_out")
        if out is not None:
            self._out = (out[0], out[1], out[1][0])

    def register_hook(self, hook) -> None:
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)

    def __repr__(self) -> str:
        return f"<{self.name}>"
