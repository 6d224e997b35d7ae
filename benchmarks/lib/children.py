"""Measured child processes: each workload runs in its own interpreter, so its memory is its
own, and a peer's runs in the peer's venv.

The parent calls :func:`run_child` with the entry script, a workload ``kind`` and a JSON-ready
config; the child is the same script started as ``script --child KIND CONFIG_FILE``, whose
``main`` hands over to :func:`child_main` with its table of workloads. The child writes its
result (JSON) to a file the parent reads; a workload that raises
:class:`~lib.checks.WrongAnswerError` exits with 3 and the parent raises it again.

A child can be bounded (``timeout`` seconds, ``mem_limit_mb`` resident memory): it is then
killed and :class:`ChildFailedError` says so (``timeout > N s`` / ``killed > N MB RSS``), with
how long its timed part had run if it had started (a workload calls :func:`timed_start` just
before its timed call).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from lib.checks import EXIT_DISAGREEMENT, WrongAnswerError
from lib.env import command_env, forbid_network
from lib.memory import rss_mb_of
from lib.peers import tail

Workload = Callable[[dict[str, Any]], dict[str, Any]]


class ChildFailedError(RuntimeError):
    """A child exited with an error, or was killed for running too long or too large.

    Attributes:
        killed: why it was killed (None: it exited by itself).
        timed_lower_bound: seconds its timed part had run when it was killed (None: it had
            not started, or the child was not killed).
        max_rss_mb: the largest RSS the parent saw.
    """

    def __init__(
        self,
        message: str,
        *,
        killed: str | None = None,
        timed_lower_bound: float | None = None,
        max_rss_mb: float = 0.0,
    ) -> None:
        super().__init__(message)
        self.killed = killed
        self.timed_lower_bound = timed_lower_bound
        self.max_rss_mb = max_rss_mb


def timed_start(cfg: Mapping[str, Any]) -> None:
    """Tell the parent the timed work starts now (so a timeout bounds the timed part only)."""
    if cfg.get("_marker"):
        Path(cfg["_marker"]).write_text(str(time.time()))


def _watch(
    proc: subprocess.Popen[bytes], timeout: float | None, mem_limit_mb: float | None
) -> tuple[str | None, float]:
    """Wait for ``proc``; kill it past ``timeout`` s or above ``mem_limit_mb``. Returns why it
    was killed (None: it ended) and the largest RSS seen."""
    t0 = time.perf_counter()
    max_rss = 0.0
    while True:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.2)
            return None, max_rss
        rss = rss_mb_of(proc.pid) or 0.0
        max_rss = max(max_rss, rss)
        killed = None
        if timeout is not None and time.perf_counter() - t0 > timeout:
            killed = f"timeout > {timeout:g} s"
        elif mem_limit_mb is not None and rss > mem_limit_mb:
            killed = f"killed > {mem_limit_mb:.0f} MB RSS"
        if killed:
            proc.kill()
            proc.wait()
            return killed, max_rss


def _read(fh: IO[bytes]) -> str:
    fh.seek(0)
    return fh.read().decode(errors="replace")


def run_child(
    script: Path,
    kind: str,
    cfg: Mapping[str, Any],
    *,
    python: Path | None = None,
    extra_env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
    mem_limit_mb: float | None = None,
    echo_stderr: bool = False,
) -> dict[str, Any]:
    """Run workload ``kind`` of ``script`` in a child (``python``: default this interpreter;
    the environment is :func:`~lib.env.command_env` of its venv plus ``extra_env``); return its
    result. Raises :class:`ChildFailedError` or :class:`~lib.checks.WrongAnswerError`."""
    python = python or Path(sys.executable)
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
    out_path, marker = tmp / "result.json", tmp / "timed_start"
    cfg_path = tmp / "config.json"
    cfg_path.write_text(json.dumps({**cfg, "_out": str(out_path), "_marker": str(marker)}))
    argv = [str(python), str(Path(script).resolve()), "--child", kind, str(cfg_path)]
    try:
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=command_env(python.parent, extra_env),
                cwd=cwd,
            )
            try:
                killed, max_rss = _watch(proc, timeout, mem_limit_mb)
            finally:
                if proc.poll() is None:  # interrupted: do not leave it running
                    proc.kill()
                    proc.wait()
            stderr = _read(err) or _read(out)
        if echo_stderr and stderr:
            print(stderr, file=sys.stderr)
        started = float(marker.read_text()) if marker.is_file() else None
        if killed:
            bound = None if started is None else time.time() - started
            if bound is None:
                killed += " (before the timed part started)"
            elif "timeout" in killed:
                killed += f" (timed part > {bound:.0f} s)"
            raise ChildFailedError(
                killed, killed=killed, timed_lower_bound=bound, max_rss_mb=max_rss
            )
        result: dict[str, Any] | None = (
            json.loads(out_path.read_text()) if out_path.is_file() else None
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if proc.returncode == EXIT_DISAGREEMENT and result and "_wrong_answer" in result:
        raise WrongAnswerError(f"({kind}) {result['_wrong_answer']}")
    if proc.returncode != 0 or result is None:
        raise ChildFailedError(
            f"child {kind} ({python}) exited with {proc.returncode}:\n{tail(stderr, 30)}",
            max_rss_mb=max_rss,
        )
    return result


def child_main(
    workloads: Mapping[str, Workload], kind: str, cfg_path: str, *, network: str | None = None
) -> int:
    """The child's side: run workload ``kind`` with the config file's contents and write its
    result where the parent reads it. With ``network`` (a label), any connection to a
    non-loopback address raises."""
    if network:
        forbid_network(network)
    cfg = json.loads(Path(cfg_path).read_text())
    try:
        result = workloads[kind](cfg)
    except WrongAnswerError as exc:
        Path(cfg["_out"]).write_text(json.dumps({"_wrong_answer": str(exc)}))
        print(f"WRONG ANSWER ({kind}): {exc}", file=sys.stderr)
        return EXIT_DISAGREEMENT
    Path(cfg["_out"]).write_text(json.dumps(result))
    return 0
