"""End to end on the retail example, driving the ``prodml`` command as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.helpers import assert_clean_error, prodml_cli

import prodml

pytestmark = pytest.mark.slow


def _init(root: Path) -> Path:
    r = prodml_cli("init", str(root), "--example", "retail", "--days", "40")
    assert r.code == 0, r.err
    return root


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example, shared by the tests that do not care what ran before them."""
    return _init(tmp_path_factory.mktemp("retail") / "demo")


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    """The example as ``prodml init`` leaves it: nothing has run."""
    return _init(tmp_path / "demo")


def _table_hashes(root: Path) -> dict[str, tuple[int, str]]:
    with prodml.connect(root) as ws:
        engine = ws._w.engine()
        try:
            return {t.name: engine.content_hash(ws.read(t.name)) for t in ws.tables()}
        finally:
            engine.close()


def test_run_builds_layers_trains_then_skips_promotes_scores_and_adds_a_day(fresh: Path) -> None:
    demo = fresh
    first = prodml_cli("run", "churn", "--json", cwd=demo)
    assert first.code == 0, first.err
    run = json.loads(first.out)
    statuses = {s["step"]: s["status"] for s in run["steps"]}
    score = statuses.pop("churn.score_customers")
    assert set(statuses.values()) == {"succeeded"}, statuses
    assert score == "skipped"  # no champion yet: nothing to score with

    listed = json.loads(prodml_cli("tables", "list", "--json", cwd=demo).out)
    by_name = {t["name"]: t for t in listed}
    for name in (
        "bronze.orders",
        "bronze.order_lines",
        "bronze.customers",
        "silver.orders",
        "silver.order_lines",
        "silver.customers",
        "gold.customer_daily",
        "features.customer_features",
        "gold.churn_labels",
        "ml.churn_training",
        "ml.churn_evaluation",
    ):
        assert by_name[name]["rows"] > 0, name
        assert by_name[name]["version"] == 0, name
    # dirt was removed on the way to silver: duplicates collapse, bad rows go
    assert by_name["silver.orders"]["rows"] < by_name["bronze.orders"]["rows"]

    versions = json.loads(prodml_cli("models", "versions", "churn", "--json", cwd=demo).out)
    assert [(v["version"], v["aliases"], v["gate"]) for v in versions] == [
        (1, ["challenger"], "passed")
    ]
    shown = json.loads(prodml_cli("runs", "show", run["run_id"], "--json", cwd=demo).out)
    train = next(s for s in shown["steps"] if s["step"] == "churn.train")
    assert train["links"]["tracking_run_id"] == versions[0]["run_id"]

    before = _table_hashes(demo)
    second = json.loads(prodml_cli("run", "churn", "--json", cwd=demo).out)
    assert {s["status"] for s in second["steps"]} == {"skipped"}
    shown = json.loads(prodml_cli("runs", "show", second["run_id"], "--json", cwd=demo).out)
    reasons = {s["step"]: s["reason"] for s in shown["steps"]}
    assert "no champion yet" in reasons.pop("churn.score_customers")
    assert all(r.startswith("unchanged") for r in reasons.values()), reasons
    assert _table_hashes(demo) == before

    assert prodml_cli("models", "promote", "churn", cwd=demo).code == 0
    listed = json.loads(prodml_cli("models", "list", "--json", cwd=demo).out)
    assert {m["product"] for m in listed} == {"churn", "demand"}  # demand: customer demand
    assert [m for m in listed if m["product"] == "churn"] == [
        {
            "product": "churn",
            "model": "dev.ml.churn",
            "versions": 1,
            "champion": 1,
            "challenger": None,
            "deployment": "model",
        }
    ]
    shown = json.loads(prodml_cli("models", "show", "churn", "--json", cwd=demo).out)
    assert (
        shown["champion"]["version"] == 1
        and shown["config"]["gate"]["metrics"]["roc_auc"]["min"] == 0.6
    )
    compared = json.loads(prodml_cli("models", "compare", "churn", "--json", cwd=demo).out)
    (row,) = compared["versions"]  # one row per version: training params, evaluation metrics
    assert (row["version"], row["aliases"], row["params"]["c"]) == (1, ["champion"], "1.0")
    assert "roc_auc" in row["metrics"]
    scored = json.loads(prodml_cli("run", "churn", "--json", cwd=demo).out)
    steps = {s["step"]: s for s in scored["steps"]}
    assert steps["churn.score_customers"]["status"] == "succeeded"
    assert len(steps["churn.score_customers"]["partitions"]) == 40
    preview = json.loads(
        prodml_cli("tables", "preview", "gold.churn_predictions", "--json", cwd=demo).out
    )
    assert {(p["model_name"], p["model_version"], p["model_alias"]) for p in preview} == {
        ("dev.ml.churn", 1, "champion")
    }
    assert all(0.0 <= p["prediction"] <= 1.0 for p in preview)

    # lineage: the predictions go back through the model version to the landing files
    upstream = json.loads(prodml_cli("lineage", "gold.churn_predictions", "--json", cwd=demo).out)
    assert {"landing:orders", "landing:order_lines", "landing:customers"} <= {
        e["source"] for e in upstream
    }
    assert ("model:dev.ml.churn/1", "dev.gold.churn_predictions") in {
        (e["source"], e["target"]) for e in upstream
    }
    downstream = json.loads(
        prodml_cli(
            "lineage", "landing:orders", "--downstream", "--depth", "9", "--json", cwd=demo
        ).out
    )
    assert {"model:dev.ml.churn/1", "dev.gold.churn_predictions"} <= {
        e["target"] for e in downstream
    }
    assert_clean_error(
        prodml_cli("lineage", "gold.churn_predictons", cwd=demo),
        "did you mean 'gold.churn_predictions'",
    )

    # a retrain that does not beat the champion is refused by the gate, with a readable table
    product = demo / "products" / "churn" / "product.yaml"
    original = product.read_text()
    product.write_text(original.replace("min_delta: -0.01", "min_delta: 0.001"))
    refused = prodml_cli(
        "run", "churn", "--steps", "train,evaluate", "--full-refresh", "--json", cwd=demo
    )
    assert refused.code != 0
    outcome = {s["step"]: s for s in json.loads(refused.out)["steps"]}
    assert outcome["churn.train"]["status"] == "succeeded"
    assert outcome["churn.evaluate"]["status"] == "failed"
    assert "failed the gate" in refused.err and "roc_auc   >= champion + 0.001" in refused.err
    versions = json.loads(prodml_cli("models", "versions", "churn", "--json", cwd=demo).out)
    assert [(v["version"], v["gate"], v["aliases"]) for v in versions] == [
        (2, "failed", []),
        (1, "passed", ["champion"]),
    ]
    product.write_text(original)

    added = prodml_cli("examples", "add-days", "--days", "1", cwd=demo)
    assert added.code == 0, added.err
    new_day = added.err.strip().split()[-1]
    third = json.loads(prodml_cli("run", "churn", "--json", cwd=demo).out)
    steps = {s["step"]: s for s in third["steps"]}
    for name in (
        "retail_core.ingest_orders",
        "retail_core.clean_orders",
        "retail_core.ingest_order_lines",
        "retail_core.clean_order_lines",
    ):
        assert steps[name]["partitions"] == [new_day], steps[name]
    # gold and scoring recompute the new day and only the earlier days its late rows touched
    for name in (
        "retail_core.customer_daily",
        "retail_core.customer_features",
        "churn.score_customers",
    ):
        days = steps[name]["partitions"]
        assert new_day in days and len(days) <= 3, (name, days)
        assert all(p >= "2024-02-07" for p in days)

    repro = prodml_cli("runs", "reproduce", third["run_id"], "--json", cwd=demo)
    report = json.loads(repro.out)
    assert repro.code == 0 and report["match"], report
    assert {c["step"] for c in report["checks"]} >= {
        "retail_core.customer_daily",
        "retail_core.clean_orders",
    }
    assert any("score_customers" in s for s in report["not_reproduced"])


