"""Helpers shared by tests: build small platforms and drive the CLI as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

PLATFORM = """\
name: t
default_env: dev
state_dir: .prodml
landing_dir: landing
storage: {root: data}
environments:
  dev: {}
  staging: {}
"""

PRODUCT = """\
name: {name}
description: test product {name}
owners: [{{name: tester, role: accountable}}]
"""


def make_platform(root: Path, products: dict[str, str], platform: str = PLATFORM) -> Path:
    """Write ``prodml.yaml`` and one ``pipeline.py`` per product (code dedented)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "prodml.yaml").write_text(platform)
    for name, code in products.items():
        d = root / "products" / name
        d.mkdir(parents=True, exist_ok=True)
        (d / "product.yaml").write_text(PRODUCT.format(name=name))
        (d / "pipeline.py").write_text(textwrap.dedent(code))
    return root


@dataclass
class Result:
    """What a CLI process did."""

    code: int
    out: str
    err: str


def prodml_cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> Result:
    """Run the ``prodml`` command in a subprocess, exactly as a user would."""
    exe = Path(sys.executable).with_name("prodml")
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("PRODML_DEBUG", None)
    proc = subprocess.run(
        [str(exe), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def assert_clean_error(result: Result, *needles: str) -> None:
    """A user error: non-zero exit, one ``Error:`` line, no traceback, and the given words."""
    assert result.code != 0, result
    assert "Traceback" not in result.err and "Traceback" not in result.out, result.err
    errors = [ln for ln in result.err.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1, result.err
    text = errors[0]
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text!r}"
