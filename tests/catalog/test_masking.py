"""Column masks and row filters over an Arrow dataset (DuckDB): each mask kind, nulls, types
kept, filters on the stored values, and a filter that cannot run is a clear config error."""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pyarrow.dataset as pads
import pytest

from prodml.catalog.masking import REDACTED, apply, mask_value
from prodml.catalog.policies import Restriction
from prodml.errors import ConfigError

DATA = pa.table(
    {
        "id": pa.array([1, 2, 3], pa.int64()),
        "email": pa.array(["a@x.de", None, "c@x.de"], pa.large_string()),
        "country": ["DE", "FR", "DE"],
        "spend": [1.5, 2.5, None],
    }
)


def _read(restriction: Restriction) -> pa.Table:
    return apply(pads.dataset(DATA), restriction, "dev.gold.customers").to_table()


def test_each_mask_kind() -> None:
    got = _read(Restriction({"email": "hash", "country": "redact", "spend": "null"}))
    assert got.column("email").to_pylist() == [
        hashlib.sha256(b"a@x.de").hexdigest(),
        None,
        hashlib.sha256(b"c@x.de").hexdigest(),
    ]
    assert got.column("country").to_pylist() == [REDACTED] * 3
    assert got.column("spend").to_pylist() == [None] * 3
    assert got.column("id").to_pylist() == [1, 2, 3]
    # masked columns keep their type (a hash is text); the others are untouched
    assert got.schema.field("spend").type == pa.float64()
    assert got.schema.field("country").type == pa.string()
    assert got.schema.field("email").type == pa.string()
    assert got.schema.field("id").type == pa.int64()


def test_redact_of_a_number_is_null() -> None:
    assert _read(Restriction({"id": "redact"})).column("id").to_pylist() == [None] * 3


def test_filters_see_the_stored_values_and_all_must_hold() -> None:
    got = _read(Restriction({"country": "redact"}, ("country = 'DE'", "id > 1")))
    assert got.column("id").to_pylist() == [3]
    assert got.column("country").to_pylist() == [REDACTED]


def test_a_mask_of_a_column_the_table_lacks_changes_nothing() -> None:
    assert _read(Restriction({"phone": "hash"})).equals(DATA.cast(_read(Restriction()).schema))


@pytest.mark.parametrize("where", ["nope = 1", "country = ", "id >"])
def test_a_filter_that_cannot_run_is_a_config_error(where: str) -> None:
    with pytest.raises(ConfigError) as err:
        _read(Restriction(filters=(where,)))
    assert "the row filter on dev.gold.customers cannot be applied" in err.value.message
    assert "governance.row_filters" in (err.value.hint or "")


def test_one_value_is_masked_as_its_column_would_be() -> None:
    assert mask_value("a@x.de", "hash") == hashlib.sha256(b"a@x.de").hexdigest()
    assert mask_value(7, "hash") == hashlib.sha256(b"7").hexdigest()
    assert mask_value("DE", "redact") == REDACTED
    assert mask_value(1.5, "redact") is None and mask_value("x", "null") is None
    assert mask_value(None, "hash") is None
