"""The clean simulation behind the retail generator: customers, churn, orders and drift.

Everything here is a pure function of (seed, start, drift_from, day): :class:`Shop` replays
the days from ``start`` so any day can be rebuilt on its own, which is what makes batches
independent of how many days one generator call writes. The generator adds the dirt.
"""

from __future__ import annotations

import hashlib
import math
import random
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate

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
)

LATE_ARRIVAL_RATE = 0.02  # orders (and their lines) whose order_date is 1-2 days before the batch
RESENT_ORDER_RATE = 0.02  # open orders re-sent 1-2 batches later with a newer status

ONE_DAY = timedelta(days=1)
_INITIAL_CUSTOMERS = (480, 520)
_DAILY_SIGNUPS = (8, 15)
_DAILY_UPDATES = (2, 6)
_BASE_ORDERS = 190.0
_TREND_PER_DAY = 0.0015  # slow growth in orders a day
_LINES_PER_ORDER = ((1, 2, 3, 4, 5, 6), (30.0, 28.0, 20.0, 12.0, 6.0, 4.0))  # mean ~2.5
_QUANTITY = ((1, 2, 3, 4, 5), (55.0, 25.0, 12.0, 5.0, 3.0))
_DRIFT_QUANTITY = ((1, 2, 3, 4, 5, 6, 7, 8), (25.0, 25.0, 18.0, 12.0, 8.0, 5.0, 4.0, 3.0))
_DRIFT_PRICE_FACTOR = 1.3
_DRIFT_MOBILE_SHARE = 0.55  # of drifted orders forced to mobile, on top of the usual mix
_CHURN_HAZARD = {"consumer": 1 / 200, "smb": 1 / 400, "enterprise": 1 / 900}  # per day
_CHURN_CHANNEL_FACTOR = {"web": 1.0, "store": 1.5, "mobile": 1.25}
_ORDER_WEIGHT = {"consumer": 1.0, "smb": 2.0, "enterprise": 4.0}
_FADE_DAYS, _FADE_FACTOR = 21, 0.35  # customers order less in the weeks before they churn
_NEXT_STATUS = {
    "placed": ("shipped", "cancelled"),
    "shipped": ("delivered",),
    "delivered": ("returned",),
}

Row = list[str]
Record = dict[str, str | None]


