"""Real-time serving: ``prodml serve`` against ``mlflow models serve`` of the same model.

Target (``/work/shared/BENCHMARKS.md``, row "real-time serving"): single-row requests on
loopback at concurrency 1 and 16, 20 s each; prodml's throughput ≥ 5 x MLflow's at
concurrency 16, and its p99 latency ≤ ⅓ of MLflow's (both checked at concurrency 16; the
concurrency-1 row is information: there, both servers wait on the same single-row
``Pipeline.predict``, whose time alone is printed as the floor).

The model (``lib/serving_setup.py``; built once per run under ``benchmarks/.work/serving``,
git-ignored): ``prodml init demo --example retail``, ``prodml run churn``, ``prodml models
promote churn``, which registers ``dev.ml.churn`` version 1 (champion) in the demo's MLflow
(SQLite under ``demo/.prodml``): a sklearn Pipeline (StandardScaler on 4 doubles, OneHotEncoder
on 2 strings, LogisticRegression).

The servers, both one worker process, both up for the whole run:

* prodml: ``prodml serve --product churn --no-auth --host 127.0.0.1 --port P`` from the demo
  directory, with the endpoint exactly as the example configures it (champion/challenger split
  with no challenger registered, micro-batching up to 64 rows, inference log to Delta on). Ready
  when ``GET /ready`` answers 200.
* MLflow: ``mlflow models serve -m models:/dev.ml.churn/1 --env-manager local -w 1`` (1 is its
  default) from ``benchmarks/.venvs/serving`` (``peers/serving/requirements.txt``: the same
  mlflow, scikit-learn, numpy, pandas, skops as prodml's venv, plus the uvloop and httptools that
  uvicorn picks up by itself, so both run the same HTTP stack), with ``MLFLOW_TRACKING_URI`` on
  the demo's store. Its access log is switched off (``UVICORN_ACCESS_LOG=false``) as prodml's
  is. Ready when ``GET /ping`` answers 200.

Requests: ``POST /invocations`` with ``{"dataframe_split": {"columns": [6 columns], "data":
[[one row]]}}``, rows drawn with a fixed seed from the demo's ``features.customer_features`` (cast to
the model's signature: 4 doubles, 2 strings). Before timing, both servers score each of those
rows once and must return the same predictions; every timed response is then compared byte for
byte with that server's answer for the same row, and must have status 200.

The load generator (``lib/serving_loadgen.py``) is this script in a separate process (its own
interpreter and GIL): asyncio (uvloop when installed) over raw sockets, one HTTP/1.1 keep-alive
connection per concurrent worker, responses framed by Content-Length. At each concurrency level
it warms the server up (``--warmup-seconds``, default 1 s) on the same connections, then
measures for ``--seconds`` (default 20) or ``--max-requests``, whichever ends first. Latency is
per request (``perf_counter`` around write → full response). The order is ABBA (c=1: prodml,
MLflow; c=16: MLflow, prodml). Peak RSS and CPU time of each server process (the uvicorn process
for MLflow, not its ``mlflow`` launcher) are sampled with psutil every 20 ms.

It reports, it does not assert: exit code 0 even when a target is missed; 1 when a server fails
to start or a command fails; 3 when the servers' answers differ, a request fails (non-200) or a
response is not the expected answer.

    python benchmarks/serving.py                 # 20 s per level and server
    python benchmarks/serving.py --seconds 5     # quick check (also --quick)
    python benchmarks/serving.py --runs 3        # 3 ABBA rounds, medians in the table
    python benchmarks/serving.py --skip-peers    # prodml alone

(``--warmup N`` of the shared flags is not used: the warm-up here is ``--warmup-seconds``.)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib.args import bench_arg_parser
from lib.checks import EXIT_DISAGREEMENT, WrongAnswerError
from lib.env import work_dir
from lib.machine import end_line
from lib.peers import open_peer
from lib.server import ServerFailedError
from lib.serving_loadgen import RSS_INTERVAL, Sampler, loadgen_child, run_loadgen
from lib.serving_setup import (
    MODEL,
    SEED,
    Server,
    body_of,
    build_model,
    check_answers,
    draw_rows,
    inference_log_rows,
    mlflow_server,
    model_floor,
    prodml_server,
    tracking_uri,
)
from lib.table import fmt_mb, print_table, ratio
from lib.timing import CommandFailedError

CHECK_ROWS = 200
CONCURRENCY = (1, 16)
TARGET_THROUGHPUT = 5.0  # prodml req/s / MLflow req/s at concurrency 16
TARGET_P99 = 1 / 3  # prodml p99 / MLflow p99
SCRIPT = Path(__file__)


@dataclass
class Setup:
    """The model, its request rows and the model-alone floor (built before any server)."""

    demo: Path
    version: dict[str, Any]
    uri: str
    model_uri: str
    rows: list[list[Any]]
    bodies: list[str]
    floor: dict[str, float]


def build(root: Path) -> Setup:
    """The retail example's churn model (init, run, promote), rows drawn from its features."""
    demo, version = build_model(root)
    uri = tracking_uri(demo)
    model_uri = f"models:/{MODEL}/{version['version']}"
    rows = draw_rows(demo, CHECK_ROWS)
    floor = model_floor(uri, model_uri, rows)
    return Setup(demo, version, uri, model_uri, rows, [body_of(r) for r in rows], floor)


