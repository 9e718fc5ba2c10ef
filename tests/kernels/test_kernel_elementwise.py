import numpy as np
import pytest

from autograd.kernels.jit import tasks
from tests.kernels._helpers import DTYPES, numba_and_ref, tol, variants

SHAPES = [(0,), (1,), (7,), (33, 65), (2, 3, 50), (1, 1)]
BINARY = ["add", "sub", "mul", "div", "maximum", "minimum", "power"]
UNARY = ["neg", "sqrt", "absolute", "relu", "exp", "log", "tanh", "sin", "cos", "sigmoid"]


def _inputs(name, rng, shape, dtype):
    for label, x in variants(rng, shape, dtype):
        if name in ("sqrt", "log"):
            x = np.abs(x) + dtype(0.1)
        yield label, x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", UNARY)
def test_unary_matches_reference(paths, name, shape, dtype):
    rng = np.random.default_rng(0)
    fn, ref = numba_and_ref(name)
    for _, x in _inputs(name, rng, shape, dtype):
        got, want = fn(x), ref(x)
        assert got.dtype == want.dtype == dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_leaky_relu_and_nan(paths, dtype):
    fn, ref = numba_and_ref("leaky_relu")
    x = np.array([-2, -0.0, 0, 3, np.nan, -np.inf], dtype)
    np.testing.assert_array_equal(fn(x, 0.1), ref(x, 0.1))
    relu, relu_ref = numba_and_ref("relu")
    np.testing.assert_array_equal(relu(x), relu_ref(x))


BROADCASTS = [((40, 30), (40, 30)), ((40, 30), (30,)), ((30,), (40, 30)), ((40, 30), (1, 30)),
              ((40, 30), ()), ((), (40, 30)), ((4, 1, 30), (5, 30)), ((40, 1), (1, 30)),
              ((0, 30), (30,)), ((1,), (1,)), ((1024 * 3,), (1,))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", BROADCASTS)
@pytest.mark.parametrize("name", BINARY)
def test_binary_matches_reference(paths, name, shapes, dtype):
    rng = np.random.default_rng(1)
    fn, ref = numba_and_ref(name)
    sa, sb = shapes
    a = rng.standard_normal(sa).astype(dtype)
    b = rng.standard_normal(sb).astype(dtype)
    if name == "power":
        a = np.abs(a) + dtype(0.5)
    got, want = fn(a, b), ref(a, b)
    assert got.dtype == want.dtype == dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, **tol(dtype))
    if a.ndim == 2 and a.size:  # a non-contiguous view of the same values
        wide = np.repeat(a, 2, axis=1)[:, ::2]
        np.testing.assert_allclose(fn(wide, b), ref(wide, b), **tol(dtype))


def test_binary_nan_and_mixed_dtypes(paths):
    fn, ref = numba_and_ref("maximum")
    a = np.array([np.nan, 1, 2, np.nan] * 3000, np.float32)
    b = np.array([0, np.nan, 1, np.nan] * 3000, np.float32)
    np.testing.assert_array_equal(fn(a, b), ref(a, b))
    add, add_ref = numba_and_ref("add")
    x32, x64 = np.ones(9000, np.float32), np.ones(9000, np.float64)
    assert add(x32, x64).dtype == add_ref(x32, x64).dtype == np.float64
    xi = np.arange(9000)
    np.testing.assert_array_equal(add(xi, xi), add_ref(xi, xi))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(0,), (1,), (50, 41)])
def test_fused(paths, shape, dtype):
    rng = np.random.default_rng(2)
    a, b = (rng.standard_normal(shape).astype(dtype) for _ in range(2))
    ab, ab_ref = numba_and_ref("act_backward")
    relu, tanh, sigmoid = (numba_and_ref(n)[1] for n in ("relu", "tanh", "sigmoid"))
    for act, f in (("identity", lambda v: v), ("relu", relu), ("tanh", tanh),
                   ("sigmoid", sigmoid)):
        y = f(a)
        np.testing.assert_allclose(ab(b, y, act), ab_ref(b, y, act), **tol(dtype))


