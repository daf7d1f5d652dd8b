"""Wide synthetic tables with known segments, for benchmarks and the GPU check.

Segments are Gaussian clouds in a low-dimensional latent space, mixed linearly into
`n_features` observed columns with per-column noise; the last `redundant` columns are near
copies of the first ones (so `correlation_threshold` has work to do); `noise_fraction` of the
rows are uniform outliers labelled `noise`. Generated in chunks, so 5M rows fit in a few GB.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NOISE_LABEL = "noise"
CHUNK_ROWS = 500_000


def make_segments(
    rows: int,
    n_features: int = 30,
    n_segments: int = 8,
    latent_dim: int = 6,
    redundant: int = 3,
    noise_fraction: float = 0.02,
    seed: int = 0,
) -> pd.DataFrame:
    """Columns `row_id`, `f00`..`fNN` (float32) and `segment` (the true label)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 4.0, (n_segments, latent_dim))
    weights = rng.uniform(0.5, 1.5, n_segments)
    weights /= weights.sum()
    independent = n_features - redundant
    mixing = rng.normal(0.0, 1.0, (latent_dim, independent))
    chunks, truths = [], []
    for start in range(0, rows, CHUNK_ROWS):
        count = min(CHUNK_ROWS, rows - start)
        segment = rng.choice(n_segments, size=count, p=weights)
        latent = centres[segment] + rng.normal(0.0, 1.0, (count, latent_dim))
        values = latent @ mixing + rng.normal(0.0, 0.5, (count, independent))
        copies = values[:, :redundant] * 1.5 + rng.normal(0.0, 0.05, (count, redundant))
        values = np.hstack([values, copies]).astype(np.float32)
        outliers = rng.random(count) < noise_fraction
        low, high = values.min(axis=0), values.max(axis=0)
        values[outliers] = rng.uniform(low, high, (int(outliers.sum()), n_features))
        chunks.append(values)
        truths.append(np.where(outliers, -1, segment))
    values = np.concatenate(chunks)
    truth = np.concatenate(truths)
    frame = pd.DataFrame(values, columns=[f"f{i:02d}" for i in range(n_features)])
    frame.insert(0, "row_id", np.arange(rows, dtype=np.int64))
    names = np.array([f"s{i}" for i in range(n_segments)] + [NOISE_LABEL])
    frame["segment"] = names[truth]  # -1 indexes the last name: noise
    return frame
