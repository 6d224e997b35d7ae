"""The lineage graph: landing sources → steps → tables → model versions → predictions.

Edges are recorded by every step run (each input → each output, with versions); train steps
add input → ``model:<name>/<version>`` and apply steps ``model:<name>/<version>`` → output.
Walking the graph merges runs: one edge per (source, step, target), with the latest versions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from prodml.catalog.store import MetadataStore
from prodml.errors import NotFoundError

LANDING = "landing:"
MODEL = "model:"


@dataclass(frozen=True)
class Edge:
    """One lineage edge (the latest run that made it)."""

    source: str
    target: str
    step: str
    source_version: int | None
    target_version: int | None
    run_id: str
    depth: int


def node(name: str, catalog: str) -> str:
    """A node's canonical name: ``landing:x`` and ``model:...`` as they are, tables in full."""
    if name.startswith((LANDING, MODEL)):
        return name
    parts = name.split(".")
    return ".".join([catalog, *parts]) if len(parts) == 2 else name


def _merged(
    rows: Iterable[Mapping[str, Any]], catalog: str
) -> dict[tuple[str, str, str], dict[str, Any]]:
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in rows:  # oldest first: later runs overwrite
        key = (node(row["source"], catalog), row["step"], node(row["target"], catalog))
        merged[key] = dict(row)
    return merged


def walk(
    store: MetadataStore,
    start: str,
    catalog: str,
    *,
    upstream: bool = True,
    depth: int = 50,
    visible: Callable[[str], bool] | None = None,
) -> list[Edge]:
    """Edges reachable from ``start`` (breadth first), up or down, at most ``depth`` hops.
    With ``visible``, nodes it refuses (tables or models the principal may not see) are left
    out with their edges, and the walk does not pass through them."""
    edges = _merged(store.edges(catalog=catalog), catalog)
    if visible is not None:
        shown = {n for key in edges for n in (key[0], key[2]) if visible(n)}
        edges = {k: v for k, v in edges.items() if k[0] in shown and k[2] in shown}
    origin = node(start, catalog)
    known = {n for key in edges for n in (key[0], key[2])}
    if origin not in known:
        raise NotFoundError(
            "lineage node",
            start,
            sorted(known),
            hint=None if known else "lineage is recorded when steps run ('prodml run PRODUCT')",
        )
    out: list[Edge] = []
    seen: set[tuple[str, str, str]] = set()
    frontier = {origin}
    for level in range(1, depth + 1):
        following: set[str] = set()
        for key, row in sorted(edges.items()):
            source, step, target = key
            if key in seen or (target if upstream else source) not in frontier:
                continue
            seen.add(key)
            out.append(
                Edge(
                    source,
                    target,
                    step,
                    row.get("source_version"),
                    row.get("target_version"),
                    row["run_id"],
                    level,
                )
            )
            following.add(source if upstream else target)
        if not following:
            break
        frontier = following
    return out
