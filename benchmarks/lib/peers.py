"""Peer tools in their own virtualenvs, built once from ``peers/<group>/requirements.txt``.

Peers conflict with prodml's dependencies, so benchmarks never install into the venv that runs
them: :func:`peer_venv` builds ``benchmarks/.venvs/<group>`` (cached by a hash of the
requirements file and the interpreter) and returns its ``bin`` directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from lib.env import BENCH_DIR, VENVS_DIR, bin_dir_of, command_env, python_in

_HASH_MARKER = ".prodml-requirements.sha256"


class PeerUnavailableError(RuntimeError):
    """A peer's virtualenv could not be created or its requirements could not be installed."""

    def __init__(self, peer: str, reason: str) -> None:
        super().__init__(f"peer {peer!r} unavailable: {reason}")
        self.peer = peer
        self.reason = reason


def tail(text: str, lines: int = 25) -> str:
    """The last ``lines`` lines of ``text``."""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _requirements_hash(requirements: Path) -> str:
    h = hashlib.sha256()
    h.update(requirements.read_bytes())
    # A venv is tied to the interpreter that made it: a new Python means a new venv.
    h.update(f"\n# python {sys.version_info[:3]} {sys.platform}".encode())
    return h.hexdigest()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock, so two scripts don't build the same peer venv at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; benchmarks run one at a time there.
            yield
            return
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _pip_install(name: str, venv: Path, requirements: Path, log: Path) -> None:
    python = python_in(bin_dir_of(venv))
    print(
        f"[peer {name}] pip install -r {requirements} (log: {log}); this can take minutes",
        flush=True,
    )
    argv = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
    with log.open("w") as out:
        pip = subprocess.run(
            [*argv, "-r", str(requirements)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=command_env(bin_dir_of(venv)),
            check=False,
        )
    if pip.returncode != 0:
        # Leave no marker: the next run retries from scratch.
        text = log.read_text(errors="replace")
        errors = [ln for ln in text.splitlines() if ln.startswith("ERROR")]
        reason = "\n".join(errors[-10:]) or tail(text)
        raise PeerUnavailableError(
            name, f"pip install -r {requirements} failed (full log: {log}):\n{reason}"
        )


def peer_venv(name: str, requirements: Path) -> Path:
    """Create (once) the virtualenv ``benchmarks/.venvs/<name>`` for a peer; return its bin dir.

    The venv is rebuilt from scratch when ``requirements`` changes (content hash, stored in the
    venv). pip's output goes to ``benchmarks/.venvs/<name>.log``.

    Raises :class:`PeerUnavailableError` naming the peer if the venv cannot be created or the
    requirements cannot be installed, so a script can report the peer as unavailable.
    """
    requirements = requirements.resolve()
    if not requirements.is_file():
        raise PeerUnavailableError(name, f"requirements file {requirements} does not exist")
    venv = VENVS_DIR / name
    marker = venv / _HASH_MARKER
    wanted = _requirements_hash(requirements)

    with _file_lock(VENVS_DIR / f"{name}.lock"):
        if marker.is_file() and marker.read_text().strip() == wanted:
            print(f"[peer {name}] using cached venv {venv} (requirements unchanged)", flush=True)
            return bin_dir_of(venv)

        if venv.exists():
            print(f"[peer {name}] requirements changed or install incomplete: rebuilding {venv}")
            shutil.rmtree(venv)
        t0 = time.perf_counter()
        print(f"[peer {name}] creating venv {venv}", flush=True)
        proc = subprocess.run(
            [sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise PeerUnavailableError(
                name, f"`python -m venv` failed:\n{tail(proc.stderr + proc.stdout)}"
            )
        _pip_install(name, venv, requirements, VENVS_DIR / f"{name}.log")
        marker.write_text(wanted + "\n")
        print(f"[peer {name}] ready in {time.perf_counter() - t0:.1f} s", flush=True)
        return bin_dir_of(venv)


def open_peer(group: str, *, skip: bool, what: str = "peer") -> tuple[Path | None, str]:
    """The bin directory of the peer group's venv (None when skipped or unavailable) and a
    note saying why not (printed as a warning when the install failed)."""
    if skip:
        return None, f"{what} skipped with --skip-peers"
    try:
        return peer_venv(group, BENCH_DIR / "peers" / group / "requirements.txt"), ""
    except PeerUnavailableError as exc:
        print(f"warning: {exc}")
        return None, str(exc)
