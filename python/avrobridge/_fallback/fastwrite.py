"""fastavro first, for encoding: the schema handed to fastavro's C writer so that it refuses
what the Rust encoder refuses. fastavro alone writes ``True`` or ``1.5`` as an int, any
value as a boolean (its truth) or as null (nothing), a str as an array of characters, a
``Decimal`` as a double and a memoryview as bytes. So records, arrays and maps carry a
logical type of our own whose writer applies the Rust encoder's checks (``codec_objects``)
to the scalars they hold and hands fastavro the exact values, in one call per container
(scalars of records with fewer than three, and a scalar root, get a writer of their own);
logical types are converted as the walk converts them (``codec_logical``, with fast paths
for aware UTC datetimes, dates and UUIDs). Union branches need no check: fastavro's union
choice validates strictly, and the Rust encoder picks branches fastavro's way
(``union_choice``).

The schema carries no defaults, so a record missing a field with a non-null default fails
here and goes to the walk (``codec.prepare``), which fills defaults as the Rust encoder
does; so does every value this writer refuses, for the exact error and path. Recursive
schemas always take the walk (it bounds the depth).
"""

from __future__ import annotations

import datetime
import io
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any, Final

import fastavro
from fastavro.write import LOGICAL_WRITERS

from ..schema import (
    ARRAY,
    BOOLEAN,
    BYTES,
    DATE,
    DOUBLE,
    ENUM,
    FIXED,
    FLOAT,
    INT,
    LONG,
    MAP,
    NULL,
    RECORD,
    STRING,
    TIMESTAMP_MICROS,
    TIMESTAMP_MILLIS,
    UNION,
    UUID_STRING,
    Node,
    ParsedSchema,
    fastavro_schema,
    walk_nodes,
)
from .codec_logical import prepare_logical
from .codec_objects import (
    I32_MAX as _I32_MAX,
)
from .codec_objects import (
    I32_MIN as _I32_MIN,
)
from .codec_objects import (
    I64_MAX as _I64_MAX,
)
from .codec_objects import (
    I64_MIN as _I64_MIN,
)
from .codec_objects import (
    MISSING,
    bytes_like,
    extract_f64,
    extract_i32,
    extract_i64,
    is_mapping,
    is_sequence,
    mapping_get,
    wrong_type,
)

__all__ = ["StrictWriter", "strict_writer"]

# The key of a logical type's schema node in its fastavro schema (fastavro keeps extra keys).
_NODE: Final = "avrobridge.node"
# The key of a record's fields that fastavro writes as null when missing but whose default
# is something else.
_NULLABLE_WITH_DEFAULT: Final = "avrobridge.nullable-with-default"
# The key of a container's scalar checks: a record's (field name, check) pairs, an array's
# or map's check of each item (None when its items are not scalars).
_CHECK: Final = "avrobridge.check"


def _int(datum: Any, schema: Any) -> int:
    if type(datum) is int and _I32_MIN <= datum <= _I32_MAX:
        return datum
    return extract_i32(datum)


def _long(datum: Any, schema: Any) -> int:
    if type(datum) is int and _I64_MIN <= datum <= _I64_MAX:
        return datum
    return extract_i64(datum, "long")


def _float(datum: Any, schema: Any) -> float:
    return datum if type(datum) is float else extract_f64(datum, "float")


def _double(datum: Any, schema: Any) -> float:
    return datum if type(datum) is float else extract_f64(datum, "double")


def _boolean(datum: Any, schema: Any) -> bool:
    if isinstance(datum, bool):
        return datum
    raise wrong_type("a bool", datum)


def _null(datum: Any, schema: Any) -> None:
    if datum is None:
        return None
    raise wrong_type("None", datum)


def _bytes(datum: Any, schema: Any) -> bytes:
    b = bytes_like(datum)
    if b is None:
        raise wrong_type("bytes", datum)
    return b


def _enum(datum: Any, schema: Any) -> str:
    if isinstance(datum, str):
        return datum
    raise wrong_type("a str (enum symbol)", datum)


def _array(datum: Any, schema: Any) -> Any:
    if type(datum) is list or type(datum) is tuple:
        items = datum
    elif is_sequence(datum):
        items = list(datum)
    else:
        raise wrong_type("a list", datum)
    check = schema[_CHECK]
    if check is None:
        return items
    out = None
    for i, item in enumerate(items):
        value = check(item, None)
        if value is not item:
            if out is None:
                out = list(items)
            out[i] = value
    return items if out is None else out


