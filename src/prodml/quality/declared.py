"""Where expectations are declared: product.yaml ``tables.<t>.expectations`` and ``@step``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from prodml.config.expectations import Expectation
from prodml.errors import UsageError
from prodml.names import TableName

if TYPE_CHECKING:
    from prodml.catalog.gate import Catalog
    from prodml.products import Product

#: full table name → (its rules, where they are declared)
Index = dict[str, tuple[list[Expectation], str]]


def expectation_index(products: Mapping[str, Product], catalog: str) -> Index:
    """Every table's expectations: the YAML ones first, then those declared on its step."""
    index: Index = {}
    for name, product in products.items():
        for key, docs in product.config.tables.items():
            if docs.expectations:
                table = TableName.parse(key, catalog)
                where = f"products/{name}/product.yaml: tables.{key}.expectations"
                index[str(table)] = (list(docs.expectations), where)
        for spec in product.steps:
            for key, rules in spec.expectations:
                table = TableName.parse(key, catalog)
                where = f"{spec.source_file}:{spec.line}: @step {spec.name} expectations"
                yaml_rules, yaml_where = index.get(str(table), ([], ""))
                index[str(table)] = (
                    [*yaml_rules, *rules],
                    f"{yaml_where} + {where}" if yaml_where else where,
                )
    return index


def checked_tables(
    target: str, products: Mapping[str, Product], catalog: Catalog, index: Index
) -> list[TableName]:
    """The tables ``quality check TARGET`` judges: a table, or every table of a product that
    has expectations; a clear error when there are none."""
    if target in products:
        product = products[target]
        declared = [k for k, docs in product.config.tables.items() if docs.expectations]
        declared += [k for spec in product.steps for k, _ in spec.expectations]
        tables = list(dict.fromkeys(catalog.name(k) for k in declared))
        if not tables:
            raise UsageError(
                f"product {target} declares no expectations",
                hint="add expectations: under tables.<schema.table> in its product.yaml",
            )
        return tables
    if "." not in target:  # neither a product nor a table name
        from prodml.errors import NotFoundError

        raise NotFoundError("product", target, products)
    table = catalog.name(target)
    if str(table) not in index:
        raise UsageError(
            f"{table.short} has no expectations",
            hint=f"tables with expectations: {', '.join(sorted(index)) or 'none'}",
        )
    return [table]
