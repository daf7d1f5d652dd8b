"""Errors a user can act on. Each carries what went wrong and what to do instead."""

from __future__ import annotations

import errno
from collections.abc import Sequence
from typing import ClassVar

from .secrets import redact


class SmclusterError(Exception):
    """Base of anticipated failures: the message goes first in the failure file."""

    kind: ClassVar[str] = "Error"
    exit_code: ClassVar[int] = 2

    def __init__(self, problem: str, fix: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        # Both parts survive pickling: a Dask worker's error reaches the driver whole.
        return (self.__class__, (self.problem, self.fix))

    def reason(self) -> str:
        """One paragraph for `/opt/ml/output/failure` (the console shows its first 1024 chars;
        `failure.shown_reason` keeps the problem and the Fix within them)."""
        text = f"{self.kind}: {self.problem}"
        if self.fix:
            text += f" Fix: {self.fix}"
        return redact(text)

    @classmethod
    def combine(cls, errors: Sequence[SmclusterError]) -> SmclusterError:
        """One error for several problems, so that a job names them all at once."""
        if len(errors) == 1:
            return errors[0]
        problems = " ".join(f"({i}) {e.problem}" for i, e in enumerate(errors, 1))
        fixes = " ".join(f"({i}) {e.fix}" for i, e in enumerate(errors, 1) if e.fix)
        return cls(f"{len(errors)} problems: {problems}", fixes)


class HyperparameterError(SmclusterError):
    kind = "HyperparameterError"


class ChannelError(SmclusterError):
    kind = "ChannelError"


class DataError(SmclusterError):
    kind = "DataError"


class BackendError(SmclusterError):
    kind = "BackendError"


class ResourceError(SmclusterError):
    kind = "OutOfMemory"
    exit_code = 3


class ModelError(SmclusterError):
    kind = "ModelError"


class ArgumentError(SmclusterError):
    """A command-line argument of the `smcluster` tool that cannot be used."""

    kind = "ArgumentError"


class DependencyError(SmclusterError):
    """An optional package a command needs is not installed."""

    kind = "DependencyError"


class StudyError(SmclusterError):
    """A local tuning study ended without a result."""

    kind = "StudyError"


class PlatformError(SmclusterError):
    """The machine, not the input: a full disk, a folder the job may not write."""

    kind = "PlatformError"
    exit_code = 4


class ClusterError(SmclusterError):
    """A host or worker of a Dask cluster lost, unreachable or failing."""

    kind = "ClusterError"
    exit_code = 4


# The machine's refusals, each with what to do about it.
PLATFORM_ERRNOS = {
    errno.ENOSPC: "free disk space on the volume (a larger volume_size for SageMaker jobs).",
    errno.EDQUOT: "free disk space or raise the quota on the volume.",
    errno.EACCES: "make the folder writable (and the files readable) by the job's user.",
    errno.EPERM: "make the folder writable (and the files readable) by the job's user.",
    errno.EROFS: "mount the folder read-write.",
    errno.EFBIG: "raise the file size limit (`ulimit -f`) of the job's user.",
}


def os_error_reason(exc: OSError, doing: str) -> SmclusterError | None:
    """A user's reason for an OSError while `doing` something: a PlatformError for the machine's
    refusals (disk full, permission), an ArgumentError for a path that cannot be used as given
    (not a folder, missing); None for anything else."""
    where = exc.filename or "a file"
    if exc.errno in PLATFORM_ERRNOS:
        return PlatformError(
            f"the system refused {where} while {doing}: {exc.strerror}.",
            PLATFORM_ERRNOS[exc.errno],
        )
    if exc.filename and exc.errno in (errno.ENOTDIR, errno.ENOENT, errno.EISDIR, errno.EEXIST):
        return ArgumentError(
            f"cannot use {where} while {doing}: {exc.strerror}.",
            "check the paths given (a folder where a folder is expected, its parent existing).",
        )
    return None
