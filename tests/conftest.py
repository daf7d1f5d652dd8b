"""Shared fixtures: a real SageMaker-shaped tree per test (see `jobtree.py`) and small tables."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from .jobtree import JobTree


@pytest.fixture
def job_tree(tmp_path: Path) -> JobTree:
    return JobTree(tmp_path / "opt_ml")


@pytest.fixture
def small_customers() -> Callable[..., pd.DataFrame]:
    from smcluster.synthetic import make_customers

    return lambda rows=600, seed=3: make_customers(rows, seed=seed)
