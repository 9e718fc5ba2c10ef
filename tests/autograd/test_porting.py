"""The porting surface (API.md part 2, "Porting"): lazy sub-namespaces, dtype names and casts,
legacy constructors, devices, the number protocol on 0-d tensors, save/load keywords, and
`autograd.NAME(t, ...)` for Tensor methods. Expected values are PyTorch 2.13's (CPU build)."""
from __future__ import annotations

import operator
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import autograd

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _cpu_only_build(monkeypatch):
    """These tests pin the answers of a machine without numba-cuda or a GPU (a CPU-only
    PyTorch build's), whatever this machine has; the cuda device itself is tested on the
    CUDA simulator in tests/cuda/."""
    monkeypatch.setitem(autograd.cuda._state, "available", False)


def _run(code: str, timeout: float = 120) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                            capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


# ---- 1. lazy sub-namespaces ----------------------------------------------------------------
def test_import_autograd_imports_neither_nn_nor_optim_nor_heavy_packages() -> None:
    """`import autograd` stays light: the facade resolves nn and optim on first use, and
    numba, mpi4py, graphviz and matplotlib load only when used. (The import time itself is
    reported by `python -m bench --only startup`; timings never decide a test.)"""
    out = _run("""
        import sys
        import autograd
        print(*sorted(m for m in sys.modules if m.split(".")[0] in
                      ("nn", "optim", "numba", "mpi4py", "graphviz", "matplotlib", "scipy")))
    """)
    assert out.split() == []


def test_sub_namespaces_resolve_lazily_to_the_packages() -> None:
    out = _run("""
        import sys
        import autograd as torch
        assert "nn" not in sys.modules and "optim" not in sys.modules
        import nn, nn.functional, nn.init, nn.utils, optim, optim.lr_scheduler
        assert torch.nn is nn and torch.nn.functional is nn.functional
        assert torch.nn.init.kaiming_normal_ is nn.init.kaiming_normal_
        assert torch.nn.utils.clip_grad_norm_ is nn.utils.clip_grad_norm_
        assert torch.optim is optim and torch.optim.Adam is optim.Adam
        assert torch.optim.lr_scheduler.StepLR is optim.lr_scheduler.StepLR
        assert torch.utils.data is torch.data
        assert torch.utils.data.DataLoader is torch.data.DataLoader
        import autograd.distributed
        assert torch.distributed is autograd.distributed
        print("ok")
    """)
    assert out.strip() == "ok"


def test_utils_data_imports_as_a_module() -> None:
    out = _run("""
        from autograd.utils.data import DataLoader, TensorDataset
        import autograd.utils.data as data
        import autograd
        assert data is autograd.data and DataLoader is autograd.data.DataLoader
        print(len(list(DataLoader(TensorDataset(autograd.arange(5)), batch_size=2))))
    """)
    assert out.strip() == "3"


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        autograd.nope  # noqa: B018


# ---- 2. dtypes, casts, legacy constructors -------------------------------------------------
@pytest.mark.parametrize(("name", "dtype"), [
    ("float16", np.float16), ("float32", np.float32), ("float64", np.float64),
    ("int8", np.int8), ("int16", np.int16), ("int32", np.int32), ("int64", np.int64),
    ("uint8", np.uint8), ("bool", np.bool_), ("half", np.float16), ("float", np.float32),
    ("double", np.float64), ("short", np.int16), ("int", np.int32), ("long", np.int64)])
def test_dtype_names_are_numpy_dtypes(name: str, dtype) -> None:
    value = getattr(autograd, name)
    assert isinstance(value, np.dtype) and value == dtype
    t = autograd.zeros(2, dtype=value)
    assert t.dtype == value and t.dtype == dtype


def test_dtype_comparisons_as_in_pytorch_scripts() -> None:
    t = autograd.tensor([1, 2])
    assert t.dtype == autograd.long and t.dtype == np.int64 and t.dtype != autograd.int
    assert autograd.tensor([1.5]).dtype == autograd.float


