"""Privileges and securables: names users may type, the shapes of securable names, their
containers, and which privileges mean something where."""

from __future__ import annotations

import pytest

from prodml.governance.errors import GovernanceError
from prodml.governance.privileges import (
    ALL,
    APPLICABLE,
    Privilege,
    Securable,
    check_applicable,
    privilege,
)


@pytest.mark.parametrize("text", ["select", " SELECT ", "Select"])
def test_privilege_names_in_any_case(text: str) -> None:
    assert privilege(text) is Privilege.SELECT


@pytest.mark.parametrize("text", ["use catalog", "USE_CATALOG", "use-catalog"])
def test_spaces_and_dashes_are_underscores(text: str) -> None:
    assert privilege(text) is Privilege.USE_CATALOG


def test_an_unknown_privilege_suggests_the_close_one_or_lists_them() -> None:
    with pytest.raises(GovernanceError, match="unknown privilege 'selekt'") as close:
        privilege("selekt")
    assert close.value.hint == "did you mean 'SELECT'?"
    with pytest.raises(GovernanceError) as far:
        privilege("fly")
    assert far.value.hint is not None and far.value.hint.startswith("privileges: USE_CATALOG")


def test_all_privileges_never_implies_manage() -> None:
    assert Privilege.MANAGE not in ALL and Privilege.ALL_PRIVILEGES not in ALL
    assert Privilege.SELECT in ALL and Privilege.EXECUTE in ALL


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("catalog", "dev"),
        ("schema", "dev.gold"),
        ("TABLE", "dev.gold.orders"),
        ("model", "dev.ml.churn"),
        ("endpoint", "dev.churn"),
    ],
)
def test_well_formed_securables(kind: str, name: str) -> None:
    securable = Securable.parse(kind, name)
    assert securable.type == kind.lower() and str(securable) == f"{kind.lower()} {name}"
    assert securable.catalog == "dev"


@pytest.mark.parametrize(
    ("kind", "name", "shape"),
    [
        ("table", "gold.orders", "CATALOG.SCHEMA.TABLE"),
        ("schema", "dev", "CATALOG.SCHEMA"),
        ("endpoint", "dev.ml.churn", "CATALOG.PRODUCT"),
        ("table", "dev.Gold.orders", "CATALOG.SCHEMA.TABLE"),  # upper case
        ("catalog", "1dev", "CATALOG"),
        ("table", "dev.gold.orders;drop", "CATALOG.SCHEMA.TABLE"),
    ],
)
def test_malformed_names_say_the_shape(kind: str, name: str, shape: str) -> None:
    with pytest.raises(GovernanceError, match=f"is not {shape}") as err:
        Securable.parse(kind, name)
    assert "lower-case letters" in (err.value.hint or "")


def test_an_unknown_securable_type_lists_the_types() -> None:
    with pytest.raises(GovernanceError, match="unknown securable type 'view'") as err:
        Securable.parse("view", "dev.gold.v")
    assert err.value.hint == "types: catalog, schema, table, model, endpoint"


def test_containers_up_to_the_catalog() -> None:
    table = Securable.parse("table", "dev.gold.orders")
    assert [str(s) for s in table.ancestors()] == [
        "table dev.gold.orders",
        "schema dev.gold",
        "catalog dev",
    ]
    assert table.schema() == Securable("schema", "dev.gold")
    assert [str(s) for s in Securable.parse("endpoint", "dev.churn").ancestors()] == [
        "endpoint dev.churn",
        "catalog dev",
    ]
    assert Securable.parse("catalog", "dev").ancestors() == [Securable("catalog", "dev")]
    assert Securable.parse("schema", "dev.ml").schema() == Securable("schema", "dev.ml")
    assert Securable.parse("endpoint", "dev.churn").schema() is None


def test_privileges_that_mean_nothing_on_a_type_are_refused() -> None:
    table = Securable.parse("table", "dev.gold.orders")
    check_applicable(table, [Privilege.SELECT, Privilege.MODIFY])
    with pytest.raises(GovernanceError, match="USE_CATALOG cannot be granted on a table") as err:
        check_applicable(table, [Privilege.SELECT, Privilege.USE_CATALOG])
    assert err.value.hint == "on a table: ALL_PRIVILEGES, BROWSE, MANAGE, MODIFY, SELECT"
    endpoint = Securable.parse("endpoint", "dev.churn")
    with pytest.raises(GovernanceError, match="SELECT cannot be granted on an endpoint"):
        check_applicable(endpoint, [Privilege.SELECT])
    assert APPLICABLE["catalog"] == frozenset(Privilege)  # a catalog holds everything
