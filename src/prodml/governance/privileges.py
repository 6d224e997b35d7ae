"""Securables, privileges and how grants on containers reach their children.

A securable is a ``(type, full name)`` pair: ``catalog prod``, ``schema prod.gold``,
``table prod.gold.churn_predictions``, ``model prod.ml.churn`` (a registered model lives in a
schema, like a table), ``endpoint prod.churn`` (a product's endpoint in an environment's
catalog). A grant on a catalog or schema applies to every current and future child.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from prodml.governance.errors import GovernanceError


class Privilege(StrEnum):
    """What a grant allows (Unity Catalog's names, with ``_`` for spaces)."""

    USE_CATALOG = "USE_CATALOG"
    USE_SCHEMA = "USE_SCHEMA"
    BROWSE = "BROWSE"
    SELECT = "SELECT"
    MODIFY = "MODIFY"
    CREATE_SCHEMA = "CREATE_SCHEMA"
    CREATE_TABLE = "CREATE_TABLE"
    CREATE_MODEL = "CREATE_MODEL"
    EXECUTE = "EXECUTE"
    MANAGE = "MANAGE"
    ALL_PRIVILEGES = "ALL_PRIVILEGES"


#: what ALL_PRIVILEGES stands for (MANAGE — granting to others — is never implied)
ALL = frozenset(Privilege) - {Privilege.MANAGE, Privilege.ALL_PRIVILEGES}

SECURABLE_TYPES = ("catalog", "schema", "table", "model", "endpoint")

#: the privileges that mean something on each type (a container's include its children's)
APPLICABLE: dict[str, frozenset[Privilege]] = {
    "catalog": frozenset(Privilege),
    "schema": frozenset(Privilege) - {Privilege.USE_CATALOG, Privilege.CREATE_SCHEMA},
    "table": frozenset(
        {
            Privilege.BROWSE,
            Privilege.SELECT,
            Privilege.MODIFY,
            Privilege.MANAGE,
            Privilege.ALL_PRIVILEGES,
        }
    ),
    "model": frozenset(
        {
            Privilege.BROWSE,
            Privilege.EXECUTE,
            Privilege.MODIFY,
            Privilege.MANAGE,
            Privilege.ALL_PRIVILEGES,
        }
    ),
    "endpoint": frozenset({Privilege.EXECUTE, Privilege.MANAGE, Privilege.ALL_PRIVILEGES}),
}

_PART = re.compile(r"^[a-z][a-z0-9_]{0,127}$")


def privilege(text: str) -> Privilege:
    """A privilege from its name (``select``, ``USE CATALOG`` and ``USE_CATALOG`` all work)."""
    name = text.strip().upper().replace(" ", "_").replace("-", "_")
    try:
        return Privilege(name)
    except ValueError:
        from prodml.errors import did_you_mean

        known = [p.value for p in Privilege]
        raise GovernanceError(
            f"unknown privilege {text!r}",
            hint=did_you_mean(name, known) or f"privileges: {', '.join(known)}",
        ) from None


@dataclass(frozen=True, order=True)
class Securable:
    """Something privileges are granted on."""

    type: str
    name: str

    @classmethod
    def parse(cls, type_: str, name: str) -> Securable:
        """Validate ``type`` and the dotted ``name`` (lower-case identifiers only)."""
        kind = type_.strip().lower()
        if kind not in SECURABLE_TYPES:
            raise GovernanceError(
                f"unknown securable type {type_!r}", hint=f"types: {', '.join(SECURABLE_TYPES)}"
            )
        parts = name.split(".")
        depth = {"catalog": 1, "schema": 2, "table": 3, "model": 3, "endpoint": 2}[kind]
        if len(parts) != depth or not all(_PART.fullmatch(p) for p in parts):
            shapes = {
                "catalog": "CATALOG",
                "schema": "CATALOG.SCHEMA",
                "table": "CATALOG.SCHEMA.TABLE",
                "model": "CATALOG.SCHEMA.MODEL",
                "endpoint": "CATALOG.PRODUCT",
            }
            raise GovernanceError(
                f"{kind} name {name!r} is not {shapes[kind]}",
                hint="names are lower-case letters, digits and _, starting with a letter",
            )
        return cls(kind, name)

    def __str__(self) -> str:
        return f"{self.type} {self.name}"

    @property
    def catalog(self) -> str:
        """The catalog it belongs to."""
        return self.name.split(".")[0]

    def ancestors(self) -> list[Securable]:
        """Itself, then its containers up to the catalog."""
        parts = self.name.split(".")
        chain = [self]
        if self.type in ("table", "model"):
            chain.append(Securable("schema", ".".join(parts[:2])))
        if self.type != "catalog":
            chain.append(Securable("catalog", parts[0]))
        return chain

    def schema(self) -> Securable | None:
        """The schema holding a table or model (None for other types)."""
        if self.type in ("table", "model"):
            return Securable("schema", ".".join(self.name.split(".")[:2]))
        return self if self.type == "schema" else None


def check_applicable(securable: Securable, privileges: list[Privilege]) -> None:
    """Refuse privileges that mean nothing on ``securable`` (e.g. USE_CATALOG on a table)."""
    for p in privileges:
        if p not in APPLICABLE[securable.type]:
            allowed = ", ".join(sorted(APPLICABLE[securable.type]))
            kind = ("an " if securable.type[0] in "aeiou" else "a ") + securable.type
            raise GovernanceError(f"{p} cannot be granted on {kind}", hint=f"on {kind}: {allowed}")
