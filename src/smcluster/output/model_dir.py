"""Write the model directory so that it holds exactly one complete run, or nothing of ours.

`start` takes the directory for this run (an exclusive lock on the folder itself: a second run
into the same directory fails at once), then clears the files an earlier run listed in its
manifest (the manifest first, so a crash half-way never leaves a complete-looking directory; a
small `.replacing.json` note finishes the clearing after such a crash). Everything is then
written into a hidden staging folder. `publish` notes the files it is about to move, moves them
one by one into place and writes `manifest.json` last, atomically: no manifest means not
complete, and a run killed between two moves leaves the note by which the next run clears them.
Files smcluster did not write are never deleted (the model folder may be one a user named
through SM_MODEL_DIR), not even a folder of theirs that shares a name with ours (`plots/`): they
are named in a warning.

A stop (SIGTERM, from another thread) and `publish` take turns (`settle`): a stop during the
moves waits the few milliseconds they take, then either the model is complete and stays, or
nothing was moved and none will be.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from ..contract.errors import PlatformError
from .bundle import FORMAT_VERSION, MANIFEST_FILE

STAGING_NAME = ".incomplete"
REPLACING_NAME = ".replacing.json"
TEMPORARY = f".{MANIFEST_FILE}.tmp"  # the manifest before its rename
PAUSE_ENV = "SMCLUSTER_PUBLISH_PAUSE_S"  # tests only: see `ModelDirWriter._step`

log = logging.getLogger(__name__)


def write_json(path: Path, payload: object) -> None:
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


def file_sha256(path: Path) -> str:
    """A file's SHA-256, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _listed_files(manifest: Path) -> list[str]:
    """The files a manifest lists (none when it is unreadable: then nothing is deleted)."""
    try:
        files = json.loads(manifest.read_text()).get("files", {})
    except (OSError, ValueError, AttributeError):
        return []
    return [name for name in files if isinstance(name, str)]