def _map(datum: Any, schema: Any) -> Any:
    if not (type(datum) is dict or is_mapping(datum)):
        raise wrong_type("a dict (map)", datum)
    check = schema[_CHECK]
    if check is None:
        return datum
    out = None
    for key, item in datum.items():
        value = check(item, None)
        if value is not item:
            if out is None:
                out = dict(datum.items())
            out[key] = value
    return datum if out is None else out


def _mapping_get(datum: Any, name: str, missing: Any) -> Any:
    return mapping_get(datum, name)


def _record(datum: Any, schema: Any) -> Any:
    get: Callable[[str, Any], Any]
    if type(datum) is dict:
        get = datum.get
    elif is_mapping(datum):
        get = partial(_mapping_get, datum)
    else:
        raise wrong_type("a dict", datum)
    for name in schema[_NULLABLE_WITH_DEFAULT]:
        if get(name, MISSING) is MISSING:
            # fastavro would write null; the Rust encoder writes the default: the walk does
            raise KeyError(name)
    out = None
    for name, check in schema[_CHECK]:
        item = get(name, MISSING)
        if item is MISSING:
            continue  # fastavro refuses a missing field, or writes null as Rust does
        value = check(item, None)
        if value is not item:
            if out is None:
                out = dict(datum.items())
            out[name] = value
    return datum if out is None else out


def _logical(datum: Any, schema: Any) -> Any:
    return prepare_logical(schema[_NODE], datum)


def _timestamp_millis(datum: Any, schema: Any) -> Any:
    # The common value, an aware UTC datetime, without prepare_logical's dispatch: every
    # Python datetime is well inside the long's range.
    if type(datum) is datetime.datetime and datum.tzinfo is datetime.timezone.utc:
        d = datum - _EPOCH
        return (d.days * 86_400 + d.seconds) * 1000 + d.microseconds // 1000
    return prepare_logical(schema[_NODE], datum)


def _timestamp_micros(datum: Any, schema: Any) -> Any:
    if type(datum) is datetime.datetime and datum.tzinfo is datetime.timezone.utc:
        d = datum - _EPOCH
        return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds
    return prepare_logical(schema[_NODE], datum)


def _date(datum: Any, schema: Any) -> Any:
    if type(datum) is datetime.date:
        return datum.toordinal() - _EPOCH_ORDINAL
    return prepare_logical(schema[_NODE], datum)


def _uuid(datum: Any, schema: Any) -> Any:
    if type(datum) is uuid.UUID:
        return str(datum)
    return prepare_logical(schema[_NODE], datum)


_EPOCH: Final = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_EPOCH_ORDINAL: Final = datetime.date(1970, 1, 1).toordinal()
# logical op -> (our logical type name, its writer); the rest share _logical
_LOGICAL_WRITERS: Final = {
    TIMESTAMP_MILLIS: ("avrobridge-timestamp-millis", _timestamp_millis),
    TIMESTAMP_MICROS: ("avrobridge-timestamp-micros", _timestamp_micros),
    DATE: ("avrobridge-date", _date),
    UUID_STRING: ("avrobridge-uuid", _uuid),
}


# The scalar checks, applied by the record, array or map that holds the value (one call
# for the container, not one through fastavro's logical-type machinery per value).
_SCALARS: Final = {
    INT: _int,
    LONG: _long,
    FLOAT: _float,
    DOUBLE: _double,
    BOOLEAN: _boolean,
    NULL: _null,
    BYTES: _bytes,
    FIXED: _bytes,
    ENUM: _enum,
}
# op -> (fastavro type, our logical type name, its writer): containers, and scalars at the
# root of a schema.
_CHECKED: Final = {
    **{
        op: (name, f"avrobridge-{name}", check)
        for op, name, check in (
            (INT, "int", _int),
            (LONG, "long", _long),
            (FLOAT, "float", _float),
            (DOUBLE, "double", _double),
            (BOOLEAN, "boolean", _boolean),
            (NULL, "null", _null),
            (BYTES, "bytes", _bytes),
            (FIXED, "fixed", _bytes),
            (ENUM, "enum", _enum),
        )
    },
    ARRAY: ("array", "avrobridge-array", _array),
    MAP: ("map", "avrobridge-map", _map),
    RECORD: ("record", "avrobridge-record", _record),
}
for _type, _logical_name, _writer in _CHECKED.values():
    LOGICAL_WRITERS[f"{_type}-{_logical_name}"] = _writer
