"""A registered version loaded for serving, on real MLflow: its signature columns, whether it
needs pandas, what ``score`` and ``predict`` return (binary, multiclass, pyfunc), its training
set, serving's registry source, and a version logged without a signature."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression
from tests.models.conftest import Mlflow

from prodml.models.errors import ModelError
from prodml.models.loaded import LoadedModel, RegistrySource, load
from prodml.models.registry import CHAMPION, TRAINING_SET_TAG

COLUMNS = {"a": np.array([0.0, 1.0, 2.5, 3.0]), "b": np.array([1.0, 0.0, 1.0, 0.0])}
X = np.column_stack([COLUMNS["a"], COLUMNS["b"]])


@dataclass(frozen=True)
class Models:
    """Short names of the versions logged here (each its own model, version 1)."""

    array_binary: str
    multiclass: str
    unsigned: str


@pytest.fixture(scope="module")
def models(mlflow_home: Mlflow) -> Models:
    """A binary and a three-class classifier fitted on arrays, and one logged unsigned."""
    registry = mlflow_home.registry
    binary = LogisticRegression().fit(X, [0, 0, 1, 1])
    three = LogisticRegression().fit(X, [0, 1, 2, 2])
    names = Models(*(f"m{uuid.uuid4().hex[:8]}" for _ in range(3)))
    example = pd.DataFrame({"a": COLUMNS["a"], "b": COLUMNS["b"]})
    with registry.uris():
        run = registry.client.create_run(registry.experiment_id("loaded"))
        with mlflow.start_run(run_id=run.info.run_id):
            for name, model, signed in (
                (names.array_binary, binary, True),
                (names.multiclass, three, True),
                (names.unsigned, binary, False),
            ):
                mlflow.sklearn.log_model(
                    model,
                    name=name,
                    signature=infer_signature(example, model.predict(X)) if signed else None,
                    registered_model_name=registry.registered_name(name),
                    pip_requirements=["mlflow"],
                )
    return names


def test_a_binary_classifier_scores_the_positive_class(mlflow_home: Mlflow) -> None:
    name = mlflow_home.register(1)
    loaded = load(mlflow_home.registry, name, 1, "sklearn")
    assert (loaded.name, loaded.version, loaded.flavor) == (f"dev.ml.{name}", 1, "sklearn")
    assert loaded.schema == (("a", "double"), ("b", "double"))
    assert loaded.columns == ["a", "b"]
    assert loaded.proba and loaded.needs_pandas  # fitted on a DataFrame: it wants names
    expected = loaded.native.predict_proba(X)[:, 1]
    np.testing.assert_allclose(loaded.run("score", COLUMNS), expected)
    assert loaded.run("predict", COLUMNS).tolist() == loaded.native.predict(X).tolist()
    assert loaded.training_set is None


def test_a_model_fitted_on_arrays_is_given_an_array(mlflow_home: Mlflow, models: Models) -> None:
    loaded = load(mlflow_home.registry, models.array_binary, 1, "sklearn")
    assert loaded.proba and not loaded.needs_pandas
    # columns are stacked in signature order, whatever order they come in
    reordered = {"b": COLUMNS["b"], "a": COLUMNS["a"]}
    np.testing.assert_allclose(loaded.run("score", reordered), loaded.native.predict_proba(X)[:, 1])


def test_a_multiclass_model_scores_its_prediction(mlflow_home: Mlflow, models: Models) -> None:
    loaded = load(mlflow_home.registry, models.multiclass, 1, "sklearn")
    assert not loaded.proba
    assert loaded.run("score", COLUMNS).tolist() == loaded.run("predict", COLUMNS).tolist()
    assert set(loaded.run("predict", COLUMNS).tolist()) <= {0, 1, 2}


def test_a_pyfunc_model_predicts_through_mlflow(mlflow_home: Mlflow) -> None:
    name = mlflow_home.register(1)
    loaded = load(mlflow_home.registry, name, 1, "pyfunc")
    assert isinstance(loaded.native, mlflow.pyfunc.PyFuncModel)
    assert not loaded.proba and loaded.needs_pandas
    assert loaded.run("score", COLUMNS).tolist() == [0, 0, 1, 1]


def test_the_training_set_goes_with_the_version(mlflow_home: Mlflow) -> None:
    name = mlflow_home.register(1)
    spec = {"timestamp": "t", "lookups": [{"table": "features.x", "features": ["a"]}]}
    mlflow_home.registry.tag_version(name, 1, {TRAINING_SET_TAG: json.dumps(spec)})
    assert load(mlflow_home.registry, name, 1, "sklearn").training_set == spec


def test_servings_registry_source(mlflow_home: Mlflow) -> None:
    name = mlflow_home.register(2)
    mlflow_home.registry.set_alias(name, CHAMPION, 2)
    source = RegistrySource(mlflow_home.registry)
    assert source.alias_version(name, CHAMPION) == 2
    assert source.alias_version(name, "challenger") is None
    loaded = source.load(name, 2, "sklearn")
    assert isinstance(loaded, LoadedModel) and loaded.version == 2


def test_a_version_without_a_signature_cannot_be_served(
    mlflow_home: Mlflow, models: Models
) -> None:
    with pytest.raises(ModelError) as info:
        load(mlflow_home.registry, models.unsigned, 1, "sklearn")
    assert info.value.message == (
        f"models:/dev.ml.{models.unsigned}/1 was logged without a signature"
    )
    assert info.value.hint == "log it with ctx.log_model"
