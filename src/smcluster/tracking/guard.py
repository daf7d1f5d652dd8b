"""Keep tracking from failing or stalling the job: every call is bounded and failures are warnings.

A backend call runs in a daemon thread and is abandoned after its time limit. After the first
failure the tracker is switched off, so an unreachable endpoint costs one timeout, not one per call.
With `tracker_required=true` a failure raises `TrackingError` instead, and the job fails.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from .base import NoTracker, RunInfo, Tracker, TrackingError

log = logging.getLogger("smcluster.tracking")

START_TIMEOUT_S = 180.0  # covers the trial-component wait and a first SQLite schema migration
CALL_TIMEOUT_S = 120.0
END_TIMEOUT_S = 60.0
STARTING = "start the run"


def call_with_timeout(func: Callable[[], Any], timeout: float) -> Any:
    """Run `func` in a daemon thread; raise TimeoutError if it has not returned in time."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = func()
        except BaseException as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=target, name="smcluster-tracking", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(f"no answer within {timeout:.0f}s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


class GuardedTracker:
    def __init__(self, backend: Tracker, required: bool) -> None:
        self.backend = backend
        self.required = required
        self.failed: str | None = None
        self.started = False
        self.ended = False
        self._starting: threading.Thread | None = None

    @property
    def name(self) -> str:
        return self.backend.name

    def call(self, what: str, func: Callable[[], Any], timeout: float = CALL_TIMEOUT_S) -> None:
        """Run one bounded backend call; skipped once tracking has failed or never started."""
        if what != STARTING:
            self._await_start(START_TIMEOUT_S)
        if self.failed is not None or not (self.started or what == STARTING):
            return
        if type(self.backend) is NoTracker:  # exactly `tracker=none`, not a subclass of it
            return  # no thread for nothing: under a memory limit, starting one can hang
        try:
            call_with_timeout(func, timeout)
        except Exception as exc:
            self.failed = f"{type(exc).__name__}: {exc}"
            problem = (
                f"experiment tracking ({self.backend.describe()}) failed to {what}: {self.failed}."
            )
            if self.required:
                raise TrackingError(
                    problem,
                    "make the tracking endpoint reachable and writable, or set "
                    "tracker_required=false to train without it (or tracker=none).",
                ) from None
            log.warning("%s The job goes on without tracking (tracker_required=false).", problem)

    def start(self, info: RunInfo, background: bool = False) -> None:
        """Open the run; in the background it overlaps MLflow's slow import with training."""
        if background:
            self._starting = threading.Thread(
                target=self._start, args=(info,), name="smcluster-tracking-start", daemon=True
            )
            self._starting.start()
        else:
            self._start(info)

    def _start(self, info: RunInfo) -> None:
        self.call(STARTING, lambda: self.backend.start(info), START_TIMEOUT_S)
        self.started = self.failed is None
        if self.started:
            log.info("tracking run '%s' with %s", info.run_name, self.backend.describe())

    def _await_start(self, timeout: float) -> None:
        starting, self._starting = self._starting, None
        if starting is not None:
            starting.join(timeout)
            if starting.is_alive() and self.failed is None:
                self.failed = f"TimeoutError: the run did not start within {timeout:.0f}s"
                log.warning("experiment tracking: %s; going on without it.", self.failed)

    def end(self, status: str, message: str = "", timeout: float = END_TIMEOUT_S) -> None:
        """Close the run once; later calls (a failure after a stop, say) do nothing."""
        if self.ended:
            return
        self.ended = True
        deadline = time.monotonic() + timeout  # one budget for the start still under way and us
        self._await_start(timeout)
        remaining = max(deadline - time.monotonic(), 0.5)
        self.call(
            f"close the run as {status}", lambda: self.backend.end(status, message), remaining
        )

    def end_quietly(self, status: str, message: str = "", timeout: float = END_TIMEOUT_S) -> None:
        """Close on a failure path: the job is failing already, so never raise from here."""
        try:
            self.end(status, message, timeout)
        except TrackingError as exc:
            log.error("%s", exc.reason())
