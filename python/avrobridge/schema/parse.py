"""Avro schema JSON -> validated node graph, rule for rule as ``rust/src/schema/parse.rs``."""

from __future__ import annotations

from typing import Any, Final

from .._avro_rules import as_u64, decimal_params, logical_type
from .canonical import canonical_form
from .default import DefaultError, default_value
from .json_text import load_json
from .model import (
    ARRAY,
    DATE,
    DECIMAL_BYTES,
    DECIMAL_FIXED,
    DOUBLE,
    ENUM,
    FASTAVRO_NAME,
    FIXED,
    FLOAT,
    LOCAL_TIMESTAMP_MICROS,
    LOCAL_TIMESTAMP_MILLIS,
    MAP,
    MAX_SCHEMA_DEPTH,
    NAME_RE,
    NULL,
    PRIMITIVE_OPS,
    PRIMITIVES,
    RECORD,
    TIME_MICROS,
    TIME_MILLIS,
    TIMESTAMP_MICROS,
    TIMESTAMP_MILLIS,
    UNION,
    UUID_STRING,
    Field,
    Name,
    Node,
    schema_error,
)


class _Error(Exception):
    """A schema problem before it becomes a SchemaError (message, path)."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def is_valid_name(name: str) -> bool:
    return NAME_RE.fullmatch(name) is not None


def _is_valid_namespace(ns: str) -> bool:
    return ns == "" or all(is_valid_name(part) for part in ns.split("."))


def _describe(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    return "an object"


def _primitive(type_name: str) -> Node | None:
    op = PRIMITIVE_OPS.get(type_name)
    return None if op is None else Node(type_name, op)


class _PendingDefault:
    __slots__ = ("field", "path", "value")

    def __init__(self, field: Field, value: Any, path: str) -> None:
        self.field = field
        self.value = value
        self.path = path


class _Parser:
    def __init__(self) -> None:
        self.names: dict[str, Node] = {}
        self.defaults: list[_PendingDefault] = []
        self.fields: list[Field] = []
        self.depth = 0
        self.open_records: set[int] = set()
        self.recursive = False
        self.named_count = 0

    def parse_node(self, value: Any, ns: str | None, path: str) -> Node:
        self.depth += 1
        try:
            if self.depth > MAX_SCHEMA_DEPTH:
                raise _Error(f"schema nested deeper than {MAX_SCHEMA_DEPTH} levels", path)
            if isinstance(value, str):
                return self.parse_reference(value, ns, path)
            if isinstance(value, list):
                return self.parse_union(value, ns, path)
            if isinstance(value, dict):
                return self.parse_object(value, ns, path)
            raise _Error(
                f"a schema must be a string, an object or an array, not {_describe(value)}",
                path,
            )
        finally:
            self.depth -= 1

    def parse_reference(self, s: str, ns: str | None, path: str) -> Node:
        node = _primitive(s)
        if node is not None:
            node.json = s
            return node
        found = self.lookup(s, ns)
        if found is not None:
            if id(found) in self.open_records:
                self.recursive = True
            return found
        hint = ""
        if s in ("record", "error", "enum", "array", "map", "fixed"):
            hint = f' (\'{s}\' must be given as {{"type": "{s}", ...}})'
        raise _Error(f"unknown type '{s}'{hint}", path)

    def lookup(self, s: str, ns: str | None) -> Node | None:
        if "." not in s and ns:
            found = self.names.get(f"{ns}.{s}")
            if found is not None:
                return found
        return self.names.get(s)

    def parse_union(self, items: list[Any], ns: str | None, path: str) -> Node:
        branches: list[Node] = []
        seen_kinds: set[str] = set()
        seen_names: set[str] = set()
        for i, item in enumerate(items):
            node = self.parse_node(item, ns, f"{path}/{i}")
            branch_path = f"{path}/{i}"
            if node.op == UNION:
                raise _Error("a union may not immediately contain another union", branch_path)
            if node.name is not None:
                name = node.name.fullname
                if name in seen_names:
                    raise _Error(f"union contains '{name}' twice", branch_path)
                seen_names.add(name)
            else:
                if node.kind in seen_kinds:
                    raise _Error(f"union contains more than one {node.kind}", branch_path)
                seen_kinds.add(node.kind)
            branches.append(node)
        union = Node("union", UNION)
        union.json = items
        union.branches = branches
        for i, b in enumerate(branches):
            if b.op == NULL:
                union.null_branch = i
                break
        return union

    def parse_object(self, obj: dict[str, Any], ns: str | None, path: str) -> Node:
        if "type" not in obj:
            raise _Error("schema object has no 'type'", path)
        type_value = obj["type"]
        if isinstance(type_value, (dict, list)):
            # {"type": {...}} and {"type": [...]}: a nested schema in place of a name.
            return self.parse_node(type_value, ns, f"{path}/type")
        if not isinstance(type_value, str):
            raise _Error(f"'type' must be a string, not {_describe(type_value)}", f"{path}/type")
        if type_value in ("record", "error"):
            return self.parse_record(obj, ns, path, type_value == "error")
        if type_value == "enum":
            return self.parse_enum(obj, ns, path)
        if type_value == "fixed":
            return self.parse_fixed(obj, ns, path)
        if type_value == "array":
            if "items" not in obj:
                raise _Error("array schema has no 'items'", path)
            node = Node("array", ARRAY)
            node.json = obj
            node.items = self.parse_node(obj["items"], ns, f"{path}/items")
            return node
        if type_value == "map":
            if "values" not in obj:
                raise _Error("map schema has no 'values'", path)
            node = Node("map", MAP)
            node.json = obj
            node.values = self.parse_node(obj["values"], ns, f"{path}/values")
            return node
        node_or_none = _primitive(type_value)
        if node_or_none is not None:
            node_or_none.json = obj
            _apply_logical(node_or_none, obj)
            return node_or_none
        return self.parse_reference(type_value, ns, f"{path}/type")

    def define_name(self, obj: dict[str, Any], ns: str | None, path: str) -> Name:
        if "name" not in obj:
            raise _Error("named type has no 'name'", path)
        raw = obj["name"]
        if not isinstance(raw, str):
            raise _Error(f"'name' must be a string, not {_describe(raw)}", f"{path}/name")
        namespace_attr = obj.get("namespace")
        if namespace_attr is not None and not isinstance(namespace_attr, str):
            raise _Error(
                f"'namespace' must be a string, not {_describe(namespace_attr)}",
                f"{path}/namespace",
            )
        namespace: str | None
        if "." in raw:
            namespace, short = raw.rsplit(".", 1)
        else:
            namespace = namespace_attr if namespace_attr is not None else ns
            short = raw
        if not namespace:
            namespace = None
        if not is_valid_name(short):
            raise _Error(
                f"invalid name '{raw}': names start with a letter or _ and hold only "
                "letters, digits and _",
                f"{path}/name",
            )
        if namespace is not None and not _is_valid_namespace(namespace):
            raise _Error(f"invalid namespace '{namespace}'", f"{path}/namespace")
        if short in PRIMITIVES:
            raise _Error(f"'{short}' is a primitive type and cannot be redefined", f"{path}/name")
        fullname = f"{namespace}.{short}" if namespace is not None else short
        if fullname in self.names:
            raise _Error(f"name '{fullname}' is already defined", f"{path}/name")
        return Name(fullname, short, namespace)

    def parse_aliases(self, obj: dict[str, Any], namespace: str | None, path: str) -> list[str]:
        if "aliases" not in obj:
            return []
        value = obj["aliases"]
        if not isinstance(value, list):
            raise _Error("'aliases' must be an array of names", f"{path}/aliases")
        out: list[str] = []
        for i, alias in enumerate(value):
            if not isinstance(alias, str):
                raise _Error("an alias must be a string", f"{path}/aliases/{i}")
            if "." in alias:
                space, short = alias.rsplit(".", 1)
                valid = _is_valid_namespace(space) and is_valid_name(short)
            else:
                valid = is_valid_name(alias)
            if not valid:
                raise _Error(f"invalid alias '{alias}'", f"{path}/aliases/{i}")
            if "." not in alias and namespace is not None:
                out.append(f"{namespace}.{alias}")
            else:
                out.append(alias)
        return out

    def named(self, kind: str, op: int, name: Name, obj: dict[str, Any]) -> Node:
        node = Node(kind, op)
        node.json = obj
        node.name = name
        node.branch_name = name.fullname
        node.fa_name = f"{FASTAVRO_NAME}{self.named_count}"
        self.named_count += 1
        return node

    def parse_record(self, obj: dict[str, Any], ns: str | None, path: str, is_error: bool) -> Node:
        name = self.define_name(obj, ns, path)
        aliases = self.parse_aliases(obj, name.namespace, path)
        # Registered before the fields so that they can refer to the record recursively.
        node = self.named("record", RECORD, name, obj)
        node.aliases = aliases
        node.is_error = is_error
        self.names[name.fullname] = node
        self.open_records.add(id(node))
        try:
            self.parse_fields(node, obj, path)
        finally:
            self.open_records.discard(id(node))
        return node

    def parse_fields(self, node: Node, obj: dict[str, Any], path: str) -> None:
        assert node.name is not None
        fullname = node.name.fullname
        if "fields" not in obj:
            raise _Error(f"record '{fullname}' has no 'fields'", path)
        field_values = obj["fields"]
        if not isinstance(field_values, list):
            raise _Error("'fields' must be an array", f"{path}/fields")
        seen: set[str] = set()
        for i, f in enumerate(field_values):
            field_path = f"{path}/fields/{i}"
            if not isinstance(f, dict):
                raise _Error("a field must be an object", field_path)
            if "name" not in f:
                raise _Error("field has no 'name'", field_path)
            fname = f["name"]
            if not isinstance(fname, str):
                raise _Error("field 'name' must be a string", f"{field_path}/name")
            if not is_valid_name(fname):
                raise _Error(f"invalid field name '{fname}'", f"{field_path}/name")
            if fname in seen:
                raise _Error(
                    f"record '{fullname}' has two fields named '{fname}'", f"{field_path}/name"
                )
            seen.add(fname)
            if "type" not in f:
                raise _Error(f"field '{fname}' has no 'type'", field_path)
            field_node = self.parse_node(f["type"], node.name.namespace, f"{field_path}/type")
            order = f.get("order", "ascending")
            if order not in ("ascending", "descending", "ignore") or not isinstance(order, str):
                raise _Error(
                    'field \'order\' must be "ascending", "descending" or "ignore"',
                    f"{field_path}/order",
                )
            aliases: list[str] = []
            if "aliases" in f:
                alias_values = f["aliases"]
                if not isinstance(alias_values, list):
                    raise _Error("field 'aliases' must be an array", f"{field_path}/aliases")
                for j, a in enumerate(alias_values):
                    if not (isinstance(a, str) and is_valid_name(a)):
                        raise _Error(
                            "a field alias must be a valid name", f"{field_path}/aliases/{j}"
                        )
                    aliases.append(a)
            field = Field(fname, aliases, field_node, order)
            field.json = f
            if "default" in f:
                field.has_default = True
                field.default = f["default"]
                self.defaults.append(_PendingDefault(field, f["default"], f"{field_path}/default"))
            node.fields.append(field)
            self.fields.append(field)

    def parse_enum(self, obj: dict[str, Any], ns: str | None, path: str) -> Node:
        name = self.define_name(obj, ns, path)
        aliases = self.parse_aliases(obj, name.namespace, path)
        items = obj.get("symbols")
        if not isinstance(items, list):
            raise _Error(f"enum '{name.fullname}' needs a 'symbols' array", path)
        symbols: list[str] = []
        seen: set[str] = set()
        for i, sym in enumerate(items):
            if not isinstance(sym, str):
                raise _Error("an enum symbol must be a string", f"{path}/symbols/{i}")
            if not is_valid_name(sym):
                raise _Error(f"invalid enum symbol '{sym}'", f"{path}/symbols/{i}")
            if sym in seen:
                raise _Error(
                    f"enum '{name.fullname}' has the symbol '{sym}' twice", f"{path}/symbols/{i}"
                )
            seen.add(sym)
            symbols.append(sym)
        default: int | None = None
        if "default" in obj:
            d = obj["default"]
            if not isinstance(d, str):
                raise _Error("enum 'default' must be a symbol", f"{path}/default")
            if d not in symbols:
                raise _Error(
                    f"enum default '{d}' is not one of the symbols of '{name.fullname}'",
                    f"{path}/default",
                )
            default = symbols.index(d)
        node = self.named("enum", ENUM, name, obj)
        node.aliases = aliases
        node.symbols = symbols
        node.enum_default = default
        self.names[name.fullname] = node
        return node

    def parse_fixed(self, obj: dict[str, Any], ns: str | None, path: str) -> Node:
        name = self.define_name(obj, ns, path)
        aliases = self.parse_aliases(obj, name.namespace, path)
        if "size" not in obj:
            raise _Error(f"fixed '{name.fullname}' has no 'size'", path)
        size = as_u64(obj["size"])
        if size is None or size > 0xFFFF_FFFF:
            raise _Error(
                f"fixed '{name.fullname}' needs a non-negative integer 'size'", f"{path}/size"
            )
        node = self.named("fixed", FIXED, name, obj)
        node.aliases = aliases
        node.size = size
        _apply_logical(node, obj, size)
        self.names[name.fullname] = node
        return node


# The codec's operation for a logical type on each base type; a logical type absent here
# keeps the base type's (nanosecond timestamps do not fit Python's datetime: they stay
# integers; a fixed's uuid and duration stay bytes).
_LOGICAL_OPS: Final = {
    ("int", "date"): DATE,
    ("int", "time-millis"): TIME_MILLIS,
    ("long", "time-micros"): TIME_MICROS,
    ("long", "timestamp-millis"): TIMESTAMP_MILLIS,
    ("long", "timestamp-micros"): TIMESTAMP_MICROS,
    ("long", "local-timestamp-millis"): LOCAL_TIMESTAMP_MILLIS,
    ("long", "local-timestamp-micros"): LOCAL_TIMESTAMP_MICROS,
    ("bytes", "decimal"): DECIMAL_BYTES,
    ("fixed", "decimal"): DECIMAL_FIXED,
    ("string", "uuid"): UUID_STRING,
}


def _apply_logical(node: Node, obj: dict[str, Any], fixed_size: int | None = None) -> None:
    """Attaches a valid logical type; an unknown or invalid one leaves the plain type."""
    lt = logical_type(obj, node.kind, fixed_size)
    if lt is None:
        return
    node.logical = lt
    node.op = _LOGICAL_OPS.get((node.kind, lt), node.op)
    params = decimal_params(obj) if lt == "decimal" else None
    if params is not None:  # valid: logical_type checked it
        node.precision, node.scale = params


def _min_size(node: Node, visiting: list[Node]) -> int:
    """The fewest bytes any value of ``node`` takes (Rust ``Schema::min_size``)."""
    op = node.op
    if op == NULL:
        return 0
    if op in (FLOAT,):
        return 4
    if op == DOUBLE:
        return 8
    if op in (FIXED, DECIMAL_FIXED):
        return node.size
    if op == RECORD:
        if any(v is node for v in visiting):
            # A record containing itself without a union or collection in between holds no
            # finite value; treat it as non-empty.
            return 1
        visiting.append(node)
        total = sum(_min_size(f.node, visiting) for f in node.fields)
        visiting.pop()
        return total
    return 1


def min_size(node: Node) -> int:
    """The fewest bytes any value of ``node`` takes (Rust ``Schema::min_size``)."""
    return _min_size(node, [])


def _fixed_size(node: Node, visiting: list[Node]) -> int | None:
    """Rust ``Schema::fixed_size``: the size every value of ``node`` takes when it is always
    the same and the bytes need no validation."""
    kind = node.kind
    if kind == "null":
        return 0
    if kind == "float":
        return 4
    if kind == "double":
        return 8
    if kind == "fixed":
        return node.size
    if kind == "record":
        if any(v is node for v in visiting):
            return None
        visiting.append(node)
        total: int | None = 0
        for f in node.fields:
            size = _fixed_size(f.node, visiting)
            if size is None or total is None:
                total = None
                break
            total += size
        visiting.pop()
        return total
    return None


def children(node: Node) -> list[Node]:
    """The nodes directly inside ``node``: field types, items, values or branches."""
    op = node.op
    if op == RECORD:
        return [f.node for f in node.fields]
    if op == ARRAY:
        return [node.items]
    if op == MAP:
        return [node.values]
    if op == UNION:
        return node.branches
    return []


def walk_nodes(root: Node) -> list[Node]:
    """Every node reachable from ``root``, once each."""
    out: list[Node] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        out.append(n)
        stack.extend(children(n))
    return out


def parse_value(value: Any, validate_defaults: bool, references: list[Any]) -> ParsedSchema:
    """Validates parsed schema JSON; raises SchemaError at the first problem, like Rust.
    The named types of ``references`` (parsed first) can be used by ``value``."""
    parser = _Parser()
    for i, reference in enumerate(references):
        try:
            parser.parse_node(reference, None, f"/references/{i}")
        except _Error as e:
            error = schema_error(f"in reference {i}: {e.message}", e.path)
        else:
            continue
        raise error
    try:
        root = parser.parse_node(value, None, "")
    except _Error as e:
        error = schema_error(e.message, e.path)
    else:
        return _finish(parser, root, validate_defaults)
    raise error


def _finish(parser: _Parser, root: Node, validate_defaults: bool) -> ParsedSchema:
    schema = ParsedSchema(root, parser.names, parser.recursive)
    for node in walk_nodes(root):
        node.fixed_size = _fixed_size(node, [])
        if node.op == ARRAY:
            node.min_size = _min_size(node.items, [])
        elif node.op == MAP:
            node.min_size = _min_size(node.values, [])
    # Checked once every name is defined: a default may use a type defined later.
    for pending in parser.defaults:
        try:
            value = default_value(pending.field.node, pending.value, 0)
        except DefaultError as e:
            problem = f"invalid default for field '{pending.field.name}': {e}"
        else:
            pending.field.has_usable_default = True
            pending.field.default_value = value
            continue
        if validate_defaults:
            raise schema_error(problem, pending.path)
    return schema


def parse_schema_text(
    text: str, validate_defaults: bool, references: list[str] | None = None
) -> ParsedSchema:
    """Parses schema JSON text, with the texts of the schemas it references (Schema Registry
    references), as ``Schema::parse_str_with`` / ``parse_with_references`` do."""
    if not references:
        return parse_value(load_json(text), validate_defaults, [])
    value = load_json(text, "the schema")
    refs = [load_json(r, f"reference {i}") for i, r in enumerate(references)]
    return parse_value(value, validate_defaults, refs)


class ParsedSchema:
    """A validated schema: the root node, the named types and the canonical form."""

    __slots__ = ("canonical", "names", "recursive", "root")

    def __init__(self, root: Node, names: dict[str, Node], recursive: bool) -> None:
        self.root = root
        self.names = names
        # True when a named type refers to itself: data may then nest without bound.
        self.recursive = recursive
        self.canonical = canonical_form(root)
