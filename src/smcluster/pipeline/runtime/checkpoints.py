"""Stage checkpoints, so that a managed spot job restarted after an interruption resumes.

SageMaker syncs `/opt/ml/checkpoints` to the job's checkpoint S3 location while it runs and
restores it when a spot job restarts. When that folder exists, each expensive stage's result
(the fitted reducer with the embedding; the clustering with its eps choice and labels) is
written there as soon as the stage ends, each file atomically (a temporary name, then a rename)
and listed in `smcluster-checkpoints.json` after it. A restarted job reloads the stages the
manifest lists and skips them.

A checkpoint is used only by a run of the same work: the manifest's key is a hash of the resolved
hyperparameters, the train channel's content hash, the backend with its library versions and
smcluster's version. Anything else (another data set, other hyperparameters, another image) is
ignored with a log line and overwritten as the run goes. Loading and preparing the table are
not checkpointed: they are deterministic and take seconds per million rows, while writing the
prepared matrix would copy it to S3 in every job.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MANIFEST = "smcluster-checkpoints.json"
FORMAT = 1
# Backend facts that change from run to run on the same machine: not part of the key.
VOLATILE_FACTS = ("device_free_gib",)


def stable_facts(facts: dict[str, str]) -> dict[str, str]:
    """The backend's description without what varies between runs of the same work."""
    return {k: v for k, v in facts.items() if k not in VOLATILE_FACTS}


class Checkpoints:
    """The checkpoint folder of one job, or none (every call then does nothing)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.key = ""
        self.finished: dict[str, str] = {}  # stage -> file name, for this key
        self.resumed: list[str] = []

    @property
    def enabled(self) -> bool:
        return self.folder is not None

    def bind(self, work: dict[str, Any]) -> None:
        """Key the checkpoints to `work` (what the stages' results depend on) and read which
        stages an earlier run of the same work finished."""
        if self.folder is None:
            return
        text = json.dumps(work, sort_keys=True, default=str)
        self.key = hashlib.sha256(text.encode()).hexdigest()
        manifest = self.folder / MANIFEST
        if not manifest.exists():
            log.info("checkpoints: on, in %s (none there yet)", self.folder)
            return
        try:
            found = json.loads(manifest.read_text())
        except (OSError, ValueError) as exc:
            log.warning("checkpoints: %s is unreadable (%s); ignored", manifest, exc)
            return
        if found.get("format") != FORMAT or found.get("key") != self.key:
            log.warning(
                "checkpoints in %s are from another run (other data, hyperparameters, image or "
                "smcluster version); ignored, and replaced as this run goes",
                self.folder,
            )
            return
        self.finished = dict(found.get("stages", {}))
        log.info(
            "checkpoints: an earlier run of this job finished %s; resuming after them",
            ", ".join(self.finished) or "no stage",
        )

    def load(self, stage: str) -> Any | None:
        """The stage's result from an earlier run of the same work, or None."""
        if self.folder is None or stage not in self.finished:
            return None
        import joblib

        path = self.folder / self.finished[stage]
        try:
            value = joblib.load(path)
        except Exception as exc:  # a damaged or partial file: the stage runs again
            log.warning(
                "checkpoints: %s could not be read (%s); stage %s runs again", path, exc, stage
            )
            self.finished = {s: f for s, f in self.finished.items() if s != stage}
            return None
        self.resumed.append(stage)
        log.info("stage %s: resumed from checkpoint %s", stage, path.name)
        return value

    def save(self, stage: str, value: Any) -> None:
        """Write the stage's result, then list it in the manifest (both atomically)."""
        if self.folder is None:
            return
        import joblib

        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{stage}.joblib"
        partial = self.folder / f".{name}.partial"
        joblib.dump(value, partial)
        os.replace(partial, self.folder / name)
        self.finished[stage] = name
        manifest = {"format": FORMAT, "key": self.key, "stages": self.finished}
        partial_manifest = self.folder / f".{MANIFEST}.partial"
        partial_manifest.write_text(json.dumps(manifest, indent=2) + "\n")
        os.replace(partial_manifest, self.folder / MANIFEST)
        log.info("checkpoint: stage %s written to %s", stage, self.folder / name)
