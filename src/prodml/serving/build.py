"""Endpoints from the products' configuration, wired to the registry and the catalog."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from prodml.abtest import outcomes as outcome_rows
from prodml.errors import UsageError
from prodml.serving import inference_log
from prodml.serving.app import Served
from prodml.serving.auth import GovernanceCheck, TokenCheck
from prodml.serving.endpoint import Endpoint
from prodml.serving.inference_log import QueueWriter
from prodml.serving.model import LoadedModel, load

if TYPE_CHECKING:
    import pyarrow as pa

    from prodml.catalog.gate import Catalog
    from prodml.catalog.policies import Access
    from prodml.config.product import InferenceLog, ProductConfig
    from prodml.features.lookup import OnlineFeatures
    from prodml.models.registry import ModelRegistry
    from prodml.names import TableName


def build(
    products: Mapping[str, ProductConfig],
    registry: ModelRegistry,
    catalog: Catalog,
    *,
    principal: str,
    no_auth: bool,
    features: Callable[[], OnlineFeatures] | None = None,
    governance: Any = None,
    run_as: Mapping[str, str | None] | None = None,
) -> dict[str, Served]:
    """One ``Served`` per product; refuses an endpoint without tokens unless ``no_auth``."""
    from prodml.catalog.policies import Access

    served: dict[str, Served] = {}
    for name, product in products.items():
        config, model = product.endpoint, product.model
        assert config is not None and model is not None
        auth: TokenCheck | GovernanceCheck | None = None
        if governance is not None and not no_auth:
            # governance on: the platform's tokens, and EXECUTE on the endpoint (else 403)
            from prodml.governance.privileges import Securable

            securable = Securable.parse("endpoint", f"{catalog.catalog}.{name}")
            auth = GovernanceCheck(governance, securable)
        elif not no_auth:
            if not config.auth.tokens:
                raise UsageError(
                    f"the endpoint of {name} has no tokens, so nobody could call it",
                    hint="create one with 'prodml tokens new' and add it under endpoint.auth."
                    "tokens in product.yaml, or serve on 127.0.0.1 with --no-auth for development",
                )
            auth = TokenCheck((t.name, t.sha256) for t in config.auth.tokens)
        access = Access(principal=principal, step="serve", run_as=(run_as or {}).get(name))
        log_writer = None
        if config.inference_log.enabled:
            log_writer = _writer(
                catalog,
                catalog.name(product.inference_log_table),
                name,
                "inference log",
                inference_log.DOCS,
                inference_log.to_table,
                config.inference_log,
                access,
            )
        metrics = {m for e in product.ab.experiments.values() for m in e.metrics}
        outcomes = None
        if metrics:
            outcomes = _writer(
                catalog,
                catalog.name(product.outcomes_table),
                name,
                "outcomes",
                outcome_rows.DOCS,
                outcome_rows.to_table,
                config.inference_log,
                access,
            )
        endpoint = Endpoint(
            name,
            config,
            resolve=_resolver(registry, model.name),
            load=_loader(registry, model.name, model.flavor),
            log_writer=log_writer,
        )
        if config.feature_lookups and features is not None:
            from prodml.serving.features import FeatureEnricher

            endpoint.enricher = FeatureEnricher(features(), config.feature_lookups)
        served[name] = Served(endpoint, auth, outcomes, metrics)
    return served


def _resolver(registry: ModelRegistry, model: str) -> Callable[[str], int | None]:
    return lambda alias: registry.alias_version(model, alias)


def _loader(registry: ModelRegistry, model: str, flavor: str) -> Callable[[int], LoadedModel]:
    return lambda version: load(registry, model, version, flavor)


def _writer(
    catalog: Catalog,
    table: TableName,
    product: str,
    kind: str,
    docs: Mapping[str, str],
    encode: Callable[[list[Any]], pa.Table],
    config: InferenceLog,
    access: Access,
) -> QueueWriter:
    """A queue writer appending to ``table`` (registered in the catalog on first write)."""

    def write(data: pa.Table) -> None:
        catalog.append(
            table,
            data,
            access,
            description=f"The {kind} of the {product} endpoint.",
            column_docs=docs,
            partition_by=["date"],
            owner_product=product,
        )

    return QueueWriter(
        write,
        encode=encode,
        flush_rows=config.flush_rows,
        flush_seconds=config.flush_seconds,
        queue_rows=config.queue_rows,
        name=f"{product} {kind}",
    )
