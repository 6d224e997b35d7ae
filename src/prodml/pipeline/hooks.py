"""What the pipeline needs from other domains, as protocols: the wiring injects them.

Governance checks what steps do besides reading and writing tables (model access); the
feature store builds point-in-time training sets and records who consumed which features.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from prodml.catalog.policies import Access

#: governance's check: (access, action, securable type, full name); raises when refused
Authorize = Callable[[Access, str, str, str], None]


class TrainingSet(Protocol):
    """A spine with point-in-time features, and the spec (tables, versions, features) that
    made it."""

    @property
    def spec(self) -> Mapping[str, Any]:
        """What to log with the model."""


class TrainingSets(Protocol):
    """The feature store, as steps use it."""

    def table_name(self, name: str) -> str:
        """The full name of a declared feature table (``NotFoundError`` when unknown)."""

    def build(
        self,
        access: Access,
        spine: Any,
        *,
        timestamp: str,
        lookups: Sequence[Any],
        on_read: Callable[[str, int], None] | None = None,
        con: Any = None,
    ) -> Any:
        """A training set: each lookup joined to the spine point in time."""

    def record_consumers(
        self, spec: Mapping[str, Any], *, model: str, version: int, product: str, run_id: str
    ) -> None:
        """Record a model version as a consumer of the features ``spec`` used."""
