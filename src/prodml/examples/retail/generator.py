"""A deterministic generator of dirty daily retail batches: customers, orders and order lines.

Each batch date gets one file per entity in a hive-style partition of the landing directory::

    <landing>/customers/batch_date=2024-01-01/customers.json      JSON lines
    <landing>/orders/batch_date=2024-01-01/orders.csv             CSV with header
    <landing>/order_lines/batch_date=2024-01-01/order_lines.csv   CSV with header

``<landing>/_generator.json`` records the seed, the start date and the first drifted date.

Determinism: batch D depends only on the seed, the start date, D and the manifest's
``drift_from`` — never on how many days one call wrote — so ``generate(days=5)`` and
``generate(days=3)`` followed by ``add_days(2)`` write byte-identical files. Every random
choice comes from a ``random.Random`` seeded with a SHA-256 of (seed, stream, date). The clean
simulation lives in :mod:`prodml.examples.retail.shop`; this module adds the dirt and the files.

Dirt (rates are the ``*_RATE`` constants below; the source is as messy as a real export):
exact duplicate rows within a file; orders re-sent one or two batches later with a newer
status (the later batch must win a merge by key); late rows whose order_date is one or two
days before the batch date (never before ``start``); empty customer_id, channel and
quantity, null email; zero or negative quantity, unit_price ``N/A`` or empty, malformed
order_date, unknown or lower-case country codes, emails without ``@``, status ``unknown``.

Drift: from ``drift_from`` on, these columns shift and no others do (see ``DRIFTED_COLUMNS``):
``order_lines.unit_price`` (x1.3 with a wider spread), ``order_lines.quantity`` (a heavier
tail) and ``orders.channel`` (strongly toward ``mobile``). Country, segment, status, order
volume and lines per order keep their distributions.

Churn: each customer has a latent churn propensity from their segment and preferred channel;
after a random churn date they stop ordering (and order less in the three weeks before), so
"no orders in the last 30 days" is learnable from recency, frequency and monetary features.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

from prodml.errors import UsageError
from prodml.examples.retail.shop import (
    LATE_ARRIVAL_RATE,
    ONE_DAY,
    RESENT_ORDER_RATE,
    Record,
    Row,
    Shop,
    stream_rng,
)

__all__ = [
    "BAD_COUNTRY_RATE",
    "BAD_DATE_RATE",
    "BAD_EMAIL_RATE",
    "BAD_PRICE_RATE",
    "BAD_QUANTITY_RATE",
    "COLUMNS",
    "DEFAULT_SEED",
    "DEFAULT_START",
    "DRIFTED_COLUMNS",
    "DUPLICATE_ROW_RATE",
    "ENTITIES",
    "FILE_NAMES",
    "LATE_ARRIVAL_RATE",
    "MANIFEST_NAME",
    "NULL_CHANNEL_RATE",
    "NULL_CUSTOMER_ID_RATE",
    "NULL_EMAIL_RATE",
    "NULL_QUANTITY_RATE",
    "RESENT_ORDER_RATE",
    "UNKNOWN_STATUS_RATE",
    "add_days",
    "batch_dates",
    "generate",
]

logger = logging.getLogger(__name__)

DEFAULT_START = date(2024, 1, 1)
DEFAULT_SEED = 7
ENTITIES = ("customers", "orders", "order_lines")
MANIFEST_NAME = "_generator.json"
FILE_NAMES = {
    "customers": "customers.json",
    "orders": "orders.csv",
    "order_lines": "order_lines.csv",
}
COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": (
        "customer_id", "name", "email", "country", "segment", "signup_date", "updated_at",
    ),
    "orders": (
        "order_id", "customer_id", "order_date", "order_ts", "channel", "status", "currency",
    ),
    "order_lines": ("order_id", "line_no", "order_date", "product_id", "quantity", "unit_price"),
}  # fmt: skip
DRIFTED_COLUMNS: dict[str, tuple[str, ...]] = {
    "orders": ("channel",),
    "order_lines": ("quantity", "unit_price"),
}

# Dirt, as a share of the rows of the file it applies to.
DUPLICATE_ROW_RATE = 0.01  # every file: a row repeated exactly, a few rows later
NULL_CUSTOMER_ID_RATE = 0.01  # orders.customer_id empty
NULL_CHANNEL_RATE = 0.01  # orders.channel empty
NULL_EMAIL_RATE = 0.02  # customers.email null
NULL_QUANTITY_RATE = 0.01  # order_lines.quantity empty
BAD_QUANTITY_RATE = 0.01  # order_lines.quantity zero or negative
BAD_PRICE_RATE = 0.01  # order_lines.unit_price "N/A" or empty
BAD_DATE_RATE = 0.005  # orders/order_lines.order_date "2024-13-45" or "not-a-date"
BAD_COUNTRY_RATE = 0.02  # customers.country "XX" or lower case
BAD_EMAIL_RATE = 0.015  # customers.email without "@"
UNKNOWN_STATUS_RATE = 0.01  # orders.status "unknown"

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class _Manifest:
    seed: int
    start: date
    drift_from: date | None

    def drifted(self, day: date) -> bool:
        return self.drift_from is not None and day >= self.drift_from


def _with_duplicates(rows: list[_T], rng: random.Random) -> list[_T]:
    later: dict[int, list[_T]] = {}
    for i, row in enumerate(rows):
        if rng.random() < DUPLICATE_ROW_RATE:
            later.setdefault(min(len(rows) - 1, i + rng.randint(0, 20)), []).append(row)
    out: list[_T] = []
    for i, row in enumerate(rows):
        out.append(row)
        out.extend(later.get(i, ()))
    return out


def _bad_date(day: date, rng: random.Random) -> str:
    return rng.choice((f"{day.year}-13-45", "not-a-date"))


def _dirty_customers(rows: list[Record], rng: random.Random) -> list[Record]:
    for row in rows:
        if rng.random() < NULL_EMAIL_RATE:
            row["email"] = None
        elif rng.random() < BAD_EMAIL_RATE:
            row["email"] = (row["email"] or "").replace("@", rng.choice(("", " at ", "#")))
        if rng.random() < BAD_COUNTRY_RATE:
            row["country"] = rng.choice(("XX", (row["country"] or "").lower()))
    return _with_duplicates(rows, rng)


def _dirty_orders(rows: list[Row], day: date, rng: random.Random) -> list[Row]:
    for row in rows:
        if rng.random() < NULL_CUSTOMER_ID_RATE:
            row[1] = ""
        if rng.random() < BAD_DATE_RATE:
            row[2] = _bad_date(day, rng)
        if rng.random() < NULL_CHANNEL_RATE:
            row[4] = ""
        if rng.random() < UNKNOWN_STATUS_RATE:
            row[5] = "unknown"
    return _with_duplicates(rows, rng)


def _dirty_lines(rows: list[Row], day: date, rng: random.Random) -> list[Row]:
    for row in rows:
        if rng.random() < BAD_DATE_RATE:
            row[2] = _bad_date(day, rng)
        if rng.random() < NULL_QUANTITY_RATE:
            row[4] = ""
        elif rng.random() < BAD_QUANTITY_RATE:
            row[4] = str(-rng.randint(0, 3))
        if rng.random() < BAD_PRICE_RATE:
            row[5] = rng.choice(("N/A", ""))
    return _with_duplicates(rows, rng)


def _csv(columns: Sequence[str], rows: list[Row]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _json_lines(rows: list[Record]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()


def _atomic_write(path: Path, data: bytes) -> None:
    # A temp name in the same directory, then a rename: a killed run never leaves half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temp.write_bytes(data)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _batch_path(landing: Path, entity: str, day: date) -> Path:
    return landing / entity / f"batch_date={day.isoformat()}" / FILE_NAMES[entity]


def _write_batches(landing: Path, manifest: _Manifest, days: list[date]) -> None:
    shop = Shop(manifest.seed, manifest.start, manifest.drift_from)
    seed = manifest.seed
    for day in days:
        customers = _dirty_customers(
            shop.customer_rows(day), stream_rng(seed, "customers.dirt", day)
        )
        orders = _dirty_orders(shop.order_rows(day), day, stream_rng(seed, "orders.dirt", day))
        lines = _dirty_lines(shop.line_rows(day), day, stream_rng(seed, "order_lines.dirt", day))
        _atomic_write(_batch_path(landing, "customers", day), _json_lines(customers))
        _atomic_write(_batch_path(landing, "orders", day), _csv(COLUMNS["orders"], orders))
        _atomic_write(_batch_path(landing, "order_lines", day), _csv(COLUMNS["order_lines"], lines))
        logger.debug("wrote retail batch %s (%d orders, %d lines)", day, len(orders), len(lines))


def _read_manifest(landing: Path) -> _Manifest | None:
    path = landing / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        drift_from = raw["drift_from"]
        return _Manifest(
            seed=int(raw["seed"]),
            start=date.fromisoformat(raw["start"]),
            drift_from=None if drift_from is None else date.fromisoformat(drift_from),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(
            f"{path} is not a valid generator manifest ({exc})",
            hint="remove the landing directory and generate it again",
        ) from exc


def _write_manifest(landing: Path, manifest: _Manifest) -> None:
    drift_from = manifest.drift_from.isoformat() if manifest.drift_from else None
    raw = {"seed": manifest.seed, "start": manifest.start.isoformat(), "drift_from": drift_from}
    _atomic_write(landing / MANIFEST_NAME, (json.dumps(raw, indent=2) + "\n").encode())


def _check_days(days: int) -> None:
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise UsageError(
            f"days must be a whole number of 1 or more, got {days!r}",
            hint="ask for at least one day",
        )


def _check_landing(landing: Path) -> None:
    if landing.exists() and not landing.is_dir():
        raise UsageError(f"landing directory {landing} is a file", hint="pass a directory path")


def _dates(first: date, days: int) -> list[date]:
    try:
        (first + timedelta(days=days)).isoformat()
    except OverflowError:
        raise UsageError(
            f"{days} days from {first} run past the year 9999", hint="ask for fewer days"
        ) from None
    return [first + timedelta(days=i) for i in range(days)]


def generate(
    landing_dir: Path,
    *,
    days: int,
    start: date = DEFAULT_START,
    seed: int = DEFAULT_SEED,
    drift: bool = False,
) -> list[date]:
    """Write ``days`` daily batches starting at ``start`` (creates ``landing_dir``).

    Writing into a landing directory this generator made before, with the same seed and
    start, rewrites those batches with identical content (drift, once on, stays on).

    Args:
        landing_dir: where the partitions and the ``_generator.json`` manifest go.
        days: how many daily batches to write (1 or more).
        start: the first batch date; the initial customer population signs up by then.
        seed: the seed every random choice derives from.
        drift: shift prices, quantities and channels in every batch written (``drift_from``
            becomes ``start``).

    Returns:
        The batch dates written, in order.

    Raises:
        UsageError: ``days`` < 1, ``start`` is not a date, or ``landing_dir`` is a file,
            holds batches the generator did not write, or was generated with another seed
            or start.
    """
    _check_days(days)
    if isinstance(start, str):
        raise UsageError(
            f"start must be a date, got the string {start!r}",
            hint=f"pass date.fromisoformat({start!r})",
        )
    if type(start) is not date:
        raise UsageError(
            f"start must be a datetime.date, got {start!r}",
            hint="pass a date such as date(2024, 1, 1)",
        )
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise UsageError(f"seed must be an integer, got {seed!r}", hint=f"pass seed={DEFAULT_SEED}")
    landing = Path(landing_dir)
    _check_landing(landing)
    batches = _dates(start, days)
    old = _read_manifest(landing)
    existing = batch_dates(landing)
    if old is None and existing:
        raise UsageError(
            f"{landing} already holds batches but no {MANIFEST_NAME}",
            hint="generate into an empty directory",
        )
    if old is not None and (old.seed, old.start) != (seed, start):
        raise UsageError(
            f"{landing} was generated with seed={old.seed}, start={old.start}; "
            f"asked for seed={seed}, start={start}",
            hint=f"continue it with add_days(), pass seed={old.seed}, start={old.start}, "
            "or use another landing directory",
        )
    drift_from = old.drift_from if old else None
    if drift:
        drift_from = start if drift_from is None else min(drift_from, start)
    manifest = _Manifest(seed, start, drift_from)
    if old is not None:
        stale = [d for d in existing if d not in batches and old.drifted(d) != manifest.drifted(d)]
        if stale:
            raise UsageError(
                f"drift from {start} would contradict batches already in {landing} ({stale[0]} …)",
                hint="generate the drifted run into a fresh landing directory",
            )
    _write_manifest(landing, manifest)
    _write_batches(landing, manifest, batches)
    return batches


def add_days(landing_dir: Path, days: int = 1, *, drift: bool = False) -> list[date]:
    """Continue a landing directory with the next ``days`` batches after the last one present.

    The seed and start come from the directory's manifest, so the new batches are exactly
    what one longer ``generate()`` call would have written.

    Args:
        landing_dir: a directory written by ``generate()``.
        days: how many batches to add (1 or more).
        drift: switch drift on from the first added batch (no effect if it is already on;
            drift, once on, stays on).

    Returns:
        The batch dates written, in order.

    Raises:
        UsageError: ``days`` < 1 or ``landing_dir`` holds no generator manifest.
    """
    _check_days(days)
    landing = Path(landing_dir)
    _check_landing(landing)
    manifest = _read_manifest(landing)
    if manifest is None:
        raise UsageError(
            f"{landing} holds no {MANIFEST_NAME}, so there is nothing to continue",
            hint="create it first with generate(landing_dir, days=N)",
        )
    present = batch_dates(landing)
    batches = _dates(present[-1] + ONE_DAY if present else manifest.start, days)
    if drift and manifest.drift_from is None:
        manifest = replace(manifest, drift_from=batches[0])
        _write_manifest(landing, manifest)
    _write_batches(landing, manifest, batches)
    return batches


def batch_dates(landing_dir: Path) -> list[date]:
    """Batch dates present in ``landing_dir``, sorted.

    A batch counts only once all its entity files exist, so a run killed half-way through a
    batch leaves that batch to be written again by ``add_days()``.

    Args:
        landing_dir: a landing directory (it need not exist).

    Returns:
        The complete batch dates, oldest first.
    """
    landing = Path(landing_dir)
    complete: set[date] | None = None
    for entity in ENTITIES:
        found = set()
        for path in landing.glob(f"{entity}/batch_date=*/{FILE_NAMES[entity]}"):
            try:
                found.add(date.fromisoformat(path.parent.name.removeprefix("batch_date=")))
            except ValueError:
                continue
        complete = found if complete is None else complete & found
    return sorted(complete or ())
