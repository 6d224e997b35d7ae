"""Shared pieces of the benchmark harness (standard library only at import time).

Every benchmark script under ``benchmarks/`` has one shape: build its data, run prodml, run the
peer, compare the answers, print one table. The pieces they share live here:

* :mod:`lib.env` - paths (``benchmarks/.work``, ``.venvs``), ``work_dir``, ``command_env``,
  the scratch platform file, ``forbid_network``;
* :mod:`lib.peers` - ``peer_venv`` / ``open_peer``: a peer's own virtualenv, built once from
  ``peers/<group>/requirements.txt``;
* :mod:`lib.args` - ``bench_arg_parser`` (``--quick``, ``--runs``, ``--warmup``,
  ``--skip-peers``);
* :mod:`lib.timing` - ``Stats``, timing commands (round-robin), peak RSS of a command;
* :mod:`lib.memory` - this process's memory (``VmRSS``/``VmHWM``), a process group's RSS, the
  machine's RAM, ``HighWater`` (peak RSS of a block);
* :mod:`lib.children` - running a measured child process with a JSON config and result
  (timeout, memory limit, wrong answers);
* :mod:`lib.server` - servers in their own process group, free ports, a keep-alive HTTP client;
* :mod:`lib.latency` - percentiles and latency summaries;
* :mod:`lib.machine` - the machine line, load averages (and waiting for a quiet machine),
  package versions;
* :mod:`lib.table` - the one Markdown table each script prints, and its number formats;
* :mod:`lib.checks` - ``WrongAnswerError`` and the disagreement report.

The larger scripts keep their own data builders and peer code in ``lib/<script>_*.py``.
Heavy libraries (NumPy, pyarrow, prodml, the peers) are imported inside functions only: a
peer's venv runs these modules too.
"""
