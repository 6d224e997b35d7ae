"""Feature store: feature tables, point-in-time training sets, the online store, lookups.

``from prodml.features import FeatureLookup`` is what a pipeline needs; the rest is reached
through ``ws.features`` and ``ctx.training_set``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prodml.features.training import FeatureLookup, TrainingSet

__all__ = ["FeatureLookup", "TrainingSet"]


def __getattr__(name: str) -> Any:
    # lazy: importing prodml.features must not import pyarrow/duckdb (pipeline modules import it)
    if name in __all__:
        from prodml.features import training

        return getattr(training, name)
    raise AttributeError(name)
