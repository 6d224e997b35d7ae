"""Landing sources: a missing or empty source is an error that writes nothing; files are known
by size and content, not mtime."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from tests.helpers import SHOP_PIPELINE, assert_clean_error, make_platform, prodml_main, write_days

import prodml
from prodml.pipeline.landing import (
    LandingSourceEmptyError,
    LandingSourceMissingError,
    file_identity,
    partition_ids,
    source_dir,
)


def _shop(tmp_path: Path) -> Path:
    root = make_platform(tmp_path / "p", {"shop": SHOP_PIPELINE})
    write_days(root, "2024-01-01", "2024-01-02")
    assert prodml_main("run", "shop", cwd=root).code == 0
    return root


def _rows(root: Path, table: str) -> int:
    with prodml.connect(root) as ws:
        return ws.read(table).num_rows


def test_item1_missing_sources_misspelled_landing_dir_fails_and_replaces_nothing(
    tmp_path: Path,
) -> None:
    root = _shop(tmp_path)
    config = root / "prodml.yaml"
    config.write_text(config.read_text().replace("landing_dir: landing", "landing_dir: landng"))
    result = prodml_main("run", "shop", "--full-refresh", cwd=root)
    assert_clean_error(result, "landing directory", str(root / "landng"), "does not exist")
    assert "did you mean 'landing'?" in result.err
    config.write_text(config.read_text().replace("landing_dir: landng", "landing_dir: landing"))
    assert _rows(root, "bronze.sales") == 4  # nothing replaced


def test_item1_missing_sources_missing_source_folder_fails_naming_it_and_the_nearest(
    tmp_path: Path,
) -> None:
    root = _shop(tmp_path)
    shutil.move(root / "landing" / "sales", root / "landing" / "sale")
    result = prodml_main("run", "shop", "--full-refresh", cwd=root)
    assert_clean_error(result, "landing source 'sales'", str(root / "landing" / "sales"))
    assert "did you mean 'sale'?" in result.err
    assert _rows(root, "bronze.sales") == 4
    # plan says the same before anything runs
    assert_clean_error(prodml_main("plan", "shop", cwd=root), "landing source 'sales'")


def test_item1_missing_sources_a_source_without_partitions_is_an_error(tmp_path: Path) -> None:
    root = _shop(tmp_path)
    for part in (root / "landing" / "sales").iterdir():
        part.rename(part.with_name(part.name.replace("day=", "date=")))
    result = prodml_main("run", "shop", "--full-refresh", cwd=root)
    assert_clean_error(result, "holds no day=… folder", "found date=2024-01-01")
    assert _rows(root, "bronze.sales") == 4


def test_source_dir_and_partition_ids(tmp_path: Path) -> None:
    (tmp_path / "sales" / "day=1").mkdir(parents=True)
    (tmp_path / "sales" / "day=1" / "a.csv").write_text("x\n1\n")
    assert source_dir(tmp_path, "sales") == tmp_path / "sales"
    with pytest.raises(LandingSourceMissingError, match="did you mean 'sales'"):
        source_dir(tmp_path, "saless")
    with pytest.raises(LandingSourceEmptyError):
        partition_ids(tmp_path, "sales", "hour")
    assert set(partition_ids(tmp_path, "sales", "day")) == {"1"}


def test_item9_file_identity_is_size_and_content_not_mtime(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text("x\n1\n")
    before = file_identity(f)
    os.utime(f, ns=(1, 1))
    assert file_identity(f) == before
    assert before.startswith("4:")
    f.write_text("x\n2\n")  # same size, other content
    assert file_identity(f) != before
