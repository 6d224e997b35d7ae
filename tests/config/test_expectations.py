"""``prodml.config.expectations``: the expectation rules of ``product.yaml`` validated directly:
the ``rule`` discriminator, each rule's own checks, actions per level, and derived labels."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from prodml.config.expectations import (
    ROW_ACTIONS,
    TABLE_ACTIONS,
    AllowedValues,
    Anomaly,
    Expectation,
    Expression,
    Freshness,
    NotNull,
    Pattern,
    Range,
    Referential,
    RowCount,
    SchemaRule,
    Unique,
)
from prodml.config.platform import AtKey

RULE: TypeAdapter[Any] = TypeAdapter(Expectation)


def rule_error(data: dict[str, Any]) -> dict[str, Any]:
    """The first validation error of ``data`` as an expectation."""
    with pytest.raises(ValidationError) as info:
        RULE.validate_python(data)
    return dict(info.value.errors()[0])


@pytest.mark.parametrize(
    ("data", "cls"),
    [
        ({"rule": "not_null", "column": "id"}, NotNull),
        ({"rule": "unique", "columns": ["id"]}, Unique),
        ({"rule": "range", "column": "x", "min": 0}, Range),
        ({"rule": "allowed_values", "column": "c", "values": ["a", 1, 2.5, True]}, AllowedValues),
        ({"rule": "pattern", "column": "e", "regex": r"[^@]+@[^@]+"}, Pattern),
        ({"rule": "referential", "column": "cid", "table": "silver.customers"}, Referential),
        ({"rule": "expression", "sql": "amount >= 0"}, Expression),
        ({"rule": "row_count", "min": 1}, RowCount),
        ({"rule": "freshness", "column": "ts", "max_age_hours": 24}, Freshness),
        ({"rule": "schema", "columns": {"id": "integer"}}, SchemaRule),
        ({"rule": "anomaly", "metric": "row_count"}, Anomaly),
    ],
)
def test_rule_key_picks_the_model(data: dict[str, Any], cls: type) -> None:
    parsed = RULE.validate_python(data)
    assert type(parsed) is cls
    assert parsed.action == "warn"  # the default action


def test_unknown_rule_lists_the_rules() -> None:
    error = rule_error({"rule": "not_empty", "column": "x"})
    assert error["type"] == "union_tag_invalid"
    assert "'not_empty'" in error["msg"] and "'not_null'" in error["msg"]


def test_unknown_key_inside_a_rule_fails() -> None:
    error = rule_error({"rule": "not_null", "column": "x", "colum": "y"})
    assert error["type"] == "extra_forbidden" and error["loc"] == ("not_null", "colum")


def test_unknown_action_fails() -> None:
    error = rule_error({"rule": "not_null", "column": "x", "action": "ignore"})
    assert error["loc"] == ("not_null", "action") and error["type"] == "literal_error"


@pytest.mark.parametrize("action", ROW_ACTIONS)
def test_row_rules_take_every_action(action: str) -> None:
    parsed = RULE.validate_python({"rule": "unique", "columns": ["id"], "action": action})
    assert parsed.action == action and parsed.table_level is False


@pytest.mark.parametrize("action", TABLE_ACTIONS)
def test_table_rules_take_warn_and_fail(action: str) -> None:
    parsed = RULE.validate_python({"rule": "row_count", "min": 1, "action": action})
    assert parsed.action == action and parsed.table_level is True


@pytest.mark.parametrize(
    "data",
    [
        {"rule": "row_count", "min": 1},
        {"rule": "freshness", "column": "ts", "max_age_hours": 1},
        {"rule": "schema", "columns": {"id": "integer"}},
        {"rule": "anomaly", "metric": "row_count"},
    ],
)
@pytest.mark.parametrize("action", ["drop", "quarantine"])
def test_table_rules_refuse_row_actions_at_the_action_key(
    data: dict[str, Any], action: str
) -> None:
    error = rule_error({**data, "action": action})
    keyed = error["ctx"]["error"]
    assert isinstance(keyed, AtKey) and keyed.path == ("action",)
    assert str(keyed) == (
        f"a {data['rule']} rule judges the whole table: action must be warn or fail, not {action}"
    )


def test_range_needs_a_bound() -> None:
    keyed = rule_error({"rule": "range", "column": "x"})["ctx"]["error"]
    assert keyed.path == ("min",) and str(keyed) == "a range needs min, max or both"


def test_range_min_above_max_names_both() -> None:
    keyed = rule_error({"rule": "range", "column": "x", "min": 5, "max": 1})["ctx"]["error"]
    assert keyed.path == ("min",) and str(keyed) == "min 5.0 is above max 1.0"


def test_range_with_equal_bounds_or_one_bound_is_fine() -> None:
    assert RULE.validate_python({"rule": "range", "column": "x", "min": 2, "max": 2}).max == 2
    assert RULE.validate_python({"rule": "range", "column": "x", "max": 0}).min is None


def test_pattern_must_compile() -> None:
    error = rule_error({"rule": "pattern", "column": "x", "regex": "([a-z]"})
    assert error["loc"] == ("pattern", "regex")
    assert "invalid regular expression: missing )" in error["msg"]


def test_pattern_must_not_be_empty() -> None:
    assert rule_error({"rule": "pattern", "column": "x", "regex": ""})["type"] == "string_too_short"


def test_expression_is_a_single_expression() -> None:
    error = rule_error({"rule": "expression", "sql": "amount > 0; DROP TABLE t"})
    assert error["loc"] == ("expression", "sql")
    assert "one SQL boolean expression, without ';'" in error["msg"]


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"rule": "unique", "columns": []}, ("unique", "columns")),
        ({"rule": "allowed_values", "column": "c", "values": []}, ("allowed_values", "values")),
        ({"rule": "row_count", "min": -1}, ("row_count", "min")),
        ({"rule": "freshness", "column": "t", "max_age_hours": 0}, ("freshness", "max_age_hours")),
        ({"rule": "schema", "columns": {}}, ("schema", "columns")),
        ({"rule": "schema", "columns": {"id": "int"}}, ("schema", "columns", "id")),
        ({"rule": "anomaly", "metric": "row_count", "threshold": 0}, ("anomaly", "threshold")),
        ({"rule": "anomaly", "metric": "row_count", "min_history": 2}, ("anomaly", "min_history")),
        ({"rule": "anomaly", "metric": "p99", "column": "x"}, ("anomaly", "metric")),
        ({"rule": "not_null", "column": "x", "catches": "typo"}, ("not_null", "catches")),
    ],
)
def test_field_bounds_point_at_the_field(data: dict[str, Any], loc: tuple[str, ...]) -> None:
    assert rule_error(data)["loc"] == loc


def test_anomaly_of_a_column_metric_needs_the_column() -> None:
    keyed = rule_error({"rule": "anomaly", "metric": "null_rate"})["ctx"]["error"]
    assert keyed.path == ("column",) and str(keyed) == "the null_rate metric needs a column"


def test_anomaly_defaults() -> None:
    rule = RULE.validate_python({"rule": "anomaly", "metric": "mean", "column": "x"})
    assert (rule.threshold, rule.min_history) == (3.5, 7)


@pytest.mark.parametrize(
    ("data", "label"),
    [
        ({"rule": "not_null", "column": "id"}, "not_null_id"),
        ({"rule": "unique", "columns": ["order_id", "line"]}, "unique_order_id_line"),
        ({"rule": "range", "column": "x", "min": 0}, "range_x"),
        ({"rule": "expression", "sql": "a > b"}, "expression"),
        ({"rule": "row_count", "min": 1}, "row_count"),
        ({"rule": "freshness", "column": "ts", "max_age_hours": 2}, "freshness_ts"),
        ({"rule": "schema", "columns": {"id": "integer", "x": "float"}}, "schema"),
        ({"rule": "anomaly", "metric": "row_count"}, "anomaly_row_count"),
        ({"rule": "anomaly", "metric": "p95", "column": "latency"}, "anomaly_p95_latency"),
        ({"rule": "not_null", "column": "id", "name": "id_present"}, "id_present"),
        ({"rule": "schema", "columns": {"id": "integer"}, "name": "shape"}, "shape"),
    ],
)
def test_labels(data: dict[str, Any], label: str) -> None:
    assert RULE.validate_python(data).label() == label


def test_referential_key_defaults_to_none_and_catches_is_kept() -> None:
    rule = RULE.validate_python(
        {
            "rule": "referential",
            "column": "customer_id",
            "table": "silver.customers",
            "catches": "incomplete_integration",
            "description": "every order has a customer",
        }
    )
    assert rule.key is None and rule.table == "silver.customers"
    assert rule.catches == "incomplete_integration"
    assert rule.description == "every order has a customer"


def test_row_count_min_above_max_is_rejected() -> None:
    with pytest.raises(ValidationError, match="above max"):
        RULE.validate_python({"rule": "row_count", "min": 10, "max": 5})
