"""Turn SageMaker's string-valued `hyperparameters.json` into a validated `Hyperparameters`."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from pathlib import Path

from .errors import HyperparameterError
from .schema import SCHEMA, Hyperparameters, Schema, is_reserved


def decode(raw: object) -> object:
    """Undo the SDKs' encodings: JSON (`"\\"euclidean\\""`, `"true"`, `"5"`) else the raw string.

    SDK v2's generic Estimator sends `str(value)`, SDK v2 framework estimators `json.dumps(value)`
    and SDK v3 raw strings; JSON-decoding with a raw fallback reads all three the same way.
    """
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except (ValueError, TypeError):
        return raw


def _unknown_message(name: str, schema: Schema) -> HyperparameterError:
    close = difflib.get_close_matches(name, schema.names(), n=1, cutoff=0.6)
    hint = f"Did you mean '{close[0]}'?" if close else ""
    return HyperparameterError(
        f"unknown hyperparameter '{name}'. {hint}".strip(),
        "remove it or use one of the names listed by `smcluster hyperparameters`.",
    )


def parse(raw: Mapping[str, object], schema: Schema = SCHEMA) -> Hyperparameters:
    """Validate raw values; unknown names are errors, reserved `sagemaker_*`/`_*` keys ignored."""
    values: dict[str, object] = {}
    for name, raw_value in raw.items():
        if is_reserved(name):
            continue
        if name not in schema:
            raise _unknown_message(name, schema)
        try:
            values[name] = schema[name].parse(decode(raw_value))
        except ValueError as exc:
            raise HyperparameterError(
                f"hyperparameter '{name}' = {raw_value!r} is invalid: {exc}.",
                f"allowed values: {schema[name].kind.allowed()}.",
            ) from None
    return Hyperparameters(**values, given=frozenset(values))  # type: ignore[arg-type]


def read(path: Path) -> Hyperparameters:
    """Read `hyperparameters.json`; a missing file means all defaults."""
    if not path.exists():
        return parse({})
    try:
        raw = json.loads(path.read_text() or "{}")
    except ValueError as exc:
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