@dataclass
class Level:
    """One concurrency level: each server's load-generator results, one per round."""

    concurrency: int
    results: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def summary(self, label: str) -> dict[str, Any] | None:
        """Medians over the rounds (req/s, latencies), the max peak RSS, summed counts."""
        runs = self.results.get(label)
        if not runs:
            return None

        def med(key: str) -> float:
            return statistics.median(float(r[key]) for r in runs)

        peaks = [r["rss_mb"] for r in runs if r["rss_mb"] is not None]
        return {
            "rate": statistics.median(r["answered"] / r["elapsed"] for r in runs),
            **{k: med(k) for k in ("p50", "p90", "p99", "mean")},
            "max": max(float(r["max"]) for r in runs),
            "rss_mb": max(peaks) if peaks else None,
            "answered": sum(r["answered"] for r in runs),
            "warmup_requests": sum(r["warmup_requests"] for r in runs),
            "elapsed": sum(r["elapsed"] for r in runs),
            "server_cpu": sum(r["server_cpu"] for r in runs),
            "client_cpu": sum(r["client_cpu"] for r in runs),
            "loop": runs[0]["loop"],
        }


def _ms(x: float | None) -> str:
    return "—" if x is None else f"{x * 1000:.2f}"


def measure(
    servers: Sequence[Server],
    raw: dict[str, list[str]],
    bodies: Sequence[str],
    args: argparse.Namespace,
    rounds: int,
) -> list[Level]:
    """Every server at every concurrency level, ABBA, each response checked against the
    server's own answer for the row."""
    by_label = {s.label: s for s in servers}
    levels = [Level(c) for c in CONCURRENCY]
    with Sampler({s.label: s.serving_pid or 0 for s in servers}) as sampler:
        for rnd, i, level in ((r, i, lv) for r in range(rounds) for i, lv in enumerate(levels)):
            order = [s.label for s in servers]
            if (rnd + i) % 2 == 1:
                order.reverse()  # ABBA: drift hits both alike
            for label in order:
                print(
                    f"round {rnd + 1}/{rounds} c={level.concurrency}: {label} "
                    f"({args.warmup_seconds:g} s warm-up + {args.seconds:g} s) ...",
                    flush=True,
                )
                res = run_loadgen(
                    SCRIPT,
                    by_label[label],
                    bodies,
                    raw[label],
                    level.concurrency,
                    args,
                    sampler,
                    f"c={level.concurrency}/{label}",
                )
                level.results.setdefault(label, []).append(res)
                rate = res["answered"] / res["elapsed"]
                print(
                    f"  {res['answered']} requests in {res['elapsed']:.2f} s = {rate:.0f}/s; "
                    f"p50 {_ms(res['p50'])} ms, p99 {_ms(res['p99'])} ms, max "
                    f"{_ms(res['max'])} ms; statuses {res['statuses']}; server cpu "
                    f"{res['server_cpu']:.1f} s, client cpu {res['client_cpu']:.1f} s",
                    flush=True,
                )
                bad = {k: v for k, v in res["statuses"].items() if k != "200"}
                if bad or res["wrong"]:
                    raise WrongAnswerError(
                        f"{label} at c={level.concurrency}: non-200 statuses {bad}; "
                        f"{res['wrong']} unexpected bodies, the first: "
                        + "; ".join(res["wrong_sample"])
                    )
    return levels


