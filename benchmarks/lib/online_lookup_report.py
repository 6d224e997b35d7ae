"""The online lookup benchmark's tables: per store and mode prodml's p50/p99 against Feast's
(with the target), and the details (every path, the HTTP floor, RSS)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from lib.latency import Lat, p99_ms
from lib.online_lookup_data import FEATURES
from lib.online_lookup_http import HttpRun
from lib.table import fmt_mb, print_table

TARGET_MS = {"in process": 1.0, "HTTP": 3.0}


class BenchReport:
    """The report of a run (mixed into the run's ``Bench``)."""

    args: argparse.Namespace
    entities: int
    lookups: int
    rounds: int
    stores: list[str]
    skipped: dict[str, str]
    problems: dict[str, list[str]]
    inproc: dict[str, list[dict[str, Any]]]
    http: dict[str, dict[str, HttpRun]]
    floor: dict[str, dict[str, list[int]]]
    servers: dict[str, dict[str, tuple[float, float | None]]]

    def pooled(self, tool: str, store: str, variant: str) -> Lat | None:
        samples: list[int] = []
        per_round = []
        for res in self.inproc[tool]:
            lat = res["stores"][store]["lat"][variant]
            samples += lat
            per_round.append(p99_ms(lat))
        return Lat.of(samples, per_round) if samples else None

    def http_lat(self, tool: str, store: str) -> Lat | None:
        run = self.http.get(store, {}).get(tool)
        return Lat.of(run.lat, run.rounds_p99) if run and run.lat else None

    def report(self) -> None:
        table, details = [], []
        for store in [*self.stores, *self.skipped]:
            if store in self.skipped:
                row = [store, "—", "—", "—", "—", "—", "n/a", "—", "—", "skipped"]
                table.append(row)
                continue
            ok = "NO" if self.problems.get(store) else "yes"
            for kind, label, mine, peer in self._main_rows(store):
                target = TARGET_MS[kind]
                met = (
                    "—" if mine is None else ("yes" if mine.p99 <= target and ok == "yes" else "NO")
                )
                table.append(
                    [
                        store,
                        label,
                        _ms(mine.p50 if mine else None),
                        _ms(mine.p99 if mine else None),
                        _ms(peer.p50 if peer else None),
                        _ms(peer.p99 if peer else None),
                        _ratio_p99(mine, peer),
                        ok,
                        f"p99 ≤ {target:g} ms",
                        met,
                    ]
                )
            details += self._detail_rows(store)
        print_table(
            f"online lookup: 1 entity x {len(FEATURES)} features of {self.entities} entities, "
            f"{self.rounds} x {self.lookups} lookups per row (random existing keys), prodml vs "
            "Feast (SQLite / Redis online stores), latency in ms",
            [
                "store",
                "mode",
                "prodml p50",
                "prodml p99",
                "Feast p50",
                "Feast p99",
                "p99 Feast/prodml",
                "answers equal",
                "target",
                "met?",
            ],
            table,
        )
        print_table(
            "details (ms; RSS: the in-process child after its lookups, the server's process "
            "group after the requests)",
            ["store", "what", "calls", "p50", "p99", "mean", "max", "p99 per round", "RSS MB"],
            details,
        )

    def _main_rows(self, store: str) -> list[tuple[str, str, Lat | None, Lat | None]]:
        rows: list[tuple[str, str, Lat | None, Lat | None]] = [
            (
                "in process",
                "in process: ws.online_features()",
                self.pooled("prodml", store, "online"),
                self.pooled("feast", store, "feast"),
            ),
            (
                "in process",
                "in process: OnlineFeatures.lookup()",
                self.pooled("prodml", store, "lookup"),
                None,
            ),
        ]
        if not self.args.skip_http:
            rows.append(
                (
                    "HTTP",
                    "HTTP, 1 keep-alive connection",
                    self.http_lat("prodml", store),
                    self.http_lat("feast", store),
                )
            )
        return rows

    def _detail_rows(self, store: str) -> list[list[str]]:
        rss_prodml = _median([r["rss"] for r in self.inproc["prodml"] if r.get("rss")])
        rss_feast = _median([r["rss"] for r in self.inproc["feast"] if r.get("rss")])
        servers = self.servers.get(store, {})
        floor = self.floor.get(store, {})
        rows: list[tuple[str, Lat | None, float | None]] = [
            ("prodml ws.online_features()", self.pooled("prodml", store, "online"), rss_prodml),
            ("prodml OnlineFeatures.lookup()", self.pooled("prodml", store, "lookup"), None),
            ("prodml backend store.read() alone", self.pooled("prodml", store, "read"), None),
            (
                "Feast get_online_features().to_dict()",
                self.pooled("feast", store, "feast"),
                rss_feast,
            ),
            (
                "prodml serve POST /v1/features/online",
                self.http_lat("prodml", store),
                servers["prodml"][1] if "prodml" in servers else None,
            ),
            (
                "feast serve POST /get-online-features",
                self.http_lat("feast", store),
                servers["feast"][1] if "feast" in servers else None,
            ),
            ("prodml serve GET /health (HTTP floor)", Lat.maybe(floor.get("prodml")), None),
            ("feast serve GET /health (HTTP floor)", Lat.maybe(floor.get("feast")), None),
        ]
        return [
            [
                store,
                label,
                str(lat.n),
                _ms(lat.p50),
                _ms(lat.p99),
                _ms(lat.mean),
                _ms(lat.max),
                ", ".join(f"{x:.3f}" for x in lat.rounds_p99) or "—",
                fmt_mb(rss),
            ]
            for label, lat, rss in rows
            if lat is not None
        ]


def _ms(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def _ratio_p99(mine: Lat | None, peer: Lat | None) -> str:
    if mine is None or peer is None or mine.p99 == 0:
        return "n/a"
    return f"{peer.p99 / mine.p99:.1f}x"


def _median(values: Sequence[float]) -> float | None:
    xs = sorted(values)
    return xs[len(xs) // 2] if xs else None
