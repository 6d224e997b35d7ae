"""``prodml drift run`` over real Delta tables: windows, verdicts, HTML, results, alerts."""

from __future__ import annotations

import json
import threading
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import PRODUCT, assert_clean_error, make_platform, prodml_main

import prodml
from prodml.errors import UsageError

PIPELINE = """
import numpy as np
import pyarrow as pa
from datetime import date, timedelta
from prodml import step

@step(stage="ingress", outputs="silver.events", partition_by="day", params=["days", "shift_from"])
def events(ctx):
    rng = np.random.default_rng(11)
    parts = []
    for d in range(ctx.params["days"]):
        day = date(2024, 1, 1) + timedelta(days=d)
        shifted = d >= ctx.params["shift_from"]
        n = 400
        parts.append(pa.table({
            "day": pa.array([day] * n, pa.date32()),
            "event_id": pa.array([f"{d}-{i}" for i in range(n)]),
            "amount": rng.normal(30.0 if shifted else 20.0, 5.0, n),
            "steady": rng.normal(0.0, 1.0, n),
            "channel": rng.choice(["web", "mobile", "store"], n,
                                  p=[0.1, 0.8, 0.1] if shifted else [0.5, 0.3, 0.2]),
            "country": rng.choice(["DE", "FR", "NL"], n),
        }))
    return pa.concat_tables(parts)
"""

CONFIG = """params: {{days: 21, shift_from: {shift_from}}}
drift:
  tables:
    silver.events: {{columns: [amount, steady, channel, country]}}
  current: last:7d
alerts:
  webhook: {webhook}
"""


def platform(tmp_path: Path, shift_from: int = 14, webhook: str = "null") -> Path:
    root = make_platform(tmp_path / "p", {"shop": PIPELINE})
    (root / "products" / "shop" / "product.yaml").write_text(
        PRODUCT.format(name="shop") + CONFIG.format(shift_from=shift_from, webhook=webhook)
    )
    return root


class Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def test_shifted_columns_are_flagged_with_report_results_and_alert(tmp_path: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        root = platform(tmp_path, webhook=f"http://127.0.0.1:{server.server_port}/alerts")
        with prodml.connect(root) as ws:
            ws.run("shop")
            report = ws.drift_run("shop")
            stored = ws.read("monitoring.drift_results")
    finally:
        server.shutdown()
    (table,) = report["tables"]
    verdicts = {c["column"]: c["drift"] for c in table["result"]["columns"]}
    assert verdicts == {"amount": True, "channel": True, "steady": False, "country": False}
    assert table["current_window"] == "last:7d: 2024-01-15..2024-01-21"
    assert table["reference_window"] == "before: up to 2024-01-14"
    assert (table["current_rows"], table["reference_rows"]) == (7 * 400, 14 * 400)
    assert report["drifted_columns"] == ["dev.silver.events.amount", "dev.silver.events.channel"]
    assert report["alert"] == "sent"
    assert Hook.received[-1]["kind"] == "drift" and "amount" in Hook.received[-1]["summary"]
    page = Path(report["html"]).read_text()
    HTMLParser().feed(page)  # well-formed enough to parse
    assert page.count("<svg") >= 8 and len(page) < 200_000
    assert sorted(stored.column("column").to_pylist()) == ["amount", "channel", "country", "steady"]


def test_no_shift_no_drift_and_explicit_windows(tmp_path: Path) -> None:
    root = platform(tmp_path, shift_from=100)
    with prodml.connect(root) as ws:
        ws.run("shop")
        report = ws.drift_run("silver.events", reference="..2024-01-10", current="2024-01-11..")
        assert report["drift"] is False and "alert" not in report
        (table,) = report["tables"]
        assert table["current_rows"] == 11 * 400
        versions = ws.drift_run("shop", reference="v0", current="all")
        assert versions["tables"][0]["result"]["drift"] is False


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"current": "last:7"}, "is not a current window"),
        ({"current": "2024-02-01..2024-01-01"}, "starts after it ends"),
        ({"current": "before"}, "only makes sense as the reference window"),
        ({"current": "2025-01-01.."}, "current window of silver.events"),
        ({"reference": "..2023-12-31"}, "reference window of silver.events"),
        ({"reference": "v9"}, "version"),
    ],
)
def test_bad_windows_are_clear_errors(tmp_path: Path, kwargs: dict[str, str], needle: str) -> None:
    root = platform(tmp_path)
    with prodml.connect(root) as ws:
        ws.run("shop")
        with pytest.raises(prodml.ProdmlError, match=needle):
            ws.drift_run("shop", **kwargs)


def test_unknown_column_and_unwatched_product_on_the_cli(tmp_path: Path) -> None:
    root = platform(tmp_path)
    product_yaml = root / "products" / "shop" / "product.yaml"
    product_yaml.write_text(product_yaml.read_text().replace("steady,", "stedy,"))
    assert prodml_main("run", "shop", cwd=root).code == 0
    assert_clean_error(prodml_main("drift", "run", "shop", cwd=root), "stedy", "did you mean")
    assert_clean_error(prodml_main("drift", "run", "silver.nope", cwd=root), "nope")
    assert_clean_error(prodml_main("drift", "run", "shopp", cwd=root), "product 'shopp'", "shop")
    product_yaml.write_text(PRODUCT.format(name="shop") + "params: {days: 3, shift_from: 9}\n")
    with prodml.connect(root) as ws, pytest.raises(UsageError, match="watches no tables"):
        ws.drift_run("shop")


def test_derived_columns_filters_target_relation_and_correlations(tmp_path: Path) -> None:
    root = platform(tmp_path)
    yaml = root / "products" / "shop" / "product.yaml"
    yaml.write_text(
        yaml.read_text().replace(
            "silver.events: {columns: [amount, steady, channel, country]}",
            "silver.events: {columns: [steady], derived: {double_amount: 'amount * 2'}, "
            "where: \"country <> 'NL'\", target: amount}",
        )
    )
    with prodml.connect(root) as ws:
        ws.run("shop")
        (table,) = ws.drift_run("shop")["tables"]
    columns = {c["column"]: c for c in table["result"]["columns"]}
    assert set(columns) == {"steady", "double_amount"}  # the target is not a drift column
    assert columns["double_amount"]["drift"] is True
    assert table["current_rows"] < 7 * 400  # NL rows filtered out
    assert table["correlations"]["columns"] == ["steady", "double_amount"]
    relation = table["target_relation"]
    assert relation["target"] == "amount" and relation["max_abs_diff"] is not None


def test_drift_triggers_the_train_steps_when_asked(tmp_path: Path) -> None:
    code = (
        PIPELINE
        + """
@step(stage="train", inputs=["silver.events"], outputs="ml.refit", mode="append")
def refit(ctx, events):
    return ctx.sql("SELECT count(*) AS rows FROM events")
"""
    )
    root = make_platform(tmp_path / "p", {"shop": code})
    (root / "products" / "shop" / "product.yaml").write_text(
        PRODUCT.format(name="shop")
        + CONFIG.format(shift_from=14, webhook="null").replace(
            "  current: last:7d", "  current: last:7d\n  retrain: true"
        )
    )
    with prodml.connect(root) as ws:
        ws.run("shop")
        assert ws.read("ml.refit").num_rows == 1
        report = ws.drift_run("shop")
        assert report["drift"] is True and report["retrain"]
        retrained = ws.run_info(report["retrain"])
        assert [s["step"] for s in retrained["steps"]] == ["shop.refit"]
        assert ws.read("ml.refit").num_rows == 1  # unchanged inputs: the step was skipped
