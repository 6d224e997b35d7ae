"""``prodml server``: the platform's catalog API for every environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prodml.server.uc import CatalogServer, create_uc_app


def build(root: Path, *, no_auth: bool) -> tuple[Any, list[Any]]:
    """The app over every environment's catalog, and the workspaces to close afterwards."""
    from prodml.config.loader import load_platform
    from prodml.workspace import Workspace, connect

    platform = load_platform(root)
    workspaces: dict[str, Workspace] = {}
    for env in platform.file.environments:
        ws = connect(root, env=env, principal="prodml-server")
        workspaces[ws.settings.catalog] = ws
    first = next(iter(workspaces.values()))
    if not no_auth and not first.governance.enabled:
        from prodml.errors import UsageError

        for ws in workspaces.values():
            ws.close()
        raise UsageError(
            "the catalog server authenticates callers with governance tokens, and governance "
            "is off",
            hint="set governance.enabled: true in prodml.yaml, or use --no-auth on 127.0.0.1",
        )
    server = CatalogServer(workspaces, authenticate=not no_auth)
    return create_uc_app(server), list(workspaces.values())
