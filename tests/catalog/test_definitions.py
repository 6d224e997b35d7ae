"""Catalogs, schemas and tables defined through the Python API (what the catalog API's write
routes call): decided by the gate's policies, owned by their creator, audited; EXTERNAL tables
found where they were registered by every later connection; nothing half made on a refusal."""

from __future__ import annotations

from pathlib import Path

import deltalake
import pyarrow as pa
import pytest
from tests.helpers import make_platform

import prodml
from prodml.catalog.errors import AlreadyExistsError, NotEmptyError
from prodml.errors import AccessDeniedError, NotFoundError, UsageError

GOVERNED = """\
name: t
default_env: dev
state_dir: .prodml
storage: {root: data}
environments:
  dev: {}
  prod: {}
governance:
  enabled: true
  admins: [ops]
  local_user: ops
  users: {ops: {}, ana: {}}
"""

ROWS = pa.table({"id": pa.array([1, 2], pa.int64()), "kind": ["a", "b"]})
COLUMNS = pa.schema([pa.field("day", pa.date32()), pa.field("n", pa.int64(), nullable=False)])


@pytest.fixture
def open_platform(tmp_path: Path) -> Path:
    """A platform with governance off (the embedded default)."""
    return make_platform(tmp_path / "p", {})


@pytest.fixture
def governed(tmp_path: Path) -> tuple[Path, str]:
    """A governed platform and ana's token."""
    root = make_platform(tmp_path / "g", {}, GOVERNED)
    with prodml.connect(root) as ws:
        return root, ws.new_token("ana", name="t")


def _external(root: Path, name: str = "events") -> str:
    files = root / "data" / "external" / name
    deltalake.write_deltalake(str(files), ROWS)
    return files.as_uri()


def test_a_catalog_its_schemas_and_tables_through_the_python_api(open_platform: Path) -> None:
    uri = _external(open_platform)
    with prodml.connect(open_platform) as ws:
        made = ws.create_catalog("lake", comment="Events.")
        assert made["storage_root"] == (open_platform / "data" / "lake").resolve().as_uri()
        ws.create_schema("lake", "bronze")
        ws.create_table("lake.bronze.events", table_type="EXTERNAL", storage_location=uri)
        ws.create_schema("lake", "silver")
        ws.create_table("lake.silver.daily", table_type="MANAGED", columns=COLUMNS)
        assert ws.schemas("lake") == ["bronze", "silver"]
        assert sorted(t["name"] for t in ws.catalog_entries("lake")) == ["daily", "events"]
    with prodml.connect(open_platform) as ws:  # a new connection finds them where they are
        assert ws.read("lake.bronze.events").equals(ROWS)
        assert ws.read("lake.silver.daily").num_rows == 0
        assert ws.storage_location("lake.bronze.events") == uri
        with pytest.raises(NotEmptyError, match="catalog lake holds schemas"):
            ws.drop_catalog("lake")
        ws.drop_catalog("lake", force=True)
        assert ws.catalog_record("lake") is None and ws.catalog_entries("lake") == []
    assert not (open_platform / "data" / "lake" / "silver" / "daily").exists()
    assert deltalake.DeltaTable(uri).to_pyarrow_table().equals(ROWS)  # external files stay


def test_names_and_conflicts(open_platform: Path) -> None:
    with prodml.connect(open_platform) as ws:
        with pytest.raises(AlreadyExistsError, match="it is environment dev's"):
            ws.create_catalog("dev")
        with pytest.raises(prodml.errors.InvalidNameError, match="invalid catalog name"):
            ws.create_catalog("Lake")
        ws.create_catalog("lake")
        with pytest.raises(AlreadyExistsError, match="catalog lake already exists"):
            ws.create_catalog("lake")
        with pytest.raises(UsageError, match="not one of prodml's layers"):
            ws.create_schema("lake", "marts")
        with pytest.raises(NotFoundError, match="catalog nowhere does not exist"):
            ws.create_schema("nowhere", "gold")
        with pytest.raises(UsageError, match=r"storage_root .* is not supported"):
            ws.create_catalog("other", storage_root="s3://bucket/other")
        with pytest.raises(NotFoundError, match="catalog gone does not exist"):
            ws.drop_catalog("gone")
        assert [c["name"] for c in ws.catalog_records()] == ["lake"]


def test_a_catalog_may_not_take_an_external_tables_files(open_platform: Path) -> None:
    uri = _external(open_platform)
    with prodml.connect(open_platform) as ws:
        ws.create_table("dev.bronze.events", table_type="EXTERNAL", storage_location=uri)
        with pytest.raises(UsageError, match="would hold the external table"):
            ws.create_catalog("external")
        assert ws.catalog_record("external") is None


def test_a_managed_table_of_a_name_whose_files_exist_is_a_conflict(open_platform: Path) -> None:
    files = open_platform / "data" / "dev" / "silver" / "daily"
    deltalake.write_deltalake(str(files), ROWS)  # written outside prodml, never registered
    with (
        prodml.connect(open_platform) as ws,
        pytest.raises(AlreadyExistsError, match=r"table dev\.silver\.daily already exists"),
    ):
        ws.create_table("dev.silver.daily", table_type="MANAGED", columns=COLUMNS)
    assert deltalake.DeltaTable(str(files)).to_pyarrow_table().equals(ROWS)


def test_governed_definitions_are_decided_owned_and_audited(governed: tuple[Path, str]) -> None:
    root, ana_token = governed
    with prodml.connect(root) as ws:
        ana = ws.as_caller(ana_token, client="test")
        with pytest.raises(AccessDeniedError, match="create catalogs"):
            ana.create_catalog("hers")
        with pytest.raises(
            AccessDeniedError, match=r"may not create schema dev\.raw: it lacks USE_CATALOG"
        ):
            ana.create_schema("dev", "raw")
        ws.grant("catalog", "dev", "ana", ["USE_CATALOG", "CREATE_SCHEMA"])
        ana.create_schema("dev", "raw", comment="Hers.")
        assert ws.owner("schema", "dev.raw") == "ana"
        with pytest.raises(AccessDeniedError, match="lacks USE_SCHEMA"):
            ana.create_table("dev.silver.t", table_type="MANAGED", columns=COLUMNS)
        ana.create_table("dev.raw.t", table_type="MANAGED", columns=COLUMNS)  # she owns raw
        assert ws.owner("table", "dev.raw.t") == "ana"
        ana.update_schema("dev.raw", properties={"k": "v"})
        ana.drop_schema("dev.raw", force=True)
        assert ws.owner("schema", "dev.raw") is None  # gone with its grants and owners
        assert ws.grants_on("schema", "dev.raw") == []
        log = ws.audit(principal="ana")
    done = [(r["action"], r["securable"], r["outcome"]) for r in log if r["action"][:4] != "read"]
    assert set(done) >= {
        ("catalog.create", "hers", "denied"),
        ("schema.create", "dev.raw", "denied"),
        ("schema.create", "dev.raw", "changed"),
        ("table.create", "dev.silver.t", "denied"),
        ("table.create", "dev.raw.t", "changed"),
        ("schema.update", "dev.raw", "changed"),
        ("table.delete", "dev.raw.t", "changed"),
        ("schema.delete", "dev.raw", "changed"),
    }
