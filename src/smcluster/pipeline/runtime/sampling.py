"""Seeded row samples: the one way every stage draws rows, so the same seed draws the same rows."""

from __future__ import annotations

import numpy as np


def sample_index(rows: int, size: int, random_state: int) -> np.ndarray:
    """Sorted indices of `size` of `rows` rows drawn without replacement (all when fewer)."""
    if rows <= size:
        return np.arange(rows)
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(rows, size=size, replace=False))
