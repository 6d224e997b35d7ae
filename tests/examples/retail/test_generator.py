"""Tests for the deterministic, dirty retail data generator."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from prodml.errors import UsageError
from prodml.examples.retail import generator
from prodml.examples.retail.catalogue import PRODUCTS
from prodml.examples.retail.generator import (
    COLUMNS,
    DEFAULT_START,
    ENTITIES,
    FILE_NAMES,
    MANIFEST_NAME,
    add_days,
    batch_dates,
    generate,
)

Row = dict[str, str]


def _files(landing: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(landing)): path.read_bytes()
        for path in sorted(landing.rglob("*"))
        if path.is_file()
    }


def _csv_rows(landing: Path, entity: str) -> list[tuple[date, Row]]:
    rows = []
    for day in batch_dates(landing):
        path = landing / entity / f"batch_date={day}" / FILE_NAMES[entity]
        with path.open(newline="", encoding="utf-8") as handle:
            rows += [(day, row) for row in csv.DictReader(handle)]
    return rows


def _customers(landing: Path) -> list[tuple[date, dict[str, str | None]]]:
    rows = []
    for day in batch_dates(landing):
        path = landing / "customers" / f"batch_date={day}" / "customers.json"
        rows += [(day, json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()]
    return rows


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _shares(values: list[str]) -> dict[str, float]:
    counts = Counter(values)
    return {key: count / len(values) for key, count in counts.items()}


@pytest.fixture(scope="module")
def ten_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    landing = tmp_path_factory.mktemp("ten_days")
    generate(landing, days=10)
    return landing


@pytest.fixture(scope="module")
def drifted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    landing = tmp_path_factory.mktemp("drifted")
    generate(landing, days=20)
    add_days(landing, 10, drift=True)
    return landing


# --- determinism --------------------------------------------------------------------------


def test_continuing_writes_the_same_bytes_as_one_long_run(tmp_path: Path) -> None:
    generate(tmp_path / "once", days=5)
    generate(tmp_path / "twice", days=3)
    added = add_days(tmp_path / "twice", 2)

    assert added == [date(2024, 1, 4), date(2024, 1, 5)]
    once, twice = _files(tmp_path / "once"), _files(tmp_path / "twice")
    assert sorted(once) == sorted(twice)
    assert [name for name in once if once[name] != twice[name]] == []


def test_continuing_a_drifted_run_matches_one_long_drifted_run(tmp_path: Path) -> None:
    generate(tmp_path / "once", days=4, drift=True)
    generate(tmp_path / "twice", days=1, drift=True)
    add_days(tmp_path / "twice", 3)

    assert _files(tmp_path / "once") == _files(tmp_path / "twice")


def test_same_seed_twice_is_identical(tmp_path: Path) -> None:
    generate(tmp_path / "a", days=3, seed=11)
    generate(tmp_path / "b", days=3, seed=11)

    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_different_seeds_differ_in_every_file(tmp_path: Path) -> None:
    generate(tmp_path / "a", days=3, seed=1)
    generate(tmp_path / "b", days=3, seed=2)

    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert sorted(a) == sorted(b)
    assert [name for name in a if a[name] == b[name] and name != MANIFEST_NAME] == []


def test_regenerating_into_the_same_directory_rewrites_identical_files(tmp_path: Path) -> None:
    generate(tmp_path, days=3)
    before = _files(tmp_path)
    generate(tmp_path, days=3)

    assert _files(tmp_path) == before


# --- layout, manifest, batch_dates --------------------------------------------------------


def test_layout_is_one_file_per_entity_per_batch_with_headers(ten_days: Path) -> None:
    for entity in ENTITIES:
        partitions = sorted(p.name for p in (ten_days / entity).iterdir())
        assert partitions == [f"batch_date={DEFAULT_START + timedelta(days=i)}" for i in range(10)]
        for partition in partitions:
            assert [p.name for p in (ten_days / entity / partition).iterdir()] == [
                FILE_NAMES[entity]
            ]
    for entity in ("orders", "order_lines"):
        path = ten_days / entity / "batch_date=2024-01-03" / FILE_NAMES[entity]
        assert path.read_text(encoding="utf-8").splitlines()[0] == ",".join(COLUMNS[entity])
    for _, record in _customers(ten_days):
        assert tuple(record) == COLUMNS["customers"]


def test_no_temporary_files_are_left_behind(ten_days: Path) -> None:
    assert [p for p in ten_days.rglob("*") if p.name.startswith(".")] == []


def test_manifest_records_seed_start_and_drift(tmp_path: Path, drifted: Path) -> None:
    generate(tmp_path, days=2, start=date(2023, 6, 30), seed=3)

    assert json.loads((tmp_path / MANIFEST_NAME).read_text()) == {
        "seed": 3,
        "start": "2023-06-30",
        "drift_from": None,
    }
    assert json.loads((drifted / MANIFEST_NAME).read_text()) == {
        "seed": 7,
        "start": "2024-01-01",
        "drift_from": "2024-01-21",
    }


def test_batch_dates_lists_complete_batches_sorted(tmp_path: Path) -> None:
    assert batch_dates(tmp_path / "missing") == []
    written = generate(tmp_path, days=4, start=date(2024, 2, 27))
    assert written == [date(2024, 2, 27), date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]
    assert batch_dates(tmp_path) == written

    # A run killed half-way through the last batch: the batch is not present and is redone.
    (tmp_path / "order_lines" / "batch_date=2024-03-01" / "order_lines.csv").unlink()
    assert batch_dates(tmp_path) == written[:3]
    assert add_days(tmp_path) == [date(2024, 3, 1)]
    assert batch_dates(tmp_path) == written


def test_start_shifts_dates_and_ids_follow_signup_order(tmp_path: Path) -> None:
    generate(tmp_path, days=2, start=date(2023, 3, 1))
    customers = _customers(tmp_path)

    assert batch_dates(tmp_path) == [date(2023, 3, 1), date(2023, 3, 2)]
    first_day = [r for day, r in customers if day == date(2023, 3, 1)]
    assert 450 <= len(first_day) <= 560
    assert all(str(r["signup_date"]) <= "2023-03-01" for r in first_day)
    clean = list(dict.fromkeys(str(r["customer_id"]) for r in first_day))
    assert clean == sorted(clean) and clean[0] == "C000001"
    signups = [str(r["signup_date"]) for r in {r["customer_id"]: r for r in first_day}.values()]
    assert signups == sorted(signups)


# --- realistic content --------------------------------------------------------------------


def test_volumes_ids_products_and_weekly_seasonality(ten_days: Path) -> None:
    orders, lines = _csv_rows(ten_days, "orders"), _csv_rows(ten_days, "order_lines")
    per_day = Counter(day for day, _ in orders)
    assert all(150 <= n <= 300 for n in per_day.values()), per_day
    assert 2.2 <= len(lines) / len(orders) <= 2.8
    assert {r["product_id"] for _, r in lines} <= {p.product_id for p in PRODUCTS}
    assert {r["currency"] for _, r in orders} == {"EUR"}
    weekend = [n for day, n in per_day.items() if day.weekday() >= 5]
    weekday = [n for day, n in per_day.items() if day.weekday() < 5]
    assert sum(weekend) / len(weekend) > 1.15 * sum(weekday) / len(weekday)

    # An order id belongs to one real order: every batch it shows up in agrees on its customer.
    first_seen: dict[str, date] = {}
    for day, row in orders:
        first_seen.setdefault(row["order_id"], day)
    ids = sorted(first_seen)
    assert ids[0] == "O00000001" and len(ids) == int(ids[-1][1:])
    assert all(first_seen[a] <= first_seen[b] for a, b in pairwise(ids))


def test_later_days_carry_signups_and_updates_of_existing_customers(ten_days: Path) -> None:
    customers = _customers(ten_days)
    first_seen: dict[str, date] = {}
    for day, record in customers:
        first_seen.setdefault(str(record["customer_id"]), day)
    for day in batch_dates(ten_days)[1:]:
        records = [r for d, r in customers if d == day]
        new = [r for r in records if first_seen[str(r["customer_id"])] == day]
        updated = [r for r in records if first_seen[str(r["customer_id"])] < day]
        assert 8 <= len({r["customer_id"] for r in new}) <= 15
        assert {r["signup_date"] for r in new} == {day.isoformat()}
        assert updated, f"no updates on {day}"
        assert all(str(r["updated_at"]).startswith(day.isoformat()) for r in records)
        assert all(str(r["updated_at"]).endswith("Z") for r in records)


def test_churned_customers_stop_ordering(tmp_path: Path) -> None:
    generate(tmp_path, days=60)
    last_order: dict[str, date] = {}
    first_order: dict[str, date] = {}
    for _, row in _csv_rows(tmp_path, "orders"):
        day = _parse_date(row["order_date"])
        if day and row["customer_id"]:
            last_order[row["customer_id"]] = max(day, last_order.get(row["customer_id"], day))
            first_order.setdefault(row["customer_id"], day)
    early = [c for c, day in first_order.items() if day < DEFAULT_START + timedelta(days=14)]
    gone = [c for c in early if last_order[c] < DEFAULT_START + timedelta(days=30)]
    # Ordering early and then nothing for the last 30 days happens, but to a minority.
    assert 0.05 <= len(gone) / len(early) <= 0.4


# --- dirt ---------------------------------------------------------------------------------


def test_exact_duplicate_rows_within_files(ten_days: Path) -> None:
    for entity in ("orders", "order_lines"):
        days_with_duplicates = set()
        for day in batch_dates(ten_days):
            path = ten_days / entity / f"batch_date={day}" / FILE_NAMES[entity]
            counts = Counter(path.read_text(encoding="utf-8").splitlines())
            if any(n > 1 for n in counts.values()):
                days_with_duplicates.add(day)
        assert len(days_with_duplicates) >= 6, (entity, days_with_duplicates)
    lines = [json.dumps(r, sort_keys=True) for _, r in _customers(ten_days)]
    assert len(lines) > len(set(lines))


def test_orders_are_resent_later_with_a_newer_status(ten_days: Path) -> None:
    seen: dict[str, list[tuple[date, str]]] = defaultdict(list)
    for day, row in _csv_rows(ten_days, "orders"):
        seen[row["order_id"]].append((day, row["status"]))
    resent = {
        order_id: sightings
        for order_id, sightings in seen.items()
        if len({day for day, _ in sightings}) > 1
    }
    assert len(resent) >= 10
    allowed = {("placed", "shipped"), ("placed", "cancelled"), ("shipped", "delivered")}
    allowed.add(("delivered", "returned"))
    changed = 0
    for sightings in resent.values():
        days = sorted({day for day, _ in sightings})
        assert len(days) == 2 and 1 <= (days[1] - days[0]).days <= 2
        before = {s for day, s in sightings if day == days[0]} - {"unknown"}
        after = {s for day, s in sightings if day == days[1]} - {"unknown"}
        if before and after:
            assert (before.pop(), after.pop()) in allowed
            changed += 1
    assert changed >= 10


def test_late_rows_are_at_most_two_days_old_and_never_before_start(ten_days: Path) -> None:
    for entity in ("orders", "order_lines"):
        late = 0
        for day, row in _csv_rows(ten_days, entity):
            order_date = _parse_date(row["order_date"])
            if order_date is None:
                continue
            assert DEFAULT_START <= order_date <= day
            assert (day - order_date).days <= 2
            late += order_date < day
        assert late >= 10, entity
    first = [r for day, r in _csv_rows(ten_days, "orders") if day == DEFAULT_START]
    assert {r["order_date"] for r in first} <= {"2024-01-01", "2024-13-45", "not-a-date"}


def test_nulls(ten_days: Path) -> None:
    orders, lines = _csv_rows(ten_days, "orders"), _csv_rows(ten_days, "order_lines")
    assert sum(r["customer_id"] == "" for _, r in orders) >= 5
    assert sum(r["channel"] == "" for _, r in orders) >= 5
    assert sum(r["quantity"] == "" for _, r in lines) >= 5
    assert sum(r["email"] is None for _, r in _customers(ten_days)) >= 5


def test_bad_values(ten_days: Path) -> None:
    orders, lines = _csv_rows(ten_days, "orders"), _csv_rows(ten_days, "order_lines")
    customers = [r for _, r in _customers(ten_days)]
    quantities = [int(r["quantity"]) for _, r in lines if r["quantity"]]
    assert sum(q <= 0 for q in quantities) >= 5
    assert {r["unit_price"] for _, r in lines} >= {"N/A", ""}
    bad_dates = {r["order_date"] for _, r in orders + lines} - {
        (DEFAULT_START + timedelta(days=i)).isoformat() for i in range(10)
    }
    assert bad_dates == {"2024-13-45", "not-a-date"}
    countries = Counter(str(r["country"]) for r in customers)
    assert countries["XX"] >= 1
    assert any(c.islower() for c in countries)
    emails = [str(r["email"]) for r in customers if r["email"] is not None]
    assert sum("@" not in e for e in emails) >= 3
    assert sum(r["status"] == "unknown" for _, r in orders) >= 5


def test_dirt_rates_match_the_documented_constants(ten_days: Path) -> None:
    orders = [r for _, r in _csv_rows(ten_days, "orders")]
    lines = [r for _, r in _csv_rows(ten_days, "order_lines")]
    observed = {
        "NULL_CUSTOMER_ID_RATE": sum(r["customer_id"] == "" for r in orders) / len(orders),
        "UNKNOWN_STATUS_RATE": sum(r["status"] == "unknown" for r in orders) / len(orders),
        "BAD_PRICE_RATE": sum(r["unit_price"] in ("", "N/A") for r in lines) / len(lines),
        "NULL_QUANTITY_RATE": sum(r["quantity"] == "" for r in lines) / len(lines),
    }
    for name, rate in observed.items():
        expected = getattr(generator, name)
        assert 0.005 <= expected <= 0.03
        assert expected / 2 <= rate <= expected * 2, (name, rate, expected)


def test_clean_values_are_well_formed(ten_days: Path) -> None:
    for _, row in _csv_rows(ten_days, "orders"):
        if row["order_date"] not in ("2024-13-45", "not-a-date"):
            assert row["order_ts"].startswith(row["order_date"] + "T")
        datetime.strptime(row["order_ts"], "%Y-%m-%dT%H:%M:%SZ")
        assert row["channel"] in {"web", "store", "mobile", ""}
        assert row["status"] in {
            "placed",
            "shipped",
            "delivered",
            "returned",
            "cancelled",
            "unknown",
        }
    for _, record in _customers(ten_days):
        assert record["segment"] in {"consumer", "smb", "enterprise"}
        assert len(str(record["country"])) == 2


# --- drift --------------------------------------------------------------------------------


def test_drift_shifts_price_quantity_and_channel_only(drifted: Path) -> None:
    drift_from = date(2024, 1, 21)
    prices: dict[bool, list[float]] = defaultdict(list)
    quantities: dict[bool, list[int]] = defaultdict(list)
    for day, row in _csv_rows(drifted, "order_lines"):
        if row["unit_price"] not in ("", "N/A"):
            prices[day >= drift_from].append(float(row["unit_price"]))
        if row["quantity"]:
            quantities[day >= drift_from].append(int(row["quantity"]))
    assert sum(prices[True]) / len(prices[True]) > 1.2 * sum(prices[False]) / len(prices[False])
    assert sum(quantities[True]) / len(quantities[True]) > 1.3 * (
        sum(quantities[False]) / len(quantities[False])
    )

    country_of = {str(r["customer_id"]): str(r["country"]) for _, r in _customers(drifted)}
    channels: dict[bool, list[str]] = defaultdict(list)
    countries: dict[bool, list[str]] = defaultdict(list)
    statuses: dict[bool, list[str]] = defaultdict(list)
    for day, row in _csv_rows(drifted, "orders"):
        channels[day >= drift_from].append(row["channel"])
        statuses[day >= drift_from].append(row["status"])
        if row["customer_id"]:
            countries[day >= drift_from].append(country_of[row["customer_id"]])
    mobile = {after: _shares(values)["mobile"] for after, values in channels.items()}
    assert mobile[True] > mobile[False] + 0.3
    for unchanged in (countries, statuses):
        before, after = _shares(unchanged[False]), _shares(unchanged[True])
        assert max(abs(before.get(k, 0) - after.get(k, 0)) for k in before | after) < 0.05


def test_drift_stays_on_once_switched_on(tmp_path: Path) -> None:
    generate(tmp_path, days=2)
    add_days(tmp_path, 1, drift=True)
    add_days(tmp_path, 1)
    add_days(tmp_path, 1, drift=True)

    manifest = json.loads((tmp_path / MANIFEST_NAME).read_text())
    assert manifest["drift_from"] == "2024-01-03"


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("days", [0, -3])
def test_generate_rejects_fewer_than_one_day(tmp_path: Path, days: int) -> None:
    with pytest.raises(UsageError, match=r"days must be .* 1 or more") as caught:
        generate(tmp_path, days=days)
    assert caught.value.hint
    assert not (tmp_path / MANIFEST_NAME).exists()


def test_add_days_rejects_fewer_than_one_day(tmp_path: Path) -> None:
    generate(tmp_path, days=1)
    with pytest.raises(UsageError, match="days must be"):
        add_days(tmp_path, 0)


def test_add_days_without_manifest_says_to_generate_first(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no _generator\.json") as caught:
        add_days(tmp_path / "landing", 2)
    assert "generate(" in str(caught.value.hint)


def test_generate_refuses_a_landing_dir_with_another_seed(tmp_path: Path) -> None:
    generate(tmp_path, days=1, seed=1)
    with pytest.raises(UsageError, match="seed=1") as caught:
        generate(tmp_path, days=1, seed=2)
    assert "add_days" in str(caught.value.hint)


def test_generate_refuses_a_landing_dir_with_another_start(tmp_path: Path) -> None:
    generate(tmp_path, days=1)
    with pytest.raises(UsageError, match="start=2024-01-01"):
        generate(tmp_path, days=1, start=date(2024, 5, 1))


@pytest.mark.parametrize("start", ["2024-01-01", datetime(2024, 1, 1, 12, 0), None])
def test_generate_rejects_a_start_that_is_not_a_date(tmp_path: Path, start: object) -> None:
    with pytest.raises(UsageError, match="start must be a"):
        generate(tmp_path, days=1, start=start)  # type: ignore[arg-type]


def test_generate_refuses_a_file_or_foreign_batches(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        generate(tmp_path / "file", days=1)

    generate(tmp_path / "landing", days=1)
    (tmp_path / "landing" / MANIFEST_NAME).unlink()
    with pytest.raises(UsageError, match=r"no _generator\.json"):
        generate(tmp_path / "landing", days=1)


def test_a_corrupt_manifest_is_a_usage_error(tmp_path: Path) -> None:
    generate(tmp_path, days=1)
    (tmp_path / MANIFEST_NAME).write_text('{"seed": 7}')
    with pytest.raises(UsageError, match="not a valid generator manifest"):
        add_days(tmp_path)
