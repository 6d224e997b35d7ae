"""The root of prodml's exceptions, the kinds of error every domain's errors derive from, the
one mapping from a kind to its HTTP status, and the helpers that make messages actionable.

Each domain keeps its own errors in its ``errors.py``; each of them derives from one of the
kinds here, so an adapter (the CLI's exit codes, the HTTP servers' statuses) decides by kind.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ProdmlError(Exception):
    """Root of every error prodml raises on purpose.

    Attributes:
        hint: what the user can do about it (shown after the message).
        retryable: whether trying again, unchanged, can help.
        traced: whether the traceback is worth showing (the error wraps one raised by the
            user's code); adapters say how to see it.
    """

    retryable: bool = False
    traced: bool = False
    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class ConfigError(ProdmlError):
    """A platform or product configuration is invalid.

    Attributes:
        file: the file that holds the bad value, if any.
        key: the dotted key path, if any.
        line: the 1-based line of the key in ``file``, if known.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        key: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.file = file
        self.key = key
        self.line = line
        where = ""
        if file:
            where = f"{file}:{line}: " if line else f"{file}: "
        if key:
            where += f"{key}: "
        super().__init__(f"{where}{message}", hint=hint)


class NotFoundError(ProdmlError):
    """Something the user named (a product, table, run, environment …) does not exist.

    Attributes:
        kind: what kind of thing was looked up.
        name: the name that was asked for.
        known: the names that do exist.

    ``message`` replaces the default "unknown <kind> '<name>'". ``listed_by`` names the
    command that lists them all, when ``known`` holds only the last few.
    """

    exit_code = 2

    def __init__(
        self,
        kind: str,
        name: str,
        known: Iterable[str] = (),
        *,
        hint: str | None = None,
        where: str | None = None,
        message: str | None = None,
        listed_by: str | None = None,
    ):
        self.kind = kind
        self.name = name
        self.known = sorted(known)
        message = message or f"unknown {kind} {name!r}" + (f" in {where}" if where else "")
        suggestion = did_you_mean(name, self.known)
        if hint is None:
            if suggestion:
                hint = suggestion
            elif self.known and listed_by:
                hint = (
                    f"the last {len(self.known)}: {', '.join(self.known)}; "
                    f"'{listed_by}' lists them all"
                )
            elif self.known:
                shown = ", ".join(self.known[:12]) + (" …" if len(self.known) > 12 else "")
                hint = f"known: {shown}"
            else:
                hint = f"no {kind} exists yet"
        super().__init__(message, hint=hint)


class InvalidNameError(ProdmlError):
    """A table, schema, column or product name is not a valid identifier."""

    exit_code = 2


class UsageError(ProdmlError):
    """The user asked for something that cannot be done as asked (bad values, bad data, …)."""

    exit_code = 2


class AuthenticationError(ProdmlError):
    """A credential (token) is missing, unknown, revoked or expired."""

    exit_code = 2


class AccessDeniedError(ProdmlError):
    """The caller is known but may not do this."""

    exit_code = 3


class ConflictError(ProdmlError):
    """The request conflicts with the current state (something already is as asked, …)."""

    exit_code = 2


class TooLargeError(UsageError):
    """A request is larger than allowed."""


class UnsupportedMediaTypeError(UsageError):
    """A request body comes in a format that is not accepted."""


class UnavailableError(ProdmlError):
    """A service prodml needs is not there or not ready yet; trying again later can help."""

    retryable = True


#: the HTTP status of each kind of error: an error's status is that of the first class of its
#: MRO listed here (500 when none is: prodml did not expect it). Serving and the catalog server
#: both answer with it.
HTTP_STATUS: dict[type[ProdmlError], int] = {
    UsageError: 400,
    InvalidNameError: 400,
    AuthenticationError: 401,
    AccessDeniedError: 403,
    NotFoundError: 404,
    ConflictError: 409,
    TooLargeError: 413,
    UnsupportedMediaTypeError: 415,
    UnavailableError: 503,
}


def http_status(exc: BaseException) -> int:
    """The HTTP status that answers ``exc`` (see :data:`HTTP_STATUS`)."""
    for cls in type(exc).__mro__:
        status = HTTP_STATUS.get(cls)
        if status is not None:
            return status
    return 500


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """Return ``"did you mean 'x'?"`` for the closest candidate, or None if nothing is close."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean {matches[0]!r}?" if matches else None