class ModelDirWriter:
    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        self.staging = model_dir / STAGING_NAME
        self.state = "new"  # new -> staging -> published, or aborted (a stop or a failure)
        self._turn = threading.Lock()  # publish and a stop (settle) never run at once
        self._held: int | None = None  # the model folder's descriptor, locked while we run

    def _remove(self, relative_names: list[str]) -> None:
        root = self.model_dir.resolve()
        for name in relative_names:
            path = (self.model_dir / name).resolve()
            if root not in path.parents:  # a manifest never points outside its folder
                continue
            if path.is_file() or path.is_symlink():
                path.unlink(missing_ok=True)
            for parent in path.parents:
                if parent == root:
                    break
                try:
                    parent.rmdir()  # only when empty
                except OSError:
                    break

    def _clear_earlier_run(self) -> None:
        note = self.model_dir / REPLACING_NAME
        manifest = self.model_dir / MANIFEST_FILE
        names = _listed_files(note) if note.exists() else []
        if manifest.exists():
            names += _listed_files(manifest)
            write_json(note, {"files": {name: {} for name in names}})
            manifest.unlink()
        self._remove(names)
        note.unlink(missing_ok=True)

    def _hold(self) -> None:
        """An exclusive lock on the model folder for as long as this process runs."""
        descriptor = os.open(self.model_dir, os.O_RDONLY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise PlatformError(
                f"another train run is writing to the model directory {self.model_dir} right "
                "now; two runs into one directory would mix their files.",
                "wait for the other run to end, or give this run its own model directory "
                "(SM_MODEL_DIR, or its own SAGEMAKER_BASE_DIR).",
            ) from None
        self._held = descriptor

    def start(self) -> Path:
        """Take the directory, clear any earlier run and staging; return the staging folder."""
        try:
            self.model_dir.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise PlatformError(
                f"the model directory {self.model_dir} is, or lies under, a file, not a folder.",
                "point SM_MODEL_DIR (or SAGEMAKER_BASE_DIR) at a folder, or remove that file.",
            ) from None
        self._hold()
        ours = [(name, True) for name in (MANIFEST_FILE, REPLACING_NAME, TEMPORARY)]
        self._refuse_clashes([*ours, (STAGING_NAME, False)])
        self._clear_earlier_run()
        shutil.rmtree(self.staging, ignore_errors=True)  # a killed run's: we hold the lock
        others = sorted(p.name for p in self.model_dir.iterdir() if p.name != STAGING_NAME)
        if others:
            log.warning(
                "the model directory %s already holds files no completed smcluster run listed; "
                "they are left as they are and will be packaged with the model: %s",
                self.model_dir,
                ", ".join(others[:10]) + (" ..." if len(others) > 10 else ""),
            )
        self.staging.mkdir()
        self.state = "staging"
        return self.staging

    def _refuse_clashes(self, names: list[tuple[str, bool]]) -> None:
        """Refuse, before anything moves, entries of the user's that stand where ours go: a
        folder where a file of ours goes (`is_file` True), a file where a folder does, or a
        file where one of our folders would hold files."""
        clashes = []
        for name, is_file in names:
            target = self.model_dir / name
            for parent in list(reversed(target.relative_to(self.model_dir).parents))[1:]:
                folder = self.model_dir / parent
                if folder.exists() and not folder.is_dir():
                    clashes.append(f"{parent.as_posix()} (a file where smcluster needs a folder)")
            if target.is_symlink() or not target.exists() or target.is_dir() != is_file:
                continue
            kind = "a folder where smcluster writes a file" if is_file else "a file, not a folder"
            clashes.append(f"{name} ({kind})")
        if clashes:
            raise PlatformError(
                f"the model directory {self.model_dir} holds entries where this run's files go: "
                f"{', '.join(sorted(set(clashes)))}; nothing of this run was published.",
                "rename or remove them, or give the run its own model directory (SM_MODEL_DIR).",
            )

    def publish(self, summary: dict[str, Any]) -> Path:
        """Move staged files into the model directory, then write the manifest last."""
        staged = sorted(path for path in self.staging.rglob("*") if path.is_file())
        files: dict[str, dict[str, Any]] = {}
        for path in staged:  # hashed before our turn: a stop need not wait for this
            relative = path.relative_to(self.staging).as_posix()
            files[relative] = {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
        self._refuse_clashes([(name, True) for name in files])
        steps = len(files) + 3
        self._step(1, steps, "staged and hashed")
        with self._turn:
            if self.state != "staging":
                raise PlatformError(
                    f"the model of this run was not published to {self.model_dir}: the job "
                    "was stopping.",
                    "rerun the job to get a model.",
                )
            note = self.model_dir / REPLACING_NAME
            write_json(note, {"files": {name: {} for name in files}})  # a kill mid-way: cleared
            self._step(2, steps, REPLACING_NAME)
            for number, name in enumerate(files, 3):
                target = self.model_dir / name
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self.staging / name, target)
                self._step(number, steps, name)
            shutil.rmtree(self.staging, ignore_errors=True)  # its emptied folders
            manifest = {
                "format_version": FORMAT_VERSION,
                "status": "complete",
                "files": files,
                **summary,
            }
            temporary = self.model_dir / TEMPORARY
            write_json(temporary, manifest)
            os.replace(temporary, self.model_dir / MANIFEST_FILE)
            note.unlink()
            self.state = "published"
        self._step(steps, steps, MANIFEST_FILE)
        return self.model_dir / MANIFEST_FILE

    @staticmethod
    def _step(number: int, steps: int, done: str) -> None:
        """A test seam: with `PAUSE_ENV` set (seconds), each step of a publish is logged and
        followed by that pause, so that a test can send a signal between any two steps."""
        pause = os.environ.get(PAUSE_ENV)
        if pause:
            log.info("publish step %d of %d done: %s", number, steps, done)
            time.sleep(float(pause))

    def settle(self) -> bool:
        """For a stop or a failure: True when this run's model is published (it stays);
        otherwise the staging folder is removed and no publish will start."""
        with self._turn:
            if self.state == "published":
                return True
            if self.state == "new":  # the directory was never ours (another run holds it)
                return False
            self.state = "aborted"
            shutil.rmtree(self.staging, ignore_errors=True)
            return False

    def abort(self) -> None:
        self.settle()

    def release(self) -> None:
        """Give the model directory back (at the end of the run; exit would too)."""
        if self._held is not None:
            os.close(self._held)  # closing the descriptor drops its lock
            self._held = None
