"""``prodml.connect``: the façade opened on a platform directory (or below it), for one
environment or all of them; its plain properties."""

from __future__ import annotations

from pathlib import Path

import pytest

import prodml
from prodml.errors import NotFoundError
from prodml.workspace import connect_all


def test_connect_from_below_the_platform_and_close_twice(shop: Path) -> None:
    (shop / "products" / "shop" / "deep").mkdir()
    ws = prodml.connect(shop / "products" / "shop" / "deep")
    with ws:
        assert ws.root == shop and ws.env == "dev" and ws.catalog_name == "dev"
        assert repr(ws) == f"Workspace(root={str(shop)!r}, env='dev')"
        assert ws.landing_dir == shop / "landing" and ws.state_dir == shop / ".prodml"
        assert ws.settings.name == "dev" and ws.platform.file.name == "t"
        assert ws.principal.startswith("user:")
    ws.close()  # closing again is harmless


def test_an_unknown_environment_or_platform_is_a_clear_error(shop: Path, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="did you mean 'staging'"):
        prodml.connect(shop, env="stagng")
    with pytest.raises(prodml.ProdmlError, match=r"prodml\.yaml"):
        prodml.connect(tmp_path / "nowhere")


def test_connect_all_opens_every_environment(shop: Path) -> None:
    opened = connect_all(shop, principal="ci")
    try:
        assert sorted(opened) == ["dev", "staging"]
        assert {ws.env for ws in opened.values()} == {"dev", "staging"}
        assert {ws.principal for ws in opened.values()} == {"ci"}
    finally:
        for ws in opened.values():
            ws.close()


def test_the_public_surface_is_methods_not_components(shop: Path) -> None:
    """Adapters call methods: the components (catalog, store, governance…) are private."""
    with prodml.connect(shop) as ws:
        for component in ("catalog", "store", "governance", "features", "dag", "engine"):
            assert not hasattr(ws, component), component