def test_demand_reuses_the_shared_layers(demo: Path) -> None:
    first = prodml_cli("run", "churn", cwd=demo)  # builds (or already built) the shared layers
    assert first.code == 0, first.err
    r = json.loads(prodml_cli("run", "demand", "--json", cwd=demo).out)
    steps = {s["step"]: s for s in r["steps"]}
    assert steps["demand.product_daily_demand"]["status"] == "succeeded"  # the SQL step
    # the shared layers and customer features churn's run built are not built again
    for name in (
        "retail_core.clean_orders",
        "retail_core.clean_order_lines",
        "retail_core.customer_daily",
        "retail_core.customer_features",
    ):
        assert steps[name]["status"] == "skipped", steps[name]
    assert steps["demand.train_customer_demand"]["status"] == "succeeded"
    shown = json.loads(prodml_cli("products", "show", "demand", "--json", cwd=demo).out)
    assert shown["inputs_from_products"] == ["retail_core"]
    listed = json.loads(prodml_cli("products", "list", "--json", cwd=demo).out)
    assert {p["name"] for p in listed} == {"churn", "demand", "retail_core"}


def test_table_commands(demo: Path) -> None:
    assert prodml_cli("run", "churn", cwd=demo).code == 0  # a no-op when another test ran it
    shown = json.loads(prodml_cli("tables", "show", "silver.orders", "--json", cwd=demo).out)
    assert shown["owner_product"] == "retail_core"
    assert shown["partition_by"] == ["order_date"] and shown["keys"] == ["order_id"]
    docs = {c["name"]: c["doc"] for c in shown["columns"]}
    assert docs["order_id"].startswith("Order identifier")
    hist = prodml_cli("tables", "history", "silver.orders", "--json", cwd=demo)
    assert json.loads(hist.out)[0]["prodml.step"] == "retail_core.clean_orders"
    for _ in range(3):  # a scan stopped early once crashed the interpreter at exit
        shown_rows = prodml_cli(
            "tables",
            "preview",
            "gold.customer_daily",
            "--version",
            "0",
            "--limit",
            "3",
            "--json",
            cwd=demo,
        )
        assert shown_rows.code == 0, shown_rows.err
    preview = json.loads(shown_rows.out)
    assert len(preview) == 3 and "revenue" in preview[0]
    plan = json.loads(prodml_cli("plan", "churn", "--json", cwd=demo).out)
    # scoring waits for a champion, which only the other test of this module promotes
    assert {p["action"] for p in plan if p["step"] != "churn.score_customers"} == {"skip"}
    runs = json.loads(prodml_cli("runs", "list", "--product", "churn", "--json", cwd=demo).out)
    assert runs and runs[0]["git_sha"] is None  # not a git repository


