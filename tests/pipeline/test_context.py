"""The ``ctx`` a step receives: its scope, SQL, whole tables (time travel, aliases, recorded
reads), landing files, point-in-time training sets, and the model calls (governance's checks,
lineage, feature consumers) with their errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from tests.helpers import SHOP_PIPELINE as PIPELINE
from tests.helpers import make_platform, write_days
from tests.pipeline.conftest import NOW, RecordingTracker, step_context

import prodml
from prodml.catalog.policies import Access
from prodml.config.product import FeatureTable
from prodml.engine.base import Engine
from prodml.errors import AccessDeniedError, InvalidNameError, NotFoundError, UsageError
from prodml.features import FeatureLookup
from prodml.features.training import DeclaredTable, StepTrainingSets
from prodml.tables.delta import WriteSpec
from prodml.workspace import Workspace


def test_the_scope_of_the_step_run(shop_ws: Workspace, engine: Engine) -> None:
    params = {"c": 1}
    ctx = step_context(
        shop_ws, engine, step="totals", params=params, partitions=["d1"], partition_by="day"
    )
    assert (ctx.run_id, ctx.env, ctx.product, ctx.step) == ("r1", "dev", "shop", "totals")
    assert (ctx.now, ctx.partitions, ctx.partition_by, ctx.full_refresh) == (
        NOW,
        ["d1"],
        "day",
        False,
    )
    ctx.params["c"] = 2  # the step's own copy
    assert params == {"c": 1}
    assert ctx.log.name == "prodml.step.shop.totals"
    assert ctx.engine is engine
    assert (ctx.tracker, ctx.models_used) == (None, [])


def test_sql_binds_params(shop_ws: Workspace, engine: Engine) -> None:
    ctx = step_context(shop_ws, engine)
    assert ctx.sql("SELECT $a + 1 AS b, $s AS s", a=41, s="x").fetchall() == [(42, "x")]


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """The shop run twice: gold.totals has version 0 (two days) and 1 (three days). Shared:
    each test that records something does it as a step of its own."""
    root = make_platform(tmp_path_factory.mktemp("context") / "shop", {"shop": PIPELINE})
    write_days(root, "2024-01-01", "2024-01-02")
    with prodml.connect(root) as ws:
        ws.run("shop")
        write_days(root, "2024-01-03")
        ws.run("shop")
        yield ws


def test_table_reads_any_table_and_records_the_read(ran: Workspace, engine: Engine) -> None:
    reads: dict[str, int] = {}
    ctx = step_context(ran, engine, reads=reads)
    assert ctx.table("gold.totals").aggregate("count(*)").fetchall() == [(3,)]
    assert reads == {"dev.gold.totals": 1}
    old = ctx.table("dev.gold.totals", version=0)  # time travel, full name
    assert sorted(r[0] for r in old.project("day").fetchall()) == ["2024-01-01", "2024-01-02"]
    assert reads == {"dev.gold.totals": 0}


def test_an_aliased_table_is_queryable_by_its_alias(ran: Workspace, engine: Engine) -> None:
    ctx = step_context(ran, engine)
    rows = ctx.table("bronze.sales", alias="s")
    assert rows.aggregate("count(*)").fetchall() == [(6,)]
    assert ctx.sql("SELECT sum(CAST(amount AS DOUBLE)) FROM s").fetchall() == [(12.0,)]
    with pytest.raises(InvalidNameError, match="invalid column name 's x'"):
        ctx.table("bronze.sales", alias="s x")


def test_an_unknown_table_suggests_the_right_one(ran: Workspace, engine: Engine) -> None:
    with pytest.raises(NotFoundError, match=r"did you mean 'gold\.totals'"):
        step_context(ran, engine).table("gold.total")


def test_landing_files_of_the_partitions_being_processed(
    shop_ws: Workspace, engine: Engine
) -> None:
    landing = shop_ws.landing_dir / "sales"
    one = step_context(shop_ws, engine, partitions=["2024-01-02"], partition_by="day")
    assert one.files("sales") == [str(landing / "day=2024-01-02" / "part.csv")]
    every = step_context(shop_ws, engine)
    assert [Path(f).parent.name for f in every.files("sales")] == [
        "day=2024-01-01",
        "day=2024-01-02",
    ]
    with pytest.raises(NotFoundError, match="landing source 'nowhere' does not exist"):
        every.files("nowhere")


def test_read_files_reads_every_column_as_text(shop_ws: Workspace, engine: Engine) -> None:
    ctx = step_context(shop_ws, engine, partitions=["2024-01-01"], partition_by="day")
    files = ctx.files("sales")
    data = ctx.read_files(files, format="csv", columns=["day", "amount"]).to_arrow_table()
    assert data.column_names == ["day", "amount", "_source_file"]
    assert {f.type for f in data.schema} == {pa.string()}
    assert data.column("amount").to_pylist() == ["1.5", "2.5"]
    assert set(data.column("_source_file").to_pylist()) == set(files)


def test_a_csv_column_missing_from_the_file_reads_as_null(
    shop_ws: Workspace, engine: Engine
) -> None:
    ctx = step_context(shop_ws, engine)
    table = ctx.read_files(ctx.files("sales"), format="csv", columns=["day", "amount", "missing"])
    assert table.to_arrow_table().column("missing").to_pylist() == [None] * 4


def test_csv_columns_are_read_by_their_header_names(
    shop_ws: Workspace, engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "swapped.csv"
    path.write_text("amount,day\n1.5,2024-01-01\n")
    ctx = step_context(shop_ws, engine)
    rows = ctx.read_files([str(path)], format="csv", columns=["day", "amount"]).fetchall()
    assert rows == [("2024-01-01", "1.5", str(path))]


def test_read_files_of_newline_delimited_json(
    shop_ws: Workspace, engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "a.json"
    path.write_text('{"id": 1, "name": "x"}\n{"id": 2}\n')
    ctx = step_context(shop_ws, engine)
    rows = ctx.read_files([str(path)], format="json", columns=["id", "name"]).fetchall()
    assert rows == [("1", "x", str(path)), ("2", None, str(path))]


def test_read_files_of_nothing_has_the_columns_and_no_rows(
    shop_ws: Workspace, engine: Engine
) -> None:
    empty = step_context(shop_ws, engine).read_files([], format="csv", columns=["a", "b"])
    data = empty.to_arrow_table()
    assert data.num_rows == 0 and data.column_names == ["a", "b", "_source_file"]


def test_read_files_in_an_unknown_format(shop_ws: Workspace, engine: Engine) -> None:
    ctx = step_context(shop_ws, engine)
    with pytest.raises(UsageError, match="unknown landing format 'xml'") as info:
        ctx.read_files(ctx.files("sales"), format="xml", columns=["day"])
    assert info.value.hint == "csv or json"


MODEL_CALLS: dict[str, Callable[[Any], Any]] = {
    "log_params": lambda ctx: ctx.log_params({"c": 1}),
    "log_metrics": lambda ctx: ctx.log_metrics({"auc": 0.9}),
    "log_model": lambda ctx: ctx.log_model(object(), input_example=None),
    "load_model": lambda ctx: ctx.load_model(alias="champion"),
    "score": lambda ctx: ctx.score(pa.table({"a": [1]})),
    "candidate": lambda ctx: ctx.candidate(),
    "gate": lambda ctx: ctx.gate({"auc": 0.9}, version=1),
}


@pytest.mark.parametrize("call", list(MODEL_CALLS))
def test_model_calls_need_a_product_with_a_model(
    shop_ws: Workspace, engine: Engine, call: str
) -> None:
    with pytest.raises(UsageError) as info:
        MODEL_CALLS[call](step_context(shop_ws, engine))
    assert info.value.message == (
        f"ctx.{call} is for train, evaluate and apply steps of a product with a model"
    )
    assert "'model:' section in product.yaml" in str(info.value.hint)


def test_model_calls_are_checked_then_delegated(ran: Workspace, engine: Engine) -> None:
    checks: list[tuple[str | None, str, str, str]] = []

    def authorize(access: Access, action: str, kind: str, name: str) -> None:
        checks.append((access.step, action, kind, name))

    ctx = step_context(ran, engine, authorize=authorize)
    tracker = ctx.tracker = RecordingTracker()
    ctx.log_params({"c": 1})
    ctx.log_metrics({"loss": 0.5}, step=2)
    assert ctx.candidate() == 3
    assert ctx.load_model(version=1) == "the model"
    assert ctx.log_model(object(), input_example=None).column("version").to_pylist() == [3]
    scored = ctx.score(pa.table({"a": [1.0]}), keep=["a"], chunk_rows=10)
    assert scored.read_all().num_rows == 1
    ctx.gate({"auc": 0.9}, version=3)
    assert checks == [
        ("shop.s", "execute", "model", "dev.ml.m"),
        ("shop.s", "create_model", "model", "dev.ml.m"),
        ("shop.s", "execute", "model", "dev.ml.m"),
        ("shop.s", "modify_model", "model", "dev.ml.m"),
    ]
    assert [name for name, _ in tracker.calls] == [
        "log_params",
        "log_metrics",
        "load_model",
        "log_model",
        "score",
        "gate",
    ]
    assert tracker.calls[1] == ("log_metrics", ({"loss": 0.5}, 2))
    assert tracker.calls[4][1] == {
        "alias": "champion",
        "version": None,
        "keep": ["a"],
        "chunk_rows": 10,
        "workers": 1,
    }
    assert ctx.models_used == ["model:dev.ml.m/2"]  # the champion it scored with


def test_a_refused_model_call_does_nothing(ran: Workspace, engine: Engine) -> None:
    def refuse(access: Access, action: str, kind: str, name: str) -> None:
        raise AccessDeniedError(f"{access.principal} lacks {action} on {kind} {name}")

    ctx = step_context(ran, engine, step="refused", authorize=refuse)
    tracker = ctx.tracker = RecordingTracker()
    with pytest.raises(AccessDeniedError, match=r"user:t lacks create_model on model dev\.ml\.m"):
        ctx.log_model(object(), input_example=None)
    with pytest.raises(AccessDeniedError, match="lacks execute"):
        ctx.score(pa.table({"a": [1.0]}))
    assert tracker.calls == [] and ctx.models_used == []


def test_a_registered_version_is_linked_to_what_the_step_read(
    ran: Workspace, engine: Engine
) -> None:
    ctx = step_context(ran, engine, step="link")
    ctx.tracker = RecordingTracker()
    ctx.table("gold.totals")
    ctx.log_model(object(), input_example=None)
    access = Access(principal="user:t", run_id="r1", step="shop.link")
    ran._w.catalog.finish(access, succeeded=True)
    edges = ran._w.store.edges(target="model:dev.ml.m/3")
    assert [(e["source"], e["source_version"], e["step"]) for e in edges] == [
        ("dev.gold.totals", 1, "shop.link")
    ]


FEATURES = FeatureTable.model_validate(
    {
        "description": "daily totals",
        "keys": ["day"],
        "timestamp": "ts",
        "features": {"total": {"description": "the day's total"}},
    }
)


def feature_store(ws: Workspace) -> StepTrainingSets:
    """The real feature store over one feature table, features.daily, written here."""
    catalog = ws._w.catalog
    table = catalog.name("features.daily")
    data = pa.table(
        {
            "day": ["d1", "d2"],
            "ts": pa.array([datetime(2024, 1, 1, tzinfo=UTC)] * 2, pa.timestamp("us", tz="UTC")),
            "total": [4.0, 6.0],
        }
    )
    catalog.write(table, data, WriteSpec(str(table), "overwrite"), Access(principal="user:t"))
    declared = {"features.daily": DeclaredTable("features.daily", "shop", None, FEATURES)}
    return StepTrainingSets(catalog, declared)


def spine() -> pa.Table:
    at = pa.array([datetime(2024, 1, 5, tzinfo=UTC)] * 3, pa.timestamp("us", tz="UTC"))
    return pa.table({"day": ["d2", "d1", "d9"], "at": at, "label": [1, 0, 1]})


def test_a_training_set_takes_features_point_in_time(shop_ws: Workspace, engine: Engine) -> None:
    store = feature_store(shop_ws)
    reads: dict[str, int] = {}
    ctx = step_context(shop_ws, engine, inputs=["features.daily"], training_sets=store, reads=reads)
    training = ctx.training_set(spine(), timestamp="at", lookups=[FeatureLookup("features.daily")])
    assert training.data.column("total").to_pylist() == [6.0, 4.0, None]  # every spine row
    assert reads == {"dev.features.daily": 0}
    # logging a model with it records the model version as a consumer of its features
    ctx.tracker = RecordingTracker()
    ctx.log_model(object(), input_example=None, training_set=training)
    consumers = shop_ws._w.store.feature_consumers("dev")
    assert [
        (c["feature_table"], c["feature"], c["model"], c["model_version"], c["run_id"])
        for c in consumers
    ] == [("features.daily", "total", "dev.ml.m", 3, "r1")]


def test_a_training_set_needs_its_feature_tables_as_inputs(
    shop_ws: Workspace, engine: Engine
) -> None:
    ctx = step_context(shop_ws, engine, training_sets=feature_store(shop_ws))
    with pytest.raises(UsageError) as info:
        ctx.training_set(spine(), timestamp="at", lookups=[FeatureLookup("daily")])
    assert info.value.message == (
        "step shop.s looks up features.daily but does not declare it as an input"
    )
    assert 'add "features.daily" to inputs=[...]' in str(info.value.hint)


def test_a_training_set_needs_the_feature_store(shop_ws: Workspace, engine: Engine) -> None:
    ctx = step_context(shop_ws, engine, inputs=["features.daily"])
    with pytest.raises(UsageError, match=r"ctx\.training_set needs the feature store"):
        ctx.training_set(spine(), timestamp="at", lookups=[FeatureLookup("features.daily")])
