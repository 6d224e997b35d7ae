"""The catalog gate: every table read and write goes through here, never straight to Delta.

Reads of rows, of commit history and of a table's state (what planning compares), writes,
and the lineage links of model versions pass the policies in order: governance decides and
audits, quality judges writes, the records policy keeps commits and lineage.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from prodml.catalog.errors import AlreadyExistsError
from prodml.catalog.policies import (
    Access,
    DefineEvent,
    LinkEvent,
    MaintainEvent,
    Policy,
    ReadEvent,
    ReadKind,
    Restriction,
    WriteEvent,
)
from prodml.catalog.store import MetadataStore
from prodml.errors import NotFoundError, UsageError
from prodml.names import TableName
from prodml.tables.delta import DeltaTables, WriteResult, WriteSpec, add_actions
from prodml.tables.maintenance import LostFile, LostFilesError

if TYPE_CHECKING:
    # importing pyarrow.dataset pulls in pandas: only when a table is read
    import pyarrow.dataset as pads

    from prodml.catalog.lineage import Edge


@dataclass
class TableInfo:
    """What the catalog knows about a table."""

    name: str
    schema: str
    layer: str | None
    owner_product: str | None
    producer_step: str | None
    description: str
    columns: list[dict[str, Any]]
    partition_by: list[str]
    keys: list[str]
    location: str
    version: int | None
    rows: int | None
    bytes: int | None
    updated_at: datetime | None = None


class Catalog:
    """Tables of one catalog (environment): names, metadata, and gated reads and writes."""

    def __init__(
        self, catalog: str, store: MetadataStore, tables: DeltaTables, policies: Sequence[Policy]
    ) -> None:
        self.catalog = catalog
        self.store = store
        self._tables = tables
        self.policies = list(policies)
        self._placed: dict[str, str] | None = None  # tables defined by location (lazy)

    def name(self, text: str | TableName) -> TableName:
        """Parse and validate a table name (``schema.table`` resolves in this catalog)."""
        return text if isinstance(text, TableName) else TableName.parse(text, self.catalog)

    def location(self, table: TableName) -> str:
        """Where the table's files live: under the storage root, or where a table defined
        through the catalog API was placed (an EXTERNAL table's own location)."""
        if self._placed is None:
            self._placed = self.store.placements()
        placed = self._placed.get(str(table))
        return placed or self._tables.location(table.catalog, table.schema, table.table)

    def storage_location(self, table: TableName) -> str:
        """:meth:`location` as a URI (``file:///…`` for local tables)."""
        return _uri(self.location(table))

    def _catalog_root(self, catalog: str) -> str:
        return self._tables.location(catalog, "", "").rstrip("/")

    def storage_root(self, catalog: str) -> str:
        """Where a catalog's managed tables live, as a URI."""
        return _uri(self._catalog_root(catalog))

    def holds_location(self, catalog: str, location: str) -> bool:
        """Whether ``location`` is in (or holds) a catalog's managed storage."""
        return _overlaps(_local(location), _local(self._catalog_root(catalog)))

    def exists(self, table: TableName, access: Access | None = None) -> bool:
        """Whether the table has been written. With ``access``, that is asked for a person and
        is the table's metadata: the policies decide first (a refusal is raised and audited),
        so that whether a table exists cannot be learnt without the right to see it."""
        if access is not None:
            self.check_read(table, access, "metadata")
        return self._tables.exists(self.location(table))

    def check_read(self, table: TableName, access: Access, kind: ReadKind = "data") -> None:
        """The policies' decision on a read, before anything about the table is looked up
        (raised and audited when refused): for work that may end before it reads (a
        publish with nothing new) but must not be done by those who may not read."""
        event = ReadEvent(table=table, version=None, access=access, kind=kind)
        for policy in self.policies:
            policy.before_read(event)

    def version(self, table: TableName) -> int | None:
        """The current version, or None if the table does not exist."""
        location = self.location(table)
        if not self._tables.exists(location):
            return None
        return int(self._tables.open(location, name=str(table)).version())

    def table_id(self, table: TableName) -> str | None:
        """The Delta table's id (a new one when the table is dropped and created again)."""
        location = self.location(table)
        if not self._tables.exists(location):
            return None
        return str(self._tables.open(location, name=str(table)).metadata().id)

    def require(self, table: TableName, access: Access | None = None) -> None:
        """Raise ``NotFoundError`` if ``table`` does not exist, with the known tables that
        ``access`` may see (all of them without it: the gate's own lookups)."""
        if not self.exists(table) and self._placed is not None:
            self._placed = None  # defined elsewhere since it was read: look again
        if not self.exists(table):
            known = [
                f"{t['schema_name']}.{t['name']}"
                for t in self.store.list_tables(table.catalog)
                if access is None or self.visible(self._entry_name(t), access)
            ]
            raise NotFoundError(
                "table", table.short if table.catalog == self.catalog else str(table), known
            )

    def register(
        self,
        table: TableName,
        *,
        owner_product: str | None,
        producer_step: str | None,
        description: str,
        column_docs: Mapping[str, str],
        partition_by: Sequence[str],
        keys: Sequence[str],
        schema: pa.Schema | None,
    ) -> None:
        """Create or update the table's catalog entry."""
        self.store.upsert_table(
            {
                "catalog": table.catalog,
                "schema_name": table.schema,
                "name": table.table,
                "owner_product": owner_product,
                "producer_step": producer_step,
                "layer": table.layer,
                "description": description,
                "columns": _columns(schema, column_docs),
                "partition_by": list(partition_by),
                "keys": list(keys),
                "location": self.location(table),
            }
        )

    # -- tables defined through the catalog API ---------------------------------------------

    def create_table(
        self,
        table: TableName,
        access: Access,
        *,
        table_type: str,
        schema: pa.Schema | None,
        column_docs: Mapping[str, str],
        location: str | None,
        description: str,
        properties: Mapping[str, str],
    ) -> None:
        """Define a table: ``EXTERNAL`` registers the Delta table at ``location`` (its columns
        are that table's; ``schema``, if given, must name the same ones), ``MANAGED`` creates an
        empty one with ``schema`` under the storage root. Checked first (CREATE_TABLE on the
        schema, as a write of a new table is); its creator owns it; audited."""
        _check_definition(table_type, schema, location)
        event = DefineEvent("table", str(table), "create", access)
        for policy in self.policies:
            policy.before_define(event)
        if self.store.get_table(table.catalog, table.schema, table.table) or self.exists(table):
            raise AlreadyExistsError(f"table {table} already exists")
        if table_type == "EXTERNAL":
            assert location is not None  # _check_definition
            location = self._external(table, location)
            found = pa.schema(self._tables.open(location, name=str(table)).schema().to_arrow())
            if schema is not None and schema.names != found.names:
                raise UsageError(
                    f"the columns given for {table} ({', '.join(schema.names)}) are not those "
                    f"of the Delta table at {location} ({', '.join(found.names)})",
                    hint="leave the columns out: an external table's are its Delta table's",
                )
            schema = found
        else:
            assert schema is not None  # _check_definition
            location = self._tables.location(table.catalog, table.schema, table.table)
            self._tables.create(location, schema, description=description)
        self.store.upsert_table(
            {
                "catalog": table.catalog,
                "schema_name": table.schema,
                "name": table.table,
                "layer": table.layer,
                "description": description,
                "columns": _columns(schema, column_docs),
                "partition_by": [],
                "keys": [],
                "location": location,
                "table_type": table_type,
                "created_by": access.principal,
                "properties": dict(properties),
            }
        )
        self._placed = None
        for policy in self.policies:
            policy.after_define(event)

    def _external(self, table: TableName, location: str) -> str:
        """An external table's files (as a path for local ones): a Delta table under the
        storage root that no other table (and no catalog's managed storage) holds, so that a
        second name cannot reach another table's rows."""
        location = _local(location)
        root = _local(self._tables.root)
        if not _overlaps(location, root) or location.rstrip("/") == root.rstrip("/"):
            raise UsageError(
                f"{location} is outside the storage root {root}",
                hint="external tables are registered from under the platform's storage root",
            )
        if not self._tables.exists(location):
            raise UsageError(
                f"there is no Delta table at {location}",
                hint="write the Delta table there first, or create a MANAGED table with columns",
            )
        catalogs = {t["catalog"] for t in self.store.list_tables()} | {table.catalog}
        managed = [self._catalog_root(c) for c in sorted(catalogs)]
        taken = [*managed, *self.store.placements().values()]
        for other in taken:
            if _overlaps(location, other):
                raise UsageError(
                    f"{location} overlaps {other}, the storage of another table or catalog",
                    hint="an external table's files must be its own, outside catalogs' storage",
                )
        return location

    def drop_table(self, table: TableName, access: Access) -> None:
        """Drop a table defined through the catalog API (its owner, MANAGE holders and admins;
        checked before it is looked up; audited): a MANAGED table's files go with it, an
        EXTERNAL table's stay where they are. Tables products write are theirs to keep."""
        event = DefineEvent("table", str(table), "delete", access)
        for policy in self.policies:
            policy.before_define(event)
        entry = self.store.get_table(table.catalog, table.schema, table.table)
        if entry is None:
            raise NotFoundError("table", str(table), message=f"table {table} does not exist")
        if not entry.get("table_type"):
            maker = entry.get("owner_product")
            raise UsageError(
                f"table {table} is written by "
                + (f"product {maker} (step {entry.get('producer_step')})" if maker else "prodml"),
                hint="tables that products write are removed from their product, not dropped",
            )
        if entry["table_type"] != "EXTERNAL":
            self._tables.remove(entry["location"])
        self.store.delete_table(table.catalog, table.schema, table.table)
        self._placed = None
        for policy in self.policies:
            policy.after_define(event)

    def write(
        self,
        table: TableName,
        data: pa.Table | pa.RecordBatchReader,
        spec: WriteSpec,
        access: Access,
        *,
        sources: Mapping[str, int | None] | None = None,
    ) -> WriteResult:
        """Write through the policies: check → one atomic Delta commit → records.

        ``sources``: a step output's lineage besides the tables the step read through the
        gate (landing sources, model versions); None for writes without lineage (logs).
        """
        event = WriteEvent(table=table, data=data, spec=spec, access=access, sources=sources)
        for policy in self.policies:
            policy.before_write(event)
        result = self._tables.write(self.location(table), event.data, spec)
        if sources is not None and result.operation != "noop":  # a step's output
            self._record_contents(table, event, result)
        for policy in self.policies:
            policy.after_write(event, result)
        return result

    def _record_contents(self, table: TableName, event: WriteEvent, result: WriteResult) -> None:
        """Record what the files of the partitions this write made hold (their rows' content
        id), or what the whole table holds after an overwrite: planning then compares
        content, so an identical rewrite changes nothing downstream."""
        from prodml.engine.local import content_ids

        location, name = self.location(table), str(table)
        columns = (
            self._tables.open(location, result.version, name=name).metadata().partition_columns
        )
        if len(columns) == 1:
            ids = self._tables.partition_ids(location, columns[0], version=result.version)
            known = self.store.contents(name, ids.values())
            todo = sorted(p for p, i in ids.items() if i not in known)
            if not todo:
                return
            rows = self._tables.dataset(
                location, version=result.version, partition_column=columns[0], partitions=todo
            ).to_table()
            found = content_ids(rows, columns[0])
            self.store.record_contents(name, {ids[p]: f"c:{found[p]}" for p in todo if p in found})
        elif (
            not columns
            and event.spec.mode == "overwrite"
            and event.spec.replace_where is None
            and isinstance(event.data, pa.Table)
        ):
            whole = content_ids(event.data)[""]
            self.store.record_contents(name, {f"v{result.version}": f"c:{whole}"})

    def append(
        self,
        table: TableName,
        data: pa.Table,
        access: Access,
        *,
        description: str,
        column_docs: Mapping[str, str] | None = None,
        partition_by: Sequence[str] = (),
        owner_product: str | None = None,
        evolve: bool = False,
    ) -> WriteResult:
        """Append to a table prodml itself keeps (logs, results), registering it on first use."""
        if not self.exists(table):
            self.register(
                table,
                owner_product=owner_product,
                producer_step=access.step,
                description=description,
                column_docs=column_docs or {},
                partition_by=partition_by,
                keys=[],
                schema=data.schema,
            )
        spec = WriteSpec(str(table), "append", partition_by=partition_by, evolve=evolve)
        return self.write(table, data, spec, access)

    def prepare(
        self,
        table: TableName,
        data: pa.Table | pa.RecordBatchReader,
        spec: WriteSpec,
        access: Access,
    ) -> pa.Table | pa.RecordBatchReader:
        """The rows a write of ``data`` would commit (after the policies' changes, e.g. rows
        dropped by expectations), with no side effects: for reproducing a write elsewhere."""
        event = WriteEvent(table=table, data=data, spec=spec, access=access)
        for policy in self.policies:
            policy.prepare(event)
        return event.data

    def read(
        self,
        table: TableName,
        access: Access,
        *,
        version: int | None = None,
        partition_column: str | None = None,
        partitions: Sequence[str] | None = None,
    ) -> tuple[pads.Dataset, int]:
        """An Arrow dataset over ``table`` (time travel, partition pruning) and its version."""
        event = self._before_read(table, access, "data", version)
        location = self.location(table)
        handle = self._tables.open(location, version, name=str(table))
        resolved = int(handle.version())
        try:
            dataset = self._tables.dataset(
                location,
                version=resolved,
                partition_column=partition_column,
                partitions=partitions,
                name=str(table),
            )
        except LostFilesError as exc:
            raise LostFilesError(
                str(table), exc.lost, hint=self.repair_hint(table, exc.lost)
            ) from None
        dataset = self._restricted(event, dataset)
        self._after_read(event, resolved)
        return dataset, resolved

    def restriction(self, table: TableName, access: Access) -> Restriction:
        """The columns masked and the rows filtered when ``access`` reads ``table`` (decided
        by the policies: column masks and row filters of prodml.yaml)."""
        event = ReadEvent(table=table, version=None, access=access)
        found = Restriction()
        for policy in self.policies:
            found = found | (policy.restrict(event) or Restriction())
        return found

    def _restricted(self, event: ReadEvent, dataset: pads.Dataset) -> pads.Dataset:
        """``dataset`` as the reader of ``event`` may see it: masked columns, filtered rows."""
        restriction = self.restriction(event.table, event.access)
        if not restriction:
            return dataset
        from prodml.catalog.masking import apply

        return apply(dataset, restriction, str(event.table))

    def schema(self, table: TableName) -> pa.Schema:
        """The current schema of an existing table (metadata: no rows are read)."""
        self.require(table)
        handle = self._tables.open(self.location(table), name=str(table))
        return pa.schema(handle.schema().to_arrow())

    def side_table(self, table: TableName) -> pads.Dataset | None:
        """A table the gate's own policies keep beside those they guard (quarantine, DQ
        results) as they need to see it while judging a write: not a read of the step
        (neither checked nor counted as its lineage). None when it does not exist yet."""
        location = self.location(table)
        if not self._tables.exists(location):
            return None
        return self._tables.dataset(location, name=str(table))

    # -- maintenance -----------------------------------------------------------------------

    def repair_hint(self, table: TableName, lost: Sequence[LostFile]) -> str:
        """The commands that repair ``table`` after it lost ``lost``: forget the files, then
        re-run what made them (those partitions of its producing product)."""
        entry = self.store.get_table(table.catalog, table.schema, table.table) or {}
        producer = entry.get("producer_step")
        first = f"prodml tables check {table.short} --repair"
        if not producer:
            return f"{first} (the lost rows are gone; restore the files from a backup to keep them)"
        product = producer.split(".", 1)[0]
        days = sorted({v for f in lost for v in f.partition.values() if v})
        if days and len(lost) == sum(1 for f in lost if f.partition):
            return f"{first}, then prodml run {product} --partitions {days[0]}..{days[-1]}"
        return f"{first}, then prodml run {product} --full-refresh"

    def check(self, table: TableName, access: Access) -> list[LostFile]:
        """The data files of ``table``'s current version gone from storage (from its log: no
        data is read); a read of its state, checked and audited."""
        event = MaintainEvent(table=table, operation="check", access=access)
        self._maintain_before(event)
        lost = self._tables.lost_files(self.location(table), name=str(table))
        self._maintain_after(event, {"lost_files": len(lost)})
        return lost

    def maintain(
        self, table: TableName, access: Access, operation: str, **options: Any
    ) -> dict[str, Any]:
        """``repair`` (forget lost files), ``optimize`` (compact), ``vacuum`` (delete files
        older than ``retention_hours``) or ``forget`` (delete the rows of ``predicate`` from
        the table and its history): checked (MODIFY), done, recorded and audited."""
        event = MaintainEvent(table=table, operation=operation, access=access, options=options)
        self._maintain_before(event)
        metadata = {"prodml.principal": access.principal}
        result = self._tables.maintain(
            self.location(table), operation, name=str(table), metadata=metadata, **options
        )
        self._maintain_after(event, result)
        return result

    def _maintain_before(self, event: MaintainEvent) -> None:
        for policy in self.policies:
            policy.before_maintain(event)
        self.require(event.table, event.access)

    def _maintain_after(self, event: MaintainEvent, result: Mapping[str, Any]) -> None:
        for policy in self.policies:
            policy.after_maintain(event, result)

    def read_changes(
        self, table: TableName, access: Access, *, since: int | None
    ) -> tuple[pads.Dataset, int]:
        """The rows added or rewritten after version ``since`` (everything when None), and
        the version they were read at: incremental consumers (online publishing) use it."""
        event = self._before_read(table, access, "data", None)
        location = self.location(table)
        resolved = int(self._tables.open(location, name=str(table)).version())
        if since is not None and since > resolved:
            since = None  # the table was re-created since: read all of it
        dataset = self._restricted(
            event, self._tables.added_since(location, since, name=str(table))
        )
        self._after_read(event, resolved)
        return dataset, resolved

    def _before_read(
        self, table: TableName, access: Access, kind: ReadKind, version: int | None
    ) -> ReadEvent:
        event = ReadEvent(table=table, version=version, access=access, kind=kind)
        for policy in self.policies:
            policy.before_read(event)
        self.require(table, access)
        return event

    def browse(self, table: TableName, access: Access) -> None:
        """A read of the table's metadata (what records of it name: versions, sizes,
        errors): checked and audited, as :meth:`describe` is."""
        event = self._before_read(table, access, "metadata", None)
        self._after_read(event, 0)

    def visible(self, table: TableName, access: Access, kind: ReadKind = "metadata") -> bool:
        """Whether ``access`` may read ``table`` as ``kind`` asks (decided by the policies,
        not audited): listings show what may be seen and leave out the rest."""
        event = ReadEvent(table=table, version=None, access=access, kind=kind)
        return all(policy.visible(event) for policy in self.policies)

    @staticmethod
    def _entry_name(entry: Mapping[str, Any]) -> TableName:
        return TableName(entry["catalog"], entry["schema_name"], entry["name"])

    def entries(self, access: Access, catalog: str | None = None) -> list[dict[str, Any]]:
        """The records of the tables ``access`` may see in this catalog (or in ``catalog``,
        one defined through the catalog API in the same store); no table is opened."""
        return [
            t
            for t in self.store.list_tables(catalog or self.catalog)
            if self.visible(self._entry_name(t), access)
        ]

    def lineage(
        self, start: str, access: Access, *, upstream: bool = True, depth: int = 50
    ) -> list[Edge]:
        """Lineage edges from a table, a landing source or a model version (``model:...``):
        a read of the starting table's metadata; tables and models ``access`` may not see
        are left out (``visible_model`` decides models)."""
        from prodml.catalog.lineage import LANDING, MODEL, walk

        if not start.startswith((LANDING, MODEL)):
            self._before_read(self.name(start), access, "metadata", None)

        def shown(node: str) -> bool:
            if node.startswith(LANDING):
                return True
            if node.startswith(MODEL):
                return self.visible_model(node.removeprefix(MODEL).split("/")[0], access)
            return self.visible(self.name(node), access)

        return walk(self.store, start, self.catalog, upstream=upstream, depth=depth, visible=shown)

    def visible_model(self, model: str, access: Access) -> bool:
        """Whether ``access`` may see a registered model's metadata (``dev.ml.churn``)."""
        return all(policy.model_visible(model, access) for policy in self.policies)

    def _after_read(self, event: ReadEvent, version: int) -> None:
        for policy in self.policies:
            policy.after_read(event, version)

    def history(
        self, table: TableName, access: Access, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """The table's commits, newest first (a read of its history: checked and audited)."""
        event = self._before_read(table, access, "history", None)
        entries = self._tables.history(self.location(table), limit)
        self._after_read(event, int(entries[0]["version"]) if entries else 0)
        return entries

    def find_commit(
        self, table: TableName, access: Access, key: str, value: str, *, limit: int = 25
    ) -> int | None:
        """The version of a recent commit whose metadata has ``key == value`` (None: no such
        commit, or no table yet); a read of the table's history."""
        if not self.exists(table):
            return None
        event = self._before_read(table, access, "history", None)
        found = self._tables.find_commit(self.location(table), key, value, limit=limit)
        self._after_read(event, found or 0)
        return found

    def state(
        self, table: TableName, access: Access, partition_column: str | None = None
    ) -> tuple[int, dict[str, str] | None, str] | None:
        """The table's version; when it is partitioned by ``partition_column``, an id per
        partition; and an id of the whole table (None: the table does not exist yet). Ids
        are content ids where the rows' content is known, so that rewriting the same rows
        changes no id. Planning reads this."""
        if not self.exists(table):
            return None
        event = self._before_read(table, access, "state", None)
        location = self.location(table)
        try:
            version, ids = self._tables.state(location, partition_column)
        except LostFilesError as exc:
            raise LostFilesError(
                str(table), exc.lost, hint=self.repair_hint(table, exc.lost)
            ) from None
        self._after_read(event, version)
        return version, *self._contents(table, location, version, ids)

    def _contents(
        self, table: TableName, location: str, version: int, ids: dict[str, str] | None
    ) -> tuple[dict[str, str] | None, str]:
        """The partition ids as content ids where known, and a content id of the whole table
        (of its partitions' contents, or recorded for the version; else ``v<version>``)."""
        name = str(table)
        columns = self._tables.open(location, version, name=name).metadata().partition_columns
        own = (
            self._tables.partition_ids(location, columns[0], version=version)
            if len(columns) == 1
            else {}
        )
        known = self.store.contents(name, [*own.values(), *(ids or {}).values(), f"v{version}"])
        if ids is not None:
            ids = {p: known.get(i, i) for p, i in ids.items()}
        whole = known.get(f"v{version}")
        if whole is None and own and all(i in known for i in own.values()):
            digest = hashlib.sha256(
                "\n".join(f"{p}={known[i]}" for p, i in sorted(own.items())).encode()
            ).hexdigest()[:32]
            whole = f"c:{digest}"
        return ids, whole or f"v{version}"

    def link(self, access: Access, target: str) -> None:
        """The step of ``access`` made ``target`` (``model:<name>/<version>``) from what it has
        read so far: a lineage edge from each of those reads."""
        event = LinkEvent(target=target, access=access)
        for policy in self.policies:
            policy.linked(event)

    def finish(self, access: Access, *, succeeded: bool) -> None:
        """The step of ``access`` is over: the policies close its records (lineage)."""
        for policy in self.policies:
            policy.finished(access, succeeded=succeeded)

    def rebuild(
        self,
        table: TableName,
        access: Access,
        *,
        base_version: int | None,
        data: pa.Table | pa.RecordBatchReader,
        spec: WriteSpec,
        scratch: Path,
    ) -> pa.Table:
        """What ``table`` would hold if ``data`` were written with ``spec`` on top of its
        version ``base_version`` (None: on an empty table): built in a scratch table under
        ``scratch``, never touching the real one. ``data`` is taken as is (see
        :meth:`prepare` for what the policies would change)."""
        scratch.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix="rebuild-", dir=scratch))
        try:
            tables = type(self._tables)(str(root))
            target = tables.location(table.catalog, table.schema, table.table)
            if base_version is not None:
                before, _ = self.read(table, access, version=base_version)
                base = WriteSpec(name=spec.name, mode="overwrite", partition_by=spec.partition_by)
                tables.write(target, before.to_table(), base)
            tables.write(target, data, spec)
            return tables.open(target).to_pyarrow_table()
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def describe(self, table: TableName, access: Access) -> TableInfo:
        """Catalog entry plus live facts (version, rows, bytes) from the Delta log: a read of
        the table's metadata (checked and audited)."""
        event = self._before_read(table, access, "metadata", None)
        info = self._describe(table)
        self._after_read(event, info.version or 0)
        return info

    def _describe(self, table: TableName) -> TableInfo:
        entry = self.store.get_table(table.catalog, table.schema, table.table)
        location = self.location(table)
        exists = self._tables.exists(location)
        if entry is None and not exists:
            self.require(table)
        version = rows = size = None
        if exists:
            handle = self._tables.open(location, name=str(table))
            version = int(handle.version())
            actions = add_actions(handle)
            rows = int(pc.sum(actions.column("num_records")).as_py() or 0)
            size = int(pc.sum(actions.column("size_bytes")).as_py() or 0)
        entry = entry or {}
        return TableInfo(
            name=table.short,
            schema=table.schema,
            layer=table.layer,
            owner_product=entry.get("owner_product"),
            producer_step=entry.get("producer_step"),
            description=entry.get("description", ""),
            columns=entry.get("columns", []),
            partition_by=entry.get("partition_by", []),
            keys=entry.get("keys", []),
            location=location,
            version=version,
            rows=rows,
            bytes=size,
            updated_at=entry.get("updated_at"),
        )

    def list(self, access: Access) -> list[TableInfo]:
        """Every table registered in this catalog that ``access`` may see."""
        return [self._describe(self._entry_name(t)) for t in self.entries(access)]


