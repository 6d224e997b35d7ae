"""Pipeline overhead: a 10-step no-op pipeline, then the same run again fully cached.

Target (``/work/shared/BENCHMARKS.md``, row "pipeline overhead"): first run ≤ 3 s wall
including the interpreter; the fully cached re-run ≤ 1.5 s; ≤ 50 ms framework overhead per step.
There is no peer: the figures are absolute, measured as a new user sees them.

What is measured (medians over ``--runs`` rounds, the commands of one round interleaved so
machine drift hits them alike):

* ``prodml run noop --project DIR`` as a subprocess (interpreter start included) on a freshly
  generated platform (first run: all 10 steps execute) and again on the same platform (cached:
  all 10 steps skipped). Every sample's first run gets a new platform directory.
* the start-up floor ``python -c "import prodml.workspace"`` (what the brief subtracts) and,
  for information, ``python -c "import prodml.pipeline.runner"`` (the floor with the heavy
  libraries a run needs: pyarrow, duckdb, deltalake, sqlalchemy).
* per-step framework overhead = (first-run wall - floor) / 10.
* in process, via the Python API (``connect`` + ``ws.run`` + ``close``, imports already warm),
  first and cached runs.

Every run is checked: first runs must have 10 succeeded steps, cached runs 10 skipped steps,
and the last table must hold the one row the first step wrote. Exit status is non-zero only on
errors or wrong answers, never on a missed target.

    .venv/bin/python benchmarks/pipeline_overhead.py [--quick] [--runs N] [--profile]
"""

from __future__ import annotations

import shutil
import statistics
import sys
import time
from pathlib import Path

from lib.args import bench_arg_parser
from lib.checks import EXIT_DISAGREEMENT, WrongAnswerError
from lib.env import PRODML_YAML, command_env, prodml_bin, work_dir
from lib.machine import machine_line
from lib.table import fmt_mb, print_table
from lib.timing import CommandFailedError, peak_rss_mb_of_command, time_once

N_STEPS = 10
PRODUCT = "noop"

TARGET_FIRST = 3.0
TARGET_CACHED = 1.5
TARGET_PER_STEP = 0.050


PRODUCT_YAML = f"""\
name: {PRODUCT}
description: A chain of {N_STEPS} no-op steps (pipeline overhead benchmark).
owners: [{{name: bench, role: accountable}}]
"""


def table_of(i: int) -> str:
    return f"silver.s{i:02d}"


def pipeline_source(n_steps: int = N_STEPS) -> str:
    """Step 1 returns a 1-row Arrow table; step i returns step i-1's table unchanged."""
    lines = [
        f'"""{n_steps} no-op steps."""',
        "",
        "import pyarrow as pa",
        "",
        "from prodml import step",
        "",
        "",
        f'@step(stage="ingress", outputs="{table_of(1)}")',
        "def s01(ctx):",
        '    return pa.table({"x": [1]})',
    ]
    for i in range(2, n_steps + 1):
        lines += [
            "",
            "",
            f'@step(stage="features", inputs=["{table_of(i - 1)}"], outputs="{table_of(i)}")',
            f"def s{i:02d}(ctx, prev):",
            "    return prev",
        ]
    return "\n".join(lines) + "\n"


def make_platform(parent: Path, name: str) -> Path:
    root = parent / name
    if root.exists():
        shutil.rmtree(root)
    product = root / "products" / PRODUCT
    product.mkdir(parents=True)
    (root / "prodml.yaml").write_text(PRODML_YAML)
    (product / "product.yaml").write_text(PRODUCT_YAML)
    (product / "pipeline.py").write_text(pipeline_source())
    return root


# --------------------------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------------------------


def check_steps(steps: list[dict], expected: str, where: str) -> None:
    statuses = [s.get("status") for s in steps]
    if len(statuses) != N_STEPS or any(s != expected for s in statuses):
        raise WrongAnswerError(
            f"{where}: expected {N_STEPS} steps {expected!r}, got {statuses} "
            f"(reasons: {[s.get('reason') for s in steps]})"
        )


