"""Random number generation: a seeded generator, global by default, as in PyTorch.

Numbers are drawn on the CPU with NumPy's PCG64 and moved to the target device, so the same
seed gives the same numbers on every device.
"""

from __future__ import annotations

import numpy as np


class Generator:
    """A random number generator: ``g = Generator().manual_seed(0)``; pass it as ``generator=g``."""

    def __init__(self, device="cpu"):
        self.device = device
        self._seed = 0
        self._rng = None

    @property
    def rng(self):
        """The NumPy generator (PCG64), created on first use: importing ``numpy.random`` costs
        about 6 MB of memory, which ``import chainrule`` does not need to pay."""
        if self._rng is None:
            self._rng = np.random.default_rng(self._seed)
        return self._rng

    def manual_seed(self, seed: int) -> Generator:
        """Reset the generator to a known state; returns itself."""
        seed = int(seed)
        if seed < 0:
            raise ValueError(f"manual_seed: seed must be non-negative, got {seed}")
        self._seed = seed
        self._rng = None  # re-created from the seed on first use
        return self

    def seed(self) -> int:
        """Seed from the operating system's entropy; returns the seed used."""
        s = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        """The generator's state as plain Python values (JSON-serialisable)."""
        st = self.rng.bit_generator.state
        return {
            "bit_generator": st["bit_generator"],
            "state": {k: int(v) for k, v in st["state"].items()},
            "has_uint32": int(st["has_uint32"]),
            "uinteger": int(st["uinteger"]),
            "seed": self._seed,
        }

    def set_state(self, state: dict) -> None:
        st = {k: v for k, v in state.items() if k != "seed"}
        self.rng.bit_generator.state = st
        self._seed = state.get("seed", self._seed)


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the global generator: the same seed gives the same numbers."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    default_generator.set_state(state)


def rng(generator: Generator | None = None) -> np.random.Generator:
    """The NumPy generator behind ``generator`` (the global one when None)."""
    return (generator or default_generator).rng
