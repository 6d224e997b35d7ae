"""Load ``prodml.yaml`` and product files: overlays, env-var overrides, precise errors."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import types
import typing
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from prodml.config.platform import (
    ENV_ONLY_KEYS,
    PLATFORM_ONLY_KEYS,
    AtKey,
    EnvironmentSettings,
    PlatformFile,
)
from prodml.config.product import ProductConfig
from prodml.config.yamlfile import KeyPath, YamlDoc, load_yaml
from prodml.errors import ConfigError, NotFoundError, did_you_mean

PLATFORM_FILE = "prodml.yaml"
PRODUCT_FILE = "product.yaml"
ENV_PREFIX = "PRODML__"
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Origin:
    """Where a merged key came from: its file, its path as written there, and its line."""

    file: str
    path: KeyPath
    line: int | None


@dataclass(frozen=True)
class Platform:
    """The platform file and the settings of the chosen environment."""

    root: Path
    file: PlatformFile
    settings: EnvironmentSettings

    @property
    def env(self) -> str:
        """The chosen environment's name."""
        return self.settings.name


def find_root(start: Path) -> Path:
    """The closest directory at or above ``start`` that holds ``prodml.yaml``."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / PLATFORM_FILE).is_file():
            return candidate
    raise ConfigError(
        f"no {PLATFORM_FILE} in {start} or any parent directory",
        hint="run this inside a platform directory, point to one ('prodml COMMAND --project DIR', "
        "prodml.connect(DIR)), or create one with "
        "'prodml init DIR --example retail'",
    )


def load_platform(
    root: Path, env: str | None = None, environ: Mapping[str, str] | None = None
) -> Platform:
    """Load ``root/prodml.yaml`` and resolve environment ``env`` (default: ``default_env``).

    Precedence: defaults < the file's top level < ``environments.<env>`` < ``PRODML__A__B``
    environment variables.
    """
    environ = os.environ if environ is None else environ
    doc = load_yaml(root / PLATFORM_FILE, display=PLATFORM_FILE)
    raw = dict(doc.data)
    envs = raw.get("environments")
    if isinstance(envs, dict):
        raw["environments"] = {k: ({} if v is None else v) for k, v in envs.items()}
    for key in ENV_ONLY_KEYS:
        if key in raw:
            raise ConfigError(
                "belongs inside an environment",
                file=doc.file,
                key=key,
                line=doc.line_of((key,)),
                hint=f"move it under environments.<env>.{key}",
            )
    pfile = validate(
        PlatformFile, raw, {k: Origin(doc.file, k, doc.line_of(k)) for k in _paths(raw)}
    )
    name = env or pfile.default_env
    if name not in pfile.environments:
        raise NotFoundError(
            "environment", name, pfile.environments, hint=_env_hint(name, pfile.environments)
        )
    overlay = pfile.environments[name]
    if not isinstance(overlay, dict):
        raise ConfigError("must be a mapping", file=doc.file, key=f"environments.{name}")
    base = {k: v for k, v in raw.items() if k not in PLATFORM_ONLY_KEYS}
    origins: dict[KeyPath, Origin] = {p: Origin(doc.file, p, doc.line_of(p)) for p in _paths(base)}
    merged = merge(base, overlay)
    for p in _paths(overlay):
        full = ("environments", name, *p)
        origins[p] = Origin(doc.file, full, doc.line_of(full))
    merged.setdefault("catalog", name)
    merged["name"] = name
    merged = _apply_env_overrides(merged, environ, origins)
    settings = validate(EnvironmentSettings, merged, origins)
    for other, other_overlay in pfile.environments.items():  # a typo in prod fails in dev too
        if other != name:
            other_origins = dict(origins)
            for p in _paths(other_overlay):
                full = ("environments", other, *p)
                other_origins[p] = Origin(doc.file, full, doc.line_of(full))
            validate(
                EnvironmentSettings,
                {"catalog": other, **merge(base, other_overlay), "name": other},
                other_origins,
            )
    return Platform(root=root, file=pfile, settings=settings)


def _env_hint(name: str, known: Mapping[str, Any]) -> str:
    suggestion = did_you_mean(name, known)
    listed = ", ".join(sorted(known))
    return f"{suggestion + ' ' if suggestion else ''}environments in prodml.yaml: {listed}"


def load_product(
    path: Path, env: str, *, display: str, environments: Collection[str] | None = None
) -> ProductConfig:
    """Load one ``product.yaml`` with its ``environments.<env>`` overlay applied.

    ``environments`` (the platform's) lets an overlay for a misspelt environment fail loudly.
    """
    doc = load_yaml(path, display=display)
    raw = dict(doc.data)
    envs = raw.pop("environments", None) or {}
    origins = {p: Origin(doc.file, p, doc.line_of(p)) for p in _paths(raw)}
    if not isinstance(envs, dict):
        raise ConfigError(
            "must be a mapping of environment overlays", file=doc.file, key="environments"
        )
    known = list(environments) if environments is not None else list(envs)
    for name in envs:
        if name not in known:
            raise ConfigError(
                f"overlay for unknown environment {name!r}",
                file=doc.file,
                key=f"environments.{name}",
                line=doc.line_of(("environments", name)),
                hint=did_you_mean(name, known) or f"environments: {', '.join(known)}",
            )
    overlay = envs.get(env) or {}
    if not isinstance(overlay, dict):
        raise ConfigError("must be a mapping", file=doc.file, key=f"environments.{env}")
    merged = merge(raw, overlay)
    for p in _paths(overlay):
        full = ("environments", env, *p)
        origins[p] = Origin(doc.file, full, doc.line_of(full))
    config = validate(ProductConfig, merged, origins)
    expected = path.parent.name
    if config.name != expected:
        raise ConfigError(
            f"product name {config.name!r} does not match its directory {expected!r}",
            file=doc.file,
            key="name",
            line=doc.line_of(("name",)),
            hint=f"rename the directory or set name: {expected}",
        )
    return config


def merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``overlay`` into a copy of ``base``: mappings merge per key, the rest replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _paths(data: Any, prefix: KeyPath = ()) -> list[KeyPath]:
    out: list[KeyPath] = []
    if isinstance(data, Mapping):
        for k, v in data.items():
            out.append((*prefix, str(k)))
            out.extend(_paths(v, (*prefix, str(k))))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.append((*prefix, i))
            out.extend(_paths(v, (*prefix, i)))
    return out


def _apply_env_overrides(
    data: dict[str, Any], environ: Mapping[str, str], origins: dict[KeyPath, Origin]
) -> dict[str, Any]:
    for var in sorted(environ):
        if not var.startswith(ENV_PREFIX):
            continue
        parts = tuple(p.lower() for p in var[len(ENV_PREFIX) :].split("__"))
        if not all(parts):
            raise ConfigError(f"malformed override variable {var}", hint="use PRODML__SECTION__KEY")
        value: Any = environ[var]
        if value.strip().startswith(("[", "{")):  # structured values are YAML; scalars stay text
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError:
                raise ConfigError(f"{var} holds invalid YAML", hint="quote the value") from None
        node = data
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise ConfigError(f"{var} descends into {part!r}, which is not a section")
            node = child
        node[parts[-1]] = value
        origins[parts] = Origin(f"environment variable {var}", parts, None)
        for i in range(1, len(parts)):  # a section it made names it too (an unknown key)
            origins.setdefault(parts[:i], Origin(f"environment variable {var}", parts[:i], None))
    return data


def validate(model: type[M], data: dict[str, Any], origins: Mapping[KeyPath, Origin]) -> M:
    """Validate ``data`` as ``model``; turn the first problem into a :class:`ConfigError`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        loc = tuple(first["loc"])
        keyed = first.get("ctx", {}).get("error")
        if isinstance(keyed, AtKey):  # a model-level check that knows which key is wrong
            loc = (*loc, *keyed.path)
        origin, matched = _origin_for(loc, origins)
        file = origin.file if origin else None
        shown_path = (*origin.path, *loc[matched:]) if origin else loc
        shown = ".".join(str(p) for p in shown_path)
        hint = None
        if first["type"] == "extra_forbidden":
            allowed = _fields_at(model, loc[:-1])
            message = f"unknown key {str(loc[-1])!r}"
            hint = did_you_mean(str(loc[-1]), allowed) or (
                f"allowed keys: {', '.join(sorted(allowed))}" if allowed else None
            )
        elif first["type"] == "missing":
            message = "required key is missing"
        elif isinstance(keyed, AtKey):
            message = str(keyed)
        else:
            message = first["msg"]
            if "input" in first and first["type"] not in ("model_type", "dict_type"):
                message += f" (got {first['input']!r})"
        more = len(errors) - 1
        if more:
            message += f" [+{more} more problem{'s' if more > 1 else ''}]"
        raise ConfigError(
            message, file=file, key=shown or None, line=origin.line if origin else None, hint=hint
        ) from None


def _origin_for(loc: KeyPath, origins: Mapping[KeyPath, Origin]) -> tuple[Origin | None, int]:
    path = loc
    while path:
        if path in origins:
            return origins[path], len(path)
        path = path[:-1]
    return None, 0


def _fields_at(model: type[BaseModel], loc: KeyPath) -> list[str]:
    """Names of the fields of the model found at ``loc`` inside ``model`` (empty if not a model)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = field.annotation
        else:
            origin = typing.get_origin(current)
            args = typing.get_args(current)
            if origin in (dict, Mapping) and len(args) == 2:
                current = args[1]
            elif origin is list and args:
                current = args[0]
            else:
                return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


#: settings added after runs were first recorded: (section, key) → the value that means "not
#: set". Left at it, they stay out of the hash, so a config that does not use them hashes as
#: it did before they existed.
LATER_SETTINGS: dict[tuple[str, str], object] = {
    ("metadata", "type"): None,
    ("online_store", "type"): None,
    ("tracking", "type"): "mlflow",
}


def config_hash(*parts: BaseModel) -> str:
    """A short stable hash of resolved config models (secret references stay unresolved)."""
    dumped = [p.model_dump(mode="json") for p in parts]
    for data in dumped:
        for (section, key), unset in LATER_SETTINGS.items():
            values = data.get(section)
            if isinstance(values, dict) and key in values and values[key] == unset:
                del values[key]
    payload = json.dumps(dumped, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


__all__ = [
    "PLATFORM_FILE",
    "PRODUCT_FILE",
    "Platform",
    "YamlDoc",
    "config_hash",
    "find_root",
    "load_platform",
    "load_product",
    "merge",
    "validate",
]
