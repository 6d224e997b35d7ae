"""Online lookup: 1 entity x 20 features, in process and over HTTP, against Feast's online reads.

Target (``/work/shared/BENCHMARKS.md``, row "online lookup"): one entity's 20 features with a
p99 latency ≤ 1 ms in process and ≤ 3 ms over HTTP on loopback; the peer, measured in the same
run on the same data, is Feast's online read from its SQLite and Redis online stores.

The data (``lib/online_lookup_data.py``; NumPy ``default_rng`` from a fixed seed; ``make_data``,
untimed, cached under
``benchmarks/.work/online_lookup/data/`` until the parameters change), one Parquet file:
``--entities`` entities (default 100k; ``entity_id`` the odd numbers 1, 3, 5, …, so even ids are
keys that do not exist), each with one row and ~30 % with a second, older row holding other
values (the latest row must win), columns ``entity_id`` (int64), ``event_ts`` (timestamp[us,
UTC], 2024) and 20 features: ``f00`` to ``f11`` doubles (1 % NULL), ``f12`` to ``f17`` int64,
``f18``, ``f19`` strings (``f19`` 1 % NULL).

Setup (untimed; seconds reported):

* prodml (``lib/online_lookup_prodml.py``): a platform in
  ``benchmarks/.work/online_lookup/platform`` with two environments,
  ``sqlite`` (the default online store, ``<state_dir>/online.db``) and ``redis``
  (``online_store.url: redis://127.0.0.1:6379/15``, ``--redis-url``), each with its own catalog.
  One product declares ``features.entity_features`` (keys ``[entity_id]``, timestamp
  ``event_ts``, no TTL) written by a step that reads the Parquet file, an ``endpoint:`` (no
  model needs to be registered: the feature route does not score) with ``reload_seconds:
  3600`` and no inference log. Per environment: ``ws.run(product)``, then
  ``ws.publish_features()``.
* Feast (``lib/online_lookup_feast.py``, in ``benchmarks/.venvs/feast`` from
  ``peers/feast/requirements.txt``): one repo per online
  store under ``benchmarks/.work/online_lookup/feast_<store>`` (``feature_store.yaml``: file
  registry, ``offline_store: duckdb``, ``online_store`` ``type: sqlite`` or ``type: redis`` with
  ``connection_string: 127.0.0.1:6379,db=15``), an ``Entity`` (int64 join key), a ``FeatureView``
  of the 20 features over a ``FileSource`` of the same Parquet file, ``apply``, then
  ``materialize`` over the whole year.

Timed (every call is one entity; keys drawn with a fixed seed from the existing ones, the same
sequence for both tools; ``--lookups`` per measurement per round after ``--warmup-lookups``
untimed calls; ``--runs`` rounds, default 3; percentiles over the pooled samples):

* in process, each tool in its own child process (ABBA order over rounds), keys in blocks of
  500 with the variants round-robin per block:

  * prodml ``ws.online_features("features.entity_features", [{"entity_id": k}])``, and the
    layer below it, ``OnlineFeatures(open_store(...), declared_tables(...), catalog)
    .lookup(FeatureLookup(...), [{...}])`` over its own connection to the environment's online
    store, with the ``FeatureLookup`` built once (also the backend's bare ``store.read`` of the
    encoded key, as a floor, in the detail table);
  * Feast ``store.get_online_features(features=[20 refs], entity_rows=[{"entity_id":
    k}]).to_dict()``.

* over HTTP on loopback (``lib/online_lookup_http.py``), both servers up at once, one worker
  each: ``prodml serve --no-auth --product … --env <store>`` (``POST /v1/features/online``
  with ``{"table": "features.entity_features", "entities": [{"entity_id": k}]}``) and ``feast serve
  --workers 1 --no-access-log --max-requests 0 --registry_ttl_sec 3600`` (``POST
  /get-online-features`` with ``{"features": [20 refs], "entities": {"entity_id": [k]}}``;
  ``--max-requests 0``: without it, gunicorn restarts Feast's worker every ~1000 requests).
  A server is measured once it answers a lookup (prodml: and once its ``GET /ready`` no
  longer says ``loading``: at start it resolves its model in the background, importing MLflow;
  no model is registered here, so it settles on "no champion alias"). This script is the
  client: ``http.client`` keep-alive connections, one request at a time (concurrency 1),
  latency from sending the request to having read the whole body (not decoded); after a
  warm-up (the warm-up keys, for at least 2 s), blocks of 500 requests alternate between the
  two servers (ABBA), each block on a connection opened untimed just before it (a server
  closes a keep-alive connection idle past its timeout, uvicorn's 5 s, which the other
  server's block can exceed on a loaded machine). Then ``GET /health`` on each, as the floor of
  its HTTP stack (detail table).

Checks (exit 3 when one fails): for a sample of 500 existing and 100 absent keys, every path
(prodml ``online_features()``, ``lookup()``, HTTP; Feast in process and HTTP) gives the Parquet
truth — the values of the latest row per key (doubles exactly, NULL as NULL), prodml's statuses
``present`` / ``not_found`` and its event time; and every timed answer of prodml equals Feast's
answer for the same key (a digest of all in-process answers; all HTTP bodies decoded). Feast
returns event times in whole seconds: its event times are compared at that precision.

The machine is shared: the load average is printed at the start and the end, and before
measuring the script waits (up to ``--max-load-wait`` seconds, default 180) for the 1-minute
load average to fall to ``--load-threshold`` (default 1.0). Redis keys (db 15) of both tools
are deleted before the setup and at the end. Every child runs with ``FEAST_USAGE=False`` and the
telemetry switches of ``lib.env``, and refuses non-loopback connections.

Exit status: 0 when the answers agree (even if a target is missed), 3 on a disagreement, 1
when something fails.

    .venv/bin/python benchmarks/online_lookup.py             # 100k entities, 3 x 10k lookups
    .venv/bin/python benchmarks/online_lookup.py --quick     # 20k entities, 1 x 2k lookups
    .venv/bin/python benchmarks/online_lookup.py --profile   # + cProfile of prodml's online()
    .venv/bin/python benchmarks/online_lookup.py --skip-peers --stores sqlite

(``--warmup N`` of the shared flags is not used: the warm-up is ``--warmup-lookups``.)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib.args import bench_arg_parser
from lib.checks import report_problems
from lib.children import child_main, run_child
from lib.env import python_in, work_dir
from lib.machine import loadavg, machine_line, versions_text, wait_for_load
from lib.memory import group_rss_mb
from lib.online_lookup_data import (
    CHECK_ABSENT,
    CHECK_PRESENT,
    CHILD_ENV,
    ENVS,
    FEATURES,
    FLOATS,
    INTS,
    OLD_SHARE,
    SEED,
    STRINGS,
    Truth,
    check_rows,
    load_truth,
    make_data,
)
from lib.online_lookup_feast import (
    child_feast,
    child_feast_setup,
    drop_feast_redis,
    feast_connection_string,
    redis_available,
)
from lib.online_lookup_http import (
    Client,
    HttpRun,
    feast_body,
    http_floor,
    http_round,
    parse_feast,
    parse_prodml,
    prodml_body,
    running,
    server_pair,
    warm_up,
)
from lib.online_lookup_prodml import (
    PROFILE_CALLS,
    build_platform,
    child_prodml,
    drop_prodml_redis,
    publish,
)
from lib.online_lookup_report import BenchReport
from lib.peers import open_peer
from lib.server import ServerFailedError

WARMUP_SECONDS_HTTP = 2.0  # per server, at least (and at least the warm-up keys once)
SCRIPT = Path(__file__)

WORKLOADS = {"prodml": child_prodml, "feast": child_feast, "feast_setup": child_feast_setup}


# --------------------------------------------------------------------------------------------
# the run: build the data -> set up both tools -> prodml and Feast in process, then over HTTP
# -> compare the answers -> the tables (lib/online_lookup_report.py)
# --------------------------------------------------------------------------------------------


@dataclass
class Bench(BenchReport):
    """One run's parameters, paths and results."""

    args: argparse.Namespace
    entities: int
    lookups: int
    warm: int
    rounds: int
    stores: list[str]
    skipped: dict[str, str]
    feast_bin: Path | None
    base: Path
    data: Path = Path()
    truth: Truth | None = None
    check_keys: list[int] = field(default_factory=list)
    keys_per_round: list[list[int]] = field(default_factory=list)
    warmup_keys: list[int] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)  # store -> problems
    failed: dict[str, str] = field(default_factory=dict)
    feast_setup: dict[str, Any] = field(default_factory=dict)
    inproc: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"prodml": [], "feast": []}
    )
    http: dict[str, dict[str, HttpRun]] = field(default_factory=dict)
    floor: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    servers: dict[str, dict[str, tuple[float, float | None]]] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.base / "platform"

    @property
    def tmp(self) -> Path:
        return self.base / "tmp"

    @property
    def repos(self) -> dict[str, str]:
        return {s: str(self.base / f"feast_{s}") for s in self.stores}

    @property
    def feast_python(self) -> Path | None:
        if self.feast_bin is None or "feast" in self.failed:
            return None
        return python_in(self.feast_bin)

    def child(self, python: Path, kind: str, cfg: dict[str, Any]) -> dict[str, Any]:
        """One child (this script's workload ``kind``) with ``python``, in the scratch dir."""
        return run_child(SCRIPT, kind, cfg, python=python, extra_env=CHILD_ENV, cwd=self.tmp)

    def problem(self, store: str, text: str) -> None:
        self.problems.setdefault(store, []).append(text)

    # -- data and setup (untimed) -----------------------------------------------------------

    def make_inputs(self) -> None:
        import numpy as np

        t0 = time.perf_counter()
        self.data = make_data(self.entities)
        rng = np.random.default_rng([SEED, self.entities, 1])
        ids = np.arange(self.entities, dtype=np.int64) * 2 + 1
        absent = rng.choice(self.entities, CHECK_ABSENT, replace=False) * 2 + 2
        self.check_keys = sorted(
            rng.choice(ids, CHECK_PRESENT, replace=False).tolist() + absent.tolist()
        )
        self.truth = load_truth(self.data, self.check_keys)
        self.keys_per_round = [rng.choice(ids, self.lookups).tolist() for _ in range(self.rounds)]
        self.warmup_keys = rng.choice(ids, self.warm).tolist()
        print(
            f"data: {self.entities} entities x {len(FEATURES)} features ({len(FLOATS)} double, "
            f"{len(INTS)} int64, {len(STRINGS)} string), {int(self.entities * (1 + OLD_SHARE))} "
            f"rows, seed {SEED}, {self.data} (ready in {time.perf_counter() - t0:.1f} s); "
            f"{self.rounds} round(s) x {self.lookups} lookups after {self.warm} warm-up lookups; "
            f"stores: {', '.join(self.stores)}",
            flush=True,
        )

    def setup(self) -> None:
        redis_url = self.args.redis_url
        if "redis" in self.stores:
            self.cleanup_redis(quiet=True)
        build_platform(self.root, self.data, redis_url)
        for store in self.stores:
            s = publish(self.root, store)
            print(
                f"prodml setup ({store}): run {s['run']:.1f} s, publish {s['publish']:.1f} s "
                f"({s['keys']} keys from {s['rows']} rows)",
                flush=True,
            )
        python = self.feast_python
        if python is None:
            return
        cfg = {
            "repos": self.repos,
            "data": str(self.data),
            "connection": feast_connection_string(redis_url),
        }
        try:
            self.feast_setup = self.child(python, "feast_setup", cfg)
        except RuntimeError as exc:
            self.failed["feast"] = str(exc)
            print(f"Feast setup failed: {exc}", file=sys.stderr)
            return
        for store, s in self.feast_setup["stores"].items():
            print(
                f"Feast setup ({store}): apply {s['apply']:.1f} s, "
                f"materialize {s['materialize']:.1f} s",
                flush=True,
            )

    def cleanup_redis(self, *, quiet: bool = False) -> None:
        """Delete both tools' keys from the benchmark's Redis db."""
        drop_prodml_redis(self.root)
        n = drop_feast_redis(self.args.redis_url)
        if not quiet:
            print(f"Redis cleanup: prodml's table dropped, {n} Feast keys deleted")

    # -- measurements -----------------------------------------------------------------------

    def in_process(self) -> None:
        common = {"check_keys": self.check_keys, "warmup_keys": self.warmup_keys}
        for r in range(self.rounds):
            for tool in ("prodml", "feast") if r % 2 == 0 else ("feast", "prodml"):
                cfg = {**common, "keys": self.keys_per_round[r]}
                if tool == "prodml":
                    cfg.update(
                        root=str(self.root),
                        stores=self.stores,
                        profile=self.args.profile and r == 0,
                    )
                    self.inproc[tool].append(self.child(Path(sys.executable), tool, cfg))
                    continue
                python = self.feast_python
                if python is None:
                    continue
                cfg["repos"] = self.repos
                try:
                    self.inproc[tool].append(self.child(python, tool, cfg))
                except RuntimeError as exc:
                    self.failed["feast"] = str(exc)
                    print(f"Feast in process failed: {exc}", file=sys.stderr)
            print(f"in process: round {r + 1}/{self.rounds} done (load {loadavg()})", flush=True)

    def over_http(self, store: str) -> None:
        logs = self.base / "logs"
        logs.mkdir(exist_ok=True)
        feast_repo = Path(self.repos[store]) if self.feast_python is not None else None
        with running(server_pair(store, self.root, feast_repo, self.feast_bin, logs)) as servers:
            clients = {
                label: Client(s.port, s.path, prodml_body if label == "prodml" else feast_body)
                for label, s in servers.items()
            }
            try:
                for client in clients.values():  # on the connections used below
                    warm_up(client, self.warmup_keys, WARMUP_SECONDS_HTTP)
                runs = {label: HttpRun() for label in clients}
                for r in range(self.rounds):
                    http_round(clients, self.keys_per_round[r], runs, flip=r % 2 == 1)
                    print(f"HTTP ({store}): round {r + 1}/{self.rounds} done (load {loadavg()})")
                self.floor[store] = http_floor(clients, min(self.lookups, 2000))
                checks = self._http_checks(clients)
            finally:
                for client in clients.values():
                    client.close()
            for label, s in servers.items():
                assert s.proc is not None
                self.servers.setdefault(store, {})[label] = (
                    s.start_seconds,
                    group_rss_mb(s.proc.pid),
                )
        self.http[store] = runs
        assert self.truth is not None
        for label, rows in checks.items():
            for p in check_rows(f"{label} HTTP", rows, self.truth, prodml=label == "prodml"):
                self.problem(store, p)

    def _http_checks(self, clients: dict[str, Client]) -> dict[str, list[Any]]:
        """The check keys through each server (after the timed requests)."""
        checks: dict[str, list[Any]] = {label: [] for label in clients}
        for client in clients.values():
            client.reconnect()
        for k in self.check_keys:
            for label, client in clients.items():
                status, body = client.post(client.make_body(k))
                if status != 200:
                    checks[label].append([k, [f"HTTP {status}"] * len(FEATURES), [], None])
                elif label == "prodml":
                    values, statuses, event = parse_prodml(body)
                    checks[label].append([k, list(values), statuses, event])
                else:
                    checks[label].append([k, list(parse_feast(body)), [], None])
        return checks

    # -- answers ----------------------------------------------------------------------------

    def check_answers(self) -> None:
        assert self.truth is not None
        for store in self.stores:
            for res in self.inproc["prodml"]:
                s = res["stores"][store]
                for name, rows in s["checks"].items():
                    for p in check_rows(f"prodml {name}()", rows, self.truth, prodml=True):
                        self.problem(store, p)
                for name, n in s["not_present"].items():
                    if n:
                        self.problem(store, f"prodml {name}(): {n} timed lookups not present")
                if s["read_missing"]:
                    self.problem(store, f"prodml store.read: {s['read_missing']} keys missing")
                if s["digest"]["online"] != s["digest"]["lookup"]:
                    self.problem(store, "prodml online() and lookup() answers differ")
            for res in self.inproc["feast"]:
                if res["stores"][store]["none_rows"]:
                    n = res["stores"][store]["none_rows"]
                    self.problem(store, f"Feast in process: {n} timed lookups found nothing")
                rows = res["stores"][store]["checks"]["feast"]
                for p in check_rows("Feast in process", rows, self.truth, prodml=False):
                    self.problem(store, p)
            pairs = zip(self.inproc["prodml"], self.inproc["feast"], strict=False)
            for r, (mine, peer) in enumerate(pairs):
                a = mine["stores"][store]["digest"]["online"]
                b = peer["stores"][store]["digest"]["feast"]
                if a != b:
                    self.problem(
                        store,
                        f"in process, round {r + 1}: the answers to the {self.lookups} timed "
                        f"lookups differ between prodml and Feast (digest {a} vs {b})",
                    )
            self._check_http_bodies(store)

    def _check_http_bodies(self, store: str) -> None:
        runs = self.http.get(store, {})
        for label, run in runs.items():
            if run.bad_status:
                self.problem(store, f"{label} HTTP: {run.bad_status} non-200 answers")
        if "prodml" not in runs:
            return
        mine = [parse_prodml(b) for b in runs["prodml"].bodies]
        not_present = sum(1 for m in mine if m[1] != ["present"])
        if not_present:
            self.problem(store, f"prodml HTTP: {not_present} timed answers not present")
        if "feast" in runs:
            peer = [parse_feast(b) for b in runs["feast"].bodies]
            keys = runs["prodml"].keys
            if keys != runs["feast"].keys:
                self.problem(store, "HTTP: the two servers were not sent the same keys")
            differ = [k for k, m, p in zip(keys, mine, peer, strict=True) if m[0] != p]
            if differ:
                self.problem(
                    store,
                    f"HTTP: {len(differ)} of {len(mine)} timed answers differ between prodml "
                    f"and Feast (keys {differ[:5]})",
                )
        for run in runs.values():
            run.bodies.clear()

    # -- report -----------------------------------------------------------------------------


