"""`smcluster tune-local`: an Optuna study over the schema's tuning ranges, one `train` per trial.

Each trial runs the real `train` console script in its own SageMaker-shaped tree
(`OUT/trial-NNN/`, channels linked to the data; `OUT/defaults/` first, the tuned names left at
their defaults) and its objective is read from the metric lines
it printed with the published `metric_definitions()` regexes, as a SageMaker tuning job reads them.
Optuna is the `tune` extra, imported only here.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..contract.channels import Channel
from ..contract.errors import ArgumentError, DependencyError, StudyError
from ..contract.hyperparameters import parse
from ..contract.local_tree import channel_config, write_job_config
from ..contract.metrics import OBJECTIVE, objective_direction
from ..contract.tables import check_same_columns, discover
from ..output.atomic import write_whole
from ..output.metric_lines import read_metrics
from .compare import rank

STUDY_FILE = "study.json"
CHILD_STOP_S = 30.0  # how long a stopped trial's `train` gets to write its failure file and exit


class TrialFailed(Exception):
    """A trial's `train` exited non-zero or printed no objective; Optuna records it as failed."""


class Signalled(BaseException):
    """SIGTERM or SIGINT arrived. A BaseException, so that no `except Exception` (Optuna's trial
    bookkeeping) swallows it on its way out of the study."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class StudyStopped(StudyError):
    """The study was stopped by a signal; study.json holds the trials completed before it."""

    kind = "Stopped"


class Interrupted(StudyStopped):
    exit_code = 130  # 128 + SIGINT, as a shell reports Ctrl-C


class Terminated(StudyStopped):
    exit_code = 143  # 128 + SIGTERM


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGINT into `Signalled` (once: a second signal during the cleanup is
    ignored, so the running trial is still stopped and the study still written)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may install handlers; a caller's thread keeps its own
        return
    signums = (signal.SIGTERM, signal.SIGINT)

    def handler(signum: int, _: Any) -> None:
        for other in signums:
            signal.signal(other, signal.SIG_IGN)
        raise Signalled(signum)

    previous = {signum: signal.signal(signum, handler) for signum in signums}
    try:
        yield
    finally:
        for signum, action in previous.items():
            signal.signal(signum, action)


def write_trial_tree(
    base: Path, data: Path, validation: Path | None, hyperparameters: Mapping[str, str]
) -> Path:
    """A `/opt/ml`-shaped tree whose channels link to the user's folders."""
    channels = {"train": data.resolve()}
    if validation is not None:
        channels["validation"] = validation.resolve()
    data_dir = base / "input" / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    for name, source in channels.items():
        (data_dir / name).symlink_to(source, target_is_directory=True)
    write_job_config(base, hyperparameters, {name: channel_config() for name in channels})
    return base


def train_command() -> list[str]:
    """The `train` console script of this environment."""
    script = Path(sys.executable).with_name("train")
    return [str(script)] if script.exists() else [sys.executable, "-m", "smcluster.train"]


