"""The one token format, its hash, and reading a bearer header."""

from __future__ import annotations

import hashlib

import pytest

from prodml.governance.tokens import PREFIX, bearer, declared_id, new_token, token_hash


def test_a_new_token_names_its_id_and_is_never_repeated() -> None:
    token_id, token = new_token()
    assert token.startswith(f"{PREFIX}{token_id}_") and len(token_id) == 12
    assert len(token) > 50 and new_token()[1] != token
    assert token_hash(token) == hashlib.sha256(token.encode()).hexdigest()
    assert declared_id(token_hash(token)) == token_hash(token)[:12]


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        (None, None),
        ("", None),
        ("Bearer", None),
        ("Bearer   ", None),
        ("Basic abc", None),
        ("abc", None),
    ],
)
def test_bearer_headers(header: str | None, token: str | None) -> None:
    assert bearer(header) == token
