"""Bearer tokens: only their SHA-256 hashes are configured; checks compare in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

PREFIX = "pml_"


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
