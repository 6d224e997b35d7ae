"""CLI start benchmark: ``prodml --help`` against ``mlflow --help`` and ``kedro --help``.

Target (shared/BENCHMARKS.md): ``prodml --help`` in at most 0.3 s, and faster than both peers,
measured side by side in one run. ``python -c pass`` in each venv is printed as the interpreter
floor. All commands run interleaved (round-robin) after warm-up, from an empty scratch
directory, with telemetry disabled for every tool alike.

prodml is the ``prodml`` entry point next to the Python running this script; the peers come
from their own venv ``benchmarks/.venvs/cli`` (built once from ``peers/cli/requirements.txt``).

The script also checks that ``prodml --help`` imports none of the heavy libraries (pandas,
pyarrow, duckdb, deltalake, mlflow, sqlalchemy, numpy, ...), and lists the slowest imports it
does make (``-X importtime``).

It reports, it does not assert: exit code 0 even when a target is missed; 1 when a timed
command fails; 2 when the prodml CLI is missing. A peer that cannot be installed is reported
as unavailable.

    python benchmarks/cli_start.py            # 15 timed runs per command
    python benchmarks/cli_start.py --quick    # 5 runs
    python benchmarks/cli_start.py --prodml-cmd "python -c 'import json'"   # harness stand-in
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from lib.args import bench_arg_parser
from lib.env import command_env, prodml_bin, python_in, work_dir
from lib.peers import open_peer
from lib.table import fmt_mb, fmt_seconds, print_table, ratio
from lib.timing import CommandFailedError, Stats, time_commands_interleaved

TARGET_SECONDS = 0.3
PEERS = ("mlflow", "kedro")
HEAVY_MODULES = (
    "pandas",
    "pyarrow",
    "duckdb",
    "deltalake",
    "mlflow",
    "sqlalchemy",
    "numpy",
    # the rest of pyproject's banned-module-level-imports list
    "polars",
    "sklearn",
    "torch",
    "alembic",
    "psutil",
)

# Runs `prodml --help` in-process the way the console script does, then reports which modules
# the CLI imported (modules the probe itself needed are excluded). argv[1]: JSON output path.
_IMPORT_PROBE = """
import contextlib, io, json, sys
from importlib.metadata import entry_points

eps = list(entry_points(group="console_scripts", name="prodml"))
target = eps[0].value if eps else "prodml.cli.main:main"
module, _, attr = target.partition(":")
before = set(sys.modules)  # after the probe's own imports, before any of prodml's
# __import__, not importlib.import_module: only the former is logged by -X importtime.
__import__(module)
main = sys.modules[module]
for part in attr.strip().split("."):
    main = getattr(main, part)
out_path = sys.argv[1]
sys.argv = ["prodml", "--help"]
code = 0
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        rc = main()
        code = rc if isinstance(rc, int) else 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
new = sorted(set(sys.modules) - before)
with open(out_path, "w") as fh:
    json.dump({"exit_code": code, "new_modules": new, "all_modules": sorted(sys.modules)}, fh)
