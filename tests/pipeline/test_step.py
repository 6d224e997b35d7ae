"""Steps in every flavour: input and output formats, SQL files, several outputs, environments."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import make_platform

import prodml
from prodml.pipeline.errors import PipelineDefinitionError
from prodml.pipeline.step import sql_step_from_file, step

FORMATS = """
import pandas as pd
import polars as pl
import pyarrow as pa
from prodml import step

@step(stage="ingress", outputs="bronze.numbers", output_partition_by="day", params=[])
def numbers(ctx):
    return pd.DataFrame({"n": list(range(10)), "day": ["2024-01-0%d" % (1 + i % 3) for i in range(10)]})

@step(stage="features", inputs=["bronze.numbers"], outputs="silver.numbers_pl", input_format="polars",
      params=[])
def as_polars(ctx, numbers):
    assert isinstance(numbers, pl.DataFrame)
    return numbers.with_columns((pl.col("n") * 2).alias("double"))

@step(stage="features", inputs=["silver.numbers_pl"], outputs="silver.numbers_pd", input_format="pandas")
def as_pandas(ctx, numbers_pl):
    assert isinstance(numbers_pl, pd.DataFrame)
    return numbers_pl.assign(triple=numbers_pl["n"] * 3)

@step(stage="features", inputs=["silver.numbers_pd"], outputs=["gold.even", "gold.odd"],
      input_format="arrow")
def split(ctx, numbers_pd):
    assert isinstance(numbers_pd, pa.Table)
    rel = ctx.sql("select * from numbers_pd")
    return {"gold.even": rel.filter("n % 2 = 0"), "gold.odd": ctx.sql("select * from silver.numbers_pd where n % 2 = 1")}

@step(stage="features", inputs=["bronze.numbers"], outputs="gold.by_day",
      partition_by="day", mode="replace_partitions", params=["factor"])
def by_day(ctx, numbers):
    return ctx.sql("select day, sum(n) * $factor as total from numbers group by day", factor=ctx.params["factor"])
"""

SQL = """/* prodml
stage: features
inputs: [gold.even]
outputs: gold.even_count
*/
select count(*) as evens from gold.even
"""


@pytest.fixture
def platform(tmp_path: Path) -> Path:
    root = make_platform(tmp_path / "p", {"fmt": FORMATS})
    product = root / "products" / "fmt"
    (product / "product.yaml").write_text(
        (product / "product.yaml").read_text() + "params: {factor: 2}\n"
    )
    (product / "sql").mkdir()
    (product / "sql" / "even_count.sql").write_text(SQL)
    return root


def test_formats_outputs_sql_and_params(platform: Path) -> None:
    with prodml.connect(platform) as ws:
        result = ws.run("fmt")
        assert {s["status"] for s in result.steps} == {"succeeded"}
        assert sorted(ws.read("silver.numbers_pd").column("triple").to_pylist())[:3] == [0, 3, 6]
        assert sorted(ws.read("gold.even").column("n").to_pylist()) == [0, 2, 4, 6, 8]
        assert sorted(ws.read("gold.odd").column("n").to_pylist()) == [1, 3, 5, 7, 9]
        assert ws.read("gold.even_count").to_pylist() == [{"evens": 5}]
        totals = {r["day"]: r["total"] for r in ws.read("gold.by_day").to_pylist()}
        assert totals == {"2024-01-01": 36, "2024-01-02": 24, "2024-01-03": 30}


def test_params_change_reruns_only_the_steps_that_use_them(platform: Path) -> None:
    with prodml.connect(platform) as ws:
        ws.run("fmt")
    product = platform / "products" / "fmt" / "product.yaml"
    product.write_text(product.read_text().replace("factor: 2", "factor: 3"))
    with prodml.connect(platform) as ws:
        statuses = {s["step"]: s["status"] for s in ws.run("fmt").steps}
        assert statuses["fmt.by_day"] == "succeeded"  # declared params=["factor"]
        assert statuses["fmt.as_polars"] == "skipped"  # declared params=[]: uses none
        assert statuses["fmt.numbers"] == "skipped"
        assert statuses["fmt.as_pandas"] == "succeeded"  # declared nothing: depends on all params


def test_backfill_and_full_refresh(platform: Path) -> None:
    with prodml.connect(platform) as ws:
        ws.run("fmt")
        backfill = ws.run("fmt", steps=["by_day"], partitions="2024-01-02..2024-01-03")
        assert backfill.steps[-1]["partitions"] == ["2024-01-02", "2024-01-03"]
        refresh = ws.run("fmt", full_refresh=True)
        assert all(s["status"] == "succeeded" for s in refresh.steps)
        assert ws.read("gold.even").num_rows == 5  # overwritten, not appended


def test_environments_have_separate_catalogs(platform: Path) -> None:
    with prodml.connect(platform, env="staging") as staging:
        staging.run("fmt")
        assert staging.table("gold.even").location.endswith("data/staging/gold/even")
    with prodml.connect(platform, env="dev") as dev:
        assert dev.tables() == []
        plans = dev.plan("fmt")
        assert {p.action for p in plans} == {"run"}


def test_declaration_errors_point_at_the_code() -> None:
    with pytest.raises(PipelineDefinitionError, match="unknown stage 'training'"):
        step(stage="training", outputs="gold.x")(lambda ctx: None)  # type: ignore[arg-type]
    with pytest.raises(PipelineDefinitionError, match="needs keys"):
        step(stage="features", outputs="gold.x", mode="merge")(lambda ctx: None)
    with pytest.raises(PipelineDefinitionError, match="needs partition_by"):
        step(stage="features", outputs="gold.x", mode="replace_partitions")(lambda ctx: None)
    with pytest.raises(PipelineDefinitionError, match="takes 1 argument"):
        step(stage="features", inputs=["silver.a"], outputs="gold.x")(lambda ctx: None)
    with pytest.raises(PipelineDefinitionError, match="only ingress steps read landing"):
        step(stage="features", inputs=["landing:a"], outputs="gold.x")(lambda ctx, a: None)


def test_sql_header_errors(tmp_path: Path) -> None:
    bad = tmp_path / "x.sql"
    bad.write_text("select 1")
    with pytest.raises(PipelineDefinitionError, match="header"):
        sql_step_from_file(bad)
    bad.write_text("/* prodml\nstage: features\noutput: gold.x\n*/\nselect 1")
    with pytest.raises(PipelineDefinitionError, match="did you mean 'outputs'"):
        sql_step_from_file(bad)


def test_dataset_input_is_lazy_and_pruned(tmp_path: Path) -> None:
    code = (
        FORMATS
        + """
@step(stage="features", inputs=["bronze.numbers"], outputs="gold.lazy", partition_by="day",
      mode="replace_partitions", input_format="dataset", params=[])
def lazy(ctx, numbers):
    import pyarrow.dataset as pads
    assert isinstance(numbers, pads.Dataset)
    return pa.RecordBatchReader.from_batches(numbers.schema, numbers.to_batches(batch_size=2))
"""
    )
    root = make_platform(tmp_path / "p", {"fmt": code})
    product = root / "products" / "fmt" / "product.yaml"
    product.write_text(product.read_text() + "params: {factor: 2}\n")
    with prodml.connect(root) as ws:
        ws.run("fmt")
        assert ws.read("gold.lazy").num_rows == 10
        backfill = ws.run("fmt", steps=["lazy"], partitions="2024-01-02..2024-01-02")
        assert backfill.steps[-1]["rows_written"] == 3  # only the pruned partition was read
        assert ws.read("gold.lazy").num_rows == 10
