"""The one token system: bearer tokens, kept only as SHA-256 hashes, found by their hash.

A token prodml makes is ``pdml_<id>_<secret>``: the id names it in listings and revocations.
Tokens are issued to principals (``prodml principals token new``) or declared for an endpoint in
product.yaml (``endpoint.auth.tokens``: a name and the hash ``prodml tokens new`` prints); the
declared ones are kept in the same table, limited to their endpoint (``scope``), when the
endpoint is served. Any token whose hash is known works, whatever its format.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "pdml_"


def new_token() -> tuple[str, str]:
    """A fresh token and its id: ``(id, "pdml_<id>_<secret>")`` (shown once; keep the hash)."""
    token_id = secrets.token_hex(6)
    return token_id, f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    """The SHA-256 hex digest of a token: what is stored and what product.yaml declares."""
    return hashlib.sha256(token.encode()).hexdigest()


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (None: none sent)."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def declared_id(sha256: str) -> str:
    """The id of a token declared by its hash (product.yaml): the start of the hash."""
    return sha256[:12]
