"""One rule from an exception to a reason and exit code (`known_failure`), shared by `train`'s
job, its process and every `smcluster` command."""

from __future__ import annotations

import errno

import pytest

from smcluster.contract.errors import DataError
from smcluster.contract.failure import MEMORY_FIX, known_failure


def _chained() -> ValueError:
    """A library's own memory message, under the error the caller raised from it."""
    try:
        try:
            raise RuntimeError("std::bad_alloc")
        except RuntimeError as inner:
            raise ValueError("fit failed") from inner
    except ValueError as outer:
        return outer


@pytest.mark.parametrize(
    ("exc", "kwargs", "code", "first"),
    [
        (DataError("bad table.", "mend it."), {}, 2, "DataError: bad table."),
        (MemoryError(), {}, 3, "OutOfMemory: ran out of memory while running stage 'x' (Memory"),
        (_chained(), {}, 3, "OutOfMemory: ran out of memory while running stage 'x' (ValueError"),
        (
            OSError(errno.ENOSPC, "No space left on device", "/opt/ml/model/labels.parquet"),
            {},
            4,
            "PlatformError: the system refused /opt/ml/model/labels.parquet while running stage",
        ),
        (
            OSError(errno.ENOENT, "No such file or directory", "/nowhere/in.csv"),
            {"paths_as_given": True},
            2,
            "ArgumentError: cannot use /nowhere/in.csv while running stage 'x'",
        ),
        (
            ValueError("negative dimensions"),
            {"reached": "memory.current at 99% of memory.max"},
            3,
            "OutOfMemory: ran out of memory while running stage 'x': memory.current at 99%",
        ),
    ],
    ids=["own", "memory", "chained", "disk-full", "path-as-given", "at-the-limit"],
)
def test_known_causes_get_their_reason_and_exit_code(exc, kwargs, code, first) -> None:
    known = known_failure(exc, "running stage 'x'", **kwargs)
    assert known is not None
    assert known.exit_code == code
    assert known.reason().startswith(first), known.reason()
    assert " Fix: " in known.reason()


def test_a_job_and_a_command_differ_only_in_the_fix_they_give() -> None:
    job = known_failure(MemoryError(), "running stage 'x'")
    command = known_failure(MemoryError(), "running smcluster predict", memory_fix="smaller files.")
    assert job is not None and job.fix == MEMORY_FIX
    assert command is not None and command.fix == "smaller files."


def test_anything_else_is_left_to_the_caller_as_a_bug() -> None:
    assert known_failure(KeyError("surprise"), "running stage 'x'") is None
    # a missing path in a job is not the user's argument: a bug, not exit 2
    assert known_failure(OSError(errno.ENOENT, "gone", "/tmp/x"), "running stage 'x'") is None
