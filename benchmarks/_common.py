"""Shared helpers for the benchmark scripts under ``benchmarks/`` (standard library only).

What lives here:

* :func:`peer_venv` builds (once, cached by a hash of its requirements file) a virtualenv for a
  peer tool under ``benchmarks/.venvs/<name>`` and returns its ``bin`` directory. Peers get
  their own venv because they conflict with prodml's dependencies; benchmarks never install
  into the venv that runs them.
* :func:`time_command` / :func:`time_commands_interleaved` run commands repeatedly in a
  subprocess and return :class:`Stats` (wall seconds, plus peak RSS from one extra run).
* :func:`peak_rss_mb_of_command` runs a command once and returns its peak RSS (GNU
  ``/usr/bin/time`` if present, else a small fork/exec/wait4 wrapper).
* :func:`print_table` / :func:`ratio` / :func:`fmt_seconds` format the one table each script
  prints, as a Markdown pipe table that can be pasted into an issue note.
* :func:`bench_arg_parser` gives every script the same ``--quick`` / ``--runs`` / ``--warmup``
  / ``--skip-peers`` flags.

Machines are shared and noisy: compare ratios measured side by side in one run, not absolute
times across runs. Timed commands therefore run interleaved (round-robin) by default.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = [
    "BENCH_DIR",
    "REPO_ROOT",
    "VENVS_DIR",
    "WORK_DIR",
    "CommandFailedError",
    "PeerUnavailableError",
    "ServerFailedError",
    "ServerProcess",
    "Stats",
    "bench_arg_parser",
    "bin_dir_of",
    "command_env",
    "fmt_mb",
    "fmt_seconds",
    "forbid_network",
    "free_port",
    "mem_total_gb",
    "peak_mb",
    "peak_rss_mb_of_command",
    "peer_venv",
    "print_table",
    "prodml_bin",
    "ratio",
    "status_mb",
    "time_command",
    "time_commands_interleaved",
    "work_dir",
]

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
VENVS_DIR = BENCH_DIR / ".venvs"  # git-ignored
WORK_DIR = BENCH_DIR / ".work"  # git-ignored scratch space for generated data

_HASH_MARKER = ".prodml-requirements.sha256"
_BIN = "Scripts" if os.name == "nt" else "bin"
_EXE = ".exe" if os.name == "nt" else ""

# Variables that would leak the calling venv/interpreter setup into a child of another venv.
_LEAKY_ENV = ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "__PYVENV_LAUNCHER__")

# Same for prodml and every peer: no telemetry round trips inside timed runs.
_QUIET_ENV = {"DO_NOT_TRACK": "true", "MLFLOW_DISABLE_TELEMETRY": "true"}


class PeerUnavailableError(RuntimeError):
    """A peer's virtualenv could not be created or its requirements could not be installed."""

    def __init__(self, peer: str, reason: str) -> None:
        super().__init__(f"peer {peer!r} unavailable: {reason}")
        self.peer = peer
        self.reason = reason


class CommandFailedError(RuntimeError):
    """A timed command exited with a non-zero code (or could not be started)."""

    def __init__(self, argv: Sequence[str], returncode: int | None, stderr_tail: str) -> None:
        shown = " ".join(argv)
        what = "could not be started" if returncode is None else f"exited with {returncode}"
        msg = f"command {shown!r} {what}"
        if stderr_tail:
            msg += f"; stderr (tail):\n{stderr_tail}"
        super().__init__(msg)
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr_tail = stderr_tail


# --------------------------------------------------------------------------------------------
# paths and environments
# --------------------------------------------------------------------------------------------


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


def prodml_bin() -> Path:
    """The ``prodml`` entry point of the environment running this script (next to python)."""
    return Path(sys.executable).parent / f"prodml{_EXE}"


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


