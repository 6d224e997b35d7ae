"""Errors of the feature store: declarations, joins, entities, the online store."""

from __future__ import annotations

from prodml.errors import NotFoundError, UnavailableError, UsageError


class FeatureJoinError(UsageError):
    """The spine or a feature source cannot be joined as asked (bad columns, keys, types)."""


class EntityError(UsageError):
    """An entity in a lookup request is missing a key or has a key of the wrong type.

    Attributes:
        index: the entity's position in the request.
        detail: what is wrong with it (the message without "entity <index>").
    """

    def __init__(self, index: int, detail: str) -> None:
        self.index = index
        self.detail = detail
        super().__init__(f"entity {index}{detail}")

    def renumbered(self, index: int) -> EntityError:
        """The same error for an entity at another position (a caller's own numbering)."""
        return EntityError(index, self.detail)


class NotPublishedError(NotFoundError):
    """A feature table has not been published to the online store.

    Attributes:
        name: the feature table.
    """

    def __init__(self, table: str, message: str, *, hint: str | None = None) -> None:
        super().__init__("published feature table", table, hint=hint, message=message)


class OnlineStoreError(UnavailableError):
    """The online store cannot be reached or used (trying again later can help)."""
