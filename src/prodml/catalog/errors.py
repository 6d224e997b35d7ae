"""Errors of the catalog: the metadata store and the gate."""

from __future__ import annotations

from prodml.errors import ConflictError, UnavailableError, UsageError


class MetadataStoreError(UnavailableError):
    """The metadata database cannot be reached or used."""


class AlreadyExistsError(ConflictError):
    """A catalog, schema or table of that name exists already."""

    error_code = "ALREADY_EXISTS"


class NotEmptyError(UsageError):
    """A catalog or schema still holds schemas or tables (drop them, or force)."""

    error_code = "FAILED_PRECONDITION"
