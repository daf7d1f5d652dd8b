"""The evaluation space: every run's clusters scored in the same space, whatever it tuned.

Silhouette or DBCV computed in a run's own embedding cannot be compared between runs with
different reducers or `n_components`: a tuner ranking them ranks the spaces, not the clusters.
The evaluation space is the run's feature columns under the default preparation (median
imputation, log1p of skewed non-negative columns, z-scores), fitted on a seeded sample of the
training rows: the same for every trial that clusters the same columns of the same table.
"""

from __future__ import annotations

import numpy as np

from ...backends.base import to_host
from ...contract.schema import Hyperparameters
from ..prepare.preparation import FeaturePrep
from ..runtime.sampling import sample_index

FIT_ROWS = 50_000


def evaluation_space(raw: np.ndarray, columns: list[str], random_state: int) -> FeaturePrep:
    """The default preparation fitted on (a sample of) the training rows' raw features."""
    defaults = Hyperparameters()
    prep = FeaturePrep(list(columns), "median", defaults.log_transform, defaults.scaling)
    picked = sample_index(raw.shape[0], FIT_ROWS, random_state)
    prep.fit_transform(np.asarray(raw[picked], dtype=np.float32), np)
    return prep


def evaluate(prep: FeaturePrep, raw: np.ndarray) -> np.ndarray:
    """Rows of raw features in the evaluation space (host float32)."""
    return to_host(prep.transform(np.asarray(raw, dtype=np.float32), np))
