"""The product configuration (``products/<name>/product.yaml``)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from prodml.config.expectations import Expectation
from prodml.config.platform import AtKey, Closed, check_name

Role = Literal["responsible", "accountable", "consulted", "informed"]
Delivery = Literal["batch", "real-time", "api", "report", "file", "dashboard"]
Stage = Literal["ideation", "development", "staging", "production", "deprecated", "retired"]


class Owner(Closed):
    """A person or team with a RACI role on the product."""

    name: str = Field(..., min_length=1)
    role: Role
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+$")


class Classification(Closed):
    """What kind of product this is and how its results reach people."""

    kind: Literal[
        "data", "predictive-model", "forecast", "optimisation", "report", "api", "genai", "other"
    ] = "other"
    delivery: list[Delivery] = Field(default_factory=lambda: list[Delivery](["batch"]))
    domain: str | None = None
    criticality: Literal["low", "medium", "high"] = "medium"


class SLA(Closed):
    """Service levels the landscape checks the product against."""

    freshness_hours: float | None = Field(None, gt=0, description="max age of the gold outputs")
    max_runtime_minutes: float | None = Field(
        None, gt=0, description="a run that takes longer raises an alert"
    )
    schedule: str | None = Field(None, description="cron expression of the production run")

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return None if value is None else check_cron(value)


#: each cron field's name and range (minute hour day-of-month month day-of-week)
_CRON_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day", 1, 31),
    ("month", 1, 12),
    ("weekday", 0, 7),
)
_CRON_NAMES = {
    "month": ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    "weekday": ("sun", "mon", "tue", "wed", "thu", "fri", "sat"),
}
_CRON_ITEM = re.compile(r"(\*|\w+(?:-\w+)?)(?:/(\d+))?")


def check_cron(text: str) -> str:
    """A five-field cron expression (minute hour day month weekday), checked field by field."""
    fields = text.split()
    if len(fields) != 5:
        raise AtKey(
            (),
            f"{text!r} is not a cron expression: it needs 5 fields (minute hour day month "
            "weekday), e.g. '0 6 * * *' for 06:00 every day",
        )
    for part, (name, low, high) in zip(fields, _CRON_FIELDS, strict=True):
        for item in part.split(","):
            m = _CRON_ITEM.fullmatch(item)
            ends = [] if m is None or m.group(1) == "*" else m.group(1).split("-")
            values = [_cron_value(e, name) for e in ends]
            if m is None or any(v is None or not low <= v <= high for v in values):
                raise AtKey(
                    (),
                    f"{text!r}: the {name} field {part!r} is not valid (values {low}-{high}, "
                    "*, ranges a-b, lists a,b and steps */n)",
                )
    return text


def _cron_value(text: str, field: str) -> int | None:
    if text.isdigit():
        return int(text)
    names = _CRON_NAMES.get(field, ())
    return names.index(text.lower()) + (field == "month") if text.lower() in names else None


class ColumnDocs(Closed):
    """Documentation of one table the product owns, and the expectations its writes must meet."""

    description: str = ""
    columns: dict[str, str] = Field(default_factory=dict)
    expectations: list[Expectation] = Field(default_factory=list)

    @field_validator("expectations")
    @classmethod
    def _distinct(cls, value: list[Expectation]) -> list[Expectation]:
        seen: set[str] = set()
        for i, rule in enumerate(value):
            label = rule.label()
            if label in seen:
                raise AtKey(
                    (str(i), "name"), f"two expectations are named {label!r}: give one a name:"
                )
            seen.add(label)
        return value


class Bound(Closed):
    """An absolute bound on a metric."""

    min: float | None = None
    max: float | None = None


class Improvement(Closed):
    """How much a new version must beat the current champion on one metric."""

    metric: str
    min_delta: float = Field(
        0.0,
        description="how much better than the champion (absolute, or a fraction when relative "
        "is true); negative: how much worse is still acceptable (non-inferiority)",
    )
    relative: bool = False
    higher_is_better: bool = True


class Gate(Closed):
    """The validation gate a new model version must pass to become the challenger."""

    metrics: dict[str, Bound] = Field(default_factory=dict)
    improvement: Improvement | None = None


class ModelConfig(Closed):
    """The product's model: its registered name, how it is promoted, its gate."""

    name: str = Field(..., description="registered as <env>.ml.<name>")
    flavor: Literal["sklearn", "pyfunc"] = "sklearn"
    deployment: Literal["model", "code"] = Field(
        "model", description="promote by copying the validated version, or by retraining"
    )
    gate: Gate = Field(default_factory=Gate)
    auto_promote: bool = Field(
        False, description="make a version that passes the gate champion at once"
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value, "model name")


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``36h``, ``7d``, ``2w`` as a timedelta (ValueError otherwise)."""
    match = _DURATION.fullmatch(str(text))
    if not match:
        raise ValueError(
            f"{text!r} is not a duration: use a number and a unit, e.g. 90s, 15m, 36h, 7d, 2w"
        )
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


class Feature(Closed):
    """One feature of a feature table (its type comes from the table, or is checked against it)."""

    description: str = Field(..., min_length=1)
    type: str | None = Field(None, description="expected Arrow type, e.g. double, int64, string")


class FeatureTable(Closed):
    """A feature table in ``features.*``: entity keys, an event time and described features."""

    description: str = Field(..., min_length=1)
    keys: list[str] = Field(..., min_length=1, description="entity key columns")
    timestamp: str = Field(..., description="event-time column (time-zone aware)")
    created: str | None = Field(
        None, description="ingestion-time column that breaks event-time ties (latest wins)"
    )
    ttl: str | None = Field(
        None, description="how old a value may be when it is used (e.g. 7d); none: any age"
    )
    features: dict[str, Feature] = Field(..., min_length=1)
    online: bool = Field(True, description="published to the online store by features publish")

    @field_validator("features", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):  # name: "description" is short for name: {description: ...}
            return {k: {"description": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("ttl")
    @classmethod
    def _ttl(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @model_validator(mode="after")
    def _columns(self) -> FeatureTable:
        for name in [*self.keys, self.timestamp, *([self.created] if self.created else [])]:
            if name in self.features:
                raise AtKey(("features", name), f"{name!r} is a key or time column, not a feature")
        return self

    @property
    def ttl_delta(self) -> timedelta | None:
        """The TTL as a timedelta."""
        return parse_duration(self.ttl) if self.ttl else None


class FeatureLookupConfig(Closed):
    """Features an endpoint fetches from the online store by the request's entity keys."""

    table: str = Field(..., description="a feature table, e.g. features.customer_features")
    features: list[str] | None = Field(None, description="default: every feature of the table")
    keys: list[str] | None = Field(
        None, description="request fields holding the table's keys (default: the same names)"
    )


