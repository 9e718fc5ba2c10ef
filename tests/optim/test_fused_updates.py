"""The fused numba updates against their numpy references, and when each one is used."""
import itertools

import numpy as np
import pytest

import autograd
import optim
from optim import fused
from optim.adadelta import adadelta_update as _adadelta
from optim.adagrad import adagrad_update as _adagrad
from optim.adam import adam_update as _adam
from optim.adamax import adamax_update as _adamax
from optim.nadam import nadam_update as _nadam
from optim.radam import radam_update as _radam
from optim.rmsprop import rmsprop_update as _rmsprop
from optim.sgd import sgd_update as _sgd

# the numpy references of the update kernels (the names themselves are the dispatchers)
sgd_update, adagrad_update = _sgd.reference, _adagrad.reference
rmsprop_update, adam_update = _rmsprop.reference, _adam.reference

SHAPES = [(), (1,), (37,), (5, 7)]
DTYPES = [np.float32, np.float64]


def arrays(shape, dtype, n, seed=0):
    rng = np.random.default_rng(seed)
    out = [rng.normal(size=shape) for _ in range(n)]
    # Buffers (arrays 2, 3, ...) are running averages of squares: keep them >= 0.
    return [np.array(np.abs(a) if i >= 2 else a, dtype=dtype) for i, a in enumerate(out)]


def assert_same_update(reference, kernel, n_arrays, shape, dtype, *options, prepare=None):
    """Both functions, on copies of the same arrays, leave every array bit-identical."""
    ref_arrays = arrays(shape, dtype, n_arrays)
    if prepare is not None:
        prepare(*ref_arrays)
    fused_arrays = [a.copy() for a in ref_arrays]
    for _ in range(3):
        reference(*ref_arrays, *options)
        kernel(*fused_arrays, *options)
    for i, (a, b) in enumerate(zip(ref_arrays, fused_arrays)):
        assert a.dtype == dtype and b.dtype == dtype and np.all(np.isfinite(a))
        np.testing.assert_array_equal(a, b, err_msg=f"array {i}")


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("momentum,dampening,weight_decay,nesterov,maximize,first", [
    (0.0, 0.0, 0.0, False, False, False), (0.9, 0.0, 0.0, False, False, True),
    (0.9, 0.3, 0.01, False, True, False), (0.9, 0.0, 0.01, True, False, False),
])
def test_sgd(shape, dtype, momentum, dampening, weight_decay, nesterov, maximize, first):
    assert_same_update(sgd_update, fused.sgd_update, 3, shape, dtype, 0.1, momentum, dampening,
                       weight_decay, nesterov, maximize, first)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weight_decay,maximize", [(0.0, False), (0.1, True)])
def test_adagrad(shape, dtype, weight_decay, maximize):
    assert_same_update(adagrad_update, fused.adagrad_update, 3, shape, dtype, 0.07,
                       weight_decay, 1e-10, maximize)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("momentum,centered,weight_decay,maximize",
                         list(itertools.product([0.0, 0.9], [False, True], [0.0, 0.1],
                                                [False, True])))
def test_rmsprop(shape, dtype, momentum, centered, weight_decay, maximize):
    def prepare(param, grad, square_avg, grad_avg, buf):
        square_avg += grad_avg * grad_avg  # a centered variance v − m² that is positive

    assert_same_update(rmsprop_update, fused.rmsprop_update, 5, shape, dtype, 0.01, 0.9, 1e-8,
                       weight_decay, momentum, centered, maximize, prepare=prepare)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decay,weight_decay,amsgrad,maximize", [
    (1.0, 0.0, False, False), (1.0, 0.1, True, True), (0.999, 0.0, True, False),
])
def test_adam(shape, dtype, decay, weight_decay, amsgrad, maximize):
    assert_same_update(adam_update, fused.adam_update, 5, shape, dtype, decay, weight_decay,
                       0.9, 0.999, 0.01, 0.3, 1e-8, amsgrad, maximize)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weight_decay,maximize", [(0.0, False), (0.1, True)])
def test_adadelta(shape, dtype, weight_decay, maximize):
    assert_same_update(_adadelta.reference, fused.adadelta_update, 4, shape, dtype, 0.7, 0.9,
                       1e-6, weight_decay, maximize)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weight_decay,maximize", [(0.0, False), (0.1, True)])
def test_adamax(shape, dtype, weight_decay, maximize):
    assert_same_update(_adamax.reference, fused.adamax_update, 4, shape, dtype, 0.02, 0.9,
                       0.999, 1e-8, weight_decay, maximize)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decay,weight_decay,maximize", [
    (1.0, 0.0, False), (1.0, 0.1, True), (0.999, 0.0, False),
])
def test_nadam(shape, dtype, decay, weight_decay, maximize):
    assert_same_update(_nadam.reference, fused.nadam_update, 4, shape, dtype, decay,
                       weight_decay, 0.9, 0.999, 0.003, 1e-8, 0.07, 0.3, maximize)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decay,weight_decay,rect,maximize", [
    (1.0, 0.0, 0.0, False), (1.0, 0.1, 0.37, True), (0.999, 0.0, 0.9, False),
])
def test_radam(shape, dtype, decay, weight_decay, rect, maximize):
    assert_same_update(_radam.reference, fused.radam_update, 4, shape, dtype, decay,
                       weight_decay, 0.9, 0.999, 0.01, 0.2, 0.004, rect, 1e-8, maximize)


