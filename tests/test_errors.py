"""``prodml.errors``: the root error, the kinds every domain error derives from, their exit
codes, retryability and HTTP statuses, and the messages (location, hint, did-you-mean)."""

from __future__ import annotations

import pytest

from prodml.errors import (
    HTTP_STATUS,
    AccessDeniedError,
    AuthenticationError,
    ConfigError,
    ConflictError,
    InvalidNameError,
    NotFoundError,
    ProdmlError,
    TooLargeError,
    UnavailableError,
    UnsupportedMediaTypeError,
    UsageError,
    did_you_mean,
    http_status,
)

KINDS: list[type[ProdmlError]] = [
    ConfigError,
    NotFoundError,
    InvalidNameError,
    UsageError,
    AuthenticationError,
    AccessDeniedError,
    ConflictError,
    TooLargeError,
    UnsupportedMediaTypeError,
    UnavailableError,
]


def test_message_and_hint() -> None:
    err = ProdmlError("the run failed", hint="see prodml runs show")
    assert err.message == "the run failed" and err.hint == "see prodml runs show"
    assert str(err) == "the run failed (see prodml runs show)"
    assert err.args == ("the run failed",)
    assert str(ProdmlError("plain")) == "plain"


@pytest.mark.parametrize("cls", KINDS)
def test_every_kind_derives_from_the_root(cls: type[ProdmlError]) -> None:
    assert issubclass(cls, ProdmlError) and issubclass(cls, Exception)


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (ProdmlError, 1),
        (ConfigError, 1),
        (UnavailableError, 1),
        (NotFoundError, 2),
        (InvalidNameError, 2),
        (UsageError, 2),
        (AuthenticationError, 2),
        (ConflictError, 2),
        (TooLargeError, 2),
        (AccessDeniedError, 3),
    ],
)
def test_exit_codes(cls: type[ProdmlError], code: int) -> None:
    assert cls.exit_code == code


def test_only_unavailable_is_retryable() -> None:
    assert [cls.__name__ for cls in KINDS if cls.retryable] == ["UnavailableError"]
    assert ProdmlError.retryable is False
    assert UnavailableError("db down").retryable is True


@pytest.mark.parametrize(
    ("err", "status"),
    [
        (UsageError("bad"), 400),
        (InvalidNameError("bad name"), 400),
        (AuthenticationError("no token"), 401),
        (AccessDeniedError("no"), 403),
        (NotFoundError("table", "x"), 404),
        (ConflictError("exists"), 409),
        (TooLargeError("big"), 413),
        (UnsupportedMediaTypeError("xml"), 415),
        (UnavailableError("later"), 503),
        (ConfigError("bad config"), 500),
        (ProdmlError("unexpected"), 500),
        (ValueError("not ours"), 500),
        (KeyboardInterrupt(), 500),
    ],
)
def test_http_status_of_each_kind(err: BaseException, status: int) -> None:
    assert http_status(err) == status


def test_http_status_follows_the_mro_of_subclasses() -> None:
    class DomainUsage(UsageError):
        pass

    class ConflictingUsage(ConflictError, UsageError):  # the first listed base wins
        pass

    class Mixed(ValueError, AccessDeniedError):
        pass

    assert http_status(DomainUsage("x")) == 400
    assert http_status(ConflictingUsage("x")) == 409
    assert http_status(Mixed("x")) == 403
    # the more specific usage kinds have their own status, not their parent's
    assert issubclass(TooLargeError, UsageError) and http_status(TooLargeError("x")) == 413


def test_http_status_table_covers_the_kinds_a_client_can_cause() -> None:
    assert set(HTTP_STATUS) == set(KINDS) - {ConfigError}
    assert all(400 <= s < 600 for s in HTTP_STATUS.values())


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        (
            {"file": "prodml.yaml", "line": 7, "key": "storage.root"},
            "prodml.yaml:7: storage.root: ",
        ),
        ({"file": "prodml.yaml", "key": "storage.root"}, "prodml.yaml: storage.root: "),
        ({"file": "prodml.yaml"}, "prodml.yaml: "),
        ({"key": "compute.threads"}, "compute.threads: "),
        ({"line": 3}, ""),  # a line alone means nothing without its file
        ({}, ""),
    ],
)
def test_config_error_says_where(kwargs: dict[str, object], text: str) -> None:
    err = ConfigError("must be a number", **kwargs)  # type: ignore[arg-type]
    assert err.message == f"{text}must be a number"
    assert (err.file, err.key, err.line) == (
        kwargs.get("file"),
        kwargs.get("key"),
        kwargs.get("line"),
    )


def test_config_error_hint() -> None:
    err = ConfigError("unknown key 'rooot'", file="p.yaml", line=2, hint="did you mean 'root'?")
    assert str(err) == "p.yaml:2: unknown key 'rooot' (did you mean 'root'?)"


def test_not_found_suggests_the_closest_name() -> None:
    err = NotFoundError("product", "chrun", ["churn", "demand"])
    assert (err.kind, err.name, err.known) == ("product", "chrun", ["churn", "demand"])
    assert err.message == "unknown product 'chrun'"
    assert err.hint == "did you mean 'churn'?"
    assert str(err) == "unknown product 'chrun' (did you mean 'churn'?)"


def test_not_found_lists_the_known_names_when_none_is_close() -> None:
    err = NotFoundError("environment", "qa", {"prod", "dev", "staging"})
    assert err.known == ["dev", "prod", "staging"]  # sorted, from any iterable
    assert err.hint == "known: dev, prod, staging"


def test_not_found_shows_at_most_twelve_known_names() -> None:
    known = [f"table_{i:02d}" for i in range(15)]
    err = NotFoundError("table", "zzz", known)
    assert err.hint == "known: " + ", ".join(known[:12]) + " …"
    assert len(err.known) == 15


def test_not_found_with_nothing_known_says_so() -> None:
    assert NotFoundError("run", "r1").hint == "no run exists yet"


def test_not_found_where_message_and_hint_overrides() -> None:
    err = NotFoundError("table", "gold.x", ["gold.y"], where="catalog dev", hint="run it first")
    assert err.message == "unknown table 'gold.x' in catalog dev"
    assert err.hint == "run it first"
    custom = NotFoundError("model", "clf", message="no version of clf is champion")
    assert str(custom) == "no version of clf is champion (no model exists yet)"


@pytest.mark.parametrize(
    ("name", "candidates", "expected"),
    [
        ("chrun", ["churn", "demand"], "did you mean 'churn'?"),
        ("silvr", ("raw", "bronze", "silver", "gold"), "did you mean 'silver'?"),
        ("dev", ["dev", "devs"], "did you mean 'dev'?"),
        ("xyz", ["churn", "demand"], None),
        ("anything", [], None),
    ],
)
def test_did_you_mean(name: str, candidates: list[str], expected: str | None) -> None:
    assert did_you_mean(name, candidates) == expected


def test_did_you_mean_accepts_any_iterable() -> None:
    assert did_you_mean("prdo", (n for n in ["prod", "dev"])) == "did you mean 'prod'?"
