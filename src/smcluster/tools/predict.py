"""`smcluster predict`: new rows assigned to a completed job's clusters, with `train`'s care.

The model directory is checked before it is unpickled (complete, same bundle format, the bundle's
SHA-256 as the manifest recorded it); the rows are read (`predict_rows`) through the same checks
as a channel's files (header, delimiter, UTF-8, field counts) and their feature columns must hold
numbers; missing values follow the training job's `missing`, their count printed on stderr.
"""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

from ..contract.errors import ArgumentError, DataError, ModelError
from ..contract.output_columns import CLUSTER
from ..output.atomic import check_output
from ..output.bundle import BUNDLE_FILE, MANIFEST_FILE, load_model
from ..output.model_dir import file_sha256
from ..pipeline.model import ClusterModel
from ..pipeline.prepare import preparation
from .predict_rows import check_feature_types, read_rows, write_rows


def model_directory(given: str) -> Path:
    """The model directory `--model` names: the folder, the `model.joblib` in it, or the job's
    `model.tar.gz` as SageMaker uploads it."""
    path = Path(given)
    if not path.exists():
        raise ModelError(
            f"--model {given}: no such file or folder.",
            "pass the model directory of a completed job (the unpacked model.tar.gz, or "
            "/opt/ml/model of a local run).",
        )
    if path.is_file() and path.name.endswith((".tar.gz", ".tgz")):
        return unpack_archive(path)
    if path.is_file():
        if path.name != BUNDLE_FILE:
            raise ModelError(
                f"--model {given} is a file, not a model directory.",
                f"pass the folder that holds {MANIFEST_FILE} and {BUNDLE_FILE}.",
            )
        path = path.parent
    return path


def unpack_archive(archive: Path) -> Path:
    """SageMaker's `model.tar.gz`, unpacked into a temporary folder (removed at exit)."""
    target = Path(tempfile.mkdtemp(prefix="smcluster-model-"))
    atexit.register(shutil.rmtree, target, True)
    try:
        with tarfile.open(archive, "r:gz") as bundle:
            bundle.extractall(target, filter="data")  # no links or paths out of the folder
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ModelError(
            f"--model {archive} is not a readable model.tar.gz ({exc}).",
            "download model.tar.gz again from the job's S3 output path.",
        ) from None
    return _model_root(target, archive)


def _model_root(unpacked: Path, archive: Path) -> Path:
    """Where the manifest lies: at the top (as SageMaker packs `/opt/ml/model`), or in the one
    folder at the top (`tar czf model.tar.gz model/`, as a user may repack it)."""
    if (unpacked / MANIFEST_FILE).exists():
        return unpacked
    entries = list(unpacked.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and (entries[0] / MANIFEST_FILE).exists():
        return entries[0]
    names = ", ".join(sorted(e.name for e in entries)[:10]) or "nothing"
    raise ModelError(
        f"--model {archive} holds no {MANIFEST_FILE} at its top or in a single folder there "
        f"(it holds: {names}): it is not the model.tar.gz of a completed smcluster job.",
        "pass the model.tar.gz from the job's S3 output path (`<output path>/<job>/output/"
        "model.tar.gz`), or the unpacked model directory.",
    )


def check_bundle(directory: Path) -> None:
    """The manifest must exist, parse and vouch for the bundle's bytes."""
    manifest_path = directory / MANIFEST_FILE
    if not manifest_path.exists():
        failure = directory.parent / "output" / "failure"
        hint = f" ({failure} says why)" if failure.exists() else ""
        raise ModelError(
            f"{directory} is not a completed model directory: it has no {MANIFEST_FILE}, so the "
            f"job that wrote it did not finish{hint}.",
            "use the model directory (or model.tar.gz contents) of a completed job.",
        )
    try:
        manifest = json.loads(manifest_path.read_text())
        recorded = manifest["files"][BUNDLE_FILE]["sha256"]
    except (ValueError, KeyError, TypeError):
        raise ModelError(
            f"{manifest_path} is damaged or does not list {BUNDLE_FILE}.",
            "unpack model.tar.gz again from S3, or rerun the training job.",
        ) from None
    bundle = directory / BUNDLE_FILE
    if not bundle.exists() or file_sha256(bundle) != recorded:
        state = "is missing" if not bundle.exists() else "does not match its manifest's SHA-256"
        raise ModelError(
            f"{bundle} {state}: the model directory is incomplete or was changed after the job.",
            "unpack model.tar.gz again from S3, or rerun the training job.",
        )


def load_checked(given: str) -> ClusterModel:
    directory = model_directory(given)
    check_bundle(directory)
    try:
        return load_model(directory)
    except (ModelError, DataError):
        raise
    except Exception as exc:  # unpickling: another smcluster or library version
        raise ModelError(
            f"cannot load {directory / BUNDLE_FILE}: {type(exc).__name__}: {exc}.",
            "load it with the smcluster version (and image) recorded in its manifest.",
        ) from None


def show_missing_count() -> None:
    """The count of missing values the model's `missing` applied to, on stderr as `train` logs
    it (the rows may go to stdout)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(preparation.__name__)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _refuse_overwriting(output: Path, model: Path, given_input: str) -> None:
    """`--output` must not replace what this command reads: the model's own files (the
    next predict would find the bundle altered) or the rows being assigned."""
    target = output.resolve()
    model_root = model.resolve()
    inside_model = model_root.is_dir() and (target == model_root or model_root in target.parents)
    same_input = given_input != "-" and target == Path(given_input).resolve()
    if inside_model or target == model_root or same_input:
        what = (
            f"overwrite the --input file {given_input}"
            if same_input
            else (f"write into the model {model}")
        )
        raise ArgumentError(
            f"--output {output} would {what}, which this command reads.",
            "write the assigned rows to another file, outside the model directory.",
        )


def predict(args: argparse.Namespace) -> int:
    if args.output:
        check_output(Path(args.output), "--output")  # before the model is loaded and run
        _refuse_overwriting(Path(args.output), Path(args.model), args.input)
    show_missing_count()
    model = load_checked(args.model)
    frame = read_rows(args.input, str(model.info.get("id_column") or ""))
    check_feature_types(frame, model.features, args.input)
    labels = model.predict(frame)
    write_rows(frame.assign(**{CLUSTER: labels}), args.output)
    return 0
