"""A/B tests: outcomes of units, posted after the fact."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from prodml.serving.errors import NotServedError
from prodml.serving.openapi import OUTCOME_BODY, SECURED
from prodml.serving.payload import loads
from prodml.serving.routes import authorize, body_of, json_response, state

router = APIRouter()


@router.post(
    "/v1/products/{product}/outcomes",
    tags=["abtest"],
    openapi_extra={"requestBody": OUTCOME_BODY, **SECURED},
)
async def outcomes(product: str, request: Request) -> Response:
    """Record outcomes of units (for A/B analysis)."""
    served = state(request).product(product)
    authorize(served, request)
    if served.outcomes is None:
        raise NotServedError(
            "experiment",
            product,
            message=f"product {product} runs no A/B experiment (no ab: section)",
        )
    body = await body_of(request, served.endpoint.config.max_body_bytes)
    return json_response({"accepted": served.outcomes.accept(loads(body))}, 202)
