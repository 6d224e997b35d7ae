"""The composition root: one environment's components, built on first use and wired together.

Every domain gets what it needs from the others here, as objects or callables (governance's
checks, the feature store's training sets, alerts, retraining), so the domains do not import
each other. Nothing here decides anything: the rules live in the domains' services.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prodml import backends
from prodml.config import Platform, Secrets, config_hash, load_platform

if TYPE_CHECKING:
    from prodml.abtest.service import Experiments
    from prodml.catalog.definitions import Definitions
    from prodml.catalog.gate import Catalog
    from prodml.catalog.openlineage import Sender
    from prodml.catalog.policies import Access, Policy
    from prodml.catalog.store import MetadataStore
    from prodml.config.expectations import Expectation
    from prodml.drift.service import DriftMonitor
    from prodml.engine.base import Engine
    from prodml.features.service import FeatureStore
    from prodml.governance.admin import Administration
    from prodml.governance.service import Governance
    from prodml.models.registry import ModelRegistry
    from prodml.models.service import Models
    from prodml.names import TableName
    from prodml.pipeline.dag import Dag
    from prodml.pipeline.runner import RunEnv
    from prodml.pipeline.service import Pipelines
    from prodml.pipeline.tracking import StepRunInfo, Tracker
    from prodml.products import Product, StepSpec
    from prodml.quality.declared import Index
    from prodml.quality.service import Quality


class Wiring:
    """The components of one platform in one environment (each built once, on first use).

    Args:
        platform: the loaded platform, resolved for one environment.
        principal: who acts (None: from ``PRODML_TOKEN`` or the local user).
        environ: where overrides, secrets and ``PRODML_TOKEN`` are read (default: os.environ).
    """

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
        self.environ = os.environ if environ is None else environ
        self._principal = principal
        self._owner = True
        self.client: str | None = None  # the adapter acting for an authenticated caller
        secrets_file = self.settings.secrets_file
        self.secrets = Secrets(self.path(secrets_file) if secrets_file else None, self.environ)

    def path(self, value: str) -> Path:
        """A path of the configuration: relative ones are below the platform directory."""
        path = Path(value)
        return path if path.is_absolute() else self.root / path

    @property
    def state_dir(self) -> Path:
        """Where metadata, tracking and scratch files live."""
        return self.path(self.settings.state_dir)

    @property
    def landing_dir(self) -> Path:
        """Where landing files arrive."""
        return self.path(self.settings.landing_dir)

    def environment(self, env: str) -> Wiring:
        """The same platform in another environment (this one for ``env == self.env``)."""
        if env == self.env:
            return self
        platform = load_platform(self.root, env, self.environ)
        return Wiring(platform, principal=self.principal, environ=self.environ)

    def close(self) -> None:
        """Release connections (of the components that were built here)."""
        if not self._owner:
            return
        for name in ("features", "store"):
            if name in self.__dict__:
                self.__dict__[name].close()

    # -- core ------------------------------------------------------------------------------

    @cached_property
    def store(self) -> MetadataStore:
        """The metadata store (``metadata.type`` picks the backend; default: the URL's)."""
        from prodml.catalog.store import MetadataStore, metadata_type

        url = self.settings.metadata.url
        if url is None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{self.state_dir / 'prodml.db'}"
        url = self.secrets.resolve(url)
        factory = backends.load("metadata", self.settings.metadata.type or metadata_type(url))
        return MetadataStore(url, factory)

    @cached_property
    def products(self) -> dict[str, Product]:
        """Every product of the platform, loaded for this environment."""
        from prodml.pipeline.project import load_products

        directory = self.path(self.settings.products_dir)
        return load_products(directory, self.env, self.root, self.platform.file.environments)

    @cached_property
    def dag(self) -> Dag:
        """The DAG of every product's steps."""
        from prodml.pipeline.dag import Dag

        return Dag.build(self.products.values(), self.settings.catalog)

    def engine(self) -> Engine:
        """A fresh engine of the environment's compute profile (its ``engine:`` backend)."""
        profile = self.settings.profile()
        engine: Engine = backends.load("engine", profile.engine)(self.settings.catalog, profile)
        return engine

    @cached_property
    def catalog(self) -> Catalog:
        """This environment's catalog: the gate with its policies in order (governance decides
        first, quality judges writes, the records policy keeps commits and lineage)."""
        from prodml.catalog.gate import Catalog
        from prodml.catalog.policies import RecordsPolicy
        from prodml.quality.policy import QualityPolicy
        from prodml.tables.delta import DeltaTables

        root = self.settings.storage.root
        root = root if "://" in root else str(self.path(root))
        options = {k: self.secrets.resolve(v) for k, v in self.settings.storage.options.items()}
        policies: list[Policy] = [
            QualityPolicy(self._expectations, self.store, lambda: self.catalog, self._dq_alert),
            RecordsPolicy(self.store, self._openlineage()),
        ]
        if self.platform.file.governance.enabled:
            from prodml.governance.service import GovernancePolicy

            # a lambda: the catalog is being built (it is looked up when a write is checked)
            exists = lambda t: self.catalog.exists(t)  # noqa: E731, PLW0108
            policies.insert(0, GovernancePolicy(self.governance, exists))
        return Catalog(self.settings.catalog, self.store, DeltaTables(root, options), policies)

    @cached_property
    def definitions(self) -> Definitions:
        """Catalogs and schemas defined through the catalog API (in this store), beside the
        environments' catalogs that prodml.yaml defines."""
        from prodml.catalog.definitions import Definitions

        environments = {
            (overlay or {}).get("catalog") or name: name
            for name, overlay in self.platform.file.environments.items()
        }
        environments[self.settings.catalog] = self.env
        return Definitions(self.catalog, environments)

    def _openlineage(self) -> Sender | None:
        config = self.settings.openlineage
        if config is None:
            return None
        from prodml.catalog.openlineage import sender

        return sender(
            namespace=config.namespace,
            catalog=self.settings.catalog,
            path=self.path(config.path) if config.path else None,
            url=config.url,
            api_key=self.secrets.resolve(config.api_key) if config.api_key else None,
        )

    # -- governance ------------------------------------------------------------------------

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
        """Who is acting: from ``PRODML_TOKEN`` or the local user; with governance on, a
        principal given to ``connect`` is taken only from that identity itself or an admin
        (who then acts as it: audited), never on the caller's word."""
        if not self.platform.file.governance.enabled:
            return self._principal or f"user:{_local_user()}"
        actor = self.governance.identify(self.environ)
        if self._principal and self._principal != actor:
            self.governance.impersonate(actor, self._principal)
            return self._principal
        return actor

    #: what does not depend on who acts: shared by the views of other principals
    _SHARED = (
        "store",
        "catalog",
        "definitions",
        "products",
        "dag",
        "governance",
        "registry",
        "expectation_index",
        "declared_features",
    )

    def as_principal(self, principal: str, client: str) -> Wiring:
        """The same environment acting as ``principal``, an identity ``client`` (a server)
        has already authenticated by token: its connections and loaded products are shared."""
        view = Wiring(self.platform, environ=self.environ)
        view.client = client
        view.secrets = self.secrets
        for name in self._SHARED:
            if name in self.__dict__:
                view.__dict__[name] = self.__dict__[name]
        view.__dict__["principal"] = principal
        view._owner = False  # the connections are this wiring's: it closes them
        return view

    @cached_property
    def admin(self) -> Administration:
        """Governance administration as the acting principal."""
        from prodml.governance.admin import Administration

        return Administration(self.governance, self.principal)

    def authorize(self, access: Access, action: str, kind: str, name: str) -> None:
        """Governance's check of an action on a securable (nothing when governance is off)."""
        self.governance.check_named(access, action, kind, name)

    def allows(self, access: Access, action: str, kind: str, name: str) -> bool:
        """Whether governance would allow the action (decided only, not audited)."""
        from prodml.governance.privileges import Securable

        return self.governance.allows(access, action, Securable.parse(kind, name))

    def authorize_cli(self, access: Access, action: str, kind: str, name: str) -> None:
        """:meth:`authorize` for what a person asks directly (promotions)."""
        self.governance.check_named(access, action, kind, name, client="cli")

    # -- data quality and alerts -----------------------------------------------------------

    @cached_property
    def expectation_index(self) -> Index:
        """Every table's expectations (product.yaml and ``@step``)."""
        from prodml.quality.declared import expectation_index

        return expectation_index(self.products, self.settings.catalog)

    def _expectations(self, table: TableName) -> tuple[list[Expectation], str] | None:
        return self.expectation_index.get(str(table))

    def _dq_alert(self, table: TableName, message: str) -> None:
        """A ``fail`` expectation fired: alert the product that owns the table."""
        owner = next(
            (
                p
                for p in self.products.values()
                if any(self.catalog.name(k) == table for k in p.config.tables)
            ),
            None,
        )
        self.alert(owner, {"kind": "quality", "table": str(table), "summary": message})

    def alert(self, product: Product | None, event: dict[str, Any]) -> str:
        """Send an alert to the log and the product's webhook (if it names one)."""
        from prodml.utils.notify import notify

        alerts = product.config.alerts if product else None
        return notify(
            {**event, "env": self.env},
            webhook=self.secrets.resolve(alerts.webhook) if alerts and alerts.webhook else None,
            timeout=alerts.timeout_seconds if alerts else 5.0,
        )

    @cached_property
    def quality(self) -> Quality:
        """Data quality on demand and the recorded results."""
        from prodml.quality.service import Quality

        return Quality(
            self.catalog, self.store, self.products, self.expectation_index, self.principal
        )

    @cached_property
    def drift(self) -> DriftMonitor:
        """The drift monitor (alerts and retraining injected)."""
        from prodml.drift.service import DriftMonitor

        return DriftMonitor(
            self.catalog,
            self.engine,
            self.products,
            env=self.env,
            principal=self.principal,
            reports=self.state_dir / "drift",
            alert=self.alert,
            retrain=self._retrain,
        )

    def _retrain(self, product: str, steps: Sequence[str]) -> str:
        from prodml.pipeline.planner import RunOptions

        options = RunOptions.of(steps=steps)
        return self.pipelines.run(self.products[product], options, check=False).run_id

    # -- models ----------------------------------------------------------------------------

    @cached_property
    def registry(self) -> ModelRegistry:
        """This environment's model registry (MLflow)."""
        from prodml.models.registry import ModelRegistry, tracking_target

        target = tracking_target(
            self.env, self.settings.tracking, self.state_dir, self.secrets.resolve
        )
        return ModelRegistry(target)

    @cached_property
    def models(self) -> Models:
        """Model operations with governance's checks."""
        from prodml.models.service import Models

        configs = {n: p.config for n, p in self.products.items()}
        return Models(self.registry, configs, self.principal, self.authorize_cli, self.allows)

    def _tracker(self, info: StepRunInfo) -> Tracker:
        model = self.products[info.product].config.model
        assert model is not None  # the runner only asks for products with a model
        tracker: Tracker = backends.load("tracker", self.settings.tracking.type)(
            self.registry, model, info
        )
        return tracker

    def _preflight(self, steps: list[StepSpec]) -> None:
        from prodml.products import MODEL_STAGES

        if any(
            s.stage in MODEL_STAGES and self.products[s.product].config.model is not None
            for s in steps
        ):
            self.registry.client  # noqa: B018 - connects (and fails fast if unreachable)

    @cached_property
    def experiments(self) -> Experiments:
        """A/B experiments (moving aliases is the models domain's)."""
        from prodml.abtest.service import Experiments

        return Experiments(
            self.catalog,
            self.store,
            {n: p.config for n, p in self.products.items()},
            self.engine,
            self.principal,
            settle=self.models.settle,
            registered_name=self.models.registered_name,
            charts=self.state_dir / "ab",
        )

    # -- pipelines -------------------------------------------------------------------------

    def run_env(self) -> RunEnv:
        """What runs need, wired."""
        from prodml.features.training import StepTrainingSets
        from prodml.pipeline.runner import RunEnv

        governance = self.governance
        return RunEnv(
            env=self.env,
            catalog=self.catalog,
            store=self.store,
            dag=self.dag,
            products=self.products,
            landing_root=self.landing_dir,
            project_root=self.root,
            principal=self.principal,
            config_hash=lambda p: config_hash(self.settings, p.config),
            make_engine=self.engine,
            tracker_factory=self._tracker,
            preflight=self._preflight,
            run_as=lambda p: governance.run_as(self.principal, p.config.run_as),
            authorize=self.authorize,
            training_sets=StepTrainingSets(self.catalog, self.declared_features),
            end_tracking=self.registry.end_killed_run,
            log_dir=self.state_dir / "logs" / self.env,
            alert=lambda product, event: self.alert(self.products.get(product), event),
            missing_champion=self._missing_champion,
        )

    def _missing_champion(self, product: Product) -> str | None:
        model = product.config.model
        if model is None or self.registry.alias_version(model.name, "champion") is not None:
            return None
        return self.registry.registered_name(model.name)

    @cached_property
    def pipelines(self) -> Pipelines:
        """Plans, runs, resumes and reproductions."""
        from prodml.pipeline.service import Pipelines

        scratch = self.state_dir / "scratch"
        return Pipelines(
            self.run_env,
            self.store,
            self.settings.catalog,
            scratch,
            gate=lambda: self.catalog,
            principal=self.principal,
        )

    # -- features --------------------------------------------------------------------------

    @cached_property
    def declared_features(self) -> dict[str, Any]:
        """The declared feature tables, with the steps that produce them."""
        from prodml.features.training import declared_tables

        configs = {n: p.config for n, p in self.products.items()}
        return declared_tables(configs, self.dag.producers, self.settings.catalog)

    @cached_property
    def features(self) -> FeatureStore:
        """The feature store (its online store opened on first use)."""
        return self.feature_store("features")

    def feature_store(self, step: str) -> FeatureStore:
        """A feature store with its own online-store connection (a server keeps its own)."""
        from prodml.catalog.policies import Access
        from prodml.features.service import FeatureStore

        config = self.settings.online_store
        return FeatureStore(
            self.catalog,
            self.declared_features,
            Access(principal=self.principal, step=step),
            online_url=self.secrets.resolve(config.url) if config.url else None,
            online_type=config.type,
            state_dir=self.state_dir,
            model_spec=self.models.serving_spec,
            # online values are the table's: the caller needs SELECT on it
            check_read=lambda principal, table: self.governance.check_named(
                Access(principal=principal), "read", "table", table, client="online"
            ),
        )


def _local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
