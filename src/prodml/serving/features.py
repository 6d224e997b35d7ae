"""Online features for requests: a record's missing inputs fetched by its entity keys."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from prodml.config.product import FeatureLookupConfig
from prodml.features.errors import EntityError
from prodml.features.lookup import OnlineFeatures, lookups_from_spec
from prodml.features.online import NOT_FOUND
from prodml.features.training import FeatureLookup, ResolvedLookup
from prodml.serving.errors import PayloadError
from prodml.serving.payload import Records


class FeatureEnricher:
    """Adds looked-up features to records; values the request provides win.

    Args:
        online: lookups against the online store.
        configured: the endpoint's ``feature_lookups`` (a list), or ``"model"``: the lookups
            logged with each served model version's training set.
    """

    def __init__(
        self,
        online: OnlineFeatures,
        configured: Sequence[FeatureLookupConfig] | Literal["model"],
    ) -> None:
        self.online = online
        self.from_model = configured == "model"
        self._static: list[ResolvedLookup] = []
        if not isinstance(configured, str):
            # resolved now: an unknown table or feature stops the server from starting
            self._static = [
                FeatureLookup(c.table, features=c.features, keys=c.keys).resolve(online.declared)
                for c in configured
            ]
        self._by_spec: dict[str, list[ResolvedLookup]] = {}

    def lookups(self, specs: Iterable[Mapping[str, Any] | None]) -> list[ResolvedLookup]:
        """The lookups to run: the configured ones, or those of the loaded models' specs."""
        if not self.from_model:
            return self._static
        out: dict[tuple[str, tuple[str, ...]], ResolvedLookup] = {}
        for spec in specs:
            if not spec:
                continue
            key = json.dumps(spec, sort_keys=True)
            resolved = self._by_spec.get(key)
            if resolved is None:
                resolved = [
                    lookup.resolve(self.online.declared) for lookup in lookups_from_spec(spec)
                ]
                self._by_spec[key] = resolved
            for lookup in resolved:
                out.setdefault((lookup.table.name, tuple(lookup.features)), lookup)
        return list(out.values())

    def apply(
        self, records: Records, lookups: Sequence[ResolvedLookup]
    ) -> tuple[Records, list[dict[str, str]]]:
        """Records with the looked-up features, and each record's feature statuses
        (``request`` where the request gave the value)."""
        if not lookups:
            return records, []
        columns = dict(records.columns)
        statuses: list[dict[str, str]] = [{} for _ in range(records.n)]
        for lookup in lookups:
            outputs = lookup.outputs()
            if all(n in columns and None not in columns[n] for n in outputs):
                for status in statuses:  # the request gives every value: nothing to look up
                    status.update(dict.fromkeys(outputs, "request"))
                continue
            absent = [k for k in lookup.keys if k not in columns]
            if absent:
                raise PayloadError(
                    f"records need the field {absent[0]!r} to look up features of "
                    f"{lookup.table.name} (keys: {', '.join(lookup.keys)})"
                )
            rows = [
                i for i in range(records.n) if all(columns[k][i] is not None for k in lookup.keys)
            ]
            entities = [{k: columns[k][i] for k in lookup.keys} for i in rows]
            # a bad key is the request's (400), named by its record; the online store's
            # failures keep their kind
            try:
                found = self.online.lookup(lookup, entities)
            except EntityError as exc:
                raise exc.renumbered(rows[exc.index]) from None
            by_row = dict(zip(rows, found, strict=True))
            for name in outputs:
                given = columns.get(name)
                values: list[Any] = []
                for i in range(records.n):
                    if given is not None and given[i] is not None:
                        values.append(given[i])
                        statuses[i][name] = "request"
                        continue
                    hit = by_row.get(i)
                    values.append(hit.values.get(name) if hit else None)
                    statuses[i][name] = hit.statuses.get(name, NOT_FOUND) if hit else NOT_FOUND
                columns[name] = values
        return Records(columns, records.n, records.params), statuses
