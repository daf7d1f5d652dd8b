"""Value kinds: how one hyperparameter's string becomes a typed, validated value.

Each kind decodes SageMaker's string (`decode`), parses it, raises `ValueError` with a short
reason when it is not allowed, and describes what it allows for the README table.
`TuningRange` is a SageMaker tuning range a parameter suggests.
"""

from __future__ import annotations

import ast
import json
import math
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

T = TypeVar("T")

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


QUOTED_CHARS = 80  # how much of a bad value a reason repeats


def quoted(value: object) -> str:
    """`repr(value)`, cut to its start and its length when long (a reason must not drown)."""
    text = repr(value)
    if len(text) <= QUOTED_CHARS:
        return text
    return f"{text[:QUOTED_CHARS]}... ({len(text):,} characters)"


def decode_json(raw: object) -> object:
    """Undo the SDKs' encodings: JSON (`"\\"euclidean\\""`, `"true"`, `"5"`) else the raw string.

    SDK v2's generic Estimator sends `str(value)`, SDK v2 framework estimators `json.dumps(value)`
    and SDK v3 raw strings; JSON-decoding with a raw fallback reads all three the same way.
    """
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except (ValueError, TypeError, RecursionError):  # RecursionError: `[[[[...]]]]`
        return raw


def decode_text(raw: object) -> object:
    """Text stays text: only a JSON string literal (`"\\"name\\""`, SDK v2 frameworks) is
    unquoted, so a column named `true`, `null` or `5` keeps its name."""
    if isinstance(raw, str) and len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            return raw
    return raw


class ValueKind(Generic[T]):
    """How a raw value becomes a typed one; `type_name` is what the README table shows."""

    type_name: ClassVar[str] = "str"

    def decode(self, raw: object) -> object:
        """SageMaker's string as the value the SDK meant (numbers, booleans: JSON)."""
        return decode_json(raw)

    def parse(self, value: object) -> T:
        raise NotImplementedError

    def allowed(self) -> str:
        return "any"


@dataclass(frozen=True)
class Text(ValueKind[str]):
    meaning: str = "a column name, or empty for none"
    type_name: ClassVar[str] = "str"

    def decode(self, raw: object) -> object:
        return decode_text(raw)

    def parse(self, value: object) -> str:
        if isinstance(value, (dict, list)):
            raise ValueError(f"expected a single name, got {quoted(value)}")
        return "" if value is None else str(value).strip()

    def allowed(self) -> str:
        return self.meaning


@dataclass(frozen=True)
class Choice(ValueKind[str]):
    values: tuple[str, ...]
    type_name: ClassVar[str] = "str"

    def parse(self, value: object) -> str:
        text = str(value).strip().lower()
        if text not in self.values:
            # `text`, not `value`: JSON decoding made "false" a bool, the user wrote `false`.
            raise ValueError(f"'{text}' is not one of {', '.join(self.values)}")
        return text

    def allowed(self) -> str:
        return ", ".join(f"`{v}`" for v in self.values)


@dataclass(frozen=True)
class Boolean(ValueKind[bool]):
    type_name: ClassVar[str] = "bool"

    def parse(self, value: object) -> bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"{quoted(value)} is not a boolean (use true or false)")

    def allowed(self) -> str:
        return "`true`, `false`"


def _number(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{quoted(value)} is a boolean, not a number")
    if not isinstance(value, (int, float, str)):
        raise ValueError(f"{quoted(value)} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{quoted(value)} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{quoted(value)} is not a finite number")
    return number


def _range_text(low: float | None, high: float | None, low_open: bool = False) -> str:
    left = "(" if low_open else "["
    low_text = "-inf" if low is None else f"{low:g}"
    high_text = "inf" if high is None else f"{high:g}"
    return f"{left}{low_text}, {high_text}]"


@dataclass(frozen=True)
class Integer(ValueKind[int]):
    low: int | None = None
    high: int | None = None
    type_name: ClassVar[str] = "int"

    def parse(self, value: object) -> int:
        number = _number(value)
        if not number.is_integer():
            raise ValueError(f"{quoted(value)} is not a whole number")
        integer = int(number)
        if (self.low is not None and integer < self.low) or (
            self.high is not None and integer > self.high
        ):
            raise ValueError(f"{integer} is outside {self.allowed()}")
        return integer

    def allowed(self) -> str:
        return _range_text(self.low, self.high)


@dataclass(frozen=True)
class Real(ValueKind[float]):
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    type_name: ClassVar[str] = "float"

    def parse(self, value: object) -> float:
        number = _number(value)
        too_low = self.low is not None and (
            number <= self.low if self.low_open else number < self.low
        )
        if too_low or (self.high is not None and number > self.high):
            raise ValueError(f"{number:g} is outside {self.allowed()}")
        return number

    def allowed(self) -> str:
        return _range_text(self.low, self.high, self.low_open)


@dataclass(frozen=True)
class RealOrAuto(ValueKind["float | None"]):
    """A positive number, or the word `auto` (returned as None)."""

    type_name: ClassVar[str] = "float|auto"

    def parse(self, value: object) -> float | None:
        if isinstance(value, str) and value.strip().lower() == "auto":
            return None
        number = _number(value)
        if number <= 0:
            raise ValueError(f"{number:g} must be greater than 0, or `auto`")
        return number

    def allowed(self) -> str:
        return "`auto` or a number > 0"


@dataclass(frozen=True)
class IntegerOrAuto(ValueKind["int | None"]):
    """A whole number in a range, or the word `auto` (returned as None)."""

    low: int
    high: int
    type_name: ClassVar[str] = "int|auto"

    def parse(self, value: object) -> int | None:
        if isinstance(value, str) and value.strip().lower() == "auto":
            return None
        return Integer(self.low, self.high).parse(value)

    def allowed(self) -> str:
        return f"`auto` or {_range_text(self.low, self.high)}"


@dataclass(frozen=True)
class NameList(ValueKind["tuple[str, ...] | None"]):
    """Column names: a JSON list, a Python list repr (SDK v2 `str(list)`), or `a,b,c`.

    The word `all` (or an empty value) means every usable column and is returned as None.
    """

    type_name: ClassVar[str] = "list[str]|all"

    def decode(self, raw: object) -> object:
        return decode_text(raw)  # `parse` reads list syntax itself; a bare `true` is a name

    def parse(self, value: object) -> tuple[str, ...] | None:
        if isinstance(value, str):
            text = value.strip()
            if text.lower() in {"", "all", "none"}:
                return None
            if text.startswith("["):
                try:
                    value = ast.literal_eval(text)
                except (ValueError, SyntaxError):
                    raise ValueError(f"{quoted(text)} is not a valid list") from None
            else:
                value = [part.strip() for part in text.split(",")]
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{quoted(value)} is not a list of column names")
        names = tuple(str(item).strip() for item in value if str(item).strip())
        if not names:
            return None
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"columns listed twice: {', '.join(duplicates)}")
        return names

    def allowed(self) -> str:
        return '`all`, or a list such as `["a", "b"]` or `a,b`'


@dataclass(frozen=True)
class TuningRange:
    """A SageMaker tuning range: `Continuous`, `Integer` or `Categorical`."""

    kind: str
    low: float | None = None
    high: float | None = None
    values: tuple[str, ...] = ()
    scaling: str = "Auto"
