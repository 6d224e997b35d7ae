"""The catalog gate: every read (rows, history, state) and write passes the policies in order,
a refusal stops it before anything happens, and nothing else touches the Delta tables."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from prodml.catalog.gate import Catalog
from prodml.catalog.policies import AllowAll, LinkEvent, ReadEvent, RecordsPolicy, WriteEvent
from prodml.catalog.store import MetadataStore
from prodml.errors import AccessDeniedError, NotFoundError
from prodml.tables.delta import DeltaTables, WriteResult, WriteSpec


@dataclass
class Seen(AllowAll):
    """A policy that keeps what it is shown, and refuses reads of one table."""

    events: list[tuple[str, Any]] = field(default_factory=list)
    refuse: str | None = None

    def before_read(self, event: ReadEvent) -> None:
        self.events.append(("before_read", (event.kind, str(event.table))))
        if str(event.table) == self.refuse:
            raise AccessDeniedError(f"no reading {event.table}")

    def visible(self, event: ReadEvent) -> bool:
        return str(event.table) != self.refuse

    def after_read(self, event: ReadEvent, version: int) -> None:
        self.events.append(("after_read", (event.kind, version)))

    def before_write(self, event: WriteEvent) -> None:
        self.events.append(("before_write", str(event.table)))
        if str(event.table) == self.refuse:
            raise AccessDeniedError(f"no writing {event.table}")

    def after_write(self, event: WriteEvent, result: WriteResult) -> None:
        self.events.append(("after_write", result.version))

    def linked(self, event: LinkEvent) -> None:
        self.events.append(("linked", event.target))


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[tuple[Catalog, Seen]]:
    store = MetadataStore(f"sqlite:///{tmp_path / 'meta.db'}")
    seen = Seen()
    yield (
        Catalog("dev", store, DeltaTables(str(tmp_path / "data")), [seen, RecordsPolicy(store)]),
        seen,
    )
    store.close()


def _write(catalog: Catalog, name: str, rows: int, access: Any = None) -> WriteResult:
    from prodml.catalog.policies import Access

    table = catalog.name(name)
    data = pa.table({"day": [f"2024-01-0{1 + i % 2}" for i in range(rows)], "n": list(range(rows))})
    spec = WriteSpec(str(table), "overwrite", partition_by=["day"])
    return catalog.write(table, data, spec, access or Access("ana"), sources={"landing:x": None})


def test_reads_and_writes_pass_the_policies_in_order(gate: tuple[Catalog, Seen]) -> None:
    catalog, seen = gate
    from prodml.catalog.policies import Access

    result = _write(catalog, "gold.t", 4)
    assert result.version == 0 and catalog.version(catalog.name("gold.t")) == 0
    _, version = catalog.read(catalog.name("gold.t"), Access("ana"))
    assert version == 0
    assert seen.events == [
        ("before_write", "dev.gold.t"),
        ("after_write", 0),
        ("before_read", ("data", "dev.gold.t")),
        ("after_read", ("data", 0)),
    ]


def test_history_commit_lookups_and_state_are_reads_too(gate: tuple[Catalog, Seen]) -> None:
    catalog, seen = gate
    from prodml.catalog.policies import Access

    table = catalog.name("gold.t")
    assert catalog.state(table, Access("ana"), "day") is None  # no table yet: nothing read
    assert catalog.find_commit(table, Access("ana"), "k", "v") is None
    _write(catalog, "gold.t", 4)
    seen.events.clear()
    (entry,) = catalog.history(table, Access("ana"))
    assert entry["version"] == 0 and entry["operation"] in ("WRITE", "CREATE TABLE")
    version, ids, _whole = catalog.state(table, Access("ana"), "day") or (None, None, None)
    assert version == 0 and set(ids or {}) == {"2024-01-01", "2024-01-02"}
    version, ids, whole = catalog.state(table, Access("ana"), "n") or (None, None, "")
    assert (version, ids) == (0, None)  # not partitioned by n
    assert whole.startswith("c:")  # the content of its partitions, as written by a step
    assert catalog.find_commit(table, Access("ana"), "prodml.batch", "nope") is None
    kinds = [e[1][0] for e in seen.events if e[0] == "before_read"]
    assert kinds == ["history", "state", "state", "history"]


def test_a_refused_read_or_write_happens_not_at_all(gate: tuple[Catalog, Seen]) -> None:
    catalog, seen = gate
    from prodml.catalog.policies import Access

    _write(catalog, "gold.t", 4)
    seen.refuse = "dev.gold.t"
    for attempt in (
        lambda: _write(catalog, "gold.t", 2),
        lambda: catalog.read(catalog.name("gold.t"), Access("ana")),
        lambda: catalog.history(catalog.name("gold.t"), Access("ana")),
        lambda: catalog.state(catalog.name("gold.t"), Access("ana")),
        lambda: catalog.describe(catalog.name("gold.t"), Access("ana")),
        lambda: catalog.browse(catalog.name("gold.t"), Access("ana")),
        lambda: catalog.lineage("gold.t", Access("ana")),
    ):
        with pytest.raises(AccessDeniedError):
            attempt()
    assert catalog.list(Access("ana")) == [] and catalog.entries(Access("ana")) == []
    assert catalog.version(catalog.name("gold.t")) == 0  # the refused write committed nothing
    seen.refuse = None
    assert catalog.describe(catalog.name("gold.t"), Access("ana")).rows == 4


def test_unknown_tables_are_named_with_the_known_ones(gate: tuple[Catalog, Seen]) -> None:
    catalog, _ = gate
    from prodml.catalog.policies import Access

    _write(catalog, "gold.totals", 1)
    catalog.register(
        catalog.name("gold.totals"),
        owner_product="shop",
        producer_step="shop.totals",
        description="Totals.",
        column_docs={"n": "A count."},
        partition_by=["day"],
        keys=[],
        schema=pa.schema([("day", pa.string()), ("n", pa.int64())]),
    )
    with pytest.raises(NotFoundError, match=r"did you mean 'gold\.totals'"):
        catalog.read(catalog.name("gold.total"), Access("ana"))
    gate[1].refuse = "dev.gold.totals"  # a table one may not see is never named
    with pytest.raises(NotFoundError) as missing:
        catalog.read(catalog.name("gold.total"), Access("ana"))
    assert "totals" not in str(missing.value) + str(missing.value.hint)
    gate[1].refuse = None
    (info,) = catalog.list(Access("ana"))
    assert (info.name, info.owner_product, info.columns[1]["doc"]) == (
        "gold.totals",
        "shop",
        "A count.",
    )


def test_a_rebuild_never_touches_the_real_table(gate: tuple[Catalog, Seen], tmp_path: Path) -> None:
    catalog, _ = gate
    from prodml.catalog.policies import Access

    _write(catalog, "gold.t", 4)
    _write(catalog, "gold.t", 2)
    table = catalog.name("gold.t")
    extra = pa.table({"day": ["2024-01-03"], "n": [9]})
    spec = WriteSpec(str(table), "append", partition_by=["day"])
    rebuilt = catalog.rebuild(
        table, Access("ana"), base_version=0, data=extra, spec=spec, scratch=tmp_path / "scratch"
    )
    assert rebuilt.num_rows == 5  # version 0's four rows and the appended one
    assert catalog.version(table) == 1 and catalog.describe(table, Access("ana")).rows == 2
    empty = catalog.rebuild(
        table, Access("ana"), base_version=None, data=extra, spec=spec, scratch=tmp_path / "s2"
    )
    assert empty.num_rows == 1
    assert list((tmp_path / "scratch").iterdir()) == []  # the scratch table is gone


def test_changes_since_a_version(gate: tuple[Catalog, Seen]) -> None:
    catalog, _ = gate
    from prodml.catalog.policies import Access

    table = catalog.name("gold.t")
    _write(catalog, "gold.t", 4)
    data, version = catalog.read_changes(table, Access("ana"), since=None)
    assert (data.count_rows(), version) == (4, 0)
    _write(catalog, "gold.t", 2)
    data, version = catalog.read_changes(table, Access("ana"), since=0)
    assert (data.count_rows(), version) == (2, 1)
    data, _ = catalog.read_changes(table, Access("ana"), since=7)  # re-created since: all of it
    assert data.count_rows() == 2
