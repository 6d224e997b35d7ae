"""Real-time serving: ``prodml serve`` against ``mlflow models serve`` of the same model.

Target (``/work/shared/BENCHMARKS.md``, row "real-time serving"): single-row requests on
loopback at concurrency 1 and 16, 20 s each; prodml's throughput ≥ 5 x MLflow's at
concurrency 16, and its p99 latency ≤ ⅓ of MLflow's (both checked at concurrency 16; the
concurrency-1 row is information: there, both servers wait on the same single-row
``Pipeline.predict``, whose time alone is printed as the floor).

The model (built once per run under ``benchmarks/.work/serving``, git-ignored): ``prodml init
demo --example retail``, ``prodml run churn``, ``prodml models promote churn``, which registers
``dev.ml.churn`` version 1 (champion) in the demo's MLflow (SQLite under ``demo/.prodml``): a
sklearn Pipeline (StandardScaler on 4 doubles, OneHotEncoder on 2 strings, LogisticRegression).

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

The load generator is this script in a separate process (its own interpreter and GIL): asyncio
(uvloop when installed) over raw sockets, one HTTP/1.1 keep-alive connection per concurrent
worker, responses framed by Content-Length. At each concurrency level it warms the server up
(``--warmup-seconds``, default 1 s) on the same connections, then measures for ``--seconds``
(default 20) or ``--max-requests``, whichever ends first. Latency is per request
(``perf_counter`` around write → full response). The order is ABBA (c=1: prodml, MLflow;
c=16: MLflow, prodml). Peak RSS and CPU time of each server process (the uvicorn process for
MLflow, not its ``mlflow`` launcher) are sampled with psutil every 20 ms.

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
import asyncio
import contextlib
import json
import math
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH_DIR,
    CommandFailedError,
    PeerUnavailableError,
    ServerFailedError,
    ServerProcess,
    bench_arg_parser,
    command_env,
    fmt_mb,
    free_port,
    peer_venv,
    print_table,
    prodml_bin,
    ratio,
    work_dir,
)

PRODUCT = "churn"
MODEL = f"dev.ml.{PRODUCT}"
COLUMNS = ["recency_days", "frequency", "monetary", "tenure_days", "segment", "country"]
NUMERIC = COLUMNS[:4]
SEED = 20241126
CHECK_ROWS = 200
CONCURRENCY = (1, 16)
TARGET_THROUGHPUT = 5.0  # prodml req/s / MLflow req/s at concurrency 16
TARGET_P99 = 1 / 3  # prodml p99 / MLflow p99
HOST = "127.0.0.1"
START_TIMEOUT = 180.0  # seconds for a server to become ready
RSS_INTERVAL = 0.02


class WrongAnswerError(RuntimeError):
    """The servers disagree, a request failed, or a response is not the expected answer."""


# --------------------------------------------------------------------------------------------
# load generator (runs in its own process: `serving.py --loadgen-child`, config on stdin)
# --------------------------------------------------------------------------------------------


class _Conn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection with at most one request in flight."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses: no isinstance check
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.waiter is None:
            return
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buf[:end]).lower()
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            self._fail(ConnectionError(f"response without Content-Length: {head[:200]!r}"))
            return
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : stop if stop >= 0 else len(head)])
        total = end + 4 + length
        if len(self.buf) < total:
            return
        status = int(head[9:12])
        body = bytes(self.buf[end + 4 : total])
        del self.buf[:total]
        waiter, self.waiter = self.waiter, None
        if not waiter.done():
            waiter.set_result((status, body))

    def _fail(self, exc: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionError(f"the server closed the connection ({exc})"))

    def request(self, data: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self.transport is not None and self.waiter is None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return self.waiter


def _http_request(port: int, body: bytes) -> bytes:
    head = (
        f"POST /invocations HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _percentile(sorted_xs: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of sorted values."""
    return sorted_xs[max(0, math.ceil(q * len(sorted_xs)) - 1)]