def test_can_fuse():
    a = np.zeros((3, 4), np.float32)
    assert fused.can_fuse(a, a)
    assert not fused.can_fuse(a.T, a.T)                          # not C-contiguous
    assert not fused.can_fuse(a, a.astype(np.float64))            # gradient of another dtype
    assert not fused.can_fuse(a.astype(np.float16), a.astype(np.float16))


@pytest.mark.parametrize("cls,options", [
    (optim.SGD, {"lr": 0.1, "momentum": 0.9}), (optim.Adagrad, {}),
    (optim.RMSprop, {"momentum": 0.5, "centered": True}), (optim.Adam, {"amsgrad": True}),
    (optim.Adadelta, {}), (optim.Adamax, {}), (optim.NAdam, {"weight_decay": 0.1}),
    (optim.RAdam, {"betas": (0.9, 0.9), "decoupled_weight_decay": True, "weight_decay": 0.1}),
])
def test_non_contiguous_params_take_the_reference_path(cls, options):
    # A parameter whose array is a transposed view cannot be flattened without a copy: the
    # optimiser must fall back to numpy and still update it in place, as for a normal one.
    base = np.arange(12, dtype=np.float64).reshape(3, 4) / 10
    grad = np.cos(base)
    results = []
    previous = autograd.get_backend()
    for backend, data in [("numpy", base.T.copy()), ("numba", base.copy().T)]:
        autograd.set_backend(backend)
        try:
            p = autograd.tensor(np.zeros((4, 3)), requires_grad=True)
            p.data = data
            assert p.data.flags.c_contiguous == (backend == "numpy")
            opt = cls([p], **options)
            for _ in range(3):
                p.grad = autograd.tensor(grad.T.copy())
                opt.step()
            assert p.data is data
            results.append(data)
        finally:
            autograd.set_backend(previous)
    np.testing.assert_array_equal(results[0], results[1])
    assert not np.array_equal(results[0], base.T)


def test_non_contiguous_gradient_is_read_in_logical_order():
    # The gradient of a transposed use is itself a transposed (F-ordered) array: the fused path
    # flattens a copy of it, which must line up element by element with the parameter.
    results = []
    previous = autograd.get_backend()
    for backend in ("numpy", "numba"):
        autograd.set_backend(backend)
        try:
            y = autograd.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
            opt = optim.Adam([y], lr=0.1)
            for _ in range(2):
                opt.zero_grad()
                (y.T * autograd.tensor(np.arange(12.0).reshape(3, 4))).sum().backward()
                assert not y.grad.data.flags.c_contiguous
                opt.step()
            results.append(y.data.copy())
        finally:
            autograd.set_backend(previous)
    np.testing.assert_array_equal(results[0], results[1])
    # y.grad = Cᵀ, i.e. 4j + i at (i, j): positive except at (0, 0). With a constant gradient
    # each Adam step moves a coordinate by ≈ lr against its sign; a zero gradient moves nothing.
    expected = np.arange(12.0).reshape(4, 3) - 0.2
    expected[0, 0] = 0.0
    np.testing.assert_allclose(results[0], expected, atol=1e-6)


def test_each_kernel_compiles_once_per_dtype():
    # Odd inputs (int options, a strided 1-D gradient, numpy scalars) go through the same two
    # specialisations as everything else: C-contiguous 1-D arrays, float64 scalars, booleans.
    p = autograd.tensor(np.zeros(4), requires_grad=True)
    for opt in (optim.SGD([p], lr=1, momentum=1, weight_decay=0), optim.Adagrad([p], lr=1),
                optim.RMSprop([p], lr=np.float32(0.1)), optim.Adam([p], lr=1),
                optim.Adadelta([p], lr=1), optim.Adamax([p], lr=1), optim.NAdam([p], lr=1),
                optim.RAdam([p], lr=1)):
        p.grad = autograd.tensor(np.zeros(4))
        p.grad.data = np.arange(8.0)[::2]
        opt.step()
    for kernel in (fused._sgd, fused._adagrad, fused._rmsprop, fused._adam, fused._adadelta,
                   fused._adamax, fused._nadam, fused._radam):
        assert 1 <= len(kernel.signatures) <= 2
        for signature in kernel.signatures:
            arrays = [t for t in signature if hasattr(t, "layout")]
            assert all(t.layout == "C" and t.ndim == 1 for t in arrays)
            assert {str(t) for t in signature if not hasattr(t, "layout")} <= {"float64", "bool"}


def test_updates_are_kernels_of_the_registry():
    """Each optimiser calls one kernel name; the registry holds the numpy reference and the
    numba backend's fused version, which hands arrays it cannot take to the reference."""
    from autograd.kernels import policy, registry
    for name, kernel in [("sgd_update", _sgd), ("adagrad_update", _adagrad),
                         ("rmsprop_update", _rmsprop), ("adam_update", _adam),
                         ("adadelta_update", _adadelta), ("adamax_update", _adamax),
                         ("nadam_update", _nadam), ("radam_update", _radam)]:
        spec = registry.REGISTRY[name]
        assert spec.reference is kernel.reference
        assert kernel.implementation("numba") is getattr(fused, "_" + name)
        assert kernel.implementation("numpy") is kernel.reference
    # the policy's threshold sends the update to the reference: same numbers either way
    want = arrays((5, 7), np.float32, 3)
    got = [a.copy() for a in want]
    sgd_update(*want, 0.1, 0.9, 0.0, 0.01, False, False, True)
    with policy.override(numpy_below=1 << 30, families=("optimizer",)):
        _sgd.implementation("numba")(*got, 0.1, 0.9, 0.0, 0.01, False, False, True)
    for a, b in zip(want, got):
        np.testing.assert_array_equal(a, b)
