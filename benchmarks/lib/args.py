"""The command line every benchmark script shares."""

from __future__ import annotations

import argparse


def bench_arg_parser(description: str, *, children: bool = False) -> argparse.ArgumentParser:
    """An ``argparse`` parser with the flags every benchmark script shares.

    ``--quick`` asks for a smaller run (a script picks what that means), ``--runs N`` and
    ``--warmup N`` override repetition counts (``args.runs`` is None unless given), and
    ``--skip-peers`` measures prodml alone (no peer venv is built). With ``children`` the
    hidden ``--child KIND CONFIG`` runs one measured child instead (see :mod:`lib.children`).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="smaller, faster run (smoke test)")
    parser.add_argument(
        "--runs", type=int, default=None, metavar="N", help="timed repetitions per command"
    )
    parser.add_argument(
        "--warmup", type=int, default=1, metavar="N", help="untimed runs first (default: 1)"
    )
    parser.add_argument(
        "--skip-peers", action="store_true", help="do not build or run the peer tools"
    )
    if children:
        parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    return parser