class Variant(Closed):
    """One arm of an endpoint: the model alias it serves and its share of the traffic."""

    alias: str = Field(..., pattern=r"^[A-Za-z][A-Za-z0-9_-]*$", description="registry alias")
    weight: float = Field(1.0, ge=0, description="share of traffic (weights are normalised)")


class Batching(Closed):
    """Micro-batching of concurrent requests for the same model."""

    max_batch_size: int = Field(64, ge=1, le=100_000, description="rows per model call")
    max_wait_ms: float = Field(
        0.0,
        ge=0,
        le=1000,
        description="how long a batch waits to fill; 0 batches whatever queued during the "
        "previous call (no added latency)",
    )


class InferenceLog(Closed):
    """The endpoint's inference log: a row per scored record in a Delta table."""

    enabled: bool = True
    table: str | None = Field(None, description="default ml.<product>_inference_log")
    flush_rows: int = Field(5000, ge=1, description="write when this many rows are waiting")
    flush_seconds: float = Field(2.0, gt=0, le=3600, description="or when this much time passed")
    queue_rows: int = Field(
        200_000, ge=1, description="rows held in memory at most; beyond it requests get 503"
    )
    durable: bool = Field(
        True,
        description="journal each request's rows to a local append-only log before it is "
        "answered (synced once per flush), so a killed server loses none: the next start "
        "replays them into the table. false: rows wait in memory only",
    )


class Token(Closed):
    """A bearer token, kept only as its SHA-256 hash (``prodml tokens new`` prints both)."""

    name: str = Field(..., min_length=1)
    sha256: str = Field(..., pattern=r"^[0-9a-f]{64}$")


class EndpointAuth(Closed):
    """Who may call the endpoint."""

    tokens: list[Token] = Field(default_factory=list)


