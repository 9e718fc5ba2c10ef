"""The kernel protocol: each kernel is declared once, backends register implementations.

    @declare(out=True)                   # in autograd/kernels/<family>.py
    def exp(x, out=None):                # the numpy reference: the specification
        return np.exp(x, out=out)

    @register("numba", "exp")            # in a backend's module, e.g. autograd/kernels/jit/
    def exp(x, out=None): ...

`declare` returns the dispatcher that ops call (`kernels.exp(x)`); it runs the implementation
of the current backend (`policy.set_backend`), or the reference where that backend registered
none. A backend's modules are imported on the first call under it (`backend_module`), so
`import autograd` never imports numba. `spec(name)` and `REGISTRY` describe every kernel.
"""
from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

from . import policy


@dataclass
class KernelSpec:
    """One declared kernel: its name, signature, whether it takes `out=`, its numpy
    reference and the implementations registered per backend ("numpy" is the reference)."""
    name: str
    signature: str
    out: bool
    reference: Callable
    doc: str
    impls: dict = field(default_factory=dict)
    dispatch: Callable | None = None  # what `declare` returned: `autograd.kernels.<name>`


REGISTRY: dict[str, KernelSpec] = {}
# wrapping backends: name -> make(spec) returning an implementation that wraps the others
# (autograd.compile's "trace": records each call, then runs the real backend's kernel)
_WRAPPERS: dict[str, Callable] = {}
# backend -> modules that register its implementations, imported on the backend's first use
_MODULES: dict[str, list[str]] = {"numba": ["autograd.kernels.jit"]}
_loaded: set = set()
# device backends: chosen by the arguments' device (a CudaArray first argument), never by
# `set_backend`; their modules register with `register("cuda", name)` (autograd/kernels/cuda/)
DEVICE_BACKENDS = ("cuda",)


def backend_module(backend: str, module: str) -> None:
    """Name a module that registers implementations for `backend` (imported lazily)."""
    if backend not in policy.BACKENDS and backend not in DEVICE_BACKENDS:
        raise ValueError(f"backend_module: unknown backend {backend!r}")
    if module not in _MODULES.setdefault(backend, []):
        _MODULES[backend].append(module)
        _loaded.discard(backend)


def _load(backend: str) -> None:
    if backend not in _loaded:
        for module in _MODULES.get(backend, ()):
            importlib.import_module(module)
        _loaded.add(backend)


def declare(reference: Callable | None = None, *, out: bool = False, name: str | None = None):
    """Declare a kernel by its numpy reference; returns its dispatcher. With `out=True` the
    kernel takes an optional `out=` array to write into (and returns it), as numpy's ufuncs."""
    if reference is None:
        return lambda fn: declare(fn, out=out, name=name)
    kname = name or reference.__name__
    if kname in REGISTRY:
        raise ValueError(f"declare: kernel {kname!r} is already declared")
    sig = inspect.signature(reference)
    if out and "out" not in sig.parameters:
        raise TypeError(f"declare: kernel {kname!r} is declared with out= but its reference "
                        f"takes no `out` parameter")
    impls = {"numpy": reference}
    spec = KernelSpec(kname, f"{kname}{sig}", out, reference, reference.__doc__ or "", impls)
    REGISTRY[kname] = spec
    current = policy._backend

    def implementation(backend: str) -> Callable:
        impl = impls.get(backend)
        if impl is None:
            if backend in _WRAPPERS:
                impl = impls[backend] = _WRAPPERS[backend](spec)
                return impl
            _load(backend)
            impl = impls.setdefault(backend, reference)
        return impl

    def dispatch(*args, **kwargs):
        if args and type(args[0]) is CudaArray:
            return on_device(spec, args, kwargs, load_cuda)
        impl = impls.get(current[0])
        if impl is None:
            impl = implementation(current[0])
        try:
            return impl(*args, **kwargs)
        except Exception:  # free unless raised: name the devices if cpu met cuda arrays
            mixed = device_mismatch(kname, args, kwargs)
            if mixed is not None:
                raise mixed from None
            raise

    dispatch.__name__ = dispatch.__qualname__ = kname
    dispatch.__doc__ = reference.__doc__
    dispatch.__wrapped__ = reference
    dispatch.reference = reference
    dispatch.implementation = implementation
    dispatch.spec = spec
    spec.dispatch = dispatch
    return dispatch


def wrapping_backend(name: str, make: Callable) -> None:
    """Declare a backend whose implementation of each kernel is `make(spec)`, a function that
    wraps a real backend's (see `policy.swap_backend`); made on the kernel's first call."""
    _WRAPPERS[name] = make


def register(backend: str, name: str) -> Callable:
    """Decorator: `fn` implements the declared kernel `name` under `backend`."""
    if (backend not in policy.BACKENDS and backend not in DEVICE_BACKENDS) or backend == "numpy":
        raise ValueError(f"register: unknown backend {backend!r}")

    def deco(fn: Callable) -> Callable:
        try:
            spec = REGISTRY[name]
        except KeyError:
            raise KeyError(f"register: no kernel {name!r} is declared") from None
        spec.impls[backend] = fn
        return fn
    return deco


def spec(name: str) -> KernelSpec:
    return REGISTRY[name]


# the cuda array type and its dispatch (imports no numba; the cuda package it lives in calls
# `backend_module` above, hence the import at the end)
from .cuda.array import CudaArray, device_mismatch, on_device


def load_cuda() -> None:
    _load("cuda")
