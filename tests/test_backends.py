"""``prodml.backends``: built-in backends by kind and ``type:``, third-party ones through the
``prodml.backends`` entry-point group (a real ``*.dist-info`` on ``sys.path``), and errors for
unknown or broken types that say what exists and what to do."""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from prodml import backends
from prodml.backends import BUILTINS, GROUP, WHERE, load, types
from prodml.errors import ConfigError

Install = Callable[[dict[str, str], dict[str, str]], None]


def fresh(what: str) -> str:
    """A module name no other test uses (modules stay in ``sys.modules`` once imported)."""
    return f"prodml_ext_{what}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Install]:
    """Install a distribution into a fresh ``sys.path`` entry: ``install(entry_points, modules)``
    writes ``<dist>-1.0.dist-info`` (METADATA, entry_points.txt) and the modules' files."""
    created: list[str] = []

    def _install(eps: dict[str, str], modules: dict[str, str]) -> None:
        dist = fresh("dist")
        site = tmp_path / dist
        site.mkdir()
        info = site / f"{dist}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        lines = "".join(f"{name} = {target}\n" for name, target in eps.items())
        (info / "entry_points.txt").write_text(f"[{GROUP}]\n{lines}")
        for module, code in modules.items():
            (site / f"{module}.py").write_text(textwrap.dedent(code))
            created.append(module)
        monkeypatch.syspath_prepend(str(site))

    yield _install
    for module in created:
        sys.modules.pop(module, None)


def test_builtin_types_per_kind() -> None:
    assert types("engine") == ["duckdb"]
    assert types("metadata") == ["postgresql", "sqlalchemy", "sqlite"]
    assert types("online_store") == ["redis", "sqlite"]
    assert types("tracker") == ["mlflow"]
    assert types("no_such_kind") == []


def test_every_builtin_kind_has_a_place_in_the_config() -> None:
    assert {kind for kind, _ in BUILTINS} == set(WHERE)


@pytest.mark.parametrize(("kind", "type_"), sorted(BUILTINS))
def test_every_builtin_loads_its_factory(kind: str, type_: str) -> None:
    factory = load(kind, type_)
    module, _, attribute = BUILTINS[(kind, type_)].partition(":")
    assert callable(factory)
    assert factory.__name__ == attribute and factory.__module__ == module


def test_builtin_engine_is_the_local_engine() -> None:
    from prodml.engine.local import LocalEngine

    assert load("engine", "duckdb") is LocalEngine


def test_unknown_type_suggests_the_closest() -> None:
    with pytest.raises(ConfigError) as info:
        load("engine", "duckbd")
    err = info.value
    assert err.key == "compute.profiles.<profile>.engine"
    assert err.message == "compute.profiles.<profile>.engine: unknown engine type 'duckbd'"
    assert err.hint == "did you mean 'duckdb'?"


def test_unknown_type_lists_the_types_and_how_to_add_one() -> None:
    with pytest.raises(ConfigError) as info:
        load("online_store", "dynamodb")
    err = info.value
    assert err.key == "online_store.type"
    assert "unknown online store type 'dynamodb'" in err.message
    assert err.hint == (
        "types: redis, sqlite (others come from packages registering "
        "'online_store.<type>' in the 'prodml.backends' entry-point group)"
    )


def test_unknown_kind_has_no_config_key() -> None:
    with pytest.raises(ConfigError) as info:
        load("vector_store", "faiss")
    assert info.value.key is None
    assert str(info.value).startswith("unknown vector store type 'faiss' (types:  (others")


def test_third_party_backend_resolves_through_its_entry_point(install: Install) -> None:
    module = fresh("store")
    install(
        {"online_store.dynamo": f"{module}:DynamoStore", "tracker.wandb": f"{module}:track"},
        {
            module: """
            class DynamoStore:
                def __init__(self, url):
                    self.url = url

            def track(run):
                return f"tracked {run}"
            """
        },
    )
    assert module not in sys.modules  # nothing is imported until a config names it
    assert "dynamo" in types("online_store") and "sqlite" in types("online_store")
    assert types("tracker") == ["mlflow", "wandb"]
    assert module not in sys.modules
    factory = load("online_store", "dynamo")
    assert factory.__name__ == "DynamoStore" and factory.__module__ == module
    assert factory("dynamodb://t").url == "dynamodb://t"
    assert load("tracker", "wandb")("r1") == "tracked r1"


def test_a_third_party_type_is_suggested_when_misspelt(install: Install) -> None:
    module = fresh("spark")
    install({"engine.spark": f"{module}:SparkEngine"}, {module: "class SparkEngine: pass\n"})
    with pytest.raises(ConfigError) as info:
        load("engine", "sprak")
    assert info.value.hint == "did you mean 'spark'?"


def test_entry_points_of_other_kinds_or_without_a_type_are_ignored(install: Install) -> None:
    module = fresh("misc")
    install(
        {
            "engine": f"{module}:nope",  # no '.<type>'
            "engine.": f"{module}:nope",  # empty type
            "enginex.spark": f"{module}:nope",  # another kind
        },
        {module: "nope = object()\n"},
    )
    assert types("engine") == ["duckdb"]
    assert types("enginex") == ["spark"]


def test_builtins_win_over_a_third_party_type_of_the_same_name(install: Install) -> None:
    module = fresh("shadow")
    install({"engine.duckdb": f"{module}:Fake"}, {module: "class Fake: pass\n"})
    from prodml.engine.local import LocalEngine

    assert types("engine") == ["duckdb"]
    assert load("engine", "duckdb") is LocalEngine
    assert module not in sys.modules


def test_a_backend_that_fails_to_import_says_which_and_what_to_do(install: Install) -> None:
    module = fresh("broken")
    install(
        {"metadata.oracle": f"{module}:engine"},
        {module: "import a_module_that_is_not_installed_anywhere\n"},
    )
    with pytest.raises(ConfigError) as info:
        load("metadata", "oracle")
    err = info.value
    assert err.key == "metadata.type"
    assert f"the metadata backend 'oracle' ({module}:engine) cannot be loaded" in err.message
    assert "ModuleNotFoundError" in err.message
    assert "a_module_that_is_not_installed_anywhere" in err.message
    assert err.hint == "reinstall the package that provides it"
    assert isinstance(err.__cause__, ModuleNotFoundError)


def test_a_backend_whose_attribute_is_missing(install: Install) -> None:
    module = fresh("partial")
    install({"tracker.neptune": f"{module}:Tracker"}, {module: "OTHER = 1\n"})
    with pytest.raises(ConfigError, match=r"AttributeError") as info:
        load("tracker", "neptune")
    assert info.value.key == "tracking.type"


def test_the_group_name() -> None:
    assert backends.GROUP == "prodml.backends"
