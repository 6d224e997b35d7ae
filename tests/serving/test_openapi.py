"""The OpenAPI documents of the bodies the routes parse themselves: each schema is valid JSON
Schema, accepts what the route's parser accepts (MLflow's documented request forms, product
records, outcomes) and rejects what it refuses, and the app's document carries them with the
bearer requirement."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import numpy as np
import pytest
import schemathesis
from sklearn.linear_model import LogisticRegression

from prodml.abtest.errors import OutcomeError
from prodml.abtest.outcomes import parse as parse_outcomes
from prodml.config.product import EndpointConfig
from prodml.models.loaded import LoadedModel
from prodml.serving import openapi
from prodml.serving.app import create_app
from prodml.serving.build import Served
from prodml.serving.endpoint import Endpoint
from prodml.serving.errors import PayloadError
from prodml.serving.payload import parse_invocations, parse_product


def _validator(body: dict[str, Any], media: str = openapi.JSON) -> Any:
    return jsonschema_rs.validator_for(body["content"][media]["schema"], validate_formats=True)


ROWS = [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 4.0}]
# MLflow's documented forms ("Deploy MLflow models: request format")
MLFLOW_FORMS = [
    {"dataframe_split": {"columns": ["a", "b"], "data": [[1.0, 2.0], [3.0, 4.0]]}},
    {"dataframe_records": ROWS},
    {"instances": ROWS},
    {"instances": [[1.0, 2.0], [3.0, 4.0]]},
    {"inputs": {"a": [1.0, 3.0], "b": [2.0, 4.0]}},
    {"inputs": ROWS, "params": {"threshold": 0.5}},
]


@pytest.mark.parametrize("doc", MLFLOW_FORMS)
def test_the_mlflow_schema_takes_every_documented_form(doc: dict[str, Any]) -> None:
    import orjson

    assert _validator(openapi.MLFLOW_BODY).is_valid(doc)
    records = parse_invocations(orjson.dumps(doc), openapi.JSON, ["a", "b"])
    assert records.n == 2 and records.columns["a"] == [1.0, 3.0]


@pytest.mark.parametrize(
    "doc",
    [
        [ROWS],  # not an object
        {"dataframe_split": {"columns": "a", "data": []}},
        {"dataframe_records": {"a": 1}},
        {"inputs": ROWS, "params": [1]},
    ],
)
def test_the_mlflow_schema_and_parser_both_refuse(doc: Any) -> None:
    import orjson

    assert not _validator(openapi.MLFLOW_BODY).is_valid(doc)
    with pytest.raises(PayloadError):
        parse_invocations(orjson.dumps(doc), openapi.JSON, ["a", "b"])


def test_the_mlflow_body_also_takes_csv() -> None:
    csv = openapi.MLFLOW_BODY["content"]["text/csv"]  # type: ignore[index]
    assert csv == {"schema": {"type": "string"}}
    records = parse_invocations(b"a,b\n1.0,2.0\n", "text/csv", ["a", "b"])
    assert records.n == 1


def test_the_product_schema_matches_parse_product() -> None:
    import orjson

    check = _validator(openapi.PRODUCT_BODY)
    good = {"records": ROWS}
    assert check.is_valid(good) and parse_product(orjson.dumps(good)).n == 2
    for bad in ({"rows": ROWS}, {"records": [1, 2]}, {"records": {"a": 1}}):
        assert not check.is_valid(bad), bad
        with pytest.raises(PayloadError):
            parse_product(orjson.dumps(bad))


def test_the_outcome_schema_matches_the_outcome_parser() -> None:
    check = _validator(openapi.OUTCOME_BODY)
    good = {
        "outcomes": [
            {"unit_id": "u1", "metric": "converted", "value": 1},
            {"unit_id": 7, "metric": "revenue", "value": 9.5, "time": "2024-05-01T10:00:00Z"},
        ]
    }
    assert check.is_valid(good)
    assert parse_outcomes(good, {"converted", "revenue"}, 10).n == 2
    for bad in (
        {"outcomes": [{"unit_id": "u1", "metric": "converted"}]},  # no value
        {"outcomes": [{"unit_id": "u1", "metric": "converted", "value": "1"}]},
        {"outcomes": [{"unit_id": [1], "metric": "converted", "value": 1}]},
        {"outcomes": [{"unit_id": "u1", "metric": "converted", "value": 1, "time": "soon"}]},
        {"outcomes": "u1"},
    ):
        assert not check.is_valid(bad), bad
        with pytest.raises(OutcomeError):
            parse_outcomes(bad, {"converted", "revenue"}, 10)


def test_secured_names_the_bearer_scheme() -> None:
    assert openapi.SECURED == {"security": [{"bearer": []}]}


def _app() -> Any:
    x = np.random.default_rng(0).normal(size=(50, 2))
    native = LogisticRegression().fit(x, (x[:, 0] > 0).astype(int))
    model = LoadedModel(
        "dev.ml.clf", 1, (("a", "double"), ("b", "double")), native, "sklearn", True, False
    )
    endpoint = Endpoint(
        "clf", EndpointConfig(), resolve={"champion": 1}.get, load=lambda _: model, log_writer=None
    )
    return create_app({"clf": Served(endpoint, None)})


def test_the_apps_document_carries_the_bodies_where_they_are_parsed() -> None:
    doc = _app().openapi()
    paths = doc["paths"]
    assert paths["/invocations"]["post"]["requestBody"] == openapi.MLFLOW_BODY
    assert paths["/v1/products/{product}/invocations"]["post"]["requestBody"] == openapi.MLFLOW_BODY
    assert paths["/v1/products/{product}/predict"]["post"]["requestBody"] == openapi.PRODUCT_BODY
    assert paths["/v1/products/{product}/outcomes"]["post"]["requestBody"] == openapi.OUTCOME_BODY
    for path, op in [("/v1/products/{product}/outcomes", "post"), ("/v1/admin/reload", "post")]:
        assert paths[path][op]["security"] == [{"bearer": []}], path
    # schemathesis reads the document and finds an operation for every route
    schema = schemathesis.openapi.from_dict(doc)
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert {"POST /invocations", "POST /v1/products/{product}/outcomes"} <= labels