async def _loadgen(cfg: dict[str, Any]) -> dict[str, Any]:
    port = int(cfg["port"])
    requests = [_http_request(port, b.encode()) for b in cfg["bodies"]]
    expected = [e.encode() for e in cfg["expected"]]
    concurrency = int(cfg["concurrency"])
    loop = asyncio.get_running_loop()
    conns: list[_Conn] = []
    for _ in range(concurrency):
        _, proto = await loop.create_connection(_Conn, HOST, port)
        conns.append(proto)

    async def phase(seconds: float, cap: int, record: bool) -> dict[str, Any]:
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        wrong: list[str] = []
        issued = wrong_count = 0
        perf = time.perf_counter
        t_start = perf()
        deadline = t_start + seconds

        async def worker(w: int, conn: _Conn) -> None:
            nonlocal issued, wrong_count
            i = w  # each worker walks the rows from its own offset
            while issued < cap and perf() < deadline:
                issued += 1
                k = i % len(requests)
                i += concurrency
                t0 = perf()
                status, body = await conn.request(requests[k])
                t1 = perf()
                if not record:
                    continue
                latencies.append(t1 - t0)
                statuses[status] = statuses.get(status, 0) + 1
                if body != expected[k]:
                    wrong_count += 1
                    if len(wrong) < 5:
                        wrong.append(f"row {k}: status {status}, body {body[:300]!r}")

        cpu0 = time.process_time()
        await asyncio.gather(*(worker(w, c) for w, c in enumerate(conns)))
        elapsed = perf() - t_start
        cpu = time.process_time() - cpu0
        latencies.sort()
        n = len(latencies)
        return {
            "requests": issued,
            "answered": n,
            "elapsed": elapsed,
            "client_cpu": cpu,
            "statuses": {str(k): v for k, v in statuses.items()},
            "wrong": wrong_count,
            "wrong_sample": wrong,
            "p50": _percentile(latencies, 0.50) if n else None,
            "p90": _percentile(latencies, 0.90) if n else None,
            "p99": _percentile(latencies, 0.99) if n else None,
            "max": latencies[-1] if n else None,
            "mean": sum(latencies) / n if n else None,
        }

    warm = await phase(float(cfg["warmup_seconds"]), int(cfg["max_requests"]), record=False)
    # the marker lets the parent start its per-phase RSS/CPU window right here
    print("MEASURING", flush=True)
    result = await phase(float(cfg["seconds"]), int(cfg["max_requests"]), record=True)
    result["warmup_requests"] = warm["requests"]
    for conn in conns:
        if conn.transport is not None:
            conn.transport.close()
    return result


def loadgen_child() -> int:
    cfg = json.loads(sys.stdin.read())
    try:
        import uvloop

        runner: Any = uvloop.run
        loop_name = "uvloop"
    except ImportError:  # pragma: no cover - uvloop is part of prodml[serve]
        runner = asyncio.run
        loop_name = "asyncio"
    result = runner(_loadgen(cfg))
    result["loop"] = loop_name
    print("RESULT " + json.dumps(result), flush=True)
    return 0


# --------------------------------------------------------------------------------------------
# servers
# --------------------------------------------------------------------------------------------


def _get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


@dataclass
class Server(ServerProcess):
    """A server this script started: ready once GET ``ready_path`` answers 200."""

    ready_path: str = "/ping"
    serving_pid: int | None = None  # the process that answers (MLflow: the uvicorn child)

    def wait_ready(self) -> None:
        url = f"http://{HOST}:{self.port}{self.ready_path}"

        def probe() -> str | None:
            status, body = _get(url)
            return None if status == 200 else f"GET {self.ready_path}: {status} {body[:300]!r}"

        self.wait_until(probe, timeout=START_TIMEOUT, poll=0.2)
        self.serving_pid = self._find_serving_pid()

    def _find_serving_pid(self) -> int:
        import psutil

        assert self.proc is not None
        root = psutil.Process(self.proc.pid)
        for child in root.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if any("uvicorn" in part for part in child.cmdline()):
                    return int(child.pid)
        return self.proc.pid


