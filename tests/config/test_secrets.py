"""Tests for ``${secret:NAME}`` resolution and redaction of URL passwords."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodml.config import Secrets, redact
from prodml.errors import ConfigError


def secrets_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "secrets.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_resolves_from_the_environment() -> None:
    secrets = Secrets(None, {"PG_PASSWORD": "s3cr3t"})
    url = "postgresql://prodml:${secret:PG_PASSWORD}@db/prodml"
    assert secrets.resolve(url) == "postgresql://prodml:s3cr3t@db/prodml"
    assert secrets.get("PG_PASSWORD") == "s3cr3t"


def test_resolves_from_the_secrets_file(tmp_path: Path) -> None:
    path = secrets_file(tmp_path, "PG_PASSWORD: from-file\nTOKEN: 12345\n")
    secrets = Secrets(path, {})
    assert secrets.resolve("${secret:PG_PASSWORD}/${secret:TOKEN}") == "from-file/12345"


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    path = secrets_file(tmp_path, "PG_PASSWORD: from-file\n")
    assert Secrets(path, {"PG_PASSWORD": "from-env"}).get("PG_PASSWORD") == "from-env"


def test_text_without_references_is_unchanged() -> None:
    text = "sqlite:///x.db ${notasecret:X} $secret:Y"
    assert Secrets(None, {}).resolve(text) == text


def test_missing_secret_names_it_and_leaks_no_other_secret(tmp_path: Path) -> None:
    path = secrets_file(tmp_path, "IN_FILE: file-value-9f2c\n")
    secrets = Secrets(path, {"IN_ENV": "env-value-77ab"})
    with pytest.raises(ConfigError) as info:
        secrets.resolve("a=${secret:IN_ENV} b=${secret:IN_FILE} c=${secret:MISSING}")
    message = str(info.value)
    assert "'MISSING'" in message
    assert "not set" in message
    assert str(path) in message  # says where else it looked
    assert "env-value-77ab" not in message
    assert "file-value-9f2c" not in message


def test_missing_secret_without_a_file() -> None:
    with pytest.raises(ConfigError, match="secret 'NOPE' is not set"):
        Secrets(None, {}).get("NOPE")


def test_absent_secrets_file_is_not_an_error_until_a_secret_is_missing(tmp_path: Path) -> None:
    secrets = Secrets(tmp_path / "nope.yaml", {"A": "1"})
    assert secrets.get("A") == "1"
    with pytest.raises(ConfigError, match="'B'"):
        secrets.get("B")


def test_malformed_secrets_file_does_not_echo_values(tmp_path: Path) -> None:
    path = secrets_file(tmp_path, "GOOD: value-a1b2\nBAD: [unclosed value-c3d4\nX: 1\n")
    with pytest.raises(ConfigError) as info:
        Secrets(path, {}).get("GOOD")
    message = str(info.value)
    assert "invalid YAML" in message
    assert "value-a1b2" not in message
    assert "value-c3d4" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "postgresql+psycopg2://prodml:hunter2@db:5432/x",
            "postgresql+psycopg2://prodml:***@db:5432/x",
        ),
        ("s3://key:secret/with/slash@bucket", "s3://key:***@bucket"),
        ("sqlite:///local.db", "sqlite:///local.db"),
        ("postgresql://prodml@db/x", "postgresql://prodml@db/x"),
        (
            "a postgresql://u:p1@h/x and redis://v:p2@h/0",
            "a postgresql://u:***@h/x and redis://v:***@h/0",
        ),
    ],
)
def test_redact_hides_url_passwords(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redact_hides_a_password_without_user() -> None:
    assert "hunter2" not in redact("redis://:hunter2@cache:6379/0")
