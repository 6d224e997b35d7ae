"""Declared feature tables, lookups against them, and point-in-time training sets.

A feature table is declared once, in the ``features:`` section of the product that produces
it; any product's train step builds a training set from it with :class:`FeatureLookup`. The
training set carries a spec (tables, versions, features, keys, TTL) that is logged with the
model: it records the model as a consumer of those features and tells serving what to look
up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pyarrow as pa

from prodml.catalog.gate import Catalog
from prodml.catalog.policies import Access
from prodml.config.product import FeatureTable, ProductConfig, parse_duration
from prodml.errors import ConfigError, NotFoundError, UsageError
from prodml.features.errors import FeatureJoinError
from prodml.features.pit import FeatureSource, point_in_time_join
from prodml.names import TableName

#: a lookup's TTL when it does not set one: the table's declared TTL
TABLE_TTL = "table"


@dataclass(frozen=True)
class DeclaredTable:
    """A feature table as declared: who produces it and what it holds.

    Attributes:
        name: ``features.<table>``.
        product: the product that declares (owns) it.
        step: the qualified step that writes it (None: no step does yet).
        decl: keys, timestamp, TTL and the described features.
    """

    name: str
    product: str
    step: str | None
    decl: FeatureTable

    def summary(self) -> dict[str, Any]:
        """The declaration as a document: table, owner, keys, time columns, features."""
        return {
            "table": self.name,
            "product": self.product,
            "step": self.step,
            "description": self.decl.description,
            "keys": self.decl.keys,
            "timestamp": self.decl.timestamp,
            "created": self.decl.created,
            "ttl": self.decl.ttl,
            "online": self.decl.online,
            "features": {
                name: {"description": f.description, "type": f.type}
                for name, f in self.decl.features.items()
            },
        }


def declared_tables(
    configs: Mapping[str, ProductConfig], producers: Mapping[str, str], catalog: str
) -> dict[str, DeclaredTable]:
    """Every declared feature table by ``features.<table>``; ``producers`` maps full table
    names to the qualified steps that write them."""
    out: dict[str, DeclaredTable] = {}
    for product, config in sorted(configs.items()):
        for name, decl in config.features.items():
            if name in out:
                raise ConfigError(
                    f"feature table {name} is declared by two products: {out[name].product} "
                    f"and {product}",
                    hint="declare a feature table once, in the product whose step produces it",
                )
            full = str(TableName.parse(name, catalog))
            out[name] = DeclaredTable(name, product, producers.get(full), decl)
    return out


def find_table(declared: Mapping[str, DeclaredTable], name: str) -> DeclaredTable:
    """The declared table ``name`` (``features.x``, ``x`` or ``<catalog>.features.x``)."""
    parts = name.split(".")
    short = ".".join(parts[-2:]) if len(parts) >= 2 else f"features.{name}"
    if short not in declared:
        raise NotFoundError(
            "feature table",
            name,
            list(declared),
            hint=None if declared else "declare one under features: in a product.yaml",
        )
    return declared[short]


def check_features(table: DeclaredTable, features: Sequence[str]) -> None:
    """Every name in ``features`` is a declared feature of ``table`` (did-you-mean if not)."""
    for feature in features:
        if feature not in table.decl.features:
            known = list(table.decl.features)
            raise NotFoundError("feature", feature, known, where=table.name)


@dataclass(frozen=True)
class FeatureLookup:
    """Features of one table to join to a spine (or fetch online).

    Attributes:
        table: the feature table (``features.customer_features``).
        features: the features to bring (default: all of them).
        keys: the spine (or request) columns holding the table's keys, in the table's key
            order (default: the same names).
        ttl: how old a value may be (``"7d"``, a timedelta, None for any age; default: the
            table's TTL).
        rename: output names for features that would clash with other columns.
    """

    table: str
    features: Sequence[str] | None = None
    keys: Sequence[str] | None = None
    ttl: str | timedelta | None = TABLE_TTL
    rename: Mapping[str, str] = field(default_factory=dict)

    def resolve(self, declared: Mapping[str, DeclaredTable]) -> ResolvedLookup:
        """Check the lookup against the declarations."""
        table = find_table(declared, self.table)
        features = list(self.features) if self.features is not None else list(table.decl.features)
        if not features:
            raise UsageError(f"lookup of {table.name} selects no features")
        check_features(table, features)
        keys = list(self.keys) if self.keys is not None else list(table.decl.keys)
        if len(keys) != len(table.decl.keys):
            raise UsageError(
                f"lookup of {table.name}: {len(keys)} key column(s) given for the table's "
                f"{len(table.decl.keys)} key(s) ({', '.join(table.decl.keys)})",
                hint="give one spine column per key of the feature table, in the same order",
            )
        if self.ttl == TABLE_TTL:
            ttl = table.decl.ttl_delta
        elif isinstance(self.ttl, str):
            try:
                ttl = parse_duration(self.ttl)
            except ValueError as exc:
                raise UsageError(f"lookup of {table.name}: ttl {exc}") from None
        else:
            ttl = self.ttl
        unknown = [f for f in self.rename if f not in features]
        if unknown:
            raise UsageError(
                f"lookup of {table.name}: rename names {unknown[0]!r}, which is not looked up",
                hint=f"looked up: {', '.join(features)}",
            )
        return ResolvedLookup(table, features, keys, ttl, dict(self.rename))


@dataclass(frozen=True)
class ResolvedLookup:
    """A lookup checked against its table's declaration."""

    table: DeclaredTable
    features: list[str]
    keys: list[str]
    ttl: timedelta | None
    rename: dict[str, str]

    def outputs(self) -> list[str]:
        """The result columns of the features."""
        return [self.rename.get(f, f) for f in self.features]

    def spec(self, version: int | None) -> dict[str, Any]:
        """JSON-ready: what the training set used, to log with a model."""
        return {
            "table": self.table.name,
            "version": version,
            "features": self.features,
            "keys": self.keys,
            "table_keys": self.table.decl.keys,
            "ttl_seconds": self.ttl.total_seconds() if self.ttl is not None else None,
            "rename": self.rename,
        }


@dataclass(frozen=True)
class TrainingSet:
    """A spine with point-in-time features, and the spec that made it.

    Attributes:
        data: the spine's columns (every row, in order) and the looked-up features.
        spec: ``{"timestamp": ..., "lookups": [...]}`` — log it with the model
            (``ctx.log_model(..., training_set=ts)``).
    """

    data: pa.Table
    spec: dict[str, Any]

    @property
    def features(self) -> list[str]:
        """The looked-up feature columns, in order."""
        return [
            lookup.get("rename", {}).get(f, f)
            for lookup in self.spec["lookups"]
            for f in lookup["features"]
        ]

    def to_arrow(self) -> pa.Table:
        """The rows as an Arrow table."""
        return self.data

    def df(self) -> Any:
        """The rows as a pandas DataFrame."""
        return self.data.to_pandas()

    def __len__(self) -> int:
        return int(self.data.num_rows)


def training_set(
    catalog: Catalog,
    access: Access,
    declared: Mapping[str, DeclaredTable],
    spine: Any,
    *,
    timestamp: str,
    lookups: Sequence[FeatureLookup],
    on_read: Callable[[str, int], None] | None = None,
    con: Any = None,
) -> TrainingSet:
    """Join ``lookups`` to ``spine`` point in time (reads go through the catalog's gate)."""
    if not lookups:
        raise UsageError("a training set needs at least one FeatureLookup")
    resolved = [lookup.resolve(declared) for lookup in lookups]
    sources, specs = [], []
    for lookup in resolved:
        table = catalog.name(lookup.table.name)
        dataset, version = catalog.read(table, access)
        if on_read is not None:
            on_read(str(table), version)
        decl = lookup.table.decl
        columns = list(
            dict.fromkeys(
                [
                    *decl.keys,
                    decl.timestamp,
                    *([decl.created] if decl.created else []),
                    *lookup.features,
                ]
            )
        )
        missing = [c for c in columns if c not in dataset.schema.names]
        if missing:
            raise FeatureJoinError(
                f"{lookup.table.name} (version {version}) has no column {missing[0]!r}, which "
                "its declaration names",
                hint=f"columns: {', '.join(dataset.schema.names)}; fix the features: section "
                f"of product {lookup.table.product} or the step {lookup.table.step}",
            )
        sources.append(
            FeatureSource(
                name=lookup.table.name,
                data=dataset.to_table(columns=columns),
                keys=decl.keys,
                timestamp=decl.timestamp,
                features=lookup.features,
                created=decl.created,
                ttl=lookup.ttl,
                spine_keys=lookup.keys,
                rename=lookup.rename,
            )
        )
        specs.append(lookup.spec(version))
    data = point_in_time_join(spine, timestamp=timestamp, sources=sources, con=con)
    return TrainingSet(data, {"timestamp": timestamp, "lookups": specs})


def consumer_rows(
    spec: Mapping[str, Any], *, catalog: str, model: str, version: int, product: str, run_id: str
) -> list[dict[str, Any]]:
    """Rows for the metadata store's feature-consumer table from a training-set spec."""
    return [
        {
            "catalog": catalog,
            "feature_table": lookup["table"],
            "feature": feature,
            "table_version": lookup.get("version"),
            "model": model,
            "model_version": version,
            "product": product,
            "run_id": run_id,
        }
        for lookup in spec.get("lookups", [])
        for feature in lookup["features"]
    ]


class StepTrainingSets:
    """What a step's ``ctx.training_set`` and ``ctx.log_model`` use of the feature store:
    point-in-time joins over the declared tables, and consumers recorded with a model.

    Args:
        catalog: the environment's catalog (reads go through its gate).
        declared: the declared feature tables.
    """

    def __init__(self, catalog: Catalog, declared: Mapping[str, DeclaredTable]) -> None:
        self.catalog = catalog
        self.declared = declared

    def table_name(self, name: str) -> str:
        """The full name of a declared feature table (did-you-mean when unknown)."""
        return str(self.catalog.name(find_table(self.declared, name).name))

    def build(
        self,
        access: Access,
        spine: Any,
        *,
        timestamp: str,
        lookups: Sequence[FeatureLookup],
        on_read: Callable[[str, int], None] | None = None,
        con: Any = None,
    ) -> TrainingSet:
        """A training set (see :func:`training_set`)."""
        return training_set(
            self.catalog,
            access,
            self.declared,
            spine,
            timestamp=timestamp,
            lookups=lookups,
            on_read=on_read,
            con=con,
        )

    def record_consumers(
        self, spec: Mapping[str, Any], *, model: str, version: int, product: str, run_id: str
    ) -> None:
        """Record a model version as a consumer of the features its training set used."""
        self.catalog.store.record_feature_consumers(
            consumer_rows(
                spec,
                catalog=self.catalog.catalog,
                model=model,
                version=version,
                product=product,
                run_id=run_id,
            )
        )