def compare_before_timing(servers: Sequence[Server], bodies: Sequence[str]) -> dict[str, list[str]]:
    """Both servers score every row once and must agree; their answers, by label."""
    raw = check_answers(servers, bodies)
    counts: dict[str, int] = {}
    for b in raw["prodml"]:
        for p in json.loads(b)["predictions"]:
            counts[str(p)] = counts.get(str(p), 0) + 1
    print(
        f"answers: {' and '.join(raw)} agree on all {len(bodies)} rows "
        f"(predictions: {', '.join(f'{k}: {v}' for k, v in sorted(counts.items()))}); "
        f"bodies: {', '.join(f'{k} {v[0]}' for k, v in raw.items())}"
    )
    return raw


def report(levels: list[Level], args: argparse.Namespace, rounds: int) -> None:
    table: list[list[object]] = []
    for level in levels:
        mine = level.summary("prodml")
        assert mine is not None
        theirs = level.summary("mlflow")
        my_rate = mine["rate"]
        their_rate = theirs["rate"] if theirs else None
        if level.concurrency == max(CONCURRENCY):
            target = f"≥ {TARGET_THROUGHPUT:g}x req/s; p99 ≤ ⅓"
            ok = (
                theirs is not None
                and their_rate is not None
                and my_rate >= TARGET_THROUGHPUT * their_rate
                and mine["p99"] <= TARGET_P99 * theirs["p99"]
            )
            met = ("yes" if ok else "NO") if theirs else "peer n/a"
        else:
            target, met = "(info)", "—"
        table.append(
            [
                f"serving c={level.concurrency}",
                f"{my_rate:.0f}",
                f"{their_rate:.0f}" if their_rate else "—",
                ratio(my_rate, their_rate),
                _ms(mine["p50"]),
                _ms(mine["p99"]),
                _ms(theirs["p50"]) if theirs else "—",
                _ms(theirs["p99"]) if theirs else "—",
                ratio(theirs["p99"] if theirs else None, mine["p99"]),
                fmt_mb(mine["rss_mb"]),
                fmt_mb(theirs["rss_mb"]) if theirs else "—",
                target,
                met,
            ]
        )
    print_table(
        f"real-time serving: single-row POST /invocations on loopback, {args.seconds:g} s per "
        "level after warm-up, 1 server worker each"
        + (f", median of {rounds} rounds" if rounds > 1 else ""),
        [
            "workload",
            "prodml req/s",
            "MLflow req/s",
            "ratio (prodml/MLflow)",
            "prodml p50 ms",
            "prodml p99 ms",
            "MLflow p50 ms",
            "MLflow p99 ms",
            "p99 ratio (MLflow/prodml)",
            "prodml peak RSS MB",
            "MLflow peak RSS MB",
            "target",
            "met?",
        ],
        table,
    )


