"""Reader/writer compatibility as Apache Avro's ``SchemaCompatibility`` (and so Confluent
Schema Registry) decides it, mirroring ``rust/src/compat.rs``: the same incompatibility
types, locations (JSON pointers such as ``/fields/1/type``) and messages, in the same order.
Name and promotion rules come from ``matching.py``, shared with the resolver.
"""

from __future__ import annotations

from typing import Final

from ..schema import Node
from .matching import PROMOTIONS, names_match

__all__ = ["check"]

Finding = tuple[str, str, str]

# Java's upper-case type names, used in its messages.
_JAVA_TYPES: Final = {
    "null": "NULL",
    "boolean": "BOOLEAN",
    "int": "INT",
    "long": "LONG",
    "float": "FLOAT",
    "double": "DOUBLE",
    "bytes": "BYTES",
    "string": "STRING",
    "record": "RECORD",
    "enum": "ENUM",
    "array": "ARRAY",
    "map": "MAP",
    "union": "UNION",
    "fixed": "FIXED",
}


def check(reader: Node, writer: Node) -> list[Finding]:
    """Every incompatibility of reading data written with ``writer`` using ``reader``, as
    (error type, location, message); empty when compatible."""
    return _Checker().compat(reader, writer)


class _Checker:
    def __init__(self) -> None:
        # Pairs being checked (None) or already checked: recursion assumes compatibility,
        # as Java does, and a repeated pair returns its first answer.
        self.memo: dict[tuple[int, int], list[Finding] | None] = {}
        self.keep: list[Node] = []
        self.location: list[str] = []

    def here(self) -> str:
        if not self.location:
            return "/"
        return "/" + "/".join(s.replace("~", "~0").replace("/", "~1") for s in self.location)

    def incompatible(self, kind: str, message: str) -> list[Finding]:
        return [(kind, self.here(), message)]

    def compat_at(self, segment: str, r: Node, w: Node) -> list[Finding]:
        self.location.append(segment)
        try:
            return self.compat(r, w)
        finally:
            self.location.pop()

    def compat(self, r: Node, w: Node) -> list[Finding]:
        key = (id(r), id(w))
        if key in self.memo:
            done = self.memo[key]
            return [] if done is None else list(done)
        self.memo[key] = None
        self.keep.append(r)
        self.keep.append(w)
        result = self.calculate(r, w)
        self.memo[key] = list(result)
        return result

    def calculate(self, r: Node, w: Node) -> list[Finding]:
        rk, wk = r.kind, w.kind
        if rk == wk:
            if rk == "array":
                return self.compat_at("items", r.items, w.items)
            if rk == "map":
                return self.compat_at("values", r.values, w.values)
            if rk == "fixed":
                out = self.check_names(r, w)
                if r.size != w.size:
                    self.location.append("size")
                    out.extend(
                        self.incompatible(
                            "FIXED_SIZE_MISMATCH", f"expected: {w.size}, found: {r.size}"
                        )
                    )
                    self.location.pop()
                return out
            if rk == "enum":
                out = self.check_names(r, w)
                missing = sorted({s for s in w.symbols if s not in r.symbols})
                if missing and r.enum_default is None:
                    # Java collects them in a TreeSet: sorted, printed as [A, B].
                    self.location.append("symbols")
                    out.extend(self.incompatible("MISSING_ENUM_SYMBOLS", f"[{', '.join(missing)}]"))
                    self.location.pop()
                return out
            if rk == "record":
                out = self.check_names(r, w)
                out.extend(self.check_fields(r, w))
                return out
            if rk == "union":
                out = []
                for i, wb in enumerate(w.branches):
                    self.location.append(str(i))
                    if self.compat(r, wb):
                        out.extend(
                            self.incompatible(
                                "MISSING_UNION_BRANCH",
                                f"reader union lacking writer type: {_JAVA_TYPES[wb.kind]}",
                            )
                        )
                    self.location.pop()
                return out
            return []
        # Different kinds. A writer union is readable when each branch is (Avro 1.12 puts
        # the branch index in the location; 1.11 did not).
        if wk == "union":
            out = []
            for i, wb in enumerate(w.branches):
                out.extend(self.compat_at(str(i), r, wb))
            return out
        if (wk, rk) in PROMOTIONS:
            return []
        if rk == "union":
            # Java tries the branches with a fresh location stack, so findings memoised here
            # carry locations counted from the root when they are reused elsewhere.
            saved = self.location
            self.location = []
            try:
                found = any(not self.compat(rb, w) for rb in r.branches)
            finally:
                self.location = saved
            if found:
                return []
            return self.incompatible(
                "MISSING_UNION_BRANCH", f"reader union lacking writer type: {_JAVA_TYPES[wk]}"
            )
        return self.incompatible(
            "TYPE_MISMATCH",
            f"reader type: {_JAVA_TYPES[rk]} not compatible with writer type: {_JAVA_TYPES[wk]}",
        )

    def check_names(self, r: Node, w: Node) -> list[Finding]:
        """Named types match by unqualified name, or when a reader alias is the writer's full
        name."""
        wname = w.name
        if wname is None or names_match(w, r):
            return []
        self.location.append("name")
        out = self.incompatible("NAME_MISMATCH", f"expected: {wname.fullname}")
        self.location.pop()
        return out

    def check_fields(self, rr: Node, wr: Node) -> list[Finding]:
        out: list[Finding] = []
        self.location.append("fields")
        for pos, rf in enumerate(rr.fields):
            self.location.append(str(pos))
            writer_field = next((wf for wf in wr.fields if wf.name == rf.name), None)
            if writer_field is None:
                for alias in rf.aliases:
                    writer_field = next((wf for wf in wr.fields if wf.name == alias), None)
                    if writer_field is not None:
                        break
            if writer_field is not None:
                out.extend(self.compat_at("type", rf.node, writer_field.node))
            elif rf.has_default:
                pass
            elif rf.node.kind == "enum" and rf.node.enum_default is not None:
                # Java's special case: an enum field with an enum default is checked against
                # the writer record itself.
                out.extend(self.compat_at("type", rf.node, wr))
            else:
                out.extend(self.incompatible("READER_FIELD_MISSING_DEFAULT_VALUE", rf.name))
            self.location.pop()
        self.location.pop()
        return out
