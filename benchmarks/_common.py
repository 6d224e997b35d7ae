"""The benchmark harness's former single module: a re-export of :mod:`lib` (kept so older
scripts and notes that import ``_common`` still work; new code imports from ``lib.*``)."""

from __future__ import annotations

from lib.args import bench_arg_parser
from lib.env import (
    BENCH_DIR,
    PRODML_YAML,
    REPO_ROOT,
    VENVS_DIR,
    WORK_DIR,
    bin_dir_of,
    command_env,
    forbid_network,
    prodml_bin,
    work_dir,
)
from lib.memory import mem_total_gb, peak_mb, status_mb
from lib.peers import PeerUnavailableError, peer_venv
from lib.server import ServerFailedError, ServerProcess, free_port
from lib.table import fmt_mb, fmt_seconds, print_table, ratio
from lib.timing import (
    CommandFailedError,
    Stats,
    peak_rss_mb_of_command,
    time_command,
    time_commands_interleaved,
)

__all__ = [
    "BENCH_DIR",
    "PRODML_YAML",
    "REPO_ROOT",
    "VENVS_DIR",
    "WORK_DIR",
    "CommandFailedError",
    "PeerUnavailableError",
    "ServerFailedError",
    "ServerProcess",
    "Stats",
    "bench_arg_parser",
    "bin_dir_of",
    "command_env",
    "fmt_mb",
    "fmt_seconds",
    "forbid_network",
    "free_port",
    "mem_total_gb",
    "peak_mb",
    "peak_rss_mb_of_command",
    "peer_venv",
    "print_table",
    "prodml_bin",
    "ratio",
    "status_mb",
    "time_command",
    "time_commands_interleaved",
    "work_dir",
]
