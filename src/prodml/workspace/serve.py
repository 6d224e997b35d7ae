"""Wiring the serving app: endpoints over the registry, the catalog, the online store, with
governance's guards and the A/B package's outcome format."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prodml.catalog.policies import Access
    from prodml.config.product import ProductConfig
    from prodml.serving.auth import Guard
    from prodml.workspace.wiring import Wiring


def serving_app(w: Wiring, products: Sequence[str], *, no_auth: bool) -> Any:
    """The FastAPI app of ``products``: their endpoints, guards, logs and feature lookups."""
    from prodml.abtest import outcomes
    from prodml.models.loaded import RegistrySource
    from prodml.serving.app import create_app
    from prodml.serving.build import OutcomeFormat, build

    configs = {n: w.products[n].config for n in products}
    features = w.feature_store("serve")  # the server's own online-store connection
    served = build(
        configs,
        models=RegistrySource(w.registry, _model_check(w)),
        catalog=w.catalog,
        access=_log_access(w, configs),
        guard=None if no_auth else _guards(w, configs),
        governed=w.governance.enabled,
        outcomes=OutcomeFormat(outcomes.parse, outcomes.to_table, outcomes.DOCS),
        features=lambda: features.online_features,
        journals=w.state_dir / "journals" / w.env,
    )
    return create_app(served, features=features, on_shutdown=features.close)


def _model_check(w: Wiring) -> Callable[[str], None]:
    """A served model is loaded by whoever started the server: EXECUTE on it, audited."""
    from prodml.catalog.policies import Access

    def check(registered: str) -> None:
        w.governance.check_named(
            Access(w.principal), "execute", "model", registered, client="serve"
        )

    return check


def _log_access(w: Wiring, configs: Mapping[str, ProductConfig]) -> Callable[[str], Access]:
    """Who writes a product's logs: the server, as the product's service principal."""
    from prodml.catalog.policies import Access

    def access(name: str) -> Access:
        run_as = w.governance.run_as(w.principal, configs[name].run_as)
        return Access(principal=f"service:serving@{w.env}", step="serve", run_as=run_as)

    return access


def _guards(w: Wiring, configs: Mapping[str, ProductConfig]) -> Callable[[str], Guard]:
    """Each endpoint's guard; its declared tokens join the token table first."""
    from prodml.governance.endpoints import EndpointGuard
    from prodml.governance.privileges import Securable

    def guard(name: str) -> Guard:
        endpoint = Securable.parse("endpoint", f"{w.settings.catalog}.{name}")
        config = configs[name].endpoint
        assert config is not None
        declared = [(t.name, t.sha256) for t in config.auth.tokens]
        w.governance.records.sync_declared(str(endpoint), declared)
        return EndpointGuard(w.governance, endpoint)

    return guard


def endpoint_token(name: str) -> tuple[str, str]:
    """A new token for an endpoint's caller ``name``, and the hash to declare under
    ``endpoint.auth.tokens`` in product.yaml (the token is shown once; only the hash is kept)."""
    from prodml.governance.tokens import new_token, token_hash

    _, token = new_token()
    return token, token_hash(token)
