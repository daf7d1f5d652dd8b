"""Errors a user can act on. Each carries what went wrong and what to do instead."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


class SmclusterError(Exception):
    """Base of anticipated failures: the message goes first in the failure file."""

    kind: ClassVar[str] = "Error"
    exit_code: ClassVar[int] = 2

    def __init__(self, problem: str, fix: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix

    def reason(self) -> str:
        """One paragraph for `/opt/ml/output/failure` (the console shows its first 1024 chars)."""
        text = f"{self.kind}: {self.problem}"
        if self.fix:
            text += f" Fix: {self.fix}"
        return text

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


class PlatformError(SmclusterError):
    """The machine, not the input: a full disk, a folder the job may not write."""

    kind = "PlatformError"
    exit_code = 4
