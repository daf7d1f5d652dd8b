"""A long stage is never silent: the heartbeat logs while it runs and stops when it ends."""

from __future__ import annotations

import logging
import threading

import pytest

from smcluster.pipeline.runtime.clock import StageClock


def test_a_running_stage_logs_a_heartbeat_and_stops_after(caplog: pytest.LogCaptureFixture) -> None:
    clock = StageClock(heartbeat_s=0.05)
    finished = threading.Event()
    with caplog.at_level(logging.INFO, logger="smcluster.stage"):
        with clock.stage("reduce_umap", rows=1234):
            finished.wait(0.3)
        beats = [r for r in caplog.records if "still running on 1,234 rows" in r.getMessage()]
        assert len(beats) >= 2
        assert beats[0].getMessage().startswith("stage reduce_umap: still running")
        count = len(beats)
        finished.wait(0.2)  # no beat after the stage ended
    later = [r for r in caplog.records if "still running" in r.getMessage()]
    assert len(later) == count
    assert "reduce_umap" in clock.timings


def test_a_failing_stage_stops_its_heartbeat(caplog: pytest.LogCaptureFixture) -> None:
    clock = StageClock(heartbeat_s=0.05)
    with caplog.at_level(logging.INFO, logger="smcluster.stage"):
        with pytest.raises(ValueError), clock.stage("load_train"):
            raise ValueError("bad table")
        before = len(caplog.records)
        threading.Event().wait(0.2)
    assert len(caplog.records) == before
    assert "load_train" not in clock.timings


def test_the_position_names_the_running_stage_and_never_a_finished_one() -> None:
    """An error between two stages is not blamed on the stage that had already finished; an
    error raised inside a stage is."""
    clock = StageClock()
    assert clock.position == "start-up (before the first stage)"
    with clock.stage("prepare"):
        assert clock.position == "stage 'prepare'"
    assert clock.current is None
    assert clock.position == "the step after stage 'prepare'"
    with pytest.raises(ValueError), clock.stage("reduce_umap"):
        raise ValueError("bad")
    assert clock.position == "stage 'reduce_umap'"  # the error that left it is its own
