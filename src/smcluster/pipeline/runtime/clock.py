"""Stage timing: each stage logs its elapsed time and rows per second, and is kept for reports.

While a stage runs, a heartbeat logs a plain line every `HEARTBEAT_S` seconds (stage, rows,
elapsed), so that a long stage is never silent in CloudWatch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ...contract.failure import job_position

log = logging.getLogger("smcluster.stage")

HEARTBEAT_S = 10.0


class StageClock:
    def __init__(self, heartbeat_s: float = HEARTBEAT_S) -> None:
        self.started = time.perf_counter()
        self.timings: dict[str, float] = {}
        self.current: str | None = None  # the stage running now; None between stages
        self.last: str | None = None  # the last stage that finished
        self.heartbeat_s = heartbeat_s

    def _heartbeat(self, name: str, rows: int | None, begun: float, done: threading.Event) -> None:
        on_rows = f" on {rows:,} rows" if rows else ""
        while not done.wait(self.heartbeat_s):
            log.info(
                "stage %s: still running%s, %.0fs so far (job %.1fs)",
                name,
                on_rows,
                time.perf_counter() - begun,
                self.elapsed(),
            )

    @contextmanager
    def stage(self, name: str, rows: int | None = None) -> Iterator[None]:
        self.current = name
        log.info("stage %s: started", name)
        begun = time.perf_counter()
        done = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(name, rows, begun, done), daemon=True)
        beat.start()
        try:
            yield
        finally:
            done.set()
        # Only a stage that finished is cleared: an error leaving it is still blamed on it.
        self.current, self.last = None, name
        elapsed = time.perf_counter() - begun
        self.timings[name] = round(elapsed, 4)
        # A rate over a few milliseconds measures the clock, not the stage.
        rate = f", {rows / elapsed:,.0f} rows/s" if rows and elapsed >= 0.05 else ""
        log.info(
            "stage %s: done in %.2fs%s (job %.1fs)",
            name,
            elapsed,
            rate,
            time.perf_counter() - self.started,
        )

    @property
    def position(self) -> str:
        """Where the job is, to follow "during" in a reason (`job_position`)."""
        return job_position(self.current, self.last)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started
