"""The online feature store: the latest feature values per entity, behind one interface.

Backends (SQLite by default, Redis for shared environments) store opaque records — an encoded
entity key, the event time, the ingestion time and the feature values as JSON — and implement
the one rule that matters for correctness: **a write never replaces a newer event time with an
older one** (equal event times: the later ingestion wins, and an identical value is not
rewritten). Everything else — key encoding, TTL, statuses — lives here, so every backend
behaves the same (``tests/features/test_online_conformance.py`` runs one suite over each).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from prodml.features.errors import OnlineStoreError

#: the value was found and is fresh
PRESENT = "present"
#: no value for this entity
NOT_FOUND = "not_found"
#: a value exists but is older than the table's TTL
EXPIRED = "expired"

#: separates the parts of a composite entity key
KEY_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class Record:
    """One entity's latest features as a backend stores them.

    Attributes:
        key: the encoded entity key (see :func:`encode_key`).
        event_us: event time, microseconds since the epoch (UTC).
        created_us: ingestion time, microseconds since the epoch (0 when unknown).
        values: the features as a JSON object.
    """

    key: str
    event_us: int
    created_us: int
    values: bytes


class OnlineStore(Protocol):
    """A backend: records per table, publish state per table."""

    kind: str

    def write(self, table: str, records: Sequence[Record]) -> int:
        """Upsert ``records``; an older event time never replaces a newer one. Returns the
        number of entities whose record changed."""

    def read(self, table: str, keys: Sequence[str]) -> list[Record | None]:
        """The records of ``keys`` (None where there is none), in order."""

    def get_state(self, table: str) -> dict[str, Any] | None:
        """What was last published to ``table`` (None: never)."""

    def set_state(self, table: str, state: Mapping[str, Any]) -> None:
        """Record what was published."""

    def tables(self) -> list[str]:
        """The tables that have been published."""

    def drop(self, table: str) -> None:
        """Remove a table's records and state."""

    def close(self) -> None:
        """Release connections."""


def online_type(url: str | None) -> str:
    """The online store backend a URL implies (``sqlite`` without one)."""
    if url is None:
        return "sqlite"
    scheme = url.split(":", 1)[0]
    return "redis" if scheme == "rediss" else scheme


def open_store(url: str | None, state_dir: Path, type_: str | None = None) -> OnlineStore:
    """The online store of ``type_`` (default: the one ``url`` implies) at ``url`` (default:
    SQLite in the state dir)."""
    from prodml import backends

    if type_ is None and online_type(url) not in backends.types("online_store"):
        raise OnlineStoreError(
            f"unsupported online store URL {online_type(url)!r}",
            hint="online_store.url: sqlite:///PATH or redis://HOST:PORT/DB (or name a backend "
            "with online_store.type)",
        )
    factory = backends.load("online_store", type_ or online_type(url))
    store: OnlineStore = factory(url, state_dir)
    return store


def encode_key(values: Sequence[Any]) -> str:
    """One entity key as stored: the key values as text, joined."""
    return KEY_SEPARATOR.join(_key_text(v) for v in values)


def _key_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(int(value))
    return str(value)


def coerce_key(value: Any, kind: str, column: str) -> Any:
    """A request's key value as the published key type (``int`` or ``str``)."""
    if value is None:
        raise ValueError(f"key {column!r} is null")
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"key {column!r} must be an integer (got {value!r})")
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"key {column!r} must be an integer (got {value!r})") from None
    if not isinstance(value, str | int):
        raise ValueError(f"key {column!r} must be a string (got {value!r})")
    return str(value)


@dataclass(frozen=True)
class Lookup:
    """One entity's online features: values, a status per feature and the event time."""

    values: dict[str, Any]
    statuses: dict[str, str]
    event_timestamp: datetime | None


def decode(
    records: Sequence[Record | None],
    features: Sequence[str],
    *,
    ttl: timedelta | None,
    now: datetime | None = None,
) -> list[Lookup]:
    """Records as lookups: TTL enforced at ``now`` (expired values come back as None)."""
    import orjson

    now = now or datetime.now(UTC)
    oldest = None if ttl is None else int((now - ttl).timestamp() * 1_000_000)
    out = []
    for record in records:
        if record is None:
            out.append(
                Lookup(
                    dict.fromkeys(features),
                    dict.fromkeys(features, NOT_FOUND),
                    None,
                )
            )
            continue
        event = datetime.fromtimestamp(record.event_us / 1_000_000, UTC)
        if oldest is not None and record.event_us < oldest:
            out.append(Lookup(dict.fromkeys(features), dict.fromkeys(features, EXPIRED), event))
            continue
        stored = orjson.loads(record.values)
        values = {f: stored.get(f) for f in features}
        statuses = {f: PRESENT if f in stored else NOT_FOUND for f in features}
        out.append(Lookup(values, statuses, event))
    return out
