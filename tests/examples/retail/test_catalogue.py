"""The retail example's reference data: 50 products in ten categories, weight tables that are
shares, a week of order factors, and names and e-mail domains the simulation can use safely."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections import Counter

import pytest

from prodml.examples.retail import catalogue
from prodml.examples.retail.catalogue import (
    CHANNELS,
    COUNTRIES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    PRODUCTS,
    SEGMENTS,
    STATUSES,
    WEEKDAY_FACTOR,
    Product,
)


def test_fifty_products_with_ids_in_order() -> None:
    assert len(PRODUCTS) == 50
    assert [p.product_id for p in PRODUCTS] == [f"P{i:03d}" for i in range(1, 51)]
    assert len({p.name for p in PRODUCTS}) == 50


def test_ten_categories_of_five() -> None:
    counts = Counter(p.category for p in PRODUCTS)
    assert len(counts) == 10 and set(counts.values()) == {5}
    assert {"coffee", "tea", "dairy", "frozen", "personal_care"} <= set(counts)
    assert all(re.fullmatch(r"[a-z_]+", c) for c in counts)


def test_prices_are_euros_and_popularity_is_positive() -> None:
    for p in PRODUCTS:
        assert 0 < p.base_price < 100 and round(p.base_price, 2) == p.base_price, p
        assert p.popularity > 0, p
    espresso = PRODUCTS[0]
    assert (espresso.name, espresso.category, espresso.base_price) == (
        "Espresso beans 1 kg",
        "coffee",
        18.90,
    )


def test_a_product_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        PRODUCTS[0].base_price = 1.0  # type: ignore[misc]
    assert not hasattr(PRODUCTS[0], "__dict__")  # slots: fifty small objects
    assert Product("P999", "x", "y", 1.0, 1.0) == Product("P999", "x", "y", 1.0, 1.0)


@pytest.mark.parametrize(
    "table",
    [COUNTRIES, SEGMENTS, CHANNELS, STATUSES],
    ids=["countries", "segments", "channels", "statuses"],
)
def test_weight_tables_are_shares_of_100(table: tuple[tuple[str, float], ...]) -> None:
    names = [name for name, _ in table]
    assert len(names) == len(set(names))
    assert sum(weight for _, weight in table) == pytest.approx(100.0)
    assert all(weight > 0 for _, weight in table)


def test_countries_are_iso_alpha_2_and_the_known_values() -> None:
    assert all(re.fullmatch(r"[A-Z]{2}", c) for c, _ in COUNTRIES)
    assert COUNTRIES[0] == ("DE", 24.0)
    assert [s for s, _ in SEGMENTS] == ["consumer", "smb", "enterprise"]
    assert [c for c, _ in CHANNELS] == ["web", "store", "mobile"]
    assert {s for s, _ in STATUSES} == {"placed", "shipped", "delivered", "cancelled", "returned"}


def test_weekends_are_the_busiest_days() -> None:
    assert len(WEEKDAY_FACTOR) == 7
    saturday, sunday = WEEKDAY_FACTOR[5], WEEKDAY_FACTOR[6]
    assert min(saturday, sunday) > max(WEEKDAY_FACTOR[:5])
    assert max(WEEKDAY_FACTOR) == saturday == 1.3


def test_names_are_unique_and_spell_out_in_ascii() -> None:
    """E-mail addresses are built from the names: every letter must reduce to a-z."""
    for names in (FIRST_NAMES, LAST_NAMES):
        assert len(names) == 40 and len(set(names)) == len(names)
        for name in names:
            for char in name:
                if char == " ":
                    continue
                base = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
                assert len(base) == 1 and base.isalpha(), (name, char)
    assert "Wiśniewski" in LAST_NAMES and "Chloé" in FIRST_NAMES  # accents on purpose


def test_email_domains_are_reserved_for_examples() -> None:
    """RFC 2606: the generated addresses can never reach a real mailbox."""
    for domain in EMAIL_DOMAINS:
        assert domain in ("example.com", "example.org", "example.net") or domain.endswith(
            ".example"
        ), domain
    assert len(set(EMAIL_DOMAINS)) == len(EMAIL_DOMAINS) == 4


def test_the_public_names() -> None:
    public = {n for n in vars(catalogue) if n.isupper() and not n.startswith("_")}
    assert public == {
        "PRODUCTS",
        "COUNTRIES",
        "SEGMENTS",
        "CHANNELS",
        "STATUSES",
        "WEEKDAY_FACTOR",
        "FIRST_NAMES",
        "LAST_NAMES",
        "EMAIL_DOMAINS",
    }