def stream_rng(seed: int, stream: str, key: object) -> random.Random:
    """A ``random.Random`` for one named stream and key, stable across runs and processes.

    Args:
        seed: the generator's seed.
        stream: what the numbers are for, e.g. ``"orders"``.
        key: usually the batch date.

    Returns:
        A generator seeded from a SHA-256 of the three (``hash()`` is salted per process).
    """
    digest = hashlib.sha256(f"{seed}|{stream}|{key}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _picker(table: Sequence[tuple[str, float]]) -> Callable[[random.Random], str]:
    names = [name for name, _ in table]
    cumulative = list(accumulate(weight for _, weight in table))
    return lambda rng: rng.choices(names, cum_weights=cumulative)[0]


def _int_picker(table: tuple[tuple[int, ...], tuple[float, ...]]) -> Callable[[random.Random], int]:
    values, cumulative = table[0], list(accumulate(table[1]))
    return lambda rng: rng.choices(values, cum_weights=cumulative)[0]


_country, _segment, _channel, _status = map(_picker, (COUNTRIES, SEGMENTS, CHANNELS, STATUSES))
_line_count, _quantity, _drift_quantity = map(
    _int_picker, (_LINES_PER_ORDER, _QUANTITY, _DRIFT_QUANTITY)
)
_PRODUCT_INDEXES = range(len(PRODUCTS))
_PRODUCT_CUMULATIVE = list(accumulate(p.popularity for p in PRODUCTS))


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain.lower().replace(" ", "")


def _timestamp(day: date, rng: random.Random) -> str:
    seconds = int(rng.triangular(6 * 3600, 86399, 19 * 3600))  # busiest in the evening
    return f"{day.isoformat()}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z"


@dataclass(slots=True)
class Customer:
    """A customer and their latent behaviour (only ``record()`` reaches the files)."""

    customer_id: str
    name: str
    email: str
    country: str
    segment: str
    signup_date: date
    updated_at: str
    channel: str  # preferred channel
    weight: float  # how often they order, relative to others
    churn_date: date  # orders nothing from this day on

    def record(self) -> Record:
        """The customer as a ``customers.json`` object."""
        return {
            "customer_id": self.customer_id,
            "name": self.name,
            "email": self.email,
            "country": self.country,
            "segment": self.segment,
            "signup_date": self.signup_date.isoformat(),
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class Order:
    """One real order, clean, with its lines and whether the source re-sends it later."""

    row: tuple[str, ...]  # orders.csv row
    lines: tuple[tuple[str, ...], ...]  # order_lines.csv rows
    resend_after: int  # 0, or re-sent this many batches later …
    resend_status: str  # … with this status


class Shop:
    """The clean state of the shop on any day, built by replaying days from ``start``."""

    def __init__(self, seed: int, start: date, drift_from: date | None) -> None:
        self.seed, self.start, self.drift_from = seed, start, drift_from
        self.customers: list[Customer] = []
        self._signed_up: dict[date, int] = {}  # customers signed up by the end of a day
        self._customer_rows: dict[date, list[Record]] = {}
        self._built_to = start - ONE_DAY
        self._active: dict[date, tuple[list[int], list[float]]] = {}
        self._offsets: dict[date, int] = {}
        self._offset_to, self._running = start, 0
        self._orders: dict[date, list[Order]] = {}

    def drifted(self, day: date) -> bool:
        """Whether batch ``day`` is drifted."""
        return self.drift_from is not None and day >= self.drift_from

    def customer_rows(self, day: date) -> list[Record]:
        """Clean ``customers.json`` objects of batch ``day``: sign-ups and updates."""
        self._extend(day)
        return [dict(row) for row in self._customer_rows[day]]

    def order_rows(self, day: date) -> list[Row]:
        """Clean ``orders.csv`` rows of batch ``day``, re-sent orders of earlier batches last."""
        rows = [list(order.row) for order in self.orders(day)]
        for back in (1, 2):
            earlier = day - timedelta(days=back)
            if earlier < self.start:
                break
            for order in self.orders(earlier):
                if order.resend_after == back:
                    rows.append([*order.row[:5], order.resend_status, *order.row[6:]])
        return rows

    def line_rows(self, day: date) -> list[Row]:
        """Clean ``order_lines.csv`` rows of batch ``day``."""
        return [list(line) for order in self.orders(day) for line in order.lines]

    def orders(self, day: date) -> list[Order]:
        """The real orders first sent in batch ``day``, clean."""
        if day not in self._orders:
            self._extend(day)
            rng = stream_rng(self.seed, "orders", day)
            first_id = self._offset(day) + 1
            max_late = min(2, (day - self.start).days)
            self._orders[day] = [
                self._order(f"O{first_id + i:08d}", day, max_late, rng)
                for i in range(self._count(day))
            ]
        return self._orders[day]

    def _order(self, order_id: str, day: date, max_late: int, rng: random.Random) -> Order:
        late = rng.randint(1, max_late) if max_late and rng.random() < LATE_ARRIVAL_RATE else 0
        order_date = day - timedelta(days=late)
        numbers, cumulative = self._active_on(order_date)
        customer = self.customers[rng.choices(numbers, cum_weights=cumulative)[0]]
        drifted = self.drifted(day)
        if drifted and rng.random() < _DRIFT_MOBILE_SHARE:
            channel = "mobile"
        else:
            channel = customer.channel if rng.random() < 0.7 else _channel(rng)
        status, iso_date = _status(rng), order_date.isoformat()
        ts = _timestamp(order_date, rng)
        row = (order_id, customer.customer_id, iso_date, ts, channel, status, "EUR")
        picks = rng.choices(_PRODUCT_INDEXES, cum_weights=_PRODUCT_CUMULATIVE, k=_line_count(rng))
        lines = []
        for line_no, index in enumerate(dict.fromkeys(picks), start=1):
            product = PRODUCTS[index]
            if drifted:
                quantity = _drift_quantity(rng)
                price = product.base_price * _DRIFT_PRICE_FACTOR * max(0.3, rng.gauss(1, 0.15))
            else:
                quantity = _quantity(rng)
                promo = 0.85 if rng.random() < 0.05 else 1.0
                price = product.base_price * max(0.5, rng.gauss(1, 0.04)) * promo
            line = (order_id, str(line_no), iso_date, product.product_id, str(quantity))
            lines.append((*line, f"{price:.2f}"))
        resend_after, resend_status = 0, ""
        if status in _NEXT_STATUS and late < 2 and rng.random() < RESENT_ORDER_RATE:
            resend_after = rng.randint(1, 2 - late)  # keeps every order_date within 2 days
            resend_status = rng.choice(_NEXT_STATUS[status])
        return Order(row, tuple(lines), resend_after, resend_status)

    def _extend(self, until: date) -> None:
        while self._built_to < until:
            day = self._built_to + ONE_DAY
            rows: list[Record] = []
            if day == self.start:
                rng = stream_rng(self.seed, "population", day)
                size = rng.randint(*_INITIAL_CUSTOMERS)
                ages = sorted((rng.randint(0, 729) for _ in range(size)), reverse=True)
                rows = [self._sign_up(day - timedelta(days=age), rng) for age in ages]
            else:
                rng = stream_rng(self.seed, "customer_updates", day)
                known = len(self.customers)
                for number in rng.sample(range(known), min(known, rng.randint(*_DAILY_UPDATES))):
                    rows.append(self._update(self.customers[number], day, rng))
                rng = stream_rng(self.seed, "signups", day)
                rows += [self._sign_up(day, rng) for _ in range(rng.randint(*_DAILY_SIGNUPS))]
            self._customer_rows[day] = rows
            self._signed_up[day] = len(self.customers)
            self._built_to = day

    def _sign_up(self, signup: date, day_rng: random.Random) -> Record:
        number = len(self.customers) + 1
        rng = stream_rng(self.seed, "customer", number)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{_ascii(first)}.{_ascii(last)}{rng.randint(1, 999)}@{rng.choice(EMAIL_DOMAINS)}"
        segment, channel = _segment(rng), _channel(rng)
        hazard = _CHURN_HAZARD[segment] * _CHURN_CHANNEL_FACTOR[channel]
        # Exponential lifetimes are memoryless, so counting from ``start`` is fair for the
        # initial population too.
        born = max(signup, self.start)
        lifetime = min(max(1, math.ceil(rng.expovariate(hazard))), (date.max - born).days)
        customer = Customer(
            customer_id=f"C{number:06d}",
            name=f"{first} {last}",
            email=email,
            country=_country(rng),
            segment=segment,
            signup_date=signup,
            updated_at=_timestamp(signup, day_rng),
            channel=channel,
            weight=rng.lognormvariate(0.0, 0.8) * _ORDER_WEIGHT[segment],
            churn_date=born + timedelta(days=lifetime),
        )
        self.customers.append(customer)
        return customer.record()

    @staticmethod
    def _update(customer: Customer, day: date, rng: random.Random) -> Record:
        kind = rng.random()  # mostly new emails; now and then a reclassified segment
        if kind < 0.8:
            local = customer.email.split("@")[0].rstrip("0123456789")
            customer.email = f"{local}{rng.randint(1, 999)}@{rng.choice(EMAIL_DOMAINS)}"
        if kind > 0.7:
            customer.segment = rng.choice([s for s, _ in SEGMENTS if s != customer.segment])
        customer.updated_at = _timestamp(day, rng)
        return customer.record()

    def _active_on(self, day: date) -> tuple[list[int], list[float]]:
        if day not in self._active:
            numbers: list[int] = []
            weights: list[float] = []
            for number in range(self._signed_up[day]):
                customer = self.customers[number]
                left = (customer.churn_date - day).days
                if left > 0:
                    numbers.append(number)
                    weights.append(customer.weight * (_FADE_FACTOR if left <= _FADE_DAYS else 1))
            if not numbers:  # everyone churned: keep the shop open with whoever signed up
                numbers, weights = list(range(self._signed_up[day])), [1.0] * self._signed_up[day]
            self._active[day] = (numbers, list(accumulate(weights)))
        return self._active[day]

    def _count(self, day: date) -> int:
        rng = stream_rng(self.seed, "order_count", day)
        trend = 1 + _TREND_PER_DAY * (day - self.start).days
        expected = _BASE_ORDERS * WEEKDAY_FACTOR[day.weekday()] * trend
        return max(1, round(expected * rng.gauss(1, 0.07)))

    def _offset(self, day: date) -> int:
        # Order ids run on across batches, so sum the counts of every earlier batch.
        while self._offset_to <= day:
            self._offsets[self._offset_to] = self._running
            self._running += self._count(self._offset_to)
            self._offset_to += ONE_DAY
        return self._offsets[day]
