"""The façade's definitions: a table definition is judged in the gate, so the Python API
refuses what the catalog API refuses (nothing is made), and the catalogs prodml.yaml defines
are known by environment."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from tests.helpers import make_platform

import prodml
from prodml.errors import UsageError

COLUMNS = pa.schema([pa.field("n", pa.int64())])


@pytest.mark.parametrize(
    ("asked", "needle"),
    [
        ({"table_type": "VIEW"}, "table_type VIEW is not supported"),
        ({"table_type": "EXTERNAL"}, "an EXTERNAL table needs storage_location"),
        ({"table_type": "MANAGED"}, "a MANAGED table needs its columns"),
        ({"table_type": "MANAGED", "columns": pa.schema([])}, "needs its columns"),
        (
            {"table_type": "MANAGED", "columns": COLUMNS, "storage_location": "file:///tmp/x"},
            "leave storage_location out",
        ),
    ],
)
def test_bad_table_definitions_are_refused_and_make_nothing(
    tmp_path: Path, asked: dict[str, object], needle: str
) -> None:
    root = make_platform(tmp_path / "p", {})
    with prodml.connect(root) as ws:
        with pytest.raises(UsageError, match=needle):
            ws.create_table("dev.bronze.t", **asked)  # type: ignore[arg-type]
        assert ws.catalog_entries() == []
    assert not (root / "data" / "dev" / "bronze" / "t").exists()


def test_environment_catalogs_and_storage(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {})
    with prodml.connect(root) as ws:
        assert ws.environment_catalogs() == {"dev": "dev", "staging": "staging"}
        assert ws.storage_root("dev") == (root / "data" / "dev").resolve().as_uri()
        ws.create_table("bronze.t", table_type="MANAGED", columns=COLUMNS)
        where = (root / "data" / "dev" / "bronze" / "t").resolve().as_uri()
        assert ws.storage_location("bronze.t") == where
        assert ws.catalog_records() == [] and ws.catalog_record("dev") is None
