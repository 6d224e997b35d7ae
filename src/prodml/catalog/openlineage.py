"""OpenLineage events: one ``COMPLETE`` run event per step run, to a file or an HTTP endpoint.

Datasets are named by their full table names (``dev.gold.customer_daily``), landing sources
``landing:<source>`` and model versions ``model:<name>/<version>``, in the platform's
namespace; jobs are ``<product>.<step>``. A failed emission is logged, never fails a run.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from prodml.catalog.lineage import node

log = logging.getLogger(__name__)

PRODUCER = "https://github.com/prodml/prodml"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


def run_event(
    *,
    namespace: str,
    catalog: str,
    run_id: str,
    step: str,
    edges: Iterable[Mapping[str, Any]],
    outputs: Mapping[str, Any] | None = None,
    ended_at: datetime | None = None,
) -> dict[str, Any]:
    """The OpenLineage RunEvent of a step run: its lineage edges, plus the tables it wrote
    (``outputs``: name → version; a step without inputs has outputs and no edges)."""
    inputs: dict[str, dict[str, Any]] = {}
    written: dict[str, dict[str, Any]] = {}
    pairs = [
        (side, name, version)
        for edge in edges
        for side, name, version in (
            (inputs, edge["source"], edge.get("source_version")),
            (written, edge["target"], edge.get("target_version")),
        )
    ] + [(written, name, version) for name, version in (outputs or {}).items()]
    for side, name, version in pairs:
        full = node(name, catalog)
        facets = {}
        if version is not None:
            facets["version"] = {
                "_producer": PRODUCER,
                "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/"
                "DatasetVersionDatasetFacet.json",
                "datasetVersion": str(version),
            }
        side[full] = {"namespace": namespace, "name": full, "facets": facets}
    return {
        "eventType": "COMPLETE",
        "eventTime": (ended_at or datetime.now(UTC)).isoformat(),
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"prodml:{run_id}:{step}"))},
        "job": {"namespace": namespace, "name": step, "facets": {}},
        "inputs": list(inputs.values()),
        "outputs": [o for name, o in written.items() if name not in inputs],
    }


class Emitter:
    """Sends events to a JSON-lines file or POSTs them to ``<url>/api/v1/lineage``."""

    def __init__(
        self,
        *,
        namespace: str,
        path: Path | None = None,
        url: str | None = None,
        api_key: str | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.namespace = namespace
        self.path = path
        self.url = url.rstrip("/") if url else None
        self._api_key = api_key
        self.timeout = timeout

    def emit(self, event: Mapping[str, Any]) -> None:
        """Write or send one event; problems are logged (lineage never fails a run)."""
        body = orjson.dumps(event)
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("ab") as out:
                    out.write(body + b"\n")
            if self.url is not None:
                import urllib.request

                request = urllib.request.Request(
                    f"{self.url}/api/v1/lineage",
                    data=body,
                    method="POST",
                    headers={"Content-Type": "application/json"}
                    | ({"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}),
                )
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                    answer.read()
        except Exception as exc:
            log.warning("OpenLineage event for %s not delivered: %s", event["job"]["name"], exc)


#: what the runner calls after each succeeded step: (run id, step, edges, outputs → versions)
Sender = Callable[[str, str, list[dict[str, Any]], dict[str, Any]], None]


def sender(
    *, namespace: str, catalog: str, path: Path | None, url: str | None, api_key: str | None
) -> Sender:
    """A function that turns each step run's lineage into an event and sends it."""
    emitter = Emitter(namespace=namespace, path=path, url=url, api_key=api_key)

    def send(run_id: str, step: str, edges: list[dict[str, Any]], outputs: dict[str, Any]) -> None:
        emitter.emit(
            run_event(
                namespace=namespace,
                catalog=catalog,
                run_id=run_id,
                step=step,
                edges=edges,
                outputs=outputs,
            )
        )

    return send
