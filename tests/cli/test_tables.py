"""``prodml tables list``, ``show``, ``history`` and ``preview`` (``prodml.cli.tables``), in
process on the shop platform: ``--json`` shapes, tables at 80 columns, bad names and values."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tests.cli.conftest import assert_usage_error, new_shop, ok
from tests.helpers import assert_clean_error, prodml_main, write_days

from prodml.cli.tables import _ts


def _run_id(shop: Path) -> str:
    (run,) = json.loads(ok(prodml_main("runs", "list", "--json", cwd=shop)).out)
    return str(run["run_id"])


def test_list_json(shop: Path) -> None:
    infos = json.loads(ok(prodml_main("tables", "list", "--json", cwd=shop)).out)
    assert [
        (t["name"], t["owner_product"], t["version"], t["rows"], t["partition_by"]) for t in infos
    ] == [("bronze.sales", "shop", 0, 4, ["day"]), ("gold.totals", "shop", 0, 2, [])]


def test_list_keeps_table_names_whole_at_80_columns(shop: Path) -> None:
    r = ok(prodml_main("tables", "list", cwd=shop, env={"COLUMNS": "80"}))
    assert r.out.splitlines()[0].strip() == "tables in catalog dev"
    assert "bronze.sales" in r.out and "gold.totals" in r.out
    assert max(len(line) for line in r.out.splitlines()) <= 80


def test_show_json(shop: Path) -> None:
    info = json.loads(ok(prodml_main("tables", "show", "bronze.sales", "--json", cwd=shop)).out)
    assert (info["name"], info["layer"], info["producer_step"], info["version"]) == (
        "bronze.sales",
        "bronze",
        "shop.sales",
        0,
    )
    assert [c["name"] for c in info["columns"]] == ["day", "amount", "_source_file"]
    assert Path(info["location"]) == shop / "data" / "dev" / "bronze" / "sales"


def test_show_prints_fields_and_columns(shop: Path) -> None:
    r = ok(prodml_main("tables", "show", "dev.gold.totals", cwd=shop))
    fields = {f[0]: f[1:] for f in map(str.split, r.out.splitlines()[1:11])}
    assert fields["owner"] == ["shop"] and fields["producer"] == ["shop.totals"]
    assert fields["description"] == [] and fields["layer"] == ["gold"]
    assert "│ day " in r.out and "│ total " in r.out


@pytest.mark.parametrize(
    ("name", "needles"),
    [
        ("gold.total", ("unknown table 'gold.total'", "did you mean 'gold.totals'?")),
        ("bronz.sales", ("did you mean 'bronze'",)),
        ("gold", ("invalid table name 'gold'", "expected 'schema.table'")),
        ("bronze.x;drop", ("invalid table name",)),
    ],
)
@pytest.mark.parametrize("command", ["show", "history", "preview"])
def test_bad_table_names(shop: Path, command: str, name: str, needles: tuple[str, ...]) -> None:
    r = prodml_main("tables", command, name, cwd=shop)
    assert_clean_error(r, *needles)
    assert r.code == 2 and r.out == ""


def test_history_json_links_each_commit_to_its_run_and_step(shop: Path) -> None:
    entries = json.loads(
        ok(prodml_main("tables", "history", "bronze.sales", "--json", cwd=shop)).out
    )
    (entry,) = entries
    assert (entry["version"], entry["prodml.step"], entry["prodml.run_id"]) == (
        0,
        "shop.sales",
        _run_id(shop),
    )


def test_history_prints_the_commits(shop: Path) -> None:
    r = ok(prodml_main("tables", "history", "gold.totals", "--limit", "1", cwd=shop))
    assert "history of gold.totals" in r.out
    assert _run_id(shop) in r.out and "shop.totals" in r.out


def test_history_keeps_run_ids_whole_at_80_columns(shop: Path) -> None:
    r = ok(prodml_main("tables", "history", "bronze.sales", cwd=shop, env={"COLUMNS": "80"}))
    assert _run_id(shop) in r.out and "shop.sales" in r.out


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("history", "gold.totals", "--limit", "0"), "--limit"),
        (("preview", "gold.totals", "--limit", "0"), "--limit"),
        (("preview", "gold.totals", "--limit", "10001"), "--limit"),
        (("preview", "gold.totals", "--version", "-1"), "--version"),
    ],
)
def test_values_out_of_range(shop: Path, args: tuple[str, ...], option: str) -> None:
    assert_usage_error(prodml_main("tables", *args, cwd=shop), f"Invalid value for '{option}'")


def test_preview_json_and_limit(shop: Path) -> None:
    rows = json.loads(ok(prodml_main("tables", "preview", "gold.totals", "--json", cwd=shop)).out)
    assert sorted((r["day"], r["total"]) for r in rows) == [
        ("2024-01-01", 4.0),
        ("2024-01-02", 4.0),
    ]
    one = json.loads(
        ok(prodml_main("tables", "preview", "bronze.sales", "--limit", "1", "--json", cwd=shop)).out
    )
    assert len(one) == 1 and set(one[0]) == {"day", "amount", "_source_file"}


def test_preview_prints_a_table_of_rows(shop: Path) -> None:
    r = ok(prodml_main("tables", "preview", "gold.totals", "--version", "0", cwd=shop))
    # the title wraps to the width of this narrow table
    assert " ".join(r.out.split("┏")[0].split()) == "gold.totals (first 2 rows)"
    assert "2024-01-01" in r.out and "│     4 │" in r.out


def test_preview_a_version_that_does_not_exist(shop: Path) -> None:
    """Item 9 of the first-hour issue: the error says which versions exist."""
    r = prodml_main("tables", "preview", "bronze.sales", "--version", "7", cwd=shop)
    assert (r.code, r.out) == (2, "")
    assert r.err == (
        "Error: table dev.bronze.sales: has no version 7: versions 0 to 0 exist ('prodml tables "
        "history bronze.sales' lists them with their runs)\n"
    )


@pytest.mark.xfail(
    strict=True,
    reason='a table still in the catalog whose Delta log is gone is reported as "unknown '
    "table 'bronze.sales' (did you mean 'bronze.sales'?)\": it suggests the very name asked for",
)
def test_a_table_whose_files_are_gone_is_not_suggested_as_itself(tmp_path: Path) -> None:
    root = new_shop(tmp_path / "p")
    ok(prodml_main("run", "shop", cwd=root))
    shutil.rmtree(root / "data" / "dev" / "bronze" / "sales" / "_delta_log")
    r = prodml_main("tables", "preview", "bronze.sales", cwd=root)
    assert "did you mean 'bronze.sales'" not in r.err


def test_ts_formats_milliseconds_and_ignores_the_rest() -> None:
    assert _ts(0) == "1970-01-01 00:00:00"
    assert _ts(1_704_164_645_500.0) == "2024-01-02 03:04:05"
    assert _ts(None) == "" and _ts("1704164645500") == ""


# -- maintenance (issue 13 items 8 and 11) -------------------------------------------------


def _fresh_shop(tmp_path: Path) -> Path:
    root = new_shop(tmp_path / "p")
    ok(prodml_main("run", "shop", cwd=root))
    return root


def test_item8_a_deleted_data_file_is_noticed_by_plan_run_and_check(tmp_path: Path) -> None:
    root = _fresh_shop(tmp_path)
    assert "dev.bronze.sales: ok" in ok(prodml_main("tables", "check", cwd=root)).err
    day2 = root / "data" / "dev" / "bronze" / "sales" / "day=2024-01-02"
    (victim,) = day2.glob("*.parquet")
    victim.unlink()
    repair = (
        "prodml tables check bronze.sales --repair, then prodml run shop "
        "--partitions 2024-01-02..2024-01-02"
    )
    for command in (["plan", "shop"], ["run", "shop"], ["tables", "preview", "bronze.sales"]):
        r = prodml_main(*command, cwd=root)
        assert_clean_error(r, "table dev.bronze.sales: 1 data file is gone", "day=2024-01-02")
        assert repair in r.err.replace("\n", " "), r.err
    checked = prodml_main("tables", "check", "--json", cwd=root)
    assert checked.code == 1
    (bronze, gold) = json.loads(checked.out)
    assert bronze["partitions"] == ["day=2024-01-02"] and bronze["repair"].startswith("prodml")
    assert gold["lost_files"] == []
    # the repair the message gives: forget the file, re-make its day
    ok(prodml_main("tables", "check", "bronze.sales", "--repair", cwd=root))
    ok(prodml_main("run", "shop", "--partitions", "2024-01-02..2024-01-02", cwd=root))
    rows = json.loads(ok(prodml_main("tables", "preview", "bronze.sales", "--json", cwd=root)).out)
    assert len(rows) == 4
    assert "ok" in ok(prodml_main("tables", "check", "bronze.sales", cwd=root)).err


def test_item11_optimize_vacuum_and_forget_from_the_cli(tmp_path: Path) -> None:
    root = _fresh_shop(tmp_path)
    for day in ("2024-01-03", "2024-01-04"):
        write_days(root, day)
        ok(prodml_main("run", "shop", cwd=root))
    done = json.loads(ok(prodml_main("tables", "optimize", "bronze.sales", "--json", cwd=root)).out)
    assert done[0]["table"] == "dev.bronze.sales" and done[0]["version"] >= 1
    dry = prodml_main(
        "tables",
        "vacuum",
        "bronze.sales",
        "--retention-hours",
        "0",
        "--dry-run",
        "--json",
        cwd=root,
    )
    assert json.loads(ok(dry).out)[0]["dry_run"] is True
    vacuumed = json.loads(ok(prodml_main("tables", "vacuum", "--json", cwd=root)).out)
    assert {v["table"] for v in vacuumed} == {"dev.bronze.sales", "dev.gold.totals"}
    forgot = prodml_main(
        "tables", "forget", "bronze.sales", "--key", "day=2024-01-03", "--yes", cwd=root
    )
    assert "2 row(s) of day=2024-01-03 deleted" in ok(forgot).err
    rows = json.loads(ok(prodml_main("tables", "preview", "bronze.sales", "--json", cwd=root)).out)
    assert {r["day"] for r in rows} == {"2024-01-01", "2024-01-02", "2024-01-04"}
    import prodml

    with prodml.connect(root) as ws:
        audited = [a for a in ws.audit() if a["action"].startswith("table.")]
    assert [a["action"] for a in audited] == [
        "table.forget",
        "table.vacuum",
        "table.vacuum",
        "table.vacuum",
        "table.optimize",
    ]
    assert (
        audited[0]["securable"] == "dev.bronze.sales" and "day=2024-01-03" in audited[0]["reason"]
    )


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["forget", "bronze.sales", "--key", "nope=1", "--yes"], ["has no column 'nope'"]),
        (["forget", "bronze.sales", "--key", "day", "--yes"], ["is not column=value"]),
        (["forget", "silver.nowhere", "--key", "day=1", "--yes"], ["silver.nowhere"]),
        (["check", "bad name!"], ["bad name!"]),
        (["optimize", "gold.nowhere"], ["gold.nowhere"]),
    ],
)
def test_maintenance_refuses_bad_input_cleanly(
    shop: Path, args: list[str], needles: list[str]
) -> None:
    assert_clean_error(prodml_main("tables", *args, cwd=shop), *needles)


def test_maintenance_bad_flags_are_usage_errors(shop: Path) -> None:
    r = prodml_main("tables", "vacuum", "--retention-hours", "-1", cwd=shop)
    assert_usage_error(r, "retention-hours")
    assert_usage_error(prodml_main("tables", "forget", "bronze.sales", cwd=shop), "--key")


def test_forget_asks_first(tmp_path: Path) -> None:
    root = _fresh_shop(tmp_path)
    r = prodml_main("tables", "forget", "bronze.sales", "--key", "day=2024-01-01", cwd=root)
    assert r.code == 1  # no terminal to confirm on: nothing deleted
    rows = json.loads(ok(prodml_main("tables", "preview", "bronze.sales", "--json", cwd=root)).out)
    assert len(rows) == 4


def test_item11_retention_deletes_old_log_rows_only(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    import sqlalchemy as sa
    from deltalake import DeltaTable

    import prodml
    from prodml.catalog import schema as s

    root = new_shop(tmp_path / "p")
    (root / "prodml.yaml").write_text(
        (root / "prodml.yaml").read_text()
        + "retention: {dq_results_days: 30, quarantine_days: 30, audit_days: 30}\n"
    )
    product = root / "products" / "shop" / "product.yaml"
    product.write_text(
        product.read_text()
        + "tables:\n  bronze.sales:\n    expectations:\n"
        + "      - {rule: not_null, column: amount, action: quarantine}\n"
    )
    ok(prodml_main("run", "shop", cwd=root))
    fresh = json.loads(ok(prodml_main("tables", "retain", "--json", cwd=root)).out)
    assert {d["table"]: d["rows_deleted"] for d in fresh} == {
        "dev.monitoring.dq_results": 0,
        "metadata dq_results": 0,
        "metadata audit": 0,
    }
    # the first day's results age by a year: they go, the second day's stay
    old = datetime(2020, 1, 1, tzinfo=UTC)
    location = root / "data" / "dev" / "monitoring" / "dq_results"
    DeltaTable(str(location)).update(
        {"checked_at": "CAST('2020-01-01T00:00:00Z' AS TIMESTAMP)"}, predicate="rule = 'rows'"
    )
    with prodml.connect(root) as ws:
        before = ws.read("monitoring.dq_results").num_rows
        with ws._w.store.begin() as conn:
            conn.execute(sa.update(s.audit).values(at=old))
    done = json.loads(ok(prodml_main("tables", "retain", "--json", cwd=root)).out)
    by = {d["table"]: d["rows_deleted"] for d in done}
    assert by["dev.monitoring.dq_results"] == 1 and by["metadata audit"] > 0
    with prodml.connect(root) as ws:
        assert ws.read("monitoring.dq_results").num_rows == before - 1
        actions = [a["action"] for a in ws.audit()]
    assert "audit.expire" in actions and "table.retain" in actions
    r = ok(prodml_main("tables", "retain", cwd=root, env={"COLUMNS": "80"}))
    assert "dev.monitoring.dq_results" in r.out and max(map(len, r.out.splitlines())) <= 80


def test_retention_config_is_checked(tmp_path: Path) -> None:
    root = new_shop(tmp_path / "p")
    (root / "prodml.yaml").write_text(
        (root / "prodml.yaml").read_text() + "retention: {dq_results_days: 0, audit_dayz: 3}\n"
    )
    r = prodml_main("tables", "retain", cwd=root)
    assert_clean_error(r, "retention")
