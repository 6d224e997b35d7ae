"""``prodml.abtest.outcomes``: posted outcome bodies parsed into rows (units, metrics, values,
UTC times) or refused with a message naming the row and field; rows as an Arrow table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from prodml.abtest.errors import OutcomeError
from prodml.abtest.outcomes import DOCS, Outcomes, parse, to_table

METRICS = {"converted", "revenue"}


def body(*rows: dict[str, Any]) -> dict[str, Any]:
    return {"outcomes": list(rows)}


def refused(doc: Any, max_rows: int = 100) -> str:
    with pytest.raises(OutcomeError) as info:
        parse(doc, METRICS, max_rows)
    return info.value.message


def test_parse_rows() -> None:
    before = datetime.now(UTC)
    out = parse(
        body(
            {"unit_id": "u1", "metric": "converted", "value": 1},
            {"unit_id": 42, "metric": "revenue", "value": 12.5, "time": "2026-11-01T10:00:00Z"},
            {"unit_id": "u3", "metric": "converted", "value": False, "time": None},
        ),
        METRICS,
        10,
    )
    after = datetime.now(UTC)
    assert out.n == 3
    assert out.unit_ids == ["u1", "42", "u3"]  # integer ids become text
    assert out.metrics == ["converted", "revenue", "converted"]
    assert out.values == [1.0, 12.5, 0.0] and all(type(v) is float for v in out.values)
    assert before <= out.received <= after
    # without a time, an outcome happened when it was received
    assert out.times == [out.received, datetime(2026, 11, 1, 10, tzinfo=UTC), out.received]


def test_times_are_converted_to_utc() -> None:
    out = parse(
        body(
            {"unit_id": "a", "metric": "revenue", "value": 1, "time": "2026-11-01T12:30:00+02:00"},
            {"unit_id": "b", "metric": "revenue", "value": 1, "time": "2026-11-01T12:30:00"},
            {"unit_id": "c", "metric": "revenue", "value": 1, "time": "2026-11-01"},
        ),
        METRICS,
        10,
    )
    assert out.times == [
        datetime(2026, 11, 1, 10, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 12, 30, tzinfo=UTC),  # naive times are UTC
        datetime(2026, 11, 1, tzinfo=UTC),
    ]
    assert all(t.utcoffset() == timedelta(0) for t in out.times)


@pytest.mark.parametrize(
    "doc",
    [
        [{"unit_id": "u", "metric": "revenue", "value": 1}],
        {"outcome": []},
        {"outcomes": [], "extra": 1},
        "outcomes",
        None,
    ],
)
def test_the_body_must_be_an_outcomes_object(doc: Any) -> None:
    assert refused(doc) == (
        'the body must be {"outcomes": [{"unit_id": ..., "metric": ..., "value": ...}]}'
    )


@pytest.mark.parametrize("rows", [[], {}, "u1", None])
def test_outcomes_must_be_a_non_empty_list(rows: Any) -> None:
    assert refused({"outcomes": rows}) == "outcomes must be a non-empty list"


def test_too_many_rows_names_the_limit() -> None:
    rows = [{"unit_id": f"u{i}", "metric": "revenue", "value": 1} for i in range(4)]
    assert refused(body(*rows), max_rows=3) == "4 outcomes in one request; at most 3"
    assert parse(body(*rows), METRICS, 4).n == 4


OK = {"unit_id": "u", "metric": "revenue", "value": 1.0}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("not a row", "outcomes[1] must be an object"),
        ({**OK, "units": 3, "extra": 1}, "outcomes[1]: unknown key(s) extra, units"),
        ({**OK, "unit_id": ""}, "outcomes[1].unit_id must be a non-empty string or an integer"),
        ({**OK, "unit_id": True}, "outcomes[1].unit_id must be a non-empty string or an integer"),
        ({**OK, "unit_id": 1.5}, "outcomes[1].unit_id must be a non-empty string or an integer"),
        ({"metric": "revenue", "value": 1}, "outcomes[1].unit_id must be a non-empty string"),
        (
            {**OK, "metric": "clicks"},
            "outcomes[1].metric 'clicks' is not an experiment metric (metrics: converted, revenue)",
        ),
        ({**OK, "metric": None}, "outcomes[1].metric None is not an experiment metric"),
        ({**OK, "value": "3"}, "outcomes[1].value must be a finite number"),
        ({**OK, "value": float("nan")}, "outcomes[1].value must be a finite number"),
        ({**OK, "value": float("inf")}, "outcomes[1].value must be a finite number"),
        ({**OK, "value": None}, "outcomes[1].value must be a finite number"),
        ({**OK, "time": "yesterday"}, "outcomes[1].time 'yesterday' is not an ISO-8601 time"),
        ({**OK, "time": ""}, "outcomes[1].time '' is not an ISO-8601 time in range"),
        (
            {**OK, "time": "9999-12-31T23:59:59-05:00"},  # beyond datetime's range in UTC
            "outcomes[1].time '9999-12-31T23:59:59-05:00' is not an ISO-8601 time in range",
        ),
    ],
)
def test_a_bad_row_names_its_index_and_field(bad: Any, message: str) -> None:
    assert refused(body(OK, bad)).startswith(message)


def test_to_table_types_and_partitions() -> None:
    received = datetime(2026, 11, 2, 9, tzinfo=UTC)
    first = Outcomes(
        ["u1", "u2"],
        ["converted", "revenue"],
        [1.0, 3.5],
        [datetime(2026, 11, 1, 23, 59, tzinfo=UTC), datetime(2026, 11, 2, 0, 1, tzinfo=UTC)],
        received,
    )
    second = parse(
        body({"unit_id": 7, "metric": "revenue", "value": 2, "time": "2026-11-03"}), METRICS, 5
    )
    table = to_table([first, second])
    assert table.schema == pa.schema(
        [
            ("unit_id", pa.string()),
            ("metric", pa.string()),
            ("value", pa.float64()),
            ("time", pa.timestamp("us", tz="UTC")),
            ("date", pa.date32()),
            ("received", pa.timestamp("us", tz="UTC")),
        ]
    )
    data = table.to_pydict()
    assert data["unit_id"] == ["u1", "u2", "7"]
    assert data["value"] == [1.0, 3.5, 2.0]
    assert [d.isoformat() for d in data["date"]] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert data["received"] == [received, received, second.received]  # one per batch


def test_to_table_of_no_batches_is_empty_with_the_schema() -> None:
    table = to_table([])
    assert table.num_rows == 0
    assert table.column_names == ["unit_id", "metric", "value", "time", "date", "received"]


def test_every_column_is_documented() -> None:
    assert set(DOCS) == set(to_table([]).column_names)
