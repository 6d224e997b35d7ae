"""``prodml.engine.base``: the Engine protocol; the local engine conforms to it member by member
(same kinds, same parameters), is built the way an ``EngineFactory`` is called, and works
through nothing but the protocol."""

from __future__ import annotations

import inspect
from functools import cached_property

import pyarrow as pa

from prodml import backends
from prodml.config.platform import ComputeProfile
from prodml.engine.base import Engine, EngineFactory
from prodml.engine.local import LocalEngine
from prodml.names import TableName

METHODS = ("register", "register_alias", "sql", "relation", "content_hash", "close")
PROPERTIES = ("version", "con")


def protocol_members(proto: type) -> set[str]:
    return {n for n in vars(proto) if not n.startswith("_")} | set(
        getattr(proto, "__annotations__", {})
    )


def test_the_protocol_has_the_members_the_rest_of_prodml_uses() -> None:
    assert protocol_members(Engine) == {"name", *METHODS, *PROPERTIES}


def test_local_engine_has_every_member_of_the_same_kind() -> None:
    for name in PROPERTIES:
        assert isinstance(inspect.getattr_static(Engine, name), property), name
        local = inspect.getattr_static(LocalEngine, name)
        assert isinstance(local, property | cached_property), name
    for name in METHODS:
        assert callable(getattr(LocalEngine, name)), name
    assert isinstance(LocalEngine.name, str)


def test_local_engine_methods_take_the_protocols_parameters() -> None:
    for name in METHODS:
        theirs = inspect.signature(getattr(Engine, name)).parameters
        ours = inspect.signature(getattr(LocalEngine, name)).parameters
        assert [(p.name, p.kind, p.default) for p in ours.values()] == [
            (p.name, p.kind, p.default) for p in theirs.values()
        ], name


def test_local_engine_class_is_an_engine_factory() -> None:
    call = inspect.signature(EngineFactory.__call__).parameters
    init = inspect.signature(LocalEngine.__init__).parameters
    assert [(p.name, p.default) for p in init.values()] == [
        (p.name, p.default) for p in call.values()
    ]


def test_the_engine_backend_of_type_duckdb_is_the_local_engine() -> None:
    assert backends.load("engine", "duckdb") is LocalEngine


def use(factory: EngineFactory) -> tuple[str, list[tuple[object, ...]], tuple[int, str]]:
    """Drive an engine through the protocol only, as a run does."""
    engine: Engine = factory("dev", ComputeProfile(threads=1))
    try:
        data = pa.table({"k": ["a", "b", "a"], "v": [1, 2, 3]})
        engine.register(TableName("dev", "silver", "t"), data, alias="t_in")
        engine.register_alias("extra", pa.table({"k": ["a"]}))
        rows = engine.sql(
            "SELECT k, sum(v) FROM silver.t JOIN extra USING (k) WHERE v >= $min GROUP BY k",
            min=1,
        ).fetchall()
        assert engine.relation(data).fetchall() == engine.sql("SELECT * FROM t_in").fetchall()
        return engine.version, rows, engine.content_hash(data)
    finally:
        engine.close()


def test_an_engine_works_through_the_protocol_alone() -> None:
    version, rows, (n, digest) = use(LocalEngine)
    assert version.startswith("duckdb-")
    assert rows == [("a", 4)]
    assert n == 3 and digest.isdigit()