@pytest.mark.parametrize(("method", "dtype", "expected"), [
    ("float", np.float32, [1.75, -1.75, 0.0]), ("double", np.float64, [1.75, -1.75, 0.0]),
    ("half", np.float16, [1.75, -1.75, 0.0]), ("long", np.int64, [1, -1, 0]),
    ("int", np.int32, [1, -1, 0]), ("bool", np.bool_, [True, True, False])])
def test_cast_methods(method: str, dtype, expected) -> None:
    x = autograd.tensor([1.75, -1.75, 0.0], dtype=np.float64)
    y = getattr(x, method)()
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.data, np.array(expected, dtype=dtype))


def test_cast_to_same_dtype_returns_self_and_copy_copies() -> None:
    x = autograd.tensor([1.0, 2.0])
    assert x.float() is x and x.to(autograd.float32) is x and x.to("cpu") is x
    assert x.to() is x and x.to(None) is x and x.cpu() is x
    y = x.to(autograd.float32, copy=True)
    assert y is not x and y.data is not x.data
    np.testing.assert_array_equal(y.data, x.data)
    z = x.to("cpu", autograd.float32, False, True)  # positional non_blocking, copy
    assert z is not x and z.dtype == np.float32


def test_float_casts_are_differentiable_and_integer_casts_leave_the_graph() -> None:
    x = autograd.tensor([1.5, -2.0, 3.25], requires_grad=True)  # float32
    y = x.double()
    assert y.requires_grad and y.dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, [3.0, -4.0, 6.5])
    for cast in (x.long(), x.int(), x.bool(), x.to(autograd.int64), x.to(autograd.uint8)):
        assert not cast.requires_grad and cast.grad_fn is None  # as PyTorch's


def test_cast_gradcheck() -> None:
    x = autograd.tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    assert autograd.gradcheck(lambda t: t.to("cpu", autograd.float64, copy=True) ** 3, (x,))
    assert autograd.gradcheck(lambda t: t.to(t) * t.to(device="cpu"), (x,))
    assert autograd.gradgradcheck(lambda t: t.to(autograd.float64, copy=True) ** 3, (x,))
    h = autograd.tensor(np.array([0.5, -0.25]), requires_grad=True)
    y = h.float()  # float64 -> float32 -> back: d/dh of sum(2 * y) is 2 in h's dtype
    (2 * y).sum().backward()
    assert h.grad.dtype == np.float64
    np.testing.assert_array_equal(h.grad.data, [2.0, 2.0])


def test_to_takes_a_tensors_dtype() -> None:
    x = autograd.tensor([1.0, 2.0])
    assert x.to(autograd.tensor([1])).dtype == np.int64
    assert x.to(autograd.zeros(1, dtype=np.float64)).dtype == np.float64
    assert x.to(device="cpu", dtype=autograd.int32).dtype == np.int32
    assert x.to(float).dtype == np.float64 and x.to(int).dtype == np.int64  # as PyTorch


