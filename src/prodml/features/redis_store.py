"""The Redis online store: one string per entity, ``<ts>:<created>:<json>``.

Reads are one ``MGET`` per request. Writes run a Lua script per chunk, so the never-older rule
is checked and applied atomically on the server, with no read-modify-write race between two
publishers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import orjson

from prodml.features.errors import OnlineStoreError
from prodml.features.online import Record

T = TypeVar("T")

_PREFIX = "prodml:online"
_TABLES = f"{_PREFIX}:tables"
_CHUNK = 2000

# KEYS: entity keys; ARGV: ts, created, value per key. Returns how many changed.
_UPSERT = """
local changed = 0
for i, key in ipairs(KEYS) do
  local ts = tonumber(ARGV[3 * i - 2])
  local created = tonumber(ARGV[3 * i - 1])
  local value = ARGV[3 * i]
  local write = true
  local current = redis.call('GET', key)
  if current then
    local a = string.find(current, ':', 1, true)
    local b = string.find(current, ':', a + 1, true)
    local old_ts = tonumber(string.sub(current, 1, a - 1))
    local old_created = tonumber(string.sub(current, a + 1, b - 1))
    if ts < old_ts then
      write = false
    elseif ts == old_ts then
      write = created >= old_created and string.sub(current, b + 1) ~= value
    end
  end
  if write then
    redis.call('SET', key, ARGV[3 * i - 2] .. ':' .. ARGV[3 * i - 1] .. ':' .. value)
    changed = changed + 1
  end
end
return changed
"""


def _unreachable(method: Callable[..., T]) -> Callable[..., T]:
    """A Redis failure as :class:`OnlineStoreError` (a 503 at the server, not a traceback)."""

    @functools.wraps(method)
    def run(self: RedisStore, *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except self._errors as exc:
            raise OnlineStoreError(
                f"the Redis online store failed: {type(exc).__name__}: {exc}",
                hint="check that Redis is running and online_store.url",
            ) from None

    return run


class RedisStore:
    """Records in Redis (shared by every serving replica of an environment)."""

    kind = "redis"

    def __init__(self, url: str) -> None:
        try:
            import redis
        except ImportError:
            raise OnlineStoreError(
                "the Redis online store needs the redis package",
                hint="pip install 'prodml[redis]'",
            ) from None
        self._errors: tuple[type[Exception], ...] = (redis.RedisError,)
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        try:
            self._client.ping()
        except redis.RedisError as exc:
            raise OnlineStoreError(
                f"cannot reach the Redis online store: {exc}",
                hint="check online_store.url and that Redis is running",
            ) from None
        self._upsert = self._client.register_script(_UPSERT)

    def __repr__(self) -> str:
        kwargs = self._client.connection_pool.connection_kwargs
        return f"RedisStore({kwargs.get('host')}:{kwargs.get('port')}/{kwargs.get('db')})"

    @staticmethod
    def _key(table: str, key: str) -> str:
        return f"{_PREFIX}:{table}:{key}"

    @_unreachable
    def write(self, table: str, records: Sequence[Record]) -> int:
        """Chunks of 2000 through the upsert script."""
        changed = 0
        self._client.sadd(_TABLES, table)
        for start in range(0, len(records), _CHUNK):
            chunk = records[start : start + _CHUNK]
            args: list[Any] = []
            for r in chunk:
                args += [r.event_us, r.created_us, r.values]
            changed += int(self._upsert(keys=[self._key(table, r.key) for r in chunk], args=args))
        return changed

    @_unreachable
    def read(self, table: str, keys: Sequence[str]) -> list[Record | None]:
        """One MGET."""
        if not keys:
            return []
        found = self._client.mget([self._key(table, k) for k in keys])
        out: list[Record | None] = []
        for key, value in zip(keys, found, strict=True):
            if value is None:
                out.append(None)
                continue
            raw = value.encode() if isinstance(value, str) else value
            ts, created, data = raw.split(b":", 2)
            out.append(Record(key, int(ts), int(created), data))
        return out

    @_unreachable
    def get_state(self, table: str) -> dict[str, Any] | None:
        """The state JSON of ``table``."""
        raw = self._client.get(f"{_PREFIX}:state:{table}")
        return orjson.loads(raw) if raw else None

    @_unreachable
    def set_state(self, table: str, state: Mapping[str, Any]) -> None:
        """Replace the state JSON of ``table``."""
        self._client.sadd(_TABLES, table)
        self._client.set(f"{_PREFIX}:state:{table}", orjson.dumps(dict(state)))

    @_unreachable
    def tables(self) -> list[str]:
        """Tables with a publish state."""
        names = [n if isinstance(n, str) else n.decode() for n in self._client.smembers(_TABLES)]
        return sorted(n for n in names if self._client.exists(f"{_PREFIX}:state:{n}"))

    @_unreachable
    def drop(self, table: str) -> None:
        """Remove the records (SCAN + UNLINK) and the state."""
        pattern = f"{_PREFIX}:{table}:*"
        batch: list[bytes] = []
        for key in self._client.scan_iter(match=pattern, count=5000):
            batch.append(key)
            if len(batch) >= 5000:
                self._client.unlink(*batch)
                batch = []
        if batch:
            self._client.unlink(*batch)
        self._client.delete(f"{_PREFIX}:state:{table}")
        self._client.srem(_TABLES, table)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


def open_store(url: str | None, state_dir: Path) -> RedisStore:
    """The ``redis`` online store backend: ``redis://HOST:PORT/DB`` (or ``rediss://``)."""
    if not url:
        raise OnlineStoreError(
            "the redis online store needs online_store.url: redis://HOST:PORT/DB"
        )
    return RedisStore(url)
