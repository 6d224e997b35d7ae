"""The products' endpoints: the product API, MLflow's scoring protocol, what each serves.

The hot path: the body is read as bytes and parsed column-wise (no pydantic, no DataFrame).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from prodml.serving.build import Served
from prodml.serving.endpoint import Scored
from prodml.serving.openapi import JSON, MLFLOW_BODY, PRODUCT_BODY, SECURED
from prodml.serving.payload import Records, coerce, parse_invocations, parse_product
from prodml.serving.routes import allowed, authorize, body_of, json_response, state

router = APIRouter()


async def score(
    served: Served, request: Request, route: str, product_shape: bool
) -> tuple[Scored, dict[str, str]]:
    """Authorize, parse, score; the answer's headers name the variant and version."""
    started = time.perf_counter()
    authorize(served, request)
    endpoint = served.endpoint
    body = await body_of(request, endpoint.config.max_body_bytes)
    if product_shape:
        records = parse_product(body)
    else:
        schema = endpoint.schema()
        content_type = request.headers.get("content-type", JSON)
        records = parse_invocations(body, content_type, [n for n, _ in schema])
        if content_type.startswith("text/csv"):
            records = _typed_csv(records, schema)
    scored = await endpoint.score(
        records,
        method="score" if product_shape else "predict",
        route=route,
        header_unit=request.headers.get("x-unit-id"),
        request_id=uuid.uuid4().hex,
        started=started,
    )
    headers = {"X-Request-Id": scored.request_id}
    if len(set(scored.variants)) == 1:
        headers["X-Prodml-Variant"] = scored.variants[0]
        headers["X-Prodml-Model-Version"] = str(scored.versions[0])
    return scored, headers


def _typed_csv(records: Records, schema: Any) -> Records:
    """CSV values are text: convert numeric columns here (a bad number is a 400)."""
    typed = coerce(records, schema)
    columns = dict(records.columns)
    columns.update({k: v.tolist() for k, v in typed.items()})
    return Records(columns, records.n, records.params, mlflow=True)


@router.get("/v1/products", tags=["products"], openapi_extra=SECURED)
async def list_products(request: Request) -> Response:
    """The products this server serves (that the caller may call)."""
    products = state(request).products
    visible = [n for n, s in products.items() if allowed(s, request)]
    if not visible:
        authorize(next(iter(products.values())), request)
    return json_response({"products": visible})


@router.get("/v1/products/{product}", tags=["products"], openapi_extra=SECURED)
async def product_info(product: str, request: Request) -> Response:
    """What a product's endpoint serves: variants, versions, inputs."""
    served = state(request).product(product)
    authorize(served, request)
    return json_response(served.endpoint.info())


@router.post(
    "/v1/products/{product}/predict",
    tags=["products"],
    openapi_extra={"requestBody": PRODUCT_BODY, **SECURED},
)
async def predict(product: str, request: Request) -> Response:
    """The product's API: records in, one prediction per record with variant and version."""
    scored, headers = await score(state(request).product(product), request, "predict", True)
    preds = scored.predictions.tolist()
    status = scored.feature_status
    return json_response(
        {
            "request_id": scored.request_id,
            "model": scored.model,
            "predictions": [
                {"prediction": p, "variant": v, "model_version": mv}
                | ({"features": status[i]} if status else {})
                for i, (p, v, mv) in enumerate(
                    zip(preds, scored.variants, scored.versions, strict=True)
                )
            ],
        },
        headers=headers,
    )


async def invoke(served: Served, request: Request) -> Response:
    """MLflow's ``/invocations`` answer: ``{"predictions": [...]}``."""
    scored, headers = await score(served, request, "invocations", False)
    preds = scored.predictions
    return json_response(
        {"predictions": preds.tolist() if preds.dtype == object else preds}, headers=headers
    )


@router.post(
    "/v1/products/{product}/invocations",
    tags=["mlflow"],
    openapi_extra={"requestBody": MLFLOW_BODY, **SECURED},
)
async def product_invocations(product: str, request: Request) -> Response:
    """MLflow's scoring protocol for one product."""
    return await invoke(state(request).product(product), request)


single = APIRouter()  # included only when the server serves one product


@single.post("/invocations", tags=["mlflow"], openapi_extra={"requestBody": MLFLOW_BODY, **SECURED})
async def invocations(request: Request) -> Response:
    """MLflow's scoring protocol (this server serves one product)."""
    (served,) = state(request).products.values()
    return await invoke(served, request)
