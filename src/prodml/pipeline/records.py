"""What a run records about itself: code version, packages, resources used."""

from __future__ import annotations

import functools
import os
import subprocess
import threading
from importlib import metadata
from pathlib import Path
from types import TracebackType

import psutil

PACKAGES = (
    "prodml",
    "deltalake",
    "duckdb",
    "pyarrow",
    "pandas",
    "polars",
    "sqlalchemy",
    "pydantic",
)


def git_info(path: Path) -> tuple[str | None, bool | None]:
    """The commit SHA of the repository holding ``path`` and whether its tree is dirty."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=path,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if sha.returncode != 0:
            return None, None
        status = subprocess.run(
            ["git", "status", "--porcelain"],
            cwd=path,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return sha.stdout.strip(), bool(status.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return None, None


@functools.cache
def package_versions() -> dict[str, str]:
    """Versions of the packages that shape results."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


class ResourceMonitor:
    """CPU-seconds and peak RSS while a step runs (sampled every 20 ms), worker processes
    included: RSS over the process tree, CPU of the children the step started and waited for.
    """

    def __init__(self, interval: float = 0.02) -> None:
        self._proc = psutil.Process(os.getpid())
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.peak_rss = 0
        self.cpu_seconds = 0.0

    def __enter__(self) -> ResourceMonitor:
        self._cpu0 = sum(self._proc.cpu_times()[:4])
        self.peak_rss = self._tree_rss()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_rss = max(self.peak_rss, self._tree_rss())
        # user + system of this process and of children it has waited for (pool workers)
        self.cpu_seconds = sum(self._proc.cpu_times()[:4]) - self._cpu0

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak_rss = max(self.peak_rss, self._tree_rss())

    def _tree_rss(self) -> int:
        total = self._proc.memory_info().rss
        for child in self._proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:  # it ended meanwhile
                continue
        return int(total)
