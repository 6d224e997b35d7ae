"""Kills and concurrent runs of the example product: does any row get lost or duplicated?

Issue 13 (Trust I). Peer: an uninterrupted ``prodml run churn`` on a fresh copy of the same
example platform (the reference). Each trial starts from a fresh ``prodml init --example
retail`` (the generator is seeded: every platform lands the same data):

* **kill**: ``prodml run churn`` is SIGKILLed (with its process group) at a uniformly random
  moment of the first 90 % of the reference run's duration, then resumed (``--resume RUN``;
  a plain run when the kill came before the run was recorded) until it succeeds;
* **pair**: two ``prodml run churn --wait`` start at once on a new platform: the lease lets
  one run at a time, the other waits and then finds nothing left to do.

Then every table is compared with the reference as a multiset of rows, over the columns whose
values do not depend on the run (those that differ between two clean reference runs - run
ids, times - are left out): rows the trial lacks are *lost*, rows it has too often are
*duplicated*, per kind of table (main tables, quarantine, DQ results, ml tables). Model
versions registered are compared with the number of distinct training-input fingerprints
(the input table versions tagged on each version's training run). Exit status is non-zero
only when a command fails unexpectedly, never on what is measured.

    .venv/bin/python benchmarks/kill_concurrency.py [--quick] [--kills N] [--pairs N]
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from lib.args import bench_arg_parser
from lib.env import command_env, prodml_bin, work_dir
from lib.machine import machine_line
from lib.table import fmt_seconds, print_table

SEED = 13
KINDS = ("main", "quarantine", "dq results", "ml")


def _prodml(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(prodml_bin()), *args],
        cwd=root,
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"prodml {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done


def _fresh(base: Path, name: str, days: int) -> Path:
    root = base / name
    if root.exists():
        subprocess.run(["rm", "-rf", str(root)], check=True)
    _prodml(base, "init", name, "--example", "retail", "--days", str(days))
    return root


def _kind(table: str) -> str:
    if table.endswith("__quarantine"):
        return "quarantine"
    if table.endswith("monitoring.dq_results"):
        return "dq results"
    if ".ml." in f".{table}":
        return "ml"
    return "main" if table.split(".")[-2] != "monitoring" else "other"


def snapshot(root: Path) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Every table: its columns and rows (values as text, for comparing)."""
    import prodml

    out = {}
    with prodml.connect(root) as ws:
        for entry in ws.catalog_entries():
            name = f"{entry['schema_name']}.{entry['name']}"
            data = ws.read(name)
            columns = data.column_names
            rows = [tuple(_text(v) for v in r.values()) for r in data.to_pylist()]
            out[name] = (columns, rows)
    return out


_LONG_FLOAT = re.compile(r"\d+\.\d{6,}")
_AGE = re.compile(r"is [\d.]+ h old")  # a freshness result: the age depends on the clock


def _text(value: Any) -> str:
    """A value as text, floats at 10 significant digits (in JSON text too): parallel sums
    differ in the last bits from run to run; freshness ages are masked."""
    if isinstance(value, float):
        return f"{value:.10g}"
    text = _LONG_FLOAT.sub(lambda m: f"{float(m.group()):.10g}", str(value))
    return _AGE.sub("is … h old", text)


def stable_columns(a: dict[str, Any], b: dict[str, Any]) -> dict[str, list[int]]:
    """Per table, the column positions whose values agree between two clean runs."""
    keep = {}
    for name, (columns, rows) in a.items():
        other = b.get(name)
        if other is None:
            continue
        keep[name] = [
            i
            for i, _ in enumerate(columns)
            if Counter(r[i] for r in rows) == Counter(r[i] for r in other[1])
        ]
    return keep


def compare(ref: dict[str, Any], got: dict[str, Any], keep: dict[str, list[int]]) -> Counter[str]:
    """Rows lost and duplicated per kind of table (``lost main``, ``dup ml``, …)."""
    found: Counter[str] = Counter()
    for name, positions in keep.items():
        mine = got.get(name, ([], []))[1]

        def project(rows: list[tuple[Any, ...]], positions: list[int] = positions) -> Counter[Any]:
            return Counter(tuple(r[i] for i in positions) for r in rows)

        want, have = project(ref[name][1]), project(mine)
        found[f"lost {_kind(name)}"] += sum((want - have).values())
        found[f"dup {_kind(name)}"] += sum((have - want).values())
    return found


