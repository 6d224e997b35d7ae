"""Bad ``features:`` sections, feature lookups of endpoints and online-store URLs: clear errors
that point at the file, line and key."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from prodml.config.loader import load_platform, load_product
from prodml.config.product import parse_duration
from prodml.errors import ConfigError

PRODUCT = """\
name: core
description: Shared data.
owners:
  - {name: Data Engineering, role: accountable}
features:
  features.customer_features:
    description: Customer features.
    keys: [customer_id]
    timestamp: as_of
    ttl: 2d
    features:
      recency_days: Days since the last order.
      segment: {description: Segment, type: string}
"""


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "products" / "core" / "product.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_product(path, "dev", display="products/core/product.yaml")


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    return str(info.value)


def test_a_feature_table_declaration_loads(tmp_path: Path) -> None:
    config = _load(tmp_path, PRODUCT)
    table = config.features["features.customer_features"]  # type: ignore[attr-defined]
    assert table.keys == ["customer_id"] and table.ttl_delta == timedelta(days=2)
    assert table.features["recency_days"].description == "Days since the last order."
    assert table.features["segment"].type == "string"


@pytest.mark.parametrize(
    ("old", "new", "line", "needle"),
    [
        ("features.customer_features:", "gold.customer_features:", 6, "features.<table>"),
        ("ttl: 2d", "ttl: two days", 10, "'two days' is not a duration"),
        ("keys: [customer_id]", "keys: []", 8, "at least 1 item"),
        ("recency_days: Days", "as_of: Days", 12, "'as_of' is a key or time column"),
        ("    timestamp: as_of\n", "", 6, "timestamp"),
        (
            "segment: {description: Segment, type: string}",
            "segment: {type: string}",
            13,
            "description",
        ),
    ],
)
def test_bad_feature_tables_point_at_the_key(
    tmp_path: Path, old: str, new: str, line: int, needle: str
) -> None:
    assert old in PRODUCT
    message = _error(tmp_path, PRODUCT.replace(old, new))
    assert message.startswith(f"products/core/product.yaml:{line}:"), message
    assert needle in message, message


def test_durations() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("1.5h") == timedelta(minutes=90)
    assert parse_duration("2w") == timedelta(days=14)
    for bad in ("", "7", "7 days", "-1d", "1y"):
        with pytest.raises(ValueError, match="is not a duration"):
            parse_duration(bad)


def test_online_store_urls_are_checked(tmp_path: Path) -> None:
    (tmp_path / "prodml.yaml").write_text("online_store: {url: 'mysql://db/x'}\n")
    with pytest.raises(ConfigError) as info:
        load_platform(tmp_path, None, {})
    assert "online_store.url" in str(info.value) and "redis://" in str(info.value)
    (tmp_path / "prodml.yaml").write_text("online_store: {url: 'redis://127.0.0.1:6379/2'}\n")
    assert load_platform(tmp_path, None, {}).settings.online_store.url == "redis://127.0.0.1:6379/2"


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        (
            "every morning",
            "products/core/product.yaml:15: sla.schedule: 'every morning' is not a cron "
            "expression: it needs 5 fields (minute hour day month weekday), e.g. '0 6 * * *' "
            "for 06:00 every day",
        ),
        (
            "0 25 * * *",
            "products/core/product.yaml:15: sla.schedule: '0 25 * * *': the hour field '25' is "
            "not valid (values 0-23, *, ranges a-b, lists a,b and steps */n)",
        ),
        (
            "0 6 * * funday",
            "products/core/product.yaml:15: sla.schedule: '0 6 * * funday': the weekday field "
            "'funday' is not valid (values 0-7, *, ranges a-b, lists a,b and steps */n)",
        ),
    ],
)
def test_a_schedule_is_a_cron_expression(tmp_path: Path, schedule: str, message: str) -> None:
    """Item 8 of the first-hour issue: a setting that looks active is checked."""
    text = PRODUCT + f"sla:\n  schedule: '{schedule}'\n"
    assert _error(tmp_path, text).startswith(message), _error(tmp_path, text)


@pytest.mark.parametrize("schedule", ["0 6 * * *", "*/15 8-18 * * mon-fri", "30 5 1,15 jan,jul *"])
def test_cron_expressions_that_load(tmp_path: Path, schedule: str) -> None:
    config: Any = _load(tmp_path, PRODUCT + f"sla: {{schedule: '{schedule}'}}\n")
    assert config.sla.schedule == schedule


def test_a_product_compute_profile_is_refused_until_it_is_applied(tmp_path: Path) -> None:
    assert _error(tmp_path, PRODUCT + "compute_profile: big\n").startswith(
        "products/core/product.yaml:14: compute_profile: a product's own compute profile is not "
        "applied yet: remove compute_profile (every run uses the platform's "
        "compute.default_profile)"
    )
