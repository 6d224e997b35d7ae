"""Endpoints from the products' configuration, with what the wiring injects: the models they
serve, who may call them, where their logs go, and the online features they look up."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from prodml.errors import UsageError
from prodml.serving import inference_log
from prodml.serving.auth import Guard
from prodml.serving.endpoint import Endpoint
from prodml.serving.errors import NotReadyError
from prodml.serving.inference_log import QueueWriter

if TYPE_CHECKING:
    import pyarrow as pa

    from prodml.catalog.gate import Catalog
    from prodml.catalog.policies import Access
    from prodml.config.product import InferenceLog, ProductConfig
    from prodml.features.lookup import OnlineFeatures
    from prodml.models.loaded import LoadedModel
    from prodml.names import TableName


class ModelSource(Protocol):
    """Where an endpoint's model versions come from (the environment's registry)."""

    def alias_version(self, model: str, alias: str) -> int | None:
        """The version an alias points at (None: not set)."""

    def load(self, model: str, version: int, flavor: str) -> LoadedModel:
        """A version, loaded with its signature."""


@dataclass(frozen=True)
class OutcomeFormat:
    """What the A/B package says outcomes are: how to parse a posted body into rows (``parse
    (doc, metrics, max_rows)``, rows with ``.n``), encode them, and document their table."""

    parse: Callable[[Any, set[str], int], Any]
    encode: Callable[[list[Any]], pa.Table]
    docs: Mapping[str, str]


class OutcomeLog:
    """Posted outcomes of one product: validated, queued, written to its outcomes table."""

    def __init__(
        self, fmt: OutcomeFormat, writer: QueueWriter, metrics: set[str], max_rows: int
    ) -> None:
        self._parse = fmt.parse
        self.writer = writer
        self.metrics = metrics
        self._max_rows = max_rows

    def accept(self, doc: Any) -> int:
        """Queue the outcomes of a request body; how many there were."""
        rows = self._parse(doc, self.metrics, self._max_rows)
        if not self.writer.put([rows]):
            raise NotReadyError("the outcome log is behind (queue full); retry")
        return int(rows.n)


@dataclass
class Served:
    """A product the server serves: its endpoint, who may call it, its outcome log."""

    endpoint: Endpoint
    guard: Guard | None  # None: no authentication (--no-auth, loopback)
    outcomes: OutcomeLog | None = None
    metrics: set[str] = field(default_factory=set)


def build(  # noqa: PLR0913 - what serving is built from, keyword-only
    products: Mapping[str, ProductConfig],
    *,
    models: ModelSource,
    catalog: Catalog,
    access: Callable[[str], Access],
    guard: Callable[[str], Guard] | None,
    governed: bool,
    outcomes: OutcomeFormat,
    features: Callable[[], OnlineFeatures] | None = None,
    journals: Path | None = None,
) -> dict[str, Served]:
    """One ``Served`` per product.

    Args:
        products: the products to serve (each with an endpoint and a model).
        models: the registry's versions.
        catalog: where the logs are written.
        access: who writes a product's logs.
        guard: the guard of a product's endpoint (None: ``--no-auth``).
        governed: whether governance decides who may call (else the endpoint's own tokens do,
            so an endpoint without tokens is refused).
        outcomes: the A/B package's outcome format.
        features: the online features (for endpoints with ``feature_lookups``).
        journals: where durable inference logs keep their journals (one directory per
            product; None: the logs are kept in memory only).
    """
    served: dict[str, Served] = {}
    for name, product in products.items():
        config, model = product.endpoint, product.model
        assert config is not None and model is not None
        if guard is not None and not governed and not config.auth.tokens:
            raise UsageError(
                f"the endpoint of {name} has no tokens, so nobody could call it",
                hint="create one with 'prodml tokens new' and add it under endpoint.auth."
                "tokens in product.yaml, or serve on 127.0.0.1 without authentication for development",
            )
        log = None
        if config.inference_log.enabled:
            journal = (
                journals / name / "inference_log"
                if journals is not None and config.inference_log.durable
                else None
            )
            log = _writer(
                catalog,
                product,
                access(name),
                "inference log",
                config.inference_log,
                journal=journal,
            )
        metrics = {m for e in product.ab.experiments.values() for m in e.metrics}
        outcome_log = None
        if metrics:
            writer = _writer(
                catalog, product, access(name), "outcomes", config.inference_log, outcomes
            )
            outcome_log = OutcomeLog(outcomes, writer, metrics, config.max_rows)
        endpoint = Endpoint(
            name,
            config,
            resolve=functools.partial(models.alias_version, model.name),
            load=functools.partial(_load, models, model.name, model.flavor),
            log_writer=log,
        )
        if config.feature_lookups and features is not None:
            from prodml.serving.features import FeatureEnricher

            endpoint.enricher = FeatureEnricher(features(), config.feature_lookups)
        served[name] = Served(endpoint, guard(name) if guard else None, outcome_log, metrics)
    return served


def _load(models: ModelSource, model: str, flavor: str, version: int) -> LoadedModel:
    return models.load(model, version, flavor)


def _writer(
    catalog: Catalog,
    product: ProductConfig,
    access: Access,
    kind: str,
    config: InferenceLog,
    outcomes: OutcomeFormat | None = None,
    *,
    journal: Path | None = None,
) -> QueueWriter:
    """A queue writer appending to the product's log table (registered on first write),
    journaled in ``journal`` (the durable mode)."""
    name = product.name
    table: TableName = catalog.name(
        product.outcomes_table if outcomes else product.inference_log_table
    )
    docs = outcomes.docs if outcomes else inference_log.DOCS
    encode = outcomes.encode if outcomes else inference_log.to_table

    def write(data: pa.Table) -> None:
        catalog.append(
            table,
            data,
            access,
            description=f"The {kind} of the {name} endpoint.",
            column_docs=docs,
            partition_by=["date"],
            owner_product=name,
        )

    durable = None
    if journal is not None:
        from prodml.serving.journal import Journal

        durable = Journal(journal)
    return QueueWriter(
        write,
        encode=encode,
        flush_rows=config.flush_rows,
        flush_seconds=config.flush_seconds,
        queue_rows=config.queue_rows,
        name=f"{name} {kind}",
        journal=durable,
        logged=(lambda blocks: _logged(catalog, table, access, blocks)) if durable else None,
    )


def _logged(
    catalog: Catalog, table: TableName, access: Access, blocks: list[Any]
) -> set[tuple[str, str]]:
    """The (request id, variant) pairs of ``blocks`` the log table already holds."""
    if not catalog.exists(table):
        return set()
    import duckdb

    days = sorted({b.time.date().isoformat() for b in blocks})
    dataset = catalog.read(table, access, partition_column="date", partitions=days)[0]
    ids = sorted({b.request_id for b in blocks})
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        con.register("log", dataset)
        found = con.execute(
            "SELECT DISTINCT request_id, variant FROM log WHERE request_id IN "
            "(SELECT unnest($ids))",
            {"ids": ids},
        ).fetchall()
    finally:
        con.close()
    return {(str(r), str(v)) for r, v in found}
