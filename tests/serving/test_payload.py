"""Request bodies → typed columns: every MLflow form, CSV, the product shape, and bad input."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest

from prodml.errors import ProdmlError, http_status
from prodml.serving.errors import PayloadError
from prodml.serving.payload import coerce, parse_invocations, parse_product

SCHEMA = (("a", "double"), ("n", "long"), ("segment", "string"))
COLUMNS = [n for n, _ in SCHEMA]
ROWS = [[1.5, 2, "x"], [None, 3, None]]


def invocations(doc: object, content_type: str = "application/json") -> dict[str, np.ndarray]:
    body = doc if isinstance(doc, bytes) else orjson.dumps(doc)
    records = parse_invocations(body, content_type, COLUMNS)
    return coerce(records, SCHEMA, from_text=content_type == "text/csv")


def check(cols: dict[str, np.ndarray]) -> None:
    assert cols["a"].dtype == np.float64 and cols["a"][0] == 1.5 and math.isnan(cols["a"][1])
    assert cols["n"].tolist() == [2.0, 3.0]
    assert cols["segment"].tolist() == ["x", None]


@pytest.mark.parametrize(
    "doc",
    [
        {"dataframe_split": {"columns": COLUMNS, "data": ROWS}},
        {"dataframe_records": [dict(zip(COLUMNS, r, strict=True)) for r in ROWS]},
        {"instances": [dict(zip(COLUMNS, r, strict=True)) for r in ROWS]},
        {"inputs": {c: [r[i] for r in ROWS] for i, c in enumerate(COLUMNS)}},
        {"inputs": ROWS},  # rows in signature order
        {"dataframe_split": {"columns": [*COLUMNS, "extra"], "data": [[*r, 0] for r in ROWS]}},
    ],
)
def test_every_mlflow_form_gives_the_same_columns(doc: object) -> None:
    check(invocations(doc))


def test_csv_with_header() -> None:
    check(invocations(b"a,n,segment\n1.5,2,x\n,3,\n", "text/csv"))


def test_product_shape() -> None:
    records = parse_product(b'{"records": [{"a": 1.5, "n": 2, "segment": "x"}]}')
    assert coerce(records, SCHEMA)["n"].tolist() == [2.0]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "needle"),
    [
        (b"{bad", "application/json", 400, "malformed JSON"),
        (b"", "application/json", 400, "empty"),
        (b"[1, 2]", "application/json", 400, "JSON object"),
        (b'{"inputs": [], "instances": []}', "application/json", 400, "exactly one"),
        (b'{"dataframe_split": {"columns": ["a"]}}', "application/json", 400, "list of rows"),
        (
            b'{"dataframe_split": {"columns": ["a", "n"], "data": [[1, 2], [1]]}}',
            "application/json",
            400,
            "row 1 has 1 values",
        ),
        (b'{"dataframe_records": [{"a": 1}, {"b": 2}]}', "application/json", 400, "missing: a"),
        (b'{"dataframe_records": [], "params": 3}', "application/json", 400, "params"),
        (b'{"inputs": [[1, 2]]}', "application/json", 400, "takes 3 (a, n, segment)"),
        (b"a,n\n1\n", "text/csv", 400, "CSV line 2 has 1 fields"),
        (b"a,n,segment\n", "text/csv", 400, "no rows"),
        (b"\xff\xfe", "text/csv", 400, "UTF-8"),
        (b"<x/>", "application/xml", 415, "application/json or text/csv"),
    ],
)
def test_malformed_bodies(body: bytes, content_type: str, status: int, needle: str) -> None:
    with pytest.raises(ProdmlError) as info:
        coerce(parse_invocations(body, content_type, COLUMNS), SCHEMA)
    assert http_status(info.value) == status
    assert needle in info.value.message


def test_missing_columns_are_all_listed_with_the_signature() -> None:
    with pytest.raises(PayloadError) as info:
        invocations({"dataframe_records": [{"n": 1}]})
    assert "missing column(s): a, segment" in info.value.message
    assert "a (double), n (long), segment (string)" in info.value.message


def test_wrong_types_name_every_column_and_the_record() -> None:
    with pytest.raises(PayloadError) as info:
        invocations(
            {
                "dataframe_records": [
                    {"a": 1.0, "n": 1, "segment": "x"},
                    {"a": "high", "n": [1, 2], "segment": 7},
                ]
            }
        )
    message = info.value.message
    assert 'a expects double, record 1 has "high"' in message
    assert "n expects long, record 1 has [1,2]" in message
    assert "segment expects string, record 1 has 7" in message
    with pytest.raises(PayloadError, match="a expects double"):
        invocations(b"a,n,segment\nhigh,1,x\n", "text/csv")


def test_product_shape_errors() -> None:
    for body, needle in [
        (b'{"rows": []}', '{"records"'),
        (b'{"records": [], "x": 1}', "unknown key"),
        (b'{"records": []}', "non-empty list"),
        (b'{"records": [1]}', "records[0] must be an object"),
    ]:
        with pytest.raises(PayloadError, match=None) as info:
            parse_product(body)
        assert needle in info.value.message
