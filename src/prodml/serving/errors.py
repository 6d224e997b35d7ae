"""Errors of serving: request bodies that cannot be scored, and endpoints not ready to score.

Each derives from one of prodml's kinds, which decides its HTTP status (``prodml.errors``).
"""

from __future__ import annotations

from prodml.errors import (
    AccessDeniedError,
    AuthenticationError,
    NotFoundError,
    TooLargeError,
    UnavailableError,
    UnsupportedMediaTypeError,
    UsageError,
)


class PayloadError(UsageError):
    """The request body is wrong (400)."""


class ClientGoneError(PayloadError):
    """The client disconnected before its whole body arrived: nothing was scored (no one is
    there to read the answer; not a server error)."""


class PayloadTooLargeError(TooLargeError):
    """The request holds more bytes or records than the endpoint takes (413)."""


class UnsupportedPayloadError(UnsupportedMediaTypeError):
    """The request body's content type is neither JSON nor CSV (415)."""


class ModelInputError(UsageError):
    """The model rejected the inputs of a request (400)."""


class NotReadyError(UnavailableError):
    """The endpoint cannot score yet (no model loaded) or cannot log (queue full) (503)."""


class NotServedError(NotFoundError):
    """The server serves no endpoint of that product, or no such route (404)."""


class NoTokenError(AuthenticationError):
    """A call without a valid bearer token (401)."""

    def __init__(self) -> None:
        super().__init__("missing or invalid bearer token: send 'Authorization: Bearer <token>'")


class NotAllowedError(AccessDeniedError):
    """A caller the endpoint's grants do not let in (403)."""
