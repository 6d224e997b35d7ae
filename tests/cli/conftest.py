"""Small platforms for the CLI's tests, which drive ``prodml`` in process (``prodml_main``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.helpers import (
    CLASSIFIER_PIPELINE,
    PRODUCT,
    SHOP_PIPELINE,
    Result,
    make_platform,
    prodml_main,
    write_days,
)

# clf's model: a logistic regression with a gate any sensible fit passes
MODEL = """params: {c: 1.0}
model:
  name: clf
  gate: {metrics: {auc: {min: 0.5}}}
"""


def new_shop(root: Path, *days: str) -> Path:
    """A platform with the shop product and landing data for ``days`` (not run)."""
    make_platform(root, {"shop": SHOP_PIPELINE})
    write_days(root, *(days or ("2024-01-01", "2024-01-02")))
    return root


def ok(result: Result) -> Result:
    """``result``, after checking the command succeeded."""
    assert result.code == 0, result.err
    return result


def assert_usage_error(result: Result, *needles: str) -> None:
    """A bad flag or value refused by the parser: exit 2, nothing on stdout, no traceback, the
    command's usage and where to get help on stderr, and the given words in the message."""
    assert result.code == 2, result
    assert result.out == "", result.out
    assert "Traceback" not in result.err, result.err
    assert result.err.startswith("Usage: prodml "), result.err
    assert "-h' for help." in result.err, result.err
    for needle in needles:
        assert needle in result.err, f"{needle!r} not in {result.err!r}"


def copy_platform(src: Path, dst: Path) -> Path:
    """A copy of a platform (its tables, metadata and MLflow store) that a test may change."""
    shutil.copytree(src, dst)
    return dst


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shop platform, run once over two days: bronze.sales and gold.totals at version 0.

    Shared by a module's tests: they only read it.
    """
    root = new_shop(tmp_path_factory.mktemp("shop") / "p")
    ok(prodml_main("run", "shop", cwd=root))
    return root


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """clf trained once (version 1 passed the gate: challenger, no champion yet), next to a
    product without a model. Built once per test process: tests only read it, or change a
    copy (``copy_platform``)."""
    root = make_platform(
        tmp_path_factory.mktemp("trained") / "p",
        {"clf": CLASSIFIER_PIPELINE, "shop": SHOP_PIPELINE},
    )
    (root / "products" / "clf" / "product.yaml").write_text(PRODUCT.format(name="clf") + MODEL)
    ok(prodml_main("run", "clf", cwd=root))
    return root
