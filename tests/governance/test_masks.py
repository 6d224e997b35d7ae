"""Item 4: column tags, masks and row filters declared in prodml.yaml are applied in the gate,
so every path a reader takes shows masked values and only the rows it may read.

The platform is the retail example with governance on: ``gold.customer_daily.customer_id`` is
tagged ``pii`` and hashed, ``features.customer_features.country`` is redacted, and only the
rows with two orders or more of ``gold.customer_daily`` are read, for everyone but the admins
and the service principal production runs as. Ana (a data scientist: SELECT on prod's gold and
features) reads through each path; what she gets must hold no raw customer id, no country,
and no row the filter leaves out — the admin, exempt, reads them all.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.governance.conftest import governed_retail
from tests.governance.test_every_path import COMMANDS
from tests.helpers import prodml_cli, prodml_main

import prodml

pytestmark = pytest.mark.slow

ENV = ("--env", "prod")
DAILY = "gold.customer_daily"
FEATURES = "features.customer_features"
CONTROLS = """\
  columns:
    - {table: gold.customer_daily, column: customer_id, tags: [pii], mask: hash,
       exempt: [platform-admins, churn-prod-sp]}
    - {table: gold.customer_daily, column: revenue, tags: [finance]}
    - {table: features.customer_features, column: country, tags: [pii], mask: redact,
       exempt: [platform-admins, churn-prod-sp]}
  row_filters:
    - {table: gold.customer_daily, where: "orders >= 2", exempt: [platform-admins, churn-prod-sp]}