def run_trial(base: Path) -> tuple[int, str]:
    """Run `train` on the trial's tree; its output goes to `train.log` as it is printed. A stop
    (a signal, Ctrl-C) terminates `train` and waits for it: no trial outlives the study."""
    env = {**os.environ, "SAGEMAKER_BASE_DIR": str(base)}
    log_path = base / "train.log"
    with log_path.open("w") as log:
        child = subprocess.Popen(train_command(), env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            returncode = child.wait()
        except BaseException:
            child.terminate()
            try:
                child.wait(CHILD_STOP_S)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            raise
    return returncode, log_path.read_text(errors="replace")


def _failure(base: Path, returncode: int) -> str:
    failure = base / "output" / "failure"
    if failure.is_file():
        return failure.read_text().strip().splitlines()[0]
    return f"train exited with code {returncode} and printed no {OBJECTIVE}"


def _suggest(trial: Any, ranges: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """One value per range, as the strings SageMaker would pass (log scaling where asked)."""
    values: dict[str, str] = {}
    for name, entry in ranges.items():
        if entry["type"] == "Categorical":
            values[name] = str(trial.suggest_categorical(name, list(entry["values"])))
            continue
        log = entry["scaling"] == "Logarithmic"
        if entry["type"] == "Integer":
            value = trial.suggest_int(name, int(entry["min"]), int(entry["max"]), log=log)
        else:
            value = trial.suggest_float(name, float(entry["min"]), float(entry["max"]), log=log)
        values[name] = str(value)
    return values


def _check_folders(data: Path, validation: Path | None, out: Path) -> None:
    for folder in (data, validation):
        if folder is not None and not folder.is_dir():
            raise ArgumentError(
                f"{folder} is not a folder.", "pass a folder of CSV or Parquet files."
            )
    for flag, folder in (("--data", data), ("--validation", validation)):
        # Trials link to the data folders: a study written inside one becomes its own input.
        if folder is not None and out.resolve().is_relative_to(folder.resolve()):
            raise ArgumentError(
                f"--out {out} is inside {flag} {folder}: later trials would read the study's "
                "own files as data.",
                f"pass an --out folder outside {folder}.",
            )
    for name, folder in (("train", data), ("validation", validation)):
        if folder is not None:  # the tables every trial would fail on, found once up front
            check_same_columns(discover(Channel(name, folder, "text/csv", "File")))
    if out.exists() and any(out.iterdir()):
        raise ArgumentError(
            f"{out} is not empty; its trial folders would mix with an earlier study's.",
            "pass a new --out folder or remove this one.",
        )


@dataclass
class Study:
    """What `tune_local` found: ranked trials and where they ran."""

    out: Path
    direction: str
    trials: list[dict[str, Any]] = field(default_factory=list)
    running: str | None = None  # the trial under way
    stopped: dict[str, str] | None = None  # why and when the study was stopped, if it was

    @property
    def leaderboard(self) -> list[dict[str, Any]]:
        return rank(self.trials)

    @property
    def best(self) -> dict[str, Any] | None:
        top = self.leaderboard[0] if self.trials else None
        return top if top is not None and top["objective"] is not None else None

    def to_json(self) -> dict[str, Any]:
        return {
            "objective_metric_name": OBJECTIVE,
            "objective_type": self.direction,
            "best": self.best,
            "complete": self.stopped is None,
            "stopped": self.stopped,
            "trials": self.leaderboard,
        }

    def write(self) -> Path:
        """Write study.json atomically (a stop mid-write leaves the previous one)."""
        path = self.out / STUDY_FILE
        text = json.dumps(self.to_json(), indent=2) + "\n"
        write_whole(path, lambda target: target.write_text(text), "--out")
        return path

    def stop(self, signum: int) -> StudyStopped:
        """Record the stop in study.json; the error that ends the command with 128 + signum."""
        name = signal.Signals(signum).name
        self.stopped = {
            "signal": name,
            "during": self.running or "",
            "at": datetime.now(UTC).isoformat(),
        }
        path = self.write()
        done = sum(1 for t in self.trials if t["status"] == "Completed")
        during = f" during {self.running}" if self.running else ""
        stopped = Interrupted if signum == signal.SIGINT else Terminated
        return stopped(
            f"tune-local stopped by {name}{during} after {len(self.trials)} trials "
            f"({done} completed); {path} records them as a stopped study.",
            f"read it with `smcluster tuning-report --study {self.out}`, or run a new study "
            "with a new --out.",
        )


def tune_local(
    data: Path,
    out: Path,
    trials: int,
    static: Mapping[str, str],
    ranges: Mapping[str, Mapping[str, Any]],
    validation: Path | None = None,
    defaults_trial: bool = True,
) -> Study:
    """Run `trials` trials (after one with the defaults, unless `defaults_trial` is false);
    failed ones are recorded, never fatal. Writes `out/study.json` after every trial; SIGTERM or
    SIGINT stops the running trial, records the stop there and raises `StudyStopped`."""
    _check_folders(data, validation, out)
    try:
        import optuna
    except ImportError:
        raise DependencyError(
            "tune-local needs Optuna, which is not installed.",
            'pip install -e ".[tune]" (or the dev extra).',
        ) from None

    seed = parse(static).random_state  # the job's own seed makes the study reproducible
    direction = objective_direction()
    # Optuna logs each failed trial with a traceback; `run` prints one line per failure instead.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(
        direction="maximize" if direction == "Maximize" else "minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
    )
    result = Study(out=out, direction=direction)

    def run(name: str, tuned: dict[str, str]) -> dict[str, Any]:
        base = write_trial_tree(out / name, data, validation, {**static, **tuned})
        started = datetime.now(UTC).isoformat()
        result.running = name
        returncode, log = run_trial(base)
        result.running = None
        found = read_metrics(log)
        row = {
            "name": name,
            "status": "Completed",
            "objective": found.get(OBJECTIVE),
            "hyperparameters": tuned,
            "metrics": found,
            "path": str(base),
            "started": started,
            "ended": datetime.now(UTC).isoformat(),
        }
        result.trials.append(row)
        if returncode != 0 or OBJECTIVE not in found:
            row.update(status="Failed", objective=None, failure=_failure(base, returncode))
            print(f"{name} failed: {row['failure']}", file=sys.stderr, flush=True)
        result.write()
        return row

    def objective(trial: Any) -> float:
        row = run(f"trial-{trial.number:03d}", _suggest(trial, ranges))
        if row["objective"] is None:
            raise TrialFailed(row["failure"])
        return float(row["objective"])

    out.mkdir(parents=True, exist_ok=True)
    try:
        with stop_on_signals():
            if defaults_trial:
                # Every tuned name at its default: the study's best is never worse than not
                # tuning (by the objective), and the leaderboard shows what tuning bought.
                run("defaults", {})
            study.optimize(objective, n_trials=trials, catch=(TrialFailed,))
    except Signalled as stop:
        raise result.stop(stop.signum) from None
    except KeyboardInterrupt:  # Ctrl-C outside the main thread's handler
        raise result.stop(signal.SIGINT) from None
    result.write()
    return result
