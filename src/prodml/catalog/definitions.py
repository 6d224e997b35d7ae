"""Catalogs and schemas defined through the catalog API, beside those prodml.yaml defines.

An environment's catalog comes from prodml.yaml, and its schemas are the layers and areas its
tables are in. Callers of the catalog API may also create catalogs (admins) and schemas
(CREATE_SCHEMA on the catalog), change their comment and properties and drop them (owners,
MANAGE holders, admins): those are recorded here, decided by the same policies as every table
read and write (:class:`~prodml.catalog.policies.DefineEvent`), and audited. Their tables are
the gate's (:meth:`~prodml.catalog.gate.Catalog.create_table`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prodml.catalog.errors import AlreadyExistsError, NotEmptyError
from prodml.catalog.gate import Catalog
from prodml.catalog.policies import Access, DefineEvent
from prodml.errors import NotFoundError, UsageError
from prodml.names import SCHEMAS, TableName, check_identifier


class Definitions:
    """The catalogs and schemas callers defined, in one metadata store.

    Args:
        gate: the catalog gate over the same store (its policies decide; it defines tables).
        environments: the catalogs prodml.yaml defines → their environment.
    """

    def __init__(self, gate: Catalog, environments: Mapping[str, str]) -> None:
        self.gate = gate
        self.store = gate.store
        self.environments = dict(environments)

    def _define(self, kind: str, name: str, operation: str, access: Access) -> DefineEvent:
        event = DefineEvent(kind, name, operation, access)
        for policy in self.gate.policies:
            policy.before_define(event)
        return event

    def _defined(self, event: DefineEvent) -> None:
        for policy in self.gate.policies:
            policy.after_define(event)

    # -- catalogs ---------------------------------------------------------------------------

    def catalogs(self) -> list[dict[str, Any]]:
        """The catalogs callers made (records, by name)."""
        return self.store.securables("catalog")

    def catalog(self, name: str) -> dict[str, Any] | None:
        """A catalog callers made (its record), or None."""
        return self.store.securable("catalog", name)

    def exists(self, catalog: str) -> bool:
        """Whether ``catalog`` is an environment's or one callers made."""
        return catalog in self.environments or self.catalog(catalog) is not None

    def create_catalog(
        self,
        name: str,
        access: Access,
        *,
        comment: str | None = None,
        properties: Mapping[str, str] | None = None,
        storage_root: str | None = None,
    ) -> dict[str, Any]:
        """Create a catalog (admins; audited; the creator owns it). Its managed tables live
        under the storage root, as environments' do."""
        check_identifier(name, "catalog")
        event = self._define("catalog", name, "create", access)
        if name in self.environments:
            raise AlreadyExistsError(
                f"catalog {name} already exists: it is environment "
                f"{self.environments[name]}'s (prodml.yaml)"
            )
        default = self.gate.storage_root(name)
        if storage_root and storage_root.rstrip("/") != default:
            raise UsageError(
                f"storage_root {storage_root} is not supported: a catalog's managed tables "
                f"live under the platform's storage root ({default})",
                hint="leave storage_root out; register data elsewhere as EXTERNAL tables",
            )
        for where in self.store.placements().values():
            if self.gate.holds_location(name, where):
                raise UsageError(
                    f"catalog {name}'s storage would hold the external table at {where}",
                    hint="choose another catalog name",
                )
        record = {
            "securable_type": "catalog",
            "name": name,
            "comment": comment,
            "properties": dict(properties or {}),
            "storage_root": default,
            "created_by": access.principal,
        }
        if not self.store.add_securable(record):
            raise AlreadyExistsError(f"catalog {name} already exists")
        self._defined(event)
        return self._require("catalog", name)

    def update_catalog(
        self,
        name: str,
        access: Access,
        *,
        comment: str | None = None,
        properties: Mapping[str, str] | None = None,
        new_name: str | None = None,
    ) -> dict[str, Any]:
        """Change a catalog's comment or properties (its owner, MANAGE holders, admins)."""
        return self._update("catalog", name, access, comment, properties, new_name)

    def drop_catalog(self, name: str, access: Access, *, force: bool = False) -> None:
        """Drop a catalog callers made (its owner, MANAGE holders, admins; audited); with
        ``force`` its schemas and tables go with it, otherwise it must be empty."""
        event = self._define("catalog", name, "delete", access)
        self._require("catalog", name)
        schemas = self.schemas(name)
        if schemas and not force:
            raise NotEmptyError(
                f"catalog {name} holds schemas: {', '.join(s['name'] for s in schemas)}",
                hint="drop them first, or drop the catalog with force",
            )
        for schema in schemas:
            self._drop_tables(name, schema["name"].split(".")[1], access)
        self.store.delete_securable("catalog", name)
        self._defined(event)

    # -- schemas ----------------------------------------------------------------------------

    def schemas(self, catalog: str) -> list[dict[str, Any]]:
        """The schemas of a catalog: those callers made, and those its tables are in (an
        environment's layers), as records by full name."""
        made = {r["name"]: r for r in self.store.securables("schema", within=catalog)}
        for entry in self.store.list_tables(catalog):
            full = f"{catalog}.{entry['schema_name']}"
            made.setdefault(full, {"securable_type": "schema", "name": full, "properties": {}})
        return [made[k] for k in sorted(made)]

    def schema(self, catalog: str, name: str) -> dict[str, Any] | None:
        """One schema's record (a layer with tables has one without being made), or None."""
        full = f"{catalog}.{name}"
        return next((s for s in self.schemas(catalog) if s["name"] == full), None)

    def create_schema(
        self,
        catalog: str,
        name: str,
        access: Access,
        *,
        comment: str | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Create a schema (CREATE_SCHEMA and USE_CATALOG on the catalog; audited; the
        creator owns it). Schemas are the layers and platform areas table names know."""
        check_identifier(catalog, "catalog")
        check_identifier(name, "schema")
        if name not in SCHEMAS:
            raise UsageError(
                f"schema {name!r} is not one of prodml's layers and areas",
                hint=f"schemas: {', '.join(SCHEMAS)}",
            )
        full = f"{catalog}.{name}"
        event = self._define("schema", full, "create", access)
        if not self.exists(catalog):
            raise NotFoundError("catalog", catalog, message=f"catalog {catalog} does not exist")
        if self.schema(catalog, name) is not None:
            raise AlreadyExistsError(f"schema {full} already exists")
        record = {
            "securable_type": "schema",
            "name": full,
            "comment": comment,
            "properties": dict(properties or {}),
            "created_by": access.principal,
        }
        if not self.store.add_securable(record):
            raise AlreadyExistsError(f"schema {full} already exists")
        self._defined(event)
        return self._require("schema", full)

    def update_schema(
        self,
        full_name: str,
        access: Access,
        *,
        comment: str | None = None,
        properties: Mapping[str, str] | None = None,
        new_name: str | None = None,
    ) -> dict[str, Any]:
        """Change a schema's comment or properties (its owner, MANAGE holders, admins)."""
        return self._update("schema", full_name, access, comment, properties, new_name)

    def drop_schema(self, full_name: str, access: Access, *, force: bool = False) -> None:
        """Drop a schema (its owner, MANAGE holders, admins; audited); with ``force`` the
        tables defined in it go with it, otherwise it must hold none."""
        catalog, name = full_name.split(".")
        event = self._define("schema", full_name, "delete", access)
        if self.schema(catalog, name) is None:
            raise NotFoundError("schema", full_name, message=f"schema {full_name} does not exist")
        tables = [t for t in self.store.list_tables(catalog) if t["schema_name"] == name]
        if tables and not force:
            raise NotEmptyError(
                f"schema {full_name} holds tables: {', '.join(t['name'] for t in tables)}",
                hint="drop them first, or drop the schema with force",
            )
        self._drop_tables(catalog, name, access)
        self.store.delete_securable("schema", full_name)
        self._defined(event)

    def _drop_tables(self, catalog: str, schema: str, access: Access) -> None:
        for entry in self.store.list_tables(catalog):
            if entry["schema_name"] == schema:
                self.gate.drop_table(TableName(catalog, schema, entry["name"]), access)

    # -- shared -----------------------------------------------------------------------------

    def _require(self, kind: str, name: str) -> dict[str, Any]:
        record = self.store.securable(kind, name)
        if record is None:
            if kind == "catalog" and name in self.environments:
                raise UsageError(
                    f"catalog {name} is environment {self.environments[name]}'s: "
                    "prodml.yaml defines it",
                    hint="change or remove the environment in prodml.yaml",
                )
            raise NotFoundError(kind, name, message=f"{kind} {name} does not exist")
        return record

    def _update(
        self,
        kind: str,
        name: str,
        access: Access,
        comment: str | None,
        properties: Mapping[str, str] | None,
        new_name: str | None,
    ) -> dict[str, Any]:
        event = self._define(kind, name, "update", access)
        if new_name and new_name != name.rsplit(".", maxsplit=1)[-1]:
            raise UsageError(
                f"renaming a {kind} is not supported (tables and grants name it)",
                hint=f"create a new {kind} and move what it holds",
            )
        if self.store.securable(kind, name) is None and kind == "schema":
            catalog, schema = name.split(".")
            if self.schema(catalog, schema) is not None:  # a layer with tables: record it now
                self.store.add_securable(
                    {
                        "securable_type": "schema",
                        "name": name,
                        "properties": {},
                        "created_by": access.principal,
                    }
                )
        record = self._require(kind, name)
        values: dict[str, Any] = {"updated_by": access.principal}
        if comment is not None:
            values["comment"] = comment
        if properties is not None:
            values["properties"] = {**record["properties"], **properties}
        self.store.update_securable(kind, name, **values)
        self._defined(event)
        return self._require(kind, name)
