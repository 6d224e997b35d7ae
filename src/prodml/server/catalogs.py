"""The catalog server's view of the platform: one workspace per environment (catalog), who
calls, and what they may see. Decisions are governance's, made through the workspaces."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request

from prodml.errors import AuthenticationError, NotFoundError, UsageError
from prodml.server import wire
from prodml.workspace import Workspace


class CatalogServer:
    """Answers the Unity Catalog routes from one workspace per environment.

    Args:
        workspaces: catalog name → its environment's workspace.
        authenticate: False (``--no-auth``, loopback only): no tokens, no grants.
    """

    def __init__(self, workspaces: Mapping[str, Workspace], *, authenticate: bool) -> None:
        self.workspaces = dict(workspaces)
        self.authenticate = authenticate

    def workspace(self, catalog: str) -> Workspace:
        """The workspace of a catalog (404 when there is none)."""
        ws = self.workspaces.get(catalog)
        if ws is None:
            raise NotFoundError(
                "catalog",
                catalog,
                self.workspaces,
                message=f"catalog {catalog!r} does not exist; catalogs: {', '.join(self.workspaces)}",
            )
        return ws

    def caller(self, request: Request) -> str | None:
        """The caller (None without authentication). Environments may keep their governance
        records in different metadata stores: a token is looked up in each."""
        if not self.authenticate:
            return None
        header = request.headers.get("authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("send 'Authorization: Bearer <token>' (a prodml token)")
        stores = {ws.metadata_location: ws for ws in self.workspaces.values()}
        problem: AuthenticationError | None = None
        for ws in stores.values():
            try:
                return ws.authenticate(token.strip(), client="uc-api")
            except AuthenticationError as exc:
                problem = exc
        assert problem is not None
        raise problem

    def allowed(self, who: str | None, privilege: str, kind: str, name: str) -> bool:
        """Whether the caller holds ``privilege`` on a securable (always, without auth)."""
        if who is None:
            return True
        return self.workspace(name.split(".", maxsplit=1)[0]).holds(who, privilege, kind, name)

    def require(self, who: str | None, action: str, kind: str, name: str) -> None:
        """Decide and audit; a refusal is a 403 naming the missing privilege."""
        if who is not None:
            self.workspace(name.split(".", maxsplit=1)[0]).require(
                who, action, kind, name, client="uc-api"
            )

    def use(self, who: str | None, catalog: str, schema: str | None = None) -> None:
        """USE_CATALOG (and USE_SCHEMA) on the way to a schema's objects, or a 403."""
        path = [("USE_CATALOG", "catalog", catalog)]
        if schema is not None:
            path.append(("USE_SCHEMA", "schema", f"{catalog}.{schema}"))
        for privilege, kind, name in path:
            if not self.allowed(who, privilege, kind, name):
                from prodml.errors import AccessDeniedError

                raise AccessDeniedError(f"{who} lacks {privilege} on {kind} {name}")

    def securable(self, securable_type: str, full_name: str) -> tuple[str, str]:
        """(prodml type, name) of a permissions route (a 400 for what it cannot be)."""
        kind = wire.TYPES.get(securable_type.lower())
        if kind is None:
            raise UsageError(
                f"unsupported securable type {securable_type!r}; supported: {', '.join(wire.TYPES)}"
            )
        self.workspace(full_name.split(".", maxsplit=1)[0]).check_securable(kind, full_name)
        return kind, full_name

    def owner(self, kind: str, name: str) -> str | None:
        """The owner of a securable (None without authentication)."""
        return (
            self.workspace(name.split(".", maxsplit=1)[0]).owner(kind, name)
            if self.authenticate
            else None
        )

    def tables(self, catalog: str) -> list[dict[str, Any]]:
        """The registered tables of a catalog."""
        return self.workspace(catalog).catalog_entries()

    def schemas(self, catalog: str) -> list[str]:
        """Schemas holding at least one table."""
        return sorted({t["schema_name"] for t in self.tables(catalog)})

    def catalog_info(self, name: str) -> dict[str, Any]:
        """CatalogInfo of a catalog."""
        ws = self.workspace(name)
        return wire.catalog_info(name, ws.env, ws.platform.file.name, self.owner("catalog", name))

    def schema_info(self, catalog: str, schema: str) -> dict[str, Any]:
        """SchemaInfo of a schema."""
        return wire.schema_info(catalog, schema, self.owner("schema", f"{catalog}.{schema}"))

    def table_info(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """TableInfo of a table record."""
        full = f"{record['catalog']}.{record['schema_name']}.{record['name']}"
        return wire.table_info(record, self.owner("table", full))

    def permissions(self, kind: str, name: str, principal: str | None) -> dict[str, Any]:
        """PermissionsList of the grants made on the securable itself."""
        ws = self.workspace(name.split(".", maxsplit=1)[0])
        by_principal: dict[str, set[str]] = {}
        for grant in ws.grants_on(kind, name, principal):
            meant = ws.privileges_meant(grant["privilege"], kind)
            by_principal.setdefault(grant["principal"], set()).update(wire.to_wire(meant))
        return {
            "privilege_assignments": [
                {"principal": p, "privileges": sorted(v)}
                for p, v in sorted(by_principal.items())
                if v
            ]
        }
