"""Online lookups: entities in; values, a status per feature and event times out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from prodml.errors import UsageError
from prodml.features.errors import EntityError, NotPublishedError
from prodml.features.online import Lookup, OnlineStore, coerce_key, decode, encode_key
from prodml.features.training import DeclaredTable, FeatureLookup, ResolvedLookup


class OnlineFeatures:
    """Reads declared feature tables from an online store.

    The publish state of each table (key types) is read once and cached; call
    :meth:`forget` after a publish changes a table's keys.
    """

    def __init__(
        self, store: OnlineStore, declared: Mapping[str, DeclaredTable], catalog: str
    ) -> None:
        self.store = store
        self.declared = declared
        self.catalog = catalog
        self._kinds: dict[str, list[str]] = {}

    def forget(self) -> None:
        """Drop cached publish states."""
        self._kinds.clear()

    def _key_kinds(self, table: DeclaredTable) -> tuple[str, list[str]]:
        full = f"{self.catalog}.{table.name}"
        kinds = self._kinds.get(full)
        if kinds is None:
            state = self.store.get_state(full)
            if state is None:
                raise NotPublishedError(
                    table.name,
                    f"{table.name} has not been published to the online store ({self.store.kind})",
                    hint=f"run: prodml features publish {table.name}",
                )
            kinds = self._kinds[full] = list(state["key_kinds"])
        return full, kinds

    def lookup(
        self,
        lookup: FeatureLookup | ResolvedLookup,
        entities: Sequence[Mapping[str, Any]],
        *,
        now: datetime | None = None,
    ) -> list[Lookup]:
        """The features of ``lookup`` for each entity (a mapping holding the key fields)."""
        resolved = lookup.resolve(self.declared) if isinstance(lookup, FeatureLookup) else lookup
        full, kinds = self._key_kinds(resolved.table)
        keys = []
        for i, entity in enumerate(entities):
            if not isinstance(entity, Mapping):
                raise EntityError(
                    i,
                    " must be an object of key fields, e.g. "
                    + "{"
                    + ", ".join(f'"{k}": ...' for k in resolved.keys)
                    + "}",
                )
            values = []
            for column, kind in zip(resolved.keys, kinds, strict=True):
                if column not in entity:
                    raise EntityError(
                        i,
                        f" has no key {column!r} (the keys of {resolved.table.name} "
                        f"are {', '.join(resolved.keys)})",
                    )
                try:
                    values.append(coerce_key(entity[column], kind, column))
                except ValueError as exc:
                    raise EntityError(i, f": {exc}") from None
            keys.append(encode_key(values))
        records = self.store.read(full, keys)
        found = decode(records, resolved.features, ttl=resolved.ttl, now=now)
        if resolved.rename:
            return [_renamed(r, resolved.rename) for r in found]
        return found


def _renamed(found: Lookup, rename: Mapping[str, str]) -> Lookup:
    return Lookup(
        {rename.get(k, k): v for k, v in found.values.items()},
        {rename.get(k, k): v for k, v in found.statuses.items()},
        found.event_timestamp,
    )


def lookups_from_spec(spec: Mapping[str, Any]) -> list[FeatureLookup]:
    """The online lookups a training-set spec (logged with a model) describes.

    Online reads use the feature table's declared TTL (the freshness the producer promises),
    not the TTL the training set chose for history.
    """
    try:
        return [
            FeatureLookup(
                table=item["table"],
                features=item["features"],
                keys=item["keys"],
                rename=item.get("rename") or {},
            )
            for item in spec["lookups"]
        ]
    except (KeyError, TypeError) as exc:
        raise UsageError(
            f"the training-set spec logged with the model is malformed: {exc}"
        ) from None
