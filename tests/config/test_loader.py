"""Tests for loading ``prodml.yaml`` and ``product.yaml``: precedence, overlays and precise errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from prodml.config import config_hash, find_root, load_platform, load_product
from prodml.errors import ConfigError, NotFoundError

PLATFORM = """\
name: acme
default_env: dev
state_dir: .state
storage:
  root: data
  options:
    region: eu-west-1
metadata:
  url: sqlite:///base.db
environments:
  dev: {}
  staging:
    storage:
      root: /mnt/staging
  prod:
    catalog: production
    metadata:
      url: postgresql+psycopg2://prodml@db/prodml
"""

PRODUCT = """\
name: churn
description: Predicts which customers stop buying.
owners:
  - {name: Ana, role: responsible, email: ana@example.com}
  - {name: CRM lead, role: accountable}
stage: development
params:
  window_days: 30
environments:
  prod:
    stage: production
    params:
      window_days: 60
"""


def write_platform(root: Path, text: str) -> Path:
    (root / "prodml.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def write_product(root: Path, text: str, name: str = "churn") -> Path:
    path = root / "products" / name / "product.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def config_error(root: Path, env: str | None = None, environ: dict[str, str] | None = None):
    with pytest.raises(ConfigError) as info:
        load_platform(root, env, environ or {})
    return info.value


# -- defaults, overlays, overrides -----------------------------------------------------------


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    platform = load_platform(write_platform(tmp_path, ""), None, {})
    settings = platform.settings
    assert platform.env == "dev"
    assert platform.root == tmp_path
    assert settings.catalog == "dev"
    assert settings.storage.root == "data"
    assert settings.storage.options == {}
    assert settings.metadata.url is None
    assert settings.state_dir == ".prodml"
    assert settings.secrets_file is None
    assert set(platform.file.environments) == {"dev", "staging", "prod"}
    assert settings.profile().engine == "duckdb"
    assert settings.profile().max_workers == 1


def test_default_env_comes_from_the_file(tmp_path: Path) -> None:
    root = write_platform(tmp_path, "default_env: staging\nenvironments: {dev: {}, staging: {}}\n")
    assert load_platform(root, None, {}).env == "staging"


def test_top_level_applies_to_every_environment(tmp_path: Path) -> None:
    root = write_platform(tmp_path, PLATFORM)
    dev = load_platform(root, "dev", {}).settings
    assert dev.name == "dev"
    assert dev.state_dir == ".state"
    assert dev.storage.root == "data"
    assert dev.metadata.url == "sqlite:///base.db"


def test_overlay_overrides_only_the_keys_it_names(tmp_path: Path) -> None:
    staging = load_platform(write_platform(tmp_path, PLATFORM), "staging", {}).settings
    assert staging.storage.root == "/mnt/staging"
    # the sibling key of the same section is kept from the top level
    assert staging.storage.options == {"region": "eu-west-1"}
    assert staging.metadata.url == "sqlite:///base.db"
    assert staging.state_dir == ".state"


def test_catalog_defaults_to_the_env_name_and_the_overlay_can_set_it(tmp_path: Path) -> None:
    root = write_platform(tmp_path, PLATFORM)
    assert load_platform(root, "staging", {}).settings.catalog == "staging"
    prod = load_platform(root, "prod", {}).settings
    assert prod.catalog == "production"
    assert prod.metadata.url == "postgresql+psycopg2://prodml@db/prodml"


def test_environment_variables_win_over_the_overlay(tmp_path: Path) -> None:
    root = write_platform(tmp_path, PLATFORM)
    environ = {
        "PRODML__METADATA__URL": "sqlite:///override.db",
        "PRODML__STORAGE__ROOT": "/override/data",
        "UNRELATED": "ignored",
    }
    prod = load_platform(root, "prod", environ).settings
    assert prod.metadata.url == "sqlite:///override.db"
    assert prod.storage.root == "/override/data"
    # an override of one key leaves the rest of its section alone
    assert prod.storage.options == {"region": "eu-west-1"}
    staging = load_platform(root, "staging", environ).settings
    assert staging.storage.root == "/override/data"


def test_environment_variable_values_are_typed(tmp_path: Path) -> None:
    root = write_platform(tmp_path, "")
    environ = {"PRODML__COMPUTE__PROFILES__DEFAULT__THREADS": "4"}
    assert load_platform(root, None, environ).settings.profile().threads == 4


def test_environment_variable_with_unknown_key_names_the_variable(tmp_path: Path) -> None:
    error = config_error(write_platform(tmp_path, ""), None, {"PRODML__STORAGE__ROOTT": "x"})
    assert "PRODML__STORAGE__ROOTT" in str(error)
    assert "did you mean 'root'" in str(error)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"PRODML__FOO__BAR": "1"},
            "environment variable PRODML__FOO__BAR: foo: unknown key 'foo' (allowed keys: catalog, "
            "compute, landing_dir, metadata, name, online_store, openlineage, products_dir, "
            "retention, secrets_file, state_dir, storage, tracking)",
        ),
        (
            {"PRODML__COMPUTE__DEFAULT_PROFILE": "big"},
            "environment variable PRODML__COMPUTE__DEFAULT_PROFILE: compute.default_profile: "
            "'big' is not one of the profiles (profiles: default)",
        ),
    ],
)
def test_an_override_of_a_section_that_is_not_there_names_the_variable(
    tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    """Item 8 of the first-hour issue."""
    assert str(config_error(write_platform(tmp_path, ""), None, environ)) == message


def test_environment_variable_numeric_string_for_a_string_key(tmp_path: Path) -> None:
    root = write_platform(tmp_path, "")
    settings = load_platform(root, None, {"PRODML__STORAGE__ROOT": "2024"}).settings
    assert settings.storage.root == "2024"


def test_unknown_environment_suggests_the_closest(tmp_path: Path) -> None:
    root = write_platform(tmp_path, PLATFORM)
    with pytest.raises(NotFoundError) as info:
        load_platform(root, "stagign", {})
    assert info.value.kind == "environment"
    assert info.value.name == "stagign"
    assert "did you mean 'staging'" in str(info.value)
    assert "dev, prod, staging" in str(info.value)


def test_find_root_walks_up_and_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "platform").mkdir()
    root = write_platform(tmp_path / "platform", "")
    nested = root / "products" / "churn"
    nested.mkdir(parents=True)
    assert find_root(nested) == root.resolve()
    with pytest.raises(ConfigError, match=r"no prodml\.yaml"):
        find_root(tmp_path)


# -- errors that point at the file, line and key ---------------------------------------------


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    root = write_platform(tmp_path, "name: acme\nstorage:\n  root: [unclosed\nmetadata: {}\n")
    error = config_error(root)
    assert "invalid YAML" in str(error)
    assert error.file == "prodml.yaml"
    assert error.line == 4
    assert str(error).startswith("prodml.yaml:4:")


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    error = config_error(write_platform(tmp_path, "- a\n- b\n"))
    assert "prodml.yaml:1:" in str(error)
    assert "mapping" in str(error)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    error = config_error(tmp_path)
    assert "prodml.yaml" in str(error)
    assert "not found" in str(error)


def test_unknown_top_level_key_names_file_line_and_suggestion(tmp_path: Path) -> None:
    root = write_platform(tmp_path, "name: acme\nstorage:\n  root: data\nstate_dri: x\n")
    error = config_error(root)
    assert str(error).startswith("prodml.yaml:4: state_dri: unknown key 'state_dri'")
    assert "did you mean 'state_dir'" in str(error)
    assert (error.file, error.line, error.key) == ("prodml.yaml", 4, "state_dri")


def test_unknown_key_inside_a_section(tmp_path: Path) -> None:
    root = write_platform(tmp_path, "storage:\n  root: data\n  rot: x\n")
    error = config_error(root)
    assert str(error).startswith("prodml.yaml:3: storage.rot: unknown key 'rot'")
    assert "did you mean 'root'" in str(error)


def test_unknown_key_inside_an_overlay_names_the_full_path(tmp_path: Path) -> None:
    text = PLATFORM + "    storage:\n      root: x\n  qa:\n    metadata:\n      urll: x\n"
    root = write_platform(tmp_path, text)
    line = textwrap.dedent(text).splitlines().index("      urll: x") + 1
    error = config_error(root, "qa")
    message = str(error)
    assert message.startswith(f"prodml.yaml:{line}: environments.qa.metadata.urll:")
    assert "unknown key 'urll'" in message
    assert "did you mean 'url'" in message
    assert error.key == "environments.qa.metadata.urll"


def test_unknown_key_in_the_staging_overlay(tmp_path: Path) -> None:
    root = write_platform(
        tmp_path, "environments:\n  dev: {}\n  staging:\n    metadata:\n      urll: x\n"
    )
    error = config_error(root, "staging")
    assert str(error).startswith("prodml.yaml:5: environments.staging.metadata.urll:")
    assert "did you mean 'url'" in str(error)
    # every overlay is validated whichever environment is chosen: a typo in staging fails in dev
    assert str(config_error(root, "dev")).startswith("prodml.yaml:5: environments.staging")


def test_bad_value_in_an_overlay_points_at_the_overlay_line(tmp_path: Path) -> None:
    root = write_platform(
        tmp_path,
        "compute:\n  profiles:\n    default: {threads: 2}\n"
        "environments:\n  dev:\n    compute:\n      profiles:\n        default:\n"
        "          threads: 0\n",
    )
    error = config_error(root, "dev")
    assert str(error).startswith(
        "prodml.yaml:9: environments.dev.compute.profiles.default.threads:"
    )
    assert "got 0" in str(error)


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    root = write_platform(tmp_path, "storage:\n  root: a\nmetadata: {}\nstorage:\n  root: b\n")
    error = config_error(root)
    assert "duplicate key" in str(error)
    assert (error.line, error.key) == (4, "storage")


def test_nested_duplicate_key_is_an_error(tmp_path: Path) -> None:
    root = write_platform(tmp_path, "storage:\n  root: a\n  root: b\n")
    error = config_error(root)
    assert str(error).startswith("prodml.yaml:3: storage.root: duplicate key")


def test_invalid_environment_name(tmp_path: Path) -> None:
    error = config_error(write_platform(tmp_path, "environments:\n  Dev-1: {}\n"))
    assert "Dev-1" in str(error)
    assert error.line == 1


def test_top_level_catalog_says_to_move_it_into_an_environment(tmp_path: Path) -> None:
    error = config_error(write_platform(tmp_path, "catalog: shared\n"))
    assert "environments.<env>.catalog" in str(error)


# -- product.yaml ----------------------------------------------------------------------------


def test_product_loads_with_defaults(tmp_path: Path) -> None:
    path = write_product(tmp_path, PRODUCT)
    product = load_product(path, "dev", display="products/churn/product.yaml")
    assert product.name == "churn"
    assert product.stage == "development"
    assert product.params == {"window_days": 30}
    assert product.pipeline == "pipeline.py"
    assert product.classification.delivery == ["batch"]
    assert [o.role for o in product.owners] == ["responsible", "accountable"]


def test_product_overlay_for_prod(tmp_path: Path) -> None:
    path = write_product(tmp_path, PRODUCT)
    prod = load_product(path, "prod", display="products/churn/product.yaml")
    assert prod.stage == "production"
    assert prod.params == {"window_days": 60}
    staging = load_product(path, "staging", display="products/churn/product.yaml")
    assert staging.stage == "development"


def test_product_without_accountable_owner(tmp_path: Path) -> None:
    path = write_product(tmp_path, PRODUCT.replace("role: accountable", "role: consulted"))
    with pytest.raises(ConfigError) as info:
        load_product(path, "dev", display="products/churn/product.yaml")
    message = str(info.value)
    assert message.startswith("products/churn/product.yaml:3: owners:")
    assert "accountable" in message


def test_product_name_must_match_its_directory(tmp_path: Path) -> None:
    path = write_product(tmp_path, PRODUCT, name="retention")
    with pytest.raises(ConfigError) as info:
        load_product(path, "dev", display="products/retention/product.yaml")
    message = str(info.value)
    assert message.startswith("products/retention/product.yaml:1: name:")
    assert "'churn' does not match its directory 'retention'" in message


def test_product_bad_stage_lists_the_allowed_values(tmp_path: Path) -> None:
    path = write_product(tmp_path, PRODUCT.replace("stage: development", "stage: prodution"))
    with pytest.raises(ConfigError) as info:
        load_product(path, "dev", display="products/churn/product.yaml")
    message = str(info.value)
    assert message.startswith("products/churn/product.yaml:6: stage:")
    assert "prodution" in message
    for stage in ("ideation", "development", "staging", "production", "deprecated", "retired"):
        assert repr(stage) in message


def test_product_bad_stage_in_the_overlay_points_at_the_overlay(tmp_path: Path) -> None:
    path = write_product(tmp_path, PRODUCT.replace("stage: production", "stage: live"))
    with pytest.raises(ConfigError) as info:
        load_product(path, "prod", display="products/churn/product.yaml")
    assert str(info.value).startswith("products/churn/product.yaml:11: environments.prod.stage:")
    # the overlay of another environment is not applied, so dev still loads
    assert load_product(path, "dev", display="x").stage == "development"


def test_product_unknown_key_suggests(tmp_path: Path) -> None:
    path = write_product(tmp_path, PRODUCT.replace("stage: development", "stgae: development"))
    with pytest.raises(ConfigError) as info:
        load_product(path, "dev", display="products/churn/product.yaml")
    assert str(info.value).startswith("products/churn/product.yaml:6: stgae: unknown key")
    assert "did you mean 'stage'" in str(info.value)


def test_product_missing_required_key(tmp_path: Path) -> None:
    text = "\n".join(line for line in PRODUCT.splitlines() if not line.startswith("description"))
    path = write_product(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_product(path, "dev", display="p.yaml")
    assert "description: required key is missing" in str(info.value)


# -- config_hash -----------------------------------------------------------------------------


def test_config_hash_is_stable_and_tracks_changes(tmp_path: Path) -> None:
    root = write_platform(tmp_path, PLATFORM)
    product = load_product(write_product(tmp_path, PRODUCT), "dev", display="p")
    first = config_hash(load_platform(root, "dev", {}).settings, product)
    again = config_hash(load_platform(root, "dev", {}).settings, product)
    assert first == again
    assert len(first) == 16
    assert int(first, 16) >= 0

    other_env = config_hash(load_platform(root, "staging", {}).settings, product)
    assert other_env != first

    write_platform(root, PLATFORM.replace("root: data", "root: data2"))
    changed = config_hash(load_platform(root, "dev", {}).settings, product)
    assert changed != first

    prod_product = load_product(tmp_path / "products/churn/product.yaml", "prod", display="p")
    assert config_hash(load_platform(root, "dev", {}).settings, prod_product) != changed


def test_config_hash_keeps_secret_references_unresolved(tmp_path: Path) -> None:
    root = write_platform(tmp_path, "metadata:\n  url: postgresql://u:${secret:PW}@db/x\n")
    one = config_hash(load_platform(root, None, {"PW": "first"}).settings)
    two = config_hash(load_platform(root, None, {"PW": "second"}).settings)
    assert one == two


# -- endpoint: and ab: ---------------------------------------------------------------------

ENDPOINT = """model: {name: churn}
endpoint:
  unit_key: customer_id
  variants:
    champion: {alias: champion, weight: 0.9}
    challenger: {alias: challenger, weight: 0.1}
