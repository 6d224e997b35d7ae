"""The architecture holds: the import-linter contracts are kept (and each one breaks when a
forbidden import is injected into a copy of the package), nothing outside the catalog and the
tables layer imports deltalake, and functions stay short (the façade's shortest)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "prodml"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACTS = (
    "Layers: adapters -> workspace -> domains -> core",
    "Domains are independent of each other",
    "Adapters import no domain package",
)


def _modules() -> list[tuple[Path, ast.Module]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        if "template" in path.parts:
            continue
        out.append((path, ast.parse(path.read_text(), str(path))))
    return out


def _lint(src: Path) -> dict[str, str]:
    """Each contract's verdict (KEPT/BROKEN) for the package under ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.run(
        [str(LINT_IMPORTS), str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    verdicts = {}
    for line in proc.stdout.splitlines():
        for name in CONTRACTS:
            if line.startswith(name + " "):
                verdicts[name] = "KEPT" if " KEPT" in line else "BROKEN"
    assert set(verdicts) == set(CONTRACTS), proc.stdout + proc.stderr
    return verdicts


def test_the_contracts_are_kept() -> None:
    assert set(_lint(ROOT / "src").values()) == {"KEPT"}


@pytest.mark.parametrize(
    ("module", "injected", "broken", "kept"),
    [
        # core must not reach up into a domain (every domain then depends on the others)
        ("names.py", "import prodml.pipeline.dag", CONTRACTS[0], CONTRACTS[2]),
        # a domain must not import another one (drift asking the models domain)
        ("drift/windows.py", "import prodml.models.registry", CONTRACTS[1], CONTRACTS[0]),
        # an adapter must call the workspace, not a domain
        ("cli/lineage.py", "import prodml.features.training", CONTRACTS[2], CONTRACTS[1]),
    ],
)
def test_each_contract_catches_a_forbidden_import(
    tmp_path: Path, module: str, injected: str, broken: str, kept: str
) -> None:
    copy = tmp_path / "src"
    shutil.copytree(SRC, copy / "prodml", ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / "prodml" / module
    text = target.read_text()
    head, sep, rest = text.partition("from __future__ import annotations\n")
    target.write_text(head + sep + injected + "\n" + rest)
    verdicts = _lint(copy)
    assert verdicts[broken] == "BROKEN", verdicts
    assert verdicts[kept] == "KEPT", verdicts  # the contract that is about something else


def _deltalake_importers(src: Path) -> list[str]:
    """Modules outside ``catalog/`` and ``tables/`` of the package at ``src`` that import
    deltalake (``path:line``)."""
    offenders = []
    for path in sorted(src.rglob("*.py")):
        package = path.relative_to(src).parts[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            heavy = any(n == "deltalake" or n.startswith("deltalake.") for n in names)
            if heavy and package not in ("catalog", "tables"):
                offenders.append(f"{path.relative_to(src)}:{node.lineno}")
    return offenders


def test_only_the_catalog_and_the_tables_layer_import_deltalake(tmp_path: Path) -> None:
    assert _deltalake_importers(SRC) == []
    copy = tmp_path / "prodml"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    planner = copy / "pipeline" / "planner.py"
    planner.write_text(
        planner.read_text() + "\n\ndef _peek():\n    from deltalake import DeltaTable\n"
    )
    assert _deltalake_importers(copy) == [
        f"pipeline/planner.py:{len(planner.read_text().splitlines())}"
    ]


def test_functions_are_short_and_the_facade_shortest() -> None:
    too_long = []
    for path, tree in _modules():
        limit = 30 if path.relative_to(SRC).parts[0] == "workspace" else 80
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > limit:
                    too_long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} {size}")
    assert too_long == []
