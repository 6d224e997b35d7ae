"""Sticky assignment: deterministic, proportional, stable across processes."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from prodml.abtest.assign import Assigner, bucket


def test_split_follows_the_weights_within_two_percent_over_10k_units() -> None:
    assigner = Assigner({"champion": 0.7, "challenger": 0.2, "other": 0.1}, salt="churn")
    counts = Counter(assigner.assign(f"customer-{i}") for i in range(10_000))
    for name, share in (("champion", 0.7), ("challenger", 0.2), ("other", 0.1)):
        assert counts[name] / 10_000 == pytest.approx(share, abs=0.02)


def test_same_unit_same_variant_and_salt_reshuffles() -> None:
    a = Assigner({"x": 1, "y": 1}, salt="s1")
    assert {a.assign("u42") for _ in range(50)} == {a.assign("u42")}
    b = Assigner({"x": 1, "y": 1}, salt="s2")
    moved = sum(a.assign(f"u{i}") != b.assign(f"u{i}") for i in range(2000))
    assert 800 < moved < 1200  # another salt is an independent split


def test_zero_weight_variants_get_nothing_and_no_traffic_is_an_error() -> None:
    a = Assigner({"x": 1.0, "y": 0.0}, salt="s")
    assert {a.assign(str(i)) for i in range(500)} == {"x"}
    with pytest.raises(ValueError, match="weight above 0"):
        Assigner({"x": 0.0}, salt="s")


def test_the_hash_is_the_same_in_another_process() -> None:
    code = "from prodml.abtest.assign import bucket; print(repr(bucket('u1', 'salt')))"
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert float(other) == bucket("u1", "salt")
