"""What a step prints goes to its run's log (``prodml.pipeline.output``): whole lines with the
step's name, no file for a step that prints nothing, and a stream kept past the step writes
on to the terminal's."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from prodml.pipeline.output import StepOutput, captured


def test_prints_go_to_the_log_as_step_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "logs" / "run.log"
    with captured(log, "shop.sales"):
        print("first")
        sys.stderr.write("half a ")
        sys.stderr.write("line")  # unterminated: written when the step ends
    assert capsys.readouterr() == ("", "")
    assert sorted(log.read_text().splitlines()) == [
        "shop.sales | first",
        "shop.sales | half a line",
    ]


def test_a_step_that_prints_nothing_leaves_no_log(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    with captured(log, "shop.sales"):
        pass
    assert not log.exists()


def test_a_stream_kept_after_the_step_writes_to_the_one_before(tmp_path: Path) -> None:
    after = io.StringIO()
    stream = StepOutput(tmp_path / "run.log", "shop.sales", after)
    stream.write("during\n")
    stream.end()
    stream.write("later\n")  # e.g. a logging handler made during the step
    assert after.getvalue() == "later\n"
    assert (tmp_path / "run.log").read_text() == "shop.sales | during\n"
