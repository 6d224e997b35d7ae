"""The catalog server's view of the platform: one workspace per environment (catalog), who
calls, and what they may see. Each request is answered by the environment's workspace acting
as the authenticated caller, so every decision is the one the CLI and the Python API make."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import Request

from prodml.errors import AccessDeniedError, AuthenticationError, NotFoundError, UsageError
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

    def token(self, request: Request) -> str | None:
        """The caller's bearer token, checked against the environments' metadata stores
        (None without authentication). Environments may keep their governance records in
        different stores: a token is valid when one of them knows it."""
        if not self.authenticate:
            return None
        header = request.headers.get("authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("send 'Authorization: Bearer <token>' (a prodml token)")
        self._any_store(token.strip())
        return token.strip()

    def _any_store(self, token: str) -> Workspace:
        """The caller's view in the first environment whose store knows the token."""
        stores = {ws.metadata_location: ws for ws in self.workspaces.values()}
        problem: AuthenticationError | None = None
        for ws in stores.values():
            try:
                return ws.as_caller(token, client="uc-api")
            except AuthenticationError as exc:
                problem = exc
        assert problem is not None
        raise problem

    @property
    def home(self) -> Workspace:
        """The default environment's workspace: catalogs made through the API are kept in
        its metadata store."""
        first = next(iter(self.workspaces.values()))
        default = first.platform.file.default_env
        return next((w for w in self.workspaces.values() if w.env == default), first)

    def made(self) -> list[str]:
        """The catalogs made through the API."""
        return [r["name"] for r in self.home.catalog_records()]

    def view(self, catalog: str, token: str | None) -> Workspace:
        """The catalog's workspace acting as the caller (an environment's, or the home one
        for catalogs made through the API). A catalog that does not exist is a 404 only for
        admins; others are told they may not use it (as for a real one they lack
        USE_CATALOG on), so that names cannot be probed."""
        ws = self.workspaces.get(catalog)
        if ws is None and self.home.catalog_record(catalog) is not None:
            ws = self.home
        if ws is None:
            if token is not None and not self._any_store(token).is_admin():
                raise AccessDeniedError(f"lacks USE_CATALOG on catalog {catalog}")
            known = [*self.workspaces, *self.made()]
            raise NotFoundError(
                "catalog",
                catalog,
                known,
                message=f"catalog {catalog!r} does not exist; catalogs: {', '.join(known)}",
            )
        return ws if token is None else ws.as_caller(token, client="uc-api")

    def home_view(self, token: str | None) -> Workspace:
        """The home workspace as the caller (where catalogs are made)."""
        return self.home if token is None else self.home.as_caller(token, client="uc-api")

    def views(self, token: str | None) -> dict[str, Workspace]:
        """Every catalog's view as the caller."""
        return {c: self.view(c, token) for c in [*self.workspaces, *self.made()]}

    def securable(self, securable_type: str, full_name: str) -> tuple[str, str]:
        """(prodml type, name) of a permissions route (a 400 for what it cannot be)."""
        kind = wire.TYPES.get(securable_type.lower())
        if kind is None:
            raise UsageError(
                f"unsupported securable type {securable_type!r}; supported: {', '.join(wire.TYPES)}"
            )
        next(iter(self.workspaces.values())).check_securable(kind, full_name)
        return kind, full_name

    def owner(self, view: Workspace, kind: str, name: str) -> str | None:
        """Who answers for a securable (None without authentication)."""
        return view.effective_owner(kind, name) if self.authenticate else None

    def catalog_info(self, view: Workspace, name: str) -> dict[str, Any]:
        """CatalogInfo of a catalog: an environment's, or one made through the API."""
        owner = self.owner(view, "catalog", name)
        record = view.catalog_record(name)
        if record is None:  # an environment's: prodml.yaml made it
            made = view.platform.root / "prodml.yaml"
            record = {
                "comment": f"environment {view.env} of {view.platform.file.name}",
                "properties": {"prodml.env": view.env},
                "created_at": datetime.fromtimestamp(made.stat().st_mtime, UTC),
                "storage_root": view.storage_root(name),
            }
        return wire.catalog_info(name, owner, record)

    def schema_info(self, view: Workspace, catalog: str, schema: str) -> dict[str, Any]:
        """SchemaInfo of a schema."""
        full = f"{catalog}.{schema}"
        record = dict(view.schema_record(full) or {})
        if "created_at" not in record:  # a layer: there since its first table
            entries = view.catalog_entries(catalog)
            stamps = [t["created_at"] for t in entries if t["schema_name"] == schema]
            record["created_at"] = min(stamps, default=None)
        return wire.schema_info(catalog, schema, self.owner(view, "schema", full), record)

    def table_info(self, view: Workspace, record: Mapping[str, Any]) -> dict[str, Any]:
        """TableInfo of a table record."""
        full = f"{record['catalog']}.{record['schema_name']}.{record['name']}"
        return wire.table_info(
            record,
            self.owner(view, "table", full),
            view.storage_location(full),
            view.column_controls(full),
        )

    def permissions(
        self, view: Workspace, kind: str, name: str, principal: str | None
    ) -> dict[str, Any]:
        """PermissionsList of the grants made on the securable itself."""
        by_principal: dict[str, set[str]] = {}
        for grant in view.grants_on(kind, name, principal):
            meant = view.privileges_meant(grant["privilege"], kind)
            by_principal.setdefault(grant["principal"], set()).update(wire.to_wire(meant))
        return {
            "privilege_assignments": [
                {"principal": p, "privileges": sorted(v)}
                for p, v in sorted(by_principal.items())
                if v
            ]
        }