@pytest.mark.parametrize(("args", "kwargs", "error", "match"), [
    (("float64",), {}, RuntimeError, "device"),  # a string is a device, as in PyTorch
    ((autograd.float64, autograd.float32), {}, TypeError, "invalid combination"),
    ((autograd.float64, "cpu"), {}, TypeError, "invalid combination"),
    (("cpu", "cpu"), {}, TypeError, "invalid combination"),
    ((autograd.float64, False, False, False), {}, TypeError, "invalid combination"),
    ((), {"dtype": "float32"}, TypeError, "dtype must be a dtype"),
    ((), {"foo": 1}, TypeError, "unexpected keyword"),
    ((autograd.tensor([1.0]),), {"dtype": autograd.float64}, TypeError, "cannot be given"),
    (("cuda",), {}, RuntimeError, "CUDA"),
    (("cuda:1", autograd.float64), {}, RuntimeError, "CUDA"),
    ((autograd.device("cuda"),), {}, RuntimeError, "CUDA"),
    ((0,), {}, RuntimeError, "CUDA"),
    (("gpu",), {}, RuntimeError, "expected one of cpu, cuda"),
])
def test_to_bad_arguments(args, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        autograd.tensor([1.0]).to(*args, **kwargs)


def test_legacy_constructors() -> None:
    f = autograd.FloatTensor([1, 2])
    assert f.dtype == np.float32 and f.tolist() == [1.0, 2.0] and not f.requires_grad
    assert autograd.FloatTensor(2, 3).shape == (2, 3)
    assert autograd.FloatTensor((2, 3)).tolist() == [2.0, 3.0]  # a tuple is data
    assert autograd.FloatTensor().shape == (0,)
    assert autograd.LongTensor([1.7, 2, -1.7]).tolist() == [1, 2, -1]  # truncates
    assert autograd.LongTensor(3).shape == (3,) and autograd.LongTensor(3).dtype == np.int64
    assert autograd.IntTensor([1, 2]).dtype == np.int32
    assert autograd.DoubleTensor(np.array([[1, 2]])).dtype == np.float64
    assert autograd.BoolTensor([1, 0]).tolist() == [True, False]
    assert autograd.FloatTensor([[1, 2], [3, 4]], device="cpu").shape == (2, 2)
    x = autograd.zeros(2)
    assert autograd.FloatTensor(x).data is x.data
    assert isinstance(x, autograd.FloatTensor) and not isinstance(x, autograd.LongTensor)
    assert isinstance(autograd.tensor([1]), autograd.LongTensor)


@pytest.mark.parametrize(("args", "kwargs", "error", "match"), [
    ((2.5,), {}, TypeError, "must be a sequence"),
    (("a",), {}, TypeError, "must be a sequence"),
    ((-1,), {}, RuntimeError, "negative dimension -1"),
    ((autograd.tensor([1, 2]),), {}, TypeError, "dtype float32"),
    (([1], [2]), {}, TypeError, "integer sizes"),
    (([1],), {"device": "cuda"}, RuntimeError, "CUDA"),
])
def test_legacy_constructor_errors(args, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        autograd.FloatTensor(*args, **kwargs)


# ---- 3. devices ----------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "type_", "index", "text", "rep"), [
    (("cpu",), "cpu", None, "cpu", "device(type='cpu')"),
    (("cpu:0",), "cpu", 0, "cpu:0", "device(type='cpu', index=0)"),
    (("cuda",), "cuda", None, "cuda", "device(type='cuda')"),
    (("cuda:1",), "cuda", 1, "cuda:1", "device(type='cuda', index=1)"),
    (("cuda", 2), "cuda", 2, "cuda:2", "device(type='cuda', index=2)"),
])
def test_device_parsing(args, type_, index, text, rep) -> None:
    d = autograd.device(*args)
    assert (d.type, d.index, str(d), repr(d)) == (type_, index, text, rep)
    assert autograd.device(d) == d and autograd.device(type=type_, index=index) == d


def test_device_equality_and_hash_as_pytorch() -> None:
    cpu = autograd.device("cpu")
    assert cpu == autograd.device("cpu") and hash(cpu) == hash(autograd.device("cpu"))
    assert cpu != autograd.device("cpu", 0)  # as PyTorch: index None != 0
    assert autograd.device("cuda:1") == autograd.device("cuda", 1)
    assert cpu != "cpu" and "cpu" != cpu  # as PyTorch: a device equals only a device
    assert cpu.type == "cpu"
    assert {cpu: 1}[autograd.device("cpu")] == 1
    with pytest.raises(AttributeError):
        cpu.type = "cuda"


