"""The feature store's errors: each derives from the prodml kind that decides its HTTP status,
exit code and whether a retry can help; NotPublishedError keeps the table it is about."""

from __future__ import annotations

import pytest

from prodml.errors import NotFoundError, ProdmlError, UnavailableError, UsageError, http_status
from prodml.features.errors import (
    EntityError,
    FeatureJoinError,
    NotPublishedError,
    OnlineStoreError,
)


@pytest.mark.parametrize(
    ("error", "kind", "status", "retryable"),
    [
        (FeatureJoinError("bad join"), UsageError, 400, False),
        (EntityError(0, " has no key 'id'"), UsageError, 400, False),
        (NotPublishedError("features.x", "not published"), NotFoundError, 404, False),
        (OnlineStoreError("Redis is down"), UnavailableError, 503, True),
    ],
)
def test_each_error_is_of_a_kind(
    error: ProdmlError, kind: type[ProdmlError], status: int, retryable: bool
) -> None:
    assert isinstance(error, kind)
    assert http_status(error) == status
    assert error.retryable is retryable


def test_not_published_keeps_the_table_and_says_how_to_publish() -> None:
    err = NotPublishedError(
        "features.scores",
        "features.scores has not been published to the online store (sqlite)",
        hint="run: prodml features publish features.scores",
    )
    assert (err.kind, err.name) == ("published feature table", "features.scores")
    assert err.message == "features.scores has not been published to the online store (sqlite)"
    assert str(err) == (
        "features.scores has not been published to the online store (sqlite) "
        "(run: prodml features publish features.scores)"
    )
    assert err.exit_code == 2


def test_not_published_without_a_hint_says_nothing_exists_yet() -> None:
    err = NotPublishedError("features.scores", "not published")
    assert err.hint == "no published feature table exists yet"


def test_online_store_error_keeps_its_hint() -> None:
    err = OnlineStoreError("the Redis online store failed: timeout", hint="check online_store.url")
    assert str(err) == "the Redis online store failed: timeout (check online_store.url)"
    with pytest.raises(UnavailableError, match="timeout"):
        raise err
