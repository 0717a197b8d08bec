"""The generated conversions between the classes and the codec's representation:
annotations, ``to_dict``/``from_dict`` expressions and helpers, union branch matching."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..schema import Field, Node
from .model import logical
from .naming import name_classes, name_fields, name_members


class NoDefault(Exception):
    """A default that has no Python value here (the field is generated without one)."""


def str_literal(text: str) -> str:
    """A Python string literal of ``text``."""
    return json.dumps(text, ensure_ascii=False) if text.isprintable() else repr(text)


def text_literal(text: str) -> str:
    """A Python string literal of ``text``, preferring single quotes (for JSON text)."""
    return repr(text)


def _plain(line: str) -> bool:
    return line.isprintable() and '"""' not in line and "\\" not in line


def doc_lines(doc: Any, extra: str | None, indent: str) -> list[str]:
    """A docstring: ``doc`` (any text), then the line ``extra``."""
    parts = [p for p in (doc if isinstance(doc, str) else None, extra) if p and p.strip()]
    if not parts:
        return []
    text = "\n\n".join(parts)
    lines = text.split("\n")
    if not all(_plain(line) for line in lines) or text.endswith('"'):
        return [f"{indent}{text!r}"]
    if len(lines) == 1:
        return [f'{indent}"""{text}"""']
    out = [f'{indent}"""{lines[0]}']
    out += [f"{indent}{line}".rstrip() for line in lines[1:]]
    out.append(f'{indent}"""')
    return out


