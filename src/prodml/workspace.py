"""The façade: one ``Workspace`` per platform directory and environment owns every operation."""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prodml.config import Platform, Secrets, config_hash, find_root, load_platform

if TYPE_CHECKING:
    import pyarrow as pa

    from prodml.catalog.gate import Catalog, TableInfo
    from prodml.catalog.openlineage import Sender
    from prodml.catalog.store import MetadataStore
    from prodml.config.expectations import Expectation
    from prodml.config.product import Experiment, ModelConfig
    from prodml.engine.local import LocalEngine
    from prodml.features.service import FeatureStore
    from prodml.governance.service import Governance
    from prodml.models.registry import ModelRegistry
    from prodml.names import TableName
    from prodml.pipeline.dag import Dag
    from prodml.pipeline.planner import RunOptions, StepPlan
    from prodml.pipeline.project import Product
    from prodml.pipeline.reproduce import ReproduceReport
    from prodml.pipeline.runner import Event, Runner, RunResult
    from prodml.pipeline.step import StepSpec
    from prodml.pipeline.tracking import StepRunInfo, Tracker


def connect(
    path: str | os.PathLike[str] = ".",
    env: str | None = None,
    *,
    principal: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Workspace:
    """Open the platform at ``path`` (or the closest parent holding ``prodml.yaml``).

    Args:
        path: the platform directory or any directory below it.
        env: the environment (default: the platform's ``default_env``).
        principal: who is acting (default: the local user).
        environ: environment variables to read overrides and secrets from (default: os.environ).
    """
    root = find_root(Path(path))
    return Workspace(load_platform(root, env, environ), principal=principal, environ=environ)


class Workspace:
    """Everything prodml does in one platform and environment. The CLI and HTTP call only this."""

    def __init__(
        self,
        platform: Platform,
        *,
        principal: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.platform = platform
        self.root = platform.root
        self.settings = platform.settings
        self.env = platform.env
        self._principal = principal
        environ = os.environ if environ is None else environ
        secrets_file = self.settings.secrets_file
        self.secrets = Secrets(self._path(secrets_file) if secrets_file else None, environ)
        self._environ = environ

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace(root={str(self.root)!r}, env={self.env!r})"

    def close(self) -> None:
        """Release connections."""
        if "features" in self.__dict__:
            self.features.close()
        if "store" in self.__dict__:
            self.store.close()

    # -- wiring -----------------------------------------------------------------------------

    @cached_property
    def governance(self) -> Governance:
        """Principals, grants, checks and the audit log (declarations applied on first use)."""
        from prodml.governance.service import Governance

        governance = Governance(self.store, self.platform.file.governance)
        if governance.enabled:
            governance.apply_config()
        return governance

    @cached_property
    def principal(self) -> str:
        """Who is acting: given to ``connect``, from ``PRODML_TOKEN``, or the local user."""
        if self._principal:
            return self._principal
        if self.platform.file.governance.enabled:
            return self.governance.identify(self._environ)
        return f"user:{_local_user()}"

    def _path(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else self.root / path

    @property
    def state_dir(self) -> Path:
        """Where metadata, tracking and scratch files live."""
        return self._path(self.settings.state_dir)

    @property
    def landing_dir(self) -> Path:
        """Where landing files arrive."""
        return self._path(self.settings.landing_dir)

    @cached_property
    def store(self) -> MetadataStore:
        """The metadata store."""
        from prodml.catalog.store import MetadataStore

        url = self.settings.metadata.url
        if url is None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{self.state_dir / 'prodml.db'}"
        return MetadataStore(self.secrets.resolve(url))

    @cached_property
    def catalog(self) -> Catalog:
        """This environment's catalog (the gate for every table read and write)."""
        from prodml.catalog.gate import Catalog
        from prodml.catalog.policies import RecordsPolicy
        from prodml.quality.policy import QualityPolicy
        from prodml.tables.delta import DeltaTables

        root = self.settings.storage.root
        if "://" not in root:
            root = str(self._path(root))
        options = {k: self.secrets.resolve(v) for k, v in self.settings.storage.options.items()}
        tables = DeltaTables(root, options)
        quality = QualityPolicy(
            self._expectations, self.store, lambda: self.catalog, self._quality_alert
        )
        policies: list[Any] = [quality, RecordsPolicy(self.store, self._openlineage())]
        if self.platform.file.governance.enabled:
            from prodml.governance.service import GovernancePolicy

            # first: a refused read or write is decided before anything else looks at it
            def exists(t: TableName) -> bool:
                return tables.exists(tables.location(t.catalog, t.schema, t.table))

            policies.insert(0, GovernancePolicy(self.governance, exists))
        return Catalog(self.settings.catalog, self.store, tables, policies)

    @cached_property
    def features(self) -> FeatureStore:
        """The feature store: declared feature tables, training sets, the online store."""
        return self._feature_store("features")

    def _feature_store(self, step: str) -> FeatureStore:
        """A feature store with its own online-store connection."""
        from prodml.catalog.policies import Access
        from prodml.features.service import FeatureStore
        from prodml.features.training import declared_tables

        declared = declared_tables(
            {n: p.config for n, p in self.products.items()},
            self.dag.producers,
            self.settings.catalog,
        )
        url = self.settings.online_store.url
        return FeatureStore(
            self.catalog,
            declared,
            Access(principal=self.principal, step=step),
            online_url=self.secrets.resolve(url) if url else None,
            state_dir=self.state_dir,
            model_spec=self._serving_spec,
            # online values are the table's: the caller needs SELECT on it
            check_read=lambda principal, table: self.governance.check_named(
                Access(principal=principal), "read", "table", table, client="online"
            ),
        )

    def _serving_spec(self, product: str) -> dict[str, Any] | None:
        """The training-set spec of a product's champion (its feature service)."""
        config = self.product(product).config
        if config.model is None:
            return None
        version = self.models.alias_version(config.model.name, "champion")
        return None if version is None else self.models.training_set(config.model.name, version)

    @cached_property
    def _expectation_index(self) -> dict[str, tuple[list[Expectation], str]]:
        from prodml.quality.declared import expectation_index

        return expectation_index(self.products, self.settings.catalog)

    def _quality_alert(self, table: TableName, message: str) -> None:
        """A ``fail`` expectation fired: alert like drift does (log, and the owner's webhook)."""
        owner = next(
            (
                p
                for p in self.products.values()
                if any(self.catalog.name(k) == table for k in p.config.tables)
            ),
            None,
        )
        self._alert(owner, {"kind": "quality", "table": str(table), "summary": message})

    def _alert(self, product: Product | None, event: dict[str, Any]) -> str:
        """Send an alert to the log and the product's webhook (if it names one)."""
        from prodml.utils.notify import notify

        alerts = product.config.alerts if product else None
        return notify(
            {**event, "env": self.env},
            webhook=self.secrets.resolve(alerts.webhook) if alerts and alerts.webhook else None,
            timeout=alerts.timeout_seconds if alerts else 5.0,
        )

    def _expectations(self, table: TableName) -> tuple[list[Expectation], str] | None:
        """The expectations a table's writes must meet (from its product's product.yaml)."""
        return self._expectation_index.get(str(table))

    @cached_property
    def products(self) -> dict[str, Product]:
        """Every product of the platform, loaded for this environment."""
        from prodml.pipeline.project import load_products

        return load_products(
            self._path(self.settings.products_dir),
            self.env,
            self.root,
            self.platform.file.environments,
        )

    def product(self, name: str) -> Product:
        """One product (``NotFoundError`` with did-you-mean otherwise)."""
        from prodml.pipeline.project import require_product

        return require_product(self.products, name)

    @cached_property
    def dag(self) -> Dag:
        """The DAG of every product's steps."""
        from prodml.pipeline.dag import Dag

        return Dag.build(self.products.values(), self.settings.catalog)

    def config_hash(self, product: Product) -> str:
        """Hash of the environment's settings and the product's config."""
        return config_hash(self.settings, product.config)

    def engine(self) -> LocalEngine:
        """A fresh engine with the environment's compute profile."""
        from prodml.engine.local import LocalEngine

        return LocalEngine(self.settings.catalog, self.settings.profile())

    def runner(self, on_event: Event | None = None) -> Runner:
        """A runner bound to this workspace."""
        from prodml.pipeline.runner import RunEnv, Runner

        renv = RunEnv(
            env=self.env,
            catalog=self.catalog,
            store=self.store,
            dag=self.dag,
            products=self.products,
            landing_root=self.landing_dir,
            project_root=self.root,
            principal=self.principal,
            config_hash=self.config_hash,
            make_engine=self.engine,
            tracker_factory=self._tracker,
            preflight=self._preflight,
            run_as=lambda p: self.governance.run_as(self.principal, p.config.run_as),
            authorize=self.governance.check_named,
        )
        return Runner(renv, on_event)

    def _openlineage(self) -> Sender | None:
        """The OpenLineage sender of ``openlineage:`` in prodml.yaml (None: none configured)."""
        config = self.settings.openlineage
        if config is None:
            return None
        from prodml.catalog.openlineage import sender

        return sender(
            namespace=config.namespace,
            catalog=self.settings.catalog,
            path=self._path(config.path) if config.path else None,
            url=config.url,
            api_key=self.secrets.resolve(config.api_key) if config.api_key else None,
        )

    # -- models -----------------------------------------------------------------------------

    @cached_property
    def models(self) -> ModelRegistry:
        """This environment's model registry (MLflow)."""
        from prodml.models.registry import ModelRegistry, tracking_target

        target = tracking_target(
            self.env, self.settings.tracking, self.state_dir, self.secrets.resolve
        )
        return ModelRegistry(target)

    def _preflight(self, steps: list[StepSpec]) -> None:
        from prodml.pipeline.tracking import MODEL_STAGES

        if any(
            s.stage in MODEL_STAGES and self.products[s.product].config.model is not None
            for s in steps
        ):
            self.models.client  # noqa: B018 - connects (and fails fast if unreachable)

    def _tracker(self, info: StepRunInfo) -> Tracker:
        from prodml.models.tracker import MlflowTracker

        model = self.product(info.product).config.model
        assert model is not None  # the runner only asks for products with a model
        return MlflowTracker(self.models, model, info)

    def model_config(self, product: str) -> ModelConfig:
        """The product's ``model:`` section (a clear error if it has none)."""
        from prodml.models.errors import ModelError

        model = self.product(product).config.model
        if model is None:
            with_models = [n for n, p in self.products.items() if p.config.model is not None]
            raise ModelError(
                f"product {product} declares no model",
                hint=f"products with a model: {', '.join(with_models) or 'none'}",
            )
        return model

    def model_versions(self, product: str) -> list[dict[str, Any]]:
        """Versions of the product's registered model, newest first."""
        return self.models.versions(self.model_config(product).name)

    def promote_model(self, product: str) -> dict[str, Any]:
        """Make the product's challenger the champion in this environment (MODIFY on it)."""
        model = self.model_config(product).name
        self._check_model("modify_model", model, self)
        return self.models.promote(model, principal=self.principal)

    def _check_model(self, action: str, model: str, ws: Workspace) -> None:
        """Governance: ``action`` on ``ws``'s registered model (nothing when governance is off)."""
        from prodml.catalog.policies import Access

        name = ws.models.registered_name(model)
        self.governance.check_named(Access(self.principal), action, "model", name, client="cli")

    def promote(self, product: str, *, to_env: str) -> dict[str, Any]:
        """Deploy-model promotion: copy this environment's champion into ``to_env``."""
        from prodml.models.promotion import promote_across

        if to_env == self.env:
            from prodml.errors import UsageError

            raise UsageError("--from and --to name the same environment")
        target = Workspace(
            load_platform(self.root, to_env, self._environ),
            principal=self.principal,
            environ=self._environ,
        )
        try:
            # reading the source version and changing the target model, both checked
            self._check_model("execute", self.model_config(product).name, self)
            self._check_model("modify_model", target.model_config(product).name, target)
            return promote_across(
                product,
                self.models,
                target.models,
                self.model_config(product),
                target.model_config(product),
                principal=self.principal,
            )
        finally:
            target.close()

    # -- serving ----------------------------------------------------------------------------

    def endpoint_products(self, products: Sequence[str] | None = None) -> list[str]:
        """The products to serve: those named (each must declare an endpoint), else all that do."""
        from prodml.errors import UsageError

        with_endpoint = [n for n, p in self.products.items() if p.config.endpoint is not None]
        if not products:
            if not with_endpoint:
                raise UsageError(
                    "no product declares an endpoint",
                    hint="add an endpoint: section to a product.yaml that has a model",
                )
            return with_endpoint
        for name in products:
            self.product(name)  # unknown: NotFoundError with the list
            if name not in with_endpoint:
                raise UsageError(
                    f"product {name} declares no endpoint",
                    hint=f"products with an endpoint: {', '.join(with_endpoint) or 'none'}",
                )
        return list(dict.fromkeys(products))

    def serving_app(self, products: Sequence[str] | None = None, *, no_auth: bool = False) -> Any:
        """The FastAPI app serving ``products`` (default: every product with an endpoint)."""
        from prodml.serving.app import create_app
        from prodml.serving.build import build

        names = self.endpoint_products(products)
        features = self._feature_store("serve")
        served = build(
            {n: self.product(n).config for n in names},
            self.models,
            self.catalog,
            principal=f"service:serving@{self.env}",
            no_auth=no_auth,
            features=lambda: features.online_features,
            governance=self.governance if self.platform.file.governance.enabled else None,
            # the server writes a product's logs as the product's service principal
            run_as={
                n: self.governance.run_as(self.principal, self.product(n).config.run_as)
                for n in names
            },
        )
        # the server's own online-store connection, closed when the server stops
        return create_app(served, features=features, on_shutdown=features.close)

    # -- data quality -----------------------------------------------------------------------

    def quality_check(self, target: str) -> list[dict[str, Any]]:
        """Evaluate expectations on whole tables now: a table, or every table of a product.

        Nothing is dropped or quarantined (the table is already written); the results are
        recorded like those of writes.
        """
        from prodml.catalog.policies import Access
        from prodml.quality.declared import checked_tables
        from prodml.quality.policy import check_table

        index = self._expectation_index
        access = Access(principal=self.principal, step="quality check")
        return [
            check_table(self.catalog, self.store, table, *index[str(table)], access)
            for table in checked_tables(target, self.products, self.catalog, index)
        ]

    def quality_report(self, table: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Recorded data-quality results, newest first (of one table, or all)."""
        name = str(self.catalog.name(table)) if table else None
        return self.store.dq_results(self.settings.catalog, table=name, limit=limit)

    # -- drift ------------------------------------------------------------------------------

    def drift_run(
        self,
        target: str,
        *,
        reference: str | None = None,
        current: str | None = None,
        html: Path | None = None,
    ) -> dict[str, Any]:
        """Compare the watched tables of a product (or one table) between two windows.

        Results go to ``monitoring.drift_results``; a JSON and a self-contained HTML report are
        written (default: under the state directory); drift raises an alert, and retrains when
        the product says so.
        """
        from prodml.catalog.policies import Access
        from prodml.drift.run import run

        product, config, report = run(
            self.catalog,
            self.engine,
            self.products,
            target,
            reference=reference,
            current=current,
            access=Access(principal=self.principal, step="drift run"),
            env=self.env,
            html=html or self.state_dir / "drift" / f"{target}.{{stamp}}.html",
        )
        columns, drifted = report["drifted_columns"], report["drifted_tables"]
        if columns:
            report["alert"] = self._alert(
                product,
                {
                    "kind": "drift",
                    "target": target,
                    "summary": f"drift in {', '.join(columns)}",
                    "drifted_tables": drifted,
                    "report": report["html"],
                },
            )
            if product is not None and config.retrain and drifted:
                from prodml.pipeline.tracking import TRACKED_STAGES

                steps = [s.name for s in product.steps if s.stage in TRACKED_STAGES]
                if steps:
                    report["retrain"] = self.run(product.name, steps=steps, check=False).run_id
        return report

    # -- A/B tests --------------------------------------------------------------------------

    def experiments(self) -> list[dict[str, Any]]:
        """Every product's A/B experiments, with their latest decision."""
        from prodml.abtest.decision import experiments

        decisions = self.store.decisions(self.settings.catalog)
        return experiments({n: p.config for n, p in self.products.items()}, decisions)

    def _experiment(self, name: str, product: str | None) -> tuple[str, Experiment]:
        from prodml.abtest.decision import find

        if product is not None:
            self.product(product)  # unknown product: NotFoundError with the list
        return find({n: p.config for n, p in self.products.items()}, name, product)

    def ab_report(
        self, experiment: str, *, product: str | None = None, chart: Path | None = None
    ) -> dict[str, Any]:
        """Analyse an experiment: per-variant results, lift, p-values, SRM, a recommendation.

        A PNG chart of the metrics over time is written to ``chart`` (default: under the state
        directory) and its path is part of the report.
        """
        from prodml.abtest.report import report
        from prodml.catalog.policies import Access

        pname, exp = self._experiment(experiment, product)
        engine = self.engine()
        try:
            return report(
                self.catalog,
                engine,
                self.product(pname).config,
                experiment,
                exp,
                Access(principal=self.principal, step="ab report"),
                chart or self.state_dir / "ab" / f"{pname}.{experiment}.png",
            )
        finally:
            engine.close()

    def ab_conclude(
        self, experiment: str, *, product: str | None = None, decision: str | None = None
    ) -> dict[str, Any]:
        """Act on an experiment: promote the treatment's model to the control's alias, or keep
        the control (the treatment's ``challenger`` alias is removed); record the decision."""
        from prodml.abtest.decision import check, choose

        check(decision)
        pname, exp = self._experiment(experiment, product)
        report = self.ab_report(experiment, product=pname)
        chosen, reason = choose(report, decision, self.principal)
        config = self.product(pname).config
        model = self.model_config(pname).name
        self._check_model("modify_model", model, self)  # it moves the model's aliases
        assert config.endpoint is not None
        control = config.endpoint.variants[exp.control].alias
        treatment = config.endpoint.variants[exp.treatment].alias
        registry = self.models
        before, after = registry.settle(
            model,
            control=control,
            treatment=treatment,
            promote=chosen == "promote_treatment",
            tags={f"prodml.ab.{experiment}": chosen, "prodml.ab.decided_by": self.principal},
            principal=self.principal,
        )
        record = {
            "catalog": self.settings.catalog,
            "product": pname,
            "experiment": experiment,
            "decision": chosen,
            "reason": reason,
            "model": registry.registered_name(model),
            "champion_before": before,  # the control alias (champion in the example)
            "champion_after": after,
            "decided_by": self.principal,
        }
        return {"id": self.store.record_decision({**record, "report": report}), **record}

    def compare_runs(self, product: str, limit: int = 20) -> list[dict[str, Any]]:
        """The product's tracking runs side by side: params and metrics."""
        self.model_config(product)  # unknown product / no model: a clear error
        return self.models.compare_runs(product, limit)

    # -- pipelines --------------------------------------------------------------------------

    def plan(
        self,
        product: str,
        *,
        steps: Sequence[str] | None = None,
        partitions: str | None = None,
        full_refresh: bool = False,
    ) -> list[StepPlan]:
        """What ``run`` would do now, without running anything.

        A step downstream of one that will run is shown as running: its inputs are about to
        change (the runner re-plans it once they have).
        """
        from prodml.catalog.policies import Access
        from prodml.pipeline.invoke import step_code
        from prodml.pipeline.planner import Planner

        prod = self.product(product)
        options = _options(steps, partitions, full_refresh)
        engine = self.engine()
        try:
            planner = Planner(
                self.catalog,
                self.landing_dir,
                engine.version,
                self.store,
                Access(principal=self.principal, step="plan"),
            )
        finally:
            engine.close()
        plans: list[StepPlan] = []
        changing: set[str] = set()
        for name in self.dag.selection(prod, options.steps):
            spec = self.dag.steps[name]
            owner = self.products[spec.product]
            plan = planner.plan(spec, step_code(spec, owner), owner.config.params, options)
            ups = sorted(self.dag.upstream[name] & changing)
            if plan.action == "skip" and ups:
                plan.action, plan.reason = "run", f"upstream {ups[0]} will change its inputs"
                plan.partitions = (
                    None if spec.partition_by is None else ["(re-planned after upstream)"]
                )
            if plan.action == "run":
                changing.add(name)
            plans.append(plan)
        return plans

    def run(
        self,
        product: str,
        *,
        steps: Sequence[str] | None = None,
        partitions: str | None = None,
        full_refresh: bool = False,
        resume: str | None = None,
        promote: bool = False,
        on_event: Event | None = None,
        check: bool = True,
    ) -> RunResult:
        """Run a product's pipeline (and the upstream steps it needs).

        Args:
            product: the product's name.
            steps: only these steps (names within the product, or ``product.step``).
            partitions: backfill ``START..END`` (recompute those partitions).
            full_refresh: recompute everything.
            resume: a run id: re-run only what failed or never ran in it, with its options.
            promote: a version that passes the gate becomes champion at once (before the
                apply steps of the same run score with it).
            on_event: progress callback ``(kind, data)``.
            check: raise the first step error of a failed run (else it is in the result).
        """
        from prodml.pipeline.planner import RunOptions

        runner = self.runner(on_event)
        if resume:
            previous = self.store.get_run(resume)
            runner.reap_stale_runs()
            previous = self.store.get_run(previous["run_id"])
            if previous["status"] == "succeeded":
                from prodml.errors import UsageError

                raise UsageError(
                    f"run {previous['run_id']} succeeded: nothing to resume",
                    hint=f"run 'prodml run {previous['product']}' instead",
                )
            todo = [
                r["step"]
                for r in self.store.step_runs(previous["run_id"])
                if r["status"] not in ("succeeded", "skipped")  # failed, blocked, pending, killed
            ]
            base = RunOptions.from_json(previous["options"])
            options = RunOptions(
                steps=tuple(todo),
                partitions=base.partitions,
                full_refresh=base.full_refresh,
                promote=base.promote,
            )
            return runner.run(
                self.product(previous["product"]),
                options,
                resumed_from=previous["run_id"],
                check=check,
            )
        if promote:
            self.model_config(product)  # a clear error for a product without a model
        options = _options(steps, partitions, full_refresh, promote)
        return runner.run(self.product(product), options, check=check)

    def runs(self, product: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Recent runs in this environment, newest first."""
        if product is not None:
            self.product(product)
        self.runner().reap_stale_runs()
        return self.store.list_runs(product=product, catalog=self.settings.catalog, limit=limit)

    def run_info(self, run_id: str) -> dict[str, Any]:
        """One run with its step records."""
        run = self.store.get_run(run_id)
        return {**run, "steps": self.store.step_runs(run["run_id"])}

    def reproduce(self, run_id: str) -> ReproduceReport:
        """Re-execute a run against the table versions it read and compare outputs."""
        from prodml.pipeline.reproduce import reproduce

        return reproduce(self.runner(), run_id, self.state_dir / "scratch")

    # -- tables -----------------------------------------------------------------------------

    def lineage(self, name: str, *, upstream: bool = True, depth: int = 50) -> list[dict[str, Any]]:
        """Lineage edges from a table (``gold.x``), a landing source (``landing:orders``) or
        a model version (``model:dev.ml.churn/1``), upstream or downstream."""
        from prodml.catalog.lineage import walk

        edges = walk(self.store, name, self.settings.catalog, upstream=upstream, depth=depth)
        return [e.to_json() for e in edges]

    def tables(self) -> list[TableInfo]:
        """Every table of this environment's catalog."""
        return self.catalog.list()

    def table(self, name: str) -> TableInfo:
        """One table's catalog entry and live facts."""
        return self.catalog.describe(self.catalog.name(name))

    def history(self, name: str, limit: int | None = None) -> list[dict[str, Any]]:
        """A table's commit history, newest first."""
        from prodml.catalog.policies import Access

        return self.catalog.history(self.catalog.name(name), Access(self.principal), limit)

    def read(self, name: str, *, version: int | None = None) -> pa.Table:
        """A whole table (optionally at an older version) as Arrow."""
        from prodml.catalog.policies import Access

        dataset, _ = self.catalog.read(
            self.catalog.name(name), Access(self.principal), version=version
        )
        return dataset.to_table()

    def preview(self, name: str, *, version: int | None = None, limit: int = 20) -> pa.Table:
        """The first ``limit`` rows of a table."""
        from prodml.catalog.policies import Access

        dataset, _ = self.catalog.read(
            self.catalog.name(name), Access(self.principal), version=version
        )
        return dataset.head(limit)


def _options(
    steps: Sequence[str] | None, partitions: str | None, full_refresh: bool, promote: bool = False
) -> RunOptions:
    from prodml.errors import UsageError
    from prodml.pipeline.planner import PartitionRange, RunOptions

    if partitions and full_refresh:
        raise UsageError("--partitions and --full-refresh exclude each other")
    return RunOptions(
        steps=tuple(steps) if steps else None,
        partitions=PartitionRange.parse(partitions) if partitions else None,
        full_refresh=full_refresh,
        promote=promote,
    )


def _local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
