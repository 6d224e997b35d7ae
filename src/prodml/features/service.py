"""The feature store of one environment: what ``ws.features`` is."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from prodml.catalog.gate import Catalog
from prodml.catalog.policies import Access
from prodml.errors import NotFoundError, UsageError
from prodml.features.lookup import OnlineFeatures, lookups_from_spec
from prodml.features.online import Lookup, OnlineStore, open_store
from prodml.features.publish import PublishResult, publish
from prodml.features.training import (
    DeclaredTable,
    FeatureLookup,
    TrainingSet,
    find_table,
    training_set,
)

#: resolves a product name to the training-set spec of its serving model (None: no spec)
SpecResolver = Callable[[str], "dict[str, Any] | None"]


class FeatureStore:
    """Declared feature tables, training sets, publishing and online lookups.

    Args:
        catalog: the environment's catalog (every read goes through its gate).
        declared: the declared feature tables.
        access: who reads and writes.
        online_url: the online store URL (None: SQLite in ``state_dir``).
        online_type: the online store backend (None: the one the URL implies).
        state_dir: the environment's state directory.
        model_spec: the training-set spec of a product's served model (feature services).
        check_read: governance's read check of a feature table for a principal.
    """

    def __init__(
        self,
        catalog: Catalog,
        declared: Mapping[str, DeclaredTable],
        access: Access,
        *,
        online_url: str | None,
        state_dir: Path,
        online_type: str | None = None,
        model_spec: SpecResolver | None = None,
        check_read: Callable[[str, str], None] | None = None,
    ) -> None:
        self.catalog = catalog
        self.declared = dict(declared)
        self.access = access
        self._online_url = online_url
        self._online_type = online_type
        self._state_dir = state_dir
        self._model_spec = model_spec
        # governance: (principal, full table name) → raises when the principal may not read it
        self._check_read = check_read

    @cached_property
    def online_store(self) -> OnlineStore:
        """The online store (opened on first use)."""
        return open_store(self._online_url, self._state_dir, self._online_type)

    @cached_property
    def online_features(self) -> OnlineFeatures:
        """Lookups against the online store."""
        return OnlineFeatures(self.online_store, self.declared, self.catalog.catalog)

    def close(self) -> None:
        """Close the online store if it was opened."""
        if "online_store" in self.__dict__:
            self.online_store.close()

    # -- registry ---------------------------------------------------------------------------

    def table(self, name: str) -> DeclaredTable:
        """A declared feature table (did-you-mean when unknown)."""
        return find_table(self.declared, name)

    def describe(self, name: str) -> dict[str, Any]:
        """A table's declaration with its live facts: version, column types, consumers and
        what was last published."""
        table = self.table(name)
        info = table.summary()
        full = self.catalog.name(table.name)
        types: dict[str, str] = {}
        info["version"] = None
        if self.catalog.exists(
            full, self.access
        ):  # its metadata: checked (BROWSE or SELECT) and audited
            described = self.catalog.describe(full, self.access)
            info["version"] = described.version
            types = {c["name"]: c["type"] for c in described.columns}
        for feature, item in info["features"].items():
            item["type"] = types.get(feature, item["type"])
        consumers = self.catalog.store.feature_consumers(self.catalog.catalog, table.name)
        models: dict[tuple[str, int], dict[str, Any]] = {}
        for row in consumers:
            entry = models.setdefault(
                (row["model"], row["model_version"]),
                {
                    "model": row["model"],
                    "version": row["model_version"],
                    "product": row["product"],
                    "features": [],
                    "table_version": row["table_version"],
                },
            )
            entry["features"].append(row["feature"])
            # a feature a model used may since have left the declaration: still listed
            info["features"].setdefault(
                row["feature"], {"description": "(no longer declared)", "type": None}
            ).setdefault("used_by", []).append(f"{row['model']}/{row['model_version']}")
        info["consumers"] = list(models.values())
        info["online"] = self._published(str(full)) if table.decl.online else None
        return info

    def _published(self, full: str) -> dict[str, Any] | None:
        state = self.online_store.get_state(full)
        if state is None:
            return {"store": self.online_store.kind, "version": None}
        return {
            "store": self.online_store.kind,
            "version": state.get("version"),
            "published_at": state.get("published_at"),
        }

    def list_tables(self) -> list[dict[str, Any]]:
        """Every declared feature table the principal may see, described (one not written
        yet is a declaration only: listed)."""
        shown = []
        for name in sorted(self.declared):
            full = self.catalog.name(self.table(name).name)
            if not self.catalog.exists(full) or self.catalog.visible(full, self.access):
                shown.append(self.describe(name))
        return shown

    # -- offline ----------------------------------------------------------------------------

    def training_set(
        self, spine: Any, *, timestamp: str, lookups: Sequence[FeatureLookup]
    ) -> TrainingSet:
        """Point-in-time features for every spine row (see :class:`FeatureLookup`)."""
        return training_set(
            self.catalog, self.access, self.declared, spine, timestamp=timestamp, lookups=lookups
        )

    # -- online -----------------------------------------------------------------------------

    def publish(self, name: str | None = None, *, full: bool = False) -> list[PublishResult]:
        """Publish one table (or every table with ``online: true``) to the online store."""
        tables = (
            [self.table(name)] if name else [t for t in self.declared.values() if t.decl.online]
        )
        if name and not tables[0].decl.online:
            raise UsageError(
                f"{tables[0].name} is declared with online: false",
                hint=f"set online: true under features: in product {tables[0].product}",
            )
        results = []
        for table in tables:
            target = self.catalog.name(table.name)
            if self.catalog.version(target) is None:
                if name:
                    raise UsageError(
                        f"{table.name} has no data yet",
                        hint=f"run the step that writes it ({table.step or 'none declared'}): "
                        f"prodml run {table.product}",
                    )
                continue  # publishing everything: tables not built yet wait for their run
            results.append(
                publish(self.catalog, self.access, target, table.decl, self.online_store, full=full)
            )
        self.online_features.forget()
        return results

    def lookups_for(self, target: str, features: Sequence[str] | None = None) -> list[Any]:
        """The lookups of ``target``: a feature table, or a product whose served model was
        trained with a training set (its feature service)."""
        short = ".".join(target.split(".")[-2:]) if "." in target else f"features.{target}"
        if short in self.declared:
            return [FeatureLookup(short, features=features)]
        spec = self._model_spec(target) if self._model_spec and "." not in target else None
        if spec is not None:
            if features is not None:
                raise UsageError(
                    "features= selects features of one table; a product's lookups are fixed by "
                    "its model's training set"
                )
            return lookups_from_spec(spec)
        raise NotFoundError("feature table or feature service", target, list(self.declared))

    def online(
        self,
        target: str,
        entities: Sequence[Mapping[str, Any]],
        *,
        features: Sequence[str] | None = None,
        now: datetime | None = None,
        principal: str | None = None,
    ) -> list[Lookup]:
        """Online features for each entity: values, statuses and event times merged over the
        lookups of ``target`` (a feature table or a product's feature service)."""
        merged: list[Lookup] | None = None
        for lookup in self.lookups_for(target, features):
            if self._check_read is not None:  # online values are the table's: SELECT on it
                table = find_table(self.declared, lookup.table)
                self._check_read(
                    principal or self.access.principal, str(self.catalog.name(table.name))
                )
            found = self._restricted(
                self.online_features.lookup(lookup, entities, now=now),
                lookup.table,
                principal or self.access.principal,
            )
            merged = (
                found
                if merged is None
                else [_merge(a, b) for a, b in zip(merged, found, strict=True)]
            )
        return merged or []

    def _restricted(self, found: list[Lookup], table: str, principal: str) -> list[Lookup]:
        """Online values as the gate would let ``principal`` read them: masked columns
        masked; a table whose rows are filtered for it is not looked up (the filter is SQL
        over the table's rows, which an online record does not hold)."""
        from prodml.catalog.masking import mask_value

        name = self.catalog.name(find_table(self.declared, table).name)
        restriction = self.catalog.restriction(name, Access(principal=principal))
        if restriction.filters:
            from prodml.errors import AccessDeniedError

            raise AccessDeniedError(
                f"the rows of {name} are filtered for {principal}: online lookups cannot "
                "apply row filters",
                hint="read the table through the catalog, or be exempt from its row filter",
            )
        masks = restriction.masks
        if not masks:
            return found
        return [
            Lookup(
                {k: mask_value(v, masks[k]) if k in masks else v for k, v in f.values.items()},
                f.statuses,
                f.event_timestamp,
            )
            for f in found
        ]


def _merge(a: Lookup, b: Lookup) -> Lookup:
    times = [t for t in (a.event_timestamp, b.event_timestamp) if t is not None]
    return Lookup(
        {**a.values, **b.values}, {**a.statuses, **b.statuses}, max(times) if times else None
    )
