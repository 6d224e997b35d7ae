"""The façade's definitions: catalogs, schemas and tables created, changed and dropped
through the catalog API (decided by the gate's policies, as reads and writes are)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from prodml.catalog.policies import Access
    from prodml.workspace.wiring import Wiring


class DefinitionMethods:
    """Catalogs, schemas and tables defined by callers, in this environment's store."""

    _w: Wiring

    def _caller(self) -> Access:
        from prodml.catalog.policies import Access

        return Access(self._w.principal, client=self._w.client)

    def catalog_record(self, name: str) -> dict[str, Any] | None:
        """A catalog made through the catalog API (its record), or None."""
        return self._w.definitions.catalog(name)

    def catalog_records(self) -> list[dict[str, Any]]:
        """Every catalog made through the catalog API in this store."""
        return self._w.definitions.catalogs()

    def environment_catalogs(self) -> dict[str, str]:
        """The catalogs prodml.yaml defines → their environment."""
        return dict(self._w.definitions.environments)

    def create_catalog(
        self,
        name: str,
        *,
        comment: str | None = None,
        properties: Mapping[str, str] | None = None,
        storage_root: str | None = None,
    ) -> dict[str, Any]:
        """Create a catalog (admins; audited): you own it."""
        return self._w.definitions.create_catalog(
            name, self._caller(), comment=comment, properties=properties, storage_root=storage_root
        )

    def update_catalog(
        self,
        name: str,
        *,
        comment: str | None = None,
        properties: Mapping[str, str] | None = None,
        new_name: str | None = None,
    ) -> dict[str, Any]:
        """Change a catalog's comment or properties (owners, MANAGE holders, admins)."""
        return self._w.definitions.update_catalog(
            name, self._caller(), comment=comment, properties=properties, new_name=new_name
        )

    def drop_catalog(self, name: str, *, force: bool = False) -> None:
        """Drop a catalog made through the catalog API (and, with ``force``, what it holds)."""
        self._w.definitions.drop_catalog(name, self._caller(), force=force)

    def schema_record(self, full_name: str) -> dict[str, Any] | None:
        """One schema's record (``catalog.schema``), or None."""
        catalog, schema = full_name.split(".")
        return self._w.definitions.schema(catalog, schema)

    def create_schema(
        self,
        catalog: str,
        name: str,
        *,
        comment: str | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Create a schema (CREATE_SCHEMA on the catalog; audited): you own it."""
        return self._w.definitions.create_schema(
            catalog, name, self._caller(), comment=comment, properties=properties
        )

    def update_schema(
        self,
        full_name: str,
        *,
        comment: str | None = None,
        properties: Mapping[str, str] | None = None,
        new_name: str | None = None,
    ) -> dict[str, Any]:
        """Change a schema's comment or properties (owners, MANAGE holders, admins)."""
        return self._w.definitions.update_schema(
            full_name, self._caller(), comment=comment, properties=properties, new_name=new_name
        )

    def drop_schema(self, full_name: str, *, force: bool = False) -> None:
        """Drop a schema (and, with ``force``, the tables defined in it)."""
        self._w.definitions.drop_schema(full_name, self._caller(), force=force)

    def create_table(
        self,
        full_name: str,
        *,
        table_type: str,
        columns: pa.Schema | None = None,
        column_docs: Mapping[str, str] | None = None,
        storage_location: str | None = None,
        comment: str = "",
        properties: Mapping[str, str] | None = None,
    ) -> None:
        """Define a table: EXTERNAL registers the Delta table at ``storage_location``,
        MANAGED creates an empty one with ``columns`` (CREATE_TABLE on the schema; audited)."""
        catalog = self._w.catalog
        catalog.create_table(
            catalog.name(full_name),
            self._caller(),
            table_type=table_type,
            schema=columns,
            column_docs=column_docs or {},
            location=storage_location,
            description=comment,
            properties=properties or {},
        )

    def drop_table(self, full_name: str) -> None:
        """Drop a table defined through the catalog API (owners, MANAGE holders, admins)."""
        catalog = self._w.catalog
        catalog.drop_table(catalog.name(full_name), self._caller())

    def storage_location(self, full_name: str) -> str:
        """Where a table's files are, as a URI."""
        catalog = self._w.catalog
        return catalog.storage_location(catalog.name(full_name))

    def storage_root(self, catalog: str) -> str:
        """Where a catalog's managed tables live, as a URI."""
        return self._w.catalog.storage_root(catalog)
