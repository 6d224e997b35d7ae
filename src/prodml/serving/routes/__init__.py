"""The serving routes, one module per group, and what they share: the server's state, who
calls, reading bodies within limits, JSON answers."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from fastapi import Request
from fastapi.responses import Response

from prodml.features.online import Lookup
from prodml.serving.build import Served
from prodml.serving.errors import (
    ClientGoneError,
    NotAllowedError,
    NoTokenError,
    NotServedError,
    PayloadTooLargeError,
)
from prodml.serving.metrics import Metrics

log = logging.getLogger(__name__)


class FeatureReader(Protocol):
    """Online features, as ``POST /v1/features/online`` reads them (the feature store)."""

    def online(
        self,
        target: str,
        entities: Any,
        *,
        features: list[str] | None = None,
        principal: str | None = None,
    ) -> list[Lookup]:
        """Each entity's values, statuses and event time."""


@dataclass
class ServerState:
    """What every route of one server sees."""

    products: Mapping[str, Served]
    metrics: Metrics
    features: FeatureReader | None = None

    def product(self, name: str) -> Served:
        """A served product (404 naming the served ones otherwise)."""
        found = self.products.get(name)
        if found is None:
            served = ", ".join(sorted(self.products))
            from prodml.errors import did_you_mean

            raise NotServedError(
                "served product",
                name,
                self.products,
                hint=did_you_mean(name, list(self.products)) or "",  # the message lists them
                message=f"no endpoint for product {name!r}; served: {served}",
            )
        return found


def state(request: Request) -> ServerState:
    """The server's state (a FastAPI dependency)."""
    found: ServerState = request.app.state.serving
    return found


def authorize(served: Served, request: Request) -> None:
    """The caller of one product's route holds a valid token that may call it (401, 403)."""
    if served.guard is None:
        return
    principal = served.guard.principal(request.headers.get("authorization"))
    if principal is None:
        raise NoTokenError()
    if not served.guard.permits(principal):
        raise NotAllowedError(
            f"{principal} lacks EXECUTE on endpoint {served.endpoint.product}: ask an owner of "
            "the endpoint (or of its catalog) to grant it"
        )


def allowed(served: Served, request: Request) -> bool:
    """Whether the caller may call this product (no error either way)."""
    if served.guard is None:
        return True
    principal = served.guard.principal(request.headers.get("authorization"))
    return principal is not None and served.guard.permits(principal)


def caller(server: ServerState, request: Request) -> str | None:
    """Who calls a route that is no one product's (feature lookups): the principal of a token
    that any served endpoint accepts (401 otherwise); None without authentication."""
    guards = [s.guard for s in server.products.values() if s.guard is not None]
    if not guards:
        return None
    header = request.headers.get("authorization")
    for guard in guards:
        principal = guard.principal(header)
        if principal is not None:
            return principal
    raise NoTokenError()


async def body_of(request: Request, limit: int) -> bytes:
    """The request body, refused (413) as soon as it is over ``limit`` bytes."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise PayloadTooLargeError(f"the body is {length} bytes; the limit is {limit}")
    from starlette.requests import ClientDisconnect

    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLargeError(f"the body is over the limit of {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        log.info("%s %s: the client left after %d bytes", request.method, request.url.path, size)
        raise ClientGoneError(
            f"the client disconnected after {size} bytes of the body; nothing was scored"
        ) from None
    return b"".join(chunks)


def json_response(
    doc: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON answer (NumPy arrays serialised natively)."""
    return Response(
        orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )
