"""The models of one environment's products: listings, versions, comparison and promotion.

Promotions change registered models: governance's check of them is injected (``authorize``),
so it holds whichever adapter asks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from prodml.catalog.policies import Access
from prodml.config.product import ModelConfig, ProductConfig
from prodml.errors import NotFoundError
from prodml.models.errors import ModelError
from prodml.models.promotion import promote_across
from prodml.models.registry import CHALLENGER, CHAMPION, ModelRegistry

#: governance: (access, action, securable type, full name); raises when refused
Authorize = Callable[[Access, str, str, str], None]
#: governance, deciding only: whether the action would be allowed (listings)
Allows = Callable[[Access, str, str, str], bool]


@dataclass(frozen=True)
class ModelSummary:
    """A product's registered model: its versions and aliases."""

    product: str
    model: str
    versions: int
    champion: int | None
    challenger: int | None
    deployment: str


class Models:
    """Model operations on one environment's registry, for the products that declare one.

    Args:
        registry: the environment's registry.
        products: every product's configuration.
        principal: who acts.
        authorize: governance's check of an action on a registered model.
    """

    def __init__(
        self,
        registry: ModelRegistry,
        products: Mapping[str, ProductConfig],
        principal: str,
        authorize: Authorize,
        allows: Allows | None = None,
    ) -> None:
        self.registry = registry
        self.products = products
        self.principal = principal
        self._authorize = authorize
        self._allows = allows

    def config(self, product: str) -> ModelConfig:
        """The product's ``model:`` section (a clear error if it has none)."""
        if product not in self.products:
            raise NotFoundError("product", product, self.products)
        model = self.products[product].model
        if model is None:
            with_models = [n for n, p in self.products.items() if p.model is not None]
            raise ModelError(
                f"product {product} declares no model",
                hint=f"products with a model: {', '.join(with_models) or 'none'}",
            )
        return model

    def registered_name(self, product: str) -> str:
        """``<env>.ml.<model>`` of the product."""
        return self.registry.registered_name(self.config(product).name)

    def check(self, action: str, product: str) -> None:
        """Governance: ``action`` (``execute``, ``modify_model``) on the product's model."""
        name = self.registered_name(product)
        self._authorize(Access(self.principal), action, "model", name)

    def visible(self, product: str) -> bool:
        """Whether the principal may see the product's model (decided only: listings)."""
        if self._allows is None:
            return True
        name = self.registered_name(product)
        return self._allows(Access(self.principal), "browse_model", "model", name)

    def summaries(self) -> list[ModelSummary]:
        """The registered model of every product that has one (and you may see)."""
        out = []
        for name, config in self.products.items():
            if config.model is None or not self.visible(name):
                continue
            versions = self.registry.versions(config.model.name)
            alias = {a: v["version"] for v in versions for a in v["aliases"]}
            out.append(
                ModelSummary(
                    product=name,
                    model=self.registry.registered_name(config.model.name),
                    versions=len(versions),
                    champion=alias.get(CHAMPION),
                    challenger=alias.get(CHALLENGER),
                    deployment=config.model.deployment,
                )
            )
        return out

    def versions(self, product: str) -> list[dict[str, Any]]:
        """Versions of the product's model, newest first (its metadata: BROWSE, EXECUTE or
        MODIFY on it; checked and audited)."""
        self.check("browse_model", product)
        return self.registry.versions(self.config(product).name)

    def details(self, product: str) -> dict[str, Any]:
        """The product's model: its config, champion, challenger and number of versions."""
        config = self.config(product)
        rows = self.versions(product)
        return {
            "model": self.registry.registered_name(config.name),
            "config": config.model_dump(mode="json"),
            "champion": next((r for r in rows if CHAMPION in r["aliases"]), None),
            "challenger": next((r for r in rows if CHALLENGER in r["aliases"]), None),
            "versions": len(rows),
        }

    def compare_versions(self, product: str, limit: int = 10) -> dict[str, Any]:
        """The newest ``limit`` versions of the product's model, one row each: its training
        params (from the tracking run that logged it) beside its evaluation metrics; ``total``
        says how many versions there are."""
        versions = self.versions(product)  # checked and audited
        runs = {r["tracking_run_id"]: r for r in self.registry.compare_runs(product, 5000)}
        rows = [
            {
                "version": v["version"],
                "aliases": v["aliases"],
                "gate": v["gate"],
                "params": runs.get(v["run_id"], {}).get("params", {}),
                "metrics": v["metrics"],
                "prodml_run_id": v["prodml_run_id"],
                "tracking_run_id": v["run_id"],
            }
            for v in versions[:limit]
        ]
        return {
            "model": self.registry.registered_name(self.config(product).name),
            "versions": rows,
            "total": len(versions),
        }

    def compare_runs(self, product: str, limit: int = 20) -> list[dict[str, Any]]:
        """The product's tracking runs side by side: params and metrics (the model's
        metadata: checked and audited)."""
        self.check("browse_model", product)  # unknown product / no model: a clear error
        return self.registry.compare_runs(product, limit)

    def load(
        self,
        product: str,
        *,
        version: int | None = None,
        alias: str | None = None,
        flavor: str | None = None,
    ) -> Any:
        """Load a version (or an alias; default the newest) of the product's model: EXECUTE
        on it, checked and audited, whoever asks."""
        self.check("execute", product)
        config = self.config(product)
        return self.registry.load(
            config.name, version=version, alias=alias, flavor=flavor or config.flavor
        )

    def promote(self, product: str) -> dict[str, Any]:
        """Make the challenger the champion (MODIFY on the model)."""
        self.check("modify_model", product)
        return self.registry.promote(self.config(product).name, principal=self.principal)

    def promote_to(self, product: str, target: Models) -> dict[str, Any]:
        """Deploy-model promotion: copy this environment's champion into ``target``'s registry
        (EXECUTE on the source version, MODIFY on the target model; the gate is checked again)."""
        if target.registry.env == self.registry.env:
            from prodml.errors import UsageError

            raise UsageError(f"the source and target environments are both {target.registry.env}")
        self.check("execute", product)
        target.check("modify_model", product)
        return promote_across(
            product,
            self.registry,
            target.registry,
            self.config(product),
            target.config(product),
            principal=self.principal,
        )

    def settle(
        self, product: str, *, control: str, treatment: str, promote: bool, tags: dict[str, str]
    ) -> tuple[int | None, int | None]:
        """End an A/B comparison of two aliases (see :meth:`ModelRegistry.settle`); MODIFY on
        the model, since its aliases move."""
        self.check("modify_model", product)
        return self.registry.settle(
            self.config(product).name,
            control=control,
            treatment=treatment,
            promote=promote,
            tags=tags,
            principal=self.principal,
        )

    def serving_spec(self, product: str) -> dict[str, Any] | None:
        """The training-set spec of the product's champion (its feature service)."""
        model = self.products[product].model if product in self.products else None
        if model is None:
            return None
        version = self.registry.alias_version(model.name, CHAMPION)
        if version is None:  # its lookups are the champion's: there are none yet
            name = self.registry.registered_name(model.name)
            raise NotFoundError(
                "champion",
                product,
                message=f"{product} has no champion yet: its online features are the ones its "
                f"champion ({name}) was trained on",
                hint=f"promote one with 'prodml models promote {product}', or run "
                f"'prodml run {product} --promote'",
            )
        spec = self.registry.training_set(model.name, version)
        if spec is None:
            raise NotFoundError(
                "feature service",
                product,
                message=f"{product}'s champion (version {version}) was not trained on a "
                "training set of the feature store: it has no online features",
                hint="look up a feature table instead: 'prodml features list' lists them",
            )
        return spec
