"""The composition root: backends by ``type:``, environments of one platform, the acting
principal, and what is built only when it is used."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import PLATFORM, make_platform

import prodml
from prodml.errors import ConfigError
from prodml.workspace.wiring import Wiring


def _wiring(root: Path, env: str | None = None, **environ: str) -> Wiring:
    ws = prodml.connect(root, env, environ=environ)
    return ws._w


def test_components_are_built_on_first_use_and_closed(shop: Path) -> None:
    w = _wiring(shop)
    assert "store" not in w.__dict__ and "catalog" not in w.__dict__
    assert w.catalog.catalog == "dev" and "store" in w.__dict__
    engine = w.engine()
    assert engine.version.startswith("duckdb-")
    engine.close()
    w.close()


def test_another_environment_of_the_same_platform(shop: Path) -> None:
    w = _wiring(shop)
    assert w.environment("dev") is w
    staging = w.environment("staging")
    assert (staging.env, staging.settings.catalog, staging.principal) == (
        "staging",
        "staging",
        w.principal,
    )
    staging.close()
    w.close()


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ({"PRODML__COMPUTE__PROFILES__DEFAULT__ENGINE": "sparkk"}, "unknown engine type 'sparkk'"),
        ({"PRODML__TRACKING__TYPE": "wandb"}, "unknown tracker type 'wandb'"),
        ({"PRODML__ONLINE_STORE__TYPE": "dynamo"}, "unknown online store type 'dynamo'"),
        ({"PRODML__METADATA__TYPE": "oracle"}, "unknown metadata type 'oracle'"),
    ],
)
def test_an_unknown_backend_type_names_the_key_and_the_known_types(
    shop: Path, override: dict[str, str], needle: str
) -> None:
    w = _wiring(shop, **override)
    kind = needle.split("unknown ")[1].split(" type", maxsplit=1)[0]
    with pytest.raises(ConfigError, match=needle) as info:
        if kind == "engine":
            w.engine()
        elif kind == "tracker":
            from prodml import backends  # looked up so when a tracked step runs

            backends.load("tracker", w.settings.tracking.type)
        elif kind == "online store":
            w.features.online_store  # noqa: B018
        else:
            w.store  # noqa: B018
    assert "types:" in str(info.value) or "did you mean" in str(info.value)
    w.close()


def test_the_principal_is_the_local_user_or_given(tmp_path: Path) -> None:
    root = make_platform(tmp_path / "p", {}, platform=PLATFORM)
    assert _wiring(root).principal.startswith("user:")
    ws = prodml.connect(root, principal="ci-bot")
    assert ws.principal == "ci-bot"
    ws.close()


def test_a_secret_in_the_metadata_url_is_resolved_when_used(tmp_path: Path) -> None:
    platform = PLATFORM + "metadata: {url: '${secret:DB_URL}'}\n"
    root = make_platform(tmp_path / "p", {}, platform=platform)
    db = tmp_path / "meta.db"
    w = _wiring(root, DB_URL=f"sqlite:///{db}")
    assert "${secret" in (w.settings.metadata.url or "")
    assert w.store.url == f"sqlite:///{db}" and db.exists()
    w.close()
