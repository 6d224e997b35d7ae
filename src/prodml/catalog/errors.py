"""Errors of the catalog: the metadata store and the gate."""

from __future__ import annotations

from prodml.errors import UnavailableError


class MetadataStoreError(UnavailableError):
    """The metadata database cannot be reached or used."""
