"""The declared kernel protocol: registry, policy, `out=`, and the per-op kernels made from
one template (`jit/_common.specialised`), which must cache on disk without colliding."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import autograd
from autograd import kernels as K
from autograd.kernels import policy, registry

ROOT = Path(__file__).parents[2]

# kernel -> arguments (besides out=) built from a float array x
OUT_CASES = {
    "add": lambda x: (x, x[::-1].copy()), "sub": lambda x: (x, x * 0.5),
    "mul": lambda x: (x, x), "div": lambda x: (x, x * 0 + 3), "maximum": lambda x: (x, -x),
    "minimum": lambda x: (x, -x), "power": lambda x: (np.abs(x), x * 0 + 1.5),
    "neg": lambda x: (x,), "exp": lambda x: (x,), "log": lambda x: (np.abs(x) + 1,),
    "sqrt": lambda x: (np.abs(x),), "sin": lambda x: (x,), "cos": lambda x: (x,),
    "tanh": lambda x: (x,), "sigmoid": lambda x: (x,), "relu": lambda x: (x,),
    "leaky_relu": lambda x: (x, 0.1), "absolute": lambda x: (x,),
    "act_backward": lambda x: (x, np.tanh(x), "tanh"),
}
REDUCTIONS = ["sum", "amax", "amin", "prod"]


def test_every_declared_kernel_is_in_the_registry_with_its_reference():
    for name, spec in registry.REGISTRY.items():
        fn = getattr(K, name, None) or spec.reference
        assert spec.impls["numpy"] is spec.reference
        assert spec.signature.startswith(name + "(")
        if fn is not spec.reference:
            assert fn.reference is spec.reference and fn.spec is spec
    assert {n for n, s in registry.REGISTRY.items() if s.out} >= set(OUT_CASES) | {
        "matmul", *REDUCTIONS}


def test_register_names_a_declared_kernel_and_a_known_backend():
    with pytest.raises(KeyError, match="no kernel 'no_such_kernel' is declared"):
        registry.register("numba", "no_such_kernel")(lambda x: x)
    with pytest.raises(ValueError, match="unknown backend 'tpu'"):
        registry.register("tpu", "add")
    # "cuda" is a device backend: registered to, chosen by the arguments, never set globally
    assert "cuda" in registry.DEVICE_BACKENDS
    with pytest.raises(ValueError, match="unknown backend 'cuda'"):
        policy.set_backend("cuda")
    with pytest.raises(ValueError, match="already declared"):
        registry.declare(lambda a, b: a, name="add")


def test_policy_override_sets_and_restores_every_family():
    before = policy.describe()
    with policy.override(numpy_below=0, parallel_above=-1, threaded_ufunc_above=0):
        assert all(t.path(10) == "parallel" for t in policy.FAMILIES.values())
        assert policy.threaded_ufunc_above() == 0
    assert policy.describe() == before
    with policy.override(parallel_above=policy.NEVER, families=("reduce",)):
        assert policy.REDUCE.path(1 << 30) == "serial"
        assert policy.ELEMENTWISE.path(1 << 30) == "parallel"
    assert policy.describe() == before
    with (pytest.raises(ValueError, match="unknown kernel family 'gpu'"),
          policy.override(numpy_below=0, families=("gpu",))):
        pass
    assert policy.ELEMENTWISE.path(10) == "numpy"


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("name", sorted(OUT_CASES))
def test_out_is_written_and_returned(paths, backend, name):
    x = np.random.default_rng(0).standard_normal((37, 64)).astype(np.float32)
    args = OUT_CASES[name](x)
    fn = getattr(K, name).implementation(backend)
    want = getattr(K, name).reference(*args)
    out = np.full(want.shape, np.nan, want.dtype)
    got = fn(*args, out=out)
    assert got is out
    np.testing.assert_allclose(out, want, rtol=2e-6, atol=2e-6)
    # an out= that numba cannot write directly (non-contiguous) still gets the values
    wide = np.full(want.shape[:-1] + (2 * want.shape[-1],), np.nan, want.dtype)
    assert fn(*args, out=wide[..., ::2]).base is wide
    np.testing.assert_allclose(wide[..., ::2], want, rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("axis,keepdims", [(0, False), (1, True), (None, False)])
def test_reduction_out(paths, backend, name, axis, keepdims):
    x = np.random.default_rng(1).uniform(0.5, 1.5, (40, 30)).astype(np.float64)
    fn = getattr(K, name).implementation(backend)
    want = getattr(K, name).reference(x, axis, keepdims)
    out = np.empty(np.shape(want), x.dtype)
    assert fn(x, axis, keepdims, out=out) is out
    np.testing.assert_allclose(out, want, rtol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_matmul_out(backend):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((3, 5, 7)), rng.standard_normal((7, 4))
    out = np.empty((3, 5, 4))
    fn = K.matmul.implementation(backend)
    assert fn(a, b, out=out) is out
    np.testing.assert_allclose(out, a @ b, rtol=1e-12)
    bt = np.ascontiguousarray(b.T)
    assert fn(a, bt, False, True, out=out) is out
    np.testing.assert_allclose(out, a @ b, rtol=1e-12)


_CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    from autograd import kernels as K
    from autograd.kernels import policy
    from autograd.kernels.jit import elementwise as E
    x = np.linspace(-2, 2, 4096)
    y = np.linspace(1, 3, 4096)
    with policy.override(numpy_below=0, parallel_above=policy.NEVER):
        got = {"add": K.add(x, y), "sub": K.sub(x, y), "mul": K.mul(x, y),
               "neg": K.neg(x), "relu": K.relu(x)}
    kernels = {"add": E.BINARY["add"][0].serial, "sub": E.BINARY["sub"][0].serial,
               "mul": E.BINARY["mul"][0].serial, "neg": E.UNARY["neg"].serial,
               "relu": E.UNARY["relu"].serial}
    stats = {}
    for name, k in kernels.items():
        d = k.compiled[(np.dtype(np.float64), False)].__wrapped__
        stats[name] = [sum(d.stats.cache_hits.values()), sum(d.stats.cache_misses.values())]
    want = {"add": x + y, "sub": x - y, "mul": x * y, "neg": -x, "relu": np.maximum(x, 0)}
    ok = {n: bool(np.allclose(got[n], want[n], rtol=1e-12)) for n in got}
    print(json.dumps({"stats": stats, "ok": ok}))
""")


def _run_child(cache_dir) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    proc = subprocess.run([sys.executable, "-c", _CHILD], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_per_op_kernels_cache_on_disk_without_colliding(tmp_path):
    """One template compiled per op: a fresh process compiles each (a miss), the next one
    loads each from the cache (a hit, no miss), and every op still computes its own
    function (a collision would hand `mul` the cached `add`)."""
    first = _run_child(tmp_path)
    assert all(first["ok"].values()), first
    assert all(misses == 1 and hits == 0 for hits, misses in first["stats"].values()), first
    files = {p.name.split("-")[0] for p in tmp_path.rglob("*.nbi")}
    for name in ("_binary_flat_add", "_binary_flat_sub", "_binary_flat_mul",
                 "_unary_flat_neg", "_unary_flat_relu"):
        assert any(f.endswith(name) for f in files), (name, files)
    second = _run_child(tmp_path)
    assert all(second["ok"].values()), second
    assert all(hits == 1 and misses == 0 for hits, misses in second["stats"].values()), second


def test_import_autograd_still_does_not_import_numba_and_backend_is_numba():
    code = "import sys, autograd; print('numba' in sys.modules, autograd.get_backend())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "numba"]
    assert autograd.get_backend() == "numba"