class EndpointConfig(Closed):
    """The product's real-time endpoint."""

    variants: dict[str, Variant] = Field(
        default_factory=lambda: {"champion": Variant(alias="champion", weight=1.0)},
        description="traffic arms by name; the first is the default",
    )
    shadow: str | None = Field(
        None, description="a variant scored and logged on every request but never returned"
    )
    unit_key: str | None = Field(
        None, description="record field (or X-Unit-Id header) for sticky variant assignment"
    )
    salt: str | None = Field(None, description="assignment salt (default: the product name)")
    reload_seconds: float = Field(10.0, gt=0, description="how often aliases are checked")
    batching: Batching = Field(default_factory=Batching)
    inference_log: InferenceLog = Field(default_factory=InferenceLog)
    auth: EndpointAuth = Field(default_factory=EndpointAuth)
    max_body_bytes: int = Field(1_048_576, ge=1024, description="larger requests get 413")
    max_rows: int = Field(10_000, ge=1, description="records per request at most")
    feature_lookups: list[FeatureLookupConfig] | Literal["model"] = Field(
        default_factory=list,
        description="online features fetched by the request's keys; 'model': the lookups of the "
        "training set each served model version was logged with",
    )

    @field_validator("variants")
    @classmethod
    def _variants(cls, value: dict[str, Variant]) -> dict[str, Variant]:
        if not value:
            raise ValueError("an endpoint needs at least one variant")
        for name in value:
            check_name(name, "variant name")
        return value

    @model_validator(mode="after")
    def _traffic(self) -> EndpointConfig:
        if self.shadow is not None and self.shadow not in self.variants:
            raise AtKey(
                ("shadow",),
                f"shadow {self.shadow!r} is not a variant (variants: {', '.join(self.variants)})",
            )
        live = [n for n, v in self.variants.items() if n != self.shadow and v.weight > 0]
        if not live:
            raise AtKey(("variants",), "no variant has traffic: give one a weight above 0")
        if self.unit_key is not None:
            try:
                check_name(self.unit_key, "unit_key")
            except ValueError as exc:
                raise AtKey(("unit_key",), str(exc)) from None
        return self


class Metric(Closed):
    """An experiment metric: a mean per unit (e.g. revenue) or a rate (converted or not)."""

    kind: Literal["mean", "rate"]
    higher_is_better: bool = True


class Experiment(Closed):
    """An A/B test between two variants of the product's endpoint."""

    control: str = "champion"
    treatment: str = "challenger"
    metrics: dict[str, Metric] = Field(..., min_length=1)
    primary_metric: str | None = Field(None, description="decides the test (default: the first)")
    alpha: float = Field(0.05, gt=0, lt=0.5)
    minimum_sample: int = Field(100, ge=2, description="units per variant before a decision")
    outcome_table: str | None = Field(
        None, description="a table with the unit key and one column per metric (besides posts)"
    )
    start: datetime | None = Field(None, description="count exposures from this time (UTC)")

    @field_validator("metrics")
    @classmethod
    def _metric_names(cls, value: dict[str, Metric]) -> dict[str, Metric]:
        for name in value:
            check_name(name, "metric name")
        return value

    @model_validator(mode="after")
    def _primary(self) -> Experiment:
        if self.primary_metric is not None and self.primary_metric not in self.metrics:
            raise AtKey(
                ("primary_metric",),
                f"primary_metric {self.primary_metric!r} is not one of the metrics "
                f"({', '.join(self.metrics)})",
            )
        if self.control == self.treatment:
            raise AtKey(("treatment",), "control and treatment must be different variants")
        return self

    @property
    def primary(self) -> str:
        """The metric that decides the test."""
        return self.primary_metric or next(iter(self.metrics))


class ABConfig(Closed):
    """The product's A/B experiments."""

    experiments: dict[str, Experiment] = Field(default_factory=dict)

    @field_validator("experiments")
    @classmethod
    def _names(cls, value: dict[str, Experiment]) -> dict[str, Experiment]:
        for name in value:
            check_name(name, "experiment name")
        return value


class DriftTable(Closed):
    """A table whose distribution the product watches."""

    columns: list[str] | None = Field(
        None, description="columns to compare (default: all but keys, partitions and _meta)"
    )
    time_column: str | None = Field(
        None, description="what windows cut on (default: the table's partition column)"
    )
    kinds: dict[str, Literal["numeric", "categorical"]] = Field(
        default_factory=dict, description="column kinds where inference should not decide"
    )
    derived: dict[str, str] = Field(
        default_factory=dict, description="extra columns compared: name → SQL expression"
    )
    where: str | None = Field(None, description="a SQL filter on the rows compared")
    target: str | None = Field(
        None, description="the label column: how each feature relates to it is compared too"
    )


