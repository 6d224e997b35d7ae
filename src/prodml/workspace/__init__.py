"""The façade: one ``Workspace`` per platform directory and environment owns every operation.

``prodml.connect(path, env=...)`` opens one; the CLI, the servers and notebooks call only its
methods. ``Wiring`` (the composition root) builds the components behind it.
"""

from typing import TYPE_CHECKING, Any

from prodml.workspace.facade import Workspace, connect, connect_all, init_platform
from prodml.workspace.serve import endpoint_token

if TYPE_CHECKING:
    from prodml.pipeline.runner import RunResult

__all__ = ["RunResult", "Workspace", "connect", "connect_all", "endpoint_token", "init_platform"]


def __getattr__(name: str) -> Any:
    """``RunResult`` (what ``Workspace.run`` returns), imported when first asked for."""
    if name == "RunResult":
        from prodml.pipeline.runner import RunResult

        return RunResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
