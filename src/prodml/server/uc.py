"""The open-source Unity Catalog REST subset over prodml's catalogs and grants.

``/api/2.1/unity-catalog``: ``catalogs``, ``schemas``, ``tables`` (list and get) and
``permissions/{securable_type}/{full_name}`` (GET, PATCH) — enough for the official
``unitycatalog-client`` to browse and to read and change privileges. Every environment's
catalog is served. Callers authenticate with a platform token (``Authorization: Bearer``);
what they see and change is decided by their grants, and audited.

On the wire privileges are Unity Catalog's (``USE CATALOG``): ``ALL_PRIVILEGES`` is sent as
the privileges it stands for, and ``MANAGE`` (which the client's enum does not know) is left
off, never sent raw.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response

from prodml.errors import AuthenticationError, NotFoundError, ProdmlError
from prodml.governance.errors import GovernanceError, PermissionDeniedError
from prodml.governance.privileges import (
    ALL,
    APPLICABLE,
    Privilege,
    Securable,
)
from prodml.governance.service import Governance
from prodml.workspace import Workspace

log = logging.getLogger(__name__)

PREFIX = "/api/2.1/unity-catalog"
#: Unity Catalog's securable types → prodml's
TYPES = {"catalog": "catalog", "schema": "schema", "table": "table", "registered_model": "model"}
_CODES = {
    400: "INVALID_PARAMETER_VALUE",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
}
#: Arrow type names → Unity Catalog column type names
_COLUMN_TYPES = {
    "bool": "BOOLEAN",
    "int8": "BYTE",
    "int16": "SHORT",
    "int32": "INT",
    "int64": "LONG",
    "uint8": "SHORT",
    "uint16": "INT",
    "uint32": "LONG",
    "uint64": "LONG",
    "float": "FLOAT",
    "halffloat": "FLOAT",
    "double": "DOUBLE",
    "string": "STRING",
    "large_string": "STRING",
    "binary": "BINARY",
    "date32[day]": "DATE",
}


class Problem(Exception):
    """An error answered as Unity Catalog's error JSON."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def wire(privilege: Privilege, securable_type: str) -> list[str]:
    """A privilege as Unity Catalog writes it: ``ALL_PRIVILEGES`` expanded to what it means on
    the securable's type, ``MANAGE`` (unknown to the client) left off."""
    if privilege == Privilege.MANAGE:
        return []
    if privilege == Privilege.ALL_PRIVILEGES:
        meant = ALL & APPLICABLE[securable_type]
        return sorted(p.value.replace("_", " ") for p in meant)
    return [privilege.value.replace("_", " ")]


def from_wire(text: str) -> Privilege:
    """``USE CATALOG`` → ``USE_CATALOG`` (a 400 for an unknown one)."""
    try:
        return Privilege(text.strip().upper().replace(" ", "_"))
    except ValueError:
        raise Problem(400, f"unknown privilege {text!r}") from None


def _ms(value: Any) -> int | None:
    return int(value.timestamp() * 1000) if value is not None else None


def _id(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:32]


