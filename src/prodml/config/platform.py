"""The platform configuration (``prodml.yaml``): environments, storage, metadata, compute."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class Closed(BaseModel):
    """Base for config models: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class AtKey(ValueError):
    """A validation error about a key below the model being validated (``path`` from there)."""

    def __init__(self, path: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.path = path


def check_name(value: str, what: str) -> str:
    """Validate a lower-case identifier used in names (environments, catalogs, products)."""
    if not NAME_RE.fullmatch(value):
        raise ValueError(
            f"{what} {value!r} must start with a lower-case letter and hold only a-z, 0-9 and _"
        )
    return value


class StorageConfig(Closed):
    """Where Delta tables live: ``<root>/<catalog>/<schema>/<table>/``."""

    root: str = Field("data", description="directory (relative to the project) or URI")
    options: dict[str, str] = Field(default_factory=dict, description="object-store options")


class MetadataConfig(Closed):
    """The metadata store (catalog, runs, step states, lineage)."""

    type: str | None = Field(
        None, description="metadata backend (sqlite, postgresql, …); default: the URL's scheme"
    )
    url: str | None = Field(
        None, description="SQLAlchemy URL; default: a SQLite file in the state dir"
    )


class TrackingConfig(Closed):
    """Experiment tracking and the model registry (MLflow)."""

    type: str = Field("mlflow", description="tracking backend")
    uri: str | None = Field(
        None, description="tracking URI; default: a SQLite file in the state dir"
    )
    registry_uri: str | None = Field(None, description="registry URI; default: the tracking URI")
    artifact_root: str | None = Field(
        None, description="where new experiments keep artifacts; default: <state_dir>/mlartifacts"
    )


class OnlineStoreConfig(Closed):
    """The online feature store: latest feature values per entity, for serving."""

    type: str | None = Field(
        None, description="online store backend (sqlite, redis, …); default: the URL's scheme"
    )
    url: str | None = Field(
        None,
        description="sqlite:///path or redis://host:port/db (a ${secret:NAME} for a password); "
        "default: <state_dir>/online.db",
    )

    @model_validator(mode="after")
    def _scheme(self) -> OnlineStoreConfig:
        url = self.url
        if self.type is None and url and not url.startswith(("sqlite://", "redis://", "rediss://")):
            raise AtKey(
                ("url",),
                f"unsupported online store {url.split(':', 1)[0]!r}: use sqlite:///PATH or "
                "redis://HOST:PORT/DB (or name a backend with type:)",
            )
        return self


class OpenLineageConfig(Closed):
    """Optional OpenLineage events: one COMPLETE event per step run, to a file and/or HTTP."""

    path: str | None = Field(None, description="a JSON-lines file (relative to the project)")
    url: str | None = Field(
        None, pattern=r"^https?://", description="an OpenLineage HTTP endpoint (e.g. Marquez)"
    )
    api_key: str | None = Field(None, description="a bearer token (a ${secret:NAME} reference)")
    namespace: str = Field("prodml", min_length=1, description="the events' namespace")


class ComputeProfile(Closed):
    """Limits for the engine that runs a product's steps (a cluster policy, locally): DuckDB's
    threads and memory limit (an unknown engine is refused by the backends' registry). A limit
    nothing enforces yet is refused, not ignored."""

    engine: str = Field("duckdb", pattern=r"^[a-z][a-z0-9_]*$", description="engine backend")
    threads: int | None = Field(None, ge=1, le=1024)
    memory_limit: str | None = Field(None, pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")
    timeout_seconds: int | None = Field(None, ge=1)
    max_workers: int = Field(1, ge=1, le=256)

    @field_validator("timeout_seconds")
    @classmethod
    def _timeout(cls, value: int | None) -> int | None:
        if value is not None:
            raise AtKey(
                (),
                "nothing enforces a step timeout yet: remove timeout_seconds (a product's "
                "sla.max_runtime_minutes raises an alert when a run takes longer)",
            )
        return value

    @field_validator("max_workers")
    @classmethod
    def _workers(cls, value: int) -> int:
        if value != 1:
            raise AtKey((), "steps run one at a time for now: remove max_workers (or set 1)")
        return value


class ComputeConfig(Closed):
    """Named compute profiles and the one used by default."""

    default_profile: str = "default"
    profiles: dict[str, ComputeProfile] = Field(
        default_factory=lambda: {"default": ComputeProfile()}
    )

    @model_validator(mode="after")
    def _default_exists(self) -> ComputeConfig:
        if self.default_profile not in self.profiles:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise AtKey(
                ("default_profile",),
                f"{self.default_profile!r} is not one of the profiles (profiles: {known})",
            )
        return self


class RetentionConfig(Closed):
    """How long prodml's own logs keep rows, in days (null: for ever). ``prodml tables
    retain`` deletes older rows (one commit per table; ``vacuum`` then frees their files)."""

    inference_log_days: int | None = Field(90, ge=1, description="ml.<product>_inference_log")
    dq_results_days: int | None = Field(365, ge=1, description="monitoring.dq_results")
    quarantine_days: int | None = Field(90, ge=1, description="<table>__quarantine tables")
    audit_days: int | None = Field(
        None, ge=1, description="the audit log (kept for ever unless set)"
    )


class EnvironmentSettings(Closed):
    """Everything one environment resolves to, after the overlay and env-var overrides."""

    name: str = Field(..., description="the environment's name (dev, staging, prod, …)")
    catalog: str = Field(..., description="catalog name; defaults to the environment's name")
    state_dir: str = ".prodml"
    landing_dir: str = "landing"
    products_dir: str = "products"
    secrets_file: str | None = None
    storage: StorageConfig = Field(default_factory=StorageConfig)
    metadata: MetadataConfig = Field(default_factory=MetadataConfig)
    compute: ComputeConfig = Field(default_factory=ComputeConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    online_store: OnlineStoreConfig = Field(default_factory=OnlineStoreConfig)
    openlineage: OpenLineageConfig | None = None
    retention: RetentionConfig = Field(default_factory=RetentionConfig)

    @field_validator("name", "catalog")
    @classmethod
    def _names(cls, value: str) -> str:
        return check_name(value, "name")

    def profile(self) -> ComputeProfile:
        """The default compute profile."""
        return self.compute.profiles[self.compute.default_profile]


# -- governance: principals, groups, grants, owners, admins ----------------------------------
# Declared principals and grants are applied to the metadata store when a workspace opens;
# principals, tokens and grants can also be managed with ``prodml principals`` and ``prodml
# grants`` (those are kept apart from the declared ones and survive a re-apply).

_NAME = r"^[a-z][a-z0-9_.@-]{0,127}$"


class UserDecl(Closed):
    """A user."""

    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+$")
    display_name: str | None = None
    groups: list[str] = Field(default_factory=list)


class GroupDecl(Closed):
    """A group (it may itself be in groups)."""

    description: str = ""
    groups: list[str] = Field(default_factory=list)


class ServicePrincipalDecl(Closed):
    """A service principal: what scheduled and CI runs of a product act as (tokens only)."""

    description: str = ""
    groups: list[str] = Field(default_factory=list)


class GrantDecl(Closed):
    """``securable: <type> <name>``, ``principal: <name>``, ``privileges: [...]``."""

    securable: str = Field(..., pattern=r"^(catalog|schema|table|model|endpoint) \S+$")
    principal: str = Field(..., pattern=_NAME)
    privileges: list[str] = Field(..., min_length=1)


class OwnerDecl(Closed):
    """``securable: <type> <name>``, ``owner: <principal>``."""

    securable: str = Field(..., pattern=r"^(catalog|schema|table|model|endpoint) \S+$")
    owner: str = Field(..., pattern=_NAME)


_TABLE = r"^([a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$"


class ColumnDecl(Closed):
    """A column's tags and mask: ``{table: gold.customers, column: email, tags: [pii],
    mask: hash, exempt: [support]}``. A masked column reads masked for every principal but
    ``exempt`` ones (users or groups), on every path."""

    table: str = Field(
        ..., pattern=_TABLE, description="schema.table (every environment) or catalog.schema.table"
    )
    column: str = Field(..., pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
    tags: list[str] = Field(default_factory=list, description="e.g. pii (shown in column info)")
    mask: Literal["null", "redact", "hash"] | None = Field(
        None,
        description="null: no value; redact: '***' (null for non-text); hash: SHA-256 of the "
        "value's text (joins still match)",
    )
    exempt: list[str] = Field(default_factory=list, description="who sees the values")

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        for tag in value:
            if not re.fullmatch(r"^[a-z][a-z0-9_-]{0,63}$", tag):
                raise ValueError(f"tag {tag!r} is not valid: lower-case letters, digits, _ and -")
        return value


class RowFilterDecl(Closed):
    """``{table: gold.orders, where: "country = 'DE'", exempt: [emea-leads]}``: the rows every
    principal but ``exempt`` ones reads are those where the SQL condition holds."""

    table: str = Field(..., pattern=_TABLE)
    where: str = Field(..., min_length=1, description="a SQL condition over the table's columns")
    exempt: list[str] = Field(default_factory=list, description="who reads every row")

    @field_validator("where")
    @classmethod
    def _one_condition(cls, value: str) -> str:
        if ";" in value or "--" in value or "/*" in value:
            raise ValueError("where must be one SQL condition (no ';' or comments)")
        return value


class GovernanceConfig(Closed):
    """Who exists and who may do what. Off by default: a laptop needs no grants."""

    enabled: bool = Field(False, description="check every read, write, load and call")
    admins: list[str] = Field(
        default_factory=list, description="users or groups holding every privilege everywhere"
    )
    local_user: str | None = Field(
        None, description="who the CLI acts as without PRODML_TOKEN (default: the OS user)"
    )
    users: dict[str, UserDecl] = Field(default_factory=dict)
    groups: dict[str, GroupDecl] = Field(default_factory=dict)
    service_principals: dict[str, ServicePrincipalDecl] = Field(default_factory=dict)
    grants: list[GrantDecl] = Field(default_factory=list)
    owners: list[OwnerDecl] = Field(default_factory=list)
    columns: list[ColumnDecl] = Field(
        default_factory=list, description="column tags and masks, applied on every read"
    )
    row_filters: list[RowFilterDecl] = Field(
        default_factory=list, description="the rows principals read, applied on every read"
    )

    @field_validator("columns", "row_filters")
    @classmethod
    def _controls_need_governance(cls, value: list[Any], info: ValidationInfo) -> list[Any]:
        controls = [c for c in value if getattr(c, "mask", True)]  # a row filter, or a mask
        if controls and not info.data.get("enabled"):
            raise ValueError(
                "column masks and row filters decide by who reads: set governance.enabled: true"
            )
        return value

    @field_validator("users", "groups", "service_principals")
    @classmethod
    def _names(cls, value: dict[str, object]) -> dict[str, object]:
        for name in value:
            if not re.fullmatch(_NAME, name):
                raise ValueError(
                    f"principal name {name!r} is not valid: lower-case letters, digits and "
                    "_ . @ -, starting with a letter"
                )
        return value

    def names(self) -> dict[str, str]:
        """Every declared principal → its kind."""
        out: dict[str, str] = {}
        for kind, group in (
            ("user", self.users),
            ("group", self.groups),
            ("service_principal", self.service_principals),
        ):
            for name in group:
                out[name] = kind
        return out


#: keys a platform file may hold at the top level besides the environment settings
PLATFORM_ONLY_KEYS = ("name", "description", "default_env", "environments", "governance")
#: keys that only make sense inside ``environments.<env>``
ENV_ONLY_KEYS = ("catalog",)


def _default_envs() -> dict[str, dict[str, Any]]:
    return {"dev": {}, "staging": {}, "prod": {}}


class PlatformFile(Closed):
    """The shape of ``prodml.yaml`` before an environment is chosen."""

    name: str = "prodml"
    description: str = ""
    default_env: str = "dev"
    environments: dict[str, dict[str, Any]] = Field(default_factory=_default_envs)
    state_dir: str = ".prodml"
    landing_dir: str = "landing"
    products_dir: str = "products"
    secrets_file: str | None = None
    storage: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    compute: dict[str, Any] = Field(default_factory=dict)
    tracking: dict[str, Any] = Field(default_factory=dict)
    online_store: dict[str, Any] = Field(default_factory=dict)
    openlineage: dict[str, Any] | None = None
    retention: dict[str, Any] = Field(default_factory=dict)
    governance: GovernanceConfig = Field(default_factory=GovernanceConfig)

    @field_validator("environments")
    @classmethod
    def _env_names(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        if not value:
            raise ValueError("at least one environment is needed (e.g. dev: {})")
        for name in value:
            check_name(name, "environment name")
        return value
