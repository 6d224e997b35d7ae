"""The metadata store's tables (SQLAlchemy Core); Alembic migrations create them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored and returned in UTC, whatever the backend keeps of the zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert aware values to UTC (SQLite would drop the offset); naive ones are UTC."""
        if value is None or value.tzinfo is None:
            return value
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Always hand back aware UTC datetimes."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

#: the Alembic revision this code expects (a test checks it equals the scripts' head)
HEAD_REVISION = "0011"

tables = Table(
    "prodml_tables",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("catalog", String(128), nullable=False),
    Column("schema_name", String(128), nullable=False),
    Column("name", String(128), nullable=False),
    Column("owner_product", String(128)),
    Column("producer_step", String(256)),
    Column("layer", String(32)),
    Column("description", Text, nullable=False, default=""),
    Column("columns", JSON, nullable=False),
    Column("partition_by", JSON, nullable=False),
    Column("keys", JSON, nullable=False),
    Column("location", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # tables defined through the catalog API (0011): EXTERNAL (registered by location) or
    # MANAGED (created empty); None for tables products write (managed by prodml)
    Column("table_type", String(16)),
    Column("created_by", String(128)),
    Column("properties", JSON),
    UniqueConstraint("catalog", "schema_name", "name", name="uq_prodml_tables_name"),
)

table_commits = Table(
    "prodml_table_commits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("table_name", String(400), nullable=False, index=True),
    Column("version", BigInteger, nullable=False),
    Column("operation", String(32), nullable=False),
    Column("run_id", String(64)),
    Column("step", String(256)),
    Column("rows", BigInteger, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("partitions", JSON, nullable=False),
    Column("committed_at", UTCDateTime(), nullable=False),
    UniqueConstraint("table_name", "version", name="uq_prodml_table_commits_version"),
)

runs = Table(
    "prodml_runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("product", String(128), nullable=False, index=True),
    Column("env", String(128), nullable=False),
    Column("catalog", String(128), nullable=False),
    Column("status", String(32), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime()),
    Column("principal", String(256), nullable=False),
    Column("run_as", String(256)),  # migration 0006: who the run executed as
    Column("git_sha", String(64)),
    Column("git_dirty", Boolean),
    Column("config_hash", String(64), nullable=False),
    Column("packages", JSON, nullable=False),
    Column("options", JSON, nullable=False),
    Column("resumed_from", String(64)),
    Column("error", Text),
    Column("pid", Integer),
    Column("host", String(256)),
)

step_runs = Table(
    "prodml_step_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False, index=True),
    Column("step", String(256), nullable=False),
    Column("product", String(128), nullable=False),
    Column("stage", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("reason", Text),
    Column("started_at", UTCDateTime()),
    Column("ended_at", UTCDateTime()),
    Column("cpu_seconds", Float),
    Column("peak_rss_bytes", BigInteger),
    Column("rows_written", BigInteger),
    Column("bytes_written", BigInteger),
    Column("inputs", JSON, nullable=False),
    Column("outputs", JSON, nullable=False),
    Column("partitions", JSON, nullable=False),
    Column("fingerprint", String(64)),
    Column("error", Text),
    Column("links", JSON),  # e.g. the tracking run of a train/evaluate step
    UniqueConstraint("run_id", "step", name="uq_prodml_step_runs_step"),
)

step_states = Table(
    "prodml_step_states",
    metadata,
    Column("catalog", String(128), primary_key=True),
    Column("step", String(256), primary_key=True),
    Column("partition", String(256), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

lineage_edges = Table(
    "prodml_lineage_edges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False, index=True),
    Column("step", String(256), nullable=False),
    Column("source", String(512), nullable=False, index=True),
    Column("source_version", BigInteger),
    Column("target", String(512), nullable=False, index=True),
    Column("target_version", BigInteger),
    Column("created_at", UTCDateTime(), nullable=False),
)

ab_decisions = Table(
    "prodml_ab_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("catalog", String(128), nullable=False),
    Column("product", String(128), nullable=False, index=True),
    Column("experiment", String(128), nullable=False, index=True),
    Column("decision", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("model", String(256)),
    Column("champion_before", BigInteger),
    Column("champion_after", BigInteger),
    Column("report", JSON, nullable=False),
    Column("decided_by", String(256), nullable=False),
    Column("decided_at", UTCDateTime(), nullable=False),
)

dq_results = Table(
    "prodml_dq_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("catalog", String(128), nullable=False),
    Column("table_name", String(512), nullable=False, index=True),
    Column("version", BigInteger),
    Column("run_id", String(64), index=True),
    Column("step", String(256)),
    Column("rule", String(256), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("action", String(16), nullable=False),
    Column("passed", Boolean),
    Column("failed_rows", BigInteger),
    Column("total_rows", BigInteger, nullable=False),
    Column("observed", Float),
    Column("samples", JSON, nullable=False),
    Column("message", Text, nullable=False),
    Column("checked_at", UTCDateTime(), nullable=False),
    # what the judged write covered: '' the whole table, else its partitions; NULL: added
    # (appends, checks). A write's results replace those of the write it redoes.
    Column("scope", Text),
)

feature_consumers = Table(
    "prodml_feature_consumers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("catalog", String(128), nullable=False),
    Column("feature_table", String(512), nullable=False, index=True),
    Column("feature", String(256), nullable=False),
    Column("table_version", BigInteger),
    Column("model", String(512), nullable=False, index=True),
    Column("model_version", Integer, nullable=False),
    Column("product", String(128), nullable=False),
    Column("run_id", String(64)),
    Column("logged_at", UTCDateTime(), nullable=False),
)

# -- governance -------------------------------------------------------------------------------

principals = Table(
    "prodml_principals",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("kind", String(32), nullable=False),  # user, group, service_principal
    Column("display_name", String(256), nullable=False),
    Column("email", String(256)),
    Column("source", String(16), nullable=False),  # config (prodml.yaml) or cli
    Column("created_at", UTCDateTime(), nullable=False),
)

group_members = Table(
    "prodml_group_members",
    metadata,
    Column("group_name", String(128), primary_key=True),
    Column("member", String(128), primary_key=True),
    Column("source", String(16), nullable=False),
)

tokens = Table(
    "prodml_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("principal", String(128), nullable=False, index=True),
    Column("name", String(128), nullable=False),
    Column("sha256", String(64), nullable=False, unique=True, index=True),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime()),
    Column("revoked_at", UTCDateTime()),
    # the one securable the token is for (an endpoint's declared tokens); None: any
    Column("scope", String(512)),
    Column("source", String(16), nullable=False, server_default="cli"),  # cli or config
)

grants = Table(
    "prodml_grants",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("securable_type", String(16), nullable=False),
    Column("securable", String(512), nullable=False, index=True),
    Column("principal", String(128), nullable=False, index=True),
    Column("privilege", String(32), nullable=False),
    Column("source", String(16), nullable=False),
    Column("granted_by", String(128), nullable=False),
    Column("granted_at", UTCDateTime(), nullable=False),
    UniqueConstraint("securable_type", "securable", "principal", "privilege"),
)

owners = Table(
    "prodml_owners",
    metadata,
    Column("securable_type", String(16), primary_key=True),
    Column("securable", String(512), primary_key=True),
    Column("owner", String(128), nullable=False),
    Column("source", String(16), nullable=False),
)

audit = Table(
    "prodml_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False, index=True),
    Column("principal", String(128), nullable=False, index=True),
    Column("run_as", String(128)),
    Column("action", String(64), nullable=False),
    Column("securable_type", String(16)),
    Column("securable", String(512), index=True),
    Column("privilege", String(32)),
    Column("outcome", String(16), nullable=False),  # allowed, denied, changed
    Column("reason", Text, nullable=False),
    Column("request_id", String(64)),
    Column("run_id", String(64)),
    Column("client", String(64)),
)

# one holder at a time of a named thing (catalog.leases): a product's runs in an environment
leases = Table(
    "prodml_leases",
    metadata,
    Column("name", String(400), primary_key=True),
    Column("token", String(64), nullable=False),
    Column("holder", Text, nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("acquired_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("info", JSON, nullable=False),
)

# what a table's data files hold (issue 13 item 7): a file-set id (a partition's files, or a
# version "v<n>") → the order-independent content id of its rows, so that rewriting the same
# rows (a backfill, a resume) does not look like a change to the steps that read them
partition_contents = Table(
    "prodml_partition_contents",
    metadata,
    Column("table_name", String(400), primary_key=True),
    Column("file_id", String(64), primary_key=True),
    Column("content", String(128), nullable=False),
)

# catalogs and schemas defined through the catalog API (0011): environments' catalogs and the
# schemas their tables are in are known without a record; these are the ones callers made
securables = Table(
    "prodml_securables",
    metadata,
    Column("securable_type", String(16), primary_key=True),  # catalog, schema
    Column("name", String(400), primary_key=True),  # full name
    Column("comment", Text),
    Column("properties", JSON, nullable=False),
    Column("storage_root", Text),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_by", String(128)),
    Column("updated_at", UTCDateTime(), nullable=False),
)
