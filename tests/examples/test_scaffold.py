"""``prodml init``'s scaffold: a minimal platform that opens, the retail example with its
landing data, refusals of non-empty directories and unknown examples, and ``add_days`` on a
platform made from the example (or not)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

import prodml
from prodml.errors import UsageError
from prodml.examples.retail.generator import MANIFEST_NAME, batch_dates
from prodml.examples.scaffold import DEFAULT_DAYS, EXAMPLES, add_days, create


def test_a_minimal_platform_opens_with_three_environments(tmp_path: Path) -> None:
    dest = tmp_path / "nested" / "acme"
    assert create(dest) == ["prodml.yaml", "products/", ".gitignore"]
    assert (dest / "products").is_dir() and not any((dest / "products").iterdir())
    assert (dest / ".gitignore").read_text() == ".prodml/\ndata/\nlanding/\n"
    with prodml.connect(dest) as ws:
        assert ws.platform.file.name == "acme" and ws.env == "dev"
        assert list(ws.platform.file.environments) == ["dev", "staging", "prod"]
        assert ws.landing_dir == dest / "landing" and ws.state_dir == dest / ".prodml"


def test_an_existing_empty_directory_is_fine(tmp_path: Path) -> None:
    dest = tmp_path / "empty"
    dest.mkdir()
    assert "prodml.yaml" in create(dest)


@pytest.mark.parametrize("occupied", ["dir", "file"])
def test_an_occupied_destination_is_refused(tmp_path: Path, occupied: str) -> None:
    dest = tmp_path / "taken"
    if occupied == "dir":
        dest.mkdir()
        (dest / "notes.txt").write_text("mine")
    else:
        dest.write_text("mine")
    with pytest.raises(UsageError) as err:
        create(dest)
    assert err.value.message == f"{dest} exists and is not empty"
    assert err.value.hint == "choose a new directory"
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(
        ["taken", "notes.txt"] if occupied == "dir" else ["taken"]
    )  # nothing was written


@pytest.mark.parametrize(
    ("example", "hint"), [("retial", "did you mean 'retail'?"), ("bank", "examples: retail")]
)
def test_an_unknown_example_is_refused_before_anything_is_written(
    tmp_path: Path, example: str, hint: str
) -> None:
    with pytest.raises(UsageError) as err:
        create(tmp_path / "p", example=example)
    assert (err.value.message, err.value.hint) == (f"unknown example {example!r}", hint)
    assert not (tmp_path / "p").exists()
    assert EXAMPLES == ("retail",) and DEFAULT_DAYS == 60


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    dest = tmp_path_factory.mktemp("scaffold") / "demo"
    return dest, create(dest, example="retail", days=3)


def test_the_retail_example_is_the_template_and_its_landing_data(
    retail: tuple[Path, list[str]],
) -> None:
    dest, files = retail
    template = Path(prodml.__file__).parent / "examples" / "retail" / "template"
    expected = sorted(
        str(p.relative_to(template))
        for p in template.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    assert files == expected and files == sorted(files)
    assert {"prodml.yaml", ".gitignore", "products/churn/product.yaml"} <= set(files)
    assert not list(dest.rglob("__pycache__"))
    for name in files:
        assert (dest / name).read_bytes() == (template / name).read_bytes(), name
    assert batch_dates(dest / "landing") == [date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)]
    assert not any("landing" in f for f in files)


def test_the_retail_example_opens_with_its_products(retail: tuple[Path, list[str]]) -> None:
    with prodml.connect(retail[0]) as ws:
        assert ws.platform.file.name == "retail"
        assert sorted(ws.endpoint_products()) == ["churn"]


def test_add_days_continues_the_example(tmp_path: Path) -> None:
    dest = tmp_path / "demo"
    create(dest, example="retail", days=2)
    landing = dest / "landing"
    assert add_days(landing, 2) == [date(2024, 1, 3), date(2024, 1, 4)]
    assert add_days(landing, drift=True) == [date(2024, 1, 5)]
    assert batch_dates(landing)[-1] == date(2024, 1, 1) + timedelta(days=4)
    manifest = json.loads((landing / MANIFEST_NAME).read_text())
    assert manifest["drift_from"] == "2024-01-05"


def test_add_days_needs_a_platform_made_from_the_example(tmp_path: Path) -> None:
    dest = tmp_path / "plain"
    create(dest)
    with pytest.raises(UsageError) as err:
        add_days(dest / "landing")
    assert err.value.message == f"{dest / 'landing'} holds no example data to continue"
    assert err.value.hint == "this works on a platform made with 'prodml init DIR --example retail'"


@pytest.mark.parametrize("name", ["2024", "yes", "[draft]", "team: data"])
def test_any_directory_name_makes_a_platform_that_opens(tmp_path: Path, name: str) -> None:
    create(tmp_path / name)
    with prodml.connect(tmp_path / name) as ws:
        assert ws.platform.file.name == name


def test_a_hash_in_the_directory_name_is_kept(tmp_path: Path) -> None:
    create(tmp_path / "shop #1")
    with prodml.connect(tmp_path / "shop #1") as ws:
        assert ws.platform.file.name == "shop #1"
