"""Who may call an endpoint, as serving sees it: a guard per endpoint (built by the wiring from
governance's token table and grants; None with ``--no-auth`` on loopback)."""

from __future__ import annotations

from typing import Protocol


class Guard(Protocol):
    """Authenticates callers of one endpoint and decides whether they may call it."""

    def principal(self, authorization: str | None) -> str | None:
        """The caller of an ``Authorization`` header, or None (missing or invalid token)."""

    def permits(self, principal: str, request_id: str | None = None) -> bool:
        """Whether ``principal`` may call the endpoint."""