"""
HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Demo:
    root: Path
    ana: dict[str, str]  # ana's PRODML_TOKEN
    raw_ids: list[str]  # customer ids of gold.customer_daily (admin's read)
    kept: int  # rows of gold.customer_daily with orders >= 2
    customer: str  # a customer with published features
    run_id: str
    token_id: str  # a token of ana's that a command may revoke


def _mask_every_customer_id(root: Path) -> str:
    """Rules hashing customer_id in every gold and features table that has one (all the
    tables ana may read), so that any raw customer id she is shown is a leak."""
    with prodml.connect(root, env="prod") as ws:
        tables = sorted(
            f"{t['schema_name']}.{t['name']}"
            for t in ws.catalog_entries()
            if t["schema_name"] in ("gold", "features")
            and any(c["name"] == "customer_id" for c in t["columns"])
        )
    return "".join(
        f"    - {{table: {name}, column: customer_id, tags: [pii], mask: hash,\n"
        "       exempt: [platform-admins, churn-prod-sp]}\n"
        for name in tables
        if name != DAILY
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    grant = (
        "    - {securable: schema prod.features, principal: data-scientists, "
        "privileges: [SELECT]}\n"
    )
    root = governed_retail(
        tmp_path_factory.mktemp("masks") / "demo",
        lambda text: (
            text.replace("  grants:\n", "  grants:\n" + grant, 1).rstrip("\n") + "\n" + CONTROLS
        ),
    )
    # a rule whose failing rows' samples are customer ids (warn: the rows are written)
    core = root / "products" / "retail_core" / "product.yaml"
    described = "    description: Orders, items and revenue per customer and day.\n"
    rule = (
        "    expectations:\n"
        "      - {rule: pattern, column: customer_id, regex: '^C00000', action: warn}\n"
    )
    assert described in core.read_text()
    core.write_text(core.read_text().replace(described, described + rule, 1))
    for args in (("run", "churn", *ENV), ("features", "publish", *ENV)):
        r = prodml_cli(*args, cwd=root, timeout=300)
        assert r.code == 0, r.err
    platform = root / "prodml.yaml"
    more = _mask_every_customer_id(root)
    platform.write_text(platform.read_text().replace("  row_filters:\n", more + "  row_filters:\n"))
    with prodml.connect(root, env="prod") as ws:  # the admin: exempt
        daily = ws.read(DAILY)
        token = ws.new_token("ana", name="masks")
        ws.new_token("ana", name="to revoke")
        token_id = next(t["id"] for t in ws.tokens("ana") if t["name"] == "to revoke")
        features = ws.read(FEATURES)
        run_id = ws.runs("churn")[0]["run_id"]
    ids = sorted(set(daily.column("customer_id").to_pylist()))
    kept = sum(1 for n in daily.column("orders").to_pylist() if n >= 2)
    assert 0 < kept < daily.num_rows  # the filter leaves rows out
    customer = str(features.column("customer_id")[0].as_py())
    return Demo(root, {"PRODML_TOKEN": token}, ids, kept, customer, run_id, token_id)


def _leaks(demo: Demo, shown: str) -> list[str]:
    return [i for i in demo.raw_ids if re.search(rf"\b{re.escape(i)}\b", shown)]


def _as_ana(demo: Demo) -> Any:
    ws = prodml.connect(demo.root, env="prod")
    return ws, ws.as_caller(demo.ana["PRODML_TOKEN"], client="test")


def _python_read(demo: Demo) -> list[dict[str, Any]]:
    ws, ana = _as_ana(demo)
    with ws:
        return list(ana.read(DAILY).to_pylist())


def _python_preview(demo: Demo) -> list[dict[str, Any]]:
    ws, ana = _as_ana(demo)
    with ws:
        return list(ana.preview(DAILY, limit=10000).to_pylist())


def _cli_preview(demo: Demo) -> list[dict[str, Any]]:
    r = prodml_main("tables", "preview", DAILY, "--limit", "10000", "--json", *ENV,
                    cwd=demo.root, env=demo.ana)  # fmt: skip
    assert r.code == 0, r.err
    return list(json.loads(r.out))


def _training_set(demo: Demo) -> list[dict[str, Any]]:
    """A point-in-time join: the feature store reads through the gate (DuckDB)."""
    import pandas as pd

    from prodml.features import FeatureLookup

    ws, ana = _as_ana(demo)
    with ws:
        # she reads customer ids hashed: her spine holds what she reads, and joins on it
        hashed = hashlib.sha256(demo.customer.encode()).hexdigest()
        spine = pd.DataFrame({"customer_id": [hashed], "t": [pd.Timestamp("2100-01-01", tz="UTC")]})
        got = ana.training_set(
            spine, timestamp="t", lookups=[FeatureLookup(FEATURES, features=["country"])]
        )
        return list(got.to_arrow().to_pylist())


#: paths to gold.customer_daily's rows → how they are read as ana
ROW_PATHS: dict[str, Callable[[Demo], list[dict[str, Any]]]] = {
    "python read": _python_read,
    "python preview": _python_preview,
    "cli tables preview": _cli_preview,
}


@pytest.mark.parametrize("path", sorted(ROW_PATHS))
def test_item4_a_masked_column_is_masked_and_rows_filtered_on_every_path(
    demo: Demo, path: str
) -> None:
    rows = ROW_PATHS[path](demo)
    assert len(rows) == demo.kept, f"{path}: the row filter was not applied"
    assert all(r["orders"] >= 2 for r in rows)
    assert all(HEX64.fullmatch(str(r["customer_id"])) for r in rows), f"{path}: not hashed"
    assert not _leaks(demo, json.dumps(rows, default=str)), f"{path} showed raw customer ids"
    assert any(r["revenue"] for r in rows)  # only tagged: its values are read as they are


def test_item4_the_exempt_admin_reads_the_values(demo: Demo) -> None:
    with prodml.connect(demo.root, env="prod") as ws:
        rows = ws.read(DAILY).to_pylist()
    assert len(rows) > demo.kept and {r["customer_id"] for r in rows} == set(demo.raw_ids)


def test_item4_a_hash_is_the_same_on_every_read(demo: Demo) -> None:
    first = {r["customer_id"] for r in _python_read(demo)}
    assert first == {r["customer_id"] for r in _cli_preview(demo)}  # joins still match


@pytest.mark.parametrize("path", ["python", "http", "training set"])
def test_item4_masked_features_are_masked_online_and_offline(demo: Demo, path: str) -> None:
    if path == "training set":
        (row,) = _training_set(demo)
        assert row["country"] == "***"
        return
    if path == "python":
        ws, ana = _as_ana(demo)
        with ws:
            (found,) = ana.online_features(FEATURES, [{"customer_id": demo.customer}])
        values = found.values
    else:
        from fastapi.testclient import TestClient

        with prodml.connect(demo.root, env="prod") as ws:
            app = ws.serving_app(["churn"])
        headers = {"Authorization": f"Bearer {demo.ana['PRODML_TOKEN']}"}
        with TestClient(app) as client:
            r = client.post(
                "/v1/features/online",
                json={"table": FEATURES, "entities": [{"customer_id": demo.customer}]},
                headers=headers,
            )
        assert r.status_code == 200, r.text
        values = r.json()["results"][0]["values"]
    assert values["country"] == "***" and values["frequency"] is not None


def test_item4_column_info_shows_tags_and_masks(demo: Demo) -> None:
    from fastapi.testclient import TestClient

    from prodml.server.app import build

    app, workspaces = build(demo.root, no_auth=False)
    try:
        with TestClient(app) as client:
            r = client.get(
                f"/api/2.1/unity-catalog/tables/prod.{DAILY}",
                headers={"Authorization": f"Bearer {demo.ana['PRODML_TOKEN']}"},
            )
    finally:
        for ws in workspaces:
            ws.close()
    assert r.status_code == 200, r.text
    columns = {c["name"]: c for c in r.json()["columns"]}
    meta = json.loads(columns["customer_id"]["type_json"])["metadata"]
    assert meta == {"tags": ["pii"], "mask": "hash"}
    assert "masked (hash) unless exempt" in columns["customer_id"]["comment"]
    assert json.loads(columns["revenue"]["type_json"])["metadata"] == {"tags": ["finance"]}
    r = prodml_main("tables", "show", DAILY, "--json", *ENV, cwd=demo.root, env=demo.ana)
    assert r.code == 0, r.err
    shown = {c["name"]: c for c in json.loads(r.out)["columns"]}
    assert shown["customer_id"]["tags"] == ["pii"] and shown["customer_id"]["mask"] == "hash"
    r = prodml_main("tables", "show", DAILY, *ENV, cwd=demo.root, env=demo.ana)
    assert r.code == 0 and "pii" in r.out and "hash" in r.out and "finance" in r.out, r.out


def test_item4_samples_of_restricted_tables_are_hidden(demo: Demo) -> None:
    ws, ana = _as_ana(demo)
    with ws:
        mine = [r for r in ana.quality_report(DAILY) if r.get("samples") or r.get("samples_hidden")]
        theirs = [r for r in ws.quality_report(DAILY) if r.get("samples")]
    assert theirs and any(i in demo.raw_ids for r in theirs for i in r["samples"])
    assert all(r.get("samples_hidden") and not r["samples"] for r in mine)
    assert len(mine) == len(theirs)


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_item4_no_cli_command_shows_a_masked_value(demo: Demo, path: str, tmp_path: Path) -> None:
    """Every command of Typer's tree (classified in test_every_path), run by ana with the
    arguments given there: none shows a raw customer id she did not type herself."""
    if path in ("serve", "server"):
        pytest.skip("starts a server: its routes are the HTTP cases")
    fill = {"run_id": demo.run_id, "token_id": demo.token_id, "tmp": str(tmp_path)}
    args = [a.format(**fill) for a in COMMANDS[path].args]
    result = prodml_main(*path.split(), *args, cwd=demo.root, env=demo.ana)
    shown = result.out + result.err
    assert "Traceback" not in shown, shown
    asked = " ".join(args)
    leaked = [i for i in _leaks(demo, shown) if i not in asked]
    assert not leaked, f"{path} showed {leaked[:3]}: {shown[:1500]}"


def test_item4_a_restricted_principal_may_not_publish_masked_rows(demo: Demo) -> None:
    ws, ana = _as_ana(demo)
    with ws, pytest.raises(prodml.errors.AccessDeniedError, match="masked or rows filtered"):
        ana.publish_features(FEATURES)