class Conversions:
    """The generator's state (the types, their Python names, the helpers written so far) and
    the conversion expressions; :class:`~.defaults.Defaults` and
    :class:`~.generator.Generator` build on it."""

    def __init__(self, named: list[Node], sources: Sequence[str]) -> None:
        self.named = named
        self.sources = sources
        self.records = [t for t in named if t.kind == "record"]
        self.enums = [t for t in named if t.kind == "enum"]
        self.class_names = name_classes([t for t in named if t.kind != "fixed"])
        taken = set(self.class_names.values())
        self.field_names: dict[int, str] = {}
        for r in self.records:
            self.field_names.update(name_fields(r, taken))
        self.members = {id(e): name_members(e) for e in self.enums}
        self.helpers: list[str] = []
        self.factories: list[str] = []  # default factories: defined before the classes
        self.helper_names: dict[tuple[str, int], str] = {}
        self.uses: set[str] = {"_dc", "_t"}

    def py(self, t: Node) -> str:
        """The class name of a record or enum."""
        return self.class_names[id(t)]

    def attr(self, f: Field) -> str:
        """The attribute name of a field."""
        return self.field_names[id(f)]

    # Types ----------------------------------------------------------------------------

    def ann(self, t: Node) -> str:
        k, lt = t.kind, logical(t)
        if k == "null":
            return "None"
        if k == "boolean":
            return "bool"
        if k in ("int", "long"):
            if lt == "date":
                return self.use("_dt", "_dt.date")
            if lt in ("time-millis", "time-micros"):
                return self.use("_dt", "_dt.time")
            if lt is not None:
                return self.use("_dt", "_dt.datetime")
            return "int"
        if k in ("float", "double"):
            return "float"
        if k in ("bytes", "fixed"):
            return self.use("_decimal", "_decimal.Decimal") if lt == "decimal" else "bytes"
        if k == "string":
            return self.use("_uuid", "_uuid.UUID") if lt == "uuid" else "str"
        if k in ("record", "enum"):
            return self.py(t)
        if k == "array":
            return f"list[{self.ann(t.items)}]"
        if k == "map":
            return f"dict[str, {self.ann(t.values)}]"
        assert k == "union"
        parts: list[str] = []
        for b in t.branches:
            a = self.ann(b)
            if a != "None" and a not in parts:
                parts.append(a)
        if any(b.kind == "null" for b in t.branches):
            parts.append("None")
        if not parts:
            return "_t.NoReturn"
        return " | ".join(parts)

    def use(self, module: str, text: str) -> str:
        self.uses.add(module)
        return text

    # Conversions ----------------------------------------------------------------------

    def needs(self, t: Node, seen: frozenset[int] = frozenset()) -> bool:
        """Whether values of ``t`` differ between the classes and the dict representation."""
        if t.kind in ("record", "enum"):
            return True
        if id(t) in seen:
            return False
        inner = seen | {id(t)}
        if t.kind == "array":
            return self.needs(t.items, inner)
        if t.kind == "map":
            return self.needs(t.values, inner)
        if t.kind == "union":
            return any(self.needs(b, inner) for b in t.branches)
        return False

    def to_expr(self, t: Node, e: str, depth: int) -> str | None:
        """Expression converting ``e`` (class representation) to the dict one; None when
        they are the same."""
        return self._expr(t, e, depth, to_dict=True)

    def from_expr(self, t: Node, e: str, depth: int) -> str | None:
        """Expression building the class representation from decoded ``e``."""
        return self._expr(t, e, depth, to_dict=False)

    def _expr(self, t: Node, e: str, depth: int, *, to_dict: bool) -> str | None:
        if not self.needs(t):
            return None
        k = t.kind
        if k == "record":
            return f"{e}.to_dict()" if to_dict else f"{self.py(t)}.from_dict({e})"
        if k == "enum":
            return f"{e}.value" if to_dict else f"{self.py(t)}({e})"
        x = f"_avro_x{depth}"
        if k == "array":
            return f"[{self._expr(t.items, x, depth + 1, to_dict=to_dict)} for {x} in {e}]"
        if k == "map":
            inner = self._expr(t.values, x, depth + 1, to_dict=to_dict)
            return f"{{_avro_k{depth}: {inner} for _avro_k{depth}, {x} in {e}.items()}}"
        others = [b for b in t.branches if b.kind != "null"]
        if len(others) == 1 and len(t.branches) == 2:
            inner = self._expr(others[0], e, depth, to_dict=to_dict)
            return f"None if {e} is None else {inner}"
        helper = self.to_helper(t) if to_dict else self.from_helper(t)
        return f"{helper}({e})"

    def to_helper(self, t: Node) -> str:
        key = ("to", id(t))
        if key in self.helper_names:
            return self.helper_names[key]
        name = f"_avro_to_{len(self.helper_names)}"
        self.helper_names[key] = name
        cases: list[tuple[str, str]] = []  # (isinstance test, conversion)
        covered = 0
        records = [b for b in t.branches if b.kind == "record"]
        enums = [b for b in t.branches if b.kind == "enum"]
        for group, conversion in ((records, "_avro_v.to_dict()"), (enums, "_avro_v.value")):
            if group:
                names = ", ".join(self.py(b) for b in group)
                cases.append((f"({names})" if len(group) > 1 else names, conversion))
                covered += len(group)
        for b in t.branches:
            if b.kind in ("array", "map") and self.needs(b):
                test = "list" if b.kind == "array" else "dict"
                cases.append((test, self.to_expr(b, "_avro_v", 1) or "_avro_v"))
                covered += 1
        lines = [f"def {name}(_avro_v: {self.ann(t)}) -> _t.Any:"]
        for i, (test, conversion) in enumerate(cases):
            if covered == len(t.branches) and i == len(cases) - 1:
                lines.append(f"    return {conversion}")  # every branch is handled
            else:
                lines += [f"    if isinstance(_avro_v, {test}):", f"        return {conversion}"]
        if covered < len(t.branches):
            lines.append("    return _avro_v")
        self.helpers.append("\n".join(lines))
        return name

    def from_helper(self, t: Node) -> str:
        key = ("from", id(t))
        if key in self.helper_names:
            return self.helper_names[key]
        name = f"_avro_from_{len(self.helper_names)}"
        self.helper_names[key] = name
        ann = self.ann(t)
        lines = [f"def {name}(_avro_v: _t.Any) -> {ann}:"]
        # Decoded dicts come from records or a map, str from a string or enums, lists from
        # the array: tell the branches apart as fastavro's writer picks them.
        dict_branches = [b for b in t.branches if b.kind == "record" or b.kind == "map"]
        if any(self.needs(b) for b in dict_branches):
            lines.append("    if isinstance(_avro_v, dict):")
            maps = [b for b in dict_branches if b.kind == "map"]
            records = sorted(
                (b for b in dict_branches if b.kind == "record"),
                key=lambda b: -len(b.fields),  # stable: earliest first among equals
            )
            if len(dict_branches) == 1:
                only = dict_branches[0]
                lines.append(f"        return {self.from_expr(only, '_avro_v', 1) or '_avro_v'}")
            else:
                for m in maps:
                    lines += [
                        f"        if {self.match(m, '_avro_v', 1)}:",
                        f"            return {self.from_expr(m, '_avro_v', 1) or '_avro_v'}",
                    ]
                for r in records:
                    lines += [
                        f"        if {self.match(r, '_avro_v', 1)}:",
                        f"            return {self.py(r)}.from_dict(_avro_v)",
                    ]
        str_branches = [
            b for b in t.branches if b.kind == "enum" or (b.kind == "string" and not logical(b))
        ]
        if any(b.kind == "enum" for b in str_branches):
            lines.append("    if isinstance(_avro_v, str):")
            for b in str_branches:
                if b.kind == "string":
                    lines.append("        return _avro_v")
                    break
                symbols = ", ".join(str_literal(s) for s in b.symbols)
                lines += [
                    f"        if _avro_v in ({symbols},):",
                    f"            return {self.py(b)}(_avro_v)",
                ]
        for b in t.branches:
            if b.kind == "array" and self.needs(b):
                lines += [
                    "    if isinstance(_avro_v, list):",
                    f"        return {self.from_expr(b, '_avro_v', 1)}",
                ]
        lines.append(f"    return _t.cast({str_literal(ann)}, _avro_v)")
        self.helpers.append("\n".join(lines))
        return name

    def match(self, t: Node, e: str, depth: int) -> str:
        """A boolean expression: ``e`` is a value ``avrobridge.decode`` returns for ``t``."""
        k, lt = t.kind, logical(t)
        if k == "null":
            return f"{e} is None"
        if k == "boolean":
            return f"isinstance({e}, bool)"
        if k in ("int", "long"):
            if lt == "date":
                dt_ = self.use("_dt", "_dt")
                return f"(isinstance({e}, {dt_}.date) and not isinstance({e}, {dt_}.datetime))"
            if lt in ("time-millis", "time-micros"):
                return f"isinstance({e}, {self.use('_dt', '_dt')}.time)"
            if lt is not None:
                tz = "is None" if lt.startswith("local") else "is not None"
                return f"(isinstance({e}, {self.use('_dt', '_dt')}.datetime) and {e}.tzinfo {tz})"
            return f"(isinstance({e}, int) and not isinstance({e}, bool))"
        if k in ("float", "double"):
            return f"isinstance({e}, float)"
        if k in ("bytes", "fixed"):
            if lt == "decimal":
                return f"isinstance({e}, {self.use('_decimal', '_decimal')}.Decimal)"
            if k == "fixed":
                return f"(isinstance({e}, bytes) and len({e}) == {t.size})"
            return f"isinstance({e}, bytes)"
        if k == "string":
            if lt == "uuid":
                return f"isinstance({e}, {self.use('_uuid', '_uuid')}.UUID)"
            return f"isinstance({e}, str)"
        if k == "enum":
            symbols = ", ".join(str_literal(s) for s in t.symbols)
            return f"(isinstance({e}, str) and {e} in ({symbols},))"
        if k == "record":
            return f"{self.matcher(t)}({e})"
        x = f"_avro_x{depth}"
        if k == "array":
            inner = self.match(t.items, x, depth + 1)
            return f"(isinstance({e}, list) and all({inner} for {x} in {e}))"
        if k == "map":
            inner = self.match(t.values, x, depth + 1)
            return f"(isinstance({e}, dict) and all({inner} for {x} in {e}.values()))"
        if not t.branches:
            return "False"
        return "(" + " or ".join(self.match(b, e, depth) for b in t.branches) + ")"

    def matcher(self, record: Node) -> str:
        key = ("is", id(record))
        if key in self.helper_names:
            return self.helper_names[key]
        name = f"_avro_is_{self.py(record)}"
        self.helper_names[key] = name
        keys = ", ".join(str_literal(f.name) for f in record.fields)
        tests = [
            "isinstance(_avro_v, dict)",
            f"_avro_v.keys() == {{{keys}}}" if record.fields else "not _avro_v",
        ]
        for f in record.fields:
            tests.append(self.match(f.node, f"_avro_v[{str_literal(f.name)}]", 1))
        body = "\n        and ".join(tests)
        self.helpers.append(
            f"def {name}(_avro_v: _t.Any) -> bool:\n    return bool(\n        {body}\n    )"
        )
        return name

    # Defaults -------------------------------------------------------------------------
