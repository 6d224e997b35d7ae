"""The serving benchmark's setup: the retail example's churn model, the request rows, the two
servers (``prodml serve`` and ``mlflow models serve``), the answer check and the model floor."""

from __future__ import annotations

import contextlib
import json
import random
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib.checks import WrongAnswerError
from lib.env import command_env, prodml_bin
from lib.server import HOST, HttpClient, ServerProcess, free_port, get_once
from lib.timing import CommandFailedError

PRODUCT = "churn"
MODEL = f"dev.ml.{PRODUCT}"
COLUMNS = ["recency_days", "frequency", "monetary", "tenure_days", "segment", "country"]
NUMERIC = COLUMNS[:4]
SEED = 20241126
START_TIMEOUT = 180.0  # seconds for a server to become ready


# --------------------------------------------------------------------------------------------
# the model and the rows
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
    """The demo's MLflow tracking URI (``ws.tracking_uri``)."""
    import prodml

    with prodml.connect(demo) as ws:
        return str(ws.tracking_uri)


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
    """The request body of one row: ``{"dataframe_split": {"columns": ..., "data": [row]}}``."""
    return json.dumps({"dataframe_split": {"columns": COLUMNS, "data": [row]}})


def inference_log_rows(demo: Path) -> int:
    """Rows prodml's endpoint wrote to its inference log (``ml.churn_inference_log``)."""
    import prodml

    with prodml.connect(demo) as ws:
        return int(ws.read(f"ml.{PRODUCT}_inference_log").num_rows)


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


# --------------------------------------------------------------------------------------------
# the servers
# --------------------------------------------------------------------------------------------


@dataclass
class Server(ServerProcess):
    """A server this script started: ready once GET ``ready_path`` answers 200."""

    ready_path: str = "/ping"
    serving_pid: int | None = None  # the process that answers (MLflow: the uvicorn child)

    def wait_ready(self) -> None:
        def probe() -> str | None:
            status, body = get_once(self.port, self.ready_path)
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


def prodml_server(demo: Path, logs: Path) -> Server:
    """``prodml serve --product churn --no-auth`` from the demo directory (ready: ``/ready``)."""
    port = free_port(HOST)
    argv = [str(prodml_bin()), "serve", "--product", PRODUCT, "--no-auth"]
    return Server(
        label="prodml",
        argv=[*argv, "--host", HOST, "--port", str(port)],
        env=command_env(prodml_bin().parent),
        cwd=demo,
        log=logs / "prodml-serve.log",
        port=port,
        ready_path="/ready",
    )


def mlflow_server(peer_bin: Path, model_uri: str, uri: str, demo: Path, logs: Path) -> Server:
    """``mlflow models serve -m MODEL_URI --env-manager local -w 1`` (ready: ``/ping``)."""
    port = free_port(HOST)
    argv = [str(peer_bin / "mlflow"), "models", "serve", "-m", model_uri, "--env-manager", "local"]
    env = {"MLFLOW_TRACKING_URI": uri, "MLFLOW_REGISTRY_URI": uri, "UVICORN_ACCESS_LOG": "false"}
    return Server(
        label="mlflow",
        argv=[*argv, "-h", HOST, "-p", str(port), "-w", "1"],
        env=command_env(peer_bin, env),
        cwd=demo,
        log=logs / "mlflow-serve.log",
        port=port,
        ready_path="/ping",
    )


def check_answers(servers: Sequence[Server], bodies: Sequence[str]) -> dict[str, list[str]]:
    """Each server scores each row once; their predictions must agree. Returns raw bodies."""
    raw: dict[str, list[str]] = {}
    for server in servers:
        client = HttpClient(server.port, "/invocations", timeout=60)
        out = []
        for i, body in enumerate(bodies):
            status, data = client.post(body)
            if status != 200:
                raise WrongAnswerError(
                    f"{server.label}: row {i} answered {status}: {data[:500]!r} (request {body})"
                )
            out.append(data.decode())
        client.close()
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
