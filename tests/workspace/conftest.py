"""Small platforms for the façade's tests: one without governance, one with it, and a governed
one with a trained model."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import (
    CLASSIFIER_PIPELINE,
    GOVERNED_PLATFORM,
    PRODUCT,
    SHOP_PIPELINE,
    make_platform,
    write_days,
)

import prodml


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A platform (no governance) with two days of landing data, not run yet."""
    root = make_platform(tmp_path / "shop", {"shop": SHOP_PIPELINE})
    write_days(root, "2024-01-01", "2024-01-02")
    return root


@pytest.fixture
def governed(tmp_path: Path) -> Path:
    """The same with governance on: ops is an admin, ana may read dev.gold only."""
    root = make_platform(tmp_path / "gov", {"shop": SHOP_PIPELINE}, platform=GOVERNED_PLATFORM)
    write_days(root, "2024-01-01", "2024-01-02")
    return root


# governance on: ops (an admin) trains; ana may use the catalog but not the model
CLF_PLATFORM = GOVERNED_PLATFORM.replace("  dev: {}\n", "  dev: {}\n  staging: {}\n").replace(
    "    - {securable: schema dev.gold, principal: ana, privileges: [SELECT]}\n", ""
)

CLF_MODEL = """params: {{c: {c}}}
model:
  name: clf
  gate:
    metrics: {{auc: {{min: 0.6}}}}
    improvement: {{metric: auc, min_delta: -0.5}}
endpoint:
  variants:
    champion: {{alias: champion}}
"""


def clf_product(root: Path, c: float) -> None:
    """clf's product.yaml with parameter ``c``."""
    (root / "products" / "clf" / "product.yaml").write_text(
        PRODUCT.format(name="clf") + CLF_MODEL.format(c=c)
    )


@pytest.fixture(scope="session")
def clf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A governed platform whose clf model has a champion (v1) and a challenger (v2), and a
    product (shop) without a model. Tests that move aliases put them back."""
    root = make_platform(
        tmp_path_factory.mktemp("clf") / "p",
        {"clf": CLASSIFIER_PIPELINE, "shop": SHOP_PIPELINE},
        platform=CLF_PLATFORM,
    )
    clf_product(root, 1.0)
    with prodml.connect(root) as ws:
        ws.run("clf")
        ws.promote_model("clf")
    clf_product(root, 0.05)
    with prodml.connect(root) as ws:
        ws.run("clf")
    return root
