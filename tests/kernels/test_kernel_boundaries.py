"""Every numba kernel checks its arguments' shapes before running (issue 11, item 3).

numba does not check bounds: a compiled kernel handed arrays that do not fit together reads
and writes past their ends. Each kernel compiled through `lazy_njit(..., check=...)` now
raises ValueError naming the kernel and every argument's shape first. The calls run in a
subprocess: without the checks they would corrupt memory.
"""
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from autograd.kernels.jit import pool

ROOT = Path(__file__).parents[2]

# name -> (module, kernel, argument expression): each call has one argument that does not fit.
CASES = {
    "binary_flat": ("elementwise", "BINARY['mul'][0].serial", "f(8), f(4), f(8)"),
    "binary_rows": ("elementwise", "BINARY['mul'][1].serial", "f(4, 8), (f(3), False), f(4, 8)"),
    "binary_rows_out": ("elementwise", "BINARY['add'][1].serial",
                        "f(4, 8), (f(8), False), f(4, 7)"),
    "unary_flat": ("elementwise", "UNARY['neg'].serial", "f(8), 0.0, f(4)"),
    "unary_flat_list": ("elementwise", "UNARY['neg'].serial", "[1.0] * 8, 0.0, f(8)"),
    "act_backward_flat": ("elementwise", "ACT_BACKWARD['relu'].serial", "f(8), f(8), f(2)"),
    # the task loops (the parallel path): the serial check, the part size and the counter
    "binary_flat_tasks": ("elementwise", "BINARY['mul'][0].tasks", "f(8), f(4), 4, i(2), f(8)"),
    "binary_flat_tasks_chunk": ("elementwise", "BINARY['mul'][0].tasks",
                                "f(8), f(8), 0, i(2), f(8)"),
    "binary_rows_tasks": ("elementwise", "BINARY['add'][1].tasks",
                          "f(4, 8), (f(8), False), 1, i(2), f(4, 7)"),
    "unary_flat_tasks_counter": ("elementwise", "UNARY['neg'].tasks", "f(8), 0.0, 4, i(1), f(8)"),
    "bn_forward": ("batchnorm", "_bn_forward",
                   "f(2, 3, 4), f(0), f(0), f(2, 3, 4), f(0, 0, 0), f(3), f(3), f(2), 1e-5"),
    "bn_forward_empty": ("batchnorm", "_bn_forward",
                         "f(0, 3, 4), f(0), f(0), f(0, 3, 4), f(0, 0, 0), f(3), f(3), f(3), 1e-5"),
    "bn_forward_affine": ("batchnorm", "_bn_forward",
                          "f(2, 3, 4), f(3), f(3), f(2, 3, 4), f(2, 3, 5), f(3), f(3), f(3), 1e-5"),
    "bn_backward_affine": ("batchnorm", "_bn_backward_affine",
                           "f(2, 3, 4), f(2, 3, 4), f(3), f(2), f(2, 3, 4), f(3), f(3)"),
    "col2im": ("conv", "_col2im", "f(1, 1, 3, 3, 2, 2), f(1, 2, 4, 4), 1, 1, 0, 0, 1, 1"),
    "im2col_same": ("conv", "_im2col_same", "f(1, 2, 4, 4), f(1, 2, 3, 3, 4, 5), 1, 1, 1, 1"),
    "gemm_kernel": ("gemm", "gemm_kernel", "f(1, 4, 5), f(1, 6, 3), f(0), 0, False, f(1, 4, 3)"),
    "gemm_kernel_bias": ("gemm", "gemm_kernel",
                         "f(1, 4, 5), f(1, 5, 3), f(4), 1, False, f(1, 4, 3)"),
    "gemm_kernel_out": ("gemm", "gemm_kernel", "f(2, 4, 5), f(2, 5, 3), f(0), 0, True, f(2, 3, 4)"),
    "reduce3": ("reduce", "_reduce3", "f(2, 3, 4), f(2, 3), 0"),
    "reduce3_empty_axis": ("reduce", "_reduce3", "f(2, 0, 1), f(2, 1), 1"),
    "softmax_rows": ("softmax_ce", "_softmax_rows", "f(4, 8), f(4, 7), False"),
    "softmax_rows_empty_row": ("softmax_ce", "_softmax_rows", "f(4, 0), f(4, 0), True"),
    "cross_entropy_rows": ("softmax_ce", "_cross_entropy_rows", "f(4, 8), i(3), f(4), f(4, 8)"),
    "cross_entropy_backward_rows": ("softmax_ce", "_cross_entropy_backward_rows",
                                    "f(4, 8), i(4), f(4), f(4, 9)"),
}

# the per-op kernels are named after their template and op (`_common.specialised`)
KERNEL_NAMES = {"binary_flat": "_binary_flat_mul", "binary_rows": "_binary_rows_mul",
                "binary_rows_out": "_binary_rows_add", "unary_flat": "_unary_flat_neg",
                "unary_flat_list": "_unary_flat_neg",
                "act_backward_flat": "_binary_flat_relu_backward",
                "binary_flat_tasks": "_chunk_tasks_mul", "binary_flat_tasks_chunk": "_chunk_tasks_mul",
                "binary_rows_tasks": "_chunk_tasks_add", "unary_flat_tasks_counter": "_chunk_tasks_neg"}