_LOGICAL: Final = "avrobridge-logical"
for _name, _writer in _LOGICAL_WRITERS.values():
    for _type in ("int", "long", "string"):
        LOGICAL_WRITERS[f"{_type}-{_name}"] = _writer
for _type in ("int", "long", "bytes", "fixed", "string"):
    LOGICAL_WRITERS[f"{_type}-{_LOGICAL}"] = _logical
# fastavro writes strings strictly (str only, UTF-8); unions choose a branch by validating.
_PLAIN: Final = frozenset({STRING, UNION})


class StrictWriter:
    """Writes one datum with fastavro, or raises (the walk then finds the exact error)."""

    __slots__ = ("_root_record", "_schema")

    def __init__(self, schema: Any, root_record: bool) -> None:
        self._schema = schema
        self._root_record = root_record

    def write(self, datum: Any) -> bytes:
        if self._root_record and not (type(datum) is dict or is_mapping(datum)):
            raise wrong_type("a dict", datum)
        out = io.BytesIO()
        fastavro.schemaless_writer(out, self._schema, datum)
        return out.getvalue()


def _checked(root: Node, alone: set[int], node: Node, in_union: bool, json: Any) -> Any:
    """A node's strict fastavro JSON: its plain JSON, marked with our logical type where a
    writer must check or convert the value. A scalar is checked by the record, array or map
    that holds it, or (``alone``: in a record with few scalars, or at the root) by a writer of
    its own; a union validates its branch as strictly itself."""
    op = node.op
    if op in _PLAIN or (op in _SCALARS and id(node) not in alone):
        return json
    marked = dict(json) if isinstance(json, dict) else {"type": json}
    checked = _CHECKED.get(op)
    if checked is None:  # a logical type: converted as the walk converts it, then written
        marked["logicalType"] = _LOGICAL_WRITERS.get(op, (_LOGICAL,))[0]
        marked[_NODE] = node
        return marked
    if op == RECORD:
        nullable_with_default = tuple(
            f.name
            for f in node.fields
            if f.has_usable_default and f.default_value is not None and _takes_null(f.node)
        )
        checks = tuple(
            (f.name, _SCALARS[f.node.op])
            for f in node.fields
            if f.node.op in _SCALARS and id(f.node) not in alone
        )
        if not (nullable_with_default or checks) and (in_union or node is root):
            # fastavro's union choice checks a mapping; the writer checks the root's type
            return json
        marked[_NULLABLE_WITH_DEFAULT] = nullable_with_default
        marked[_CHECK] = checks
    elif op in (ARRAY, MAP):
        marked[_CHECK] = _SCALARS.get((node.items if op == ARRAY else node.values).op)
    marked["logicalType"] = checked[1]
    return marked


def _checked_alone(root: Node) -> set[int]:
    """The scalars checked by a writer of their own: the root, and those of records with
    fewer than three (a record's loop over its scalars pays off from about three)."""
    alone = {id(root)}
    for node in walk_nodes(root):
        if node.op == RECORD:
            scalars = [f.node for f in node.fields if f.node.op in _SCALARS]
            if len(scalars) < 3:
                alone.update(id(n) for n in scalars)
    return alone


def _takes_null(node: Node) -> bool:
    return node.op == NULL or (node.op == UNION and node.null_branch is not None)


def strict_writer(parsed: ParsedSchema) -> StrictWriter | None:
    """The fastavro-first writer of a schema, or None when its data must be walked first."""
    if parsed.recursive:
        return None
    finish = partial(_checked, parsed.root, _checked_alone(parsed.root))
    text = fastavro_schema(parsed.root, logical=False, finish=finish)
    schema = fastavro.parse_schema(text)
    if not (isinstance(schema, dict) and schema.get("__fastavro_parsed")):
        return None  # fastavro would parse it again on every write
    return StrictWriter(schema, parsed.root.op == RECORD)