def check_platform_runs(root: Path, expected: list[str], where: str) -> None:
    """Check the recorded runs of a platform driven by the CLI (oldest first) and its output."""
    import prodml

    ws = prodml.connect(root, env="dev")
    try:
        runs = list(reversed(ws.runs(PRODUCT)))
        if len(runs) != len(expected):
            raise WrongAnswerError(f"{where}: expected {len(expected)} runs, found {len(runs)}")
        for run, status in zip(runs, expected, strict=True):
            if run["status"] != "succeeded":
                raise WrongAnswerError(f"{where}: run {run['run_id']} is {run['status']}")
            check_steps(ws.run_info(run["run_id"])["steps"], status, f"{where} {run['run_id']}")
        check_output(ws, where)
    finally:
        ws.close()


def check_output(ws: object, where: str) -> None:
    last = ws.read(table_of(N_STEPS))  # type: ignore[attr-defined]
    if last.to_pydict() != {"x": [1]}:
        raise WrongAnswerError(f"{where}: {table_of(N_STEPS)} holds {last.to_pydict()}")


# --------------------------------------------------------------------------------------------
# timing
# --------------------------------------------------------------------------------------------


def run_timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    """Wall seconds of one run (stdout discarded; raises ``CommandFailedError`` on failure)."""
    return time_once(argv, env=env, cwd=cwd)


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def in_process(scratch: Path, runs: int) -> tuple[list[float], list[float]]:
    """connect + ws.run + close, first and cached, on fresh platforms (after a warm-up)."""
    import prodml

    firsts: list[float] = []
    cached: list[float] = []
    for i in range(runs + 1):  # round 0 warms imports and is not recorded
        root = make_platform(scratch, f"inproc-{i}")
        samples = []
        for expected in ("succeeded", "skipped"):
            t0 = time.perf_counter()
            ws = prodml.connect(root, env="dev")
            result = ws.run(PRODUCT)
            ws.close()
            samples.append(time.perf_counter() - t0)
            check_steps(result.steps, expected, f"in-process round {i}")
        if i:
            firsts.append(samples[0])
            cached.append(samples[1])
    with prodml.connect(root, env="dev") as ws:
        check_output(ws, "in-process")
    return firsts, cached


def profile_first_run(scratch: Path) -> None:
    """cProfile one in-process first run and print the top cumulative entries."""
    import cProfile
    import pstats

    import prodml

    root = make_platform(scratch, "profile")
    prof = cProfile.Profile()
    prof.enable()
    with prodml.connect(root, env="dev") as ws:
        ws.run(PRODUCT)
    prof.disable()
    print("\n### cProfile of one in-process first run (top 25 by cumulative time)\n")
    pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


