"""Online features: ``POST /v1/features/online`` (a feature table, or a product's feature
service), with a pydantic request model (not the scoring hot path)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from prodml.serialize import to_jsonable
from prodml.serving.errors import PayloadError, PayloadTooLargeError
from prodml.serving.openapi import SECURED
from prodml.serving.routes import body_of, caller, json_response, state

router = APIRouter()

#: the largest feature request body, and the most entities in one
MAX_BODY = 1_048_576
MAX_ENTITIES = 10_000


class FeatureRequest(BaseModel):
    """Exactly one of ``table`` (a feature table) and ``feature_service`` (a product: the
    lookups its champion was trained with); the entities' keys; optionally some features."""

    model_config = ConfigDict(extra="forbid")

    table: str | None = Field(None, min_length=1, examples=["features.customer_features"])
    feature_service: str | None = Field(None, min_length=1, examples=["churn"])
    features: list[str] | None = None
    entities: list[Any] = Field(..., min_length=1, examples=[[{"customer_id": 42}]])

    @model_validator(mode="after")
    def _one_target(self) -> FeatureRequest:
        if (self.table is None) == (self.feature_service is None):
            raise ValueError("one target")
        return self

    @property
    def target(self) -> str:
        """The table or the feature service."""
        return self.table or self.feature_service or ""


def _explain(exc: ValidationError) -> str:
    """A feature request's first problem, in the API's words."""
    first = exc.errors()[0]
    loc, kind = [str(p) for p in first["loc"]], first["type"]
    if kind == "json_invalid":
        return f"malformed JSON: {first.get('ctx', {}).get('error', first['msg'])}"
    if kind == "model_type":
        return "the body must be a JSON object with 'table' and 'entities'"
    if kind == "extra_forbidden":
        return f"unknown field {loc[0]!r}; use table or feature_service, entities, features"
    if loc[:1] == ["entities"]:
        return "'entities' must be a non-empty list of objects"
    if loc[:1] == ["features"]:
        return "'features' must be a list of feature names"
    return "give exactly one of 'table' and 'feature_service' (a string)"


@router.post(
    "/v1/features/online",
    tags=["features"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": FeatureRequest.model_json_schema()}},
        },
        **SECURED,
    },
)
async def online_features(request: Request) -> Response:
    """Online feature values of entities: values, a status per feature, event times."""
    server = state(request)
    assert server.features is not None  # the route exists only with a feature store
    who = caller(server, request)
    body = await body_of(request, MAX_BODY)
    if not body:
        raise PayloadError("the request body is empty: send a JSON object")
    try:
        ask = FeatureRequest.model_validate_json(body)
    except ValidationError as exc:
        raise PayloadError(_explain(exc)) from None
    if len(ask.entities) > MAX_ENTITIES:
        raise PayloadTooLargeError(
            f"{len(ask.entities)} entities in one request; at most {MAX_ENTITIES}"
        )
    found = server.features.online(ask.target, ask.entities, features=ask.features, principal=who)
    results = [
        {"entity": dict(e), **to_jsonable(hit)} for e, hit in zip(ask.entities, found, strict=True)
    ]
    return json_response({"results": results})
