"""Stage timing: each stage logs its elapsed time and rows per second, and is kept for reports."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("smcluster.stage")


class StageClock:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.timings: dict[str, float] = {}
        self.current: str = "start"

    @contextmanager
    def stage(self, name: str, rows: int | None = None) -> Iterator[None]:
        self.current = name
        log.info("stage %s: started", name)
        begun = time.perf_counter()
        yield
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

    def elapsed(self) -> float:
        return time.perf_counter() - self.started
