"""``prodml.abtest.decision``: experiments across products with their latest decision, finding
one by name (did-you-mean, clashes), and turning a report's recommendation into a decision."""

from __future__ import annotations

from typing import Any

import pytest

from prodml.abtest.decision import CHOICES, check, choose, experiments, find
from prodml.config.product import ProductConfig
from prodml.errors import NotFoundError, UsageError


def product(name: str, exps: dict[str, dict[str, Any]]) -> ProductConfig:
    return ProductConfig.model_validate(
        {
            "name": name,
            "description": f"{name} product",
            "owners": [{"name": "a", "role": "accountable"}],
            "model": {"name": name},
            "endpoint": {
                "variants": {
                    "champion": {"alias": "champion"},
                    "challenger": {"alias": "challenger"},
                    "blue": {"alias": "blue", "weight": 0},
                }
            },
            "ab": {"experiments": exps},
        }
    )


CONFIGS = {
    "churn": product(
        "churn",
        {
            "new_model": {"metrics": {"converted": {"kind": "rate"}, "revenue": {"kind": "mean"}}},
            "shared": {"metrics": {"clicks": {"kind": "mean"}}, "treatment": "blue"},
        },
    ),
    "demand": product(
        "demand",
        {
            "pricing": {
                "metrics": {"units": {"kind": "mean"}, "margin": {"kind": "mean"}},
                "primary_metric": "margin",
            },
            "shared": {"metrics": {"clicks": {"kind": "mean"}}},
        },
    ),
    "plain": ProductConfig.model_validate(
        {"name": "plain", "description": "no ab", "owners": [{"name": "a", "role": "accountable"}]}
    ),
}


def report(decision: str, reason: str = "treatment wins on converted") -> dict[str, Any]:
    return {"recommendation": {"decision": decision, "reason": reason}}


def test_experiments_lists_every_product_with_the_latest_decision() -> None:
    decisions = [  # newest first
        {"product": "churn", "experiment": "new_model", "decision": "promote_treatment"},
        {"product": "churn", "experiment": "new_model", "decision": "keep_control"},
        {"product": "demand", "experiment": "shared", "decision": "keep_control"},
    ]
    rows = experiments(CONFIGS, decisions)
    assert rows == [
        {
            "product": "churn",
            "experiment": "new_model",
            "control": "champion",
            "treatment": "challenger",
            "primary_metric": "converted",
            "decision": "promote_treatment",
        },
        {
            "product": "churn",
            "experiment": "shared",
            "control": "champion",
            "treatment": "blue",
            "primary_metric": "clicks",
            "decision": None,  # a decision of demand's 'shared' is not churn's
        },
        {
            "product": "demand",
            "experiment": "pricing",
            "control": "champion",
            "treatment": "challenger",
            "primary_metric": "margin",
            "decision": None,
        },
        {
            "product": "demand",
            "experiment": "shared",
            "control": "champion",
            "treatment": "challenger",
            "primary_metric": "clicks",
            "decision": "keep_control",
        },
    ]


def test_experiments_of_products_without_any() -> None:
    assert experiments({"plain": CONFIGS["plain"]}, []) == []


def test_find_by_name_alone() -> None:
    owner, exp = find(CONFIGS, "pricing", None)
    assert owner == "demand" and exp.primary == "margin"


def test_find_in_a_named_product() -> None:
    owner, exp = find(CONFIGS, "shared", "churn")
    assert owner == "churn" and exp.treatment == "blue"


def test_find_a_name_in_several_products_asks_for_one() -> None:
    with pytest.raises(UsageError) as info:
        find(CONFIGS, "shared", None)
    assert info.value.message == "experiment shared exists in several products: churn, demand"
    assert info.value.hint == "name the product that owns it"


def test_find_unknown_suggests_across_products() -> None:
    with pytest.raises(NotFoundError) as info:
        find(CONFIGS, "prcing", None)
    err = info.value
    assert err.kind == "experiment" and err.hint == "did you mean 'pricing'?"
    assert err.known == ["new_model", "pricing", "shared", "shared"]


def test_find_unknown_in_a_product_lists_that_products_experiments() -> None:
    with pytest.raises(NotFoundError) as info:
        find(CONFIGS, "zzz", "churn")
    assert str(info.value) == "unknown experiment 'zzz' (known: new_model, shared)"


def test_find_with_no_experiments_anywhere() -> None:
    with pytest.raises(NotFoundError, match="no experiment exists yet"):
        find({"plain": CONFIGS["plain"]}, "x", None)


@pytest.mark.parametrize("decision", [None, "promote", "keep"])
def test_check_accepts_the_choices(decision: str | None) -> None:
    assert check(decision) is None  # raises for anything else


def test_choices_map_to_recorded_decisions() -> None:
    assert CHOICES == {"promote": "promote_treatment", "keep": "keep_control"}


def test_check_rejects_anything_else_before_any_work() -> None:
    with pytest.raises(UsageError) as info:
        check("promote_treatment")
    assert str(info.value) == "unknown decision 'promote_treatment' (promote or keep)"


@pytest.mark.parametrize("recommended", ["promote_treatment", "keep_control"])
def test_choose_follows_a_supported_recommendation(recommended: str) -> None:
    assert choose(report(recommended), None, "ana") == (recommended, "treatment wins on converted")


@pytest.mark.parametrize(
    ("decision", "chosen"), [("promote", "promote_treatment"), ("keep", "keep_control")]
)
def test_choose_an_explicit_decision_that_agrees(decision: str, chosen: str) -> None:
    assert choose(report(chosen, "clear"), decision, "ana") == (chosen, "clear")


def test_choose_against_the_recommendation_records_who_and_why() -> None:
    chosen, reason = choose(report("keep_control", "no lift"), "promote", "ana@example.com")
    assert chosen == "promote_treatment"
    assert reason == "decided by ana@example.com against the recommendation (keep_control: no lift)"


def test_choose_overrides_a_continue_recommendation_explicitly() -> None:
    chosen, reason = choose(report("continue", "not enough units"), "keep", "ana")
    assert chosen == "keep_control"
    assert reason == "decided by ana against the recommendation (continue: not enough units)"


@pytest.mark.parametrize("recommended", ["continue", "investigate"])
def test_choose_refuses_when_the_report_supports_no_decision(recommended: str) -> None:
    with pytest.raises(UsageError) as info:
        choose(report(recommended, "sample ratio mismatch"), None, "ana")
    assert info.value.message == (
        f"the report does not support a decision yet ({recommended}): sample ratio mismatch"
    )
    assert info.value.hint is not None and "--decision promote|keep" in info.value.hint


def test_choose_checks_the_decision_first() -> None:
    with pytest.raises(UsageError, match="unknown decision 'ship'"):
        choose(report("promote_treatment"), "ship", "ana")
