"""Landing sources: folders of files as they arrive, one ``<column>=<value>`` folder per batch.

A source that does not exist (a misspelled ``landing_dir`` or source name) or holds nothing
is an error, never an empty table: reading it as empty would replace good data. A file is
identified by its size and a hash of its content, never by its modification time, so a
platform copied with ``tar`` or ``rsync`` sees the same files as unchanged.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from prodml.errors import NotFoundError, UsageError, did_you_mean
from prodml.pipeline.fingerprint import digest

_CHUNK = 1 << 20


class LandingSourceMissingError(NotFoundError):
    """A landing source's folder (or the landing directory itself) does not exist."""


class LandingSourceEmptyError(UsageError):
    """A landing source's folder exists but holds no batch to read."""


def data_files(folder: Path) -> list[Path]:
    """The data files under ``folder`` (names starting with ``.`` or ``_`` are not data)."""
    out: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        out.extend(Path(root, f) for f in sorted(files) if not f.startswith((".", "_")))
    return out


def file_identity(path: Path) -> str:
    """A file's identity: its size and a hash of its bytes (not its mtime)."""
    h = hashlib.blake2b(digest_size=16)
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return f"{size}:{h.hexdigest()}"


def source_dir(landing_root: Path, source: str) -> Path:
    """The folder of ``source``; raises naming the path (and the nearest one that exists)."""
    base = landing_root / source
    if base.is_dir():
        return base
    if not landing_root.is_dir():
        parent = landing_root.parent
        near = _nearest(landing_root.name, parent)
        raise LandingSourceMissingError(
            "landing directory",
            str(landing_root),
            message=f"the landing directory {landing_root} does not exist, so landing source "
            f"{source!r} cannot be read",
            hint="; ".join(
                ([f"{near} (in {parent})"] if near else [])
                + ["check landing_dir in prodml.yaml; nothing was written"]
            ),
        )
    known = sorted(p.name for p in landing_root.iterdir() if p.is_dir())
    near = did_you_mean(source, known)
    raise LandingSourceMissingError(
        "landing source",
        source,
        known,
        message=f"landing source {source!r} does not exist: no folder {base}",
        hint="; ".join(
            ([near] if near else [])
            + ([f"sources in {landing_root}: {', '.join(known)}"] if known else [])
            + ["fix the step's inputs=['landing:…'] or create the folder; nothing was written"]
        ),
    )


def _nearest(name: str, parent: Path) -> str | None:
    if not parent.is_dir():
        return None
    return did_you_mean(name, [p.name for p in parent.iterdir() if p.is_dir()])


def partition_dirs(landing_root: Path, source: str, column: str | None) -> dict[str, Path]:
    """``value → folder`` of the ``column=value`` folders of ``source`` (every
    ``key=value`` folder when ``column`` is None). Raises when the source is missing or
    holds no such folder."""
    base = source_dir(landing_root, source)
    found: dict[str, Path] = {}
    others: list[str] = []
    for part in sorted(base.iterdir()):
        if not part.is_dir() or part.name.startswith((".", "_")):
            continue
        key, sep, value = part.name.partition("=")
        if sep and (column is None or key == column):
            found[value] = part
        else:
            others.append(part.name)
    if not found and column is not None:
        seen = (
            f" (found {', '.join(others[:3])}{' …' if len(others) > 3 else ''})" if others else ""
        )
        raise LandingSourceEmptyError(
            f"landing source {source!r} holds no {column}=… folder in {base}{seen}",
            hint=f"files arrive as {base}/{column}=<value>/<file>; nothing was written",
        )
    return found


def partition_ids(landing_root: Path, source: str, column: str | None) -> dict[str, str]:
    """A content id per partition of ``source``: what changes when a file of it changes."""
    return {
        value: digest([(str(f.relative_to(folder)), file_identity(f)) for f in data_files(folder)])
        for value, folder in partition_dirs(landing_root, source, column).items()
    }


def landing_files(
    landing_root: Path, source: str, column: str | None, partitions: list[str] | None
) -> list[str]:
    """The data files of a landing source, restricted to ``partitions`` of ``column``.

    Unpartitioned (``column`` None): every file of the source. Raises when the source does
    not exist or holds no file at all.
    """
    if column is None:
        files = data_files(source_dir(landing_root, source))
        if not files:
            raise LandingSourceEmptyError(
                f"landing source {source!r} holds no file in {landing_root / source}",
                hint="nothing was written; run again once files have arrived",
            )
        return [str(f) for f in files]
    folders = partition_dirs(landing_root, source, column)
    out: list[str] = []
    for value, folder in folders.items():
        if partitions is None or value in partitions:
            out.extend(str(f) for f in data_files(folder))
    return out
