"""The DAG: producers and dependencies derived from tables, apply steps after training, order,
the steps a run selects, inputs nobody produces, and the definition errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from prodml.config.product import ProductConfig
from prodml.errors import NotFoundError
from prodml.pipeline.dag import Dag
from prodml.pipeline.errors import PipelineDefinitionError
from prodml.pipeline.step import make_spec
from prodml.products import Product, StepSpec


def spec(name: str, outputs: str, inputs: tuple[str, ...] = (), **options: Any) -> StepSpec:
    options.setdefault("stage", "features")
    return make_spec(
        name=name, inputs=inputs, outputs=outputs, source_file=f"/src/{name}.py", line=7, **options
    )


def product(name: str, *steps: StepSpec) -> Product:
    config = ProductConfig.model_validate(
        {"name": name, "description": "d", "owners": [{"name": "t", "role": "accountable"}]}
    )
    return Product(
        config=config, path=Path("/src") / name, steps=tuple(s.with_product(name) for s in steps)
    )


# core: landing → bronze.orders → silver.orders; shop reads silver.orders and trains on it
CORE = product(
    "core",
    spec("ingest", "bronze.orders", ("landing:orders",), stage="ingress"),
    spec("clean", "silver.orders", ("bronze.orders",)),
)
SHOP = product(
    "shop",
    spec("daily", "gold.daily", ("silver.orders", "raw.calendar")),
    spec("train", "ml.fit", ("gold.daily",), stage="train"),
    spec("evaluate", "ml.eval", ("ml.fit",), stage="evaluate"),
    spec("score", "gold.scores", ("gold.daily",), stage="apply"),
)


@pytest.fixture(scope="module")
def dag() -> Dag:
    return Dag.build([CORE, SHOP], "dev")


def test_producers_and_upstream_come_from_the_tables(dag: Dag) -> None:
    assert dag.producers["dev.silver.orders"] == "core.clean"
    assert dag.producers["dev.gold.scores"] == "shop.score"
    assert "dev.raw.calendar" not in dag.producers
    assert dag.upstream["shop.daily"] == {"core.clean"}  # across products
    assert dag.upstream["core.ingest"] == set()  # a landing source is not a step
    assert dag.upstream["shop.evaluate"] == {"shop.train"}


def test_an_apply_step_runs_after_its_products_train_and_evaluate(dag: Dag) -> None:
    assert dag.after["shop.score"] == {"shop.train", "shop.evaluate"}
    assert dag.upstream["shop.score"] == {"shop.daily"}
    assert dag.after["shop.train"] == set()
    order = dag.order(["shop.score", "shop.evaluate", "shop.train", "shop.daily"])
    assert order == ["shop.daily", "shop.train", "shop.evaluate", "shop.score"]


def test_order_is_topological_and_stable(dag: Dag) -> None:
    full = dag.order(reversed(list(dag.steps)))
    assert full == [
        "core.ingest",
        "core.clean",
        "shop.daily",
        "shop.train",
        "shop.evaluate",
        "shop.score",
    ]
    # dependencies outside the names asked for are ignored; duplicates are dropped
    assert dag.order(["shop.score", "core.ingest", "core.ingest"]) == ["core.ingest", "shop.score"]


def test_a_run_selects_its_steps_and_their_producers(dag: Dag) -> None:
    assert dag.selection(CORE, None) == ["core.ingest", "core.clean"]
    assert dag.selection(SHOP, None) == [
        "core.ingest",
        "core.clean",
        "shop.daily",
        "shop.train",
        "shop.evaluate",
        "shop.score",
    ]


def test_named_steps_are_selected_alone(dag: Dag) -> None:
    assert dag.selection(SHOP, ["evaluate", "train"]) == ["shop.train", "shop.evaluate"]
    # another product's step by its qualified name
    assert dag.selection(SHOP, ["daily", "core.clean"]) == ["core.clean", "shop.daily"]


def test_an_unknown_step_suggests_the_right_one(dag: Dag) -> None:
    with pytest.raises(NotFoundError) as info:
        dag.selection(SHOP, ["trian"])
    assert info.value.message == "unknown step of product shop 'trian'"
    assert info.value.hint == "did you mean 'train'?"
    with pytest.raises(NotFoundError, match="known: daily, evaluate, score, train"):
        dag.selection(SHOP, ["core.nope"])


def test_inputs_nobody_produces(dag: Dag) -> None:
    missing = dag.missing_inputs(list(dag.steps), "dev")
    assert missing == {"shop.daily": ["raw.calendar"]}
    assert dag.missing_inputs(["core.ingest", "core.clean"], "dev") == {}


def test_two_producers_of_one_table_name_both(dag: Dag) -> None:
    other = product("other", spec("rebuild", "silver.orders", ("bronze.orders",)))
    with pytest.raises(PipelineDefinitionError) as info:
        Dag.build([CORE, other], "dev")
    message = info.value.message
    assert "table silver.orders has two producers" in message
    assert (
        "core.clean (/src/clean.py:7)" in message and "other.rebuild (/src/rebuild.py:7)" in message
    )
    assert info.value.hint == "each table is written by exactly one step"


def test_a_full_name_and_a_short_name_are_the_same_table() -> None:
    twice = product(
        "p", spec("a", "gold.x"), spec("b", "dev.gold.x"), spec("c", "gold.y", ("dev.gold.y",))
    )
    with pytest.raises(PipelineDefinitionError, match=r"table dev\.gold\.x has two producers"):
        Dag.build([twice], "dev")


def test_a_cycle_is_shown_step_by_step() -> None:
    loop = product(
        "loop",
        spec("a", "gold.a", ("gold.c",)),
        spec("b", "gold.b", ("gold.a",)),
        spec("c", "gold.c", ("gold.b",)),
    )
    with pytest.raises(PipelineDefinitionError) as info:
        Dag.build([loop], "dev")
    text = info.value.message
    assert text.startswith("dependency cycle: ")
    cycle = text.removeprefix("dependency cycle: ").split(" → ")
    assert set(cycle) == {"loop.a", "loop.b", "loop.c"} and cycle[0] == cycle[-1]
    assert info.value.hint == "a step cannot (indirectly) read a table it writes"


def test_a_step_reading_its_own_output_is_a_cycle() -> None:
    selfish = product("s", spec("a", "gold.a", ("gold.a",)))
    with pytest.raises(PipelineDefinitionError, match=r"dependency cycle: s\.a → s\.a"):
        Dag.build([selfish], "dev")
