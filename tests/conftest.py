"""Shared fixtures: a real SageMaker-shaped tree per test (see `jobtree.py`) and small tables,
and the rule that marks a test `process` when it starts one (`train`, the `smcluster` tool,
Docker, a browser, pip): `make test-fast` leaves those out, and fails a test it runs that
starts one anyway, so the rule cannot fall behind the tests."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from .jobtree import JobTree

FAST_TIER = os.environ.get("SMCLUSTER_TEST_TIER") == "fast"  # set by `make test-fast`
# Fixtures that start processes (a `train` run, the Docker engine and image).
PROCESS_FIXTURES = {"job_tree", "engine", "cpu_image", "gpu_image", "container_name"}
# Calls that start one, looked for in the test, its fixtures and the module's helpers it calls:
# the standard library's, and this suite's own (a JobTree runs `train`, `smcluster(...)` the
# tool, the tracker's child is a Python process).
PROCESS_CALLS = re.compile(
    r"\bsubprocess\.|\bPopen\(|\bsys\.executable\b|\bheadless_chromium\(|\bdocker\("
    r"|\brun_image\(|\bJobTree\(|\bsmcluster\(|\bChildProcessTracker\("
    r"|\bDaskCluster\.start\("  # Dask worker processes
)
CALLED = re.compile(r"\b([A-Za-z_]\w*)\(")
# What a fast test must not start; library internals (ldconfig, uname) stay allowed.
PROGRAMS = re.compile(r"^(train|smcluster|docker|chrom\w*|python[\d.]*|pip\d?|bash|sh)$")


@pytest.fixture
def job_tree(tmp_path: Path) -> JobTree:
    return JobTree(tmp_path / "opt_ml")


@pytest.fixture
def small_customers() -> Callable[..., pd.DataFrame]:
    from smcluster.synthetic import make_customers

    return lambda rows=600, seed=3: make_customers(rows, seed=seed)


def _source(function: Any) -> str:
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return ""


def starts_processes(item: pytest.Item) -> bool:
    """Whether the test starts a process: by a fixture known to, or by a call in its own code,
    its fixtures' code or the code of the module-level functions it calls (one level)."""
    names = set(getattr(item, "fixturenames", ())) - {"_no_processes_in_the_fast_tier"}
    if names & PROCESS_FIXTURES:
        return True
    info = getattr(item, "_fixtureinfo", None)
    fixtures = [d.func for n in names for d in (info.name2fixturedefs.get(n, ()) if info else ())]
    module = getattr(item, "module", None)
    for function in [getattr(item, "function", None), *fixtures]:
        source = _source(function)
        if PROCESS_CALLS.search(source):
            return True
        for called in set(CALLED.findall(source)):
            helper = getattr(module, called, None)
            if inspect.isfunction(helper) and PROCESS_CALLS.search(_source(helper)):
                return True
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("container") or starts_processes(item):
            item.add_marker(pytest.mark.process)


@pytest.fixture(autouse=True)
def _no_processes_in_the_fast_tier(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    if not FAST_TIER or request.node.get_closest_marker("process"):
        yield
        return
    started = subprocess.Popen.__init__

    def refuse(self: subprocess.Popen[Any], args: Any, *rest: Any, **named: Any) -> None:
        argv = [args] if isinstance(args, str | os.PathLike) else list(args)
        program = Path(str(argv[0]).split()[0]).name if argv else ""
        if PROGRAMS.match(program):
            raise AssertionError(
                f"{request.node.nodeid} starts {program!r} but is not marked `process`: "
                "`make test-fast` runs in-process tests only. Use a fixture in "
                "tests/conftest.py PROCESS_FIXTURES, or call the process where "
                "PROCESS_CALLS sees it (the test, its fixture, a module helper)."
            )
        started(self, args, *rest, **named)

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    yield
