"""The ``@step`` decorator and the declaration it records."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar, get_args

from prodml.errors import ProdmlError
from prodml.names import TableName, check_column
from prodml.pipeline.errors import PipelineDefinitionError
from prodml.products import (
    LANDING_PREFIX,
    MODES,
    STAGES,
    InputFormat,
    Mode,
    Stage,
    StepSpec,
)

__all__ = ["StepSpec", "arg_name", "make_spec", "sql_step_from_file", "step"]

F = TypeVar("F", bound=Callable[..., Any])


def step(  # noqa: PLR0913 - one keyword per option of a step declaration
    *,
    stage: Stage,
    outputs: str | Sequence[str],
    inputs: Sequence[str] = (),
    partition_by: str | None = None,
    output_partition_by: str | Sequence[str] | None = None,
    mode: Mode = "overwrite",
    keys: Sequence[str] = (),
    params: Sequence[str] | None = None,
    schema_evolution: bool = False,
    input_format: InputFormat = "duckdb",
    expectations: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Mapping[str, Any]]] = (),
    references: Sequence[str] = (),
) -> Callable[[F], F]:
    """Declare a pipeline step. The function receives ``ctx`` then one argument per input.

    Example:
        >>> @step(stage="features", inputs=["silver.orders"], outputs="gold.customer_daily",
        ...       partition_by="order_date", mode="replace_partitions")
        ... def customer_daily(ctx, orders):
        ...     return ctx.sql("select customer_id, order_date, count(*) n from orders group by all")
    """

    def decorate(fn: F) -> F:
        try:
            source_file = inspect.getsourcefile(fn) or ""
            line = inspect.getsourcelines(fn)[1]
        except (OSError, TypeError):
            source_file, line = "", 0
        spec = make_spec(
            name=fn.__name__,
            stage=stage,
            inputs=inputs,
            outputs=outputs,
            partition_by=partition_by,
            output_partition_by=output_partition_by,
            mode=mode,
            keys=keys,
            params=params,
            schema_evolution=schema_evolution,
            input_format=input_format,
            expectations=expectations,
            references=references,
            description=inspect.getdoc(fn) or "",
            fn=fn,
            source_file=source_file,
            line=line,
        )
        _check_signature(spec, fn)
        fn.__prodml_step__ = spec  # type: ignore[attr-defined]
        return fn

    return decorate


def make_spec(  # noqa: PLR0913 - the options of a declaration, validated together
    *,
    name: str,
    stage: str,
    inputs: Sequence[str],
    outputs: str | Sequence[str],
    partition_by: str | None = None,
    output_partition_by: str | Sequence[str] | None = None,
    mode: str = "overwrite",
    keys: Sequence[str] = (),
    params: Sequence[str] | None = None,
    schema_evolution: bool = False,
    input_format: str = "duckdb",
    expectations: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Mapping[str, Any]]] = (),
    references: Sequence[str] = (),
    description: str = "",
    fn: Callable[..., Any] | None = None,
    sql: str | None = None,
    source_file: str = "",
    line: int = 0,
) -> StepSpec:
    """Validate a declaration and build its :class:`StepSpec`.

    Raises:
        PipelineDefinitionError: naming the file and line of the declaration.
    """
    where = f"{source_file}:{line}" if source_file else name

    def fail(message: str, hint: str | None = None) -> PipelineDefinitionError:
        return PipelineDefinitionError(f"{where}: step {name}: {message}", hint=hint)

    _check_choices(stage, mode, input_format, fail)
    outs = (outputs,) if isinstance(outputs, str) else tuple(outputs)
    if not outs:
        raise fail("declares no outputs", hint="every step writes at least one table")
    _check_names(outs, inputs, keys, partition_by, fail)
    if isinstance(output_partition_by, str):
        output_partition_by = (output_partition_by,)
    if output_partition_by is None:
        output_partition_by = (partition_by,) if partition_by and mode != "merge" else ()
    _check_shape(stage, mode, inputs, outs, keys, partition_by, tuple(output_partition_by), fail)
    stray = [r for r in references if r not in inputs]
    if stray:
        raise fail(
            f"references {stray[0]!r}, which is not one of its inputs",
            hint="references name inputs that are reference data; list it in inputs=[...] too",
        )
    rules = _expectations(expectations, outs, fail)
    return StepSpec(
        name=name,
        stage=stage,
        inputs=tuple(inputs),
        outputs=outs,
        partition_by=partition_by,
        references=tuple(references),
        output_partition_by=tuple(output_partition_by),
        mode=mode,
        keys=tuple(keys),
        params=tuple(params) if params is not None else None,
        schema_evolution=schema_evolution,
        input_format=input_format,
        description=description,
        fn=fn,
        sql=sql,
        source_file=source_file,
        line=line,
        expectations=rules,
    )


Fail = Callable[..., PipelineDefinitionError]


def _check_choices(stage: str, mode: str, input_format: str, fail: Fail) -> None:
    if stage not in STAGES:
        raise fail(f"unknown stage {stage!r}", hint=f"stages: {', '.join(STAGES)}")
    if mode not in MODES:
        raise fail(f"unknown mode {mode!r}", hint=f"modes: {', '.join(MODES)}")
    if input_format not in get_args(InputFormat):
        raise fail(
            f"unknown input_format {input_format!r}",
            hint="duckdb, dataset, arrow, pandas or polars",
        )


def _check_names(
    outs: tuple[str, ...],
    inputs: Sequence[str],
    keys: Sequence[str],
    partition_by: str | None,
    fail: Fail,
) -> None:
    """Table names, landing sources and columns are valid identifiers."""
    try:
        for table in (*outs, *(i for i in inputs if not i.startswith(LANDING_PREFIX))):
            TableName.parse(table, "x")
        for source in inputs:
            if source.startswith(LANDING_PREFIX):
                check_column(source[len(LANDING_PREFIX) :])
        for col in (*keys, *([partition_by] if partition_by else [])):
            check_column(col)
    except ProdmlError as exc:
        raise fail(exc.message, hint=exc.hint) from None


def _check_shape(
    stage: str,
    mode: str,
    inputs: Sequence[str],
    outs: tuple[str, ...],
    keys: Sequence[str],
    partition_by: str | None,
    output_partition_by: tuple[str | None, ...],
    fail: Fail,
) -> None:
    """The write mode, partitioning and stage fit together."""
    if mode == "merge" and not keys:
        raise fail("mode='merge' needs keys=[...]")
    if mode == "replace_partitions":
        if not partition_by:
            raise fail("mode='replace_partitions' needs partition_by=...")
        if output_partition_by != (partition_by,):
            raise fail("replace_partitions writes the output partitioned by partition_by")
    if len(outs) > 1 and partition_by:
        raise fail("a partitioned step writes one output table")
    if any(i.startswith(LANDING_PREFIX) for i in inputs) and stage != "ingress":
        raise fail("only ingress steps read landing sources")


def _expectations(
    declared: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Mapping[str, Any]]],
    outputs: tuple[str, ...],
    fail: Fail,
) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """``expectations=[...]`` (one output) or ``{output: [...]}`` → validated rules per output."""
    if not declared:
        return ()
    if isinstance(declared, Mapping):
        per_output = dict(declared)
        unknown = [t for t in per_output if t not in outputs]
        if unknown:
            raise fail(
                f"expectations for {', '.join(unknown)}, which the step does not write",
                hint=f"outputs: {', '.join(outputs)}",
            )
    elif len(outputs) > 1:
        raise fail(
            "a list of expectations needs one output",
            hint="map each output to its list: expectations={'schema.table': [...]}",
        )
    else:
        per_output = {outputs[0]: declared}
    from pydantic import TypeAdapter, ValidationError

    from prodml.config.expectations import Expectation

    adapter: TypeAdapter[list[Any]] = TypeAdapter(list[Expectation])
    out = []
    for table, rules in per_output.items():
        try:
            out.append((table, tuple(adapter.validate_python(list(rules)))))
        except ValidationError as exc:
            first = exc.errors()[0]
            at = ".".join(str(p) for p in first["loc"])
            raise fail(f"expectations for {table}: [{at}] {first['msg']}") from None
    return tuple(out)


def _check_signature(spec: StepSpec, fn: Callable[..., Any]) -> None:
    params = list(inspect.signature(fn).parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return
    if len(positional) != 1 + len(spec.inputs):
        raise PipelineDefinitionError(
            f"{spec.where()}: step {spec.name} takes {len(positional)} argument(s); it needs ctx "
            f"plus one per input ({len(spec.inputs)}: {', '.join(spec.inputs) or 'none'})",
            hint=f"def {spec.name}(ctx{''.join(', ' + arg_name(i) for i in spec.inputs)})",
        )


def arg_name(input_name: str) -> str:
    """The conventional argument name of an input (``silver.orders`` → ``orders``)."""
    if input_name.startswith(LANDING_PREFIX):
        return input_name[len(LANDING_PREFIX) :]
    return input_name.rsplit(".", maxsplit=1)[-1]


def sql_line(message: str, first: int, sql: str = "") -> int | None:
    """The file's line an error of DuckDB's points at: its ``LINE n:``, else the first line of
    the query naming the identifier the error quotes (binder errors give no line)."""
    found = re.search(r"\bLINE (\d+):", message)
    if found is not None:
        return first + int(found.group(1)) - 1
    quoted = re.search(r'"([^"\n]+)"', message)
    if quoted is not None:
        for i, text in enumerate(sql.splitlines()):
            if re.search(rf"(?<![\w.]){re.escape(quoted.group(1))}(?!\w)", text):
                return first + i
    return None


def check_sql(sql: str, path: Path, first: int) -> None:
    """Parse a SQL step's query when the product loads (before any step runs): a syntax
    error names the file and its line."""
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        text = str(exc)
        line = sql_line(text, first)
        where = f"{path}:{line}" if line is not None else str(path)
        raise PipelineDefinitionError(f"{where}: {text.splitlines()[0]}") from None
    if len(statements) != 1:
        raise PipelineDefinitionError(
            f"{path}:{first}: a SQL step is one SELECT; this file holds {len(statements)} "
            "statements"
        )


def sql_step_from_file(path: Path) -> StepSpec:
    """Build a SQL step from a ``sql/*.sql`` file with a ``/* prodml … */`` YAML header.

    Example header::

        /* prodml
        stage: features
        inputs: [silver.order_lines]
        outputs: gold.product_daily_demand
        partition_by: order_date
        mode: replace_partitions
        */
    """
    meta, sql, line = _sql_header(path)
    spec = make_spec(
        name=path.stem,
        stage=meta["stage"],
        inputs=meta.get("inputs", []),
        outputs=meta["outputs"],
        partition_by=meta.get("partition_by"),
        output_partition_by=meta.get("output_partition_by"),
        mode=meta.get("mode", "overwrite"),
        keys=meta.get("keys", []),
        params=meta.get("params"),
        schema_evolution=bool(meta.get("schema_evolution", False)),
        references=meta.get("references", []),
        description=str(meta.get("description", "")),
        sql=sql,
        source_file=str(path),
        line=1,
    )
    return replace(spec, sql_line=line)


def _sql_header(path: Path) -> tuple[dict[str, Any], str, int]:
    """A SQL step file's header keys, its query (parsed: a syntax error names the file and
    line) and the file's line of the query's first line."""
    import yaml

    text = path.read_text(encoding="utf-8")
    head = text.lstrip()
    if not head.startswith("/* prodml"):
        raise PipelineDefinitionError(
            f"{path}: a SQL step starts with a '/* prodml ... */' header",
            hint="declare stage, inputs, outputs (and partition_by, mode, keys) in it",
        )
    end = head.find("*/")
    if end < 0:
        raise PipelineDefinitionError(f"{path}: the '/* prodml' header is not closed with */")
    first = text[: len(text) - len(head)].count("\n") + 1  # the header's line in the file
    try:
        meta = yaml.safe_load(head[len("/* prodml") : end]) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{first + mark.line}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PipelineDefinitionError(
            f"{where}: invalid YAML in the '/* prodml' header: {problem}"
        ) from None
    if not isinstance(meta, dict):
        raise PipelineDefinitionError(
            f"{path}:{first}: the '/* prodml' header holds {type(meta).__name__}, not keys",
            hint="write key: value lines (stage, inputs, outputs, …)",
        )
    allowed = {
        "stage",
        "inputs",
        "outputs",
        "partition_by",
        "output_partition_by",
        "mode",
        "keys",
        "params",
        "schema_evolution",
        "references",
        "description",
    }
    unknown = set(meta) - allowed
    if unknown:
        from prodml.errors import did_you_mean

        key = sorted(unknown)[0]
        raise PipelineDefinitionError(
            f"{path}: unknown header key {key!r}",
            hint=did_you_mean(key, allowed) or f"keys: {', '.join(sorted(allowed))}",
        )
    if "stage" not in meta or "outputs" not in meta:
        raise PipelineDefinitionError(f"{path}: the header needs 'stage' and 'outputs'")
    body = head[end + 2 :]
    sql = body.strip()
    # the file's line of the query's first line: after the header and any blank lines
    line = first + head[: end + 2].count("\n") + body[: len(body) - len(body.lstrip())].count("\n")
    check_sql(sql, path, line)
    return meta, sql, line
