"""autograd.cuda: PyTorch's `torch.cuda` for numbagrad's CUDA backend (numba-cuda).

`is_available()` is True when numba-cuda is installed (``pip install numbagrad[cuda]``) and
sees a GPU, or runs numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``, which runs the same
kernels on the CPU: how the GPU path is tested without a GPU). Otherwise numbagrad answers
as a CPU-only PyTorch build does: scripts written as
``device = "cuda" if torch.cuda.is_available() else "cpu"`` take the CPU branch, seeding
calls are accepted, and anything that needs a device raises `RuntimeError`.

numba is imported on the first call here, never by ``import autograd``. Random tensors made
with ``device="cuda"`` are drawn by the CPU generator and copied, so `manual_seed` (the global
one) makes them reproducible; `manual_seed_all` has no separate CUDA generator to seed.
"""
from __future__ import annotations

import importlib.util
import sys

__all__ = ["current_device", "device_count", "empty_cache", "is_available", "manual_seed",
           "manual_seed_all", "seed", "seed_all", "synchronize"]

NOT_COMPILED = ("numbagrad has no CUDA backend here (Torch not compiled with CUDA enabled): "
                "numba-cuda is not installed (pip install numbagrad[cuda]), or it sees no GPU "
                "and NUMBA_ENABLE_CUDASIM=1 is not set; autograd.cuda.is_available() is False, "
                "so tensors and modules live on 'cpu' only; use device='cpu'")

_state: dict = {}  # "available": the answer of is_available, computed once


def is_available() -> bool:
    """Whether tensors can live on "cuda": numba-cuda is installed and sees a GPU, or runs
    its simulator (NUMBA_ENABLE_CUDASIM=1)."""
    available = _state.get("available")
    if available is None:
        available = _state["available"] = _probe()
    return available


def _probe() -> bool:
    if importlib.util.find_spec("numba_cuda") is None:
        return False
    try:
        from numba import config, cuda
        if not config.ENABLE_CUDASIM:  # before any context exists: its allocator caches
            from .kernels.cuda import memory
            memory.install()
        return bool(cuda.is_available())
    except (ImportError, OSError, RuntimeError):  # a broken driver or toolkit: no device
        return False


def _require(op: str):
    if not is_available():
        raise RuntimeError(f"cuda.{op}: {NOT_COMPILED}")
    from numba import cuda
    return cuda


def device_count() -> int:
    """The number of usable CUDA devices (0 when `is_available()` is False)."""
    if not is_available():
        return 0
    from numba import cuda
    return len(cuda.gpus)


def manual_seed(seed: int) -> None:
    """Accepted: there is no CUDA generator (cuda random tensors come from the CPU one)."""
    int(seed)


def manual_seed_all(seed: int) -> None:
    """Accepted: there is no CUDA generator (cuda random tensors come from the CPU one)."""
    int(seed)


def seed() -> None:
    """Accepted and ignored (no CUDA generator exists)."""


def seed_all() -> None:
    """Accepted and ignored (no CUDA generator exists)."""


def empty_cache() -> None:
    """Release the device memory that the caching allocator keeps for reuse (the blocks of
    arrays already collected); memory in use stays. Nothing to do before the first cuda
    array, or without CUDA."""
    memory = sys.modules.get("autograd.kernels.cuda.memory")
    if memory is not None:
        memory.empty_cache()


def synchronize(device=None) -> None:
    """Wait until every kernel launched so far has finished (RuntimeError without CUDA)."""
    _require("synchronize").synchronize()


def current_device() -> int:
    """0: numbagrad uses one device (RuntimeError without CUDA)."""
    _require("current_device")
    return 0
