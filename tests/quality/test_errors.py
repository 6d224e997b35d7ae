"""Errors of data quality: their kinds (exit code, HTTP status), and an expectation that cannot
be evaluated saying which rule, where it is declared, and what to use instead."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest
from pydantic import TypeAdapter

from prodml.config.expectations import Expectation
from prodml.errors import ProdmlError, UsageError, http_status
from prodml.quality.engine import evaluate
from prodml.quality.errors import ExpectationError, QualityFailedError


def test_kinds_of_quality_errors() -> None:
    bad_rule = ExpectationError("expectation not_null_x: no column x")
    assert isinstance(bad_rule, UsageError)
    assert (bad_rule.exit_code, http_status(bad_rule), bad_rule.retryable) == (2, 400, False)
    failed = QualityFailedError("dev.t: expectation(s) with action fail failed", hint="fix it")
    assert isinstance(failed, ProdmlError) and not isinstance(failed, UsageError)
    assert (failed.exit_code, http_status(failed)) == (1, 500)
    assert str(failed) == "dev.t: expectation(s) with action fail failed (fix it)"


def test_an_unknown_column_names_the_rule_and_where_it_is_declared() -> None:
    rules = TypeAdapter(list[Expectation]).validate_python(
        [{"rule": "not_null", "column": "id"}, {"rule": "range", "column": "amout", "min": 0}]
    )
    data = pa.table({"id": [1], "amount": [2.0]})
    with duckdb.connect() as con, pytest.raises(ExpectationError) as info:
        evaluate(con, data, rules, table="dev.silver.orders", where="product.yaml: tables.x")
    text = str(info.value)
    assert "has no column 'amout'" in text and "did you mean 'amount'" in text
    assert "product.yaml: tables.x[1]" in text