class Sampler:
    """Samples the RSS of the serving processes every 20 ms; peaks per named window."""

    def __init__(self, pids: dict[str, int]) -> None:
        import psutil

        self._procs = {label: psutil.Process(pid) for label, pid in pids.items()}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._windows: dict[str, dict[str, int]] = {}  # window -> label -> peak bytes
        self._open: set[str] = set()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.wait(RSS_INTERVAL):
            for label, proc in self._procs.items():
                try:
                    rss = proc.memory_info().rss
                except psutil.Error:
                    continue
                with self._lock:
                    for window in self._open:
                        peaks = self._windows[window]
                        peaks[label] = max(peaks.get(label, 0), rss)

    def cpu(self, label: str) -> float:
        t = self._procs[label].cpu_times()
        return float(t.user + t.system)

    def begin(self, window: str) -> None:
        """Start recording peaks under ``window`` (from the next sample on)."""
        with self._lock:
            self._windows.setdefault(window, {})
            self._open.add(window)

    def end(self, window: str) -> None:
        with self._lock:
            self._open.discard(window)

    def peak_mb(self, window: str, label: str) -> float | None:
        peak = self._windows.get(window, {}).get(label)
        return None if peak is None else peak / 2**20

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------------------------
# setup: the model, the rows
# --------------------------------------------------------------------------------------------


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr + proc.stdout).strip().splitlines()[-25:])
        raise CommandFailedError(argv, proc.returncode, tail)
    return proc.stdout


def build_model(root: Path) -> tuple[Path, dict[str, Any]]:
    """``prodml init --example retail`` + ``run churn`` + ``models promote churn``."""
    exe = str(prodml_bin())
    env = command_env(prodml_bin().parent)
    _run([exe, "init", str(root / "demo"), "--example", "retail"], root, env)
    demo = root / "demo"
    _run([exe, "run", PRODUCT], demo, env)
    _run([exe, "models", "promote", PRODUCT], demo, env)
    versions = json.loads(_run([exe, "models", "versions", PRODUCT, "--json"], demo, env))
    champion = [v for v in versions if "champion" in v["aliases"]]
    if len(champion) != 1:
        raise CommandFailedError(["prodml", "models", "versions", PRODUCT], 0, str(versions))
    return demo, champion[0]


def tracking_uri(demo: Path) -> str:
    import prodml

    with prodml.connect(demo) as ws:
        return str(ws.models.target.tracking_uri)


def draw_rows(demo: Path, n: int) -> list[list[Any]]:
    """``n`` rows of ``features.customer_features`` (fixed seed), cast to the model's signature."""
    import prodml

    with prodml.connect(demo) as ws:
        table = ws.read("features.customer_features").select(COLUMNS)
    rows = table.to_pylist()
    picked = random.Random(SEED).sample(range(len(rows)), min(n, len(rows)))
    return [
        [float(rows[i][c]) if c in NUMERIC else str(rows[i][c]) for c in COLUMNS] for i in picked
    ]


def body_of(row: list[Any]) -> str:
    return json.dumps({"dataframe_split": {"columns": COLUMNS, "data": [row]}})


def check_answers(servers: Sequence[Server], bodies: Sequence[str]) -> dict[str, list[str]]:
    """Each server scores each row once; their predictions must agree. Returns raw bodies."""
    import http.client

    raw: dict[str, list[str]] = {}
    for server in servers:
        conn = http.client.HTTPConnection(HOST, server.port, timeout=60)
        out = []
        for i, body in enumerate(bodies):
            conn.request(
                "POST", "/invocations", body=body, headers={"Content-Type": "application/json"}
            )
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 200:
                raise WrongAnswerError(
                    f"{server.label}: row {i} answered {resp.status}: {data[:500]!r} "
                    f"(request {body})"
                )
            out.append(data.decode())
        conn.close()
        raw[server.label] = out
    labels = list(raw)
    preds = {k: [json.loads(b)["predictions"] for b in v] for k, v in raw.items()}
    for other in labels[1:]:
        diff = [
            i for i, (a, b) in enumerate(zip(preds[labels[0]], preds[other], strict=True)) if a != b
        ]
        if diff:
            i = diff[0]
            raise WrongAnswerError(
                f"{labels[0]} and {other} disagree on {len(diff)} of {len(bodies)} rows; first: "
                f"row {i} {bodies[i]} -> {raw[labels[0]][i]} vs {raw[other][i]}"
            )
    return raw


