"""Full backward hooks of a Module call: hook(module, grad_input, grad_output) runs once the
gradients with respect to the module's tensor inputs are known (PyTorch's
register_full_backward_hook).

Each call of a hooked module routes its tensor inputs and outputs through identity nodes
(`autograd.nn_ops.identity`); Tensor hooks on those nodes collect grad_output (the
gradients reaching the outputs) and grad_input (those leaving through the inputs).
"""
from __future__ import annotations

from collections import OrderedDict
from functools import partial
from typing import Any

from autograd import Tensor, is_grad_enabled
from autograd import nn_ops as ops


class BackwardHookCall:
    """The bookkeeping of one forward call of a module with full backward hooks."""

    def __init__(self, module: Any, hooks: OrderedDict):
        self.module, self.hooks = module, hooks
        self.grad_inputs: list = []
        self.grad_outputs: list = []
        self.in_slots: set = set()
        self.out_slots: set = set()
        self.in_seen: set = set()
        self.out_seen: set = set()

    @staticmethod
    def active(hooks: OrderedDict) -> bool:
        return bool(hooks) and is_grad_enabled()

    def wrap_inputs(self, args: tuple) -> tuple:
        """args with each tensor that requires grad replaced by an identity node whose hook
        records its grad_input slot."""
        args = list(args)
        slot = 0
        for i, a in enumerate(args):
            if not isinstance(a, Tensor):
                continue
            self.grad_inputs.append(None)
            if a.requires_grad:
                w = ops.identity(a)
                w.register_hook(partial(self._on_input, slot))
                self.in_slots.add(slot)
                args[i] = w
            slot += 1
        return tuple(args)

    def wrap_outputs(self, out: Any) -> Any:
        """The output (a tensor or a tuple / list of them) through identity nodes whose hooks
        record grad_output."""
        single = isinstance(out, Tensor)
        items = [out] if single else list(out) if isinstance(out, (tuple, list)) else None
        if items is None:
            return out
        slot = 0
        for i, o in enumerate(items):
            if not isinstance(o, Tensor):
                continue
            self.grad_outputs.append(None)
            if o.requires_grad:
                w = ops.identity(o)
                w.register_hook(partial(self._on_output, slot))
                self.out_slots.add(slot)
                items[i] = w
            slot += 1
        return items[0] if single else type(out)(items)

    def _on_output(self, slot: int, grad: Tensor) -> None:
        self.grad_outputs[slot] = grad
        self.out_seen.add(slot)
        if not self.in_slots and self.out_seen == self.out_slots:  # no input needs grad
            self.out_seen = set()
            self._call_hooks()

    def _on_input(self, slot: int, grad: Tensor):
        self.grad_inputs[slot] = grad
        self.in_seen.add(slot)
        if self.in_seen != self.in_slots:
            return None
        self.in_seen, self.out_seen = set(), set()  # ready for another backward
        replaced = self._call_hooks()
        if replaced is None:
            return None
        if len(self.in_slots) > 1:
            raise RuntimeError(f"{type(self.module).__name__}: a full backward hook may "
                               f"replace grad_input only for a module with one input that "
                               f"requires grad ({len(self.in_slots)} here)")
        return replaced[slot]

    def _call_hooks(self):
        """Run the hooks in order; each sees the grad_input the previous one returned."""
        grad_input = tuple(self.grad_inputs)
        replaced = None
        for hook in list(self.hooks.values()):
            result = hook(self.module, grad_input, tuple(self.grad_outputs))
            if result is not None:
                result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
                if len(result) != len(grad_input):
                    raise RuntimeError(f"{type(self.module).__name__}: a backward hook "
                                       f"returned {len(result)} gradients, expected "
                                       f"{len(grad_input)}")
                grad_input = replaced = result
        return replaced
