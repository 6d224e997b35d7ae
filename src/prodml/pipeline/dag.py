"""The DAG of steps, derived from the tables they read and write."""

from __future__ import annotations

import graphlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from prodml.errors import NotFoundError
from prodml.names import TableName
from prodml.pipeline.errors import PipelineDefinitionError
from prodml.pipeline.project import Product
from prodml.pipeline.step import StepSpec


@dataclass(frozen=True)
class Dag:
    """Steps of every product in a catalog, with producer and dependency maps.

    Attributes:
        steps: every step by qualified name.
        producers: the step that writes each table (by full name).
        upstream: for each step, the steps producing its inputs (data dependencies).
        after: for each step, steps it merely runs after (an apply step after its product's
            train and evaluate steps: it uses whatever champion they leave, even if they fail).
    """

    steps: dict[str, StepSpec]
    producers: dict[str, str]
    upstream: dict[str, set[str]]
    after: dict[str, set[str]]

    @classmethod
    def build(cls, products: Iterable[Product], catalog: str) -> Dag:
        """Build the DAG; two producers of one table or a cycle is an error."""
        steps: dict[str, StepSpec] = {}
        producers: dict[str, str] = {}
        for product in products:
            for spec in product.steps:
                steps[spec.qualified] = spec
                for out in spec.outputs:
                    full = str(TableName.parse(out, catalog))
                    if full in producers:
                        raise PipelineDefinitionError(
                            f"table {out} has two producers: {producers[full]} "
                            f"({steps[producers[full]].where()}) and {spec.qualified} ({spec.where()})",
                            hint="each table is written by exactly one step",
                        )
                    producers[full] = spec.qualified
        upstream: dict[str, set[str]] = {}
        after: dict[str, set[str]] = {}
        for name, spec in steps.items():
            ups = set()
            for table in spec.table_inputs:
                producer = producers.get(str(TableName.parse(table, catalog)))
                if producer is not None:
                    ups.add(producer)
            after[name] = (
                {
                    n
                    for n, s in steps.items()
                    if s.product == spec.product and s.stage in ("train", "evaluate")
                }
                if spec.stage == "apply"
                else set()
            )
            upstream[name] = ups
        dag = cls(steps=steps, producers=producers, upstream=upstream, after=after)
        dag.order(list(steps))  # raises on cycles
        return dag

    def order(self, names: Iterable[str]) -> list[str]:
        """``names`` in a topological order (stable: declaration order breaks ties)."""
        wanted = list(dict.fromkeys(names))
        position = {n: i for i, n in enumerate(self.steps)}
        sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
        for name in wanted:
            deps = self.upstream[name] | self.after[name]
            sorter.add(name, *(u for u in deps if u in wanted))
        try:
            sorter.prepare()
        except graphlib.CycleError as exc:
            cycle = exc.args[1]
            raise PipelineDefinitionError(
                "dependency cycle: " + " → ".join(cycle),
                hint="a step cannot (indirectly) read a table it writes",
            ) from None
        out: list[str] = []
        while sorter.is_active():
            ready = sorted(sorter.get_ready(), key=lambda n: position[n])
            out.extend(ready)
            sorter.done(*ready)
        return out

    def selection(self, product: Product, steps: Sequence[str] | None) -> list[str]:
        """The steps a run of ``product`` executes: its own (or ``steps``) plus their producers.

        Raises:
            NotFoundError: an unknown step name.
        """
        own = [s.qualified for s in product.steps]
        if steps:
            chosen = []
            names = {s.name: s.qualified for s in product.steps}
            for name in steps:
                if name in names:
                    chosen.append(names[name])
                elif name in self.steps:
                    chosen.append(name)
                else:
                    raise NotFoundError(f"step of product {product.name}", name, names)
            return self.order(chosen)
        selected: set[str] = set()
        todo = list(own)
        while todo:
            name = todo.pop()
            if name in selected:
                continue
            selected.add(name)
            todo.extend(self.upstream[name] | self.after[name])
        return self.order(selected)

    def missing_inputs(self, names: Iterable[str], catalog: str) -> dict[str, list[str]]:
        """Input tables of ``names`` that no step produces (they must already exist)."""
        out: dict[str, list[str]] = {}
        for name in names:
            spec = self.steps[name]
            for table in spec.table_inputs:
                if str(TableName.parse(table, catalog)) not in self.producers:
                    out.setdefault(name, []).append(table)
        return out
