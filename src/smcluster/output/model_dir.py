"""Write the model directory so that it holds exactly one complete run, or nothing of ours.

`start` clears the files an earlier run listed in its manifest (the manifest first, so a crash
half-way never leaves a complete-looking directory; a small `.replacing.json` note finishes the
clearing after such a crash). Everything is then written into a hidden staging folder; on
success each file is moved into place and `manifest.json` is written last, atomically. No
manifest means not complete. Files smcluster did not write are never deleted (the model folder
may be one a user named through SM_MODEL_DIR): they are named in a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from .bundle import FORMAT_VERSION, MANIFEST_FILE

STAGING_NAME = ".incomplete"
REPLACING_NAME = ".replacing.json"

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

    def _remove(self, relative_names: list[str]) -> None:
        root = self.model_dir.resolve()
        for name in relative_names:
            path = (self.model_dir / name).resolve()
            if root not in path.parents:  # a manifest never points outside its folder
                continue
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

    def start(self) -> Path:
        """Clear any earlier run and staging; return the staging folder."""
        self.model_dir.mkdir(parents=True, exist_ok=True)
        self._clear_earlier_run()
        shutil.rmtree(self.staging, ignore_errors=True)
        others = sorted(p.name for p in self.model_dir.iterdir() if p.name != STAGING_NAME)
        if others:
            log.warning(
                "the model directory %s already holds files no completed smcluster run listed; "
                "they are left as they are and will be packaged with the model: %s",
                self.model_dir,
                ", ".join(others[:10]) + (" ..." if len(others) > 10 else ""),
            )
        self.staging.mkdir()
        return self.staging

    def publish(self, summary: dict[str, Any]) -> Path:
        """Move staged files into the model directory, then write the manifest last."""
        files: dict[str, dict[str, Any]] = {}
        for staged in sorted(self.staging.rglob("*")):
            if staged.is_file():
                relative = staged.relative_to(self.staging).as_posix()
                files[relative] = {"bytes": staged.stat().st_size, "sha256": file_sha256(staged)}
        for entry in sorted(self.staging.iterdir()):
            target = self.model_dir / entry.name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(entry, target)
        self.staging.rmdir()
        manifest = {
            "format_version": FORMAT_VERSION,
            "status": "complete",
            "files": files,
            **summary,
        }
        temporary = self.model_dir / f".{MANIFEST_FILE}.tmp"
        write_json(temporary, manifest)
        os.replace(temporary, self.model_dir / MANIFEST_FILE)
        return self.model_dir / MANIFEST_FILE

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
