"""The inference log's durable mode (issue 13 item 10): rows journaled before the answer,
segments deleted once in the table, what a killed server left replayed exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pytest
from tests.live import free_port
from tests.serving.conftest import CHAMPION_ONLY, configure, log_rows

from prodml.serving.inference_log import Block, QueueWriter, to_table
from prodml.serving.journal import Journal, decode, encode, replay


def _block(request_id: str, n: int = 2) -> Block:
    return Block(
        request_id=request_id,
        time=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        product="clf",
        route="predict",
        variant="champion",
        shadow=False,
        model="dev.ml.clf",
        model_version=3,
        rows=np.arange(n),
        unit_ids=[None] * n,
        inputs={"a": np.arange(n, dtype=np.float64), "s": np.array(["x"] * n, dtype=object)},
        outputs=np.arange(n),
        latency_ms=1.5,
    )


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _as_dead_writers(journal: Journal) -> None:
    """Rename a journal's files as a process that died would have left them."""
    dead = _dead_pid()
    for path in journal.directory.glob(f"{journal.worker}.*"):
        path.rename(path.with_name(f"{dead}-deadbeef{path.name[len(journal.worker) :]}"))


def test_a_block_survives_its_journal_line() -> None:
    block = _block("r1", 3)
    again = decode(encode(block))
    assert to_table([again]).equals(to_table([block]))


def test_segments_go_once_their_rows_are_written(tmp_path: Path) -> None:
    written: list[pa.Table] = []
    journal = Journal(tmp_path)
    writer = QueueWriter(
        written.append,
        flush_rows=1_000,
        flush_seconds=0.05,
        queue_rows=10_000,
        name="t",
        journal=journal,
    )
    assert writer.put([_block("r1")])
    assert sum(len(p.read_bytes().splitlines()) for p in tmp_path.glob("*.log")) == 1
    deadline = time.monotonic() + 10
    while not written and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)
    assert written and not any(p.read_bytes() for p in tmp_path.glob("*.log"))
    assert writer.close() == 0
    assert list(tmp_path.iterdir()) == []  # a graceful stop leaves nothing


def test_item10_what_a_killed_writer_journaled_is_replayed_once(tmp_path: Path) -> None:
    """Issue 13 item 10: rows queued in memory were lost when the server was killed."""
    lost: list[pa.Table] = []
    first = Journal(tmp_path)
    writer = QueueWriter(
        lost.append,
        flush_rows=10**6,
        flush_seconds=3600,
        queue_rows=10**6,
        name="t",
        journal=first,
    )
    for i in range(5):
        assert writer.put([_block(f"r{i}")])
    assert lost == []  # killed before any flush: nothing reached the table
    _as_dead_writers(first)
    # r0 was committed just before the kill (the journal not yet trimmed): not written twice
    written: list[pa.Table] = []
    second = QueueWriter(
        written.append,
        flush_rows=1,
        flush_seconds=0.05,
        queue_rows=10**6,
        name="t",
        journal=Journal(tmp_path),
        logged=lambda blocks: {("r0", "champion")},
    )
    assert second.replayed == 4
    assert second.close() == 0
    ids = sorted(r for t in written for r in t.column("request_id").to_pylist())
    assert ids == ["r1", "r1", "r2", "r2", "r3", "r3", "r4", "r4"]  # 2 rows per request
    assert list(tmp_path.glob("*")) == []


def test_a_live_writers_journal_is_not_claimed_and_a_cut_line_is_dropped(tmp_path: Path) -> None:
    live = Journal(tmp_path)
    live.append([_block("mine")])
    other = Journal(tmp_path)
    assert list(other.claim_leftovers()) == []  # this process is alive: its files are its own
    dead = tmp_path / f"{_dead_pid()}-cafe0000.00000000.log"
    dead.write_bytes(encode(_block("whole")) + encode(_block("cut"))[:-20])
    queued: list[Block] = []
    assert replay(other, queued.extend, None) == 1
    assert [b.request_id for b in queued] == ["whole"] and not dead.exists()


@pytest.mark.slow
def test_item10_sigkill_of_prodml_serve_loses_no_answered_request(
    trained: Path, tmp_path: Path
) -> None:
    configure(trained, CHAMPION_ONLY)
    exe = str(Path(sys.executable).with_name("prodml"))

    def serve() -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        proc = subprocess.Popen(
            [exe, "serve", "--no-auth", "--port", str(port), "--log-level", "warning"],
            cwd=trained,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert proc.poll() is None
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    return proc, url
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("prodml serve did not get ready")

    proc, url = serve()
    answered = set()
    with httpx.Client() as client:
        for _ in range(60):
            r = client.post(f"{url}/v1/products/clf/predict", json={"records": [{"a": 1, "b": 2}]})
            assert r.status_code == 200, r.text
            answered.add(r.json()["request_id"])
    os.kill(proc.pid, signal.SIGKILL)  # before the log's next flush: all in memory, and journaled
    proc.wait()
    again, url = serve()  # replays the journal
    again.send_signal(signal.SIGTERM)
    assert again.wait(60) == 0
    rows = log_rows(trained, answered)
    assert sorted({r["request_id"] for r in rows}) == sorted(answered)
    assert len(rows) == len(answered)  # once each
