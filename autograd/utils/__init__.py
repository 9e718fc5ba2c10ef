"""autograd.utils: `torch.utils` for ported scripts; `autograd.utils.data` is `autograd.data`.

`autograd.data` is also registered as the module ``autograd.utils.data``, so
``import autograd.utils.data``, ``from autograd.utils.data import DataLoader`` and
``torch.utils.data.DataLoader`` (with ``torch`` = ``autograd``) all reach the same module.
"""
import sys

from .. import data

sys.modules.setdefault(__name__ + ".data", data)

__all__ = ["data"]
