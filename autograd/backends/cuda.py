"""autograd.backends.cuda: `torch.backends.cuda.matmul.allow_tf32` and friends (no effect)."""
from __future__ import annotations

from types import SimpleNamespace

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True)


def is_built() -> bool:
    """False: numbagrad has no CUDA backend."""
    return False
