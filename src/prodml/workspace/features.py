"""The façade's feature store: feature tables, training sets, publishing, online lookups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prodml.features.online import Lookup
    from prodml.features.publish import PublishResult
    from prodml.features.training import FeatureLookup, TrainingSet
    from prodml.workspace.wiring import Wiring


class FeatureMethods:
    """Declared feature tables and the online store."""

    _w: Wiring

    def feature_tables(self) -> list[dict[str, Any]]:
        """Every declared feature table: owner, keys, features, consumers, online state."""
        return self._w.features.list_tables()

    def feature_table(self, name: str) -> dict[str, Any]:
        """One feature table: features with types and descriptions, the models using them."""
        return self._w.features.describe(name)

    def training_set(
        self, spine: Any, *, timestamp: str, lookups: Sequence[FeatureLookup]
    ) -> TrainingSet:
        """Point-in-time features for every row of ``spine`` (see ``FeatureLookup``)."""
        return self._w.features.training_set(spine, timestamp=timestamp, lookups=lookups)

    def publish_features(
        self, table: str | None = None, *, full: bool = False
    ) -> list[PublishResult]:
        """Publish one feature table (or every one with ``online: true``) to the online store:
        the latest value per key, from what changed since the last published version."""
        return self._w.features.publish(table, full=full)

    def online_features(
        self,
        target: str,
        entities: Sequence[Mapping[str, Any]],
        *,
        features: Sequence[str] | None = None,
        now: datetime | None = None,
    ) -> list[Lookup]:
        """Online features of each entity, from a feature table or a product's feature
        service (its champion's lookups): values, statuses and event times."""
        return self._w.features.online(target, entities, features=features, now=now)
