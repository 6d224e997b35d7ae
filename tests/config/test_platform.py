"""``prodml.config.platform``: the closed, frozen models of ``prodml.yaml`` validated directly
(defaults, names, patterns and bounds, and the key each model-level error points at)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from prodml.config.platform import (
    ENV_ONLY_KEYS,
    PLATFORM_ONLY_KEYS,
    AtKey,
    ComputeConfig,
    ComputeProfile,
    EnvironmentSettings,
    GovernanceConfig,
    GrantDecl,
    OnlineStoreConfig,
    OpenLineageConfig,
    OwnerDecl,
    PlatformFile,
    StorageConfig,
    UserDecl,
    check_name,
)


def first_error(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """The first pydantic error of validating ``data`` as ``model``."""
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return dict(info.value.errors()[0])


@pytest.mark.parametrize("name", ["dev", "prod_eu", "a", "x" + "1" * 62])
def test_check_name_accepts_lower_case_identifiers(name: str) -> None:
    assert check_name(name, "environment name") == name


@pytest.mark.parametrize("name", ["Dev", "1dev", "_dev", "dev-eu", "", "x" * 64, "dév"])
def test_check_name_rejects_others_and_says_what_is_allowed(name: str) -> None:
    with pytest.raises(ValueError) as info:
        check_name(name, "catalog")
    message = str(info.value)
    assert message.startswith(f"catalog {name!r} must start with a lower-case letter")
    assert "a-z, 0-9 and _" in message


def test_at_key_is_a_value_error_that_keeps_its_path() -> None:
    err = AtKey(("url",), "bad url")
    assert isinstance(err, ValueError)
    assert err.path == ("url",) and str(err) == "bad url"


def test_environment_settings_defaults() -> None:
    env = EnvironmentSettings(name="dev", catalog="dev")
    assert (env.state_dir, env.landing_dir, env.products_dir) == (".prodml", "landing", "products")
    assert env.storage == StorageConfig(root="data", options={})
    assert env.metadata.url is None and env.metadata.type is None
    assert env.tracking.type == "mlflow" and env.tracking.uri is None
    assert env.online_store.url is None and env.openlineage is None
    assert env.compute.default_profile == "default"
    assert env.profile() == ComputeProfile()
    assert env.profile().engine == "duckdb" and env.profile().max_workers == 1


def test_profile_is_the_named_default_profile() -> None:
    big = {"engine": "duckdb", "threads": 8, "memory_limit": "4GB"}
    env = EnvironmentSettings.model_validate(
        {
            "name": "prod",
            "catalog": "production",
            "compute": {"default_profile": "big", "profiles": {"big": big}},
        }
    )
    assert env.profile().threads == 8 and env.profile().memory_limit == "4GB"


def test_a_default_profile_that_is_not_declared_is_refused() -> None:
    """Item 8 of the first-hour issue: it fell back to defaults silently before."""
    with pytest.raises(ValidationError) as info:
        ComputeConfig(default_profile="missing", profiles={"other": ComputeProfile(threads=2)})
    (error,) = info.value.errors()
    assert str(error["ctx"]["error"]) == "'missing' is not one of the profiles (profiles: other)"


@pytest.mark.parametrize("field", ["name", "catalog"])
def test_environment_and_catalog_names_are_checked(field: str) -> None:
    data = {"name": "dev", "catalog": "dev", field: "Prod-EU"}
    error = first_error(EnvironmentSettings, data)
    assert error["loc"] == (field,)
    assert "'Prod-EU' must start with a lower-case letter" in error["msg"]


def test_models_are_closed_unknown_keys_fail() -> None:
    error = first_error(StorageConfig, {"root": "data", "rooot": "x"})
    assert error["type"] == "extra_forbidden" and error["loc"] == ("rooot",)


def test_models_are_frozen() -> None:
    storage = StorageConfig()
    with pytest.raises(ValidationError, match="frozen"):
        storage.root = "elsewhere"  # type: ignore[misc]


@pytest.mark.parametrize(
    "url", ["sqlite:///state/online.db", "redis://127.0.0.1:6379/0", "rediss://cache:6380/1"]
)
def test_online_store_accepts_sqlite_and_redis_urls(url: str) -> None:
    assert OnlineStoreConfig(url=url).url == url


def test_online_store_other_scheme_points_at_url_and_names_the_fix() -> None:
    error = first_error(OnlineStoreConfig, {"url": "mysql://db/features"})
    keyed = error["ctx"]["error"]
    assert isinstance(keyed, AtKey) and keyed.path == ("url",)
    message = str(keyed)
    assert "unsupported online store 'mysql'" in message
    assert "sqlite:///PATH" in message and "redis://HOST:PORT/DB" in message
    assert "type:" in message


def test_online_store_other_scheme_is_fine_with_a_named_backend() -> None:
    store = OnlineStoreConfig(type="dynamodb", url="dynamodb://table")
    assert store.type == "dynamodb" and store.url == "dynamodb://table"


@pytest.mark.parametrize(
    ("data", "loc", "kind"),
    [
        ({"engine": "Spark"}, ("engine",), "string_pattern_mismatch"),
        ({"threads": 0}, ("threads",), "greater_than_equal"),
        ({"threads": 1025}, ("threads",), "less_than_equal"),
        ({"memory_limit": "2 gigs"}, ("memory_limit",), "string_pattern_mismatch"),
        ({"memory_limit": "2gb"}, ("memory_limit",), "string_pattern_mismatch"),
        ({"timeout_seconds": 0}, ("timeout_seconds",), "greater_than_equal"),
        ({"timeout_seconds": 60}, ("timeout_seconds",), "value_error"),
        ({"max_workers": 257}, ("max_workers",), "less_than_equal"),
        ({"max_workers": 2}, ("max_workers",), "value_error"),
    ],
)
def test_compute_profile_bounds(data: dict[str, Any], loc: tuple[str, ...], kind: str) -> None:
    error = first_error(ComputeProfile, data)
    assert error["loc"] == loc and error["type"] == kind


@pytest.mark.parametrize("limit", ["512MB", "1.5 GiB", "2TB", "64KiB"])
def test_compute_profile_memory_limits(limit: str) -> None:
    assert ComputeProfile(memory_limit=limit).memory_limit == limit


def test_openlineage_needs_an_http_url_and_a_namespace() -> None:
    assert OpenLineageConfig(url="https://marquez:5000").namespace == "prodml"
    assert first_error(OpenLineageConfig, {"url": "ftp://x"})["loc"] == ("url",)
    assert first_error(OpenLineageConfig, {"namespace": ""})["type"] == "string_too_short"


def test_platform_file_defaults_have_three_environments() -> None:
    platform = PlatformFile()
    assert list(platform.environments) == ["dev", "staging", "prod"]
    assert platform.default_env == "dev" and platform.name == "prodml"
    assert platform.governance.enabled is False
    # each default is a fresh dict: two files never share one
    assert PlatformFile().environments is not platform.environments


def test_platform_file_needs_an_environment() -> None:
    error = first_error(PlatformFile, {"environments": {}})
    assert error["loc"] == ("environments",)
    assert "at least one environment is needed (e.g. dev: {})" in error["msg"]


def test_platform_file_checks_environment_names() -> None:
    error = first_error(PlatformFile, {"environments": {"dev": {}, "Prod": {}}})
    assert "environment name 'Prod' must start with a lower-case letter" in error["msg"]


def test_catalog_is_not_a_top_level_key() -> None:
    assert ENV_ONLY_KEYS == ("catalog",)
    assert "catalog" not in PlatformFile.model_fields
    assert first_error(PlatformFile, {"catalog": "main"})["type"] == "extra_forbidden"


def test_platform_only_keys_are_not_environment_settings() -> None:
    for key in PLATFORM_ONLY_KEYS:
        assert key in PlatformFile.model_fields
        assert key == "name" or key not in EnvironmentSettings.model_fields
    # every other top-level key is a setting an environment overlay can change
    shared = set(PlatformFile.model_fields) - set(PLATFORM_ONLY_KEYS)
    assert shared <= set(EnvironmentSettings.model_fields)


DECLARED: dict[str, Any] = {
    "enabled": True,
    "admins": ["ops"],
    "users": {"ana@example.com": {"email": "ana@example.com", "groups": ["analysts"]}},
    "groups": {"analysts": {}, "ops": {"groups": ["analysts"]}},
    "service_principals": {"churn_bot": {"description": "scheduled runs"}},
    "grants": [
        {"securable": "table dev.gold.x", "principal": "analysts", "privileges": ["SELECT"]}
    ],
    "owners": [{"securable": "schema dev.gold", "owner": "ops"}],
}


def test_governance_names_lists_every_principal_with_its_kind() -> None:
    config = GovernanceConfig.model_validate(DECLARED)
    assert config.names() == {
        "ana@example.com": "user",
        "analysts": "group",
        "ops": "group",
        "churn_bot": "service_principal",
    }
    assert config.grants[0].privileges == ["SELECT"]


@pytest.mark.parametrize("section", ["users", "groups", "service_principals"])
def test_governance_principal_names_are_checked(section: str) -> None:
    error = first_error(GovernanceConfig, {section: {"Bob Smith": {}}})
    assert error["loc"] == (section,)
    assert "principal name 'Bob Smith' is not valid" in error["msg"]
    assert "starting with a letter" in error["msg"]


@pytest.mark.parametrize(
    ("model", "data", "loc"),
    [
        (
            GrantDecl,
            {"securable": "volume v", "principal": "a", "privileges": ["READ"]},
            "securable",
        ),
        (
            GrantDecl,
            {"securable": "table t", "principal": "A", "privileges": ["READ"]},
            "principal",
        ),
        (GrantDecl, {"securable": "table t", "principal": "a", "privileges": []}, "privileges"),
        (OwnerDecl, {"securable": "catalog", "owner": "a"}, "securable"),
        (UserDecl, {"email": "not-an-email"}, "email"),
    ],
)
def test_governance_declarations_are_checked(
    model: type[BaseModel], data: dict[str, Any], loc: str
) -> None:
    assert first_error(model, data)["loc"] == (loc,)


def test_item4_column_controls_and_row_filters() -> None:
    config = GovernanceConfig.model_validate(
        {
            "enabled": True,
            "columns": [
                {"table": "gold.customers", "column": "email", "tags": ["pii"], "mask": "hash"}
            ],
            "row_filters": [
                {"table": "prod.gold.orders", "where": "country = 'DE'", "exempt": ["ops"]}
            ],
        }
    )
    assert config.columns[0].mask == "hash" and config.row_filters[0].exempt == ["ops"]
    # tags alone annotate, with governance off too
    GovernanceConfig.model_validate(
        {"columns": [{"table": "gold.c", "column": "x", "tags": ["pii"]}]}
    )


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        (
            {"columns": [{"table": "gold.c", "column": "x", "mask": "hash"}]},
            "set governance.enabled: true",
        ),
        ({"row_filters": [{"table": "gold.c", "where": "a = 1"}]}, "set governance.enabled: true"),
        (
            {"enabled": True, "columns": [{"table": "gold.c", "column": "x", "mask": "blur"}]},
            "'null', 'redact' or 'hash'",
        ),
        ({"enabled": True, "columns": [{"table": "c", "column": "x"}]}, "should match pattern"),
        (
            {"enabled": True, "columns": [{"table": "gold.c", "column": "x", "tags": ["PII!"]}]},
            "tag 'PII!' is not valid",
        ),
        (
            {"enabled": True, "row_filters": [{"table": "gold.c", "where": "1=1; DROP TABLE x"}]},
            "one SQL condition",
        ),
        (
            {"enabled": True, "row_filters": [{"table": "gold.c", "where": "a = 1 -- x"}]},
            "one SQL condition",
        ),
        (
            {"enabled": True, "columns": [{"table": "gold.c", "column": "x", "masks": "hash"}]},
            "masks",
        ),
    ],
)
def test_item4_bad_column_controls_are_refused(doc: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValidationError) as err:
        GovernanceConfig.model_validate(doc)
    assert needle in str(err.value)
