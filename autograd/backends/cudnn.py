"""autograd.backends.cudnn: PyTorch's cudnn switches as plain attributes (no effect on CPU)."""
from __future__ import annotations

benchmark = False  # autotune convolution algorithms (torch's default: False)
deterministic = False  # only deterministic algorithms (torch's default: False)
enabled = True  # use cudnn where available (torch's default: True)
allow_tf32 = True  # TF32 in cudnn convolutions (torch's default: True)


def is_available() -> bool:
    """False: there is no cudnn (no CUDA backend)."""
    return False


def version() -> None:
    """None: no cudnn library is loaded."""
