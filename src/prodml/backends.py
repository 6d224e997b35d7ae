"""The backends prodml can use, by kind and ``type:``: built-ins from one table, third-party
ones from the ``prodml.backends`` entry-point group.

A kind is what a backend is for; each has a protocol its implementations follow:

* ``engine``: runs steps' SQL and frames (``prodml.engine.base.Engine``), from a compute
  profile's ``engine:``;
* ``metadata``: the SQLAlchemy engine the metadata store runs on, from ``metadata.type``
  (default: the URL's scheme, and ``sqlalchemy`` — any URL SQLAlchemy knows — for others);
* ``online_store``: latest feature values (``prodml.features.online.OnlineStore``), from
  ``online_store.type`` (default: the URL's scheme);
* ``tracker``: experiment tracking of train and evaluate steps
  (``prodml.pipeline.tracking.Tracker``), from ``tracking.type``.

A third-party package registers ``<kind>.<type> = package.module:factory`` in the entry-point
group, e.g. ``online_store.dynamodb = prodml_dynamo:DynamoStore``; nothing is imported until
a configuration names it.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from prodml.errors import ConfigError, did_you_mean

#: the entry-point group of third-party backends
GROUP = "prodml.backends"

#: (kind, type) → ``module:attribute`` of the built-in factory
BUILTINS: dict[tuple[str, str], str] = {
    ("engine", "duckdb"): "prodml.engine.local:LocalEngine",
    ("metadata", "sqlite"): "prodml.catalog.store:sqlite_engine",
    ("metadata", "postgresql"): "prodml.catalog.store:postgresql_engine",
    ("metadata", "sqlalchemy"): "prodml.catalog.store:postgresql_engine",
    ("online_store", "sqlite"): "prodml.features.sqlite_store:open_store",
    ("online_store", "redis"): "prodml.features.redis_store:open_store",
    ("tracker", "mlflow"): "prodml.models.tracker:MlflowTracker",
}

#: where each kind's ``type`` is set, for error messages
WHERE = {
    "engine": "compute.profiles.<profile>.engine",
    "metadata": "metadata.type",
    "online_store": "online_store.type",
    "tracker": "tracking.type",
}


def _third_party(kind: str) -> dict[str, Any]:
    found = {}
    for ep in entry_points(group=GROUP):
        prefix, _, name = ep.name.partition(".")
        if prefix == kind and name:
            found[name] = ep
    return found


def types(kind: str) -> list[str]:
    """The types of ``kind`` that can be used: built-in and installed third-party ones."""
    builtin = [t for k, t in BUILTINS if k == kind]
    return sorted({*builtin, *_third_party(kind)})


def load(kind: str, type_: str) -> Any:
    """The factory of backend ``type_`` of ``kind``.

    Raises:
        ConfigError: no built-in or installed backend has that type (the known ones are
            named, with the closest one).
    """
    target = BUILTINS.get((kind, type_))
    if target is not None:
        module, _, attribute = target.partition(":")
        return getattr(importlib.import_module(module), attribute)
    found = _third_party(kind).get(type_)
    if found is None:
        known = types(kind)
        raise ConfigError(
            f"unknown {kind.replace('_', ' ')} type {type_!r}",
            key=WHERE.get(kind),
            hint=did_you_mean(type_, known)
            or f"types: {', '.join(known)} (others come from packages registering "
            f"'{kind}.<type>' in the {GROUP!r} entry-point group)",
        )
    try:
        return found.load()
    except Exception as exc:
        raise ConfigError(
            f"the {kind} backend {type_!r} ({found.value}) cannot be loaded: "
            f"{type(exc).__name__}: {exc}",
            key=WHERE.get(kind),
            hint="reinstall the package that provides it",
        ) from exc
