"""Turn SageMaker's string-valued `hyperparameters.json` into a validated `Hyperparameters`."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from pathlib import Path

from .errors import HyperparameterError
from .kinds import quoted
from .output_columns import id_column_clash
from .schema import SCHEMA, Hyperparameters, Schema, is_reserved


def _unknown_message(name: str, schema: Schema) -> HyperparameterError:
    close = difflib.get_close_matches(name, schema.names(), n=1, cutoff=0.6)
    hint = f"Did you mean '{close[0]}'?" if close else ""
    return HyperparameterError(
        f"unknown hyperparameter '{name}'. {hint}".strip(),
        "remove it or use one of the names listed by `smcluster hyperparameters`.",
    )


def parse(raw: Mapping[str, object], schema: Schema = SCHEMA) -> Hyperparameters:
    """Validate raw values; unknown names are errors, reserved `sagemaker_*`/`_*` keys ignored.

    Every unknown name and every invalid value is reported at once, so that one failed job
    names all there is to fix.
    """
    values: dict[str, object] = {}
    problems: list[HyperparameterError] = []
    for name, raw_value in raw.items():
        if is_reserved(name):
            continue
        if name not in schema:
            problems.append(_unknown_message(name, schema))
            continue
        try:
            values[name] = schema[name].read(raw_value)
        except ValueError as exc:
            problems.append(
                HyperparameterError(
                    f"hyperparameter '{name}' = {quoted(raw_value)} is invalid: {exc}.",
                    f"{name} allows {schema[name].kind.allowed()}.",
                )
            )
    clash = id_column_clash(str(values.get("id_column", "")))
    if clash is not None:
        problems.append(clash)
    if problems:
        raise HyperparameterError.combine(problems)
    return Hyperparameters(**values, given=frozenset(values))  # type: ignore[arg-type]


def read(path: Path) -> Hyperparameters:
    """Read `hyperparameters.json`; a missing file means all defaults (SageMaker writes `{}`
    when a job has none, so an empty file is a broken upload, not "no hyperparameters")."""
    if not path.exists():
        return parse({})
    if path.is_dir():
        raise HyperparameterError(f"{path} is a folder.", "make it a JSON file ({} for defaults).")
    text = path.read_text(encoding="utf-8-sig", errors="replace")  # a BOM from Windows editors
    if not text.strip():
        raise HyperparameterError(
            f"{path} is empty.",
            'write a JSON object such as {"eps": "auto"} ({} for all defaults), or remove the '
            "file.",
        )
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise HyperparameterError(
            f"{path} is not valid JSON ({exc}).",
            "write a JSON object of string keys to string values.",
        ) from None
    if not isinstance(raw, dict):
        raise HyperparameterError(
            f"{path} holds a {type(raw).__name__}, not a JSON object.",
            'write an object such as {"eps": "auto"}.',
        )
    return parse(raw)
