"""Compare an incoming Arrow schema with a Delta table's, before anything is written."""

from __future__ import annotations

import pyarrow as pa

from prodml.tables.errors import SchemaMismatchError

# Arrow types that may be written into a wider column of the existing table (lossless casts).
_WIDENING: dict[str, tuple[str, ...]] = {
    "int64": ("int8", "int16", "int32", "uint8", "uint16", "uint32"),
    "int32": ("int8", "int16", "uint8", "uint16"),
    "int16": ("int8", "uint8"),
    "double": ("float", "halffloat", "int8", "int16", "int32", "uint8", "uint16"),
    "string": ("large_string", "string_view"),
    "binary": ("large_binary", "binary_view"),
}


def normalise(schema: pa.Schema) -> pa.Schema:
    """Map Arrow types Delta cannot store onto the ones it stores (views, large, unsigned, ns)."""
    fields = []
    for field in schema:
        fields.append(field.with_type(_storable(field.type)))
    return pa.schema(fields)


def _storable(t: pa.DataType) -> pa.DataType:
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_dictionary(t):
        return _storable(t.value_type)
    if pa.types.is_unsigned_integer(t):
        return {8: pa.int16(), 16: pa.int32(), 32: pa.int64(), 64: pa.int64()}[t.bit_width]
    if pa.types.is_timestamp(t) and t.unit != "us":
        return pa.timestamp("us", tz=t.tz)
    if pa.types.is_time(t):
        return pa.time64("us")
    if pa.types.is_null(t):
        return pa.string()
    if pa.types.is_date64(t):
        return pa.date32()
    if pa.types.is_float16(t):
        return pa.float32()
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        return pa.list_(_storable(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([f.with_type(_storable(f.type)) for f in t])
    return t


def conform(
    table_name: str, data: pa.Table, existing: pa.Schema | None, *, evolve: bool
) -> pa.Table:
    """Cast ``data`` to what the table stores, or raise before anything is written.

    With ``evolve``, new columns are allowed (the table gains them; older rows read NULL).

    Raises:
        SchemaMismatchError: missing or extra columns, or types that cannot be cast losslessly.
    """
    target = normalise(data.schema)
    if existing is not None:
        have = {f.name: f for f in existing}
        incoming = {f.name: f for f in target}
        missing = [n for n in have if n not in incoming]
        extra = [n for n in incoming if n not in have]
        problems = []
        if missing:
            problems.append(f"missing column(s) {', '.join(missing)}")
        if extra and not evolve:
            problems.append(f"new column(s) {', '.join(extra)}")
        fields = []
        for field in target:
            if field.name not in have:
                fields.append(field)
                continue
            want = have[field.name].type
            if data.schema.field(field.name).type == pa.null():
                fields.append(field.with_type(want))  # an all-NULL column fits any type
                continue
            if field.type != want and not _widens(field.type, want):
                problems.append(f"column {field.name} is {field.type}, the table has {want}")
            fields.append(field.with_type(want))
        if problems:
            hint = "fix the step's output"
            if extra and not evolve and not missing:
                hint += " or declare schema_evolution=True on the step to add the new columns"
            raise SchemaMismatchError(
                table_name, "schema mismatch: " + "; ".join(problems), hint=hint
            )
        # keep the table's column order; new columns (evolution) go last
        order = [n for n in have if n in incoming] + [n for n in incoming if n not in have]
        target = pa.schema([next(f for f in fields if f.name == n) for n in order])
        data = data.select(order)
    if data.schema != target:
        try:
            data = data.cast(target, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise SchemaMismatchError(
                table_name, f"cannot store the data losslessly: {exc}", hint="cast it in the step"
            ) from None
    return data


def _widens(src: pa.DataType, dst: pa.DataType) -> bool:
    if pa.types.is_timestamp(src) and pa.types.is_timestamp(dst):
        return (src.tz is None) == (dst.tz is None)
    return str(src) in _WIDENING.get(str(dst), ())
