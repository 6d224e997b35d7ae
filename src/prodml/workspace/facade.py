"""``Workspace``: everything prodml does in one platform and environment, as short methods that
delegate to the domains' services (built and wired by ``Wiring``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from prodml.config import find_root, load_platform
from prodml.workspace.abtest import ExperimentMethods
from prodml.workspace.definitions import DefinitionMethods
from prodml.workspace.examples import ExampleMethods, init_platform
from prodml.workspace.features import FeatureMethods
from prodml.workspace.governance import GovernanceMethods
from prodml.workspace.models import ModelMethods
from prodml.workspace.monitoring import MonitoringMethods
from prodml.workspace.pipelines import PipelineMethods
from prodml.workspace.serving import ServingMethods
from prodml.workspace.tables import TableMethods
from prodml.workspace.wiring import Wiring

if TYPE_CHECKING:
    from prodml.config import EnvironmentSettings, Platform

__all__ = ["Workspace", "connect", "connect_all", "init_platform"]


def connect(
    path: str | os.PathLike[str] = ".",
    env: str | None = None,
    *,
    principal: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Workspace:
    """Open the platform at ``path`` (or the closest parent holding ``prodml.yaml``).

    Args:
        path: the platform directory or any directory below it.
        env: the environment (default: the platform's ``default_env``).
        principal: who is acting (default: from ``PRODML_TOKEN``, or the local user).
        environ: environment variables to read overrides and secrets from (default: os.environ).
    """
    root = find_root(Path(path))
    return Workspace(load_platform(root, env, environ), principal=principal, environ=environ)


def connect_all(
    path: str | os.PathLike[str] = ".", *, principal: str | None = None
) -> dict[str, Workspace]:
    """A workspace per environment of the platform at ``path``, by catalog name."""
    root = find_root(Path(path))
    platform = load_platform(root)
    opened = [connect(root, env, principal=principal) for env in platform.file.environments]
    return {ws.catalog_name: ws for ws in opened}


class Workspace(
    PipelineMethods,
    TableMethods,
    DefinitionMethods,
    ModelMethods,
    FeatureMethods,
    MonitoringMethods,
    ExperimentMethods,
    GovernanceMethods,
    ServingMethods,
    ExampleMethods,
):
    """Everything prodml does in one platform and environment. The CLI and the servers call
    only this; its components are private (``Wiring``)."""

    def __init__(
        self,
        platform: Platform,
        *,
        principal: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._w = Wiring(platform, principal=principal, environ=environ)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace(root={str(self.root)!r}, env={self.env!r})"

    def close(self) -> None:
        """Release connections."""
        self._w.close()

    @property
    def root(self) -> Path:
        """The platform directory."""
        return self._w.root

    @property
    def env(self) -> str:
        """The environment."""
        return self._w.env

    @property
    def settings(self) -> EnvironmentSettings:
        """The environment's settings (after overlays and overrides; secrets unresolved)."""
        return self._w.settings

    @property
    def platform(self) -> Platform:
        """The platform configuration."""
        return self._w.platform

    @property
    def landing_dir(self) -> Path:
        """Where landing files arrive."""
        return self._w.landing_dir

    @property
    def state_dir(self) -> Path:
        """Where metadata, tracking and scratch files live."""
        return self._w.state_dir
