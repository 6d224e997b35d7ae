"""``prodml.catalog.errors``: a metadata store that cannot be used is "unavailable": retryable,
503 over HTTP, exit code 1, with the hint that says what to check."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodml.catalog.errors import MetadataStoreError
from prodml.catalog.store import MetadataStore
from prodml.errors import ProdmlError, UnavailableError, http_status


def test_metadata_store_error_is_an_unavailable_error() -> None:
    err = MetadataStoreError("cannot open the metadata store", hint="check metadata.url")
    assert isinstance(err, UnavailableError) and isinstance(err, ProdmlError)
    assert err.retryable is True
    assert http_status(err) == 503
    assert err.exit_code == 1
    assert str(err) == "cannot open the metadata store (check metadata.url)"


def test_a_store_that_cannot_be_opened_raises_it(tmp_path: Path) -> None:
    # a directory where the SQLite file should be: the database cannot be opened
    (tmp_path / "prodml.db").mkdir()
    with pytest.raises(MetadataStoreError) as info:
        MetadataStore(f"sqlite:///{tmp_path}/prodml.db")
    assert "cannot open the metadata store" in info.value.message
    assert info.value.hint is not None and "metadata.url" in info.value.hint
    assert http_status(info.value) == 503
