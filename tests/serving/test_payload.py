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
    return coerce(records, SCHEMA)


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
        (
            b'{"dataframe_records": [{"a": 1}, {"b": 2}]}',
            "application/json",
            400,
            "column(s): n, s",
        ),
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
    assert "segment" not in message  # a number for a string column is its text (as MLflow)
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


def _strict(**values: object) -> dict[str, np.ndarray]:
    record = {"a": 1.5, "n": 2, "segment": "x", **values}
    return coerce(parse_product(orjson.dumps({"records": [record]})), SCHEMA)


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ({"a": True}, "a expects double, record 0 has true"),
        ({"n": False}, "n expects long, record 0 has false"),
        ({"a": "1.5"}, 'a expects double, record 0 has "1.5"'),
        ({"segment": 7}, "segment expects string, record 0 has 7"),
    ],
)
def test_item7_the_product_route_is_strict(values: dict[str, object], needle: str) -> None:
    with pytest.raises(PayloadError) as info:
        _strict(**values)
    assert needle in info.value.message


def test_item7_the_product_route_takes_numbers_and_strings_as_they_are() -> None:
    cols = _strict(a=2, n=3.0)
    assert cols["a"].tolist() == [2.0] and cols["n"].tolist() == [3.0]
    assert cols["segment"].tolist() == ["x"]


@pytest.mark.parametrize(
    ("values", "column", "expected"),
    [
        ({"a": "0.5"}, "a", 0.5),  # text that reads as a number
        ({"a": True}, "a", 1.0),  # a boolean for a number
        ({"n": 1.5}, "n", 1.0),  # truncated, as pandas' astype(int64)
        ({"n": -2.7}, "n", -2.0),
        ({"n": "4"}, "n", 4.0),
        ({"segment": 7}, "segment", "7"),  # a number's text
        ({"segment": 0.5}, "segment", "0.5"),
        ({"segment": True}, "segment", "True"),
        ({"segment": None}, "segment", None),
    ],
)
def test_item7_mlflows_protocol_converts_as_mlflows_server(
    values: dict[str, object], column: str, expected: object
) -> None:
    record = {"a": 1.5, "n": 2, "segment": "x", **values}
    cols = invocations({"dataframe_records": [record]})
    assert cols[column].tolist() == [expected]


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ({"a": "high"}, 'a expects double, record 0 has "high"'),
        ({"n": "2.5"}, 'n expects long, record 0 has "2.5", not an integer\'s text'),
        ({"n": None}, "n expects long, record 0 has null (integers cannot be missing"),
        ({"segment": [1]}, "segment expects string, record 0 has [1]"),
    ],
)
def test_item7_what_mlflows_server_refuses_too(values: dict[str, object], needle: str) -> None:
    record = {"a": 1.5, "n": 2, "segment": "x", **values}
    with pytest.raises(PayloadError) as info:
        invocations({"dataframe_records": [record]})
    assert needle in info.value.message


def test_item7_records_with_other_columns_are_read_as_pandas_reads_them() -> None:
    cols = invocations(
        {"dataframe_records": [{"a": 1.5, "n": 2, "segment": "x", "extra": 1}, {"n": 3, "a": 2}]}
    )
    assert cols["segment"].tolist() == ["x", None] and cols["n"].tolist() == [2.0, 3.0]


def test_item7_csv_and_json_agree() -> None:
    schema = (*SCHEMA, ("flag", "boolean"))
    body = b"segment,flag,n,a\nx,True,2,1.5\ny,false,3,-1\n"
    from_csv = coerce(parse_invocations(body, "text/csv", COLUMNS), schema)
    doc = {
        "dataframe_records": [
            {"a": 1.5, "n": 2, "segment": "x", "flag": True},
            {"a": -1, "n": 3, "segment": "y", "flag": False},
        ]
    }
    from_json = coerce(parse_invocations(orjson.dumps(doc), "application/json", COLUMNS), schema)
    assert {k: v.tolist() for k, v in from_csv.items()} == {
        k: v.tolist() for k, v in from_json.items()
    }
