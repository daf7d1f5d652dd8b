"""Launch SageMaker training and tuning jobs of this image (boto3; `sagemaker_requests` says why).

Hyperparameters and tuning ranges are checked against the schema here, before anything is sent,
so a typo fails on the laptop with the message the job would have written to its failure file.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from ..contract.errors import ArgumentError, HyperparameterError, SmclusterError
from ..contract.hyperparameters import parse
from ..contract.schema import SCHEMA
from .sagemaker_requests import (
    NOTHING_TO_TUNE,
    TRAINING_NAME_MAX,
    TUNING_NAME_MAX,
    JobSpec,
    TuningSettings,
    as_grid,
    job_name,
    training_job_request,
    tuning_job_request,
    tuning_problems,
)

__all__ = [
    "JobSpec",
    "TuningSettings",
    "launch_training",
    "launch_tuning",
    "tuning_problems",
    "tuning_ranges",
]

SCALINGS = ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")


# A valid example per flag, for the Fix of a malformed one (--range: `range_example`).
EXAMPLES = {"--hp": "eps=auto", "--tag": "team=ml"}


def range_example(name: str) -> str:
    """`--range` for `name` as the schema's own range (a valid example); any tunable otherwise."""
    ranges = SCHEMA.tuning_ranges()
    name = name if name in ranges else "min_samples"
    entry = ranges[name]
    if entry["type"] == "Categorical":
        return f"{name}={','.join(str(v) for v in entry['values'][:2])}"
    return f"{name}={entry['min']}:{entry['max']}"


def parse_assignments(items: Iterable[str], flag: str) -> dict[str, str]:
    """`["eps=auto", "reducer=pca"]` → `{"eps": "auto", "reducer": "pca"}`. A malformed one is
    a HyperparameterError for --hp and --range, an ArgumentError for other flags (--tag)."""
    pairs: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            example = range_example(name.strip()) if flag == "--range" else EXAMPLES.get(flag)
            error = HyperparameterError if flag in ("--hp", "--range") else ArgumentError
            raise error(
                f"{flag} {item!r} is not of the form name=value.",
                f"write e.g. {flag} {example or 'name=value'}.",
            )
        pairs[name.strip()] = value.strip()
    return pairs


def static_hyperparameters(items: Iterable[str]) -> dict[str, str]:
    """The `--hp` values as the strings SageMaker passes on, validated with the job's own parser."""
    raw = parse_assignments(items, "--hp")
    parse(raw)  # raises the job's HyperparameterError for unknown names and bad values
    return raw


def _range_error(name: str, text: str, why: str) -> HyperparameterError:
    return HyperparameterError(
        f"--range {name}={text} is invalid: {why}",
        f"write e.g. --range {range_example(name)} (low:high[:Scaling] or a,b,c; "
        "`smcluster tuning-ranges` lists the schema's ranges).",
    )


def _values(name: str, text: str, param: Any) -> dict[str, Any]:
    values = [v.strip() for v in text.split(",") if v.strip()]
    if not values:
        raise _range_error(name, text, "give one or more values: name=a,b,c.")
    for value in values:
        try:
            param.read(value)
        except ValueError as exc:
            raise _range_error(name, text, f"{value!r}: {exc}.") from None
    return {"type": "Categorical", "values": values}


def _override(name: str, base: Mapping[str, Any], text: str) -> dict[str, Any]:
    param = SCHEMA[name]
    if base["type"] == "Categorical":
        return _values(name, text, param)
    if "," in text:  # values for a numeric name: a categorical range (what Grid runs over)
        return _values(name, text, param)
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise _range_error(name, text, "give low:high or low:high:Scaling.")
    try:
        low, high = (param.read(part.strip()) for part in parts[:2])
    except ValueError as exc:
        raise _range_error(name, text, f"{exc}.") from None
    scaling = parts[2].strip() if len(parts) == 3 else base["scaling"]
    if scaling not in SCALINGS:
        raise _range_error(name, text, f"scaling must be one of {', '.join(SCALINGS)}.")
    if low >= high:
        raise _range_error(name, text, "low must be below high.")
    if scaling == "Logarithmic" and low <= 0:
        raise _range_error(name, text, "Logarithmic scaling needs low > 0.")
    return {"type": base["type"], "min": low, "max": high, "scaling": scaling}


