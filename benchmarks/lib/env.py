"""Paths and environments of the benchmarks: scratch directories, clean child environments."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = BENCH_DIR.parent
VENVS_DIR = BENCH_DIR / ".venvs"  # git-ignored
WORK_DIR = BENCH_DIR / ".work"  # git-ignored scratch space for generated data

_BIN = "Scripts" if os.name == "nt" else "bin"
EXE = ".exe" if os.name == "nt" else ""

# Variables that would leak the calling venv/interpreter setup into a child of another venv.
_LEAKY_ENV = ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "__PYVENV_LAUNCHER__")

# Same for prodml and every peer: no telemetry round trips inside timed runs.
_QUIET_ENV = {"DO_NOT_TRACK": "true", "MLFLOW_DISABLE_TELEMETRY": "true"}

#: the platform file of every benchmark's scratch platform (one environment, local storage)
PRODML_YAML = """\
name: bench
default_env: dev
state_dir: .prodml
landing_dir: landing
storage: {root: data}
environments: {dev: {}}
"""


def bin_dir_of(venv: Path) -> Path:
    """The scripts directory of a virtualenv (``bin`` on POSIX, ``Scripts`` on Windows)."""
    return venv / _BIN


def python_in(bin_dir: Path) -> Path:
    """The Python of a venv's scripts directory."""
    return bin_dir / f"python{EXE}"


def prodml_bin() -> Path:
    """The ``prodml`` entry point of the environment running this script (next to python)."""
    return Path(sys.executable).parent / f"prodml{EXE}"


def work_dir(name: str, *, clean: bool = False) -> Path:
    """A scratch directory ``benchmarks/.work/<name>`` (git-ignored), created if missing."""
    path = WORK_DIR / name
    if clean and path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def command_env(
    bin_dir: Path | None = None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """A clean environment for a benchmarked command.

    ``bin_dir`` goes first on ``PATH`` (some CLIs, e.g. MLflow's, start helpers by name),
    variables that tie a child to the calling venv are dropped, and telemetry is disabled
    (identically for prodml and its peers).
    """
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY_ENV}
    if bin_dir is not None:
        env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", "")])
    env.update(_QUIET_ENV)
    if extra:
        env.update(extra)
    return env


def forbid_network(label: str) -> None:
    """Make any socket connection to a non-loopback address raise: nothing a benchmark runs
    may go online (peers' telemetry included)."""
    import ipaddress
    import socket
    from typing import Any

    connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            try:
                local = ipaddress.ip_address(host).is_loopback
            except ValueError:
                local = host == "localhost"
            if not local:
                raise OSError(f"{label} benchmark: network access to {address!r} refused")
        return connect(self, address)

    socket.socket.connect = guarded  # type: ignore[method-assign]