# The model alone, in a fresh process: the floor under any server's per-request cost.
_MODEL_FLOOR = """
import json, statistics, sys, time
import mlflow, pandas as pd
cfg = json.loads(sys.stdin.read())
mlflow.set_tracking_uri(cfg["uri"]); mlflow.set_registry_uri(cfg["uri"])
model = mlflow.sklearn.load_model(cfg["model_uri"])
out = {}
for n in (1, 16):
    frame = pd.DataFrame(cfg["rows"][:n], columns=cfg["columns"])
    model.predict(frame)
    samples = []
    for _ in range(200):
        t0 = time.perf_counter()
        model.predict(frame)
        samples.append(time.perf_counter() - t0)
    out[str(n)] = statistics.median(samples)
print(json.dumps(out))
"""


def model_floor(uri: str, model_uri: str, rows: Sequence[list[Any]]) -> dict[str, float]:
    """Median seconds of the sklearn Pipeline's ``predict`` on 1 and on 16 rows (DataFrame)."""
    cfg = {"uri": uri, "model_uri": model_uri, "rows": list(rows), "columns": COLUMNS}
    proc = subprocess.run(
        [sys.executable, "-c", _MODEL_FLOOR],
        input=json.dumps(cfg),
        capture_output=True,
        text=True,
        env=command_env(Path(sys.executable).parent),
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise CommandFailedError(["python", "-c", "<model floor>"], proc.returncode, tail)
    return {k: float(v) for k, v in json.loads(proc.stdout).items()}


def inference_log_rows(demo: Path) -> int:
    """Rows prodml's endpoint wrote to its inference log (``ml.churn_inference_log``)."""
    import prodml

    with prodml.connect(demo) as ws:
        return int(ws.read(f"ml.{PRODUCT}_inference_log").num_rows)


def run_loadgen(
    server: Server,
    bodies: Sequence[str],
    expected: Sequence[str],
    concurrency: int,
    args: argparse.Namespace,
    sampler: Sampler,
    window: str,
) -> dict[str, Any]:
    cfg = {
        "port": server.port,
        "bodies": list(bodies),
        "expected": list(expected),
        "concurrency": concurrency,
        "seconds": args.seconds,
        "warmup_seconds": args.warmup_seconds,
        "max_requests": args.max_requests,
    }
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--loadgen-child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=command_env(Path(sys.executable).parent),
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(cfg))
    proc.stdin.close()
    result: dict[str, Any] | None = None
    lines = []
    cpu0 = cpu1 = None
    for line in proc.stdout:
        if line.startswith("MEASURING"):
            cpu0 = sampler.cpu(server.label)
            sampler.begin(window)
        elif line.startswith("RESULT "):
            cpu1 = sampler.cpu(server.label)
            sampler.end(window)
            result = json.loads(line[len("RESULT ") :])
        else:
            lines.append(line)
    sampler.end(window)
    stderr = proc.stderr.read() if proc.stderr else ""
    code = proc.wait()
    if code != 0 or result is None or cpu0 is None or cpu1 is None:
        raise CommandFailedError(
            ["loadgen", server.label, f"c={concurrency}"],
            code,
            "\n".join((stderr + "".join(lines)).strip().splitlines()[-25:])
            + f"\n{server.label} log tail:\n{server.log_tail(10)}",
        )
    result["server_cpu"] = cpu1 - cpu0
    result["rss_mb"] = sampler.peak_mb(window, server.label)
    return result


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------


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
        demo, version = build_model(root)
    except CommandFailedError as exc:
        print(f"error: {exc}")
        return 1
    uri = tracking_uri(demo)
    model_uri = f"models:/{MODEL}/{version['version']}"
    rows = draw_rows(demo, CHECK_ROWS)
    bodies = [body_of(r) for r in rows]
    try:
        floor = model_floor(uri, model_uri, rows)
    except CommandFailedError as exc:
        print(f"error: {exc}")
        return 1
    print(
        f"model {model_uri} (champion; gate metrics {version.get('metrics')}); "
        f"{len(rows)} rows drawn from features.customer_features (seed {SEED}); tracking {uri}"
    )

    logs = work_dir("serving/logs")
    prodml_port = free_port(HOST)
    servers = [
        Server(
            label="prodml",
            argv=[
                str(prodml_bin()),
                "serve",
                "--product",
                PRODUCT,
                "--no-auth",
                "--host",
                HOST,
                "--port",
                str(prodml_port),
            ],
            env=command_env(prodml_bin().parent),
            cwd=demo,
            log=logs / "prodml-serve.log",
            port=prodml_port,
            ready_path="/ready",
        )
    ]
    peer_note = ""
    if args.skip_peers:
        peer_note = "peer skipped with --skip-peers"
    else:
        try:
            peer_bin = peer_venv("serving", BENCH_DIR / "peers" / "serving" / "requirements.txt")
        except PeerUnavailableError as exc:
            peer_note = str(exc)
            print(f"warning: {exc}")
        else:
            mlflow_port = free_port(HOST)
            servers.append(
                Server(
                    label="mlflow",
                    argv=[
                        str(peer_bin / "mlflow"),
                        "models",
                        "serve",
                        "-m",
                        model_uri,
                        "--env-manager",
                        "local",
                        "-h",
                        HOST,
                        "-p",
                        str(mlflow_port),
                        "-w",
                        "1",
                    ],
                    env=command_env(
                        peer_bin,
                        {
                            "MLFLOW_TRACKING_URI": uri,
                            "MLFLOW_REGISTRY_URI": uri,
                            "UVICORN_ACCESS_LOG": "false",
                        },
                    ),
                    cwd=demo,
                    log=logs / "mlflow-serve.log",
                    port=mlflow_port,
                    ready_path="/ping",
                )
            )
    by_label = {s.label: s for s in servers}
    levels = [Level(c) for c in CONCURRENCY]
    checked = 0
    try:
        for s in servers:
            s.start()
        for s in servers:
            s.wait_ready()
            print(
                f"{s.label} ready in {s.start_seconds:.1f} s on port {s.port} (pid {s.serving_pid})"
            )
        raw = check_answers(servers, bodies)
        checked = len(bodies)
        counts: dict[str, int] = {}
        for b in raw["prodml"]:
            for p in json.loads(b)["predictions"]:
                counts[str(p)] = counts.get(str(p), 0) + 1
        print(
            f"answers: {' and '.join(raw)} agree on all {checked} rows "
            f"(predictions: {', '.join(f'{k}: {v}' for k, v in sorted(counts.items()))}); "
            f"bodies: {', '.join(f'{k} {v[0]}' for k, v in raw.items())}"
        )
        with Sampler({s.label: s.serving_pid or 0 for s in servers}) as sampler:
            for rnd, i, level in ((r, i, lv) for r in range(rounds) for i, lv in enumerate(levels)):
                order = [s.label for s in servers]
                if (rnd + i) % 2 == 1:
                    order.reverse()  # ABBA: drift hits both alike
                for label in order:
                    server = by_label[label]
                    print(
                        f"round {rnd + 1}/{rounds} c={level.concurrency}: {label} "
                        f"({args.warmup_seconds:g} s warm-up + {args.seconds:g} s) ...",
                        flush=True,
                    )
                    res = run_loadgen(
                        server,
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
    except ServerFailedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except CommandFailedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except WrongAnswerError as exc:
        print(f"WRONG ANSWER: {exc}", file=sys.stderr)
        return 3
    finally:
        for s in servers:
            s.stop()

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
    if peer_note:
        print(f"note: {peer_note}")
    # prodml logs every scored row (the endpoint's default); after its graceful stop all of them
    # should be in the table: the answer check, warm-ups and measured requests
    served = checked + sum(
        r["answered"] + r["warmup_requests"] for lv in levels for r in lv.results["prodml"]
    )
    try:
        logged: int | str = inference_log_rows(demo)
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
    print(
        f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"{os.cpu_count()} CPUs; total {time.perf_counter() - t_start:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