def _overlaps(one: str, other: str) -> bool:
    """Whether two table locations are the same directory or one holds the other."""
    a, b = (x.removeprefix("file://").rstrip("/") + "/" for x in (one, other))
    return a.startswith(b) or b.startswith(a)


def _local(location: str) -> str:
    """A ``file://`` URI or a path as an absolute, normalised path (``..`` resolved); other
    URIs as they are."""
    if location.startswith("file://"):
        from urllib.parse import unquote, urlparse

        location = unquote(urlparse(location).path)
    if "://" in location:
        return location.rstrip("/")
    return str(Path(location).resolve())


def _columns(schema: pa.Schema | None, docs: Mapping[str, str]) -> list[dict[str, Any]]:
    """A catalog entry's columns: name, Arrow type, doc."""
    return [
        {"name": f.name, "type": str(f.type), "doc": docs.get(f.name, "")} for f in schema or []
    ]


def _uri(location: str) -> str:
    """A location as a URI (``file:///…`` for local paths)."""
    return location if "://" in location else Path(location).resolve().as_uri()


def _check_definition(table_type: str, schema: pa.Schema | None, location: str | None) -> None:
    """What a table definition must give (a ``UsageError`` saying what is missing): an
    EXTERNAL table its Delta table's location, a MANAGED one its columns and no location."""
    if table_type not in ("MANAGED", "EXTERNAL"):
        raise UsageError(f"table_type {table_type} is not supported", hint="MANAGED or EXTERNAL")
    if table_type == "EXTERNAL" and not location:
        raise UsageError("an EXTERNAL table needs storage_location (its Delta table's URI)")
    if table_type == "MANAGED" and location:
        raise UsageError(
            "a MANAGED table's storage is its catalog's: leave storage_location out",
            hint="or create an EXTERNAL table from the Delta table at that location",
        )
    if table_type == "MANAGED" and not (schema and len(schema)):
        raise UsageError("a MANAGED table needs its columns")
