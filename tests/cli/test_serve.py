"""``prodml serve``, ``prodml server`` and their helpers (``prodml.cli.serve``), in process: the
refusals before anything listens, the loopback and port checks, and the app a ``--workers``
process builds from its environment. (Serving for real, SIGTERM and ``tokens new`` are in
tests/serving/test_cli.py.)"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.cli.conftest import SHOP_PIPELINE, assert_usage_error
from tests.helpers import (
    CLASSIFIER_PIPELINE,
    PRODUCT,
    assert_clean_error,
    make_platform,
    prodml_main,
)

from prodml.cli.serve import _CONFIG_VAR, _check_port, _loopback, app_from_environment
from prodml.errors import UsageError

ENDPOINT = """params: {c: 1.0}
model:
  name: clf
  gate: {metrics: {auc: {min: 0.5}}}
endpoint:
  variants:
    champion: {alias: champion}
"""


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """clf with an endpoint (no tokens, no model trained) and shop without one."""
    root = make_platform(
        tmp_path_factory.mktemp("serve") / "p", {"clf": CLASSIFIER_PIPELINE, "shop": SHOP_PIPELINE}
    )
    (root / "products" / "clf" / "product.yaml").write_text(PRODUCT.format(name="clf") + ENDPOINT)
    return root


def test_the_catalog_server_refuses_no_auth_off_loopback(platform: Path) -> None:
    r = prodml_main("server", "--no-auth", "--host", "10.0.0.1", cwd=platform)
    assert_clean_error(
        r, "--no-auth on 10.0.0.1 would let anyone on the network browse and change grants"
    )
    assert r.code == 2


def test_serving_a_product_without_an_endpoint(platform: Path) -> None:
    r = prodml_main("serve", "--no-auth", "--product", "shop", cwd=platform)
    assert_clean_error(r, "product shop declares no endpoint", "products with an endpoint: clf")


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("--port", "65536"), "--port"),
        (("--port", "-1"), "--port"),
        (("--workers", "0"), "--workers"),
        (("--workers", "65"), "--workers"),
    ],
)
def test_serve_values_out_of_range(platform: Path, args: tuple[str, ...], option: str) -> None:
    assert_usage_error(prodml_main("serve", *args, cwd=platform), f"Invalid value for '{option}'")


def test_server_port_out_of_range(platform: Path) -> None:
    r = prodml_main("server", "--port", "70000", cwd=platform)
    assert_usage_error(r, "Invalid value for '--port'")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("example.com", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert _loopback(host) is loopback


def test_check_port_accepts_a_free_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _check_port("127.0.0.1", port)  # free again: no error


def test_check_port_refuses_a_port_in_use() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UsageError, match=f"cannot listen on 127.0.0.1:{port}") as err:
            _check_port("127.0.0.1", port)
    assert err.value.hint == "pick another --port, or stop what is using it"


def test_a_worker_builds_the_app_from_its_environment(
    platform: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = {"project": str(platform), "env": None, "products": ["clf"], "no_auth": True}
    monkeypatch.setenv(_CONFIG_VAR, json.dumps(config))
    with TestClient(app_from_environment()) as client:
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/v1/products").json() == {"products": ["clf"]}
        ready = client.get("/ready")
        assert ready.status_code == 503 and ready.json()["ready"] is False  # no champion yet


def test_a_worker_with_auth_needs_tokens(platform: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = {"project": str(platform), "env": "dev", "products": [], "no_auth": False}
    monkeypatch.setenv(_CONFIG_VAR, json.dumps(config))
    with pytest.raises(UsageError, match="the endpoint of clf has no tokens"):
        app_from_environment()
