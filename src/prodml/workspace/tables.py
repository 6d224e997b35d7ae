"""The façade's catalog: tables, their history and rows (through the gate), and lineage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from prodml.catalog.gate import TableInfo
    from prodml.catalog.lineage import Edge
    from prodml.catalog.policies import Access
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

        return Access(self._w.principal)

    def tables(self) -> list[TableInfo]:
        """Every table of this environment's catalog."""
        return self._w.catalog.list()

    def catalog_entries(self) -> list[dict[str, Any]]:
        """The catalog's records of its tables (no table is opened: fast for listings)."""
        return self._w.store.list_tables(self.catalog_name)

    def table(self, name: str) -> TableInfo:
        """One table's catalog entry and live facts."""
        catalog = self._w.catalog
        return catalog.describe(catalog.name(name))

    def table_exists(self, name: str) -> bool:
        """Whether a table has been written."""
        catalog = self._w.catalog
        return catalog.exists(catalog.name(name))

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
        from prodml.catalog.lineage import walk

        return walk(self._w.store, name, self.catalog_name, upstream=upstream, depth=depth)
