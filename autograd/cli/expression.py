"""Evaluate a tensor expression from the command line with nothing but the tensor API.

The expression is parsed and every node is checked before anything runs: names must be the
given inputs or a few autograd functions; attributes must be public Tensor methods; no
builtins, no dunders, no lambdas, comprehensions or imports. It is then evaluated by a small
tree-walking interpreter (not `eval`) that bounds what a hostile expression can cost: every
Python integer, every list/tuple/string repetition, every tensor's element count, the shape
arguments of every call, and the wall-clock time. Anything beyond the bounds is refused with
an `ExpressionError` before the expensive step runs (`9**9**9`, `[x]*10**8`,
`x.expand(10**6, 10**6)`); an expression's nesting depth and length are bounded too, so the
parser and the interpreter never recurse deeply.
"""
from __future__ import annotations

import ast
import collections
import inspect
import math
import operator
import time
from typing import Any

import numpy as np

import autograd

FUNCTIONS = {name: getattr(autograd, name) for name in (
    "where", "maximum", "minimum", "cat", "stack", "matmul")}
METHODS = {name for name in dir(autograd.Tensor)
           if not name.startswith("_") and name not in {
               "backward", "register_hook", "retain_grad", "requires_grad_", "numpy", "data",
               "grad", "grad_fn", "add_", "sub_", "mul_", "div_", "fill_", "zero_", "copy_",
               "tolist", "item"}}
RESULT_FIELDS = {"values", "indices"}  # of the (values, indices) tuple max(dim)/min(dim) give
_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Load, ast.Constant,
            ast.Attribute, ast.Subscript, ast.Slice, ast.Tuple, ast.List, ast.keyword,
            ast.operator, ast.unaryop, ast.Compare, ast.cmpop)

MAX_SOURCE_CHARS = 4_000
MAX_DEPTH = 60            # nesting of the syntax tree
MAX_NODES = 2_000
MAX_INT = 2 ** 63 - 1     # magnitude of any Python integer (constant or computed)
MAX_ITEMS = 10_000        # items in any list or tuple (nested lists counted in full), or chars
MAX_ELEMENTS = 10 ** 7    # elements of any tensor (80 MB in float64)

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.MatMult: operator.matmul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
           ast.LShift: operator.lshift, ast.RShift: operator.rshift, ast.BitOr: operator.or_,
           ast.BitXor: operator.xor, ast.BitAnd: operator.and_}
_UNARYOPS = {ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Invert: operator.invert,
             ast.Not: operator.not_}
_CMPOPS = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
           ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}
_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.MatMult: "@", ast.Div: "/",
            ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**", ast.LShift: "<<",
            ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&"}


class ExpressionError(ValueError):
    """The expression is not valid Python, uses something outside the tensor API, or would
    cost more than the bounds allow."""


def _check_tree(tree: ast.AST, names: set[str]) -> None:
    """Every node allowed, every name known, every attribute public tensor API; depth and size
    bounded. Iterative, so a pathological tree cannot exhaust the stack here."""
    queue, count = collections.deque([(tree, 0)]), 0  # breadth first, as ast.walk
    while queue:
        node, depth = queue.popleft()
        count += 1
        if count > MAX_NODES:
            raise ExpressionError(f"the expression has more than {MAX_NODES:,} syntax nodes")
        if depth > MAX_DEPTH:
            raise ExpressionError(f"the expression is nested more than {MAX_DEPTH} levels deep")
        if not isinstance(node, _ALLOWED):
            raise ExpressionError(f"{type(node).__name__} is not allowed in an expression")
        if isinstance(node, ast.Name) and node.id not in names and node.id not in FUNCTIONS:
            raise ExpressionError(f"unknown name {node.id!r}: the expression may use the "
                                  f"inputs {sorted(names)} and {sorted(FUNCTIONS)}")
        if isinstance(node, ast.Attribute) and node.attr not in METHODS | RESULT_FIELDS:
            raise ExpressionError(f"attribute {node.attr!r} is not part of the tensor API")
        if isinstance(node, ast.Constant):
            value = node.value
            if not isinstance(value, (int, float, bool)) and value is not None:
                raise ExpressionError(f"constant {str(value)[:40]!r} is not a number")
            if isinstance(value, int) and abs(value) > MAX_INT:
                raise ExpressionError(f"integer constant {_digits(value)} is out of range "
                                      f"(at most {MAX_INT:,} in magnitude)")
        if isinstance(node, ast.keyword) and node.arg is None:
            raise ExpressionError("**keyword unpacking is not allowed in an expression")
        queue.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _digits(value: int) -> str:
    n = len(str(abs(value))) if abs(value) < 10 ** 100 else int(value.bit_length() * 0.30103)
    return f"with about {n} digits" if n > 20 else f"{value:,}"


