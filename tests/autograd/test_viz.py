"""autograd.viz.draw: the DOT text of known graphs (nodes, edges, labels, shared nodes once,
the cut at max_nodes), grad norms, deep graphs, bad input, and both the path without the
graphviz package (always) and with it (when it is installed)."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd
from autograd import viz

ROOT = Path(__file__).resolve().parents[2]
NODE = re.compile(r'^\t(n\d+|cut) \[label="((?:[^"\\]|\\.)*)" fillcolor=(\w+)', re.MULTILINE)
EDGE = re.compile(r"^\t(\w+) -> (\w+)( \[style=dashed\])?$", re.MULTILINE)


def parse(source: str) -> tuple:
    """({node id: (label lines, fill)}, [(from, to, dashed)]) of a DOT text from draw."""
    nodes = {m[0]: (m[1].split("\\n"), m[2]) for m in NODE.findall(source)}
    edges = [(a, b, bool(d)) for a, b, d in EDGE.findall(source)]
    assert source.count(" [label=") == len(nodes)
    assert source.count(" -> ") == len(edges)
    return nodes, edges


def labels(nodes: dict) -> list:
    return [lines for lines, _ in nodes.values()]


@pytest.fixture
def no_graphviz(monkeypatch):
    """The graphviz package not installed: its import fails."""
    monkeypatch.setitem(sys.modules, "graphviz", None)


@pytest.fixture
def no_dot(monkeypatch, tmp_path):
    """Graphviz's dot program not on PATH."""
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("dot") is None


def leaf(shape, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return autograd.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)


def two_layer():
    """out = relu(x @ W1 + b1) @ W2 + b2, loss = sum(out * out); x does not require grad."""
    x = autograd.tensor(np.random.default_rng(9).standard_normal((5, 3)).astype(np.float32))
    p = {"W1": leaf((3, 4), seed=1), "b1": leaf((4,), seed=2), "W2": leaf((4, 2), seed=3),
         "b2": leaf((2,), seed=4)}
    out = (x @ p["W1"] + p["b1"]).relu() @ p["W2"] + p["b2"]
    return (out * out).sum(), p


def test_small_graph_nodes_edges_and_labels(no_graphviz):
    a, b = leaf((2, 3)), leaf((3,), np.float64, seed=1)
    y = a * b + a  # a feeds both the Mul and the Add: drawn once, two edges out of it
    g = viz.draw(y, params={"a": a, "b": b})
    assert isinstance(g, viz.DotGraph)
    nodes, edges = parse(g.source)
    assert labels(nodes) == [["output", "(2, 3) float64"], ["AddBackward"], ["MulBackward"],
                             ["a", "(2, 3) float32"], ["b", "(3,) float64"]]
    assert [nodes[k][1] for k in nodes] == ["darkolivegreen1", "lightgrey", "lightgrey",
                                            "lightblue", "lightblue"]
    # output <- Add <- (Mul, a); Mul <- (a, b)
    assert edges == [("n1", "n0", False), ("n2", "n1", False), ("n3", "n1", False),
                     ("n3", "n2", False), ("n4", "n2", False)]
    assert g.source.startswith("digraph {\n") and g.source.endswith("}\n")


def test_unnamed_leaves_and_constants(no_graphviz):
    a = leaf((4,))
    y = (a * 2.0).exp()  # the constant 2.0 is not part of the graph (no grad), as in PyTorch
    nodes, edges = parse(viz.draw(y).source)
    assert labels(nodes) == [["output", "(4,) float32"], ["ExpBackward"], ["MulBackward"],
                             ["(4,) float32"]]
    assert len(edges) == 3


def test_shared_subexpression_appears_once(no_graphviz):
    a, b = leaf((3,)), leaf((3,), seed=1)
    h = a * b
    y = h.exp() + h.tanh() + h  # h's MulBackward feeds three ops
    nodes, edges = parse(viz.draw(y, {"a": a, "b": b}).source)
    names = [lab[0] for lab in labels(nodes)]
    assert names.count("MulBackward") == 1
    assert names.count("a") == names.count("b") == 1
    assert sorted(names) == sorted(["output", "AddBackward", "AddBackward", "MulBackward",
                                    "ExpBackward", "TanhBackward", "a", "b"])
    mul = next(k for k, (lab, _) in nodes.items() if lab == ["MulBackward"])
    consumers = sorted(nodes[b][0][0] for a_, b, _ in edges if a_ == mul)
    assert consumers == ["AddBackward", "ExpBackward", "TanhBackward"]
    assert len(edges) == 1 + 2 + 2 + 1 + 1 + 2  # out, two Adds, Exp, Tanh, Mul


