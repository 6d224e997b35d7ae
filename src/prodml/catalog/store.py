"""The metadata store: tables, commits, runs, step states and lineage in SQLite or PostgreSQL."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from prodml.catalog import schema as s
from prodml.catalog.errors import MetadataStoreError
from prodml.errors import NotFoundError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def now() -> datetime:
    """The current time in UTC (aware)."""
    return datetime.now(UTC)


def _row(row: sa.Row[Any]) -> dict[str, Any]:
    return dict(row._mapping)  # timestamps are aware UTC (schema.UTCDateTime)


class MetadataStore:
    """Reads and writes prodml's metadata through SQLAlchemy Core (one class, any backend)."""

    def __init__(self, url: str, engine_factory: EngineFactory | None = None) -> None:
        self.url = url
        try:
            self.engine: Engine = _create_engine(url, engine_factory)
            self.migrate()
        except sa.exc.OperationalError as exc:
            from prodml.config.secrets import redact

            raise MetadataStoreError(
                f"cannot open the metadata store {redact(url)}: {exc.orig}",
                hint="check metadata.url in prodml.yaml and that the database server is running",
            ) from None
        except sa.exc.ArgumentError as exc:
            from prodml.config.secrets import redact

            raise MetadataStoreError(
                f"invalid metadata.url {redact(url)}: {exc}",
                hint="use sqlite:///path/prodml.db or postgresql+psycopg2://user@host/db",
            ) from None

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction (committed on success, rolled back on error)."""
        with self.engine.begin() as conn:
            yield conn

    def migrate(self) -> None:
        """Bring the schema to the head revision (no-op when it already is).

        One process at a time (a lock file beside a SQLite store, an advisory lock on
        PostgreSQL): two processes opening a new store at once both created its tables
        ('table prodml_tables already exists') or raced to switch it to WAL ('database is
        locked'); the second now waits, then finds the store migrated."""
        with self._migration_lock():
            with self.engine.connect() as conn:
                try:  # a plain query: importing Alembic costs more than the whole check
                    current = conn.execute(
                        sa.text("SELECT version_num FROM alembic_version")
                    ).scalar()
                except sa.exc.DBAPIError:
                    current = None
                conn.rollback()
            if current == s.HEAD_REVISION:
                return
            with self.engine.begin() as conn:
                if self.engine.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(7420130013)"))
                    current = (
                        conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
                        if sa.inspect(conn).has_table("alembic_version")
                        else None
                    )
                    if current == s.HEAD_REVISION:
                        return
                from alembic import command
                from alembic.config import Config

                cfg = Config()
                cfg.set_main_option("script_location", str(MIGRATIONS))
                cfg.attributes["connection"] = conn
                log.info("migrating metadata store from %s to %s", current, s.HEAD_REVISION)
                command.upgrade(cfg, "head")

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """An exclusive lock file beside a SQLite store (PostgreSQL: an advisory lock, taken
        in the migration's transaction)."""
        database = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        if (
            not database
            or database == ":memory:"
            or not os.path.isdir(os.path.dirname(database) or ".")
        ):
            yield  # nothing to serialize (a missing directory fails to open with its own error)
            return
        import fcntl

        with open(f"{database}.migrate.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # -- tables ---------------------------------------------------------------------------

    def upsert_table(self, record: Mapping[str, Any]) -> None:
        """Create or update a table's catalog entry (keyed by catalog, schema and name)."""
        key = {k: record[k] for k in ("catalog", "schema_name", "name")}
        values = {k: v for k, v in record.items() if k not in key}
        stamp = now()
        with self.begin() as conn:
            where = sa.and_(*(getattr(s.tables.c, k) == v for k, v in key.items()))
            existing = conn.execute(sa.select(s.tables.c.id).where(where)).first()
            if existing is None:
                conn.execute(
                    s.tables.insert().values(**key, **values, created_at=stamp, updated_at=stamp)
                )
            else:
                conn.execute(s.tables.update().where(where).values(**values, updated_at=stamp))

    def get_table(self, catalog: str, schema_name: str, name: str) -> dict[str, Any] | None:
        """The catalog entry of one table, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(s.tables).where(
                    s.tables.c.catalog == catalog,
                    s.tables.c.schema_name == schema_name,
                    s.tables.c.name == name,
                )
            ).first()
        return _row(row) if row else None

    def list_tables(self, catalog: str | None = None) -> list[dict[str, Any]]:
        """Catalog entries, sorted by name."""
        query = sa.select(s.tables).order_by(
            s.tables.c.catalog, s.tables.c.schema_name, s.tables.c.name
        )
        if catalog is not None:
            query = query.where(s.tables.c.catalog == catalog)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def placements(self) -> dict[str, str]:
        """Where the tables defined through the catalog API live (full name → location):
        an EXTERNAL table's files are where it was registered, not under the storage root."""
        t = s.tables
        query = sa.select(t.c.catalog, t.c.schema_name, t.c.name, t.c.location).where(
            t.c.table_type.is_not(None)
        )
        with self.engine.connect() as conn:
            return {f"{c}.{sc}.{n}": loc for c, sc, n, loc in conn.execute(query)}

    def delete_table(self, catalog: str, schema_name: str, name: str) -> bool:
        """Remove a table's catalog entry (its files are the caller's business)."""
        t = s.tables
        with self.begin() as conn:
            done = conn.execute(
                sa.delete(t).where(
                    t.c.catalog == catalog, t.c.schema_name == schema_name, t.c.name == name
                )
            )
        return bool(done.rowcount)

    # -- catalogs and schemas defined through the catalog API -----------------------------

    def add_securable(self, record: Mapping[str, Any]) -> bool:
        """Record a catalog or schema made through the catalog API; False when one of that
        type and name exists (nothing is changed)."""
        t, stamp = s.securables, now()
        with self.begin() as conn:
            found = conn.execute(
                sa.select(t.c.name).where(
                    t.c.securable_type == record["securable_type"], t.c.name == record["name"]
                )
            ).first()
            if found is not None:
                return False
            conn.execute(t.insert().values(**record, created_at=stamp, updated_at=stamp))
        return True

    def securable(self, kind: str, name: str) -> dict[str, Any] | None:
        """A catalog or schema made through the catalog API, or None."""
        t = s.securables
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t).where(t.c.securable_type == kind, t.c.name == name)
            ).first()
        return _row(row) if row else None

    def securables(self, kind: str, within: str | None = None) -> list[dict[str, Any]]:
        """Catalogs (or a catalog's schemas: ``within``) made through the catalog API."""
        t = s.securables
        query = sa.select(t).where(t.c.securable_type == kind).order_by(t.c.name)
        if within is not None:
            query = query.where(t.c.name.startswith(f"{within}.", autoescape=True))
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def update_securable(self, kind: str, name: str, **values: Any) -> None:
        """Change a recorded catalog's or schema's comment, properties (and who did)."""
        t = s.securables
        with self.begin() as conn:
            conn.execute(
                t.update()
                .where(t.c.securable_type == kind, t.c.name == name)
                .values(**values, updated_at=now())
            )

    def delete_securable(self, kind: str, name: str) -> None:
        """Remove a catalog's or schema's record (and, for a catalog, its schemas')."""
        t = s.securables
        with self.begin() as conn:
            conn.execute(sa.delete(t).where(t.c.securable_type == kind, t.c.name == name))
            if kind == "catalog":
                conn.execute(
                    sa.delete(t).where(
                        t.c.securable_type == "schema",
                        t.c.name.startswith(f"{name}.", autoescape=True),
                    )
                )

    def record_commit(self, record: Mapping[str, Any]) -> None:
        """Remember one Delta commit prodml made (idempotent per table and version)."""
        with self.begin() as conn:
            exists = conn.execute(
                sa.select(s.table_commits.c.id).where(
                    s.table_commits.c.table_name == record["table_name"],
                    s.table_commits.c.version == record["version"],
                )
            ).first()
            if exists is None:
                conn.execute(s.table_commits.insert().values(committed_at=now(), **record))

    def commits(self, table_name: str) -> list[dict[str, Any]]:
        """The commits prodml made to a table, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(s.table_commits)
                .where(s.table_commits.c.table_name == table_name)
                .order_by(s.table_commits.c.version.desc())
            )
            return [_row(r) for r in rows]

    # -- runs -----------------------------------------------------------------------------

    def create_run(self, record: Mapping[str, Any]) -> None:
        """Insert a new run record."""
        with self.begin() as conn:
            conn.execute(s.runs.insert().values(**record))

    def update_run(self, run_id: str, **values: Any) -> None:
        """Update fields of a run."""
        with self.begin() as conn:
            conn.execute(s.runs.update().where(s.runs.c.run_id == run_id).values(**values))

    def get_run(self, run_id: str) -> dict[str, Any]:
        """One run, found by its id or a unique prefix of it.

        Raises:
            NotFoundError: no run (or more than one) matches.
        """
        if not run_id.strip():
            raise NotFoundError("run", run_id, hint="give a run id (see 'prodml runs list')")
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(s.runs)
                .where(s.runs.c.run_id.startswith(run_id, autoescape=True))
                .limit(2)
            ).all()
            if len(rows) != 1:
                recent = conn.execute(
                    sa.select(s.runs.c.run_id).order_by(s.runs.c.started_at.desc()).limit(5)
                ).scalars()
                hint = "the id prefix is ambiguous" if rows else None
                raise NotFoundError(
                    "run", run_id, list(recent), hint=hint, listed_by="prodml runs list"
                )
            return _row(rows[0])

    def list_runs(
        self, *, product: str | None = None, catalog: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Runs, newest first."""
        query = sa.select(s.runs).order_by(s.runs.c.started_at.desc()).limit(limit)
        if product:
            query = query.where(s.runs.c.product == product)
        if catalog:
            query = query.where(s.runs.c.catalog == catalog)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def upsert_step_run(self, run_id: str, step: str, **values: Any) -> None:
        """Create or update the record of one step in one run."""
        with self.begin() as conn:
            where = sa.and_(s.step_runs.c.run_id == run_id, s.step_runs.c.step == step)
            if conn.execute(sa.select(s.step_runs.c.id).where(where)).first() is None:
                values.setdefault("inputs", {})
                values.setdefault("outputs", {})
                values.setdefault("partitions", [])
                conn.execute(s.step_runs.insert().values(run_id=run_id, step=step, **values))
            else:
                conn.execute(s.step_runs.update().where(where).values(**values))

    def step_runs(self, run_id: str) -> list[dict[str, Any]]:
        """The step records of a run, in execution order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(s.step_runs)
                .where(s.step_runs.c.run_id == run_id)
                .order_by(s.step_runs.c.id)
            )
            return [_row(r) for r in rows]

    # -- step states (fingerprints) ---------------------------------------------------------

    def get_states(self, catalog: str, step: str) -> dict[str, str]:
        """Fingerprints recorded per partition ('' for an unpartitioned step)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(s.step_states.c.partition, s.step_states.c.fingerprint).where(
                    s.step_states.c.catalog == catalog, s.step_states.c.step == step
                )
            )
            return {r.partition: r.fingerprint for r in rows}

    def set_states(
        self,
        catalog: str,
        step: str,
        fingerprints: Mapping[str, str],
        run_id: str,
        *,
        replace: bool,
    ) -> None:
        """Record fingerprints; ``replace`` drops every other partition's state first."""
        stamp = now()
        with self.begin() as conn:
            base = sa.and_(s.step_states.c.catalog == catalog, s.step_states.c.step == step)
            if replace:
                conn.execute(s.step_states.delete().where(base))
            elif fingerprints:
                conn.execute(
                    s.step_states.delete().where(
                        base, s.step_states.c.partition.in_(list(fingerprints))
                    )
                )
            if fingerprints:
                conn.execute(
                    s.step_states.insert(),
                    [
                        {
                            "catalog": catalog,
                            "step": step,
                            "partition": part,
                            "fingerprint": fp,
                            "run_id": run_id,
                            "updated_at": stamp,
                        }
                        for part, fp in fingerprints.items()
                    ],
                )

    # -- lineage --------------------------------------------------------------------------

    def add_edges(self, edges: Iterable[Mapping[str, Any]]) -> None:
        """Append lineage edges (source → step → target)."""
        rows = [{**e, "created_at": now()} for e in edges]
        if rows:
            with self.begin() as conn:
                conn.execute(s.lineage_edges.insert(), rows)

    def record_decision(self, record: Mapping[str, Any]) -> int:
        """Record an A/B-test decision; returns its id."""
        with self.begin() as conn:
            result = conn.execute(s.ab_decisions.insert().values(**record, decided_at=now()))
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def decisions(
        self, catalog: str, *, product: str | None = None, experiment: str | None = None
    ) -> list[dict[str, Any]]:
        """Decisions taken, newest first."""
        query = (
            sa.select(s.ab_decisions)
            .where(_decisions_where(catalog, product, experiment))
            .order_by(s.ab_decisions.c.id.desc())
        )
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    # -- content ids of data files -------------------------------------------------------

    def record_contents(self, table: str, contents: Mapping[str, str]) -> None:
        """Record file-set id → content id pairs of ``table`` (known ones are kept)."""
        if not contents:
            return
        with self.begin() as conn:
            known = self._contents(conn, table, list(contents))
            new = [
                {"table_name": table, "file_id": k, "content": v}
                for k, v in contents.items()
                if k not in known
            ]
            if new:
                conn.execute(sa.insert(s.partition_contents), new)

    def contents(self, table: str, file_ids: Iterable[str]) -> dict[str, str]:
        """The content ids known for ``file_ids`` of ``table``."""
        with self.engine.connect() as conn:
            return self._contents(conn, table, list(file_ids))

    @staticmethod
    def _contents(conn: Connection, table: str, ids: list[str]) -> dict[str, str]:
        c = s.partition_contents.c
        out: dict[str, str] = {}
        for i in range(0, len(ids), 500):  # bounded IN lists
            rows = conn.execute(
                sa.select(c.file_id, c.content).where(
                    c.table_name == table, c.file_id.in_(ids[i : i + 500])
                )
            )
            out.update({r.file_id: r.content for r in rows})
        return out

    # -- audit ----------------------------------------------------------------------------

    def expire(self, kind: str, before: datetime) -> int:
        """Delete the ``audit`` records or ``dq_results`` older than ``before``; how many."""
        table, column = {
            "audit": (s.audit, s.audit.c.at),
            "dq_results": (s.dq_results, s.dq_results.c.checked_at),
        }[kind]
        with self.begin() as conn:
            return int(conn.execute(table.delete().where(column < before)).rowcount or 0)

    def audit(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Append audit records (stamped now unless they say ``at``)."""
        values = [{"at": datetime.now(UTC), **r} for r in rows]
        if values:
            with self.begin() as conn:
                conn.execute(sa.insert(s.audit), values)

    # -- data quality -----------------------------------------------------------------------

    def record_dq(
        self, rows: Iterable[Mapping[str, Any]], *, replace_scopes: Sequence[str] = ()
    ) -> None:
        """Add data-quality results; they replace (in the same transaction) the results of
        the same table and step whose scope is one of ``replace_scopes``."""
        stamp = now()
        values = [{**r, "checked_at": stamp} for r in rows]
        if not values:
            return
        t = s.dq_results
        with self.begin() as conn:
            if replace_scopes:
                first = values[0]
                conn.execute(
                    sa.delete(t).where(
                        t.c.table_name == first["table_name"],
                        t.c.step == first["step"],
                        t.c.scope.in_(list(replace_scopes)),
                    )
                )
            conn.execute(t.insert(), values)

    def dq_scopes(self, table: str, step: str) -> list[str]:
        """The scopes of the results recorded for writes of ``table`` by ``step``."""
        t = s.dq_results
        query = (
            sa.select(t.c.scope)
            .distinct()
            .where(t.c.table_name == table, t.c.step == step, t.c.scope.is_not(None))
        )
        with self.engine.connect() as conn:
            return [v for (v,) in conn.execute(query)]

    def dq_results(
        self, catalog: str, *, table: str | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        """Data-quality results, newest first."""
        t = s.dq_results
        query = sa.select(t).where(t.c.catalog == catalog).order_by(t.c.id.desc()).limit(limit)
        if table:
            query = query.where(t.c.table_name == table)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def dq_failures(self, run_id: str) -> list[dict[str, Any]]:
        """The results of ``run_id``'s writes whose rule failed, oldest first."""
        t = s.dq_results
        query = sa.select(t).where(t.c.run_id == run_id, t.c.passed.is_(False)).order_by(t.c.id)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def dq_history(self, table: str, rule: str, limit: int = 60) -> list[float]:
        """Earlier observed values of a rule on a table, oldest first (anomaly checks)."""
        t = s.dq_results
        query = (
            sa.select(t.c.observed)
            .where(t.c.table_name == table, t.c.rule == rule, t.c.observed.is_not(None))
            .order_by(t.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [float(v) for (v,) in conn.execute(query)][::-1]

    # -- feature store ----------------------------------------------------------------------

    def record_feature_consumers(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Record that a model version was trained on features (one row per feature)."""
        stamp = now()
        values = [{**r, "logged_at": stamp} for r in rows]
        if values:
            with self.begin() as conn:
                conn.execute(s.feature_consumers.insert(), values)

    def feature_consumers(
        self, catalog: str, feature_table: str | None = None
    ) -> list[dict[str, Any]]:
        """Feature consumers of a catalog (optionally one feature table), oldest first."""
        t = s.feature_consumers
        query = sa.select(t).where(t.c.catalog == catalog).order_by(t.c.id)
        if feature_table:
            query = query.where(t.c.feature_table == feature_table)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def edges(
        self,
        *,
        target: str | None = None,
        source: str | None = None,
        catalog: str | None = None,
    ) -> list[dict[str, Any]]:
        """Lineage edges into ``target`` or out of ``source``; with ``catalog``, only those
        recorded by runs in that catalog (environments may share a metadata store)."""
        e = s.lineage_edges
        query = sa.select(e).order_by(e.c.id)
        if target:
            query = query.where(e.c.target == target)
        if source:
            query = query.where(e.c.source == source)
        if catalog:
            runs = sa.select(s.runs.c.run_id).where(s.runs.c.catalog == catalog)
            query = query.where(e.c.run_id.in_(runs))
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]


# -- A/B decisions ---------------------------------------------------------------------------


def _decisions_where(catalog: str, product: str | None, experiment: str | None) -> Any:
    cond = [s.ab_decisions.c.catalog == catalog]
    if product:
        cond.append(s.ab_decisions.c.product == product)
    if experiment:
        cond.append(s.ab_decisions.c.experiment == experiment)
    return sa.and_(*cond)


#: makes the SQLAlchemy engine of a metadata URL (the ``metadata`` backends)
EngineFactory = Callable[[str], Engine]


def sqlite_engine(url: str) -> Engine:
    """The ``sqlite`` metadata backend: WAL, and waits rather than fails on a busy file."""
    engine = sa.create_engine(url, connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def postgresql_engine(url: str) -> Engine:
    """The ``postgresql`` (and generic ``sqlalchemy``) metadata backend: a pooled engine
    whose connections are checked before use."""
    return sa.create_engine(url, pool_pre_ping=True)


def metadata_type(url: str) -> str:
    """The metadata backend a URL implies: ``sqlite``, ``postgresql``, else ``sqlalchemy``."""
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    return scheme if scheme in ("sqlite", "postgresql") else "sqlalchemy"


def _create_engine(url: str, factory: EngineFactory | None) -> Engine:
    if factory is None:
        from prodml import backends

        factory = backends.load("metadata", metadata_type(url))
    return factory(url)
