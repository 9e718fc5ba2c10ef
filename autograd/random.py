"""The random generator behind every random factory and every nn initialiser, and
`autograd.Generator`, a seedable generator of its own that random factories accept as
`generator=` (as torch.Generator)."""
from __future__ import annotations

import numpy as np

_rng = [np.random.default_rng()]
DEFAULT_SEED = 67280421310721  # torch.Generator().initial_seed()


def manual_seed(seed: int) -> np.random.Generator:
    """Make every random factory and initialiser reproducible from `seed`."""
    _rng[0] = np.random.default_rng(seed)
    return _rng[0]


class Generator:
    """A random number generator of its own (torch.Generator): `manual_seed(s)` (returns
    self), `seed()`, `initial_seed()`, `get_state()` / `set_state(state)`. Random factories
    and `DataLoader` take it as `generator=`; drawing from it leaves the global generator
    alone. Unseeded, it starts from PyTorch's default seed (67280421310721)."""

    def __init__(self, device="cpu") -> None:
        from . import devices
        self.device = devices.resolve(device, "Generator")
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        try:
            seed = int(seed)
        except (TypeError, ValueError):
            raise TypeError(f"Generator.manual_seed: seed must be an int, got "
                            f"{type(seed).__name__}") from None
        self._seed = seed
        self.numpy_generator = np.random.default_rng(seed % 2**64)
        return self

    def seed(self) -> int:
        """Seed from a non-deterministic source; returns the seed."""
        seed = int(np.random.SeedSequence().entropy % 2**63)
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        """The state (a dict of the numpy bit generator; PyTorch returns a uint8 tensor)."""
        return self.numpy_generator.bit_generator.state

    def set_state(self, state: dict) -> Generator:
        self.numpy_generator.bit_generator.state = state
        return self

    def __repr__(self) -> str:
        return f"<autograd.Generator seed={self._seed}>"


def generator(gen=None) -> np.random.Generator:
    """The numpy generator to draw from: `gen`'s (an autograd.Generator or a numpy
    Generator) when given, else the global one that `manual_seed` seeds."""
    if gen is None:
        return _rng[0]
    if isinstance(gen, Generator):
        return gen.numpy_generator
    if isinstance(gen, np.random.Generator):
        return gen
    raise TypeError(f"generator must be an autograd.Generator, got {type(gen).__name__}")
