"""The split search of DBSCAN with `min_samples` set (`cluster/density.py`): above
`SEEK_COARSE_ROWS` rows it tries every fifth quantile, then the ones between; it must choose
what the one-by-one search chooses, with far fewer DBSCAN passes over all rows."""

from __future__ import annotations

import numpy as np
import pytest

from smcluster.backends.cpu import CpuBackend
from smcluster.contract.hyperparameters import parse
from smcluster.pipeline.cluster import density


class CountingBackend(CpuBackend):
    def __init__(self) -> None:
        self.runs = 0

    def dbscan(self, *args, **kwargs):
        self.runs += 1
        return super().dbscan(*args, **kwargs)


@pytest.mark.parametrize("separation", [1.5, 2.5, 3.0])
def test_the_coarse_search_chooses_what_the_full_search_chooses(monkeypatch, separation) -> None:
    rng = np.random.default_rng(0)
    data = np.vstack([rng.normal(0, 1, (2000, 2)), rng.normal(separation, 1, (2000, 2))]).astype(
        np.float32
    )
    hp = parse({"min_samples": "10", "plots": "false"})
    chosen = {}
    for search, rows_above in (("full", 10**9), ("coarse", 100)):
        monkeypatch.setattr(density, "SEEK_COARSE_ROWS", rows_above)
        backend = CountingBackend()
        run = density.run_candidate(backend, hp, data, 10)
        chosen[search] = (run.split_quantile, run.eps.eps, backend.runs)
    (full_q, full_eps, full_runs), (coarse_q, coarse_eps, coarse_runs) = chosen.values()
    assert (full_q is not None) == (separation > 2)  # touching blobs split, merged ones not
    assert (coarse_q, coarse_eps) == (full_q, full_eps)
    assert coarse_runs <= 1 + 14 + 4  # the knee's run, the coarse quantiles, the finer ones
    assert coarse_runs < full_runs or full_runs <= 8
