"""Who may call an endpoint: bearer tokens from the one token table, and (governance on)
EXECUTE on the endpoint. What serving's ``Guard`` protocol asks, answered by governance."""

from __future__ import annotations

import time

from prodml.governance.authorizer import Where
from prodml.governance.privileges import Securable
from prodml.governance.service import Governance
from prodml.governance.tokens import bearer, token_hash

#: the most token → principal answers kept
_MAX_CACHED = 10_000


class EndpointGuard:
    """Authenticates an endpoint's callers and decides whether they may call it.

    Without governance, the tokens declared for the endpoint (``endpoint.auth.tokens``) are
    accepted. With governance, any valid token is, and its principal needs EXECUTE on the
    endpoint (its declared tokens' names are principals then, and need the grant too).
    Answers are cached for ``ttl`` seconds: a revoked token or grant stops working within that
    time. Every decision that reaches the store is audited.

    Args:
        governance: the platform's governance.
        endpoint: the endpoint's securable (``endpoint <catalog>.<product>``).
        ttl: how long answers are cached.
    """

    def __init__(self, governance: Governance, endpoint: Securable, *, ttl: float = 5.0) -> None:
        self._governance = governance
        self._endpoint = endpoint
        self._ttl = ttl
        self._tokens: dict[str, tuple[float, str | None]] = {}
        self._decisions: dict[str, tuple[float, bool]] = {}

    def principal(self, authorization: str | None) -> str | None:
        """The caller's principal, or None (no token, or an unknown, revoked, expired token,
        or one meant for another endpoint)."""
        token = bearer(authorization)
        if token is None:
            return None
        key = token_hash(token)
        now = time.monotonic()
        cached = self._tokens.get(key)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        found, reason = self._governance.records.authenticate(
            token, str(self._endpoint), scoped_only=not self._governance.enabled
        )
        if found is None:
            self._governance.authorizer.record(
                "anonymous",
                "authenticate",
                self._endpoint,
                outcome="denied",
                reason=reason,
                where=Where(client="http"),
            )
        if len(self._tokens) >= _MAX_CACHED:
            self._tokens.clear()
        self._tokens[key] = (now, found)
        return found

    def permits(self, principal: str, request_id: str | None = None) -> bool:
        """Whether ``principal`` may call the endpoint (governance on: EXECUTE, audited)."""
        if not self._governance.enabled:
            return True  # only the endpoint's own tokens authenticate
        now = time.monotonic()
        cached = self._decisions.get(principal)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        where = Where(request_id=request_id, client="http")
        decision = self._governance.authorizer.audited(principal, "call", self._endpoint, where)
        if decision.allowed:  # only grants are remembered: every refusal is decided and audited
            self._decisions[principal] = (now, True)
        return bool(decision.allowed)
