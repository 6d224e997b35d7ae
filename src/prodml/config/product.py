"""The product configuration (``products/<name>/product.yaml``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from prodml.config.platform import Closed, check_name

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
    max_runtime_minutes: float | None = Field(None, gt=0)
    schedule: str | None = Field(None, description="cron expression of the production run")


class ColumnDocs(Closed):
    """Documentation of one table the product owns."""

    description: str = ""
    columns: dict[str, str] = Field(default_factory=dict)


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
    compute_profile: str | None = None
    model: ModelConfig | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value, "product name")

    @field_validator("owners")
    @classmethod
    def _accountable(cls, value: list[Owner]) -> list[Owner]:
        if not any(o.role == "accountable" for o in value):
            raise ValueError("one owner must have role 'accountable' (RACI)")
        return value
