"""The README's first command, as a newcomer runs it: after the install, it ends with churn's
model trained, its champion in dev and ``gold.churn_predictions`` holding rows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import prodml

README = Path(__file__).resolve().parents[1] / "README.md"


def first_command() -> str:
    """Command 1 of the README's "Two commands", from ``prodml init`` on (the install before
    it is what this test runs in)."""
    block = README.read_text().split("## Two commands", 1)[1].split("```bash", 1)[1]
    (line,) = [ln for ln in block.split("```", 1)[0].splitlines() if ln.startswith("python3 ")]
    return line[line.index("prodml init") :]


def test_readme_command_1_ends_with_predictions(tmp_path: Path) -> None:
    command = first_command()
    assert re.fullmatch(
        r"prodml init demo --example retail && cd demo && prodml run \S+.*", command
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRODML")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    proc = subprocess.run(
        command,
        shell=True,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    with prodml.connect(tmp_path / "demo") as ws:
        assert ws.table("gold.churn_predictions").rows > 0
        assert ws.alias_version("churn", "champion") == 1
    assert proc.stderr.splitlines()[-2:] == [
        "next: prodml tables preview gold.churn_predictions   (the predictions)",
        "      prodml serve --product churn   (its real-time endpoint)",
    ]
