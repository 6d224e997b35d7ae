"""What a run records about itself: the git commit and whether the tree is dirty, the versions
of the packages that shape results, whether a process lives, and CPU and memory used."""

from __future__ import annotations

import subprocess
import time
from importlib import metadata
from pathlib import Path

import pytest

from prodml.pipeline.records import (
    PACKAGES,
    ResourceMonitor,
    git_info,
    package_versions,
)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        [
            "git",
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_git_commit_and_dirty_tree(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "pipeline.py").write_text("x = 1\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "first")
    head = git(tmp_path, "rev-parse", "HEAD")
    (tmp_path / "sub").mkdir()
    assert git_info(tmp_path / "sub") == (head, False)  # any folder of the repository
    (tmp_path / "pipeline.py").write_text("x = 2\n")
    assert git_info(tmp_path) == (head, True)


def test_no_repository_records_nothing(tmp_path: Path) -> None:
    assert git_info(tmp_path) == (None, None)
    assert git_info(tmp_path / "does-not-exist") == (None, None)


def test_package_versions_are_the_installed_ones() -> None:
    versions = package_versions()
    assert set(versions) <= set(PACKAGES)
    for name in ("prodml", "duckdb", "pyarrow", "deltalake"):
        assert versions[name] == metadata.version(name)
    assert package_versions() is versions  # computed once per process


def test_the_monitor_measures_cpu_and_peak_memory() -> None:
    with ResourceMonitor(interval=0.005) as idle:
        time.sleep(0.05)
    baseline = idle.peak_rss
    with ResourceMonitor(interval=0.005) as busy:
        block = bytearray(80 * 1024 * 1024)  # touched: resident
        for i in range(0, len(block), 4096):
            block[i] = 1
        deadline = time.process_time() + 0.2
        while time.process_time() < deadline:
            pass
        del block
    assert busy.cpu_seconds >= 0.15
    assert busy.peak_rss >= baseline + 60 * 1024 * 1024
    assert idle.cpu_seconds < busy.cpu_seconds


def test_the_monitor_stops_its_sampler_and_lets_errors_through() -> None:
    monitor = ResourceMonitor()
    with pytest.raises(RuntimeError, match="step failed"), monitor:
        raise RuntimeError("step failed")
    assert not monitor._thread.is_alive()
    assert monitor.peak_rss > 0
