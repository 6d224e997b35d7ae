"""Bearer tokens: only their SHA-256 hashes are configured; checks compare in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from typing import Any

PREFIX = "pml_"
#: the most token → principal answers kept by GovernanceCheck
_MAX_CACHED = 10_000


def new_token() -> str:
    """A fresh random token (shown once; configure its hash)."""
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The SHA-256 hex digest stored in configuration."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenCheck:
    """Accepts a request whose ``Authorization: Bearer`` token hashes to a configured hash."""

    def __init__(self, hashes: Iterable[tuple[str, str]]) -> None:
        self._hashes = [(name, bytes.fromhex(h)) for name, h in hashes]

    def __bool__(self) -> bool:
        return bool(self._hashes)

    def principal(self, authorization: str | None) -> str | None:
        """The token's name, or None when the header is missing or no token matches."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        digest = hashlib.sha256(token.strip().encode()).digest()
        found = None
        for name, expected in self._hashes:  # compare with all: timing says nothing of which
            if hmac.compare_digest(digest, expected):
                found = name
        return found


class GovernanceCheck:
    """Bearer tokens of the platform's principals, and EXECUTE on the endpoint (governance on).

    Token lookups and decisions are cached for ``ttl`` seconds: a revoked token or grant stops
    working within that time. Every decision that reaches the store is audited.
    """

    def __init__(self, governance: Any, endpoint: Any, *, ttl: float = 5.0) -> None:
        self._governance = governance
        self._endpoint = endpoint  # the endpoint's securable
        self._ttl = ttl
        self._tokens: dict[str, tuple[float, str | None]] = {}
        self._decisions: dict[str, tuple[float, bool]] = {}

    def __bool__(self) -> bool:
        return True

    def principal(self, authorization: str | None) -> str | None:
        """The token's principal, or None (missing, unknown, revoked or expired)."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        key = token_hash(token)
        now = time.monotonic()
        cached = self._tokens.get(key)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        found, reason = self._governance.records.authenticate(token)
        if found is None:
            self._governance.authorizer.record(
                "anonymous",
                "authenticate",
                self._endpoint,
                outcome="denied",
                reason=reason,
                client="http",
            )
        self._tokens[key] = (now, found)
        return None if found is None else str(found)

    def permits(self, principal: str, request_id: str | None = None) -> bool:
        """Whether ``principal`` holds EXECUTE on the endpoint (audited)."""
        now = time.monotonic()
        cached = self._decisions.get(principal)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        decision = self._governance.authorizer.decide(principal, "call", self._endpoint)
        self._governance.authorizer.record(
            principal,
            "call",
            self._endpoint,
            outcome="allowed" if decision.allowed else "denied",
            privilege=decision.missing,
            reason=decision.reason,
            request_id=request_id,
            client="http",
        )
        self._decisions[principal] = (now, decision.allowed)
        return bool(decision.allowed)
