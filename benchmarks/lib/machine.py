"""What the numbers were measured on: the machine, its load, the package versions."""

from __future__ import annotations

import os
import platform
import time

from lib.memory import mem_total_gb


def machine_line(*, ram: bool = True) -> str:
    """``machine: host | arch | N CPUs | RAM | Python | OS`` (printed first by every script)."""
    parts = [platform.node(), platform.machine(), f"{os.cpu_count()} CPUs"]
    if ram:
        parts.append(mem_total_gb())
    parts += [
        f"{platform.python_implementation()} {platform.python_version()}",
        platform.platform(),
    ]
    return "machine: " + " | ".join(parts)


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages, e.g. ``0.52 0.61 0.40``."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def end_line(t_start: float, *, cpus: bool = False) -> str:
    """``load average at end: …; total N s`` (the last line of most scripts)."""
    cpu = f"; {os.cpu_count()} CPUs" if cpus else ""
    return f"load average at end: {loadavg()}{cpu}; total {time.perf_counter() - t_start:.0f} s"


def wait_for_load(threshold: float, max_wait: float) -> str:
    """Wait until the 1-minute load average is ≤ threshold (at most max_wait s); say how it
    went."""
    t0 = time.perf_counter()
    first = os.getloadavg()[0]
    if first <= threshold:
        return f"load average {loadavg()} before measuring (threshold {threshold:g})"
    if max_wait <= 0:
        return f"load average {loadavg()} before measuring: above {threshold:g}, not waiting"
    print(
        f"load average {loadavg()} > {threshold:g}: waiting up to {max_wait:.0f} s for it to drop",
        flush=True,
    )
    while os.getloadavg()[0] > threshold and time.perf_counter() - t0 < max_wait:
        time.sleep(5)
    waited = time.perf_counter() - t0
    now = os.getloadavg()[0]
    verdict = "dropped" if now <= threshold else "still above the threshold: measuring anyway"
    return (
        f"load average was {first:.2f} before measuring; waited {waited:.0f} s, now {loadavg()} "
        f"({verdict})"
    )


def versions(*dists: str) -> dict[str, str]:
    """The installed versions of distributions (``?`` when not installed)."""
    from importlib import metadata

    out = {}
    for name in dists:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "?"
    return out


def versions_text(found: dict[str, str]) -> str:
    """``name version, name version`` of :func:`versions`."""
    return ", ".join(f"{k} {v}" for k, v in found.items())