def model_versions(root: Path) -> tuple[int, int]:
    """Versions of the churn model registered, and distinct training-input fingerprints."""
    import prodml

    with prodml.connect(root) as ws:
        versions = ws.model_versions("churn")
        client = ws._w.registry.client
        prints = set()
        for v in versions:
            tags = client.get_run(v["run_id"]).data.tags
            prints.add(
                tuple(sorted((k, t) for k, t in tags.items() if k.startswith("prodml.input.")))
            )
    return len(versions), len(prints)


def _newest_run(root: Path) -> dict[str, Any] | None:
    runs = json.loads(_prodml(root, "runs", "list", "--json").stdout)
    return runs[0] if runs else None


def kill_trial(base: Path, i: int, days: int, moment: float) -> dict[str, Any]:
    root = _fresh(base, f"kill{i}", days)
    proc = subprocess.Popen(
        [str(prodml_bin()), "run", "churn"],
        cwd=root,
        env=command_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(moment)
    finished_first = proc.poll() is not None
    if not finished_first:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    run = _newest_run(root)
    resumes = 0
    while run is None or run["status"] != "succeeded":
        if run is None:
            done = _prodml(root, "run", "churn", check=False)
        else:
            done = _prodml(root, "run", "churn", "--resume", run["run_id"], check=False)
        resumes += 1
        if done.returncode != 0 and resumes >= 3:
            return {
                "root": root,
                "failed": done.stderr.strip().splitlines()[-1:],
                "resumes": resumes,
            }
        run = _newest_run(root)
    return {"root": root, "failed": None, "resumes": resumes, "killed": not finished_first}


def pair_trial(base: Path, i: int, days: int) -> dict[str, Any]:
    root = _fresh(base, f"pair{i}", days)
    procs = [
        subprocess.Popen(
            [str(prodml_bin()), "run", "churn", *extra],
            cwd=root,
            env=command_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for extra in (["--wait"], ["--wait"])  # one runs, the other queues behind it
    ]
    errors = [p.communicate(timeout=1800)[1] for p in procs]
    failed = [
        e.strip().splitlines()[-1:] for p, e in zip(procs, errors, strict=True) if p.returncode
    ]
    return {"root": root, "failed": failed or None}


def main() -> int:
    parser = bench_arg_parser(__doc__ or "")
    parser.add_argument("--kills", type=int, default=None, help="SIGKILL trials (default 20)")
    parser.add_argument("--pairs", type=int, default=None, help="concurrent pairs (default 5)")
    parser.add_argument("--days", type=int, default=None, help="days of example data (default 60)")
    args = parser.parse_args()
    kills = args.kills if args.kills is not None else (3 if args.quick else 20)
    pairs = args.pairs if args.pairs is not None else (1 if args.quick else 5)
    days = args.days or (45 if args.quick else 60)
    base = work_dir("kill_concurrency", clean=True)
    rng = random.Random(SEED)
    print(machine_line())

    began = time.perf_counter()
    ref_root = _fresh(base, "reference", days)
    _prodml(ref_root, "run", "churn")
    duration = time.perf_counter() - began
    twin = _fresh(base, "reference2", days)
    _prodml(twin, "run", "churn")
    ref, keep = snapshot(ref_root), {}
    keep = stable_columns(ref, snapshot(twin))
    ref_versions = model_versions(ref_root)

    rows = []
    for label, trials in (
        ("SIGKILL + resume", [("kill", i, rng.uniform(0.5, 0.9 * duration)) for i in range(kills)]),
        ("concurrent pair (--wait)", [("pair", i, 0.0) for i in range(pairs)]),
    ):
        totals: Counter[str] = Counter()
        failures, versions, prints, killed = 0, 0, 0, 0
        for kind, i, moment in trials:
            result = (
                kill_trial(base, i, days, moment) if kind == "kill" else pair_trial(base, i, days)
            )
            if result["failed"]:
                failures += 1
                print(f"{kind} {i} failed: {result['failed']}", file=sys.stderr)
                continue
            killed += bool(result.get("killed", kind == "pair"))
            totals += compare(ref, snapshot(result["root"]), keep)
            v, p = model_versions(result["root"])
            versions, prints = versions + v, prints + p
        rows.append(
            [
                label,
                len(trials),
                killed,
                failures,
                *(f"{totals[f'lost {k}']} / {totals[f'dup {k}']}" for k in KINDS),
                f"{versions} / {prints}",
            ]
        )
    print_table(
        f"kills and concurrent runs of prodml run churn ({days} days; reference run "
        f"{fmt_seconds(duration)}, {ref_versions[0]} model version)",
        [
            "trials",
            "n",
            "killed / paired",
            "failures",
            *(f"{k}: lost / dup rows" for k in KINDS),
            "model versions / distinct inputs",
        ],
        rows,
    )
    print("expected: 0 failures, 0 lost, 0 duplicated, model versions = distinct inputs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
