"""The HTTP server: FastAPI routes over the endpoints, with auth, metrics and a lifespan that
loads models, watches their aliases, and flushes the logs on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response

from prodml.abtest.errors import OutcomeError
from prodml.abtest.outcomes import parse as parse_outcomes
from prodml.errors import NotFoundError, UsageError
from prodml.features.errors import EntityError, NotPublishedError, OnlineStoreError
from prodml.governance.errors import PermissionDeniedError
from prodml.serving.auth import GovernanceCheck, TokenCheck
from prodml.serving.endpoint import Endpoint, NotReadyError
from prodml.serving.inference_log import QueueWriter
from prodml.serving.metrics import Metrics, MetricsMiddleware
from prodml.serving.payload import PayloadError, loads, parse_invocations, parse_product

if TYPE_CHECKING:
    from prodml.features.service import FeatureStore

log = logging.getLogger(__name__)

_JSON = "application/json"
_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    413: "REQUEST_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    500: "INTERNAL_ERROR",
    503: "TEMPORARILY_UNAVAILABLE",
}


@dataclass
class Served:
    """A product the server serves: its endpoint, who may call it, its outcome writer."""

    endpoint: Endpoint
    auth: TokenCheck | GovernanceCheck | None  # None: no authentication (--no-auth, loopback)
    outcomes: QueueWriter | None = None
    outcome_metrics: set[str] = field(default_factory=set)


class HTTPProblem(Exception):
    """An error answered as MLflow's JSON error body."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def _json(doc: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY),
        status_code=status,
        media_type=_JSON,
        headers=headers,
    )


def _problem(exc: HTTPProblem) -> Response:
    return _json(
        {"error_code": _CODES.get(exc.status, "ERROR"), "message": exc.message},
        exc.status,
        exc.headers,
    )


_MLFLOW_BODY = {
    "required": True,
    "content": {
        _JSON: {
            "schema": {
                "type": "object",
                "description": "Exactly one of dataframe_split, dataframe_records, instances, "
                "inputs (MLflow's scoring protocol), and optionally params.",
                "properties": {
                    "dataframe_split": {
                        "type": "object",
                        "properties": {
                            "columns": {"type": "array", "items": {"type": "string"}},
                            "data": {"type": "array", "items": {"type": "array"}},
                        },
                    },
                    "dataframe_records": {"type": "array", "items": {"type": "object"}},
                    "instances": {},
                    "inputs": {},
                    "params": {"type": "object"},
                },
            }
        },
        "text/csv": {"schema": {"type": "string"}},
    },
}
_PRODUCT_BODY = {
    "required": True,
    "content": {
        _JSON: {
            "schema": {
                "type": "object",
                "required": ["records"],
                "properties": {"records": {"type": "array", "items": {"type": "object"}}},
            }
        }
    },
}
_OUTCOME_BODY = {
    "required": True,
    "content": {
        _JSON: {
            "schema": {
                "type": "object",
                "required": ["outcomes"],
                "properties": {
                    "outcomes": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["unit_id", "metric", "value"],
                            "properties": {
                                "unit_id": {"type": ["string", "integer"]},
                                "metric": {"type": "string"},
                                "value": {"type": "number"},
                                "time": {"type": "string", "format": "date-time"},
                            },
                        },
                    }
                },
            }
        }
    },
}
_SECURED: dict[str, Any] = {"security": [{"bearer": []}]}