@pytest.mark.parametrize(("args", "error", "match"), [
    (("gpu",), RuntimeError, ("expected one of cpu, cuda device type at start of device "
                              "string: gpu")),
    (("CPU",), RuntimeError, "expected one of cpu, cuda"),
    (("cuda:x",), RuntimeError, "invalid device string: 'cuda:x'"),
    (("cuda:1:2",), RuntimeError, "invalid device string"),
    (("cuda:01",), RuntimeError, "invalid device string"),
    ((" cpu",), RuntimeError, "invalid device string"),
    (("",), RuntimeError, "must not be empty"),
    (("cuda", -1), RuntimeError, "must not be negative"),
    (("cuda:1", 1), RuntimeError, "already has an index"),
    (("cuda", "a"), TypeError, "index must be an int"),
    ((3.0,), TypeError, "expected a device string"),
    ((True,), TypeError, "expected a device string"),
    ((0,), RuntimeError, "CUDA"),
    ((-1,), RuntimeError, "must not be negative"),
])
def test_bad_devices(args, error, match) -> None:
    with pytest.raises(error, match=match):
        autograd.device(*args)


def test_tensor_device_attributes() -> None:
    t = autograd.zeros(2)
    assert t.device == autograd.device("cpu") and t.device.type == "cpu"
    assert not t.is_cuda and t.get_device() == -1
    assert t.to(autograd.device("cpu", 0)).device == autograd.device("cpu")


FACTORIES = {
    "tensor": lambda **kw: autograd.tensor([1.0, 2.0], **kw),
    "zeros": lambda **kw: autograd.zeros(2, 3, **kw),
    "ones": lambda **kw: autograd.ones((2, 3), **kw),
    "empty": lambda **kw: autograd.empty(2, **kw),
    "full": lambda **kw: autograd.full((2,), 7.0, **kw),
    "zeros_like": lambda **kw: autograd.zeros_like(autograd.ones(2), **kw),
    "ones_like": lambda **kw: autograd.ones_like(autograd.ones(2), **kw),
    "arange": lambda **kw: autograd.arange(0, 4, **kw),
    "linspace": lambda **kw: autograd.linspace(0, 1, 5, **kw),
    "eye": lambda **kw: autograd.eye(3, **kw),
    "rand": lambda **kw: autograd.rand(2, **kw),
    "randn": lambda **kw: autograd.randn(2, **kw),
    "randint": lambda **kw: autograd.randint(0, 5, (3,), **kw),
    "FloatTensor": lambda **kw: autograd.FloatTensor([1.0], **kw),
}


@pytest.mark.parametrize("name", FACTORIES)
def test_factories_take_device(name: str) -> None:
    make = FACTORIES[name]
    reference = make()
    for device in ("cpu", "cpu:0", autograd.device("cpu"), None):
        t = make(device=device)
        assert t.device == autograd.device("cpu")
        assert t.shape == reference.shape and t.dtype == reference.dtype
    with pytest.raises(RuntimeError, match=f"{name}: cannot place a tensor on 'cuda'.*CUDA"):
        make(device="cuda")
    with pytest.raises(RuntimeError, match="CUDA"):
        make(device=autograd.device("cuda", 0))
    with pytest.raises(RuntimeError, match="expected one of cpu, cuda"):
        make(device="gpu")


def test_factory_values_unchanged_by_device() -> None:
    autograd.manual_seed(3)
    a = autograd.randn(4)
    autograd.manual_seed(3)
    b = autograd.randn(4, device="cpu")
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(autograd.arange(3, device="cpu").data, [0, 1, 2])


def test_tensor_cuda_raises_like_a_cpu_only_build() -> None:
    t = autograd.zeros(2)
    for call in (t.cuda, lambda: t.cuda(0), lambda: t.cuda("cuda:1")):
        with pytest.raises(RuntimeError, match="no CUDA backend"):
            call()
    with pytest.raises(RuntimeError, match="must be a cuda device"):
        t.cuda("cpu")


def test_cuda_module() -> None:
    assert autograd.cuda.is_available() is False
    assert autograd.cuda.device_count() == 0
    autograd.manual_seed(11)
    a = autograd.rand(3)
    autograd.manual_seed(11)
    assert autograd.cuda.manual_seed_all(5) is None and autograd.cuda.manual_seed(5) is None
    np.testing.assert_array_equal(autograd.rand(3).data, a.data)  # CPU stream untouched
    autograd.cuda.empty_cache()
    with pytest.raises(RuntimeError, match="cuda.synchronize: .*no CUDA backend"):
        autograd.cuda.synchronize()
    with pytest.raises(RuntimeError, match="no CUDA backend"):
        autograd.cuda.current_device()


