"""Parsing Canonical Form, as ``rust/src/schema/canonical.rs``."""

from __future__ import annotations

import json

from .model import ARRAY, DECIMAL_FIXED, ENUM, FIXED, MAP, RECORD, UNION, Node


def canonical_form(root: Node) -> str:
    """Parsing Canonical Form, as canonical.rs writes it."""
    out: list[str] = []
    seen: set[int] = set()

    def write(node: Node) -> None:
        if node.name is not None:
            if id(node) in seen:
                out.append(json.dumps(node.name.fullname))
                return
            seen.add(id(node))
        op = node.op
        if op == RECORD:
            assert node.name is not None
            out.append('{"name":')
            out.append(json.dumps(node.name.fullname))
            # Java's SchemaNormalization (and so Schema Registry) and fastavro write error
            # types as "record" too: they parse the same.
            out.append(',"type":"record","fields":[')
            for i, f in enumerate(node.fields):
                if i:
                    out.append(",")
                out.append('{"name":')
                out.append(json.dumps(f.name))
                out.append(',"type":')
                write(f.node)
                out.append("}")
            out.append("]}")
        elif op == ENUM:
            assert node.name is not None
            out.append('{"name":')
            out.append(json.dumps(node.name.fullname))
            out.append(',"type":"enum","symbols":[')
            out.append(",".join(json.dumps(s) for s in node.symbols))
            out.append("]}")
        elif op in (FIXED, DECIMAL_FIXED):
            assert node.name is not None
            out.append('{"name":')
            out.append(json.dumps(node.name.fullname))
            out.append(f',"type":"fixed","size":{node.size}}}')
        elif op == ARRAY:
            out.append('{"type":"array","items":')
            write(node.items)
            out.append("}")
        elif op == MAP:
            out.append('{"type":"map","values":')
            write(node.values)
            out.append("}")
        elif op == UNION:
            out.append("[")
            for i, b in enumerate(node.branches):
                if i:
                    out.append(",")
                write(b)
            out.append("]")
        else:
            out.append(f'"{node.kind}"')

    write(root)
    return "".join(out)