def _unknown_names(names: list[str], tunable: list[str], flag: str) -> HyperparameterError:
    """Every name without a schema range, each with its closest tunable name."""
    described = []
    for name in names:
        close = difflib.get_close_matches(name, tunable, n=1, cutoff=0.6)
        described.append(f"'{name}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
    return HyperparameterError(
        f"{flag} {', '.join(described)}: no tuning range in the schema.",
        f"tunable names: {', '.join(tunable)} (see `smcluster tuning-ranges`).",
    )


def tuning_ranges(
    overrides: Iterable[str] = (), only: Iterable[str] | None = None, fixed: Iterable[str] = ()
) -> dict[str, dict[str, Any]]:
    """The schema's tuning ranges, narrowed by `--range` and `--tune`, less the fixed `--hp` names.

    Without --tune a fixed name's range is left out. A name asked for by --tune or --range and
    also fixed is refused: SageMaker fails a job that gets a name both as a static value and as
    a range, and tune-local would run identical trials. Every problem is raised at once.
    """
    ranges = SCHEMA.tuning_ranges()
    fixed = set(fixed)
    selected = [n.strip() for n in only if n.strip()] if only is not None else list(ranges)
    asked = set(selected) if only is not None else set()
    problems: list[SmclusterError] = []
    unknown = [name for name in selected if name not in ranges]
    if unknown:
        problems.append(_unknown_names(unknown, list(ranges), "--tune"))
    bad_overrides = []
    for name, text in parse_assignments(overrides, "--range").items():
        if name not in ranges:
            bad_overrides.append(name)
            continue
        try:
            ranges[name] = _override(name, ranges[name], text)
        except HyperparameterError as exc:
            problems.append(exc)
        asked.add(name)
        if name not in selected:
            selected.append(name)
    if bad_overrides:
        problems.append(_unknown_names(bad_overrides, list(ranges), "--range"))
    both = sorted(asked & fixed)
    if both:
        problems.append(
            HyperparameterError(
                f"{', '.join(both)}: both tuned (--tune/--range) and fixed with --hp.",
                "drop the name from --tune/--range to keep the fixed value, or drop its --hp "
                "to tune it.",
            )
        )
    chosen = {name: ranges[name] for name in selected if name in ranges and name not in fixed}
    if not chosen and not problems:
        problems.append(
            HyperparameterError(
                f"{NOTHING_TO_TUNE}.",
                "name at least one tunable name in --tune that is not fixed with --hp.",
            )
        )
    if problems:
        raise HyperparameterError.combine(problems)
    return chosen


def grid_ranges(
    ranges: Mapping[str, Mapping[str, Any]], settings: TuningSettings
) -> Mapping[str, Mapping[str, Any]]:
    """The ranges as sent: with the Grid strategy, numeric ones become a few values each."""
    return as_grid(ranges) if settings.strategy == "Grid" else ranges


def client(region: str | None = None, profile: str | None = None) -> Any:
    """A boto3 SageMaker client on an explicit session (region and profile as given)."""
    import boto3

    return boto3.Session(region_name=region, profile_name=profile).client("sagemaker")


def launch_training(spec: JobSpec, sagemaker: Any, now: float | None = None) -> str:
    """Start one training job without waiting; returns its name."""
    name = job_name(spec.base_job_name, TRAINING_NAME_MAX, now)
    sagemaker.create_training_job(**training_job_request(spec, name))
    return name


def launch_tuning(
    spec: JobSpec,
    ranges: Mapping[str, Mapping[str, Any]],
    settings: TuningSettings,
    sagemaker: Any,
    now: float | None = None,
) -> str:
    """Start a hyperparameter tuning job over `ranges` without waiting; returns its name.
    With the Grid strategy, numeric ranges become a few values each (`as_grid`)."""
    ranges = grid_ranges(ranges, settings)
    name = job_name(spec.base_job_name, TUNING_NAME_MAX, now)
    sagemaker.create_hyper_parameter_tuning_job(**tuning_job_request(spec, ranges, settings, name))
    return name
