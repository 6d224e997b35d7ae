"""The CLI's one output interface (``prodml.cli.console``): JSON on stdout, Rich tables and key/
value lists, one-line errors and notes on stderr, the progress bar; at 80 columns as well."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from prodml.cli import console
from prodml.errors import UsageError

RUN_ID = "20261202T153043-d73fe730"


@pytest.fixture(autouse=True)
def _plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide, colourless terminal unless a test narrows it (or asks for another layout)."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("PRODML_FORMAT", "table")
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def _rows(text: str) -> list[list[str]]:
    """The body cells of a boxed table, one list per line."""
    return [
        [cell.strip() for cell in line.strip("│").split("│")]
        for line in text.splitlines()
        if line.startswith("│")
    ]


def test_emit_json_writes_indented_json_with_a_newline(capsys: pytest.CaptureFixture[str]) -> None:
    console.emit_json(
        {
            "at": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            "day": date(2024, 1, 2),
            "path": Path("/tmp/x"),
            "nan": float("nan"),
            "rows": (1, 2),
        }
    )
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.startswith('{\n  "at": ') and captured.out.endswith("}\n")
    assert json.loads(captured.out) == {
        "at": "2024-01-02T03:04:05+00:00",
        "day": "2024-01-02",
        "path": "/tmp/x",
        "nan": None,  # strict JSON: NaN is not a JSON value
        "rows": [1, 2],
    }


def test_table_formats_each_kind_of_value(capsys: pytest.CaptureFixture[str]) -> None:
    console.table(
        "numbers",
        ["name", "when", "count", "ratio", "small", "flag", "missing", "sla", "utc"],
        [
            [
                "a",
                datetime(2024, 1, 2, 3, 4, 5, 678),
                1234567,
                1234.5,
                0.000123456,
                True,
                None,
                timedelta(hours=26),
                datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            ]
        ],
    )
    out = capsys.readouterr().out
    assert out.splitlines()[0].strip() == "numbers"
    assert _rows(out) == [
        [
            "a",
            "2024-01-02 03:04:05",
            "1,234,567",
            "1,234.5",
            "0.000123",
            "True",
            "",
            "1d 2h",
            "2024-01-02 03:04:05 UTC",
        ]
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0, "0"), (0.8123456, "0.812"), (24129.25, "24,129.25"), (1e-7, "1e-07"), (2.0, "2")],
)
def test_floats_read_at_a_sensible_precision(value: float, text: str) -> None:
    assert console.number(value) == text


@pytest.mark.parametrize(
    ("seconds", "text"), [(5, "5s"), (90, "1m 30s"), (86400, "1d"), (3600 * 25 + 1, "1d 1h 1s")]
)
def test_durations(seconds: float, text: str) -> None:
    assert console.duration(seconds) == text


def test_table_header_and_no_rows(capsys: pytest.CaptureFixture[str]) -> None:
    console.table(None, ["step", "status"], [])
    out = capsys.readouterr().out
    assert "step" in out and "status" in out and _rows(out) == []


def test_free_text_wraps_between_words_and_ids_stay_whole_at_80_columns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    note = "a somewhat-long-word " * 12
    console.table("runs", ["table", "note", "run"], [["dev.gold.customer_daily", note, RUN_ID]])
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80
    rows = _rows(out)
    assert rows[0][0] == "dev.gold.customer_daily" and rows[0][2] == RUN_ID
    assert len(rows) > 1  # the note wrapped onto more lines instead
    assert " ".join(r[1] for r in rows).split() == note.split()  # no word was cut


def test_an_id_in_a_later_column_is_not_cut_at_80_columns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    console.table(
        "history",
        ["version", "time", "operation", "rows added", "run", "step"],
        [[0, datetime(2024, 1, 2, 3, 4, 5), "WRITE", 4, RUN_ID, "shop.sales"]],
    )
    out = capsys.readouterr().out
    assert RUN_ID in out and "shop.sales" in out and "…" not in out


def test_a_table_too_wide_for_the_terminal_prints_one_record_per_block(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    console.table("history", ["run", "step"], [[RUN_ID, "shop.sales"], [RUN_ID, "shop.totals"]])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "history (one record per block: too wide for 40 columns)"
    assert lines[1].startswith("── 1/2 ") and lines[4].startswith("── 2/2 ")
    assert [line.split() for line in lines[2:4]] == [["run", RUN_ID], ["step", "shop.sales"]]


def test_optional_columns_are_hidden_first_and_the_note_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    console.table(
        "runs",
        ["run", "product", "git", "principal"],
        [[RUN_ID, "retail_core", "0123abcd*", "ana"]],
        optional=("git", "principal"),
    )
    captured = capsys.readouterr()
    assert _rows(captured.out) == [[RUN_ID, "retail_core", "ana"]]
    assert captured.err == (
        "(git hidden to fit 60 columns; --format plain or --columns shows every column)\n"
    )


def test_plain_layout_aligns_columns_and_never_wraps(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("PRODML_FORMAT", "plain")
    console.table("t", ["name", "rows", "note"], [["a", 1200, "x " * 30], ["bb", 3, None]])
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["t", "name   rows  note"]
    assert lines[2] == "a     1,200  " + ("x " * 30).strip()
    assert lines[3] == "bb        3"


def test_a_pipe_gets_the_plain_layout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PRODML_FORMAT")
    console.table(None, ["run"], [[RUN_ID]])
    assert capsys.readouterr().out == f"run\n{RUN_ID}\n"  # capsys' stdout is no terminal


def test_tsv_has_a_header_line_and_no_title(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PRODML_FORMAT", "tsv")
    console.table("t", ["a", "b"], [["x\ty", 1234], [None, 1.5]])
    assert capsys.readouterr().out == "a\tb\nx y\t1,234\n\t1.5\n"


def test_a_bad_prodml_format_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRODML_FORMAT", "yaml")
    with pytest.raises(UsageError, match=r"PRODML_FORMAT='yaml' is not a format") as info:
        console.table(None, ["a"], [[1]])
    assert info.value.hint == "set it to one of table, plain, tsv, json (or unset it)"


def test_json_and_another_format_disagree() -> None:
    with pytest.raises(UsageError, match="--json and --format tsv disagree"):
        console.choose(console.Format.tsv, json_flag=True)


def test_fields_prints_key_value_pairs(capsys: pytest.CaptureFixture[str]) -> None:
    console.fields("run x", [("product", "shop"), ("rows", 1200), ("error", None)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].strip() == "run x"
    assert [line.split() for line in lines[1:]] == [
        ["product", "shop"],
        ["rows", "1,200"],
        ["error"],
    ]


def test_error_is_one_line_on_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    message = "unknown table 'x' " + "because " * 30 + "(run 'prodml tables list')"
    console.error(message)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"Error: {message}\n"  # soft wrap: not folded at 80 columns


def test_error_prints_markup_literally(capsys: pytest.CaptureFixture[str]) -> None:
    console.error("bad value '[red]x[/red]' in [bold]")
    assert capsys.readouterr().err == "Error: bad value '[red]x[/red]' in [bold]\n"


def test_info_goes_to_stderr_unwrapped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    note = "added batch(es) " + ", ".join(f"2024-02-{d:02d}" for d in range(1, 20))
    console.info(note)
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", note + "\n")


def test_out_and_err_consoles_write_to_stdout_and_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    console.out().print("to stdout")
    console.err().print("to stderr")
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("to stdout\n", "to stderr\n")


def test_steps_without_a_terminal_print_a_line_per_finished_step(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with console.steps(live=False) as display:
        display.started(2)
        display.step("shop.sales")
        display.finished("shop.sales", "succeeded", "first run")
        display.finished("shop.totals", "blocked", "upstream step shop.sales failed")
    assert capsys.readouterr() == (
        "",
        "  succeeded 1/2 shop.sales  first run\n"
        "  blocked   2/2 shop.totals  upstream step shop.sales failed\n",
    )


def test_live_steps_keep_the_finished_lines_and_nothing_else(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with console.steps(live=True) as display:
        display.started(2)
        display.step("shop.sales")
        display.finished("shop.sales", "succeeded", "")
        display.step("shop.totals")
        display.finished("shop.totals", "skipped", "unchanged")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "succeeded 1/2 shop.sales" in captured.err
    assert "skipped   2/2 shop.totals  unchanged" in captured.err
    assert "0/1" not in captured.err
