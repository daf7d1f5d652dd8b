"""Shared fixtures: a real SageMaker-shaped tree per test (see `jobtree.py`) and small tables."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from .jobtree import JobTree


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """With `make test`'s workers (pytest-xdist, `--dist loadgroup`): one group per module, so
    a module-scoped fixture (a shared `train` run) is made once, and all container tests in one
    group, so the images are built once per session."""
    for item in items:
        module = item.nodeid.split("::")[0]
        group = "container" if module.startswith("tests/container/") else module
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture
def job_tree(tmp_path: Path) -> JobTree:
    return JobTree(tmp_path / "opt_ml")


@pytest.fixture
def small_customers() -> Callable[..., pd.DataFrame]:
    from smcluster.synthetic import make_customers

    return lambda rows=600, seed=3: make_customers(rows, seed=seed)