def create_app(
    served: Mapping[str, Served],
    *,
    reload_seconds: float | None = None,
    on_shutdown: Callable[[], None] | None = None,
    features: FeatureStore | None = None,
) -> FastAPI:
    """The server for ``served`` products (``/invocations`` exists when there is one;
    ``/v1/features/online`` when a feature store is given)."""
    metrics = Metrics()
    products = dict(served)
    for s in products.values():
        s.endpoint.on_scored = metrics.scored
    single = next(iter(products)) if len(products) == 1 else None
    poll = reload_seconds or min(s.endpoint.config.reload_seconds for s in products.values())

    async def watch() -> None:
        while True:
            await asyncio.sleep(poll)
            for s in products.values():
                with contextlib.suppress(Exception):
                    await s.endpoint.refresh()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        loading = [asyncio.create_task(s.endpoint.refresh()) for s in products.values()]
        watcher = asyncio.create_task(watch())
        try:
            yield
        finally:
            watcher.cancel()
            for task in loading:
                task.cancel()
            for s in products.values():
                await s.endpoint.close()
            for s in products.values():  # the logs last: every answered request is queued
                if s.endpoint.log_writer is not None:
                    await asyncio.to_thread(s.endpoint.log_writer.close)
                if s.outcomes is not None:
                    await asyncio.to_thread(s.outcomes.close)
            if on_shutdown is not None:
                on_shutdown()

    app = FastAPI(
        title="prodml serving",
        version="1",
        lifespan=lifespan,
        description="Real-time endpoints of prodml products: the product's own API and "
        "MLflow's scoring protocol.",
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    def product_of(name: str) -> Served:
        s = products.get(name)
        if s is None:
            raise HTTPProblem(
                404, f"no endpoint for product {name!r}; served: {', '.join(sorted(products))}"
            )
        return s

    def authorize(s: Served, request: Request) -> None:
        if s.auth is None:
            return
        principal = s.auth.principal(request.headers.get("authorization"))
        if principal is None:
            raise HTTPProblem(
                401,
                "missing or invalid bearer token: send 'Authorization: Bearer <token>'",
                {"WWW-Authenticate": "Bearer"},
            )
        permits = getattr(s.auth, "permits", None)
        if permits is not None and not permits(principal):
            raise HTTPProblem(
                403,
                f"{principal} lacks EXECUTE on endpoint {s.endpoint.product}: ask an owner of "
                "the endpoint (or of its catalog) to grant it",
            )

    async def body_of(request: Request, limit: int) -> bytes:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise HTTPProblem(413, f"the body is {length} bytes; the limit is {limit}")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HTTPProblem(413, f"the body is over the limit of {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def guarded(handler: Callable[..., Any]) -> Callable[..., Any]:
        """Turn domain errors into HTTP answers (never a 500 for a caller's mistake)."""

        @functools.wraps(handler)
        async def run(*args: Any, **kwargs: Any) -> Response:
            try:
                result: Response = await handler(*args, **kwargs)
                return result
            except HTTPProblem as exc:
                return _problem(exc)
            except PayloadError as exc:
                return _problem(HTTPProblem(exc.status, exc.message))
            except NotReadyError as exc:
                return _problem(HTTPProblem(503, str(exc), {"Retry-After": "1"}))
            except (ValueError, TypeError) as exc:  # the model rejected these inputs
                return _problem(HTTPProblem(400, f"the model rejected the input: {exc}"))

        return run

    async def score(
        s: Served, request: Request, route: str, product_shape: bool
    ) -> tuple[Any, dict[str, str]]:
        started = time.perf_counter()
        authorize(s, request)
        endpoint = s.endpoint
        body = await body_of(request, endpoint.config.max_body_bytes)
        request_id = uuid.uuid4().hex
        if product_shape:
            records = parse_product(body)
        else:
            schema = endpoint.schema()
            records = parse_invocations(
                body, request.headers.get("content-type", _JSON), [n for n, _ in schema]
            )
            if request.headers.get("content-type", "").startswith("text/csv"):
                records = _typed_csv(records, schema)
        scored = await endpoint.score(
            records,
            method="score" if product_shape else "predict",
            route=route,
            header_unit=request.headers.get("x-unit-id"),
            request_id=request_id,
            started=started,
        )
        headers = {"X-Request-Id": scored.request_id}
        if len(set(scored.variants)) == 1:
            headers["X-Prodml-Variant"] = scored.variants[0]
            headers["X-Prodml-Model-Version"] = str(scored.versions[0])
        return scored, headers

    @app.get("/health", tags=["operations"])
    async def health() -> Response:
        """The process is up."""
        return _json({"status": "ok"})

    @app.get("/ping", tags=["mlflow"])
    async def ping() -> Response:
        """MLflow's readiness probe: 200 once the models are loaded."""
        ok = all(s.endpoint.ready for s in products.values())
        return Response(b"\n", status_code=200 if ok else 503, media_type="application/json")

    @app.get("/version", tags=["mlflow"])
    async def server_version() -> Response:
        """The server's version (MLflow's scoring servers answer theirs)."""
        from importlib.metadata import version as installed

        return Response(installed("prodml").encode(), media_type="text/plain")

    @app.get("/ready", tags=["operations"])
    async def ready() -> Response:
        """Every product's models are loaded (503 with the reason otherwise)."""
        states = {name: s.endpoint.info() for name, s in products.items()}
        ok = all(s.endpoint.ready for s in products.values())
        doc = {
            "ready": ok,
            "products": {
                n: {v["name"]: v["state"] for v in info["variants"]} for n, info in states.items()
            },
        }
        return _json(doc, 200 if ok else 503)

    @app.get("/metrics", tags=["operations"])
    async def prometheus() -> Response:
        """Prometheus exposition: request durations, predictions, inference-log backlog."""
        for name, s in products.items():
            writer = s.endpoint.log_writer
            if writer is not None:
                metrics.log_pending.labels(name).set(writer.pending_rows)
                metrics.log_written.labels(name).set(writer.written_rows)
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/v1/products", tags=["products"], openapi_extra=_SECURED)
    @guarded
    async def list_products(request: Request) -> Response:
        """The products this server serves."""
        visible = [n for n, s in products.items() if _allowed(s, request)]
        if not visible:
            authorize(next(iter(products.values())), request)
        return _json({"products": visible})

    @app.get("/v1/products/{product}", tags=["products"], openapi_extra=_SECURED)
    @guarded
    async def product_info(product: str, request: Request) -> Response:
        """What a product's endpoint serves: variants, versions, inputs."""
        s = product_of(product)
        authorize(s, request)
        return _json(s.endpoint.info())

    @app.post(
        "/v1/products/{product}/predict",
        tags=["products"],
        openapi_extra={"requestBody": _PRODUCT_BODY, **_SECURED},
    )
    @guarded
    async def predict(product: str, request: Request) -> Response:
        """The product's API: records in, one prediction per record with variant and version."""
        s = product_of(product)
        scored, headers = await score(s, request, "predict", True)
        preds = scored.predictions.tolist()
        return _json(
            {
                "request_id": scored.request_id,
                "model": scored.model,
                "predictions": [
                    {"prediction": p, "variant": v, "model_version": mv}
                    | ({"features": scored.feature_status[i]} if scored.feature_status else {})
                    for i, (p, v, mv) in enumerate(
                        zip(preds, scored.variants, scored.versions, strict=True)
                    )
                ],
            },
            headers=headers,
        )

    async def invoke(s: Served, request: Request) -> Response:
        scored, headers = await score(s, request, "invocations", False)
        preds = scored.predictions
        return _json(
            {"predictions": preds.tolist() if preds.dtype == object else preds}, headers=headers
        )

    @app.post(
        "/v1/products/{product}/invocations",
        tags=["mlflow"],
        openapi_extra={"requestBody": _MLFLOW_BODY, **_SECURED},
    )
    @guarded
    async def product_invocations(product: str, request: Request) -> Response:
        """MLflow's scoring protocol for one product."""
        return await invoke(product_of(product), request)

    if single is not None:

        @app.post(
            "/invocations", tags=["mlflow"], openapi_extra={"requestBody": _MLFLOW_BODY, **_SECURED}
        )
        @guarded
        async def invocations(request: Request) -> Response:
            """MLflow's scoring protocol (this server serves one product)."""
            return await invoke(products[single], request)

    @app.post(
        "/v1/products/{product}/outcomes",
        tags=["abtest"],
        openapi_extra={"requestBody": _OUTCOME_BODY, **_SECURED},
    )
    @guarded
    async def outcomes(product: str, request: Request) -> Response:
        """Record outcomes of units (for A/B analysis)."""
        s = product_of(product)
        authorize(s, request)
        if s.outcomes is None:
            raise HTTPProblem(404, f"product {product} runs no A/B experiment (no ab: section)")
        body = await body_of(request, s.endpoint.config.max_body_bytes)
        try:
            rows = parse_outcomes(loads(body), s.outcome_metrics, s.endpoint.config.max_rows)
        except OutcomeError as exc:
            raise HTTPProblem(400, str(exc)) from None
        if not s.outcomes.put([rows]):
            raise NotReadyError("the outcome log is behind (queue full); retry")
        return _json({"accepted": rows.n}, 202)

    if features is not None:
        store = features

        @app.post(
            "/v1/features/online",
            tags=["features"],
            openapi_extra={"requestBody": _FEATURES_BODY, **_SECURED},
        )
        @guarded
        async def online_features(request: Request) -> Response:
            """Online feature values of entities: values, a status per feature, event times."""
            caller = _caller(products, request)
            body = await body_of(request, _FEATURES_MAX_BODY)
            target, entities, wanted = _feature_request(loads(body))
            try:
                found = store.online(target, entities, features=wanted, principal=caller)
            except PermissionDeniedError as exc:
                raise HTTPProblem(403, str(exc)) from None
            except (EntityError, UsageError) as exc:
                raise HTTPProblem(400, str(exc)) from None
            except (NotFoundError, NotPublishedError) as exc:
                raise HTTPProblem(404, str(exc)) from None
            except OnlineStoreError as exc:
                raise HTTPProblem(503, str(exc), {"Retry-After": "1"}) from None
            return _json(
                {
                    "results": [
                        {"entity": dict(e), **hit.to_json()}
                        for e, hit in zip(entities, found, strict=True)
                    ]
                }
            )

    @app.post("/v1/admin/reload", tags=["operations"], openapi_extra=_SECURED)
    @guarded
    async def reload(request: Request) -> Response:
        """Check every alias now and swap in changed versions."""
        if not any(_allowed(s, request) for s in products.values()):
            authorize(next(iter(products.values())), request)
        changes = {name: await s.endpoint.refresh() for name, s in products.items()}
        return _json(
            {"changes": changes, "ready": all(s.endpoint.ready for s in products.values())}
        )

    _bearer_scheme(app)
    return app


#: the largest feature request body, and the most entities in one
_FEATURES_MAX_BODY = 1_048_576
_FEATURES_MAX_ENTITIES = 10_000

_FEATURES_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["entities"],
                "description": "Exactly one of table (a feature table) and feature_service (a "
                "product: the lookups its champion was trained with).",
                "properties": {
                    "table": {"type": "string", "example": "features.customer_features"},
                    "feature_service": {"type": "string", "example": "churn"},
                    "features": {"type": "array", "items": {"type": "string"}},
                    "entities": {
                        "type": "array",
                        "items": {"type": "object"},
                        "example": [{"customer_id": 42}],
                    },
                },
            }
        }
    },
}


