"""Hyperparameters as SageMaker and its SDKs encode them, parsed against the one schema."""

from __future__ import annotations

import json

import pytest

from smcluster.contract.errors import HyperparameterError
from smcluster.contract.hyperparameters import parse, read
from smcluster.contract.schema import SCHEMA


def test_defaults_fill_every_schema_name() -> None:
    hp = parse({})
    assert set(hp.to_json()) == set(SCHEMA.names())
    assert hp.eps is None and hp.min_samples is None  # auto
    assert hp.reducer == "auto" and hp.log_transform == "auto"
    assert hp.given == frozenset()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10", 10),  # SDK v2 generic: str(10)
        ("10.0", 10),  # a float that is whole
        ('"10"', 10),  # json.dumps of a string
    ],
)
def test_integer_encodings(raw: str, expected: int) -> None:
    assert parse({"min_samples": raw}).min_samples == expected


@pytest.mark.parametrize("raw", ["true", "True", '"true"', "1", "yes"])
def test_boolean_encodings_are_true(raw: str) -> None:
    from smcluster.contract.kinds import Boolean

    assert Boolean().parse(Boolean().decode(raw)) is True


@pytest.mark.parametrize("raw", ["false", "False", '"false"', "0", "no"])
def test_boolean_encodings_are_false(raw: str) -> None:
    from smcluster.contract.kinds import Boolean

    assert Boolean().parse(Boolean().decode(raw)) is False


@pytest.mark.parametrize(
    "raw",
    [
        '["a", "b"]',  # JSON (SDK v3, framework estimators)
        "['a', 'b']",  # str(list) (SDK v2 generic Estimator)
        "a,b",
        " a , b ",
    ],
)
def test_feature_list_encodings(raw: str) -> None:
    assert parse({"features": raw}).features == ("a", "b")


def test_string_encodings() -> None:
    assert parse({"metric": '"cosine"'}).metric == "cosine"
    assert parse({"metric": "cosine"}).metric == "cosine"
    assert parse({"scaling": "Robust"}).scaling == "robust"


def test_eps_auto_or_number() -> None:
    assert parse({"eps": "auto"}).eps is None
    assert parse({"eps": '"auto"'}).eps is None
    assert parse({"eps": "0.25"}).eps == 0.25


def test_reserved_keys_are_ignored() -> None:
    hp = parse(
        {
            "_tuning_objective_metric": "train:silhouette",
            "sagemaker_program": '"train.py"',
            "sagemaker_container_log_level": "20",
            "sagemaker_job_name": '"job"',
        }
    )
    assert hp.given == frozenset()


def test_unknown_name_suggests_closest() -> None:
    with pytest.raises(HyperparameterError) as info:
        parse({"min_sample": "5"})
    assert "unknown hyperparameter 'min_sample'" in info.value.reason()
    assert "Did you mean 'min_samples'?" in info.value.reason()


@pytest.mark.parametrize(
    ("name", "raw", "fragment"),
    [
        ("min_samples", "1", "outside [2, 10000]"),
        ("min_samples", "2.5", "not a whole number"),
        ("min_dist", "1.5", "outside [0, 1]"),
        ("eps", "-1", "greater than 0"),
        ("eps", "nan", "not a finite number"),
        ("reducer", "lda", "not one of"),
        ("missing", "true", "not one of"),
        ("features", '["a", "a"]', "listed twice"),
        ("random_state", "true", "boolean, not a number"),
    ],
)
def test_invalid_values_say_what_is_allowed(name: str, raw: str, fragment: str) -> None:
    with pytest.raises(HyperparameterError) as info:
        parse({name: raw})
    reason = info.value.reason()
    assert reason.startswith(f"HyperparameterError: hyperparameter '{name}'")
    assert fragment in reason
    assert f"Fix: {name} allows" in reason


def test_read_missing_file_means_defaults(tmp_path) -> None:
    assert read(tmp_path / "absent.json").min_samples == SCHEMA["min_samples"].default


def test_read_rejects_non_object(tmp_path) -> None:
    path = tmp_path / "hyperparameters.json"
    path.write_text(json.dumps(["eps", "0.5"]))
    with pytest.raises(HyperparameterError, match="not a JSON object"):
        read(path)