# --------------------------------------------------------------------------------------------
# peer virtualenvs
# --------------------------------------------------------------------------------------------


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


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


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
    log = VENVS_DIR / f"{name}.log"
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
            [sys.executable, "-m", "venv", str(venv)],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise PeerUnavailableError(
                name, f"`python -m venv` failed:\n{_tail(proc.stderr + proc.stdout)}"
            )

        python = bin_dir_of(venv) / f"python{_EXE}"
        print(
            f"[peer {name}] pip install -r {requirements} (log: {log}); this can take minutes",
            flush=True,
        )
        with log.open("w") as out:
            pip = subprocess.run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "--no-input",
                    "-r",
                    str(requirements),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=command_env(bin_dir_of(venv)),
                check=False,
            )
        if pip.returncode != 0:
            # Leave no marker: the next run retries from scratch.
            text = log.read_text(errors="replace")
            errors = [ln for ln in text.splitlines() if ln.startswith("ERROR")]
            reason = "\n".join(errors[-10:]) or _tail(text)
            raise PeerUnavailableError(
                name, f"pip install -r {requirements} failed (full log: {log}):\n{reason}"
            )
        marker.write_text(wanted + "\n")
        print(f"[peer {name}] ready in {time.perf_counter() - t0:.1f} s", flush=True)
        return bin_dir_of(venv)


# --------------------------------------------------------------------------------------------
# timing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    """Wall-clock statistics of repeated runs of one command (seconds)."""

    runs: int
    min: float
    median: float
    mean: float
    p90: float
    max: float
    peak_rss_mb: float | None = None  # from one extra run; None if not measured

    @classmethod
    def from_samples(cls, samples: Sequence[float], peak_rss_mb: float | None = None) -> Stats:
        if not samples:
            raise ValueError("no samples")
        xs = sorted(samples)
        p90 = statistics.quantiles(xs, n=10, method="inclusive")[8] if len(xs) > 1 else xs[0]
        return cls(
            runs=len(xs),
            min=xs[0],
            median=statistics.median(xs),
            mean=statistics.fmean(xs),
            p90=p90,
            max=xs[-1],
            peak_rss_mb=peak_rss_mb,
        )


def _maxrss_to_mb(ru_maxrss: int) -> float:
    # Linux reports KiB, macOS bytes.
    return ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else ru_maxrss / 1024


def _run_once(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None,
    cwd: Path | None,
    stderr_file: IO[bytes],
) -> float:
    """Run ``argv`` once with stdout discarded; return wall seconds. Raise on failure."""
    stderr_file.seek(0)
    stderr_file.truncate()
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr_file,
            env=dict(env) if env is not None else None,
            cwd=cwd,
        )
        returncode = proc.wait()
        wall = time.perf_counter() - t0
    except OSError as exc:
        raise CommandFailedError(argv, None, str(exc)) from exc
    if returncode != 0:
        stderr_file.seek(0)
        tail = _tail(stderr_file.read().decode(errors="replace"))
        raise CommandFailedError(argv, returncode, tail)
    return wall


def time_commands_interleaved(
    commands: Mapping[str, Sequence[str]],
    *,
    runs: int,
    warmup: int = 1,
    env: Mapping[str, str] | None = None,
    envs: Mapping[str, Mapping[str, str]] | None = None,
    cwd: Path | None = None,
    measure_rss: bool = True,
) -> dict[str, Stats]:
    """Time several commands round-robin (A B C A B C ...), so machine drift hits all alike.

    ``env`` is the environment of every command; ``envs`` maps a command label to its own
    environment instead (labels in neither inherit this process's environment). Each command
    runs ``warmup`` untimed times first (fills OS and ``__pycache__`` caches). stdout is
    discarded; stderr is kept only to explain a failure. Raises :class:`CommandFailedError` if
    any run exits non-zero.

    With ``measure_rss`` each command runs once more, untimed, under
    :func:`peak_rss_mb_of_command` to fill ``Stats.peak_rss_mb``.
    """
    if runs < 1:
        raise ValueError("runs must be >= 1")

    def env_for(label: str) -> Mapping[str, str] | None:
        if envs is not None and label in envs:
            return envs[label]
        return env

    walls: dict[str, list[float]] = {label: [] for label in commands}
    with tempfile.TemporaryFile() as err:
        for _ in range(warmup):
            for label, argv in commands.items():
                _run_once(argv, env=env_for(label), cwd=cwd, stderr_file=err)
        for _ in range(runs):
            for label, argv in commands.items():
                walls[label].append(_run_once(argv, env=env_for(label), cwd=cwd, stderr_file=err))
    rss: dict[str, float | None] = dict.fromkeys(commands)
    if measure_rss:
        for label, argv in commands.items():
            rss[label] = peak_rss_mb_of_command(argv, env=env_for(label), cwd=cwd)
    return {label: Stats.from_samples(walls[label], rss[label]) for label in commands}