def test_backends_are_plain_settable_attributes() -> None:
    cudnn = autograd.backends.cudnn
    assert (cudnn.benchmark, cudnn.deterministic, cudnn.enabled) == (False, False, True)
    assert cudnn.is_available() is False and autograd.backends.mps.is_available() is False
    assert autograd.backends.cuda.matmul.allow_tf32 is False
    saved = cudnn.benchmark, cudnn.deterministic
    try:
        cudnn.benchmark, cudnn.deterministic = True, True
        assert autograd.backends.cudnn.benchmark is True
        assert autograd.backends.cudnn.deterministic is True
    finally:
        cudnn.benchmark, cudnn.deterministic = saved


# ---- Module.to / cpu / cuda / float / double ----------------------------------------------
def test_module_device_and_dtype_moves() -> None:
    nn = pytest.importorskip("nn")
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    weight = model[0].weight
    assert model.to("cpu") is model and model.cpu() is model
    assert model.to(autograd.device("cpu")) is model and model[0].weight.dtype == np.float32
    assert model.to(device="cpu", non_blocking=True) is model
    model.to("cpu", autograd.float64)
    assert model[0].weight is weight and weight.dtype == np.float64
    assert model[1].running_mean.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64  # integer buffers stay
    model.float()
    assert weight.dtype == np.float32
    model.to(autograd.zeros(1, dtype=np.float64))
    assert weight.dtype == np.float64
    model.to(dtype=autograd.float32)
    assert weight.dtype == np.float32
    model.half()
    assert weight.dtype == np.float16
    model.double()
    assert weight.dtype == np.float64


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda m: m.to("cuda"), RuntimeError, "nn.Module.to: .*no CUDA backend"),
    (lambda m: m.to(autograd.device("cuda", 0)), RuntimeError, "no CUDA backend"),
    (lambda m: m.cuda(), RuntimeError, "nn.Module.cuda: .*no CUDA backend"),
    (lambda m: m.cuda(1), RuntimeError, "'cuda:1'"),
    (lambda m: m.to("gpu"), RuntimeError, "expected one of cpu, cuda"),
    (lambda m: m.to(autograd.long), TypeError, "only accepts floating point dtypes"),
    (lambda m: m.to(autograd.tensor([1])), TypeError, "only accepts floating point dtypes"),
    (lambda m: m.to(autograd.float64, "cpu"), TypeError, "invalid combination"),
    (lambda m: m.to(foo=1), TypeError, "unexpected keyword"),
])
def test_module_to_bad_arguments(call, error, match) -> None:
    nn = pytest.importorskip("nn")
    model = nn.Linear(2, 2)
    with pytest.raises(error, match=match):
        call(model)
    assert model.weight.dtype == np.float32  # nothing was cast


# ---- 4. Python protocol on 0-d tensors -----------------------------------------------------
def test_format_of_zero_dim_tensors() -> None:
    assert f"{autograd.tensor(1.23456):.4f}" == "1.2346"
    assert f"{autograd.tensor(1.23456, requires_grad=True):.2f}" == "1.23"
    assert f"{autograd.tensor(3):d}" == "3" and f"{autograd.tensor(3):.2f}" == "3.00"
    assert f"{autograd.tensor(7):>5}" == "    7" and f"{autograd.tensor(2.5):>8}" == "     2.5"
    assert f"{autograd.tensor(True)}" == "True" and f"{autograd.tensor(True):d}" == "1"
    assert f"{autograd.tensor(0.25):.0%}" == "25%" and format(autograd.tensor(1.5)) == "1.5"
    loss = (autograd.tensor([1.0, 2.0], requires_grad=True) ** 2).mean()
    assert f"loss {loss:.3f}" == "loss 2.500"


