"""Turn SageMaker's string-valued `hyperparameters.json` into validated, typed values."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .errors import HyperparameterError
from .schema import SCHEMA, Schema, is_reserved, to_json_safe


def decode(raw: Any) -> Any:
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


class Hyperparameters(Mapping[str, Any]):
    """Resolved hyperparameters: every schema name, typed, defaults filled in."""

    def __init__(self, values: Mapping[str, Any], given: frozenset[str] = frozenset()) -> None:
        self._values = dict(values)
        self.given = given

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def replace(self, **changes: Any) -> Hyperparameters:
        return Hyperparameters({**self._values, **changes}, self.given)

    def to_json(self) -> dict[str, Any]:
        return {name: to_json_safe(value) for name, value in self._values.items()}


def _unknown_message(name: str, schema: Schema) -> HyperparameterError:
    close = difflib.get_close_matches(name, schema.names(), n=1, cutoff=0.6)
    hint = f"Did you mean '{close[0]}'?" if close else ""
    return HyperparameterError(
        f"unknown hyperparameter '{name}'. {hint}".strip(),
        "remove it or use one of the names listed by `smcluster hyperparameters`.",
    )


def parse(raw: Mapping[str, Any], schema: Schema = SCHEMA) -> Hyperparameters:
    """Validate raw values; unknown names are errors, reserved `sagemaker_*`/`_*` keys ignored."""
    values = schema.defaults()
    given: set[str] = set()
    for name, raw_value in raw.items():
        if is_reserved(name):
            continue
        if name not in schema.by_name:
            raise _unknown_message(name, schema)
        try:
            values[name] = schema[name].parse(decode(raw_value))
        except ValueError as exc:
            raise HyperparameterError(
                f"hyperparameter '{name}' = {raw_value!r} is invalid: {exc}.",
                f"allowed values: {schema[name].kind.allowed()}.",
            ) from None
        given.add(name)
    return Hyperparameters(values, frozenset(given))


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