ab:
  experiments:
    test_one:
      metrics: {retained: {kind: rate}}
"""


def endpoint_error(tmp_path: Path, extra: str) -> ConfigError:
    path = write_product(tmp_path, PRODUCT + extra)
    with pytest.raises(ConfigError) as info:
        load_product(path, "dev", display="p.yaml")
    return info.value


def test_endpoint_and_experiment_load(tmp_path: Path) -> None:
    product = load_product(write_product(tmp_path, PRODUCT + ENDPOINT), "dev", display="p.yaml")
    assert product.endpoint is not None
    assert product.endpoint.variants["challenger"].weight == 0.1
    experiment = product.ab.experiments["test_one"]
    assert (experiment.control, experiment.treatment, experiment.primary) == (
        "champion",
        "challenger",
        "retained",
    )


@pytest.mark.parametrize(
    ("change", "needles"),
    [
        (("weight: 0.9", "weight: -1"), ["weight", "greater than or equal to 0"]),
        (("kind: rate", "kind: ratio"), ["kind", "'mean'", "'rate'"]),
        (("unit_key: customer_id", "shadow: nobody"), ["shadow 'nobody' is not a variant"]),
        (("test_one:", "Test-One:"), ["experiment name 'Test-One'"]),
        (
            ("metrics: {retained", "treatment: blue\n      metrics: {retained"),
            ["'blue' is not a variant", "champion, challenger"],
        ),
        (("weight: 0.9", "weight: 0"), []),  # challenger alone still has traffic: loads
        (
            (
                "metrics: {retained: {kind: rate}}",
                "metrics: {retained: {kind: rate}}\n      primary_metric: revenue",
            ),
            ["primary_metric 'revenue' is not one of the metrics (retained)"],
        ),
        (("alias: champion, ", "alias: 'no spaces', "), ["alias"]),
    ],
)
def test_endpoint_and_experiment_errors(
    tmp_path: Path, change: tuple[str, str], needles: list[str]
) -> None:
    text = ENDPOINT.replace(*change)
    if not needles:
        load_product(write_product(tmp_path, PRODUCT + text), "dev", display="p.yaml")
        return
    message = str(endpoint_error(tmp_path, text))
    assert message.startswith("p.yaml:")
    for needle in needles:
        assert needle in message, message


def test_endpoint_without_traffic_or_model(tmp_path: Path) -> None:
    no_traffic = ENDPOINT.replace("weight: 0.9", "weight: 0").replace("weight: 0.1", "weight: 0")
    assert "no variant has traffic" in str(endpoint_error(tmp_path, no_traffic))
    no_model = ENDPOINT.replace("model: {name: churn}\n", "")
    assert "add a model: section" in str(endpoint_error(tmp_path, no_model))