def time_command(
    argv: Sequence[str],
    *,
    runs: int,
    warmup: int = 1,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    measure_rss: bool = True,
) -> Stats:
    """Run ``argv`` ``warmup`` + ``runs`` times; return wall-time stats of the timed runs.

    stdout is discarded, a non-zero exit raises :class:`CommandFailedError` (with the stderr
    tail). With ``measure_rss``, one extra untimed run fills ``Stats.peak_rss_mb``.
    """
    stats = time_commands_interleaved(
        {"cmd": argv}, runs=runs, warmup=warmup, env=env, cwd=cwd, measure_rss=measure_rss
    )
    return stats["cmd"]


# Fallback when GNU time is missing: fork from a fresh, small Python, exec the command, and
# report the child's ru_maxrss. Its floor is this wrapper's own RSS (~10 MB), not ours.
_RSS_WRAPPER = """
import os, sys
out, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(out, "w") as fh:
    fh.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
"""


def _gnu_time() -> str | None:
    path = shutil.which("time", path="/usr/bin:/bin") if os.name == "posix" else None
    if path is None:
        return None
    proc = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    return path if "GNU" in proc.stdout + proc.stderr else None


def peak_rss_mb_of_command(
    argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> float | None:
    """Run ``argv`` once and return its peak resident set size in MiB (None if not reported).

    Measured by GNU ``/usr/bin/time -f %M`` when present, else by a small fork/exec/wait4
    wrapper. Not measured on this process's own children directly: on Linux a child that
    execs inherits its parent's RSS high-water mark in ``ru_maxrss`` (and
    ``RUSAGE_CHILDREN`` is a running max over all children), so a small command would report
    at least the (possibly large) benchmark script's RSS. Raises :class:`CommandFailedError`
    if the command fails.
    """
    if os.name != "posix":  # pragma: no cover - no ru_maxrss on Windows
        return None
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryFile() as err:
        out = Path(tmp) / "maxrss"
        gnu_time = _gnu_time()
        if gnu_time is not None:
            wrapped = [gnu_time, "-f", "%M", "-o", str(out), *argv]
        else:
            wrapped = [sys.executable, "-c", _RSS_WRAPPER, str(out), *argv]
        try:
            _run_once(wrapped, env=env, cwd=cwd, stderr_file=err)
        except CommandFailedError as exc:
            raise CommandFailedError(argv, exc.returncode, exc.stderr_tail) from exc
        lines = out.read_text().split() if out.is_file() else []
    if not lines or not lines[-1].isdigit():
        return None
    kib_or_bytes = int(lines[-1])
    # GNU time's %M is KiB everywhere; the wrapper reports the platform's ru_maxrss unit.
    return kib_or_bytes / 1024 if gnu_time is not None else _maxrss_to_mb(kib_or_bytes)


# --------------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------------


def fmt_seconds(x: float | None) -> str:
    """Seconds with 3 decimals (4 significant digits below 10 ms); ``—`` for missing."""
    if x is None:
        return "—"
    return f"{x:.3f}" if abs(x) >= 0.01 else f"{x:.4g}"


def fmt_mb(x: float | None) -> str:
    """Megabytes with one decimal; ``—`` for missing."""
    return "—" if x is None else f"{x:.1f}"


def ratio(a: float | None, b: float | None) -> str:
    """``a / b`` formatted as e.g. ``3.21x``; ``n/a`` when either side is missing or b is 0."""
    if a is None or b is None or b == 0:
        return "n/a"
    r = a / b
    return f"{r:.2f}x" if r < 100 else f"{r:.0f}x"


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return fmt_seconds(value)
    return str(value).replace("|", "\\|").replace("\n", " ")


def print_table(title: str, columns: list[str], rows: list[list[object]]) -> None:
    """Print an aligned Markdown pipe table under a ``### title`` line.

    Floats are formatted as seconds (:func:`fmt_seconds`); pass strings for anything else.
    Numeric-looking columns are right-aligned.
    """
    cells = [[_cell(v) for v in row] for row in rows]
    for row in cells:
        if len(row) != len(columns):
            raise ValueError(f"row has {len(row)} cells, expected {len(columns)}: {row}")
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]

    def numeric(i: int) -> bool:
        vals = [r[i] for r in cells if r[i] not in ("—", "n/a", "")]
        return bool(vals) and all(
            v.rstrip("x%").replace(".", "", 1).lstrip("-").isdigit() for v in vals
        )

    right = [numeric(i) for i in range(len(columns))]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)
        ]
        return "| " + " | ".join(parts) + " |"

    sep = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if r else ("-" * (w + 2))
            for w, r in zip(widths, right, strict=True)
        )
        + "|"
    )
    print()
    print(f"### {title}")
    print()
    print(line(columns))
    print(sep)
    for row in cells:
        print(line(row))
    print(flush=True)