def test_format_of_tensors_with_dims() -> None:
    t = autograd.tensor([1.5, 2.0])
    assert f"{t}" == str(t) == repr(t)
    for spec in (".2f", ">20", "d"):
        with pytest.raises(TypeError, match="unsupported format string"):
            format(t, spec)
    with pytest.raises(TypeError, match=r"shape \(1,\)"):
        format(autograd.tensor([1.5]), ".2f")  # one element but not 0-d: as PyTorch


def test_index_protocol() -> None:
    assert list(range(autograd.tensor(3))) == [0, 1, 2]
    assert [0, 1, 2, 3][autograd.tensor(1):autograd.tensor(3)] == [1, 2]
    assert [10, 20, 30][autograd.tensor(-1)] == 30
    assert operator.index(autograd.tensor(5, dtype=np.uint8)) == 5
    assert operator.index(autograd.tensor(True)) == 1 and hex(autograd.tensor(255)) == "0xff"
    for bad in (autograd.tensor(1.0), autograd.tensor([2]), autograd.tensor([[1]])):
        with pytest.raises(TypeError, match="only 0-d integer tensors"):
            operator.index(bad)
    with pytest.raises(TypeError):
        [0, 1, 2][autograd.tensor(1.0)]


def test_numpy_indexing_with_tensors_keeps_its_meaning() -> None:
    a = np.arange(10) * 10
    assert a[autograd.tensor(3)] == 30  # 0-d: an integer index
    one = a[autograd.tensor([3])]  # 1-d: an array index, still (numpy falls back)
    assert isinstance(one, np.ndarray) and one.tolist() == [30]
    assert a[autograd.tensor([1, 2])].tolist() == [10, 20]
    t = autograd.arange(10)
    assert t[autograd.tensor([3])].shape == (1,) and t[autograd.tensor(3)].shape == ()


def test_int_float_bool() -> None:
    assert int(autograd.tensor([2.7])) == 2 and float(autograd.tensor([[2]])) == 2.0
    assert float(autograd.tensor(2.5, requires_grad=True)) == 2.5
    assert bool(autograd.tensor([0.0])) is False and bool(autograd.tensor(3)) is True
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(autograd.tensor([]))
    with pytest.raises(ValueError, match="only one element"):
        int(autograd.tensor([1, 2]))


# ---- 5. save / load keywords ---------------------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    shared = autograd.tensor([1.0, 2.0], requires_grad=True)
    path = tmp_path / "ckpt.pt"
    autograd.save({"a": shared, "b": [shared, autograd.tensor([3])], "n": 4}, path)
    return path


@pytest.mark.parametrize("map_location", [
    None, "cpu", "cpu:0", autograd.device("cpu"), {"cuda:0": "cpu"}, {"cpu": "cpu"},
    {"cuda:1": "cuda:0"}, {autograd.device("cpu"): autograd.device("cpu")},
    lambda storage, location: storage, lambda storage, location: None])
def test_load_accepts_map_location(saved, map_location) -> None:
    obj = autograd.load(saved, map_location=map_location)
    assert obj["a"] is obj["b"][0] and obj["a"].requires_grad and obj["n"] == 4
    assert obj["a"].tolist() == [1.0, 2.0] and obj["b"][1].tolist() == [3]
    assert autograd.load(saved, map_location, weights_only=False)["n"] == 4
    assert autograd.load(saved, weights_only=True, mmap=False)["n"] == 4


def test_load_map_location_callable_sees_each_tensor_once(saved) -> None:
    seen = []

    def to_double(tensor, location):
        seen.append((tensor.shape, location))
        return tensor.double() if tensor.dtype.kind == "f" else None

    obj = autograd.load(saved, map_location=to_double)
    assert sorted(seen) == [((1,), "cpu"), ((2,), "cpu")]
    assert obj["a"] is obj["b"][0] and obj["a"].dtype == np.float64
    assert obj["b"][1].dtype == np.int64