# The public wrapper scatters by the saved argmax: indices outside the plane are refused.
BAD_ARGMAX = {f"max_pool2d_backward_{bad}": (
    "pool", "max_pool2d_backward",
    f"f(1, 2, 2, 2), np.where(np.arange(8).reshape(1, 2, 2, 2) == 7, {bad}, 0), 4, 4")
    for bad in (16, 1000, -2)}


SCRIPT = textwrap.dedent("""
    import importlib, json, sys
    import numpy as np
    def f(*shape):
        return np.ones(shape, np.float64)
    def i(*shape):
        return np.zeros(shape, np.int64)
    out = {}
    for name, (module, kernel, args) in json.loads(sys.argv[1]).items():
        mod = importlib.import_module(module if "." in module else "autograd.kernels.jit." + module)
        fn = eval(kernel, vars(mod))  # a name, or an entry of a per-op table
        if hasattr(fn, "get"):  # a compiled kernel, not a Python wrapper
            fn = fn.get(np.dtype(np.float64), False)
        try:
            fn(*eval(args))
            out[name] = "no error"
        except Exception as e:
            out[name] = type(e).__name__ + ": " + str(e)
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def results():
    proc = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps({**CASES, **BAD_ARGMAX})],
                          cwd=ROOT, check=False,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", CASES)
def test_kernel_refuses_arguments_that_do_not_fit(results, case):
    _, kernel, args = CASES[case]
    kernel = KERNEL_NAMES.get(case, kernel)
    message = results[case]
    assert message.startswith(f"ValueError: {kernel}: arguments of inconsistent shapes ("), \
        message
    # every argument is named, arrays with their shape
    first = args.split("),")[0] + ")" if args.startswith("f(") else None
    if first is not None:
        shape = tuple(int(n) for n in re.findall(r"\d+", first))
        assert f"{shape} float64" in message


def test_kernels_still_run_arguments_that_fit():
    # the checks let the ordinary calls through (the other kernel tests check the values)
    from autograd.kernels.jit import elementwise, reduce
    a = np.arange(8.0)
    out = np.empty(8)
    kernel = elementwise.BINARY["mul"][0].serial.get(np.dtype(np.float64), False)
    kernel(a, a, out)
    assert len(kernel.__wrapped__.signatures) == 1  # __wrapped__: the numba dispatcher
    np.testing.assert_array_equal(out, a * a)
    tasks = elementwise.BINARY["mul"][0].tasks.get(np.dtype(np.float64))
    out[:] = 0
    assert tasks(a, a, 3, np.zeros(2, np.int64), out)  # one thread finishes the last part
    np.testing.assert_array_equal(out, a * a)
    x = np.arange(24.0).reshape(2, 3, 4)
    res = np.empty((2, 4))
    reduce._reduce3.get(np.dtype(np.float64), False)(x, res, reduce.SUM)
    np.testing.assert_array_equal(res, x.sum(1))


@pytest.mark.parametrize("case", BAD_ARGMAX)
def test_max_pool_backward_refuses_indices_outside_the_plane(results, case):
    assert re.fullmatch(r"ValueError: max_pool2d_backward: argmax \(1, 2, 2, 2\) holds indices "
                        r"outside \[-1, 16\), the pixels of an 4x4 input plane", results[case])


def test_max_pool_backward_scatters_valid_indices():
    g = np.ones((1, 2, 2, 2))
    argmax = np.array([0, 5, 10, 15, 3, 3, -1, 12]).reshape(1, 2, 2, 2)
    gx = pool.max_pool2d_backward(g * np.arange(1.0, 9.0).reshape(1, 2, 2, 2), argmax, 4, 4)
    want = np.zeros((1, 2, 16))
    want[0, 0, [0, 5, 10, 15]] = [1, 2, 3, 4]
    want[0, 1, 3] = 5 + 6
    want[0, 1, 12] = 8
    np.testing.assert_array_equal(gx, want.reshape(1, 2, 4, 4))


def test_avg_pool_backward_refuses_a_gradient_of_another_geometry():
    g = np.ones((1, 1, 3, 3))  # a 2x2/2 window over 4x4 gives 2x2 outputs, not 3x3
    with pytest.raises(ValueError, match=r"avg_pool2d_backward: arguments of inconsistent "
                                         r"shapes \(grad_out: \(1, 1, 3, 3\), input: "
                                         r"\(1, 1, 4, 4\)\)"):
        pool.avg_pool2d_backward(g, 4, 4, 2, 2, 2, 2, 0, 0)
    gx = pool.avg_pool2d_backward(np.ones((1, 1, 2, 2)), 4, 4, 2, 2, 2, 2, 0, 0)
    np.testing.assert_array_equal(gx, np.full((1, 1, 4, 4), 0.25))