def _feature_request(doc: Any) -> tuple[str, list[dict[str, Any]], list[str] | None]:
    """(table or service, entities, features) from a /v1/features/online body, or a 400."""
    if not isinstance(doc, dict):
        raise HTTPProblem(400, "the body must be a JSON object with 'table' and 'entities'")
    unknown = set(doc) - {"table", "feature_service", "features", "entities"}
    if unknown:
        raise HTTPProblem(
            400,
            f"unknown field {sorted(unknown)[0]!r}; use table or feature_service, entities, "
            "features",
        )
    targets = [doc[k] for k in ("table", "feature_service") if k in doc]
    if len(targets) != 1 or not isinstance(targets[0], str) or not targets[0]:
        raise HTTPProblem(400, "give exactly one of 'table' and 'feature_service' (a string)")
    entities = doc.get("entities")
    if not isinstance(entities, list) or not entities:
        raise HTTPProblem(400, "'entities' must be a non-empty list of objects")
    if len(entities) > _FEATURES_MAX_ENTITIES:
        raise HTTPProblem(
            413, f"{len(entities)} entities in one request; at most {_FEATURES_MAX_ENTITIES}"
        )
    features = doc.get("features")
    if features is not None and (
        not isinstance(features, list) or not all(isinstance(f, str) for f in features)
    ):
        raise HTTPProblem(400, "'features' must be a list of feature names")
    return targets[0], entities, features