def main() -> int:
    parser = bench_arg_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile one in-process first run"
    )
    args = parser.parse_args()
    runs = args.runs or (3 if args.quick else 5)
    scratch = work_dir("pipeline_overhead", clean=True)
    prodml = prodml_bin()
    python = sys.executable
    env = command_env(Path(python).parent)

    print(machine_line(ram=False))
    print(f"prodml: {prodml} | runs per command: {runs} (+{args.warmup} warm-up)")

    floor_ws = [python, "-c", "import prodml.workspace"]
    floor_run = [python, "-c", "import prodml.pipeline.runner"]
    floor_py = [python, "-c", "pass"]

    def run_cmd(root: Path) -> list[str]:
        return [str(prodml), "run", PRODUCT, "--project", str(root)]

    samples: dict[str, list[float]] = {k: [] for k in ("first", "cached", "ws", "runner", "py")}
    try:
        for i in range(args.warmup + runs):
            root = make_platform(scratch, f"cli-{i}")
            first = run_timed(run_cmd(root), env, scratch)
            cached = run_timed(run_cmd(root), env, scratch)
            ws = run_timed(floor_ws, env, scratch)
            runner = run_timed(floor_run, env, scratch)
            py = run_timed(floor_py, env, scratch)
            check_platform_runs(root, ["succeeded", "skipped"], f"CLI sample {i}")
            if i >= args.warmup:
                for key, value in zip(samples, (first, cached, ws, runner, py), strict=True):
                    samples[key].append(value)
        rss_root = make_platform(scratch, "rss")
        rss_first = peak_rss_mb_of_command(run_cmd(rss_root), env=env, cwd=scratch)
        rss_cached = peak_rss_mb_of_command(run_cmd(rss_root), env=env, cwd=scratch)
        check_platform_runs(rss_root, ["succeeded", "skipped"], "RSS sample")
        ip_first, ip_cached = in_process(scratch, runs)
    except CommandFailedError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    except WrongAnswerError as exc:
        print(f"WRONG ANSWER: {exc}", file=sys.stderr)
        return EXIT_DISAGREEMENT

    med = {k: median(v) for k, v in samples.items()}
    per_step = (med["first"] - med["ws"]) / N_STEPS
    per_step_runner = (med["first"] - med["runner"]) / N_STEPS
    ip_first_med, ip_cached_med = median(ip_first), median(ip_cached)

    def met(value: float, target: float) -> str:
        return "yes" if value <= target else "NO"

    def ms(x: float) -> str:
        return f"{x * 1000:.1f} ms"

    rows: list[list[object]] = [
        [
            "CLI first run (10 steps execute)",
            f"{med['first']:.3f} s",
            f"≤ {TARGET_FIRST:g} s",
            met(med["first"], TARGET_FIRST),
            fmt_mb(rss_first),
        ],
        [
            "CLI cached re-run (10 steps skipped)",
            f"{med['cached']:.3f} s",
            f"≤ {TARGET_CACHED:g} s",
            met(med["cached"], TARGET_CACHED),
            fmt_mb(rss_cached),
        ],
        [
            "CLI first run - `import prodml.workspace`, / 10 (incl. one-off imports of "
            "pyarrow, deltalake, duckdb, SQLAlchemy)",
            ms(per_step),
            "(info)",
            "—",
            "—",
        ],
        [
            "per-step overhead: (first - `import prodml.pipeline.runner`) / 10",
            ms(per_step_runner),
            "(info)",
            "—",
            "—",
        ],
        [
            "framework overhead per step: in-process first run (connect + ws.run + close) / 10",
            f"{ip_first_med:.3f} s = {ms(ip_first_med / N_STEPS)}/step",
            f"≤ {TARGET_PER_STEP * 1000:g} ms/step",
            met(ip_first_med / N_STEPS, TARGET_PER_STEP),
            "—",
        ],
        [
            "in-process cached re-run / 10 steps",
            f"{ip_cached_med:.3f} s = {ms(ip_cached_med / N_STEPS)}/step",
            "(info)",
            "—",
            "—",
        ],
        ["floor: `python -c pass`", f"{med['py']:.3f} s", "(info)", "—", "—"],
        ["floor: `python -c 'import prodml.workspace'`", f"{med['ws']:.3f} s", "(info)", "—", "—"],
        [
            "floor: `python -c 'import prodml.pipeline.runner'`",
            f"{med['runner']:.3f} s",
            "(info)",
            "—",
            "—",
        ],
    ]
    print_table(
        f"pipeline overhead: {N_STEPS}-step no-op pipeline (median of {runs})",
        ["workload", "prodml", "target", "met?", "peak RSS MB"],
        rows,
    )
    print(
        "Peak RSS: GNU /usr/bin/time (or a fork/exec/wait4 wrapper) around one extra run; "
        "RUSAGE_CHILDREN would report this script's own high-water mark."
    )
    print(
        "samples (s): "
        + "; ".join(f"{k}=" + ",".join(f"{x:.3f}" for x in v) for k, v in samples.items())
        + "; in-process first="
        + ",".join(f"{x:.3f}" for x in ip_first)
        + "; in-process cached="
        + ",".join(f"{x:.3f}" for x in ip_cached)
    )
    if args.profile:
        profile_first_run(scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
