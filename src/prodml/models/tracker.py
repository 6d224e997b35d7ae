"""The tracking run around a train or evaluate step: tags, params, metrics, models, the gate."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any

import pyarrow as pa

from prodml.config.product import ModelConfig
from prodml.errors import UsageError
from prodml.models import gate as gates
from prodml.models.errors import GateFailedError, ModelError
from prodml.models.registry import (
    CHALLENGER,
    CHAMPION,
    METRIC_TAG,
    TRAINING_SET_TAG,
    ModelRegistry,
)
from prodml.pipeline.errors import SkipStep
from prodml.pipeline.tracking import TRACKED_STAGES, StepRunInfo

log = logging.getLogger(__name__)


#: the step batch fingerprint a version was trained for
BATCH_TAG = "prodml.batch"


class MlflowTracker:
    """One MLflow run per train/evaluate step run, tagged with what produced it."""

    def __init__(self, registry: ModelRegistry, model: ModelConfig, info: StepRunInfo) -> None:
        import mlflow

        self.registry = registry
        self.model = model
        self.info = info
        client = registry.client
        self._run_id = ""
        if info.stage not in TRACKED_STAGES:
            return  # apply steps use the registry without a tracking run
        # MLflow's fluent API is process-global: point it at this environment before starting
        mlflow.set_tracking_uri(registry.target.tracking_uri)
        mlflow.set_registry_uri(registry.target.registry_uri)
        tags = {
            "prodml.product": info.product,
            "prodml.env": info.env,
            "prodml.run_id": info.run_id,
            "prodml.step": info.step,
            "prodml.stage": info.stage,
            "prodml.config_hash": info.config_hash,
            "mlflow.source.git.commit": info.git_sha or "",
            "mlflow.runName": f"{info.step}-{info.run_id}",
        }
        tags.update({f"prodml.input.{t}": str(v) for t, v in info.input_versions.items()})
        run = client.create_run(registry.experiment_id(info.product), tags=tags)
        self._run_id = run.info.run_id
        mlflow.start_run(run_id=self._run_id)  # plain mlflow.log_* calls land in this run too

    @property
    def tracking_run_id(self) -> str:
        """The MLflow run id."""
        return str(self._run_id)

    def _require_run(self, what: str) -> None:
        if not self._run_id:
            raise UsageError(
                f"ctx.{what} is for train and evaluate steps (this is a {self.info.stage} step)"
            )

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record parameters."""
        import mlflow

        self._require_run("log_params")
        mlflow.log_params(dict(params))

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Record metrics."""
        import mlflow

        self._require_run("log_metrics")
        mlflow.log_metrics({k: float(v) for k, v in metrics.items()}, step=step)

    def log_model(
        self,
        model: Any,
        *,
        input_example: Any,
        name: str | None = None,
        training_set: Mapping[str, Any] | None = None,
    ) -> pa.Table:
        """Log the model with signature and input example; register it as a new version.

        A training-set spec is logged as ``training_set.json`` and as the version tag
        ``prodml.training_set`` (what serving looks up online)."""
        import mlflow
        from mlflow.models import infer_signature

        self._require_run("log_model")
        example = _frame(input_example)
        if example is None:
            raise ModelError(
                "input_example must be a pandas DataFrame or an Arrow table of model inputs",
                hint="pass e.g. X_train.head(5)",
            )
        sample = example.head(5)
        registered = self.registry.registered_name(name or self.model.name)
        reused = self._registered_for_batch(registered)
        if reused is not None:
            return self._record(registered, *reused, sample)
        signature = infer_signature(sample, _predict(model, sample))
        common: dict[str, Any] = {
            "name": "model",
            "signature": signature,
            "input_example": sample,
            "registered_model_name": registered,
            "pip_requirements": _requirements(self.model.flavor),
        }
        if self.model.flavor == "sklearn":
            info = mlflow.sklearn.log_model(
                model, skops_trusted_types=_trusted_types(model), **common
            )
        else:
            info = mlflow.pyfunc.log_model(python_model=model, **common)
        version = int(info.registered_model_version)
        self.registry.client.set_model_version_tag(
            registered, str(version), "prodml.run_id", self.info.run_id
        )
        if self.info.batch:
            self.registry.client.set_model_version_tag(
                registered, str(version), BATCH_TAG, self.info.batch
            )
        self.registry.client.set_model_version_tag(
            registered, str(version), "prodml.features", json.dumps(list(sample.columns))
        )
        if training_set is not None:
            mlflow.log_dict(dict(training_set), "training_set.json")
            self.registry.client.set_model_version_tag(
                registered,
                str(version),
                TRAINING_SET_TAG,
                json.dumps(training_set, sort_keys=True, default=str),
            )
        return self._record(registered, version, self._run_id, sample)

    def _registered_for_batch(self, registered: str) -> tuple[int, str] | None:
        """The version (and its tracking run) a run that died before committing registered
        for this very batch: logging it again would make an identical second version."""
        if not self.info.batch:
            return None
        from mlflow.exceptions import MlflowException

        try:
            found = self.registry.client.search_model_versions(f"name = '{registered}'")
        except MlflowException:
            return None
        for v in found:
            if (v.tags or {}).get(BATCH_TAG) == self.info.batch:
                log.warning(
                    "%s version %s was registered for this batch by an interrupted run: reused",
                    registered,
                    v.version,
                )
                return int(v.version), str(v.run_id)
        return None

    def _record(self, registered: str, version: int, run_id: str, sample: Any) -> pa.Table:
        return pa.table(
            {
                "model": [registered],
                "version": [version],
                "tracking_run_id": [run_id],
                "prodml_run_id": [self.info.run_id],
                "trained_at": pa.array([self.info.now], pa.timestamp("us", tz="UTC")),
                "features": [json.dumps(list(sample.columns))],
                "input_versions": [json.dumps(dict(self.info.input_versions), sort_keys=True)],
            }
        )

    def load_model(self, *, version: int | None = None, alias: str | None = None) -> Any:
        """Load a version (or alias) of the product's model as pyfunc."""
        return self.registry.load(
            self.model.name, version=version, alias=alias, flavor=self.model.flavor
        )

    def candidate(self) -> int:
        """The newest registered version."""
        return self.registry.require_version(self.model.name, version=None, alias=None)

    @property
    def registered_name(self) -> str:
        """The product's model as registered."""
        return self.registry.registered_name(self.model.name)

    def resolve(self, *, version: int | None, alias: str | None) -> tuple[str, int]:
        """The registered name and the version ``version`` or ``alias`` stands for."""
        name = self.model.name
        resolved = self.registry.require_version(
            name, version=version, alias=None if version is not None else alias
        )
        return self.registry.registered_name(name), resolved

    def gate(
        self,
        metrics: Mapping[str, float],
        *,
        version: int,
        champion_metrics: Mapping[str, float] | None = None,
    ) -> pa.Table:
        """Check ``version``; on a pass make it the challenger (or champion with auto_promote)."""
        self._require_run("gate")
        model = self.model.name
        version = self.registry.require_version(model, version=version, alias=None)
        champion = self.registry.alias_version(model, CHAMPION)
        if champion == version:
            champion = None
        if champion is not None and champion_metrics is None:
            champion_metrics = self.registry.metrics(model, champion)
        result = gates.check(self.model.gate, metrics, champion_metrics if champion else None)
        self.log_metrics(metrics)
        tags = {f"{METRIC_TAG}{k}": repr(float(v)) for k, v in metrics.items()}
        tags["prodml.gate"] = "passed" if result.passed else "failed"
        tags["prodml.gate.reason"] = "; ".join(result.reasons())[:4000]
        tags["prodml.gate.table"] = result.table()[:4000]
        self.registry.tag_version(model, version, tags)
        if not result.passed:
            raise GateFailedError(
                self.registry.registered_name(model), version, result.table(), result.reasons()
            )
        self.registry.set_alias(model, CHALLENGER, version)
        if self.model.auto_promote or self.info.promote:
            self.registry.promote(model, principal=f"run:{self.info.run_id}")
        return pa.table(
            {
                "model": [self.registry.registered_name(model)],
                "version": [version],
                "passed": [True],
                "champion_version": pa.array([champion], pa.int64()),
                "metrics": [json.dumps({k: float(v) for k, v in metrics.items()}, sort_keys=True)],
                "champion_metrics": [json.dumps(dict(champion_metrics or {}), sort_keys=True)],
                "checks": [result.table()],
                "evaluated_at": pa.array([self.info.now], pa.timestamp("us", tz="UTC")),
                "prodml_run_id": [self.info.run_id],
            }
        )

    def score(
        self,
        data: Any,
        *,
        alias: str | None = CHAMPION,
        version: int | None = None,
        keep: Sequence[str] = (),
        chunk_rows: int = 100_000,
        workers: int = 1,
    ) -> pa.RecordBatchReader:
        """Score ``data`` with a registered version (see :func:`prodml.models.scoring.score`)."""
        from mlflow.artifacts import download_artifacts

        from prodml.models import scoring

        if chunk_rows < 1 or workers < 1:
            raise UsageError("chunk_rows and workers must be at least 1")
        model = self.model.name
        if (
            version is None
            and alias is not None
            and self.registry.alias_version(model, alias) is None
        ):
            name = self.registry.registered_name(model)
            raise SkipStep(
                f"{name} has no {alias} yet: nothing scored (promote one with 'prodml models "
                f"promote {self.info.product}', or run with --promote)"
            )
        resolved = self.registry.require_version(
            model, version=version, alias=None if version is not None else alias
        )
        uri = self.registry.model_uri(model, version=resolved)
        features = scoring.input_columns(uri)
        scoring.check_inputs(
            scoring.schema_of(data), features, keep, self.registry.registered_name(model)
        )
        return scoring.score(
            data,
            model_path=download_artifacts(uri),
            flavor=self.model.flavor,
            features=[n for n, _ in features],
            keep=keep,
            meta={
                "model_name": self.registry.registered_name(model),
                "model_version": resolved,
                "model_alias": alias if version is None else None,
                "prodml_run_id": self.info.run_id,
                "scored_at": self.info.now,
            },
            chunk_rows=chunk_rows,
            workers=workers,
        )

    def close(self, *, failed: bool) -> None:
        """End the MLflow run (if this step has one)."""
        if not self._run_id:
            return
        import mlflow

        mlflow.end_run(status="FAILED" if failed else "FINISHED")


def _frame(value: Any) -> Any:
    if isinstance(value, pa.Table):
        return value.to_pandas()
    module = type(value).__module__.split(".")[0]
    if module == "pandas":
        return value
    if module == "polars":
        return value.to_pandas()
    return None


def _predict(model: Any, sample: Any) -> Any:
    if hasattr(model, "predict_proba"):
        return model.predict_proba(sample)[:, 1]
    return model.predict(sample)


def _trusted_types(model: Any) -> list[str] | None:
    """The types skops must be told to trust to save ``model`` (tree models need some).

    The model was just built in this process, so trusting what it is made of is safe; the
    list is stored with it and checked again when it is loaded.
    """
    try:
        import skops.io
    except ImportError:  # MLflow falls back to its other serialisation
        return None
    return list(skops.io.get_untrusted_types(data=skops.io.dumps(model))) or None


def _requirements(flavor: str) -> list[str]:
    # Stating them is much faster than MLflow inferring them (it imports and inspects packages).
    names = (
        ["mlflow", "numpy", "pandas", "scikit-learn", "scipy"]
        if flavor == "sklearn"
        else ["mlflow"]
    )
    out = []
    for name in names:
        try:
            out.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return out