def bench_arg_parser(description: str) -> argparse.ArgumentParser:
    """An ``argparse`` parser with the flags every benchmark script shares.

    ``--quick`` asks for a smaller run (a script picks what that means), ``--runs N`` and
    ``--warmup N`` override repetition counts (``args.runs`` is None unless given), and
    ``--skip-peers`` measures prodml alone (no peer venv is built).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="smaller, faster run (smoke test)")
    parser.add_argument(
        "--runs", type=int, default=None, metavar="N", help="timed repetitions per command"
    )
    parser.add_argument(
        "--warmup", type=int, default=1, metavar="N", help="untimed runs first (default: 1)"
    )
    parser.add_argument(
        "--skip-peers", action="store_true", help="do not build or run the peer tools"
    )
    return parser


# -- memory of this process and of the machine (Linux /proc; None or "?" elsewhere) ---------


def status_mb(field: str) -> float | None:
    """A ``/proc/self/status`` memory line (``VmRSS``, ``VmHWM``) in MiB; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_mb() -> float | None:
    """This process's peak resident memory in MiB (``VmHWM``, else ``ru_maxrss``)."""
    hwm = status_mb("VmHWM")
    if hwm is not None:
        return hwm
    try:
        import resource

        r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return r / 2**20 if sys.platform == "darwin" else r / 1024
    except ImportError:  # pragma: no cover
        return None


def mem_total_gb() -> str:
    """The machine's memory, e.g. ``24.0 GB RAM``."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GB RAM"
    except OSError:
        pass
    return "? RAM"


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


# -- servers a benchmark starts (their own process group) -----------------------------------


class ServerFailedError(RuntimeError):
    """A server did not start (or died); the message carries its log tail."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now."""
    import socket

    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    """A server process started in its own process group, its output in ``log``.

    Subclasses say what "ready" means by calling :meth:`wait_until` with a probe.
    """

    label: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    log: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    start_seconds: float = 0.0  # from start() until the probe said ready

    def start(self) -> None:
        """Start it (stdout and stderr to the log)."""
        self.started_at = time.perf_counter()
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,  # its own process group: stopped as one
            )

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of its log."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.rstrip().splitlines()[-lines:])

    def wait_until(self, probe: Callable[[], str | None], *, timeout: float, poll: float) -> None:
        """Poll ``probe`` (None: ready; else what it saw) until ready; a clear error with the
        log tail if the process dies or ``timeout`` seconds pass."""
        assert self.proc is not None
        last = "no answer"
        while time.perf_counter() - self.started_at < timeout:
            if self.proc.poll() is not None:
                raise ServerFailedError(
                    f"{self.label} exited with {self.proc.returncode} before it was ready "
                    f"({' '.join(self.argv)}); log {self.log} (tail):\n{self.log_tail()}"
                )
            try:
                seen = probe()
            except OSError as exc:
                seen = str(exc)
            if seen is None:
                self.start_seconds = time.perf_counter() - self.started_at
                return
            last = seen
            time.sleep(poll)
        raise ServerFailedError(
            f"{self.label} not ready after {timeout:.0f} s ({last}); "
            f"log {self.log} (tail):\n{self.log_tail()}"
        )

    def stop(self, grace: float = 30.0) -> None:
        """SIGTERM to its process group (graceful: servers flush their logs), SIGKILL after
        ``grace`` seconds; then the rest of the group (children that outlived the leader)."""
        import signal

        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
