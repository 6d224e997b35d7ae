"""The package as users meet it: public names, a light CLI start, enforced layers."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import prodml

HEAVY = (
    "pandas",
    "pyarrow",
    "duckdb",
    "deltalake",
    "mlflow",
    "sqlalchemy",
    "polars",
    "numpy",
    "pydantic",
)


def test_public_names_are_exactly_all() -> None:
    assert prodml.__all__ == sorted(prodml.__all__)
    for name in prodml.__all__:
        assert getattr(prodml, name) is not None
    public = {
        n
        for n, v in vars(prodml).items()
        if not n.startswith("_") and not isinstance(v, types.ModuleType)  # submodules come and go
    } - {"annotations", "TYPE_CHECKING", "Any"}
    assert public <= set(prodml.__all__), public - set(prodml.__all__)


def test_help_imports_no_heavy_module() -> None:
    code = (
        "import sys, json\n"
        "from prodml.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
    assert "run" in out.stdout and "tables" in out.stdout


def test_import_linter_contract_holds() -> None:
    exe = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(exe)], capture_output=True, text=True, cwd=Path(__file__).parents[1], check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
