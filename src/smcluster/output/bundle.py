"""The model bundle in a model directory: `model.joblib`, readable only once `manifest.json` says
the job that wrote it completed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..contract.errors import ModelError

if TYPE_CHECKING:  # the model's imports are heavy; the job's model-directory writer needs none
    from ..pipeline.model import ClusterModel

BUNDLE_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
# 2: the model's classes moved into smcluster.pipeline (1 pickled smcluster.model.ClusterModel);
# 3: the preparation and outlier classes moved into the stage sub-packages (prepare/, refine/).
FORMAT_VERSION = 3


def save_model(model: ClusterModel, directory: Path) -> Path:
    import joblib

    path = directory / BUNDLE_FILE
    joblib.dump(model, path, compress=3)
    return path


def load_model(path: str | Path) -> ClusterModel:
    """Load a bundle from a model directory (or the `model.joblib` in it).

    Refuses a directory without `manifest.json`: that job did not finish.
    """
    import joblib

    from ..pipeline.model import ClusterModel

    path = Path(path)
    directory = path if path.is_dir() else path.parent
    if not (directory / MANIFEST_FILE).exists():
        raise ModelError(
            f"{directory} has no {MANIFEST_FILE}: the job that wrote it did not complete.",
            "use the model directory (or model.tar.gz contents) of a completed job.",
        )
    manifest = json.loads((directory / MANIFEST_FILE).read_text())
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{directory} holds bundle format {manifest.get('format_version')}, "
            f"this smcluster reads {FORMAT_VERSION}.",
            "load it with the smcluster version recorded in its manifest.",
        )
    model = joblib.load(directory / BUNDLE_FILE)
    if "umap" in sys.modules:  # the bundle holds a fitted UMAP: numba's cache, fast transform
        from ..backends.umap_transform import prepare_umap_learn

        prepare_umap_learn()
    if not isinstance(model, ClusterModel):
        raise ModelError(f"{directory / BUNDLE_FILE} is not a smcluster model.", "")
    return model
