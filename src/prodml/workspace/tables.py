"""The façade's catalog: tables, their history and rows (through the gate), and lineage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prodml.names import quote_ident, quote_literal

if TYPE_CHECKING:
    import pyarrow as pa

    from prodml.catalog.gate import TableInfo
    from prodml.catalog.lineage import Edge
    from prodml.catalog.policies import Access
    from prodml.names import TableName
    from prodml.workspace.wiring import Wiring


class TableMethods:
    """Tables of this environment's catalog."""

    _w: Wiring

    @property
    def catalog_name(self) -> str:
        """The catalog of this environment."""
        return self._w.settings.catalog

    def _access(self) -> Access:
        from prodml.catalog.policies import Access

        return Access(self._w.principal, client=self._w.client)

    def tables(self) -> list[TableInfo]:
        """Every table of this environment's catalog that you may see."""
        return self._w.catalog.list(self._access())

    def catalog_entries(self, catalog: str | None = None) -> list[dict[str, Any]]:
        """The records of the tables you may see in this catalog (or in ``catalog``, one
        made through the catalog API); no table is opened: fast."""
        return self._w.catalog.entries(self._access(), catalog)

    def schemas(self, catalog: str | None = None) -> list[str]:
        """The schemas of this catalog (or of ``catalog``) that you may use (USE_SCHEMA):
        those its tables are in and those made through the catalog API."""
        catalog = catalog or self.catalog_name
        return [s["name"].split(".")[1] for s in self.schema_records(catalog)]

    def schema_records(self, catalog: str) -> list[dict[str, Any]]:
        """The records of a catalog's schemas that you may use (USE_SCHEMA)."""
        return [
            s
            for s in self._w.definitions.schemas(catalog)
            if self._w.admin.holds("USE_SCHEMA", "schema", s["name"])
        ]

    def table(self, name: str) -> TableInfo:
        """One table's catalog entry and live facts (its metadata: checked and audited);
        each column with its declared ``tags`` and ``mask``, if any."""
        catalog = self._w.catalog
        full = catalog.name(name)
        info = catalog.describe(full, self._access())
        controls = self._w.governance.column_controls(str(full))
        info.columns = [{**c, **controls.get(c["name"], {})} for c in info.columns]
        return info

    def table_exists(self, name: str) -> bool:
        """Whether a table has been written."""
        catalog = self._w.catalog
        return catalog.exists(catalog.name(name), self._access())

    def history(self, name: str, limit: int | None = None) -> list[dict[str, Any]]:
        """A table's commit history, newest first (a read: checked and audited)."""
        catalog = self._w.catalog
        return catalog.history(catalog.name(name), self._access(), limit)

    def read(self, name: str, *, version: int | None = None) -> pa.Table:
        """A whole table (optionally at an older version) as Arrow."""
        catalog = self._w.catalog
        dataset, _ = catalog.read(catalog.name(name), self._access(), version=version)
        return dataset.to_table()

    def preview(self, name: str, *, version: int | None = None, limit: int = 20) -> pa.Table:
        """The first ``limit`` rows of a table."""
        catalog = self._w.catalog
        dataset, _ = catalog.read(catalog.name(name), self._access(), version=version)
        return dataset.head(limit)

    def lineage(self, name: str, *, upstream: bool = True, depth: int = 50) -> list[Edge]:
        """Lineage edges from a table (``gold.x``), a landing source (``landing:orders``) or
        a model version (``model:dev.ml.churn/1``), upstream or downstream."""
        return self._w.catalog.lineage(name, self._access(), upstream=upstream, depth=depth)

    # -- maintenance -------------------------------------------------------------------------

    def _names(self, name: str | None) -> list[TableName]:
        """``name``, or every table of the catalog."""
        catalog = self._w.catalog
        if name is not None:
            return [catalog.name(name)]
        entries = catalog.entries(self._access())
        return [catalog.name(f"{e['schema_name']}.{e['name']}") for e in entries]

    def check_tables(
        self, name: str | None = None, *, repair: bool = False
    ) -> list[dict[str, Any]]:
        """Per table (``name`` or all): the data files its log lists that storage lost
        (read from the log: no data is scanned), with the commands that repair it; with
        ``repair`` the lost files are forgotten (the table reads again, without their rows)."""
        catalog, access, out = self._w.catalog, self._access(), []
        for table in self._names(name):
            lost = catalog.check(table, access)
            entry: dict[str, Any] = {"table": str(table), "lost_files": [f.path for f in lost]}
            entry["partitions"] = sorted({f.where() for f in lost})
            if lost:
                entry["repair"] = catalog.repair_hint(table, lost)
            if lost and repair:
                entry["repaired"] = catalog.maintain(table, access, "repair")
            out.append(entry)
        return out

    def optimize(
        self, name: str | None = None, *, target_size: int | None = None
    ) -> list[dict[str, Any]]:
        """Compact small files of a table (or all): one commit each, the same rows."""
        catalog, access = self._w.catalog, self._access()
        return [
            {"table": str(t), **catalog.maintain(t, access, "optimize", target_size=target_size)}
            for t in self._names(name)
        ]

    def vacuum(
        self, name: str | None = None, *, retention_hours: int | None = None, dry_run: bool = False
    ) -> list[dict[str, Any]]:
        """Delete the files of a table (or all) that no version younger than
        ``retention_hours`` (default: 7 days) needs; ``dry_run`` lists them only."""
        from prodml.tables.maintenance import VACUUM_RETENTION_HOURS

        hours = VACUUM_RETENTION_HOURS if retention_hours is None else retention_hours
        catalog, access = self._w.catalog, self._access()
        return [
            {
                "table": str(t),
                **catalog.maintain(t, access, "vacuum", retention_hours=hours, dry_run=dry_run),
            }
            for t in self._names(name)
        ]

    def forget(self, name: str, *, key: str) -> dict[str, Any]:
        """Delete one subject's rows (``key``: ``customer_id=C000050``) from a table and from
        its history (older versions' files and log entries); audited."""
        from prodml.tables.maintenance import key_predicate

        catalog, access = self._w.catalog, self._access()
        table = catalog.name(name)
        schema = catalog.read(table, access)[0].schema
        predicate = key_predicate(str(table), schema, key)
        return {
            "table": str(table),
            "key": key,
            **catalog.maintain(table, access, "forget", predicate=predicate, key=key),
        }

    def retain(self) -> list[dict[str, Any]]:
        """Delete what is past the environment's ``retention`` (prodml.yaml): inference-log,
        DQ-result and quarantine rows (one commit per table; ``vacuum`` frees the files) and
        the metadata store's DQ results and audit records; what each lost."""
        from datetime import UTC, datetime, timedelta

        now, out = datetime.now(UTC), []
        catalog, access = self._w.catalog, self._access()
        for name, column, keep in _retention_targets(self._w, self.catalog_entries()):
            before = (now - timedelta(days=keep)).isoformat()
            predicate = f"{quote_ident(column)} < {quote_literal(before)}"
            done = catalog.maintain(catalog.name(name), access, "retain", predicate=predicate)
            out.append({"table": str(catalog.name(name)), "before": before, **done})
        days = self._w.settings.retention
        for kind, kept in (("dq_results", days.dq_results_days), ("audit", days.audit_days)):
            if kept is not None:  # the metadata store's records: every table's, so admins'
                self._w.governance.require_admin(
                    self._w.principal, f"expire {kind} records", "expire the platform's records"
                )
                at = now - timedelta(days=kept)
                gone = self._w.store.expire(kind, at)
                out.append(
                    {"table": f"metadata {kind}", "before": at.isoformat(), "rows_deleted": gone}
                )
        if days.audit_days is not None:  # that audit records went is audited
            self._w.store.audit([_expired_audit(self._w.principal, out[-1])])
        return out


def _retention_targets(w: Wiring, entries: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(table, its time column, days kept) of every existing log table with a retention."""
    days = w.settings.retention
    names = {f"{e['schema_name']}.{e['name']}" for e in entries}
    logs = [p.config.inference_log_table for p in w.products.values() if p.config.endpoint]
    wanted = [(t, "time", days.inference_log_days) for t in logs]
    wanted.append(("monitoring.dq_results", "checked_at", days.dq_results_days))
    wanted += [
        (t, "_dq_checked_at", days.quarantine_days)
        for t in sorted(names)
        if t.endswith("__quarantine")
    ]
    return [(t, c, d) for t, c, d in wanted if d is not None and t in names]


def _expired_audit(principal: str, done: dict[str, Any]) -> dict[str, Any]:
    return {
        "principal": principal,
        "action": "audit.expire",
        "outcome": "changed",
        "reason": f"{done['rows_deleted']} audit records before {done['before']} deleted",
        "client": "maintenance",
    }
