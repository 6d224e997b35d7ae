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
        return [
            check_table(self.catalog, self.store, table, *self.index[str(table)], access)
            for table in checked_tables(target, self.products, self.catalog, self.index)
        ]

    def report(self, table: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Recorded results, newest first (of one table, or all)."""
        name = str(self.catalog.name(table)) if table else None
        return self.store.dq_results(self.catalog.catalog, table=name, limit=limit)