def test_input_used_twice_has_two_edges(no_graphviz):
    x = leaf((2,))
    nodes, edges = parse(viz.draw(x * x, {"x": x}).source)
    assert len(nodes) == 3
    assert edges == [("n1", "n0", False), ("n2", "n1", False), ("n2", "n1", False)]


def test_two_layer_network(no_graphviz):
    loss, p = two_layer()
    nodes, edges = parse(viz.draw(loss, dict(p, loss=loss)).source)
    # one edge into every node but the output, and two from the Add into out * out
    assert len(nodes) == 12 and len(edges) == 12
    names = [lab[0] for lab in labels(nodes)]
    assert names[0] == "loss" and labels(nodes)[0] == ["loss", "() float32"]
    assert names.count("MatMulBackward") == 2 and names.count("AddBackward") == 2
    assert ["W1", "(3, 4) float32"] in labels(nodes) and ["b2", "(2,) float32"] in labels(nodes)


def test_named_non_leaf_labels_its_op(no_graphviz):
    a = leaf((2, 3))
    h = a.tanh()
    nodes, _ = parse(viz.draw(h.sum(), {"a": a, "h": h}).source)
    assert ["TanhBackward", "h (2, 3) float32"] in labels(nodes)


def test_leaf_output_is_one_node(no_graphviz):
    w = leaf((2, 2))
    nodes, edges = parse(viz.draw(w, {"w": w}, show_grad=True).source)
    assert labels(nodes) == [["w", "(2, 2) float32", "grad None"]] and edges == []


def test_show_grad_norms_match(no_graphviz):
    loss, p = two_layer()
    before = labels(parse(viz.draw(loss, p, show_grad=True).source)[0])
    assert sum(lab[-1] == "grad None" for lab in before) == 4
    loss.backward()
    found = {lab[0]: lab[2] for lab in labels(parse(viz.draw(loss, p, show_grad=True)
                                                    .source)[0]) if lab[0] in p}
    assert set(found) == set(p)
    for name, t in p.items():
        norm = float(np.sqrt((t.grad.data.astype(np.float64) ** 2).sum()))
        assert norm > 0
        assert found[name] == f"grad norm {norm:.4g}"
    # without show_grad no norms
    assert not any("grad" in line for lab in labels(parse(viz.draw(loss, p).source)[0])
                   for line in lab)


def test_cut_at_max_nodes(no_graphviz):
    x = leaf((3,))
    y = x
    for _ in range(10):
        y = y * 2.0
    full = parse(viz.draw(y, {"x": x}).source)
    assert len(full[0]) == 12 and len(full[1]) == 11  # output, 10 Muls, x
    nodes, edges = parse(viz.draw(y, {"x": x}, max_nodes=5).source)
    assert list(nodes) == ["n0", "n1", "n2", "n3", "n4", "cut"]
    assert nodes["cut"] == (["7 more nodes not drawn", "(max_nodes=5; total 12)"],
                            "lightyellow")
    assert edges == [("n1", "n0", False), ("n2", "n1", False), ("n3", "n2", False),
                     ("n4", "n3", False), ("cut", "n4", True)]
    # exactly max_nodes in the graph: no note
    nodes, _ = parse(viz.draw(y, max_nodes=12).source)
    assert len(nodes) == 12 and "cut" not in nodes
    nodes, _ = parse(viz.draw(y, max_nodes=11).source)
    assert nodes["cut"][0][0] == "1 more node not drawn"


def test_cut_points_at_every_op_with_missing_inputs(no_graphviz):
    a, b, c = leaf((2,)), leaf((2,), seed=1), leaf((2,), seed=2)
    y = a * b + b * c  # n0 out, n1 Add, n2 Mul(a,b), n3 Mul(b,c), n4 a, n5 b, n6 c
    nodes, edges = parse(viz.draw(y, max_nodes=4).source)
    assert nodes["cut"][0] == ["3 more nodes not drawn", "(max_nodes=4; total 7)"]
    assert [e for e in edges if e[2]] == [("cut", "n2", True), ("cut", "n3", True)]