def test_fused_bad_input():
    ab, _ = numba_and_ref("act_backward")
    with pytest.raises(ValueError):
        ab(np.ones(3), np.ones(3), "swish")
    add, _ = numba_and_ref("add")
    with pytest.raises(ValueError):
        add(np.ones((9000, 3)), np.ones((9000, 2)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("e", [0, 1, 2, 3, 4, -1, -2, 0.5, -0.5, 2.5])
def test_power_scalar_fast_path(dtype, e):
    """Small scalar exponents take multiplications / sqrt: same dtype as np.power (a 0-d
    float64 exponent still promotes a float32 base, as numpy does), values within rounding."""
    from autograd.kernels import elementwise

    a = np.random.default_rng(0).uniform(0.5, 3.0, (33, 65)).astype(dtype)
    for b in (e, dtype(e), np.asarray(e, np.float64)):
        got, want = elementwise.power(a, b), np.power(a, b)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, **tol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("parallel", [False, True])
def test_flat_binary_kernel_in_place_equals_numpy(dtype, parallel):
    """The flat kernel's in-place branches (out is a, out is b: `a.add_(b)`, `out=` an
    operand) give numpy's values, as the three-array loop does."""
    from autograd.kernels.jit import elementwise as E
    rng = np.random.default_rng(5)
    a0 = rng.standard_normal(1001).astype(dtype)
    b0 = rng.standard_normal(1001).astype(dtype) + 3
    for name, ufunc in (("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                        ("div", np.divide), ("maximum", np.maximum)):
        split = E.BINARY[name][0]
        if parallel:  # the task loop on two threads, parts of 100 elements
            def kernel(a, b, out, split=split):
                tasks.run(split.tasks, np.dtype(dtype),
                          (a, b, 100, tasks.new_block_counter(2), out), 2)
        else:
            kernel = split.serial.get(np.dtype(dtype))
        want = ufunc(a0, b0)
        a, b, out = a0.copy(), b0.copy(), np.empty_like(a0)
        kernel(a, b, out)
        np.testing.assert_array_equal(out, want, err_msg=name)
        kernel(a, b, a)
        np.testing.assert_array_equal(a, want, err_msg=f"{name} into a")
        a = a0.copy()
        kernel(a, b, b)
        np.testing.assert_array_equal(b, want, err_msg=f"{name} into b")


@pytest.mark.parametrize("dtype", DTYPES)
def test_parallel_path_in_many_parts_equals_the_serial_kernels(dtype, monkeypatch):
    """Above the parallel threshold every elementwise kernel runs as a task loop on the
    pool's threads, in parts of CHUNK elements (rows, for a row broadcast). Split into parts
    of 64 elements, every op and form gives the serial kernel's values to the bit: flat
    binary (also into an operand), row and scalar broadcasts either way round, unary ops,
    activation backward, GELU both ways."""
    from autograd import kernels as K
    from autograd.kernels import policy
    from autograd.kernels.jit import elementwise as E

    monkeypatch.setattr(E, "CHUNK", 64)
    rng = np.random.default_rng(11)
    a = rng.standard_normal((37, 56)).astype(dtype)   # 2,072 elements: 33 parts, the last short
    b = rng.standard_normal((37, 56)).astype(dtype) + 3
    row = rng.standard_normal(56).astype(dtype)
    s = rng.standard_normal((2, 1024)).astype(dtype)  # a scalar broadcast runs rows of 1024
    calls = {f"{n}({x}, {y})": (lambda n=n, x=x, y=y: getattr(K, n)(*(
        {"a": a, "b": b, "row": row, "s": s, "2": np.array(2.5, dtype)}[v] for v in (x, y))))
        for n in E.BINARY for x, y in (("a", "b"), ("a", "row"), ("row", "a"), ("s", "2"),
                                         ("2", "s"))}
    calls.update({n: (lambda n=n: getattr(K, n)(np.abs(a) if n == "sqrt" else a))
                  for n in E.UNARY if n != "leaky_relu"})
    calls["leaky_relu"] = lambda: K.leaky_relu(a, 0.1)
    calls.update({f"act_backward {act}": (lambda act=act: K.act_backward(b, np.tanh(a), act))
                  for act in E.ACT_BACKWARD})
    calls["gelu"] = lambda: K.gelu(a)
    calls["gelu_backward"] = lambda: K.gelu_backward(b, a)

    def in_place():
        out = a.copy()
        return K.add(out, b, out=out)
    calls["add into a"] = in_place
    with np.errstate(all="ignore"):
        with policy.override(numpy_below=0, parallel_above=policy.NEVER,
                             families=("elementwise",)):
            serial = {k: f() for k, f in calls.items()}
        with policy.override(numpy_below=0, parallel_above=-1, families=("elementwise",)):
            split = {k: f() for k, f in calls.items()}
    for k in calls:
        np.testing.assert_array_equal(split[k], serial[k], err_msg=k)
    if tasks.threads() > 1:  # the parallel path really ran the task loops
        assert (np.dtype(dtype), False) in E.BINARY["add"][1].tasks.compiled
        assert (np.dtype(dtype), False) in E.UNARY["relu"].tasks.compiled


def test_parallel_path_refuses_arguments_that_do_not_fit():
    """The task loop's check runs before any thread starts (tasks.run)."""
    from autograd.kernels.jit import elementwise as E
    a = np.ones(8)
    with pytest.raises(ValueError, match=r"^_chunk_tasks_mul: arguments of inconsistent "
                                         r"shapes \(a: \(8,\) float64, b: \(4,\) float64"):
        tasks.run(E.BINARY["mul"][0].tasks, a.dtype,
                  (a, np.ones(4), 4, tasks.new_block_counter(2), a), 2)


@pytest.mark.parametrize("parts, blocks", [(9, 2), (9, 5), (3, 5), (1, 2), (0, 3)])
def test_one_thread_alone_runs_every_block(parts, blocks):
    """A task loop claims the blocks of its core first, then every other block: a thread
    that runs it alone (no helper took the job) computes every part, once, and finished the
    last one (also with fewer parts than blocks, and none)."""
    from autograd.kernels.jit import elementwise as E
    rng = np.random.default_rng(3)
    a = rng.standard_normal(7 * parts - (parts > 1)).astype(np.float32)
    b = rng.standard_normal(a.size).astype(np.float32)
    out = np.full_like(a, np.nan)
    ctr = tasks.new_block_counter(blocks)
    last = E.BINARY["mul"][0].tasks.get(a.dtype)(a, b, 7, ctr, out)
    np.testing.assert_array_equal(out, a * b)
    assert last and ctr[0] == parts
    sizes = [(j + 1) * parts // blocks - j * parts // blocks for j in range(blocks)]
    assert list(ctr[1:]) == [n + 1 for n in sizes]  # each block's parts, then one claim past


def test_task_loop_refuses_a_counter_without_blocks():
    from autograd.kernels.jit import elementwise as E
    a = np.ones(8)
    with pytest.raises(ValueError, match=r"^_chunk_tasks_add: arguments of inconsistent"):
        E.BINARY["add"][0].tasks.get(a.dtype)(a, a, 4, np.zeros(1, np.int64), a)


def test_concurrent_callers_of_the_parallel_path_get_their_own_values(monkeypatch):
    """Python threads launching elementwise task loops at once share the pool's helpers
    (a helper serves one launch at a time; a launch that finds none runs alone): each
    caller's output holds its own values."""
    import threading

    from autograd import kernels as K
    from autograd.kernels import policy
    from autograd.kernels.jit import elementwise as E

    monkeypatch.setattr(E, "CHUNK", 256)
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 10_000)).astype(np.float32)
    b = rng.standard_normal(10_000).astype(np.float32)
    errors = []

    def work(i):
        try:
            for _ in range(30):
                np.testing.assert_array_equal(K.mul(a[i], b), a[i] * b)
                np.testing.assert_array_equal(K.relu(a[i]), np.maximum(a[i], 0))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    with policy.override(numpy_below=0, parallel_above=-1, families=("elementwise",)):
        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)


@pytest.mark.parametrize("parallel", [False, True])
def test_out_overlapping_an_input_gives_numpy_values(parallel, monkeypatch):
    """`out=` a view shifted against an input (x[1:] from x[:-1]): numpy's values, as if the
    input were read first (numpy buffers the overlap; the numba kernels would read elements
    already written, by this thread or the other). `out` being the input itself stays in
    place, in numba."""
    from autograd import kernels as K
    from autograd.kernels import policy
    from autograd.kernels.jit import elementwise as E

    monkeypatch.setattr(E, "CHUNK", 64)
    rng = np.random.default_rng(8)
    n = 3000
    base = rng.standard_normal(n + 1)
    b = rng.standard_normal(n)
    cases = {"add": (lambda x, o: K.add(x, b, out=o), lambda x: x + b),
             "mul rows": (lambda x, o: K.mul(x.reshape(30, 100), b[:100], out=o.reshape(30, 100)),
                          lambda x: (x.reshape(30, 100) * b[:100]).reshape(-1)),
             "relu": (lambda x, o: K.relu(x, out=o), lambda x: np.maximum(x, 0)),
             "act_backward": (lambda x, o: K.act_backward(x, np.tanh(b), "tanh", out=o),
                              lambda x: x * (1 - np.tanh(b) ** 2)),
             "gelu_backward": (lambda x, o: K.gelu_backward(x, b, out=o),
                               lambda x: K.gelu_backward.reference(x, b))}
    above = -1 if parallel else policy.NEVER
    with policy.override(numpy_below=0, parallel_above=above, families=("elementwise",)):
        for name, (call, want) in cases.items():
            for src, dst in ((slice(0, n), slice(1, n + 1)), (slice(1, n + 1), slice(0, n))):
                buf = base.copy()
                expected = base.copy()
                expected[dst] = want(base[src])
                call(buf[src], buf[dst])
                np.testing.assert_allclose(buf, expected, rtol=1e-12, atol=1e-12,
                                           err_msg=f"{name} {src} -> {dst}")
            buf = base[:n].copy()  # exactly in place: the numba kernel itself
            call(buf, buf)
            np.testing.assert_allclose(buf, want(base[:n]), rtol=1e-12, atol=1e-12,
                                       err_msg=f"{name} in place")
