"""Write the model directory so that a half-written one never looks complete.

Everything is written into a hidden staging folder first; on success each file is moved into
place and `manifest.json` is written last, atomically. No manifest means not complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from .bundle import FORMAT_VERSION, MANIFEST_FILE

STAGING_NAME = ".incomplete"


def write_json(path: Path, payload: object) -> None:
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ModelDirWriter:
    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        self.staging = model_dir / STAGING_NAME

    def start(self) -> Path:
        """Forget any earlier run's manifest and staging; return the staging folder."""
        self.model_dir.mkdir(parents=True, exist_ok=True)
        (self.model_dir / MANIFEST_FILE).unlink(missing_ok=True)
        shutil.rmtree(self.staging, ignore_errors=True)
        self.staging.mkdir()
        return self.staging

    def publish(self, summary: dict[str, Any]) -> Path:
        """Move staged files into the model directory, then write the manifest last."""
        files: dict[str, dict[str, Any]] = {}
        for staged in sorted(self.staging.rglob("*")):
            if staged.is_file():
                relative = staged.relative_to(self.staging).as_posix()
                files[relative] = {"bytes": staged.stat().st_size, "sha256": _sha256(staged)}
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
