"""``prodml.serialize.to_jsonable``: every result prodml returns as data JSON can hold
(dataclasses, dates, NaN, NumPy scalars, enums, paths, pydantic models, anything else as text)."""

from __future__ import annotations

import enum
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel

from prodml.serialize import to_jsonable


class Color(enum.Enum):
    RED = "red"
    NESTED = ("a", 1)


class Level(enum.IntEnum):
    HIGH = 3


@dataclass
class Inner:
    when: date
    score: float


@dataclass(frozen=True)
class Result:
    JSON_PROPERTIES = ("total", "label")

    name: str
    parts: list[Inner]
    secret: str = field(default="s3cr3t", metadata={"json": False})
    fn: Any = field(default=None, metadata={"json": False, "other": 1})
    tags: tuple[str, ...] = ()

    @property
    def total(self) -> float:
        return sum(p.score for p in self.parts)

    @property
    def label(self) -> Color:
        return Color.RED


class Settings(BaseModel):
    at: datetime
    path: Path
    ratio: float = 0.5


def dumps(value: Any) -> str:
    return json.dumps(to_jsonable(value), allow_nan=False, sort_keys=True)


@pytest.mark.parametrize("value", [None, True, False, 0, -7, 2**70, "", "text", 1.5, -0.0])
def test_json_values_pass_through(value: Any) -> None:
    out = to_jsonable(value)
    assert out == value and type(out) is type(value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_become_null(value: float) -> None:
    assert to_jsonable(value) is None


def test_dates_and_datetimes_are_iso_8601() -> None:
    assert to_jsonable(date(2024, 1, 7)) == "2024-01-07"
    assert to_jsonable(datetime(2024, 1, 7, 8, 9, 10, tzinfo=UTC)) == "2024-01-07T08:09:10+00:00"
    assert to_jsonable(datetime(2024, 1, 7, 8, 9)) == "2024-01-07T08:09:00"


def test_dataclass_fields_hidden_ones_and_properties() -> None:
    result = Result(
        "r", [Inner(date(2024, 1, 1), 1.0), Inner(date(2024, 1, 2), math.nan)], tags=("a",)
    )
    out = to_jsonable(result)
    assert out == {
        "name": "r",
        "parts": [
            {"when": "2024-01-01", "score": 1.0},
            {"when": "2024-01-02", "score": None},
        ],
        "tags": ["a"],
        "total": None,  # 1.0 + NaN: a property goes through the same rules
        "label": "red",
    }
    assert "secret" not in out and "fn" not in out


def test_a_dataclass_type_is_not_serialised_as_an_instance() -> None:
    assert to_jsonable(Inner) == str(Inner)


def test_mappings_get_string_keys_recursively() -> None:
    value = {1: {"x": math.inf}, date(2024, 1, 1): [1, 2], None: "n", Color.RED: 0}
    assert to_jsonable(value) == {
        "1": {"x": None},
        "2024-01-01": [1, 2],
        "None": "n",
        "Color.RED": 0,
    }


def test_sequences_and_sets_become_lists() -> None:
    assert to_jsonable((1, (2, 3))) == [1, [2, 3]]
    assert sorted(to_jsonable({3, 1, 2})) == [1, 2, 3]
    assert to_jsonable(frozenset({"a"})) == ["a"]
    assert to_jsonable([]) == []


def test_enums_become_their_values() -> None:
    assert to_jsonable(Color.RED) == "red"
    assert to_jsonable(Color.NESTED) == ["a", 1]
    assert to_jsonable(Level.HIGH) == 3 and json.dumps(to_jsonable(Level.HIGH)) == "3"


def test_paths_become_text() -> None:
    assert to_jsonable(PurePosixPath("data/dev/gold")) == "data/dev/gold"
    assert to_jsonable(Path("/tmp") / "x.json") == str(Path("/tmp") / "x.json")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.int64(7), 7),
        (np.int8(-3), -3),
        (np.uint32(5), 5),
        (np.float32(0.5), 0.5),
        (np.float64(2.25), 2.25),
        (np.bool_(True), True),
        (np.str_("a"), "a"),
        (np.array(4.0), 4.0),  # a 0-d array is a scalar
    ],
)
def test_numpy_scalars_become_python_numbers(value: Any, expected: Any) -> None:
    out = to_jsonable(value)
    assert out == expected
    json.dumps(out)  # plain JSON, no NumPy type left


@pytest.mark.parametrize("value", [np.float64("nan"), np.float32("inf"), np.array(np.nan)])
def test_numpy_non_finite_becomes_null(value: Any) -> None:
    assert to_jsonable(value) is None


def test_numpy_datetime_scalar_in_microseconds_is_iso_8601() -> None:
    assert to_jsonable(np.datetime64("2024-01-07T08:00:00", "us")) == "2024-01-07T08:00:00"
    assert to_jsonable(np.datetime64("2024-01-07", "D")) == "2024-01-07"


def test_numpy_datetime_scalar_in_nanoseconds_is_iso_8601() -> None:
    assert to_jsonable(np.datetime64("2024-01-07T08:00:00", "ns")) == "2024-01-07T08:00:00"


def test_pydantic_models_dump_in_json_mode() -> None:
    model = Settings(at=datetime(2024, 5, 1, tzinfo=UTC), path=Path("a/b"), ratio=math.inf)
    assert to_jsonable(model) == {"at": "2024-05-01T00:00:00Z", "path": "a/b", "ratio": None}


def test_anything_else_becomes_its_text() -> None:
    assert to_jsonable(timedelta(hours=1)) == "1:00:00"
    assert to_jsonable(b"bytes") == "b'bytes'"
    assert to_jsonable(complex(1, 2)) == "(1+2j)"

    class Thing:
        def __str__(self) -> str:
            return "a thing"

    assert to_jsonable(Thing()) == "a thing"


def test_a_nested_result_is_strict_json() -> None:
    value = {
        "result": Result("r", [Inner(date(2024, 1, 1), np.float64(0.25))]),
        "values": np.float64(np.nan),
        "settings": Settings(at=datetime(2024, 1, 1), path=Path("p")),
    }
    text = dumps(value)
    doc = json.loads(text)
    assert doc["result"]["total"] == 0.25 and doc["values"] is None
    assert doc["settings"] == {"at": "2024-01-01T00:00:00", "path": "p", "ratio": 0.5}
