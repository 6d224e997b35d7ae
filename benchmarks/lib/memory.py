"""Memory of this process, of other processes and of the machine (Linux ``/proc``; ``None``
or a fallback elsewhere)."""

from __future__ import annotations

import gc
import sys
import threading
import time
from pathlib import Path
from typing import Any


def _status_kib(field: str, pid: int | str = "self") -> int | None:
    """A ``/proc/<pid>/status`` memory line (``VmRSS``, ``VmHWM``) in KiB; None off Linux."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def status_mb(field: str) -> float | None:
    """A ``/proc/self/status`` memory line (``VmRSS``, ``VmHWM``) in MiB; None off Linux."""
    kib = _status_kib(field)
    return None if kib is None else kib / 1024


def rss_mb_of(pid: int) -> float | None:
    """The resident memory of process ``pid`` in MiB (None if it is gone or off Linux)."""
    kib = _status_kib("VmRSS", pid)
    return None if kib is None else kib / 1024


def lifetime_peak_bytes() -> int:
    """This process's lifetime peak RSS in bytes (``ru_maxrss``)."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return ru if sys.platform == "darwin" else ru * 1024


def peak_mb() -> float | None:
    """This process's peak resident memory in MiB (``VmHWM``, else ``ru_maxrss``)."""
    hwm = status_mb("VmHWM")
    if hwm is not None:
        return hwm
    try:
        return lifetime_peak_bytes() / 2**20
    except ImportError:  # pragma: no cover
        return None


def group_rss_mb(pgid: int) -> float | None:
    """Summed RSS of the processes in a process group (e.g. gunicorn master + worker)."""
    total, seen = 0.0, False
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) != pgid:
                continue
            rss = _status_kib("VmRSS", proc.name)
            if rss is not None:
                total += rss / 1024
                seen = True
        except (OSError, ValueError, IndexError):
            continue
    return total if seen else None


def mem_total_mb(default: float = 16_384.0) -> float:
    """The machine's memory in MiB (``default`` when unknown)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return default


def mem_total_gb() -> str:
    """The machine's memory, e.g. ``24.0 GB RAM``."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GB RAM"
    except OSError:
        pass
    return "? RAM"


def mb(x: float | None) -> float | None:
    """Bytes as MiB (None stays None)."""
    return None if x is None else x / 2**20


def _rss_bytes() -> int:
    kib = _status_kib("VmRSS")
    return kib * 1024 if kib is not None else lifetime_peak_bytes()


class HighWater:
    """Wall and CPU seconds and peak RSS (bytes) of a ``with`` block in this process.

    The peak is the kernel's ``VmHWM`` after resetting it (``/proc/self/clear_refs``, Linux ≥ 4.0)
    at the start of the block; where that fails, the max of a 5 ms RSS sampler.
    """

    def __init__(self) -> None:
        self.method = "VmHWM reset"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sampled = 0

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.sampled = max(self.sampled, _rss_bytes())

    def __enter__(self) -> HighWater:
        gc.collect()
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            self.method = "5 ms sampler"
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        self.baseline = _rss_bytes()
        self.sampled = self.baseline
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.c0
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.sampled, _rss_bytes())
        else:
            hwm = _status_kib("VmHWM")
            self.peak = hwm * 1024 if hwm is not None else lifetime_peak_bytes()

    def facts(self) -> dict[str, Any]:
        """wall, cpu, peak and baseline (bytes), the lifetime peak, how the peak was taken."""
        return {
            "wall": self.wall,
            "cpu": self.cpu,
            "peak": self.peak,
            "baseline": self.baseline,
            "lifetime_peak": lifetime_peak_bytes(),
            "memory_method": self.method,
        }