def test_item2_the_example_refuses_empty_header_only_and_cut_short_landing_files(
    tmp_path: Path,
) -> None:
    """Issue 13 item 2: such files were ingested as a silently empty or partial day."""
    root = tmp_path / "demo"
    assert prodml_cli("init", str(root), "--example", "retail", "--days", "12").code == 0
    orders = sorted((root / "landing" / "orders").glob("batch_date=*/orders.csv"))
    header, *rows = orders[9].read_text().splitlines(keepends=True)
    orders[9].write_text(header)  # header only: an empty day
    orders[10].write_bytes(b"")  # an empty file
    header, *rows = orders[11].read_text().splitlines(keepends=True)
    orders[11].write_text(header + "".join(rows[: len(rows) // 4]))  # cut at a line end
    r = prodml_cli("run", "retail_core", "--steps", "ingest_orders", cwd=root)
    assert_clean_error(r, "bronze.orders")
    days = [p.parent.name for p in orders]
    assert (
        f"{days[9]}: 0 rows, outside [1, ]" in r.err.replace("\n", " ")
        or f"{days[9]}: 0 rows" in r.out
    )
    text = r.out + r.err
    assert f"{days[10]}: 0 rows" in text and f"{days[11]}: row_count" in text
    with prodml.connect(root) as ws:
        assert not ws.table_exists("bronze.orders")  # nothing was written
