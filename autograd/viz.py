"""draw: the picture of the graph that produced a tensor, as DOT text (Graphviz's language).

Backpropagation is easiest to follow on a drawing: leaves (parameters, inputs) at the top,
one box per op named after its backward node (`MulBackward`, `MatMulBackward`, ...), the
output at the bottom; gradients flow against the arrows. `draw` walks the graph iteratively
(no recursion: graphs can be 100k ops deep), draws a shared subgraph once, and stops at
`max_nodes` with a note saying how many nodes were left out.

The DOT text (`.source`) needs nothing. With the `graphviz` package installed
(`pip install numbagrad[viz]`) the result is a `graphviz.Digraph`; either way it shows as an
SVG in Jupyter when Graphviz's `dot` program is on PATH, and as its DOT text otherwise.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Mapping

import numpy as np

from .function import Function
from .tensor import Tensor

INSTALL_HINT = ("install the Python package with `pip install numbagrad[viz]` (or `pip install "
                "graphviz`) and Graphviz's `dot` program (e.g. `apt-get install graphviz`, "
                "`brew install graphviz` or `conda install graphviz`); the DOT text is in "
                "`.source` without either")

HEADER = ("\tgraph [size=\"12,12\"]\n"
          "\tnode [align=left fontname=monospace fontsize=10 height=0.2 shape=box "
          "style=filled]\n")
FILL = {"op": "lightgrey", "leaf": "lightblue", "output": "darkolivegreen1"}


class GraphvizUnavailable(RuntimeError):
    """Rendering a picture needs Graphviz's `dot` program (and `render`/`pipe` say how to get
    it); the DOT text never does."""


def draw(tensor: Tensor, params: Mapping | None = None, show_grad: bool = False,
         max_nodes: int = 500):
    """The graph that produced `tensor`: a `graphviz.Digraph` when the graphviz package is
    installed, else a `DotGraph`; both have `.source` (DOT text) and render in Jupyter.

    params: names for tensors, e.g. `dict(model.named_parameters())`; a leaf is labelled with
    its name, shape and dtype, a named non-leaf adds its name to the op that made it.
    show_grad: add the norm of each leaf's `.grad` (after backward), or "grad None".
    max_nodes: draw at most this many nodes (breadth first from the output); a note node
    says how many were left out and points at the ops whose inputs were cut.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw: expected a Tensor, got {type(tensor).__name__}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, (int, np.integer)) \
            or max_nodes <= 0:
        raise ValueError(f"draw: max_nodes must be a positive int, got {max_nodes!r}")
    named = _named(params)
    body = _body(tensor, named, bool(show_grad), int(max_nodes))
    try:
        import graphviz
    except ImportError:  # also when sys.modules["graphviz"] is None
        return DotGraph(body)
    return _digraph_class(graphviz)(body=[HEADER] + body)


def _named(params) -> list:
    """[(name, tensor)], checking that params maps names to Tensors."""
    if params is None:
        return []
    if not isinstance(params, Mapping):
        raise TypeError(f"draw: params must be a mapping of names to tensors (e.g. "
                        f"dict(model.named_parameters())), got {type(params).__name__}")
    for name, t in params.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"draw: params[{name!r}] must be a Tensor, got "
                            f"{type(t).__name__}")
    return [(str(name), t) for name, t in params.items()]


def _inputs(node) -> list:
    """What feeds a node: a Function's recorded inputs (ops and leaves), the output's grad_fn."""
    if isinstance(node, Function):
        return [n for n in node.next if n is not None]
    return [node.grad_fn] if node.grad_fn is not None else []


def _walk(root: Tensor) -> tuple:
    """Breadth-first from the output: every node once (in discovery order) and every edge
    (input index, consumer index), one per recorded input, so `x * x` has two."""
    order, index, edges = [root], {id(root): 0}, []
    queue = deque([root])
    while queue:
        node = queue.popleft()
        j = index[id(node)]
        for inp in _inputs(node):
            i = index.get(id(inp))
            if i is None:
                i = index[id(inp)] = len(order)
                order.append(inp)
                queue.append(inp)
            edges.append((i, j))
    return order, edges


def _tensor_text(t: Tensor) -> str:
    return f"{tuple(t.shape)} {t.dtype}"


def _grad_text(t: Tensor) -> str:
    if t.grad is None:
        return "grad None"
    return f"grad norm {np.linalg.norm(np.asarray(t.grad.data, np.float64).ravel()):.4g}"


def _label(node, is_root: bool, names: dict, show_grad: bool) -> tuple:
    """(label lines, kind) of one node."""
    if isinstance(node, Function):
        return [node.name], "op"
    name = names.get(id(node))
    if is_root and node.grad_fn is not None:
        return [name or "output", _tensor_text(node)], "output"
    lines = ([name] if name else []) + [_tensor_text(node)]
    if show_grad:
        lines.append(_grad_text(node))
    return lines, "leaf"


