"""The façade: one ``Workspace`` per platform directory and environment owns every operation.

``prodml.connect(path, env=...)`` opens one; the CLI, the servers and notebooks call only its
methods. ``Wiring`` (the composition root) builds the components behind it.
"""

from prodml.workspace.facade import Workspace, connect, connect_all, init_platform
from prodml.workspace.serve import endpoint_token

__all__ = ["Workspace", "connect", "connect_all", "endpoint_token", "init_platform"]