def details(setup: Setup, servers: Sequence[Server], levels: list[Level], checked: int) -> None:
    """The inference log count, per-level detail, the model floor, what was checked."""
    # prodml logs every scored row (the endpoint's default); after its graceful stop all of them
    # should be in the table: the answer check, warm-ups and measured requests
    served = checked + sum(
        r["answered"] + r["warmup_requests"] for lv in levels for r in lv.results["prodml"]
    )
    try:
        logged: int | str = inference_log_rows(setup.demo)
    except Exception as exc:  # report, do not fail the benchmark on it
        logged = f"unreadable ({type(exc).__name__}: {exc})"
    print(
        f"prodml inference log: {logged} rows for {served} requests answered"
        + ("" if logged == served else "  <-- MISMATCH")
    )
    for level in levels:
        for label in level.results:
            total = level.summary(label)
            assert total is not None
            n = total["answered"]
            print(
                f"c={level.concurrency} {label}: {n} requests ({total['warmup_requests']} warm-up), "
                f"p90 {_ms(total['p90'])} / max {_ms(total['max'])} / mean {_ms(total['mean'])} ms; "
                f"server CPU {total['server_cpu'] / n * 1e6:.0f} µs/request "
                f"({total['server_cpu'] / total['elapsed']:.2f} cores); load generator "
                f"{total['client_cpu'] / total['elapsed']:.2f} cores ({total['loop']})"
            )
    floor = setup.floor
    print(
        f"model alone (fresh process, no server): Pipeline.predict on a 1-row DataFrame "
        f"{floor['1'] * 1000:.2f} ms, on 16 rows {floor['16'] * 1000:.2f} ms (median of 200): "
        f"at most {1 / floor['1']:.0f} single-row calls/s on one core without batching"
    )
    compared = (
        f"both servers scored the same {checked} rows identically before timing"
        if len(servers) > 1
        else f"prodml alone scored {checked} rows before timing (no peer to compare with)"
    )
    print(
        f"answers: {compared}; every timed response was status 200 and byte-identical to that "
        "server's answer for the row"
    )
    print(
        "peak RSS: the serving process during its own measured window (MLflow: the uvicorn "
        "process its `mlflow models serve` launcher starts), sampled every "
        f"{RSS_INTERVAL * 1000:.0f} ms; start-up to ready (both started at once): "
        + ", ".join(f"{s.label} {s.start_seconds:.1f} s" for s in servers)
    )


def main() -> int:
    parser = bench_arg_parser(__doc__.splitlines()[0] if __doc__ else "serving benchmark")
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="measured seconds per server and concurrency level (default 20; 5 with --quick)",
    )
    parser.add_argument(
        "--warmup-seconds",
        type=float,
        default=1.0,
        help="untimed load before each measurement, same connections (default 1)",
    )
    parser.add_argument(
        "--max-requests",
        type=int,
        default=2_000_000,
        help="stop a measurement after this many requests even before --seconds (default 2M)",
    )
    parser.add_argument(
        "--inference-log",
        choices=["durable", "memory"],
        default="durable",
        help="prodml's inference log: journaled before each answer (the default) or held in "
        "memory until written (inference_log.durable: false); compare the two for its cost",
    )
    parser.add_argument("--loadgen-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loadgen_child:
        return loadgen_child()
    if args.seconds is None:
        args.seconds = 5.0 if args.quick else 20.0
    rounds = args.runs or 1
    t_start = time.perf_counter()

    root = work_dir("serving", clean=True)
    print(f"building the model under {root} (prodml init --example retail, run, promote)")
    try:
        setup = build(root)
    except CommandFailedError as exc:
        print(f"error: {exc}")
        return 1
    print(
        f"model {setup.model_uri} (champion; gate metrics {setup.version.get('metrics')}); "
        f"{len(setup.rows)} rows drawn from features.customer_features (seed {SEED}); "
        f"tracking {setup.uri}"
    )
    if args.inference_log == "memory":  # the endpoint as configured, its log in memory
        product_yaml = setup.demo / "products" / "churn" / "product.yaml"
        text = product_yaml.read_text()
        product_yaml.write_text(
            text.replace("\nendpoint:\n", "\nendpoint:\n  inference_log: {durable: false}\n", 1)
        )
    print(f"prodml's inference log: {args.inference_log}")
    logs = work_dir("serving/logs")
    servers = [prodml_server(setup.demo, logs)]
    peer_bin, peer_note = open_peer("serving", skip=args.skip_peers)
    if peer_bin is not None:
        servers.append(mlflow_server(peer_bin, setup.model_uri, setup.uri, setup.demo, logs))
    try:
        for s in servers:
            s.start()
        for s in servers:
            s.wait_ready()
            print(
                f"{s.label} ready in {s.start_seconds:.1f} s on port {s.port} (pid {s.serving_pid})"
            )
        raw = compare_before_timing(servers, setup.bodies)
        levels = measure(servers, raw, setup.bodies, args, rounds)
    except (ServerFailedError, CommandFailedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except WrongAnswerError as exc:
        print(f"WRONG ANSWER: {exc}", file=sys.stderr)
        return EXIT_DISAGREEMENT
    finally:
        for s in servers:
            s.stop()

    report(levels, args, rounds)
    if peer_note:
        print(f"note: {peer_note}")
    details(setup, servers, levels, len(setup.bodies))
    print(end_line(t_start, cpus=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