"""


def _smoke(label: str, argv: list[str], env: dict[str, str], cwd: Path) -> None:
    """Run once with output captured: fail loudly on error, warn if no usage text appears."""
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise CommandFailedError(argv, proc.returncode, tail)
    if "usage" not in (proc.stdout + proc.stderr).lower():
        print(f"warning: `{label}` printed no usage text; is it really the help screen?")


def _import_check(cwd: Path) -> tuple[int, list[str], list[tuple[str, int]]]:
    """Return (exit code of `prodml --help`, heavy modules imported, top imports by time)."""
    out = cwd / "import_probe.json"
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", _IMPORT_PROBE, str(out)],
        capture_output=True,
        text=True,
        env=command_env(Path(sys.executable).parent),
        cwd=cwd,
        check=False,
    )
    if proc.returncode != 0 or not out.is_file():
        errors = [ln for ln in proc.stderr.splitlines() if not ln.startswith("import time:")]
        raise CommandFailedError(
            ["python", "-X", "importtime", "<probe: prodml --help>"],
            proc.returncode,
            "\n".join(errors[-15:]),
        )
    result = json.loads(out.read_text())
    new_modules = set(result["new_modules"])
    # Heavy modules are looked for in everything loaded (the probe's own imports included).
    heavy = sorted({m.split(".")[0] for m in result["all_modules"]} & set(HEAVY_MODULES))

    # `import time: <self us> | <cumulative us> | <indent><name>`, children before parents.
    # Listed at any depth, prodml's modules one by one and other packages by their root, so a
    # slow chain reads prodml.x -> prodml.y -> pandas.
    cumulative: dict[str, int] = {}
    for line in proc.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if not line.startswith("import time:") or len(parts) != 3:
            continue
        name = parts[2].strip()
        if name not in new_modules or not parts[1].strip().isdigit():
            continue  # the header line, or the probe's own imports
        key = name if name.split(".")[0] == "prodml" else name.split(".")[0]
        cumulative[key] = max(cumulative.get(key, 0), int(parts[1]))
    slowest = sorted(cumulative.items(), key=lambda kv: kv[1], reverse=True)[:8]
    return int(result["exit_code"]), heavy, slowest


def main() -> int:
    parser = bench_arg_parser(__doc__.splitlines()[0] if __doc__ else "CLI start benchmark")
    parser.add_argument(
        "--prodml-cmd",
        default=None,
        metavar="CMD",
        help="time this command instead of `prodml --help` (a stand-in to test the harness; "
        "the import check is then skipped)",
    )
    args = parser.parse_args()
    runs = args.runs or (5 if args.quick else 15)
    cwd = work_dir("cli_start")
    prodml_python = sys.executable
    prodml_env = command_env(Path(prodml_python).parent)

    stand_in = args.prodml_cmd is not None
    if stand_in:
        prodml_argv = shlex.split(args.prodml_cmd)
        if prodml_argv and os.sep in prodml_argv[0]:  # commands run from a scratch directory
            prodml_argv[0] = os.path.abspath(prodml_argv[0])
        prodml_label = f"stand-in `{args.prodml_cmd}`"
    else:
        exe = prodml_bin()
        if not exe.exists():
            print(
                f"error: no prodml entry point at {exe}; install prodml into this venv "
                "(pip install -e .) or pass --prodml-cmd to test the harness"
            )
            return 2
        prodml_argv = [str(exe), "--help"]
        prodml_label = "`prodml --help`"

    commands: dict[str, list[str]] = {
        "prodml floor": [prodml_python, "-c", "pass"],
        "prodml": prodml_argv,
    }
    envs: dict[str, dict[str, str]] = {"prodml floor": prodml_env, "prodml": prodml_env}

    peer_bin, peer_note = open_peer("cli", skip=args.skip_peers, what="peers")
    if peer_bin is not None:
        peer_env = command_env(peer_bin)
        commands["peer floor"] = [str(python_in(peer_bin)), "-c", "pass"]
        envs["peer floor"] = peer_env
        for peer in PEERS:
            commands[peer] = [str(peer_bin / peer), "--help"]
            envs[peer] = peer_env

    print(f"timing {len(commands)} commands round-robin: {args.warmup} warm-up + {runs} runs each")
    try:
        for label, argv in commands.items():
            if "floor" in label or (label == "prodml" and stand_in):
                continue
            _smoke(label, argv, envs[label], cwd)
        stats = time_commands_interleaved(
            commands, runs=runs, warmup=args.warmup, envs=envs, cwd=cwd
        )
    except CommandFailedError as exc:
        print(f"error: {exc}")
        return 1

    prodml = stats["prodml"]
    rows: list[list[object]] = []

    def row(
        workload: str, mine: Stats, peer: str, theirs: Stats | None, target: str, met: str
    ) -> None:
        rows.append(
            [
                workload,
                fmt_seconds(mine.median),
                peer,
                fmt_seconds(theirs.median if theirs else None),
                ratio(theirs.median if theirs else None, mine.median),
                fmt_mb(mine.peak_rss_mb),
                fmt_mb(theirs.peak_rss_mb if theirs else None),
                target,
                met,
            ]
        )

    peer_floor = stats.get("peer floor")
    row(
        "`python -c pass` (interpreter floor)",
        stats["prodml floor"],
        "`python -c pass` (peer venv)" if peer_floor else "—",
        peer_floor,
        "—",
        "—",
    )
    target = f"≤ {TARGET_SECONDS} s; faster than peer"
    for peer in PEERS:
        theirs = stats.get(peer)
        if theirs is None:
            row(
                prodml_label,
                prodml,
                f"`{peer} --help` (unavailable)",
                None,
                target,
                f"≤ {TARGET_SECONDS} s: {'yes' if prodml.median <= TARGET_SECONDS else 'no'}; "
                "peer n/a",
            )
            continue
        met = prodml.median <= TARGET_SECONDS and prodml.median < theirs.median
        row(prodml_label, prodml, f"`{peer} --help`", theirs, target, "yes" if met else "no")

    print_table(
        f"CLI start — median of {runs} runs (wall s), interleaved after {args.warmup} warm-up",
        [
            "workload",
            "prodml median s",
            "peer",
            "peer median s",
            "ratio (peer/prodml)",
            "prodml peak RSS MB",
            "peer peak RSS MB",
            "target",
            "met",
        ],
        rows,
    )
    if peer_note:
        print(f"note: {peer_note}")

    floor = stats["prodml floor"].median
    available = [stats[p] for p in PEERS if p in stats]
    print(
        f"prodml: min {fmt_seconds(prodml.min)} / median {fmt_seconds(prodml.median)} / "
        f"p90 {fmt_seconds(prodml.p90)} s; {fmt_seconds(prodml.median - floor)} s above the "
        "interpreter floor"
    )
    for peer in PEERS:
        if peer in stats:
            s = stats[peer]
            print(
                f"{peer}: min {fmt_seconds(s.min)} / median {fmt_seconds(s.median)} / "
                f"p90 {fmt_seconds(s.p90)} s"
            )
    print(f"target ≤ {TARGET_SECONDS} s: {'MET' if prodml.median <= TARGET_SECONDS else 'MISSED'}")
    if len(available) == len(PEERS):
        faster = all(prodml.median < s.median for s in available)
        print(f"faster than both peers: {'MET' if faster else 'MISSED'}")
    else:
        print(f"faster than both peers: not measured; {peer_note.splitlines()[0]}")

    print()
    if stand_in:
        print("import check: skipped (prodml replaced by a stand-in command)")
        return 0
    try:
        code, heavy, slowest = _import_check(cwd)
    except CommandFailedError as exc:
        print(f"error: import check failed: {exc}")
        return 1
    if code != 0:
        print(f"error: `prodml --help` exited with {code} in the import check")
        return 1
    print("heavy modules imported by `prodml --help`: " + (", ".join(heavy) if heavy else "none"))
    if slowest:
        print("slowest imports of `prodml --help` (cumulative, -X importtime):")
        for name, us in slowest:
            print(f"  {us / 1000:8.1f} ms  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
