"""The batch scoring benchmark's peers (bare ``predict_proba`` on the in-memory array, and
``mlflow.pyfunc`` over pandas chunks) and what every workload's process shares: warm imports,
the registry URIs, the peak RSS of the process tree."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from lib.batch_scoring_pipeline import FEATURES, MODEL_URI, N_FEATURES, TOLERANCE, make_day
from lib.checks import WrongAnswerError


class TreeRss:
    """Peak RSS of this process plus its children (spawn workers), sampled every 10 ms."""

    def __init__(self) -> None:
        import threading

        import psutil

        self._proc = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.baseline = self._proc.memory_info().rss
        self.peak = self.baseline

    def _sample(self) -> None:
        import psutil

        total = self._proc.memory_info().rss
        for child in self._proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                continue
        self.peak = max(self.peak, total)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self._sample()

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def warm_imports() -> None:
    """Import what every workload uses, outside the timed sections.

    Includes two one-off costs of a fresh process: MLflow's SQLAlchemy stores (~1.2 s, the
    first registry call) and ``skops.io`` (~1.7 s, the first sklearn model load: its trusted-type
    table walks sklearn's modules). prodml's spawn workers still pay both inside the step.
    """
    import importlib
    import warnings

    warnings.filterwarnings("ignore", message="X does not have valid feature names")
    for module in (
        "deltalake",
        "duckdb",
        "pandas",
        "pyarrow",
        "sklearn.ensemble",
        "mlflow.pyfunc",
        "mlflow.sklearn",
        "mlflow.store.tracking.sqlalchemy_store",
        "mlflow.store.model_registry.sqlalchemy_store",
        "skops.io",
    ):
        importlib.import_module(module)


def set_uris(ws: Any) -> None:
    import mlflow

    mlflow.set_tracking_uri(ws.tracking_uri)
    mlflow.set_registry_uri(ws.registry_uri)


def _features_matrix(days: int, rows_per_day: int) -> Any:
    import numpy as np

    x = np.empty((days * rows_per_day, N_FEATURES))
    for i in range(days):
        x[i * rows_per_day : (i + 1) * rows_per_day] = make_day(i, rows_per_day)[0]
    return x


def children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def child_bare(cfg: dict[str, Any]) -> dict[str, Any]:
    """Peer 1: the registered model's ``predict_proba`` on the whole in-memory array."""
    import mlflow.sklearn
    import numpy as np

    import prodml

    warm_imports()
    with prodml.connect(Path(cfg["root"]), env="dev") as ws:
        set_uris(ws)
    model = mlflow.sklearn.load_model(MODEL_URI)
    with TreeRss() as rss:
        x = _features_matrix(cfg["days"], cfg["rows_per_day"])
        t0, c0 = time.perf_counter(), time.process_time()
        proba = model.predict_proba(x)[:, 1]
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    out = Path(cfg["bare_npy"])
    if not out.exists():
        np.save(out, proba)
    else:  # every round must give the same answer
        diff = float(np.max(np.abs(np.load(out) - proba)))
        if diff > TOLERANCE:
            raise WrongAnswerError(f"bare predict_proba differs between rounds by {diff}")
    return {"wall": wall, "cpu": cpu, "peak": rss.peak, "baseline": rss.baseline}


def child_pyfunc(cfg: dict[str, Any]) -> dict[str, Any]:
    """Peer 2: ``mlflow.pyfunc`` ``.predict`` over pandas chunks of the same array."""
    import mlflow.pyfunc
    import numpy as np
    import pandas as pd

    import prodml

    warm_imports()
    with prodml.connect(Path(cfg["root"]), env="dev") as ws:
        set_uris(ws)
    model = mlflow.pyfunc.load_model(MODEL_URI)
    chunk = cfg["chunk_rows"]
    with TreeRss() as rss:
        x = _features_matrix(cfg["days"], cfg["rows_per_day"])
        frame = pd.DataFrame(x, columns=FEATURES, copy=False)
        t0, c0 = time.perf_counter(), time.process_time()
        labels = [
            np.asarray(model.predict(frame.iloc[s : s + chunk]))
            for s in range(0, len(frame), chunk)
        ]
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    got = np.concatenate(labels)
    want = (np.load(cfg["bare_npy"]) > 0.5).astype(got.dtype)
    if got.shape != want.shape or not np.array_equal(got, want):
        bad = int(np.sum(got != want)) if got.shape == want.shape else got.shape
        raise WrongAnswerError(f"pyfunc labels disagree with predict_proba > 0.5: {bad}")
    return {"wall": wall, "cpu": cpu, "peak": rss.peak, "baseline": rss.baseline}
