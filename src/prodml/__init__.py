"""prodml: an MLOps framework organised around the data-science product.

Heavy modules load on first use, so ``import prodml`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prodml.errors import ProdmlError

if TYPE_CHECKING:
    from prodml.pipeline.context import StepContext
    from prodml.pipeline.errors import SkipStep
    from prodml.pipeline.step import step
    from prodml.workspace import Workspace, connect

__version__ = "0.1.0"

__all__ = [
    "ProdmlError",
    "SkipStep",
    "StepContext",
    "Workspace",
    "__version__",
    "connect",
    "step",
]

_LAZY = {
    "connect": "prodml.workspace",
    "Workspace": "prodml.workspace",
    "step": "prodml.pipeline.step",
    "StepContext": "prodml.pipeline.context",
    "SkipStep": "prodml.pipeline.errors",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'prodml' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
