"""Products and their steps as metadata: what a product declares, once it is loaded.

A core type: the domains (pipeline, quality, drift, …) read products, and the pipeline package
loads them (it imports the product's code, whose ``@step`` declarations build ``StepSpec``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, get_args

from prodml.config.product import ProductConfig
from prodml.errors import NotFoundError

Stage = Literal["ingress", "features", "train", "evaluate", "monitor", "apply", "deliver", "api"]
STAGES: tuple[str, ...] = get_args(Stage)
Mode = Literal["append", "overwrite", "replace_partitions", "merge"]
MODES: tuple[str, ...] = get_args(Mode)
InputFormat = Literal["duckdb", "dataset", "arrow", "pandas", "polars"]
LANDING_PREFIX = "landing:"


@dataclass(frozen=True)
class StepSpec:
    """What a step declares. Tables named ``schema.table`` resolve in the run's catalog.

    Attributes:
        name: the step's name (the function's name, or the SQL file's stem).
        stage: its lifecycle stage.
        inputs: input tables, or landing sources written ``landing:<source>``.
        outputs: the tables it writes (one frame each).
        partition_by: the column whose partitions are processed incrementally.
        output_partition_by: the output table's partition columns (default: ``partition_by``
            for ``replace_partitions`` and ``append``, none otherwise).
        mode: how the output is written.
        keys: merge keys (``mode="merge"``).
        params: the product params the step uses (None: all of them).
        schema_evolution: allow new columns to be added to the output table.
        input_format: what table arguments are handed over as.
        description: the docstring.
        fn: the Python function (None for SQL steps).
        sql: the SQL text (SQL steps).
        references: inputs that are reference data (dimensions): read whole, ordered in the
            DAG like any input, but a new version of them does not re-run partitions already
            processed (history is not rewritten with today's attributes).
        source_file: where the step is defined.
        line: the line of the definition.
        product: the product that owns it (set when the product is loaded).
    """

    name: str
    stage: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    partition_by: str | None = None
    references: tuple[str, ...] = ()
    output_partition_by: tuple[str, ...] = ()
    mode: str = "overwrite"
    keys: tuple[str, ...] = ()
    params: tuple[str, ...] | None = None
    schema_evolution: bool = False
    input_format: str = "duckdb"
    description: str = ""
    fn: Callable[..., Any] | None = field(default=None, compare=False, repr=False)
    sql: str | None = None
    source_file: str = ""
    line: int = 0
    sql_line: int = 0  # the file's line of the query's first line (SQL steps)
    product: str = ""
    # output table → expectations declared in code (beside product.yaml's)
    expectations: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    @property
    def qualified(self) -> str:
        """``product.step``."""
        return f"{self.product}.{self.name}"

    @property
    def table_inputs(self) -> tuple[str, ...]:
        """Inputs that are tables."""
        return tuple(i for i in self.inputs if not i.startswith(LANDING_PREFIX))

    def where(self) -> str:
        """``file:line`` of the declaration."""
        return f"{self.source_file}:{self.line}" if self.source_file else self.name

    def with_product(self, product: str) -> StepSpec:
        """A copy owned by ``product``."""
        return replace(self, product=product)


#: stages that run inside a tracking run (an MLflow run per step run)
TRACKED_STAGES = ("train", "evaluate")
#: stages that may use the product's registered model
MODEL_STAGES = ("train", "evaluate", "apply")


@dataclass(frozen=True)
class Product:
    """A loaded product: its config, directory and steps (in declaration order)."""

    config: ProductConfig
    path: Path
    steps: tuple[StepSpec, ...]

    @property
    def name(self) -> str:
        """The product's name."""
        return self.config.name


def require_product(products: Mapping[str, Product], name: str) -> Product:
    """The product called ``name`` or a ``NotFoundError`` with did-you-mean."""
    if name not in products:
        raise NotFoundError("product", name, products)
    return products[name]
