"""Evaluate a tensor expression from the command line with nothing but the tensor API.

The expression is parsed and every node is checked before anything runs: names must be the
given inputs or a few autograd functions; attributes must be public Tensor methods; no
builtins, no dunders, no lambdas, comprehensions or imports. Then it is evaluated with an
empty __builtins__.
"""
from __future__ import annotations

import ast

import autograd

FUNCTIONS = {name: getattr(autograd, name) for name in (
    "where", "maximum", "minimum", "cat", "stack", "matmul")}
METHODS = {name for name in dir(autograd.Tensor)
           if not name.startswith("_") and name not in {
               "backward", "register_hook", "retain_grad", "requires_grad_", "numpy", "data",
               "grad", "grad_fn", "add_", "sub_", "mul_", "div_", "fill_", "zero_", "copy_",
               "tolist", "item"}}
_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Load, ast.Constant,
            ast.Attribute, ast.Subscript, ast.Slice, ast.Tuple, ast.List, ast.keyword,
            ast.operator, ast.unaryop, ast.Compare, ast.cmpop)


class ExpressionError(ValueError):
    """The expression is not valid Python or uses something outside the tensor API."""


def compile_expression(source: str, names: set[str]):
    """Check `source` and return a function of keyword tensors that evaluates it."""
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as e:
        raise ExpressionError(f"syntax error in expression {source!r}: {e.msg} "
                              f"(column {e.offset})") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ExpressionError(f"{type(node).__name__} is not allowed in an expression")
        if isinstance(node, ast.Name) and node.id not in names and node.id not in FUNCTIONS:
            raise ExpressionError(f"unknown name {node.id!r}: the expression may use the "
                                  f"inputs {sorted(names)} and {sorted(FUNCTIONS)}")
        if isinstance(node, ast.Attribute) and node.attr not in METHODS:
            raise ExpressionError(f"attribute {node.attr!r} is not part of the tensor API")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, bool)) \
                and node.value is not None:
            raise ExpressionError(f"constant {node.value!r} is not a number")
    code = compile(tree, "<expression>", "eval")

    def evaluate(**tensors):
        return eval(code, {"__builtins__": {}}, {**FUNCTIONS, **tensors})
    return evaluate
