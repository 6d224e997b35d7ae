"""The ``ctx`` object a step receives: SQL, other tables, landing files, params, logging."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from prodml.catalog.gate import Catalog
from prodml.catalog.policies import Access
from prodml.engine.base import Engine
from prodml.errors import UsageError
from prodml.names import check_column, quote_ident, quote_literal
from prodml.pipeline.hooks import Authorize, TrainingSet, TrainingSets
from prodml.pipeline.landing import landing_files
from prodml.pipeline.tracking import Tracker


@dataclass(frozen=True)
class StepScope:
    """Which step run a context is for (see :class:`StepContext`'s attributes)."""

    run_id: str
    env: str
    product: str
    step: str
    params: Mapping[str, Any]
    now: datetime
    partitions: list[str] | None
    partition_by: str | None
    full_refresh: bool


@dataclass(frozen=True)
class StepServices:
    """What a step run uses: the engine, the catalog (as ``access``), landing files, the
    feature store and governance's checks; ``on_read`` hears of every table read."""

    engine: Engine
    catalog: Catalog
    access: Access
    landing_root: Path
    on_read: Callable[[str, int], None]
    training_sets: TrainingSets | None = None
    authorize: Authorize | None = None


class StepContext:
    """What a step can use while it runs.

    Attributes:
        run_id: the prodml run id (the original one when a run is reproduced).
        env: the environment's name.
        product: the product that owns the step.
        step: the step's name.
        params: the product params the step declared (all of them if it declared none).
        now: the run's logical time (UTC); use it instead of the wall clock so reruns and
            reproductions write the same rows.
        partitions: the partition values being processed (None: not partitioned).
        full_refresh: whether everything is being recomputed.
        log: a logger for the step.
    """

    def __init__(
        self, scope: StepScope, services: StepServices, inputs: Sequence[str] = ()
    ) -> None:
        self.run_id = scope.run_id
        self.env = scope.env
        self.product = scope.product
        self.step = scope.step
        self.params = dict(scope.params)
        self.now = scope.now
        self.partitions = scope.partitions
        self.partition_by = scope.partition_by
        self.full_refresh = scope.full_refresh
        self.log = logging.getLogger(f"prodml.step.{scope.product}.{scope.step}")
        self._engine = services.engine
        self._catalog = services.catalog
        self._access = services.access
        self._landing_root = services.landing_root
        self._on_read = services.on_read
        self._inputs = {str(services.catalog.name(t)) for t in inputs}
        self._training_sets = services.training_sets
        self.tracker: Tracker | None = None
        self._authorize = services.authorize
        # lineage: the model versions this step scored with (sources of its outputs)
        self.models_used: list[str] = []

    def _model_access(self, action: str, tracker: Tracker) -> None:
        """Governance: CREATE_MODEL on the ml schema to register, EXECUTE to load or score,
        MODIFY to set aliases."""
        if self._authorize is not None:
            self._authorize(self._access, action, "model", tracker.registered_name)

    def _tracked(self, what: str) -> Tracker:
        if self.tracker is None:
            raise UsageError(
                f"ctx.{what} is for train, evaluate and apply steps of a product with a model",
                hint="declare stage='train', 'evaluate' or 'apply' and a 'model:' section in "
                "product.yaml",
            )
        return self.tracker

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record parameters on the step's tracking run."""
        self._tracked("log_params").log_params(params)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Record metrics on the step's tracking run."""
        self._tracked("log_metrics").log_metrics(metrics, step)

    def log_model(
        self,
        model: Any,
        *,
        input_example: Any,
        name: str | None = None,
        training_set: TrainingSet | None = None,
    ) -> pa.Table:
        """Log ``model`` with its signature and an input example, and register a new version.

        With ``training_set`` (from :meth:`training_set`) its spec is logged with the version:
        the model is recorded as a consumer of those features, and serving knows what to look
        up online. Returns a one-row table describing the version: return it from the step.
        """
        spec = training_set.spec if training_set is not None else None
        self._model_access("create_model", self._tracked("log_model"))
        record = self._tracked("log_model").log_model(
            model, input_example=input_example, name=name, training_set=spec
        )
        # lineage: what the step has read so far → the version it registered
        self._catalog.link(
            self._access, f"model:{record.column('model')[0]}/{record.column('version')[0].as_py()}"
        )
        if spec is not None:
            self._features("log_model(training_set=...)").record_consumers(
                spec,
                model=str(record.column("model")[0]),
                version=int(record.column("version")[0].as_py()),
                product=self.product,
                run_id=self.run_id,
            )
        return record

    def _features(self, what: str) -> TrainingSets:
        if self._training_sets is None:
            raise UsageError(f"ctx.{what} needs the feature store, which this run was not given")
        return self._training_sets

    def training_set(self, spine: Any, *, timestamp: str, lookups: Sequence[Any]) -> Any:
        """Point-in-time features for every row of ``spine`` (a relation or frame of labels).

        For each spine row at time ``t`` and each lookup: the row of the feature table with
        the same keys and the latest event time ``<= t`` (and ``>= t - ttl``); ties go to the
        latest created time; unmatched rows get NULLs; every spine row is kept. The feature
        tables must be inputs of the step (so their producers run first).
        """
        features = self._features("training_set")
        for lookup in lookups:
            full = features.table_name(lookup.table)
            if full not in self._inputs:
                short = full.split(".", 1)[1]
                raise UsageError(
                    f"step {self.product}.{self.step} looks up {short} but does not "
                    "declare it as an input",
                    hint=f'add "{short}" to inputs=[...] of the step, so the step that '
                    "produces it runs first",
                )
        return features.build(
            self._access,
            spine,
            timestamp=timestamp,
            lookups=lookups,
            on_read=self._on_read,
            con=self._engine.con,
        )

    def load_model(self, *, version: int | None = None, alias: str | None = None) -> Any:
        """Load a version (or the ``champion``/``challenger``) of the product's model."""
        tracker = self._tracked("load_model")
        self._model_access("execute", tracker)
        return tracker.load_model(version=version, alias=alias)

    def score(
        self,
        data: Any,
        *,
        alias: str | None = "champion",
        version: int | None = None,
        keep: Sequence[str] = (),
        chunk_rows: int = 100_000,
        workers: int = 1,
    ) -> pa.RecordBatchReader:
        """Score ``data`` with the product's model (``alias`` or ``version``), chunk by chunk.

        Returns ``keep`` columns, ``prediction`` and the model name, version, alias, run id and
        scoring time: a predictions table linked to the model version that made it.
        """
        tracker = self._tracked("score")
        self._model_access("execute", tracker)
        scored = tracker.score(
            data, alias=alias, version=version, keep=keep, chunk_rows=chunk_rows, workers=workers
        )
        name, used = tracker.resolve(version=version, alias=alias)
        self.models_used.append(f"model:{name}/{used}")
        return scored

    def candidate(self) -> int:
        """The newest registered version of the product's model (what evaluate checks)."""
        return self._tracked("candidate").candidate()

    def gate(
        self,
        metrics: Mapping[str, float],
        *,
        version: int,
        champion_metrics: Mapping[str, float] | None = None,
    ) -> pa.Table:
        """Check ``version``'s metrics against the gate in product.yaml (and the champion).

        On a pass the version becomes ``challenger`` and a one-row record is returned; on a
        failure the step fails with the metric table. Setting aliases (and promoting, with
        ``--promote``) changes the registered model: governance checks MODIFY on it.
        """
        tracker = self._tracked("gate")
        self._model_access("modify_model", tracker)
        return tracker.gate(metrics, version=version, champion_metrics=champion_metrics)

    @property
    def engine(self) -> Engine:
        """The engine (its DuckDB connection is ``ctx.engine.con``)."""
        return self._engine

    def sql(self, query: str, **params: Any) -> Any:
        """Run SQL over the inputs (by argument name or ``schema.table``); ``$name`` binds params."""
        return self._engine.sql(query, **params)

    def table(self, name: str, *, version: int | None = None, alias: str | None = None) -> Any:
        """Read any whole table of the catalog (recorded as an input of this step).

        With ``alias``, ``ctx.sql`` can refer to it by that name (the step's own inputs keep
        their pruned partitions under their usual names).
        """
        table = self._catalog.name(name)
        dataset, resolved = self._catalog.read(table, self._access, version=version)
        self._on_read(str(table), resolved)
        if alias is not None:
            self._engine.register_alias(check_column(alias), dataset)
            return self._engine.sql(f"SELECT * FROM {quote_ident(alias)}")
        return self._engine.relation(dataset)

    def files(self, source: str) -> list[str]:
        """The landing files of ``source`` for the partitions being processed."""
        return landing_files(self._landing_root, source, self.partition_by, self.partitions)

    def read_files(self, files: Sequence[str], *, format: str, columns: Sequence[str]) -> Any:
        """Read landing files as received: every column as text, plus ``_source_file``.

        Args:
            files: paths (from the step's landing argument or :meth:`files`).
            format: ``csv`` or ``json`` (newline-delimited).
            columns: the columns to read (missing ones read as NULL).
        """
        names = ", ".join(f"{quote_literal(c)}: 'VARCHAR'" for c in columns)
        if not files:
            cols = ", ".join(f"NULL::VARCHAR AS {quote_ident(c)}" for c in columns)
            return self._engine.sql(f"SELECT {cols}, NULL::VARCHAR AS _source_file LIMIT 0")
        paths = "[" + ", ".join(quote_literal(str(f)) for f in files) + "]"
        if format == "csv":
            # columns by their header names (any order; one missing from a file is NULL)
            reader = (
                f"read_csv({paths}, header=true, delim=',', quote='\"', all_varchar=true, "
                "union_by_name=true, filename=true, hive_partitioning=false)"
            )
            found = set(self._engine.sql(f"SELECT * FROM {reader} LIMIT 0").columns)
            cols = ", ".join(
                quote_ident(c) if c in found else f"NULL::VARCHAR AS {quote_ident(c)}"
                for c in columns
            )
            return self._engine.sql(f"SELECT {cols}, filename AS _source_file FROM {reader}")
        if format == "json":
            reader = f"read_json({paths}, format='newline_delimited', columns={{{names}}}, filename=true, hive_partitioning=false)"
        else:
            raise UsageError(f"unknown landing format {format!r}", hint="csv or json")
        return self._engine.sql(
            f"SELECT * EXCLUDE (filename), filename AS _source_file FROM {reader}"
        )
