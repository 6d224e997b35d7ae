"""``prodml serve`` and ``prodml tokens``: the real-time server and its bearer tokens."""

from __future__ import annotations

import ipaddress
import json as jsonlib
import os
import signal
import socket
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from prodml.cli import console
from prodml.cli.options import Env, Project, workspace

_CONFIG_VAR = "PRODML_SERVE_CONFIG"

tokens = typer.Typer(help="Bearer tokens for endpoints (only their hashes are configured).")


def serve(
    product: Annotated[
        list[str] | None,
        typer.Option(
            "--product", help="Product to serve (repeatable; default: all with an endpoint)."
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="No bearer tokens (development; loopback only).")
    ] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    env: Env = None,
    project: Project = None,
) -> None:
    """Serve products' models over HTTP: product API, MLflow /invocations, health, metrics."""
    import uvicorn

    from prodml.errors import UsageError

    if no_auth and not _loopback(host):
        raise UsageError(
            f"--no-auth on {host} would let anyone on the network call the models",
            hint="serve on 127.0.0.1 for development, or configure tokens ('prodml tokens new')",
        )
    if log_level not in {"critical", "error", "warning", "info", "debug", "trace"}:
        raise UsageError(
            f"unknown --log-level {log_level!r}", hint="critical, error, warning, info, debug"
        )
    config = {
        "project": str((project or Path.cwd()).resolve()),
        "env": env,
        "products": product or [],
        "no_auth": no_auth,
    }
    with workspace(project, env) as ws:  # fail fast on a bad product, config or missing tokens
        names = ws.endpoint_products(product)
        app = ws.serving_app(names, no_auth=no_auth) if workers == 1 else None
        env_name = ws.env
    _check_port(host, port)
    console.info(
        f"serving {', '.join(names)} ({env_name}) on http://{host}:{port}"
        + (" without authentication" if no_auth else "")
        + f" · {workers} worker(s) · /docs for the API"
    )
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": False,
        "timeout_graceful_shutdown": 30,
    }
    # uvicorn re-raises SIGTERM once it has shut down gracefully: that is a clean exit here
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if app is not None:
        uvicorn.run(app, **options)
        return
    os.environ[_CONFIG_VAR] = jsonlib.dumps(config)
    with tempfile.TemporaryDirectory(prefix="prodml-metrics-") as metrics_dir:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir  # /metrics sums the workers
        uvicorn.run(
            "prodml.cli.serve:app_from_environment", factory=True, workers=workers, **options
        )


def app_from_environment() -> Any:
    """The app of one worker process (``--workers`` > 1), configured by ``prodml serve``."""
    from prodml.workspace import connect

    config = jsonlib.loads(os.environ[_CONFIG_VAR])
    ws = connect(config["project"], config["env"])
    return ws.serving_app(config["products"], no_auth=config["no_auth"])


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_port(host: str, port: int) -> None:
    from prodml.errors import UsageError

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {host}:{port}: {exc.strerror}",
                hint="pick another --port, or stop what is using it",
            ) from None


@tokens.command("new")
def new_token(
    name: Annotated[str, typer.Option(help="Who or what the token is for.")] = "client",
) -> None:
    """Create a token: prints it once, and the hash to put under endpoint.auth.tokens."""
    from prodml.workspace import endpoint_token

    token, sha256 = endpoint_token(name)
    console.out().print(f"token (shown once, give it to the caller): {token}", soft_wrap=True)
    console.out().print("add to product.yaml under endpoint.auth.tokens:")
    console.out().print(f"  - {{name: {name}, sha256: {sha256}}}", markup=False, soft_wrap=True)


def server(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8070,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="No tokens, no grants (development; loopback only).")
    ] = False,
    project: Project = None,
) -> None:
    """The catalog API (the Unity Catalog REST subset) over every environment's catalog."""
    import uvicorn

    from prodml.errors import UsageError
    from prodml.server.app import build

    if no_auth and not _loopback(host):
        raise UsageError(
            f"--no-auth on {host} would let anyone on the network browse and change grants",
            hint="serve on 127.0.0.1 for development, or enable governance and use tokens",
        )
    app, workspaces = build((project or Path.cwd()).resolve(), no_auth=no_auth)
    console.info(f"catalog API on http://{host}:{port}/api/2.1/unity-catalog")
    try:
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
    finally:
        for ws in workspaces:
            ws.close()
