"""The clean simulation behind the retail generator (``Shop``): seeded streams stable across
processes, any day rebuilt on its own, the initial population and daily sign-ups and updates,
orders with consecutive ids and unique products per order, churned customers who stop
ordering, re-sent orders with a later status, and drift that changes only drifted days.

The generator's own tests (test_generator.py) check the files and the dirt on top of this."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta

import pytest

from prodml.examples.retail import shop as shop_module
from prodml.examples.retail.catalogue import CHANNELS, COUNTRIES, PRODUCTS, SEGMENTS, STATUSES
from prodml.examples.retail.shop import Customer, Shop, stream_rng

START = date(2024, 1, 1)
DAYS = [START + timedelta(days=i) for i in range(6)]
PRICES = {p.product_id: p.base_price for p in PRODUCTS}
FIELDS = ("customer_id", "name", "email", "country", "segment", "signup_date", "updated_at")
NEXT = {"placed": {"shipped", "cancelled"}, "shipped": {"delivered"}, "delivered": {"returned"}}


@pytest.fixture(scope="module")
def shop() -> Shop:
    """Six days of the default seed, built in order."""
    built = Shop(7, START, None)
    for day in DAYS:
        built.order_rows(day)
    return built


def test_stream_rng_is_a_pure_function_of_seed_stream_and_key() -> None:
    # a golden value: hash() is salted per process, the SHA-256 seeding is not
    assert stream_rng(7, "orders", START).random() == 0.5527222175142361
    draws = {
        (seed, stream, key): stream_rng(seed, stream, key).random()
        for seed in (7, 8)
        for stream in ("orders", "signups")
        for key in (START, DAYS[1])
    }
    assert len(set(draws.values())) == len(draws)  # every part of the triple matters
    assert stream_rng(7, "orders", START).random() == draws[(7, "orders", START)]


def test_any_day_rebuilds_on_its_own(shop: Shop) -> None:
    later = DAYS[5]
    alone = Shop(7, START, None)
    assert alone.order_rows(later) == shop.order_rows(later)  # no earlier day asked first
    assert alone.line_rows(later) == shop.line_rows(later)
    assert alone.customer_rows(DAYS[2]) == shop.customer_rows(DAYS[2])
    assert alone.order_rows(DAYS[1]) == shop.order_rows(DAYS[1])  # going back is the same
    assert Shop(8, START, None).order_rows(later) != shop.order_rows(later)


def test_the_initial_population_signs_up_before_the_start(shop: Shop) -> None:
    rows = shop.customer_rows(START)
    assert 480 <= len(rows) <= 520
    assert [r["customer_id"] for r in rows] == [f"C{i:06d}" for i in range(1, len(rows) + 1)]
    signups = [date.fromisoformat(str(r["signup_date"])) for r in rows]
    assert signups == sorted(signups)  # ids follow sign-up order
    assert START - timedelta(days=729) <= signups[0] and signups[-1] <= START
    countries, segments = {c for c, _ in COUNTRIES}, {s for s, _ in SEGMENTS}
    for r in rows:
        assert set(r) == set(FIELDS)
        assert r["country"] in countries and r["segment"] in segments
        assert re.fullmatch(r"[a-z]+\.[a-z]+\d{1,3}@[a-z.]+", str(r["email"])), r["email"]
        assert str(r["updated_at"]).startswith(str(r["signup_date"]) + "T")


def test_later_days_bring_sign_ups_and_updates(shop: Shop) -> None:
    known = len(shop.customer_rows(START))
    for day in DAYS[1:]:
        rows = shop.customer_rows(day)
        numbers = [int(str(r["customer_id"])[1:]) for r in rows]
        new = [n for n in numbers if n > known]
        updates = [n for n in numbers if n <= known]
        assert 8 <= len(new) <= 15 and new == list(range(known + 1, known + len(new) + 1))
        assert 2 <= len(updates) <= 6 and len(set(updates)) == len(updates)
        for r in rows:
            assert str(r["updated_at"]).startswith(day.isoformat())
        known += len(new)


def test_customer_rows_are_copies(shop: Shop) -> None:
    rows = shop.customer_rows(DAYS[1])
    rows[0]["email"] = "changed@example.com"
    rows.append({})
    again = shop.customer_rows(DAYS[1])
    assert again[0]["email"] != "changed@example.com" and len(again) == len(rows) - 1


def test_order_ids_run_on_across_days(shop: Shop) -> None:
    ids = [int(o.row[0][1:]) for day in DAYS for o in shop.orders(day)]
    assert ids == list(range(1, len(ids) + 1))
    assert all(len(shop.orders(day)) >= 1 for day in DAYS)


def test_orders_are_clean_and_well_formed(shop: Shop) -> None:
    channels, statuses = {c for c, _ in CHANNELS}, {s for s, _ in STATUSES}
    for day in DAYS:
        for order in shop.orders(day):
            order_id, customer, order_date, ts, channel, status, currency = order.row
            placed = date.fromisoformat(order_date)
            assert START <= placed <= day and (day - placed).days <= 2
            assert re.fullmatch(rf"{order_date}T\d\d:\d\d:\d\dZ", ts)
            assert channel in channels and status in statuses and currency == "EUR"
            assert re.fullmatch(r"C\d{6}", customer)
            products = [line[3] for line in order.lines]
            assert len(products) == len(set(products)) >= 1  # a product once per order
            for number, line in enumerate(order.lines, start=1):
                assert line[:3] == (order_id, str(number), order_date)
                assert 1 <= int(line[4]) <= 5
                price = float(line[5])
                assert re.fullmatch(r"\d+\.\d\d", line[5])
                assert 0.5 * 0.85 * PRICES[line[3]] - 0.01 <= price <= 1.3 * PRICES[line[3]]
    lines = [line for day in DAYS for line in shop.line_rows(day)]
    assert len(lines) == sum(len(o.lines) for day in DAYS for o in shop.orders(day))


def test_churned_customers_order_nothing(shop: Shop) -> None:
    churn = {c.customer_id: c.churn_date for c in shop.customers}
    signup = {c.customer_id: max(c.signup_date, START) for c in shop.customers}
    for day in DAYS:
        for order in shop.orders(day):
            placed = date.fromisoformat(order.row[2])
            assert signup[order.row[1]] <= placed < churn[order.row[1]], order.row


def test_resent_orders_come_back_with_a_later_status(shop: Shop) -> None:
    resent = 0
    for day in DAYS:
        first_sent = {o.row[0] for o in shop.orders(day)}
        rows = shop.order_rows(day)
        assert [r[0] for r in rows[: len(first_sent)]] == [o.row[0] for o in shop.orders(day)]
        for row in rows[len(first_sent) :]:  # re-sent orders of earlier batches come last
            days = [day - timedelta(days=back) for back in (1, 2)]
            earlier = [o for d in days if d >= START for o in shop.orders(d)]
            original = next(o for o in earlier if o.row[0] == row[0])
            assert original.resend_after in (1, 2)
            assert row[5] in NEXT[original.row[5]]
            assert row[:5] == list(original.row[:5]) and row[6:] == list(original.row[6:])
            resent += 1
    assert resent > 0
    assert Counter(o.resend_after for day in DAYS for o in shop.orders(day))[0] > 0


def test_drift_changes_only_the_drifted_days() -> None:
    drift_from = DAYS[3]
    clean, drifted = Shop(7, START, None), Shop(7, START, drift_from)
    assert [drifted.drifted(d) for d in DAYS] == [False, False, False, True, True, True]
    assert not clean.drifted(DAYS[5])
    for day in DAYS[:3]:
        assert drifted.order_rows(day) == clean.order_rows(day)
        assert drifted.line_rows(day) == clean.line_rows(day)
    after = [o for day in DAYS[3:] for o in drifted.orders(day)]
    before = [o for day in DAYS[3:] for o in clean.orders(day)]
    assert [o.row[0] for o in after] == [o.row[0] for o in before]  # same orders, other values

    def mobile(orders: list[shop_module.Order]) -> float:
        return sum(o.row[4] == "mobile" for o in orders) / len(orders)

    def ratio(orders: list[shop_module.Order]) -> float:
        lines = [line for o in orders for line in o.lines]
        return sum(float(line[5]) / PRICES[line[3]] for line in lines) / len(lines)

    assert mobile(after) > mobile(before) + 0.3
    assert ratio(after) == pytest.approx(1.3, abs=0.05) and ratio(before) < 1.05
    assert max(int(line[4]) for o in after for line in o.lines) > 5


def test_a_customer_record_is_what_customers_json_holds() -> None:
    customer = Customer(
        customer_id="C000001",
        name="Anna Müller",
        email="anna.muller1@example.com",
        country="DE",
        segment="smb",
        signup_date=date(2023, 5, 1),
        updated_at="2023-05-01T10:00:00Z",
        channel="web",
        weight=1.5,
        churn_date=date(2024, 2, 1),
    )
    assert customer.record() == {
        "customer_id": "C000001",
        "name": "Anna Müller",
        "email": "anna.muller1@example.com",
        "country": "DE",
        "segment": "smb",
        "signup_date": "2023-05-01",
        "updated_at": "2023-05-01T10:00:00Z",
    }
