"""Few-valued columns spread within their steps, and the outlier test on both views."""

from __future__ import annotations

import numpy as np

from smcluster.backends.cpu import CpuBackend
from smcluster.pipeline.prepare.steps import spread_steps
from smcluster.pipeline.refine.outliers import fit_outliers


def _table(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = 2_000
    return np.column_stack(
        [
            rng.normal(0, 1, rows),  # continuous: left as it is
            (rng.random(rows) < 0.3).astype(float),  # a 0/1 flag
            rng.poisson(2.0, rows).astype(float),  # a small count
            np.choose(rng.integers(0, 4, rows), [1.0, 12.0, 24.0, 36.0]),  # plan months
        ]
    ).astype(np.float32)


def test_steps_fill_the_half_gaps_to_their_neighbours_in_order_and_leave_measures_alone():
    data = _table()
    spread, names = spread_steps(data, ["spend", "flag", "count", "plan"], np, seed=3)
    assert names == ["flag", "count", "plan"]
    assert np.array_equal(spread[:, 0], data[:, 0])
    for j in (1, 2, 3):
        values = np.unique(data[:, j])
        for i, value in enumerate(values):
            moved = spread[data[:, j] == value, j]
            low = value - (values[i] - values[i - 1] if i else values[1] - values[0]) / 2
            high = (
                value
                + (values[i + 1] - value if i + 1 < len(values) else value - values[i - 1]) / 2
            )
            assert moved.min() >= low - 1e-5 and moved.max() <= high + 1e-5
        # the column still orders the rows as its values did, and no step is a stack of ties
        order = np.argsort(spread[:, j], kind="stable")
        assert np.all(np.diff(data[order, j]) >= 0)
        assert len(np.unique(spread[:, j])) > 0.99 * len(data)
    # plan months: 1 fills down to -4.5 and up to 6.5, where 12's rows begin (no gap left)
    plan = spread[:, 3]
    assert plan[data[:, 3] == 1].min() < -3.5 and plan[data[:, 3] == 12].min() < 7.5


def test_spreading_is_seeded_and_a_table_without_steps_is_returned_as_it_is():
    data = _table()
    first, _ = spread_steps(data, list("abcd"), np, seed=3)
    again, _ = spread_steps(data, list("abcd"), np, seed=3)
    other, _ = spread_steps(data, list("abcd"), np, seed=4)
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    measures = np.random.default_rng(0).normal(size=(500, 3)).astype(np.float32)
    same, names = spread_steps(measures, list("xyz"), np, seed=0)
    assert names == [] and np.array_equal(same, measures)


def test_outliers_are_flagged_in_either_view_and_new_rows_are_judged_alike():
    rng = np.random.default_rng(0)
    data = _table()
    data[:, 0] = np.where(data[:, 1] > 0, 3.0, -3.0) + rng.normal(0, 0.3, len(data))
    far = rng.uniform(-12, 12, (40, 4)).astype(np.float32)  # far along the measure and the steps
    far[:, 1:] = np.round(np.abs(far[:, 1:]))
    rows = np.concatenate([data, far])
    spread, _ = spread_steps(rows, list("abcd"), np, seed=0)
    backend = CpuBackend()
    rule, flagged = fit_outliers(backend, rows, 3.0, 0, spread)
    plain_rule, plain = fit_outliers(backend, rows, 3.0, 0)
    spread_rule, in_spread = fit_outliers(backend, spread, 3.0, 0)
    assert rule is not None and rule.spread is not None
    assert plain_rule is not None and spread_rule is not None
    assert np.array_equal(flagged, plain | in_spread)
    assert flagged[len(data) :].mean() > 0.9
    new = np.concatenate([_table(seed=1)[:200], far[:10]])
    assert np.array_equal(
        rule.flags(backend, new), plain_rule.flags(backend, new) | spread_rule.flags(backend, new)
    )
