"""Timing commands: repeated runs in a subprocess, round-robin, with peak RSS from one extra run.

Machines are shared and noisy: compare ratios measured side by side in one run, not absolute
times across runs. Timed commands therefore run interleaved (round-robin) by default.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from lib.peers import tail


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


def median_of(samples: Iterable[Mapping[str, Any]], key: str) -> float | None:
    """The median of ``sample[key]`` over the samples that have it (None: none has)."""
    values = [float(s[key]) for s in samples if s.get(key) is not None]
    return statistics.median(values) if values else None


def _maxrss_to_mb(ru_maxrss: int) -> float:
    # Linux reports KiB, macOS bytes.
    return ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else ru_maxrss / 1024


def run_once(
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
        raise CommandFailedError(
            argv, returncode, tail(stderr_file.read().decode(errors="replace"))
        )
    return wall


def time_once(argv: Sequence[str], *, env: Mapping[str, str] | None, cwd: Path | None) -> float:
    """Wall seconds of one run of ``argv`` (stdout discarded; raises on failure)."""
    with tempfile.TemporaryFile() as err:
        return run_once(argv, env=env, cwd=cwd, stderr_file=err)


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
                run_once(argv, env=env_for(label), cwd=cwd, stderr_file=err)
        for _ in range(runs):
            for label, argv in commands.items():
                walls[label].append(run_once(argv, env=env_for(label), cwd=cwd, stderr_file=err))
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
            run_once(wrapped, env=env, cwd=cwd, stderr_file=err)
        except CommandFailedError as exc:
            raise CommandFailedError(argv, exc.returncode, exc.stderr_tail) from exc
        lines = out.read_text().split() if out.is_file() else []
    if not lines or not lines[-1].isdigit():
        return None
    kib_or_bytes = int(lines[-1])
    # GNU time's %M is KiB everywhere; the wrapper reports the platform's ru_maxrss unit.
    return kib_or_bytes / 1024 if gnu_time is not None else _maxrss_to_mb(kib_or_bytes)
