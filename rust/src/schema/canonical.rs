//! Parsing Canonical Form (Avro specification, "Schema Resolution" / "Parsing Canonical Form"):
//! primitives as bare names, full names, only the attributes that matter for parsing, in the
//! fixed order name, type, fields, symbols, items, values, size; no whitespace; a named type
//! after its first appearance is written as its full name.

use std::collections::HashSet;

use super::{Node, NodeId, Schema};

pub(super) fn canonical_form(schema: &Schema) -> String {
    let mut out = String::new();
    let mut seen = HashSet::new();
    write(schema, schema.root(), &mut out, &mut seen);
    out
}

fn push_json_string(out: &mut String, s: &str) {
    // serde_json escapes only what JSON requires and keeps other characters as UTF-8, which
    // is the [STRINGS] rule.
    out.push_str(&serde_json::Value::String(s.to_string()).to_string());
}

/// A JSON array: `[` each item written by `item`, between commas `]`.
fn push_list<'a, T>(out: &mut String, items: &'a [T], mut item: impl FnMut(&mut String, &'a T)) {
    out.push('[');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        item(out, x);
    }
    out.push(']');
}

fn write(schema: &Schema, id: NodeId, out: &mut String, seen: &mut HashSet<NodeId>) {
    let node = schema.node(id);
    if let Some(name) = node.name() {
        if !seen.insert(id) {
            push_json_string(out, &name.fullname);
            return;
        }
    }
    match node {
        Node::Record(r) => {
            out.push_str("{\"name\":");
            push_json_string(out, &r.name.fullname);
            // Java's SchemaNormalization (and so Schema Registry) and fastavro write error
            // types as "record" too: they parse the same.
            out.push_str(",\"type\":\"record\",\"fields\":");
            push_list(out, &r.fields, |out, f| {
                out.push_str("{\"name\":");
                push_json_string(out, &f.name);
                out.push_str(",\"type\":");
                write(schema, f.node, out, seen);
                out.push('}');
            });
            out.push('}');
        }
        Node::Enum(e) => {
            out.push_str("{\"name\":");
            push_json_string(out, &e.name.fullname);
            out.push_str(",\"type\":\"enum\",\"symbols\":");
            push_list(out, &e.symbols, |out, s| push_json_string(out, s));
            out.push('}');
        }
        Node::Fixed(f) => {
            out.push_str("{\"name\":");
            push_json_string(out, &f.name.fullname);
            out.push_str(",\"type\":\"fixed\",\"size\":");
            out.push_str(&f.size.to_string());
            out.push('}');
        }
        Node::Array { items } => {
            out.push_str("{\"type\":\"array\",\"items\":");
            write(schema, *items, out, seen);
            out.push('}');
        }
        Node::Map { values } => {
            out.push_str("{\"type\":\"map\",\"values\":");
            write(schema, *values, out, seen);
            out.push('}');
        }
        Node::Union { branches } => {
            push_list(out, branches, |out, b| write(schema, *b, out, seen));
        }
        primitive => {
            out.push('"');
            out.push_str(primitive.kind().name());
            out.push('"');
        }
    }
}
