"""A registered model version loaded in memory (for serving), and the two ways it is asked to
predict: MLflow's ``predict`` and the product's own ``score``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from prodml.models.registry import ModelRegistry

if TYPE_CHECKING:
    import numpy as np

Method = Literal["score", "predict"]
_NUMERIC = {"double", "float", "long", "integer", "boolean"}


@dataclass(frozen=True)
class LoadedModel:
    """One model version in memory.

    ``predict`` answers MLflow's ``/invocations`` exactly as ``mlflow.pyfunc`` would (the
    model's ``predict``); ``score`` is the product's own output, the same as batch scoring:
    the positive-class probability for a binary classifier, else the prediction.
    """

    name: str  # registered name, <env>.ml.<model>
    version: int
    schema: tuple[tuple[str, str], ...]
    native: Any
    flavor: str
    proba: bool  # binary classifier: ``score`` is P(positive class)
    needs_pandas: bool
    training_set: dict[str, Any] | None = None  # the feature lookups it was trained with

    @property
    def columns(self) -> list[str]:
        """The input columns, in signature order."""
        return [name for name, _ in self.schema]

    def run(self, method: Method, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """Predict on a batch given column-wise."""
        import numpy as np

        frame: Any
        if self.needs_pandas:
            import pandas as pd

            frame = pd.DataFrame({name: columns[name] for name in self.columns}, copy=False)
        else:
            frame = np.column_stack([columns[name] for name in self.columns])
        if method == "score" and self.proba:
            return np.asarray(self.native.predict_proba(frame))[:, 1]
        return np.asarray(self.native.predict(frame))


def load(registry: ModelRegistry, model: str, version: int, flavor: str) -> LoadedModel:
    """Load ``version`` of the product's model with its signature."""
    from prodml.models.scoring import input_columns

    uri = registry.model_uri(model, version=version)
    with registry.uris():
        schema = tuple(input_columns(uri))
        native = registry.load(model, version=version, flavor=flavor)
    classes = getattr(native, "classes_", None)
    proba = (
        flavor == "sklearn"
        and hasattr(native, "predict_proba")
        and classes is not None
        and len(classes) == 2
    )
    needs_pandas = (
        flavor != "sklearn"
        or hasattr(native, "feature_names_in_")
        or any(kind not in _NUMERIC for _, kind in schema)
    )
    return LoadedModel(
        name=registry.registered_name(model),
        version=version,
        schema=schema,
        native=native,
        flavor=flavor,
        proba=proba,
        needs_pandas=needs_pandas,
        training_set=registry.training_set(model, version),
    )


class RegistrySource:
    """Serving's source of model versions: one environment's registry."""

    def __init__(
        self, registry: ModelRegistry, authorize: Callable[[str], None] | None = None
    ) -> None:
        self.registry = registry
        # governance: EXECUTE on the registered model, checked and audited before a load
        self._authorize = authorize

    def alias_version(self, model: str, alias: str) -> int | None:
        """The version an alias points at (None: not set)."""
        return self.registry.alias_version(model, alias)

    def load(self, model: str, version: int, flavor: str) -> LoadedModel:
        """A version, loaded with its signature (EXECUTE on the model, when governed)."""
        if self._authorize is not None:
            self._authorize(self.registry.registered_name(model))
        return load(self.registry, model, version, flavor)
