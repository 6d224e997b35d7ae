"""`prodml serve` and `prodml tokens` as a user runs them."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from tests.helpers import assert_clean_error, prodml_cli, prodml_main
from tests.live import free_port
from tests.serving.conftest import CHAMPION_ONLY, configure, log_rows, new_platform

from prodml.config.product import Token

EXE = str(Path(sys.executable).with_name("prodml"))
YAML_LINE = re.compile(r"^  - \{name: (?P<name>[\w-]+), sha256: (?P<hash>[0-9a-f]{64})\}$")


@pytest.fixture(scope="module")
def untrained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_platform(tmp_path_factory.mktemp("cli") / "p")


def test_no_auth_is_refused_off_loopback(untrained: Path) -> None:
    for host in ("0.0.0.0", "192.168.1.20", "::"):
        r = prodml_main("serve", "--no-auth", "--host", host, cwd=untrained)
        assert_clean_error(r, f"--no-auth on {host}", "127.0.0.1")


def test_serve_without_tokens_is_refused(untrained: Path) -> None:
    r = prodml_main("serve", cwd=untrained)
    assert_clean_error(
        r, "the endpoint of clf has no tokens", "prodml tokens new", "without authentication"
    )


def test_unknown_product_lists_the_products(untrained: Path) -> None:
    r = prodml_main("serve", "--no-auth", "--product", "unknown", cwd=untrained)
    assert_clean_error(r, "unknown product 'unknown'", "clf")
    r = prodml_main("serve", "--no-auth", "--log-level", "loud", cwd=untrained)
    assert_clean_error(r, "--log-level 'loud'")


def test_port_in_use_is_a_clean_error(untrained: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = prodml_main("serve", "--no-auth", "--port", str(port), cwd=untrained)
    assert_clean_error(r, f"cannot listen on 127.0.0.1:{port}")


def test_tokens_new_prints_a_token_and_its_hash() -> None:
    r = prodml_cli("tokens", "new", "--name", "ci-bot")
    assert r.code == 0, r.err
    [token] = re.findall(r"\bpdml_[A-Za-z0-9_-]{40,}", r.out)
    lines = [m for m in map(YAML_LINE.match, r.out.splitlines()) if m]
    assert len(lines) == 1, r.out
    assert lines[0]["name"] == "ci-bot"
    assert lines[0]["hash"] == hashlib.sha256(token.encode()).hexdigest()
    [entry] = yaml.safe_load(lines[0].string.strip())  # paste-able into product.yaml
    assert Token.model_validate(entry).sha256 == lines[0]["hash"]
    again = prodml_cli("tokens", "new")
    assert token not in again.out and "{name: client, sha256: " in again.out


def test_tokens_new_yaml_line_is_not_wrapped_on_an_80_column_terminal() -> None:
    """Regression: `prodml tokens new` prints through Rich, which wraps at the terminal width (80 when
    piped): the YAML line is split after 'sha256:', so what the user copies is broken YAML."""
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1"}
    proc = subprocess.run(
        [EXE, "tokens", "new", "--name", "ci"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert any(YAML_LINE.match(line) for line in proc.stdout.splitlines()), proc.stdout


@pytest.mark.slow
def test_serve_cli_scores_flushes_on_sigterm_and_exits_0(trained: Path, tmp_path: Path) -> None:
    """`prodml serve` answers, and SIGTERM stops it gracefully (the inference log has the rows).

    Regression (the last assertion): the process then dies of SIGTERM (exit -15) instead of exiting 0:
    uvicorn re-raises the captured signal after its graceful shutdown, with the default handler
    restored, and serve.py does nothing about it.
    """
    configure(trained, CHAMPION_ONLY)
    port = free_port()
    out, err = (tmp_path / "out.txt").open("w"), (tmp_path / "err.txt").open("w")
    proc = subprocess.Popen(
        [EXE, "serve", "--no-auth", "--port", str(port), "--log-level", "warning"],
        cwd=trained,
        stdout=out,
        stderr=err,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (tmp_path / "err.txt").read_text()
            assert time.monotonic() < deadline, "prodml serve did not get ready"
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        r = httpx.post(f"{url}/v1/products/clf/predict", json={"records": [{"a": 1, "b": 2}]})
        assert r.status_code == 200, r.text
        request_id = r.json()["request_id"]
        r = httpx.post(f"{url}/invocations", json={"instances": [[1.0, 2.0]]})
        assert r.status_code == 200 and r.json() == {"predictions": [1]}
        invocation_id = r.headers["X-Request-Id"]
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out.close()
        err.close()
    stderr = (tmp_path / "err.txt").read_text()
    assert f"serving clf (dev) on {url} without authentication" in stderr
    assert "Traceback" not in stderr
    rows = log_rows(trained, {request_id, invocation_id})
    assert sorted(row["route"] for row in rows) == ["invocations", "predict"]
    assert code == 0, f"prodml serve exited {code} after SIGTERM"
