"""autograd.cuda: what a CPU-only PyTorch build's `torch.cuda` answers.

numbagrad has no CUDA backend yet, so scripts written as
``device = "cuda" if torch.cuda.is_available() else "cpu"`` take the CPU branch; seeding
calls are accepted (there is no CUDA generator to seed), and anything that needs a device
raises `RuntimeError`, as the CPU-only build does.
"""
from __future__ import annotations

__all__ = ["current_device", "device_count", "empty_cache", "is_available", "manual_seed",
           "manual_seed_all", "seed", "seed_all", "synchronize"]

NOT_COMPILED = ("numbagrad has no CUDA backend (Torch not compiled with CUDA enabled): "
                "autograd.cuda.is_available() is False, so tensors and modules live on 'cpu' "
                "only; use device='cpu'")


def is_available() -> bool:
    """False: no CUDA device can be used (PyTorch's answer on a CPU-only build)."""
    return False


def device_count() -> int:
    """0: the number of usable CUDA devices."""
    return 0


def manual_seed(seed: int) -> None:
    """Accepted and ignored, as a CPU-only PyTorch does (no CUDA generator exists)."""
    int(seed)


def manual_seed_all(seed: int) -> None:
    """Accepted and ignored, as a CPU-only PyTorch does (no CUDA generator exists)."""
    int(seed)


def seed() -> None:
    """Accepted and ignored (no CUDA generator exists)."""


def seed_all() -> None:
    """Accepted and ignored (no CUDA generator exists)."""


def empty_cache() -> None:
    """Nothing to release: no CUDA memory is ever allocated."""


def synchronize(device=None) -> None:
    """Raises RuntimeError: there is no CUDA device to wait for."""
    raise RuntimeError(f"cuda.synchronize: {NOT_COMPILED}")


def current_device() -> int:
    """Raises RuntimeError: there is no CUDA device."""
    raise RuntimeError(f"cuda.current_device: {NOT_COMPILED}")