@pytest.mark.parametrize(("map_location", "error", "match"), [
    ("cuda", RuntimeError, "CUDA device \\('cuda'\\).*map_location='cpu'"),
    (autograd.device("cuda", 1), RuntimeError, "CUDA device \\('cuda:1'\\)"),
    ({"cpu": "cuda:0"}, RuntimeError, "CUDA device"),
    ("gpu", RuntimeError, "expected one of cpu, cuda"),
    ({"cpu": 3}, TypeError, "targets must be device strings"),
    ({3: "cpu"}, TypeError, "keys must be device strings"),
    (3, TypeError, "map_location must be None"),
    (lambda storage, location: 3, TypeError, "must return a Tensor or None"),
])
def test_load_bad_map_location(saved, map_location, error, match) -> None:
    with pytest.raises(error, match=match):
        autograd.load(saved, map_location=map_location)


def test_load_checks_stay_in_force_with_keywords(tmp_path) -> None:
    path = tmp_path / "bad.pt"
    path.write_bytes(b"\x80\x04not a numbagrad file")
    with pytest.raises(ValueError, match="cannot load"):
        autograd.load(path, map_location="cpu", weights_only=False)


# ---- autograd.NAME(t, ...) for Tensor methods ----------------------------------------------
def test_module_level_method_functions() -> None:
    x = autograd.tensor([[1.0, 5.0, 2.0], [7.0, 3.0, 0.0]])
    values, indices = autograd.max(x, 1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert autograd.max(x, dim=1).indices.tolist() == [1, 0]
    assert autograd.max(x).item() == 7.0 and autograd.min(x, 0).values.tolist() == [1, 3, 0]
    assert autograd.max(x, autograd.full((2, 3), 4.0)).tolist() == [[4, 5, 4], [7, 4, 4]]
    assert autograd.argmax(x, 1).tolist() == [1, 0] and autograd.argmax(x).item() == 3
    assert autograd.flatten(autograd.zeros(2, 3, 4), 1).shape == (2, 12)
    assert autograd.sum(x, dim=0).tolist() == [8.0, 8.0, 2.0]
    assert autograd.mean(x).item() == pytest.approx(3.0)
    assert autograd.clamp(x, max=2.0).tolist() == [[1, 2, 2], [2, 2, 0]]
    assert autograd.tanh is not None and autograd.tanh(autograd.tensor(0.0)).item() == 0.0
    with pytest.raises(TypeError, match="max\\(\\): argument 'input' must be a Tensor"):
        autograd.max([1, 2])


def test_method_functions_are_differentiable() -> None:
    x = autograd.tensor(np.array([[0.3, -1.0], [2.0, 0.5]]), requires_grad=True)
    assert autograd.gradcheck(lambda t: autograd.flatten(autograd.softmax(t, 1)), (x,))
    assert autograd.gradcheck(lambda t: autograd.max(t, 1).values, (x,))
    assert autograd.gradcheck(lambda t: autograd.sum(t * t, 0), (x,))


def test_torch_autograd_namespace_and_arithmetic_functions() -> None:
    """`torch.autograd.grad` and `torch.add(a, b, alpha=)` run unchanged after the rewrite."""
    import autograd as torch
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = torch.tensor([3.0, 1.0])
    assert torch.autograd is torch
    (g,) = torch.autograd.grad((x ** 3).sum(), x)
    np.testing.assert_allclose(g.data, [3.0, 12.0])
    np.testing.assert_allclose(torch.autograd.functional.jacobian(lambda a: a * a, x).data,
                               [[2.0, 0.0], [0.0, 4.0]])
    np.testing.assert_allclose(torch.add(x, y, alpha=2).data, [7.0, 4.0])
    np.testing.assert_allclose(torch.sub(x, y, alpha=0.5).data, [-0.5, 1.5])
    np.testing.assert_allclose(x.add(y, alpha=-1).data, [-2.0, 1.0])
    np.testing.assert_allclose(torch.mul(x, y).data, [3.0, 2.0])
    assert torch.gt(x, y).data.tolist() == [False, True]
    assert torch.le(x, y).data.tolist() == [True, False]
    assert torch.broadcast_to(y, (2, 2)).shape == (2, 2)
    torch.add(x, y, alpha=3).sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0, 1.0])
    with pytest.raises(TypeError, match="add"):
        torch.add([1.0], y)
