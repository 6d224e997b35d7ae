"""The façade's models: registered models, versions, comparison, promotion."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prodml.config.product import ModelConfig
    from prodml.models.service import ModelSummary
    from prodml.workspace.wiring import Wiring


class ModelMethods:
    """The registered models of the products."""

    _w: Wiring

    def model_config(self, product: str) -> ModelConfig:
        """The product's ``model:`` section (a clear error if it has none)."""
        return self._w.models.config(product)

    def registered_model(self, product: str) -> str:
        """The product's model as registered here (``<env>.ml.<model>``)."""
        return self._w.models.registered_name(product)

    def models(self) -> list[ModelSummary]:
        """The registered model of every product that has one, with champion and challenger."""
        return self._w.models.summaries()

    def model_versions(self, product: str) -> list[dict[str, Any]]:
        """Versions of the product's registered model, newest first."""
        return self._w.models.versions(product)

    def model_details(self, product: str) -> dict[str, Any]:
        """The product's model: config, champion, challenger and number of versions."""
        return self._w.models.details(product)

    def compare_versions(self, product: str, limit: int = 10) -> dict[str, Any]:
        """The newest versions of the product's model: training params beside evaluation
        metrics, one row per version (``total``: how many there are)."""
        return self._w.models.compare_versions(product, limit)

    def compare_runs(self, product: str, limit: int = 20) -> list[dict[str, Any]]:
        """The product's tracking runs side by side: params and metrics."""
        return self._w.models.compare_runs(product, limit)

    def promote_model(self, product: str) -> dict[str, Any]:
        """Make the product's challenger the champion in this environment (MODIFY on it)."""
        return self._w.models.promote(product)

    def promote(self, product: str, *, to_env: str) -> dict[str, Any]:
        """Deploy-model promotion: copy this environment's champion into ``to_env``."""
        target = self._w.environment(to_env)
        try:
            return self._w.models.promote_to(product, target.models)
        finally:
            if target is not self._w:
                target.close()

    @property
    def tracking_uri(self) -> str:
        """Where this environment tracks experiments (MLflow's tracking URI)."""
        return self._w.registry.target.tracking_uri

    @property
    def registry_uri(self) -> str:
        """Where this environment registers models (MLflow's registry URI)."""
        return self._w.registry.target.registry_uri

    def load_model(
        self,
        product: str,
        *,
        version: int | None = None,
        alias: str | None = None,
        flavor: str | None = None,
    ) -> Any:
        """Load a version (or an alias, default the newest version) of the product's model
        (EXECUTE on it): the native object for ``sklearn``, else pyfunc."""
        return self._w.models.load(product, version=version, alias=alias, flavor=flavor)

    def model_training_set(self, product: str, version: int) -> dict[str, Any] | None:
        """The training-set spec logged with a version (None: trained without the store)."""
        self._w.models.check("browse_model", product)
        return self._w.registry.training_set(self.model_config(product).name, version)

    def alias_version(self, product: str, alias: str) -> int | None:
        """The version an alias of the product's model points at, or None."""
        self._w.models.check("browse_model", product)
        return self._w.registry.alias_version(self.model_config(product).name, alias)

    def set_alias(self, product: str, alias: str, version: int) -> None:
        """Point an alias of the product's model at a version (MODIFY on the model)."""
        self._w.models.check("modify_model", product)
        self._w.registry.set_alias(self.model_config(product).name, alias, version)
