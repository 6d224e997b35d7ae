"""Params: a declared param product.yaml does not set fails at load (never None); --params sets
one for a run, checked, recorded, and part of the fingerprint."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import PRODUCT, assert_clean_error, make_platform, prodml_main

import prodml
from prodml.errors import UsageError
from prodml.pipeline.params import parse_assignments

PIPELINE = """
from prodml import step

@step(stage="ingress", outputs="gold.numbers", params=["rows"])
def numbers(ctx):
    return ctx.sql("SELECT range AS n FROM range($rows)", rows=ctx.params["rows"])
"""


def _platform(tmp_path: Path, params: str = "params: {rows: 5}\n") -> Path:
    root = make_platform(tmp_path / "p", {"nums": PIPELINE})
    (root / "products" / "nums" / "product.yaml").write_text(PRODUCT.format(name="nums") + params)
    return root


def _rows(root: Path) -> int:
    with prodml.connect(root) as ws:
        return ws.read("gold.numbers").num_rows


def test_item3_step_param_missing_from_product_yaml_fails_at_load_and_overwrites_nothing(
    tmp_path: Path,
) -> None:
    root = _platform(tmp_path)
    assert prodml_main("run", "nums", cwd=root).code == 0
    assert _rows(root) == 5
    yaml_file = root / "products" / "nums" / "product.yaml"
    yaml_file.write_text(PRODUCT.format(name="nums") + "params: {rowz: 5}\n")  # misspelt
    result = prodml_main("run", "nums", cwd=root)
    assert_clean_error(
        result, "step numbers declares param 'rows'", "products/nums/product.yaml does not set"
    )
    assert "sets 'rowz' (a typo?)" in result.err
    assert "pipeline.py:" in result.err  # where it is declared
    yaml_file.write_text(PRODUCT.format(name="nums"))  # no params at all
    assert_clean_error(prodml_main("plan", "nums", cwd=root), "declares param 'rows'")
    yaml_file.write_text(PRODUCT.format(name="nums") + "params: {rows: 5}\n")
    assert _rows(root) == 5  # the good table is untouched


def test_item3_params_override_for_one_run_is_recorded_and_re_runs_the_step(tmp_path: Path) -> None:
    root = _platform(tmp_path)
    assert prodml_main("run", "nums", cwd=root).code == 0
    result = prodml_main("run", "nums", "--params", "rows=8", "--json", cwd=root)
    assert result.code == 0, result.err
    assert _rows(root) == 8
    with prodml.connect(root) as ws:
        last = ws.runs("nums")[0]
        assert ws.run_info(last["run_id"])["options"]["params"] == {"nums.rows": 8}
        # the plan without the override sees the step's params changed back
        assert ws.plan("nums")[0].action == "run"
        assert ws.plan("nums", params={"nums.rows": 8})[0].action == "skip"


def test_params_override_errors_are_clear(tmp_path: Path) -> None:
    root = _platform(tmp_path)
    assert_clean_error(
        prodml_main("run", "nums", "--params", "row=3", cwd=root),
        "product nums has no param 'row'",
        "did you mean 'rows'?",
    )
    assert_clean_error(
        prodml_main("run", "nums", "--params", "numz.rows=3", cwd=root), "no product 'numz'"
    )
    assert_clean_error(prodml_main("run", "nums", "--params", "rows", cwd=root), "name=value")
    assert_clean_error(
        prodml_main("run", "nums", "--resume", "x", "--params", "rows=3", cwd=root),
        "params cannot be given with it",
    )
    assert not (root / "data" / "dev" / "gold" / "numbers").exists()  # nothing ran


def test_parse_assignments_reads_yaml_scalars() -> None:
    assert parse_assignments(["a=0.5", "b=3", "c=true", "d=text", "p.e=", "f=[1]"]) == {
        "a": 0.5,
        "b": 3,
        "c": True,
        "d": "text",
        "p.e": "",
        "f": "[1]",
    }
    with pytest.raises(UsageError, match="not name=value"):
        parse_assignments(["=3"])