def _body(root: Tensor, named: list, show_grad: bool, max_nodes: int) -> list:
    """DOT statements (one per line): nodes n0.. in walk order, then edges, then the note."""
    order, edges = _walk(root)
    names, producers = {}, {}  # id(leaf or output) -> name; id(op) -> name of its output
    for name, t in named:
        if t.grad_fn is None or t is root:
            names.setdefault(id(t), name)
        else:
            producers.setdefault(id(t.grad_fn), f"{name} {_tensor_text(t)}")
    shown = min(len(order), max_nodes)
    lines = []
    for i in range(shown):
        node = order[i]
        label, kind = _label(node, i == 0, names, show_grad)
        if kind == "op" and id(node) in producers:
            label.append(producers[id(node)])
        text = _quote("\n".join(label))
        lines.append(f"\tn{i} [label={text} fillcolor={FILL[kind]}]\n")
    cut: dict = {}  # drawn nodes with an input left out, in order (a dict as an ordered set)
    for i, j in edges:
        if j >= shown:
            continue
        if i < shown:
            lines.append(f"\tn{i} -> n{j}\n")
        else:
            cut[j] = None
    if cut:
        left = len(order) - shown
        note = (f"{left} more node{'s' if left != 1 else ''} not drawn\n"
                f"(max_nodes={max_nodes}; total {len(order)})")
        lines.append(f"\tcut [label={_quote(note)} fillcolor=lightyellow shape=note]\n")
        lines.extend(f"\tcut -> n{j} [style=dashed]\n" for j in cut)
    return lines


def _quote(text: str) -> str:
    """A DOT double-quoted string; newlines become DOT's centred line breaks."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _summary(kind: str, body: list) -> str:
    nodes = sum(" [label=" in line for line in body)
    edges = sum(" -> " in line for line in body)
    return f"<{kind}: {nodes} nodes, {edges} edges; .source holds the DOT text>"


def _dot_program() -> str:
    import shutil
    path = shutil.which("dot")
    if path is None:
        raise GraphvizUnavailable(f"drawing the graph as a picture needs Graphviz's `dot` "
                                  f"program, which is not on PATH: {INSTALL_HINT}")
    return path


class DotGraph:
    """The graph as DOT text, for when the graphviz package is not installed. Shows in
    Jupyter as an SVG when the `dot` program is on PATH, else as the DOT text."""

    def __init__(self, body: list):
        self.body = list(body)

    @property
    def source(self) -> str:
        return "digraph {\n" + HEADER + "".join(self.body) + "}\n"

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return _summary("DotGraph", self.body)

    def pipe(self, format: str = "svg") -> bytes:
        """The picture in `format` (svg, png, pdf, ...), drawn by Graphviz's `dot`."""
        import subprocess
        try:
            out = subprocess.run([_dot_program(), f"-T{format}"], input=self.source.encode(),
                                 capture_output=True, timeout=120, check=False)
        except subprocess.TimeoutExpired as e:
            raise RuntimeError(f"dot -T{format} took over 120 s (a graph this large is "
                               f"better cut with a smaller max_nodes)") from e
        if out.returncode:
            raise RuntimeError(f"dot -T{format} failed: {out.stderr.decode(errors='replace')}")
        return out.stdout

    def render(self, filename: str, format: str = "svg") -> str:
        """Write `filename.format` (and `filename`, the DOT text); returns the picture's path."""
        picture = self.pipe(format)
        with open(filename, "w") as f:
            f.write(self.source)
        path = f"{filename}.{format}"
        with open(path, "wb") as f:
            f.write(picture)
        return path

    def _repr_svg_(self) -> str | None:
        try:
            return self.pipe("svg").decode()
        except (RuntimeError, OSError):  # no dot (GraphvizUnavailable), dot failed or timed out
            return None

    def _repr_mimebundle_(self, include=None, exclude=None, **_) -> dict:
        svg = self._repr_svg_()
        return {"image/svg+xml": svg} if svg is not None else {"text/plain": self.source}


_DIGRAPH: list = []


def _digraph_class(graphviz):
    """graphviz.Digraph whose pictures fail with our install hint when `dot` is missing, and
    which shows its DOT text in Jupyter then instead of a traceback."""
    if _DIGRAPH and _DIGRAPH[0][0] is graphviz:
        return _DIGRAPH[0][1]

    class Digraph(graphviz.Digraph):
        def pipe(self, *args, **kwargs):
            try:
                return super().pipe(*args, **kwargs)
            except graphviz.ExecutableNotFound as e:
                raise GraphvizUnavailable(f"drawing the graph as a picture needs Graphviz's "
                                          f"`dot` program: {INSTALL_HINT}") from e

        def render(self, *args, **kwargs):
            try:
                return super().render(*args, **kwargs)
            except graphviz.ExecutableNotFound as e:
                raise GraphvizUnavailable(f"drawing the graph as a picture needs Graphviz's "
                                          f"`dot` program: {INSTALL_HINT}") from e

        def __repr__(self) -> str:
            return _summary("Digraph", self.body)

        def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
            try:
                return super()._repr_mimebundle_(include, exclude, **kwargs)
            except (GraphvizUnavailable, graphviz.ExecutableNotFound):
                return {"text/plain": self.source}

    Digraph.__qualname__ = Digraph.__name__ = "Digraph"
    _DIGRAPH[:] = [(graphviz, Digraph)]
    return Digraph