class Expression:
    """A checked expression; call it with the input tensors as keywords.

    `deadline` (a `time.monotonic()` value, or None) stops an evaluation that runs past it."""

    def __init__(self, source: str, tree: ast.Expression) -> None:
        self.source, self.tree, self.deadline = source, tree, None

    def __call__(self, **tensors: Any) -> Any:
        return _Interpreter({**FUNCTIONS, **tensors}, self.deadline).run(self.tree.body)


def compile_expression(source: str, names: set[str]) -> Expression:
    """Check `source` and return a function of keyword tensors that evaluates it."""
    if len(source) > MAX_SOURCE_CHARS:
        raise ExpressionError(f"the expression is {len(source):,} characters long "
                              f"(at most {MAX_SOURCE_CHARS:,})")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as e:
        raise ExpressionError(f"syntax error in expression {source[:80]!r}: {e.msg} "
                              f"(column {e.offset})") from None
    except (RecursionError, MemoryError, ValueError) as e:  # too deeply nested for the parser
        raise ExpressionError(f"the expression cannot be parsed: {type(e).__name__}: "
                              f"{str(e)[:80]}") from None
    _check_tree(tree, names)
    return Expression(source, tree)


class _Interpreter:
    """Evaluates a checked tree node by node, bounding every intermediate value."""

    def __init__(self, env: dict[str, Any], deadline: float | None) -> None:
        self.env, self.deadline = env, deadline
        self.weights: dict[int, int] = {}  # id -> items of a list/tuple built here (nested)
        self.keep: list[Any] = []          # keeps those alive so that their ids stay unique

    def run(self, node: ast.AST) -> Any:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise ExpressionError("evaluation ran past the time limit (see --time-limit)")
        value = getattr(self, "_" + type(node).__name__)(node)
        self._bound(value, node)
        return value

    # ---- bounds -------------------------------------------------------------------------
    def _weight(self, value: Any) -> int:
        """Items in a list/tuple counting nested lists in full ([[0]*100]*100 weighs 10,000)."""
        if isinstance(value, (str, bytes)):
            return len(value)
        if not isinstance(value, (list, tuple)):
            return 1
        known = self.weights.get(id(value))
        if known is None:
            known = sum(self._weight(item) for item in value) if len(value) <= MAX_ITEMS \
                else len(value)
        return max(known, len(value))

    def _remember(self, value: Any, weight: int) -> Any:
        self.weights[id(value)] = weight
        self.keep.append(value)
        return value

    def _bound(self, value: Any, node: ast.AST) -> None:
        where = ast.unparse(node)[:60]
        if isinstance(value, bool):
            return
        if isinstance(value, (int, np.integer)) and abs(int(value)) > MAX_INT:
            raise ExpressionError(f"{where!r} gives an integer {_digits(int(value))}, out of "
                                  f"range (at most {MAX_INT:,} in magnitude)")
        if isinstance(value, (list, tuple, str, bytes)) and self._weight(value) > MAX_ITEMS:
            raise ExpressionError(f"{where!r} gives a sequence of {self._weight(value):,} "
                                  f"items (at most {MAX_ITEMS:,})")
        size = _elements(value)
        if size > MAX_ELEMENTS:
            raise ExpressionError(f"{where!r} gives a tensor of {size:,} elements "
                                  f"(at most {MAX_ELEMENTS:,})")

    # ---- nodes --------------------------------------------------------------------------
    def _Constant(self, node: ast.Constant) -> Any:
        return node.value

    def _Name(self, node: ast.Name) -> Any:
        return self.env[node.id]

    def _Attribute(self, node: ast.Attribute) -> Any:
        obj = self.run(node.value)
        if isinstance(obj, autograd.Tensor) and node.attr in METHODS:
            return getattr(obj, node.attr)
        if node.attr in RESULT_FIELDS and isinstance(obj, tuple) \
                and node.attr in getattr(obj, "_fields", ()):
            return getattr(obj, node.attr)
        raise ExpressionError(f"attribute {node.attr!r} of a {type(obj).__name__} is not "
                              f"allowed: attributes are tensor methods (and .values/.indices "
                              f"of max/min along a dim)")

    def _List(self, node: ast.List) -> list:
        items = [self.run(e) for e in node.elts]
        return self._remember(items, sum(self._weight(i) for i in items))

    def _Tuple(self, node: ast.Tuple) -> tuple:
        items = tuple(self.run(e) for e in node.elts)
        return self._remember(items, sum(self._weight(i) for i in items))

    def _Slice(self, node: ast.Slice) -> slice:
        parts = [None if p is None else self.run(p) for p in (node.lower, node.upper, node.step)]
        return slice(*parts)

    def _Subscript(self, node: ast.Subscript) -> Any:
        obj, index = self.run(node.value), self.run(node.slice)
        if isinstance(obj, autograd.Tensor) and obj.shape and \
                isinstance(index, (autograd.Tensor, np.ndarray, list)):
            rows = _elements(index) if not isinstance(index, list) else self._weight(index)
            size = rows * (math.prod(obj.shape) // max(obj.shape[0], 1))
            if size > MAX_ELEMENTS:
                raise ExpressionError(f"{ast.unparse(node)[:60]!r} would gather {size:,} "
                                      f"elements (at most {MAX_ELEMENTS:,})")
        return obj[index]

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        return _UNARYOPS[type(node.op)](self.run(node.operand))

    def _Compare(self, node: ast.Compare) -> Any:
        left, result = self.run(node.left), True
        for op, right_node in zip(node.ops, node.comparators):
            right = self.run(right_node)
            result = _CMPOPS[type(op)](left, right)
            if len(node.ops) > 1 and not result:  # a chain stops at the first false link
                return result
            left = right
        return result

    def _BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.run(node.left), self.run(node.right)
        kind = type(node.op)
        self._check_binop(kind, left, right, node)
        result = _BINOPS[kind](left, right)
        if isinstance(result, (list, tuple)):  # concatenation or repetition
            if kind is ast.Add:
                weight = self._weight(left) + self._weight(right)
            else:
                seq, count = (left, right) if isinstance(left, (list, tuple)) else (right, left)
                weight = self._weight(seq) * max(int(count), 0)
            self._remember(result, weight)
        return result

    def _check_binop(self, kind: type, left: Any, right: Any, node: ast.BinOp) -> None:
        """Refuse, before computing it, a result that would be huge or take forever."""
        symbol = _SYMBOLS[kind]
        ints = all(isinstance(v, (int, np.integer)) for v in (left, right))
        if kind is ast.Pow and ints and int(right) > 0 and abs(int(left)) > 1:
            bits = int(right) * math.log2(abs(int(left)))
            if bits > 64:
                raise ExpressionError(f"{ast.unparse(node)[:60]!r}: {left} ** {right} has "
                                      f"about {bits * 0.30103:,.0f} digits (integer results "
                                      f"are limited to {MAX_INT:,})")
        if kind is ast.LShift and ints and int(left) != 0 and int(right) > 64:
            raise ExpressionError(f"{ast.unparse(node)[:60]!r}: shifting by {right} bits is "
                                  f"out of range")
        if kind is ast.Mult:
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (list, tuple, str, bytes)) \
                        and isinstance(count, (int, np.integer)):
                    total = self._weight(seq) * max(int(count), 0)
                    if total > MAX_ITEMS:
                        raise ExpressionError(
                            f"{ast.unparse(node)[:60]!r} repeats a sequence to {total:,} items "
                            f"(at most {MAX_ITEMS:,})")
        shapes = [np.shape(v.data) if isinstance(v, autograd.Tensor) else np.shape(v)
                  for v in (left, right) if isinstance(v, (autograd.Tensor, np.ndarray))]
        if len(shapes) == 2:
            size = _result_size(shapes, matmul=kind is ast.MatMult)
            if size > MAX_ELEMENTS:
                raise ExpressionError(f"{ast.unparse(node)[:60]!r} ({symbol} of shapes "
                                      f"{shapes[0]} and {shapes[1]}) would give {size:,} "
                                      f"elements (at most {MAX_ELEMENTS:,})")

    def _Call(self, node: ast.Call) -> Any:
        func = self.run(node.func)
        args = [self.run(a) for a in node.args]
        kwargs = {k.arg: self.run(k.value) for k in node.keywords}
        receiver = getattr(func, "__self__", None) if inspect.ismethod(func) else None
        if not (any(func is f for f in FUNCTIONS.values())
                or isinstance(receiver, autograd.Tensor)):
            raise ExpressionError(f"{ast.unparse(node.func)[:60]!r} is not a tensor method or "
                                  f"one of {sorted(FUNCTIONS)}")
        self._check_call(node, [receiver, *args, *kwargs.values()])
        return func(*args, **kwargs)

    def _check_call(self, node: ast.Call, values: list) -> None:
        """Bound what a call may allocate: its integer arguments (shapes, repeats) multiply
        to at most MAX_ELEMENTS; its tensor arguments hold (cat, stack) or broadcast to
        (where, maximum) at most MAX_ELEMENTS."""
        ints, shapes = [], []
        pending = list(values)
        while pending:
            v = pending.pop()
            if isinstance(v, (list, tuple)):
                pending.extend(v)
            elif isinstance(v, (int, np.integer)) and not isinstance(v, bool):
                ints.append(abs(int(v)))
            elif isinstance(v, autograd.Tensor):
                shapes.append(tuple(v.shape))
        product = math.prod(ints) if ints else 0
        total = sum(math.prod(s) for s in shapes)
        if getattr(node.func, "attr", getattr(node.func, "id", "")) == "matmul" \
                and len(shapes) == 2:
            total = max(total, _result_size(shapes[::-1], matmul=True))  # popped in reverse
        try:
            total = max(total, math.prod(np.broadcast_shapes(*shapes)) if shapes else 0)
        except ValueError:
            pass  # shapes that do not broadcast (matmul, cat): the result is checked after
        if product > MAX_ELEMENTS or total > MAX_ELEMENTS:
            raise ExpressionError(f"{ast.unparse(node)[:60]!r} could allocate "
                                  f"{max(product, total):,} elements (at most "
                                  f"{MAX_ELEMENTS:,})")


def _elements(value: Any) -> int:
    if isinstance(value, autograd.Tensor):
        return math.prod(value.shape)
    if isinstance(value, np.ndarray):
        return value.size
    return 0


def _result_size(shapes: list[tuple], matmul: bool) -> int:
    """Elements of `a op b` for array shapes a, b (0 when they do not combine: the op raises)."""
    a, b = shapes
    try:
        if not matmul:
            return math.prod(np.broadcast_shapes(a, b))
        if len(a) < 1 or len(b) < 1:
            return 0
        rows = a[-2] if len(a) >= 2 else 1
        cols = b[-1] if len(b) >= 2 else 1
        return math.prod(np.broadcast_shapes(a[:-2], b[:-2])) * rows * cols
    except ValueError:
        return 0
