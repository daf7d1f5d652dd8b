"""Run a tracking backend in a child process, so that it costs the job no time on a second core.

MLflow's import and its SQLite schema check (2 to 3 s of CPU), or boto3's for SageMaker, would
otherwise hold the GIL while UMAP runs: in a thread of the job they slow it by about what they
cost. In a child process they run beside it. Each call is pickled over the child's stdin and
answered in order on its stdout; an exception in the child comes back under its own type name.

The child ignores SIGINT and SIGTERM (the job decides how its run ends and tells it), and when the
job's process disappears without closing the run (SIGKILL, out of memory) it closes it as KILLED.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from ..contract.secrets import redact_logging
from ..pipeline.load import ChannelInput
from .base import KILLED, ParamValue, RunInfo, Tracker

log = logging.getLogger("smcluster.tracking")

EXIT_WAIT_S = 5.0  # after the run is closed, how long the child may take to exit
LOST_JOB_REASON = "the job's process ended before it closed the run (killed, or out of memory)"


# Not `-m smcluster.tracking.child`: the package imports this module first, and runpy warns.
CHILD_COMMAND = [sys.executable, "-c", "from smcluster.tracking.child import main; main()"]


class ChildError(Exception):
    """An exception raised in the tracking process; subclassed under the original's type name."""


def child_error(type_name: str, message: str) -> ChildError:
    named: type[ChildError] = type(type_name, (ChildError,), {})
    return named(message)


class ChildProcessTracker:
    """A `Tracker` whose backend lives in a child process; `start` launches the child."""

    def __init__(self, backend: Tracker) -> None:
        self.backend = backend  # not started: it is pickled to the child as it is
        self.name = backend.name
        self._description = backend.describe()
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()  # one call on the pipe at a time

    def describe(self) -> str:
        return self._description

    def _launch(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        # The child imports this package from where the job did, installed or not.
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        process = subprocess.Popen(
            CHILD_COMMAND,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert process.stdin is not None
        pickle.dump(self.backend, process.stdin)
        process.stdin.flush()
        return process

    def _call(self, method: str, *args: Any) -> Any:
        with self._lock:
            if self._process is None:
                self._process = self._launch()
            process = self._process
            assert process.stdin is not None and process.stdout is not None
            try:
                pickle.dump((method, args), process.stdin)
                process.stdin.flush()
                ok, value = pickle.load(process.stdout)
            except (EOFError, OSError, pickle.UnpicklingError):
                code = process.poll()
                raise ChildError(
                    f"the tracking process ended unexpectedly (exit code {code}); "
                    "its log lines above say why"
                ) from None
        if not ok:
            raise child_error(*value)
        return value

    def start(self, info: RunInfo) -> None:
        self._call("start", info)

    def log_params(self, params: dict[str, ParamValue]) -> None:
        self._call("log_params", params)

    def log_inputs(self, inputs: list[ChannelInput]) -> None:
        self._call("log_inputs", inputs)

    def log_metrics(self, metrics: dict[str, float]) -> None:
        self._call("log_metrics", metrics)

    def log_artifacts(self, directory: Path) -> None:
        self._call("log_artifacts", directory)

    def set_tags(self, tags: dict[str, str]) -> None:
        self._call("set_tags", tags)

    def end(self, status: str, message: str = "") -> None:
        try:
            self._call("end", status, message)
        finally:
            self._close()

    def _close(self) -> None:
        """Let the child exit (its stdin closes); stop it if it does not, so none is left behind."""
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None
        try:
            process.stdin.close()
            process.wait(EXIT_WAIT_S)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()


def serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    """The child's loop: the backend first, then calls until stdin closes."""
    backend: Tracker = pickle.load(requests)
    started = ended = False
    while True:
        try:
            method, args = pickle.load(requests)
        except (EOFError, pickle.UnpicklingError, OSError):  # the job closed or died mid-call
            break
        try:
            value = getattr(backend, method)(*args)
            reply: tuple[bool, Any] = (True, value)
            started = started or method == "start"
            ended = ended or method == "end"
        except Exception as exc:
            reply = (False, (type(exc).__name__, str(exc)))
        try:
            pickle.dump(reply, replies)
            replies.flush()
        except OSError:  # BrokenPipeError: the job is gone (it exited or was killed)
            break
    if started and not ended:
        log.warning("experiment tracking: %s; closing it as %s.", LOST_JOB_REASON, KILLED)
        try:
            backend.end(KILLED, LOST_JOB_REASON)
        except Exception as exc:
            log.warning("experiment tracking: could not close the run: %s", exc)


def main() -> None:
    # The job handles stops and tells the child how the run ends; a Ctrl-C in a terminal reaches
    # the whole process group, so the child must not act on it by itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    log_format = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=logging.INFO, format=log_format, stream=sys.stderr)
    redact_logging(log_format)
    # Replies go to the original stdout; anything a library prints goes to the log instead.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, replies)
    # The run is closed and committed: skip the interpreter's teardown of MLflow, SQLAlchemy or
    # boto3 (most of a second), which the job would otherwise wait for.
    logging.shutdown()
    os._exit(0)


if __name__ == "__main__":
    main()
