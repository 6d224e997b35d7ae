"""``/permissions/{securable_type}/{full_name}``: read and change the grants on a securable."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from prodml.errors import UsageError
from prodml.server import wire
from prodml.server.catalogs import CatalogServer
from prodml.server.routes import caller, server

router = APIRouter(tags=["permissions"])
Server = Annotated[CatalogServer, Depends(server)]
Caller = Annotated[str | None, Depends(caller)]


def _governed(catalogs: CatalogServer, token: str | None) -> str:
    if not catalogs.authenticate or token is None:
        raise UsageError("governance is off: there are no grants")
    return token


@router.get("/permissions/{securable_type}/{full_name}")
def get_permissions(
    securable_type: str,
    full_name: str,
    catalogs: Server,
    token: Caller,
    principal: str | None = None,
) -> dict[str, Any]:
    """The grants on a securable (owners, MANAGE holders and admins; or your own)."""
    kind, name = catalogs.securable(securable_type, full_name)
    view = catalogs.view(name.split(".")[0], _governed(catalogs, token))
    if principal != view.principal:  # others' grants: managers only (a refusal is audited)
        view.require_manage(kind, name, "read others' grants")
    return catalogs.permissions(view, kind, name, principal)


@router.patch(
    "/permissions/{securable_type}/{full_name}",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": wire.UpdatePermissions.model_json_schema()}},
        }
    },
)
async def update_permissions(
    securable_type: str, full_name: str, request: Request, catalogs: Server, token: Caller
) -> dict[str, Any]:
    """Grant and revoke (owners, MANAGE holders and admins; audited). MANAGE is checked
    first, then every change before any is applied: a bad one changes nothing."""
    kind, name = catalogs.securable(securable_type, full_name)
    view = catalogs.view(name.split(".")[0], _governed(catalogs, token))
    body = wire.parse(wire.UpdatePermissions, await request.body())
    changes = [
        {
            "principal": c.principal,
            "add": [wire.to_prodml(p) for p in c.add],
            "remove": [wire.to_prodml(p) for p in c.remove],
        }
        for c in body.changes
    ]
    view.change_grants(kind, name, changes)
    return catalogs.permissions(view, kind, name, None)
