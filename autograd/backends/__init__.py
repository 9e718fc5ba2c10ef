"""autograd.backends: the switches scripts set on `torch.backends` (cudnn, cuda, mps).

They are plain settable attributes with a CPU-only PyTorch build's defaults; numbagrad's
CPU kernels do not read them (they are always deterministic and never autotuned)."""
from . import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]
