"""Real MLflow for the models tests: one SQLite tracking store and one logged sklearn model per
test process (MLflow's first use costs seconds); each test registers versions of its own model
names from that logged model, so tests share nothing they change."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from prodml.config.platform import TrackingConfig
from prodml.models.registry import ModelRegistry, tracking_target


@dataclass(frozen=True)
class Mlflow:
    """A tracking store with a logged binary classifier of columns ``a`` and ``b``.

    Attributes:
        state: the state directory holding ``mlflow.db`` and the artifacts.
        registry: the ``dev`` environment's registry.
        source: the logged model's URI (what versions are registered from).
        run_id: the tracking run that logged it.
    """

    state: Path
    registry: ModelRegistry
    source: str
    run_id: str

    def registry_for(self, env: str) -> ModelRegistry:
        """Another environment on the same tracking store and registry."""
        return ModelRegistry(tracking_target(env, TrackingConfig(), self.state, str))

    def register(
        self,
        versions: int = 1,
        *,
        registry: ModelRegistry | None = None,
        tags: dict[int, dict[str, str]] | None = None,
    ) -> str:
        """A new model (unique name) with ``versions`` versions of the logged classifier;
        returns its short name (registered as ``<env>.ml.<name>``)."""
        registry = registry or self.registry
        name = f"m{uuid.uuid4().hex[:8]}"
        full = registry.registered_name(name)
        client = registry.client
        # the source (models:/m-…) resolves through MLflow's global URIs: set them to ours,
        # whatever another test in this process set them to
        with registry.uris():
            client.create_registered_model(full)
            for n in range(1, versions + 1):
                client.create_model_version(
                    full, self.source, self.run_id, tags=(tags or {}).get(n)
                )
        return name


@pytest.fixture(scope="session")
def mlflow_home(tmp_path_factory: pytest.TempPathFactory) -> Mlflow:
    """The tracking store of this test process, with the logged classifier."""
    import mlflow
    import mlflow.sklearn
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    state = tmp_path_factory.mktemp("mlflow")
    registry = ModelRegistry(tracking_target("dev", TrackingConfig(), state, str))
    x = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    model = LogisticRegression().fit(x, [0, 0, 1, 1])
    signature = infer_signature(x, model.predict_proba(x)[:, 1])
    with registry.uris():
        run = registry.client.create_run(registry.experiment_id("fixtures"))
        with mlflow.start_run(run_id=run.info.run_id):
            info = mlflow.sklearn.log_model(
                model, name="model", signature=signature, pip_requirements=["mlflow"]
            )
    return Mlflow(state, registry, info.model_uri, run.info.run_id)
