"""Helpers shared by tests: build small platforms and drive the CLI as a user would."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import traceback
from contextlib import redirect_stderr, redirect_stdout
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


# A product whose model is a logistic regression on columns a and b (real MLflow, a few
# seconds): examples → train (param c) → evaluate with a gate on auc. Tests add its model: section.
CLASSIFIER_PIPELINE = """
import numpy as np
import pandas as pd
from prodml import step

@step(stage="ingress", outputs="gold.examples")
def examples(ctx):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] + 0.5 * rng.normal(size=400) > 0).astype(int)
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": y})

@step(stage="train", inputs=["gold.examples"], outputs="ml.fit", mode="append", params=["c"])
def train(ctx, examples):
    from sklearn.linear_model import LogisticRegression
    frame = examples.df()
    model = LogisticRegression(C=ctx.params["c"]).fit(frame[["a", "b"]], frame["y"])
    return ctx.log_model(model, input_example=frame[["a", "b"]])

@step(stage="evaluate", inputs=["ml.fit", "gold.examples"], outputs="ml.evaluation", mode="append")
def evaluate(ctx, fit, examples):
    from sklearn.metrics import roc_auc_score
    frame = examples.df()
    version = ctx.candidate()
    model = ctx.load_model(version=version)
    auc = roc_auc_score(frame["y"], model.predict_proba(frame[["a", "b"]])[:, 1])
    return ctx.gate({"auc": float(auc)}, version=version)
"""


# landing files → bronze (partitioned by day) → gold (whole)
SHOP_PIPELINE = """
from prodml import step

@step(stage="ingress", inputs=["landing:sales"], outputs="bronze.sales",
      partition_by="day", mode="replace_partitions")
def sales(ctx, files):
    return ctx.read_files(files, format="csv", columns=["day", "amount"])

@step(stage="features", inputs=["bronze.sales"], outputs="gold.totals")
def totals(ctx, sales):
    return ctx.sql("SELECT day, sum(CAST(amount AS DOUBLE)) AS total FROM sales GROUP BY day")
"""

# governance on: ops is an admin, ana may read dev.gold only
GOVERNED_PLATFORM = """\
name: t
state_dir: .prodml
storage: {root: data}
environments:
  dev: {}
governance:
  enabled: true
  admins: [admins]
  local_user: ops
  users:
    ops: {groups: [admins]}
    ana: {}
  groups: {admins: {}}
  grants:
    - {securable: catalog dev, principal: ana, privileges: [USE_CATALOG, USE_SCHEMA]}
    - {securable: schema dev.gold, principal: ana, privileges: [SELECT]}
"""


def write_days(root: Path, *days: str) -> None:
    """One landing CSV of two sales per day (for SHOP_PIPELINE)."""
    for day in days:
        folder = root / "landing" / "sales" / f"day={day}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "part.csv").write_text(f"day,amount\n{day},1.5\n{day},2.5\n")


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
    """What a CLI command did (in a subprocess or in process): exit code, stdout, stderr."""

    code: int
    out: str
    err: str


#: what the CLI tests see: a 200-column terminal without colours (stdout is captured, so the
#: terminal's boxed tables are asked for; tests of the pipe layout set ``PRODML_FORMAT=""``)
TERMINAL = {"COLUMNS": "200", "NO_COLOR": "1", "PRODML_FORMAT": "table"}


def prodml_cli(
    *args: str, cwd: Path | None = None, timeout: float = 120, env: dict[str, str] | None = None
) -> Result:
    """Run the ``prodml`` command in a subprocess, exactly as a user would in the terminal of
    ``TERMINAL`` (``env`` adds environment variables; ``PRODML_FORMAT=""`` gives what a pipe
    gets)."""
    exe = Path(sys.executable).with_name("prodml")
    env = {**os.environ, **TERMINAL, **(env or {})}
    env.pop("PRODML_DEBUG", None)
    if "PRODML_TOKEN" not in (env or {}):
        env.pop("PRODML_TOKEN", None)
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


def prodml_main(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
    """Run ``prodml`` in this process (``prodml.cli.main.main``), with the environment rules of
    ``prodml_cli``: much faster, for tests of error messages and output shapes.

    ``env`` adds environment variables; the process environment and working directory are
    restored afterwards. An exception that escapes ``main`` (``--debug``) is printed to ``err``
    as the interpreter would, with exit code 1.
    """
    from prodml.cli.main import main

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    os.environ.update({**TERMINAL, **(env or {})})
    os.environ.pop("PRODML_DEBUG", None)
    if "PRODML_TOKEN" not in (env or {}):
        os.environ.pop("PRODML_TOKEN", None)
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        if cwd is not None:
            os.chdir(cwd)
        with redirect_stdout(out), redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exc:
                code = _exit_code(exc.code, err)
            except Exception:
                traceback.print_exc(file=err)
                code = 1
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return Result(code, out.getvalue(), err.getvalue())


def _exit_code(code: object, err: io.StringIO) -> int:
    """The process exit status ``sys.exit(code)`` gives (a message goes to stderr, status 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    err.write(f"{code}\n")
    return 1


def assert_clean_error(result: Result, *needles: str) -> None:
    """A user error: non-zero exit, one ``Error:`` line, no traceback, and the given words."""
    assert result.code != 0, result
    assert "Traceback" not in result.err and "Traceback" not in result.out, result.err
    errors = [ln for ln in result.err.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1, result.err
    text = errors[0]
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text!r}"