def test_deterministic_ids():
    def build():
        a, b = leaf((2,)), leaf((2,), seed=1)
        return viz.draw((a * b).exp() + a.tanh() * b, {"a": a, "b": b}, show_grad=True).source
    s1, s2 = build(), build()
    assert s1 == s2  # fresh objects at other addresses, same text


def test_bad_inputs():
    with pytest.raises(TypeError, match=r"draw: expected a Tensor, got list"):
        viz.draw([1.0, 2.0])
    with pytest.raises(TypeError, match=r"draw: expected a Tensor, got ndarray"):
        viz.draw(np.ones(3))
    x = leaf((2,))
    for bad in (0, -3, 2.5, True, "10", None):
        with pytest.raises(ValueError, match=r"draw: max_nodes must be a positive int, got"):
            viz.draw(x * 2.0, max_nodes=bad)
    with pytest.raises(TypeError, match=r"draw: params must be a mapping .* got list"):
        viz.draw(x * 2.0, params=[x])
    with pytest.raises(TypeError, match=r"draw: params\['w'\] must be a Tensor, got ndarray"):
        viz.draw(x * 2.0, params={"w": np.ones(2)})


def test_quotes_in_names_are_escaped(no_graphviz):
    x = leaf((2,))
    src = viz.draw(x.exp(), {'w"1\\': x}).source
    assert '[label="w\\"1\\\\\\n(2,) float32"' in src
    nodes, _ = parse(src)
    assert len(nodes) == 3


def test_without_graphviz_or_dot(no_graphviz, no_dot):
    g = viz.draw(leaf((2,)).exp())
    assert isinstance(g, viz.DotGraph) and "ExpBackward" in str(g)
    assert repr(g) == "<DotGraph: 3 nodes, 2 edges; .source holds the DOT text>"
    for call in (lambda: g.pipe("svg"), lambda: g.render("graph", format="png")):
        with pytest.raises(viz.GraphvizUnavailable) as e:
            call()
        msg = str(e.value)
        assert "`dot` program" in msg and "pip install numbagrad[viz]" in msg
        assert "apt-get install graphviz" in msg
    assert g._repr_svg_() is None
    assert g._repr_mimebundle_() == {"text/plain": g.source}  # Jupyter shows the DOT text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program not installed")
def test_without_graphviz_package_renders_with_dot(no_graphviz, tmp_path):
    a = leaf((2,))
    g = viz.draw(a.tanh().sum(), {"a": a})
    svg = g.pipe("svg").decode()
    assert "<svg" in svg and "TanhBackward" in svg and "SumBackward" in svg
    assert g._repr_mimebundle_()["image/svg+xml"].count("class=\"node\"") == 4
    path = g.render(str(tmp_path / "g"), format="png")
    assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_with_graphviz_package(monkeypatch, tmp_path):
    graphviz = pytest.importorskip("graphviz")
    loss, p = two_layer()
    g = viz.draw(loss, p, max_nodes=6)
    assert isinstance(g, graphviz.Digraph)
    monkeypatch.setitem(sys.modules, "graphviz", None)
    assert g.source == viz.draw(loss, p, max_nodes=6).source  # the same DOT text either way
    monkeypatch.undo()
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(viz.GraphvizUnavailable, match=r"pip install numbagrad\[viz\]"):
        g.pipe(format="svg")
    assert g._repr_mimebundle_() == {"text/plain": g.source}


DEEP = """
import autograd
from autograd import viz
x = autograd.tensor([1.0], requires_grad=True)
y = x
for _ in range(10_000):
    y = y * 1.0
full = viz.draw(y, {"x": x}, max_nodes=20_000).source
cut = viz.draw(y, {"x": x}).source
print(full.count(" [label="), full.count(" -> "), cut.count(" [label="), cut.count(" -> "),
      "9502 more nodes not drawn" in cut)
"""


def test_deep_chain_draws_without_recursion():
    """10,000 ops deep: iterative walk, no RecursionError (in a child: a crash must not take
    the test run with it)."""
    out = subprocess.run([sys.executable, "-c", DEEP], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    # output + 10,000 Muls + x; cut: 500 nodes + the note, 499 edges + the dashed one
    assert out.stdout.split() == ["10002", "10001", "501", "500", "True"]