class DriftConfig(Closed):
    """Drift monitoring: which tables, which windows by default, what happens on drift."""

    tables: dict[str, DriftTable] = Field(default_factory=dict)
    current: str = Field("last:7d", description="the window under test (see prodml drift run)")
    reference: str = Field("before", description="what it is compared with")
    correction: Literal["none", "bonferroni", "holm", "bh"] = "none"
    retrain: bool = Field(False, description="run the product's train steps when drift is found")


class Alerts(Closed):
    """Where alerts go (drift found, a fail expectation fired): the log always, and a webhook."""

    webhook: str | None = Field(None, description="URL (a ${secret:NAME} reference is best)")
    timeout_seconds: float = Field(5.0, gt=0, le=60)


class ProductConfig(Closed):
    """A product: ownership, classification, parameters and its pipeline module."""

    name: str
    description: str = Field(..., min_length=1)
    owners: list[Owner] = Field(..., min_length=1)
    classification: Classification = Field(default_factory=Classification)
    stage: Stage = "development"
    sla: SLA = Field(default_factory=SLA)
    tags: list[str] = Field(default_factory=list)
    pipeline: str = Field("pipeline.py", description="the module that declares the steps")
    params: dict[str, Any] = Field(default_factory=dict)
    tables: dict[str, ColumnDocs] = Field(default_factory=dict)
    compute_profile: str | None = Field(
        None, description="refused for now: every run uses the platform's compute.default_profile"
    )
    model: ModelConfig | None = None
    endpoint: EndpointConfig | None = None
    ab: ABConfig = Field(default_factory=ABConfig)
    drift: DriftConfig = Field(default_factory=DriftConfig)
    alerts: Alerts = Field(default_factory=Alerts)

    @field_validator("compute_profile")
    @classmethod
    def _profile(cls, value: str | None) -> str | None:
        if value is not None:
            raise AtKey(
                (),
                "a product's own compute profile is not applied yet: remove compute_profile "
                "(every run uses the platform's compute.default_profile)",
            )
        return value

    features: dict[str, FeatureTable] = Field(
        default_factory=dict, description="feature tables this product produces (features.*)"
    )
    run_as: str | None = Field(
        None,
        pattern=r"^[a-z][a-z0-9_.@-]{0,127}$",
        description="the service principal the product's runs execute as (governance)",
    )

    @field_validator("features")
    @classmethod
    def _feature_tables(cls, value: dict[str, FeatureTable]) -> dict[str, FeatureTable]:
        for name in value:
            parts = name.split(".")
            if (
                len(parts) != 2
                or parts[0] != "features"
                or not re.fullmatch(r"[a-z][a-z0-9_]*", parts[1])
            ):
                raise AtKey(
                    (name,),
                    f"feature table {name!r} must be named features.<table> (lower-case "
                    "letters, digits and _)",
                )
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value, "product name")

    @property
    def inference_log_table(self) -> str:
        """``ml.<product>_inference_log``, or the table the endpoint names."""
        configured = self.endpoint.inference_log.table if self.endpoint else None
        return configured or f"ml.{self.name}_inference_log"

    @property
    def outcomes_table(self) -> str:
        """``ml.<product>_outcomes``: outcomes posted to the endpoint."""
        return f"ml.{self.name}_outcomes"

    @model_validator(mode="after")
    def _serving(self) -> ProductConfig:
        if self.endpoint is not None and self.model is None:
            raise AtKey(
                ("endpoint",), "an endpoint serves the product's model: add a model: section"
            )
        variants = self.endpoint.variants if self.endpoint else {}
        for name, exp in self.ab.experiments.items():
            for key, arm in (("control", exp.control), ("treatment", exp.treatment)):
                if arm not in variants:
                    raise AtKey(
                        ("ab", "experiments", name, key),
                        f"experiment {name}: {arm!r} is not a variant of the endpoint "
                        f"(variants: {', '.join(variants) or 'none, add an endpoint: section'})",
                    )
        return self

    @field_validator("owners")
    @classmethod
    def _accountable(cls, value: list[Owner]) -> list[Owner]:
        if not any(o.role == "accountable" for o in value):
            raise ValueError("one owner must have role 'accountable' (RACI)")
        return value
