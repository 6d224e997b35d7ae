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


def prodml_cli(
    *args: str, cwd: Path | None = None, timeout: float = 120, env: dict[str, str] | None = None
) -> Result:
    """Run the ``prodml`` command in a subprocess, exactly as a user would (``env`` adds
    environment variables)."""
    exe = Path(sys.executable).with_name("prodml")
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
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


def assert_clean_error(result: Result, *needles: str) -> None:
    """A user error: non-zero exit, one ``Error:`` line, no traceback, and the given words."""
    assert result.code != 0, result
    assert "Traceback" not in result.err and "Traceback" not in result.out, result.err
    errors = [ln for ln in result.err.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1, result.err
    text = errors[0]
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text!r}"