def _caller(products: Mapping[str, Served], request: Request) -> str | None:
    """Who calls a route that is not one product's (feature lookups): a valid token of any
    served product's check, else 401; None without authentication."""
    checks = [s.auth for s in products.values() if s.auth is not None]
    if not checks:
        return None
    header = request.headers.get("authorization")
    for check in checks:
        principal = check.principal(header)
        if principal is not None:
            return principal
    raise HTTPProblem(
        401,
        "missing or invalid bearer token: send 'Authorization: Bearer <token>'",
        {"WWW-Authenticate": "Bearer"},
    )


def _allowed(s: Served, request: Request) -> bool:
    if s.auth is None:
        return True
    principal = s.auth.principal(request.headers.get("authorization"))
    if principal is None:
        return False
    permits = getattr(s.auth, "permits", None)
    return permits is None or bool(permits(principal))


def _typed_csv(records: Any, schema: Any) -> Any:
    """CSV values are text: convert numeric columns here (a bad number is a 400)."""
    from prodml.serving.payload import Records, coerce

    typed = coerce(records, schema, from_text=True)
    columns = dict(records.columns)
    columns.update({k: v.tolist() for k, v in typed.items()})
    return Records(columns, records.n, records.params)


def _bearer_scheme(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        doc = original()
        doc.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
            "type": "http",
            "scheme": "bearer",
        }
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