def main() -> int:
    parser = bench_arg_parser(__doc__.splitlines()[0], children=True)
    parser.add_argument("--entities", type=int, default=None, help="default 100k (--quick 20k)")
    parser.add_argument(
        "--lookups",
        type=int,
        default=None,
        help="timed lookups per measurement and round (default 10k, --quick 2k)",
    )
    parser.add_argument(
        "--warmup-lookups", type=int, default=None, metavar="N", help="default 1000 (--quick 200)"
    )
    parser.add_argument(
        "--stores", default="sqlite,redis", help="comma-separated: sqlite, redis (default both)"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--skip-http", action="store_true", help="in-process measurements only")
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of prodml's online() calls"
    )
    parser.add_argument(
        "--load-threshold",
        type=float,
        default=1.0,
        help="wait before measuring while the 1-min load average is above this (default 1.0)",
    )
    parser.add_argument(
        "--max-load-wait",
        type=float,
        default=None,
        metavar="S",
        help="wait at most S seconds for the load (default 180, --quick 30; 0: never wait)",
    )
    args = parser.parse_args()
    if args.child:
        return child_main(WORKLOADS, *args.child, network="online_lookup")

    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    if not stores or set(stores) - set(ENVS):
        parser.error(f"--stores: sqlite and/or redis (got {args.stores!r})")
    max_wait = args.max_load_wait if args.max_load_wait is not None else (30 if args.quick else 180)
    print(machine_line())
    print(f"load average at start: {loadavg()}", flush=True)
    t_start = time.perf_counter()
    skipped: dict[str, str] = {}
    if "redis" in stores:
        why = redis_available(args.redis_url)
        if why:
            skipped["redis"] = why
            stores.remove("redis")
            print(f"warning: no Redis rows: {why}")
    if not stores:
        return 1
    feast_bin, peer_note = open_peer("feast", skip=args.skip_peers)

    bench = Bench(
        args=args,
        entities=args.entities or (20_000 if args.quick else 100_000),
        lookups=args.lookups or (2_000 if args.quick else 10_000),
        warm=args.warmup_lookups or (200 if args.quick else 1_000),
        rounds=args.runs or (1 if args.quick else 3),
        stores=stores,
        skipped=skipped,
        feast_bin=feast_bin,
        base=work_dir("online_lookup"),
    )
    shutil.rmtree(bench.tmp, ignore_errors=True)
    bench.tmp.mkdir()
    bench.make_inputs()
    try:
        bench.setup()
        load_note = wait_for_load(args.load_threshold, max_wait)
        print(load_note, flush=True)
        bench.in_process()
        if not args.skip_http:
            for store in stores:
                bench.over_http(store)
    except (RuntimeError, ServerFailedError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if "redis" in stores:
            try:
                bench.cleanup_redis()
            except Exception as exc:
                print(f"warning: Redis cleanup failed: {exc}", file=sys.stderr)

    bench.check_answers()
    bench.report()
    if bench.inproc["prodml"]:
        versions = bench.inproc["prodml"][0]["versions"]
        print(f"prodml venv: {versions_text(versions)}")
    if bench.feast_setup:
        versions = bench.feast_setup["versions"]
        print(f"peer venv: {versions_text(versions)}")
    elif peer_note:
        print(f"peer: {peer_note}")
    for tool, why in bench.failed.items():
        print(f"{tool} failed: {why.splitlines()[0]}")
    for store, why in skipped.items():
        print(f"{store}: skipped ({why})")
    for store, info in bench.servers.items():
        ready = ", ".join(f"{label} ready in {start:.1f} s" for label, (start, _) in info.items())
        print(f"servers ({store}): {ready}")
    print(
        "timed: each call, from the request to the answer as Python objects (in process: "
        "prodml's Lookup objects / Feast's to_dict()) or to the whole HTTP body read (not "
        "decoded); not timed: data generation, prodml run + publish, Feast apply + materialize, "
        f"server start, {bench.warm} warm-up lookups per measurement"
    )
    print(load_note)
    if args.profile and bench.inproc["prodml"]:
        calls = min(PROFILE_CALLS, bench.lookups)
        for store in stores:
            prof = bench.inproc["prodml"][0]["stores"][store].get("profile")
            if prof:
                print(f"\ncProfile of {calls} prodml ws.online_features() calls ({store}):")
                print(prof)
    print(f"load average at end: {loadavg()}; total {time.perf_counter() - t_start:.0f} s")
    return report_problems([f"{store}: {p}" for store, ps in bench.problems.items() for p in ps])


if __name__ == "__main__":
    sys.exit(main())