def test_schema_defaults_pass_their_own_validation() -> None:
    for param in SCHEMA:
        if param.default is not None:
            assert param.parse(param.default) == param.default, param.name


def test_tuning_ranges_lie_inside_allowed_values() -> None:
    for name, spec in SCHEMA.tuning_ranges().items():
        param = SCHEMA[name]
        if spec["type"] == "Categorical":
            for value in spec["values"]:
                param.parse(value)
        else:
            param.parse(spec["min"])
            param.parse(spec["max"])


def test_each_declared_type_is_what_its_kind_parses_to() -> None:
    """The schema is the dataclass: mypy's view of each field must match its value kind."""
    from typing import get_type_hints

    from smcluster.contract import kinds
    from smcluster.contract.schema import Hyperparameters

    expected = {
        kinds.Integer: int,
        kinds.IntegerOrAuto: int | None,
        kinds.Real: float,
        kinds.Boolean: bool,
        kinds.Choice: str,
        kinds.Text: str,
        kinds.RealOrAuto: float | None,
        kinds.NameList: tuple[str, ...] | None,
    }
    hints = get_type_hints(Hyperparameters)
    for param in SCHEMA:
        assert hints[param.name] == expected[type(param.kind)], param.name
        if param.default is not None and not isinstance(param.kind, kinds.NameList):
            assert param.parse(param.default) == param.default, param.name


def test_hyperparameters_are_frozen_and_replace_checks_names() -> None:
    import dataclasses

    hp = parse({"min_samples": "7"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        hp.min_samples = 8  # type: ignore[misc]
    assert hp.replace(reducer="pca").reducer == "pca"
    assert hp.replace(reducer="pca").given == frozenset({"min_samples"})
    with pytest.raises(TypeError):
        hp.replace(min_sample=3)


@pytest.mark.parametrize("raw", ["true", "null", "5", "1e3", '"true"'])
def test_text_values_keep_their_words(raw: str) -> None:
    # A column named `true` or an experiment named `null` is text, not JSON's true or null.
    expected = "true" if raw == '"true"' else raw
    hp = parse({"id_column": raw, "experiment_name": raw, "features": raw})
    assert (hp.id_column, hp.experiment_name, hp.features) == (expected, expected, (expected,))


def test_every_unknown_name_and_bad_value_is_reported_at_once() -> None:
    with pytest.raises(HyperparameterError) as info:
        parse({"min_sample": "5", "epss": "1", "eps": "-1", "reducer": "lda"})
    reason = info.value.reason()
    assert reason.startswith("HyperparameterError: 4 problems: (1) unknown hyperparameter")
    for fragment in ("'min_sample'. Did you mean 'min_samples'?", "'epss'", "'eps' = '-1'", "lda"):
        assert fragment in reason
    assert "(4) reducer allows" in reason


def test_an_empty_hyperparameters_file_is_an_error_not_defaults(tmp_path) -> None:
    path = tmp_path / "hyperparameters.json"
    path.write_text("")
    with pytest.raises(HyperparameterError, match="is empty"):
        read(path)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("0.4", "outside [0.5, 1]"),
        ("1.01", "outside [0.5, 1]"),
        ("nan", "not a finite number"),
        ("true", "boolean, not a number"),
        ("often", "not a number"),
    ],
)
def test_max_mode_share_problems_are_reported_by_the_schema(raw: str, fragment: str) -> None:
    with pytest.raises(HyperparameterError) as info:
        parse({"max_mode_share": raw})
    reason = info.value.reason()
    assert reason.startswith("HyperparameterError: hyperparameter 'max_mode_share'")
    assert fragment in reason
    assert "Fix: max_mode_share allows [0.5, 1]" in reason


@pytest.mark.parametrize(("raw", "value"), [("0.5", 0.5), ("0.99", 0.99), ("1", 1.0)])
def test_max_mode_share_accepts_its_range(raw: str, value: float) -> None:
    assert parse({"max_mode_share": raw}).max_mode_share == value