class CatalogServer:
    """Answers the Unity Catalog routes from one workspace per environment (catalog)."""

    def __init__(self, workspaces: Mapping[str, Workspace], *, authenticate: bool) -> None:
        self.workspaces = dict(workspaces)  # catalog name → workspace
        self.authenticate = authenticate  # False: --no-auth (loopback only), no grants

    def governance_of(self, catalog: str) -> Governance:
        """The governance of a catalog: its environment's metadata store holds its grants."""
        return self.workspace(catalog).governance

    # -- identity and checks ---------------------------------------------------------------

    def principal(self, request: Request) -> str | None:
        """The caller (None without authentication). Environments may keep their governance
        records in different metadata stores: a token is looked up in each."""
        if not self.authenticate:
            return None
        header = request.headers.get("authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(401, "send 'Authorization: Bearer <token>' (a prodml token)")
        stores: dict[str, Governance] = {}
        for ws in self.workspaces.values():
            stores.setdefault(str(ws.store.engine.url), ws.governance)
        problem = "unknown token"
        for governance in stores.values():
            try:
                return governance.authenticate(token.strip(), client="uc-api")
            except AuthenticationError as exc:
                problem = str(exc)
        raise Problem(401, problem)

    def allowed(self, principal: str | None, privilege: Privilege, securable: Securable) -> bool:
        """Whether the caller holds ``privilege`` on ``securable`` (always, without auth)."""
        if principal is None or not self.authenticate:
            return True
        return self.governance_of(securable.catalog).authorizer.holds(
            principal, privilege, securable
        )

    def require(self, principal: str | None, action: str, securable: Securable) -> None:
        """Decide and audit; a refusal is a 403 naming the missing privilege."""
        if principal is None or not self.authenticate:
            return
        try:
            self.governance_of(securable.catalog).authorizer.check(
                principal, action, securable, client="uc-api"
            )
        except PermissionDeniedError as exc:
            raise Problem(403, str(exc)) from None

    def workspace(self, catalog: str) -> Workspace:
        """The workspace of a catalog (404 when there is none)."""
        ws = self.workspaces.get(catalog)
        if ws is None:
            raise Problem(
                404, f"catalog {catalog!r} does not exist; catalogs: {', '.join(self.workspaces)}"
            )
        return ws

    # -- catalogs, schemas, tables ---------------------------------------------------------

    def catalog_info(self, name: str) -> dict[str, Any]:
        """CatalogInfo."""
        ws = self.workspaces[name]
        return {
            "name": name,
            "comment": f"environment {ws.env} of {ws.platform.file.name}",
            "properties": {"prodml.env": ws.env},
            "owner": self._owner(Securable("catalog", name)),
            "id": _id(name),
        }

    def _owner(self, securable: Securable) -> str | None:
        if not self.authenticate:
            return None
        return self.governance_of(securable.catalog).records.owners([securable]).get(securable)

    def tables(self, catalog: str) -> list[dict[str, Any]]:
        """The registered tables of a catalog (catalog records)."""
        return list(self.workspace(catalog).store.list_tables(catalog))

    def schemas(self, catalog: str) -> list[str]:
        """Schemas holding at least one table."""
        return sorted({t["schema_name"] for t in self.tables(catalog)})

    def schema_info(self, catalog: str, schema: str) -> dict[str, Any]:
        """SchemaInfo."""
        return {
            "name": schema,
            "catalog_name": catalog,
            "full_name": f"{catalog}.{schema}",
            "comment": f"the {schema} layer",
            "owner": self._owner(Securable("schema", f"{catalog}.{schema}")),
            "schema_id": _id(catalog, schema),
            "properties": {},
        }

    def table_info(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """TableInfo with columns (their Arrow types as text)."""
        catalog, schema, name = record["catalog"], record["schema_name"], record["name"]
        partition = list(record.get("partition_by") or [])
        columns = []
        for i, column in enumerate(record.get("columns") or []):
            arrow = str(column.get("type", ""))
            type_name = _COLUMN_TYPES.get(arrow) or (
                "TIMESTAMP"
                if arrow.startswith("timestamp") and "tz=" in arrow
                else "TIMESTAMP_NTZ"
                if arrow.startswith("timestamp")
                else "DECIMAL"
                if arrow.startswith("decimal")
                else "STRING"
            )
            columns.append(
                {
                    "name": column["name"],
                    "type_text": arrow,
                    "type_name": type_name,
                    "type_json": orjson.dumps(
                        {"name": column["name"], "type": type_name.lower(), "nullable": True}
                    ).decode(),
                    "position": i,
                    "comment": column.get("doc") or None,
                    "nullable": True,
                    "partition_index": partition.index(column["name"])
                    if column["name"] in partition
                    else None,
                }
            )
        properties = {
            k: str(v)
            for k, v in (
                ("prodml.owner_product", record.get("owner_product")),
                ("prodml.producer_step", record.get("producer_step")),
                ("prodml.layer", record.get("layer")),
            )
            if v
        }
        return {
            "name": name,
            "catalog_name": catalog,
            "schema_name": schema,
            "table_type": "MANAGED",
            "data_source_format": "DELTA",
            "columns": columns,
            "storage_location": record.get("location"),
            "comment": record.get("description") or None,
            "properties": properties,
            "owner": self._owner(Securable("table", f"{catalog}.{schema}.{name}")),
            "created_at": _ms(record.get("created_at")),
            "updated_at": _ms(record.get("updated_at")),
            "table_id": _id(catalog, schema, name),
        }

    # -- permissions -----------------------------------------------------------------------

    def securable(self, securable_type: str, full_name: str) -> Securable:
        """The securable of a permissions route (a 400 for a type or name it cannot be)."""
        kind = TYPES.get(securable_type.lower())
        if kind is None:
            raise Problem(
                400,
                f"unsupported securable type {securable_type!r}; supported: {', '.join(TYPES)}",
            )
        try:
            securable = Securable.parse(kind, full_name)
        except GovernanceError as exc:
            raise Problem(400, str(exc)) from None
        self.workspace(securable.catalog)
        return securable

    def permissions(self, securable: Securable, principal: str | None) -> dict[str, Any]:
        """PermissionsList of the grants made on the securable itself."""
        by_principal: dict[str, set[str]] = {}
        for grant in self.governance_of(securable.catalog).records.grants(securable, principal):
            names = wire(Privilege(grant["privilege"]), securable.type)
            by_principal.setdefault(grant["principal"], set()).update(names)
        return {
            "privilege_assignments": [
                {"principal": p, "privileges": sorted(v)}
                for p, v in sorted(by_principal.items())
                if v
            ]
        }


def create_uc_app(server: CatalogServer) -> FastAPI:
    """The FastAPI app of the Unity Catalog subset."""
    app = FastAPI(
        title="prodml catalog server",
        version="1",
        description="The open-source Unity Catalog REST subset (catalogs, schemas, tables, "
        "permissions) over prodml's catalogs and grants.",
    )

    def guarded(handler: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(handler)
        async def run(*args: Any, **kwargs: Any) -> Response:
            try:
                result: Response = await handler(*args, **kwargs)
                return result
            except Problem as exc:
                return _error(exc.status, exc.message)
            except PermissionDeniedError as exc:
                return _error(403, str(exc))
            except NotFoundError as exc:
                return _error(404, str(exc))
            except (GovernanceError, ProdmlError) as exc:
                return _error(400, str(exc))

        return run

    @app.get(f"{PREFIX}/catalogs")
    @guarded
    async def list_catalogs(request: Request) -> Response:
        """Catalogs the caller may use."""
        who = server.principal(request)
        names = [
            c
            for c in server.workspaces
            if server.allowed(who, Privilege.USE_CATALOG, Securable("catalog", c))
        ]
        return _json({"catalogs": [server.catalog_info(c) for c in names]})

    @app.get(PREFIX + "/catalogs/{name}")
    @guarded
    async def get_catalog(name: str, request: Request) -> Response:
        """One catalog (USE_CATALOG)."""
        who = server.principal(request)
        server.workspace(name)
        securable = Securable("catalog", name)
        if not server.allowed(who, Privilege.USE_CATALOG, securable):
            raise Problem(403, f"{who} lacks USE_CATALOG on catalog {name}")
        return _json(server.catalog_info(name))

    @app.get(f"{PREFIX}/schemas")
    @guarded
    async def list_schemas(request: Request, catalog_name: str) -> Response:
        """Schemas of a catalog the caller may use."""
        who = server.principal(request)
        server.workspace(catalog_name)
        if not server.allowed(who, Privilege.USE_CATALOG, Securable("catalog", catalog_name)):
            raise Problem(403, f"{who} lacks USE_CATALOG on catalog {catalog_name}")
        names = [
            s
            for s in server.schemas(catalog_name)
            if server.allowed(who, Privilege.USE_SCHEMA, Securable("schema", f"{catalog_name}.{s}"))
        ]
        return _json({"schemas": [server.schema_info(catalog_name, s) for s in names]})

    @app.get(PREFIX + "/schemas/{full_name}")
    @guarded
    async def get_schema(full_name: str, request: Request) -> Response:
        """One schema (USE_CATALOG and USE_SCHEMA)."""
        who = server.principal(request)
        securable = server.securable("schema", full_name)
        catalog, schema = full_name.split(".")
        if schema not in server.schemas(catalog):
            raise Problem(404, f"schema {full_name} does not exist")
        for privilege, target in (
            (Privilege.USE_CATALOG, Securable("catalog", catalog)),
            (Privilege.USE_SCHEMA, securable),
        ):
            if not server.allowed(who, privilege, target):
                raise Problem(403, f"{who} lacks {privilege} on {target}")
        return _json(server.schema_info(catalog, schema))

    @app.get(f"{PREFIX}/tables")
    @guarded
    async def list_tables(request: Request, catalog_name: str, schema_name: str) -> Response:
        """Tables of a schema the caller may read or modify."""
        who = server.principal(request)
        schema = server.securable("schema", f"{catalog_name}.{schema_name}")
        for privilege, target in (
            (Privilege.USE_CATALOG, Securable("catalog", catalog_name)),
            (Privilege.USE_SCHEMA, schema),
        ):
            if not server.allowed(who, privilege, target):
                raise Problem(403, f"{who} lacks {privilege} on {target}")
        rows = [
            t
            for t in server.tables(catalog_name)
            if t["schema_name"] == schema_name
            and any(
                server.allowed(
                    who, p, Securable("table", f"{catalog_name}.{schema_name}.{t['name']}")
                )
                for p in (Privilege.SELECT, Privilege.MODIFY)
            )
        ]
        return _json({"tables": [server.table_info(t) for t in rows]})

    @app.get(PREFIX + "/tables/{full_name}")
    @guarded
    async def get_table(full_name: str, request: Request) -> Response:
        """One table with its columns (USE_CATALOG, USE_SCHEMA and SELECT; audited)."""
        who = server.principal(request)
        securable = server.securable("table", full_name)
        catalog, schema, name = full_name.split(".")
        record = next(
            (t for t in server.tables(catalog) if t["schema_name"] == schema and t["name"] == name),
            None,
        )
        if record is None:
            raise Problem(404, f"table {full_name} does not exist")
        server.require(who, "read", securable)
        return _json(server.table_info(record))

    @app.get(PREFIX + "/permissions/{securable_type}/{full_name}")
    @guarded
    async def get_permissions(
        securable_type: str, full_name: str, request: Request, principal: str | None = None
    ) -> Response:
        """The grants on a securable (owners, MANAGE holders and admins; or your own)."""
        who = server.principal(request)
        securable = server.securable(securable_type, full_name)
        if not server.authenticate:
            raise Problem(400, "governance is off: there are no grants")
        governance = server.governance_of(securable.catalog)
        if (
            who is not None
            and principal != who
            and not governance.authorizer.can_manage(who, securable)
        ):
            raise Problem(
                403, f"{who} lacks MANAGE on {securable}: it may only read its own privileges"
            )
        return _json(server.permissions(securable, principal))

    @app.patch(PREFIX + "/permissions/{securable_type}/{full_name}")
    @guarded
    async def update_permissions(securable_type: str, full_name: str, request: Request) -> Response:
        """Grant and revoke (owners, MANAGE holders and admins; audited)."""
        who = server.principal(request)
        securable = server.securable(securable_type, full_name)
        if not server.authenticate or who is None:
            raise Problem(400, "governance is off: there are no grants to change")
        governance = server.governance_of(securable.catalog)
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise Problem(400, f"the body is not JSON: {exc}") from None
        changes = body.get("changes") if isinstance(body, dict) else None
        if not isinstance(changes, list):
            raise Problem(400, 'the body must be {"changes": [{principal, add, remove}]}')
        # every change is checked before any is applied: a bad one changes nothing
        planned: list[tuple[str, list[Privilege], list[Privilege]]] = []
        for change in changes:
            if not isinstance(change, dict) or not isinstance(change.get("principal"), str):
                raise Problem(400, "each change needs a principal, and add and/or remove lists")
            lists = []
            for field in ("add", "remove"):
                values = change.get(field) or []
                if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                    raise Problem(400, f"{field} must be a list of privilege names")
                privileges = [from_wire(v) for v in values]
                bad = [p for p in privileges if p not in APPLICABLE[securable.type]]
                if bad:
                    raise Problem(400, f"{bad[0]} cannot be granted on a {securable.type}")
                lists.append(privileges)
            governance.records.require_principal(change["principal"])
            planned.append((change["principal"], lists[0], lists[1]))
        if planned and not governance.authorizer.can_manage(who, securable):
            governance.authorizer.record(
                who,
                "grant",
                securable,
                outcome="denied",
                privilege=Privilege.MANAGE,
                reason=f"lacks MANAGE (or ownership) on {securable}",
            )
            raise Problem(403, f"{who} lacks MANAGE on {securable}: it may not change grants")
        for principal, add, remove in planned:
            if add:
                governance.grant(who, securable, principal, add)
            if remove:
                governance.revoke(who, securable, principal, remove)
        return _json(server.permissions(securable, None))

    return app


def _json(doc: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(doc, default=str), status, media_type="application/json")


def _error(status: int, message: str) -> Response:
    return _json({"error_code": _CODES.get(status, "INTERNAL_ERROR"), "message": message}, status)
