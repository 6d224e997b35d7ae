"""Data quality of one environment: judge whole tables on demand, and the recorded results.

Writes are judged by the quality policy on the catalog gate; this is what ``prodml quality``
does besides (the same rules, the same engine, the same records).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prodml.catalog.gate import Catalog
from prodml.catalog.policies import Access
from prodml.catalog.store import MetadataStore
from prodml.products import Product
from prodml.quality.declared import Index, checked_tables
from prodml.quality.policy import check_table


class Quality:
    """Expectations of every product of one environment.

    Args:
        catalog: the environment's catalog.
        store: the metadata store (results are recorded there).
        products: every product.
        index: every table's expectations (see ``expectation_index``).
        principal: who checks.
    """

    def __init__(
        self,
        catalog: Catalog,
        store: MetadataStore,
        products: Mapping[str, Product],
        index: Index,
        principal: str,
    ) -> None:
        self.catalog = catalog
        self.store = store
        self.products = products
        self.index = index
        self.principal = principal

    def check(self, target: str) -> list[dict[str, Any]]:
        """Evaluate the expectations of a table (or of every table of a product) on the whole
        table now. Nothing is dropped or quarantined (the table is written already); results
        are recorded like those of writes."""
        access = Access(principal=self.principal, step="quality check")
        if target not in self.products and "." in target:  # a table: may they read it?
            self.catalog.check_read(self.catalog.name(target), access)
        return [
            check_table(self.catalog, self.store, table, *self.index[str(table)], access)
            for table in checked_tables(target, self.products, self.catalog, self.index)
        ]

    def report(self, table: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Recorded results, newest first (of one table, or all): of the tables you may see
        (a named one is a read of its metadata: checked and audited). Failing rows' sample
        values are the table's values: without SELECT on it, or with columns masked or rows
        filtered for you, they are left out (``samples_hidden``)."""
        access = Access(principal=self.principal)
        name = self.catalog.name(table) if table else None
        if name is not None and self.catalog.exists(name, access):
            self.catalog.browse(name, access)
        rows = self.store.dq_results(
            self.catalog.catalog, table=str(name) if name else None, limit=limit
        )
        if name is not None and not rows:  # a misspelt name is not "no results"
            self.catalog.require(name, access)
        seen: dict[str, tuple[bool, bool]] = {}  # table → (metadata visible, values visible)
        out = []
        for row in rows:
            full = row["table_name"]
            if full not in seen:
                parsed = self.catalog.name(full)
                # values masked or rows filtered for the reader: a sample could show them
                unmasked = not self.catalog.restriction(parsed, access)
                seen[full] = (
                    self.catalog.visible(parsed, access),
                    unmasked and self.catalog.visible(parsed, access, "data"),
                )
            meta, values = seen[full]
            if not meta:
                continue
            if not values and row.get("samples"):
                row = {**row, "samples": [], "samples_hidden": True}
            out.append(row)
        return out
