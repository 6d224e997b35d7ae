"""The README's tour, run as a user would at 80 columns: each command's output, masked where
it depends on the clock, the machine or chance (run ids, wall-clock times, ports, tokens).

``python -m tests.tour DIR`` writes the masked outputs of a fresh tour to ``DIR``; the golden
test compares them with ``tests/golden/tour``.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden" / "tour"

#: (name, argv) in the README's order; RUN is replaced by the id of the newest run
TOUR: list[tuple[str, list[str]]] = [
    ("01_init", ["init", "demo", "--example", "retail"]),
    ("02_run_churn", ["run", "churn", "--promote"]),
    ("03_products_list", ["products", "list"]),
    ("04_products_show", ["products", "show", "churn"]),
    ("05_plan", ["plan", "churn"]),
    ("06_run_skips", ["run", "churn"]),
    ("07_add_day", ["examples", "add-days", "--days", "1"]),
    ("08_run_new_day", ["run", "churn"]),
    ("09_tables_list", ["tables", "list"]),
    ("10_tables_show", ["tables", "show", "silver.orders"]),
    ("11_tables_history", ["tables", "history", "silver.orders"]),
    (
        "12_tables_preview",
        ["tables", "preview", "gold.customer_daily", "--version", "0", "--limit", "5"],
    ),
    ("13_runs_list", ["runs", "list"]),
    ("14_runs_show", ["runs", "show", "RUN"]),
    ("15_runs_reproduce", ["runs", "reproduce", "RUN"]),
    ("16_backfill", ["run", "churn", "--partitions", "2024-01-10..2024-01-12"]),
    ("17_full_refresh", ["run", "churn", "--full-refresh"]),
    ("18_resume_succeeded", ["run", "churn", "--resume", "RUN"]),
    ("19_models_versions", ["models", "versions", "churn"]),
    ("20_models_promote", ["models", "promote", "churn"]),
    ("21_run_scores", ["run", "churn"]),
    ("22_models_compare", ["models", "compare", "churn"]),
    ("23_run_staging", ["run", "churn", "--env", "staging", "--promote"]),
    ("24_promote_prod", ["promote", "churn", "--from", "staging", "--to", "prod"]),
    ("25_run_demand", ["run", "demand"]),
    ("26_features_list", ["features", "list"]),
    ("27_features_show", ["features", "show", "features.customer_features"]),
    ("28_features_publish", ["features", "publish"]),
    ("29_features_publish_again", ["features", "publish"]),
    ("30_features_online", ["features", "online", "churn", "--key", "customer_id=C000050"]),
    ("31_lineage", ["lineage", "gold.churn_predictions"]),
    ("32_serve", ["SERVE"]),
    ("33_inference_log", ["tables", "preview", "ml.churn_inference_log"]),
    ("34_ab_report", ["ab", "report", "winback_model"]),
    ("35_ab_conclude", ["ab", "conclude", "winback_model"]),
    ("36_tokens_new", ["tokens", "new", "--name", "crm-app"]),
    ("37_quality_report", ["quality", "report", "silver.orders"]),
    ("38_quality_check", ["quality", "check", "retail_core"]),
    ("39_add_drift", ["examples", "add-days", "--days", "7", "--drift"]),
    ("40_run_after_drift", ["run", "churn"]),
    ("41_drift_run", ["drift", "run", "churn"]),
    ("42_drift_table", ["drift", "run", "silver.orders", "--reference", "v3", "--current", "all"]),
]

#: the README's requests to the churn endpoint
REQUESTS: list[tuple[str, str, dict[str, object]]] = [
    ("POST", "/v1/products/churn/predict", {"records": [{"customer_id": "C000050"}]}),
    (
        "POST",
        "/invocations",
        {
            "dataframe_split": {
                "columns": [
                    "recency_days",
                    "frequency",
                    "monetary",
                    "tenure_days",
                    "segment",
                    "country",
                ],
                "data": [[10, 3, 120.5, 400, "consumer", "DE"]],
            }
        },
    ),
    (
        "POST",
        "/v1/products/churn/predict",
        {
            "records": [
                {
                    "customer_id": 17,
                    "recency_days": 10,
                    "frequency": 3,
                    "monetary": 120.5,
                    "tenure_days": 400,
                    "segment": "consumer",
                    "country": "DE",
                }
            ]
        },
    ),
    (
        "POST",
        "/v1/products/churn/outcomes",
        {"outcomes": [{"unit_id": 17, "metric": "retained", "value": 1}]},
    ),
]

_RUN_ID = re.compile(r"\b\d{8}T\d{6}-[0-9a-f]{8}\b")
_CLOCK = re.compile(
    r"\b20(?:2[5-9]|[3-9]\d)-\d\d-\d\d(?:[ T]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:\+00:00|Z)?)?"
)
_HEX = re.compile(r"\b[0-9a-f]{32}\b")
_TOKEN = re.compile(r"\b(pml|pdml)_[A-Za-z0-9_-]{20,}")
_SHA = re.compile(r"\b[0-9a-f]{64}\b")
_STAMP = re.compile(r"\b\d{8}T\d{6}(?:Z|\d*)\b")
_CUT_RUN_ID = re.compile(r"\b\d{8}(?:T[0-9a-f-]*)?…")  # cut right after the date too
_TIME = re.compile(r"\b\d\d:\d\d:\d\d\b")
# hours since the example's newest order (plain, or as a table prints it: 24,129.…)
_HOURS_OLD = re.compile(r"\b2\d{4}\.\d\b|\b2\d,\d{3}\.[\d…]*")
#: table columns whose values are measurements of this machine and moment
VOLATILE_COLUMNS = {"cpu s", "peak MB", "tracking run", "tr… run", "seconds"}
#: outputs whose rows come in no fixed order (a preview reads whichever files come first)
UNORDERED = {"12_tables_preview", "33_inference_log"}


@dataclass
class Masker:
    """Replaces volatile values by placeholders of the same width (tables keep their layout);
    the same value always gets the same placeholder, so references between outputs hold."""

    root: str
    seen: dict[str, str] = field(default_factory=dict)

    def _number(self, kind: str, value: str) -> str:
        key = f"{kind}:{value}"
        if key not in self.seen:
            n = sum(1 for k in self.seen if k.startswith(kind + ":")) + 1
            tag = f"{kind}{n}"
            self.seen[key] = (
                (tag + "_" * len(value))[: len(value)] if len(tag) <= len(value) else tag
            )
        return self.seen[key]

    def __call__(self, text: str, *, every_column: bool = False) -> str:
        text = text.replace(self.root, "/ROOT" + "_" * (len(self.root) - 5))
        lines = _mask_cells(text.split("\n"), every_column)
        if every_column:  # rows in no fixed order: compare them as a set
            body = sorted(i for i, line in enumerate(lines) if line.startswith("│"))
            for i, line in zip(body, sorted(lines[i] for i in body), strict=True):
                lines[i] = line
        text = "\n".join(lines)
        if every_column:  # records printed one per block, in no fixed order
            text = _mask_blocks(text)
        # the same columns in one-record-per-block listings: " cpu s     0.123"
        text = re.sub(
            r"(?m)^( (?:" + "|".join(map(re.escape, VOLATILE_COLUMNS)) + r") +)(\S.*)$",
            lambda m: m.group(1) + "#" * len(m.group(2)),
            text,
        )
        text = re.sub(
            r"(?m)^( bytes +)[\d,]+",
            lambda m: m.group(1) + "#" * (len(m.group()) - len(m.group(1))),
            text,
        )
        text = _RUN_ID.sub(lambda m: self._number("RUN", m.group()), text)
        text = _CUT_RUN_ID.sub(lambda m: "R" * (len(m.group()) - 1) + "…", text)
        text = _TIME.sub("99:99:99", text)
        text = _HOURS_OLD.sub(lambda m: re.sub(r"\d", "9", m.group()), text)
        text = _TOKEN.sub("TOKEN", text)  # pml_ and pdml_ tokens differ in length
        text = _SHA.sub(lambda m: "SHA".ljust(len(m.group()), "_"), text)
        text = _HEX.sub(lambda m: self._number("HEX", m.group()), text)
        text = _STAMP.sub(lambda m: "STAMP".ljust(len(m.group()), "_"), text)
        return _CLOCK.sub(lambda m: re.sub(r"\d", "9", m.group()), text)


def _mask_blocks(text: str) -> str:
    """Every value of one-record-per-block listings masked, and the blocks sorted."""
    block = re.compile(r"(?m)^(── \d+/\d+ .*\n)((?: .*(?:\n|$))*)")
    found = list(block.finditer(text))
    if not found:
        return text
    bodies = sorted(re.sub(r"(?m)^( \S+(?: \S+)* {2,})\S.*$", r"\1###", m.group(2)) for m in found)
    out, last = [], 0
    for m, body in zip(found, bodies, strict=True):
        out += [text[last : m.start()], m.group(1), body]
        last = m.end()
    return "".join([*out, text[last:]])


def _mask_cells(lines: list[str], every_column: bool) -> list[str]:
    """Blank the cells of volatile columns in Rich tables (``┃`` header, ``│`` body rows)."""
    out: list[str] = []
    header: list[list[str]] = []
    spans: list[tuple[int, int]] = []
    for line in lines:
        if line.startswith("┏"):
            header, spans = [], []
        elif line.startswith("┃"):
            bars = [i for i, c in enumerate(line) if c == "┃"]
            cells = [line[a + 1 : b].strip() for a, b in itertools.pairwise(bars)]
            header = (
                [[*h, c] for h, c in zip(header, cells, strict=False)]
                if header
                else [[c] for c in cells]
            )
            spans = list(itertools.pairwise(bars))
        elif line.startswith("│") and spans:
            names = [" ".join(x for x in h if x) for h in header]
            chars = list(line)
            for name, (a, b) in zip(names, spans, strict=False):
                if every_column:  # the whole cell: values differ in width, not only digits
                    chars[a + 2 : b - 1] = "#" * len(chars[a + 2 : b - 1])
                elif name in VOLATILE_COLUMNS and "".join(chars[a + 1 : b]).strip():
                    # the whole cell: numbers are right-aligned and differ in width
                    chars[a + 2 : b - 1] = "#" * len(chars[a + 2 : b - 1])
            line = "".join(chars)
        out.append(line)
    return out


def _env() -> dict[str, str]:
    # what an 80-column terminal shows (a pipe would print the plain layout)
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb", "PRODML_FORMAT": "table"}
    for name in ("PRODML_DEBUG", "PRODML_TOKEN"):
        env.pop(name, None)
    return env


def _prodml(args: list[str], cwd: Path) -> tuple[int, str, str]:
    exe = Path(sys.executable).with_name("prodml")
    proc = subprocess.run(
        [str(exe), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=600,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(cwd: Path) -> tuple[int, str, str]:
    """``prodml serve --product churn --no-auth``, the README's requests, then SIGTERM."""
    import httpx

    port = _free_port()
    exe = Path(sys.executable).with_name("prodml")
    proc = subprocess.Popen(
        [
            str(exe),
            "serve",
            "--product",
            "churn",
            "--no-auth",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=cwd,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    answers = []
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/ready", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"prodml serve did not get ready: {proc.communicate()}")
            time.sleep(0.1)
        for method, path, body in REQUESTS:
            r = httpx.request(method, url + path, json=body, timeout=30)
            doc = _rounded(r.json())
            if isinstance(doc, dict):
                doc.pop("request_id", None)
            answers.append(f"{method} {path} -> {r.status_code}\n{json.dumps(doc, indent=1)}")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    err = err.replace(f":{port}", ":PORT" + "_" * (len(str(port)) - 4))
    return proc.returncode, out + "\n".join(answers) + "\n", err


def _rounded(doc: object) -> object:
    """Floats to 9 significant digits: BLAS sums differ in the last bits between runs."""
    if isinstance(doc, float):
        return float(f"{doc:.9g}")
    if isinstance(doc, dict):
        return {k: _rounded(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_rounded(v) for v in doc]
    return doc


def run_tour(workdir: Path) -> Iterator[tuple[str, str]]:
    """Run the tour in ``workdir``; yields (name, masked output) per command."""
    mask = Masker(str(workdir))
    demo = workdir / "demo"
    last_run: str | None = None
    for name, argv in TOUR:
        cwd = workdir if name == "01_init" else demo
        if argv == ["SERVE"]:
            code, out, err = _serve(demo)
        else:
            args = [last_run or "" if a == "RUN" else a for a in argv]
            code, out, err = _prodml(args, cwd)
        found = _RUN_ID.findall(err)
        if argv[0] == "run" and found:
            last_run = found[0]
        text = f"$ prodml {' '.join(argv)}\n[exit {code}]\n--- stdout\n{out}--- stderr\n{err}"
        yield name, mask(text, every_column=name in UNORDERED)


def tour_outputs(run: Callable[[Path], Iterator[tuple[str, str]]] = run_tour) -> dict[str, str]:
    """Every command's masked output from a fresh tour in a temporary directory whose path
    has a fixed length."""
    with tempfile.TemporaryDirectory(prefix="prodml-tour-") as tmp:
        return dict(run(Path(tmp)))


def main() -> None:
    """Write a fresh tour's masked outputs to the directory given (default: the goldens)."""
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else GOLDEN
    target.mkdir(parents=True, exist_ok=True)
    for name, text in tour_outputs().items():
        (target / f"{name}.txt").write_text(text)


if __name__ == "__main__":
    main()
