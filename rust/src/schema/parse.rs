//! Avro schema JSON -> `Schema` arena, with every validity rule of the 1.12 specification:
//! names and namespaces, duplicate fields and symbols, union rules, fixed sizes, logical
//! types (invalid ones are dropped, as the specification asks) and field defaults.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::default::validate_default;
use super::logical_types::apply_logical;
use super::{Node, NodeId, ParseOptions, Schema};
use crate::error::{Error, Result};
use crate::rules::MAX_SCHEMA_DEPTH;

pub(super) fn parse(value: &Value, options: ParseOptions, references: &[Value]) -> Result<Schema> {
    let mut parser = Parser {
        nodes: Vec::new(),
        names: HashMap::new(),
        defaults: Vec::new(),
        depth: 0,
    };
    for (i, reference) in references.iter().enumerate() {
        parser
            .parse_node(reference, None, &mut format!("/references/{i}"))
            .map_err(|e| match e {
                Error::Schema { message, path } => {
                    Error::schema(format!("in reference {i}: {message}"), path)
                }
                other => other,
            })?;
    }
    let root = parser.parse_node(value, None, &mut String::new())?;
    let Parser {
        nodes,
        names,
        defaults,
        ..
    } = parser;
    let schema = Schema::from_parts(nodes, root, names);
    if options.validate_defaults {
        // Checked once every name is defined: a default may reference a type defined later
        // in the document (or the record that is still being parsed).
        for pending in defaults {
            validate_default(&schema, pending.node, &pending.value).map_err(|reason| {
                Error::schema(
                    format!("invalid default for field '{}': {reason}", pending.field),
                    pending.path,
                )
            })?;
        }
    }
    Ok(schema)
}

pub(super) struct PendingDefault {
    pub(super) field: String,
    pub(super) node: NodeId,
    pub(super) value: Value,
    pub(super) path: String,
}

pub(super) struct Parser {
    pub(super) nodes: Vec<Node>,
    pub(super) names: HashMap<String, NodeId>,
    pub(super) defaults: Vec<PendingDefault>,
    pub(super) depth: usize,
}

/// Appends `segment` to `path` for the duration of `f`.
pub(super) fn with_segment<T>(
    path: &mut String,
    segment: &str,
    f: impl FnOnce(&mut String) -> T,
) -> T {
    let len = path.len();
    path.push('/');
    path.push_str(segment);
    let out = f(path);
    path.truncate(len);
    out
}

pub(crate) fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(super) fn is_valid_namespace(ns: &str) -> bool {
    ns.is_empty() || ns.split('.').all(is_valid_name)
}

pub(super) fn kind_of_type_name(t: &str) -> Option<Node> {
    Some(match t {
        "null" => Node::Null,
        "boolean" => Node::Boolean,
        "int" => Node::Int { logical: None },
        "long" => Node::Long { logical: None },
        "float" => Node::Float,
        "double" => Node::Double,
        "bytes" => Node::Bytes { logical: None },
        "string" => Node::String { logical: None },
        _ => return None,
    })
}

pub(super) fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Parser {
    pub(super) fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// The schema under `key` ("items", "values") of a `kind` ("array", "map") schema.
    fn parse_child(
        &mut self,
        obj: &Map<String, Value>,
        kind: &str,
        key: &str,
        ns: Option<&str>,
        path: &mut String,
    ) -> Result<NodeId> {
        let child = obj
            .get(key)
            .ok_or_else(|| Error::schema(format!("{kind} schema has no '{key}'"), path.clone()))?;
        with_segment(path, key, |p| self.parse_node(child, ns, p))
    }

    pub(super) fn parse_node(
        &mut self,
        value: &Value,
        ns: Option<&str>,
        path: &mut String,
    ) -> Result<NodeId> {
        self.depth += 1;
        if self.depth > MAX_SCHEMA_DEPTH {
            return Err(Error::schema(
                format!("schema nested deeper than {MAX_SCHEMA_DEPTH} levels"),
                path.clone(),
            ));
        }
        let out = match value {
            Value::String(s) => self.parse_reference(s, ns, path),
            Value::Array(items) => self.parse_union(items, ns, path),
            Value::Object(obj) => self.parse_object(obj, ns, path),
            other => Err(Error::schema(
                format!(
                    "a schema must be a string, an object or an array, not {}",
                    describe(other)
                ),
                path.clone(),
            )),
        };
        self.depth -= 1;
        out
    }

    /// A type given by name: a primitive, or a named type defined earlier (or being defined).
    pub(super) fn parse_reference(
        &mut self,
        s: &str,
        ns: Option<&str>,
        path: &str,
    ) -> Result<NodeId> {
        if let Some(node) = kind_of_type_name(s) {
            return Ok(self.push(node));
        }
        if let Some(id) = self.lookup(s, ns) {
            return Ok(id);
        }
        let hint = match s {
            "record" | "error" | "enum" | "array" | "map" | "fixed" => {
                format!(" ('{s}' must be given as {{\"type\": \"{s}\", ...}})")
            }
            _ => String::new(),
        };
        Err(Error::schema(
            format!("unknown type '{s}'{hint}"),
            path.to_string(),
        ))
    }

    pub(super) fn lookup(&self, s: &str, ns: Option<&str>) -> Option<NodeId> {
        if !s.contains('.') {
            if let Some(ns) = ns.filter(|n| !n.is_empty()) {
                if let Some(id) = self.names.get(&format!("{ns}.{s}")) {
                    return Some(*id);
                }
            }
        }
        self.names.get(s).copied()
    }

    pub(super) fn parse_union(
        &mut self,
        items: &[Value],
        ns: Option<&str>,
        path: &mut String,
    ) -> Result<NodeId> {
        let mut branches = Vec::with_capacity(items.len());
        let mut seen_kinds = HashSet::new();
        let mut seen_names = HashSet::new();
        for (i, item) in items.iter().enumerate() {
            let id = with_segment(path, &i.to_string(), |p| self.parse_node(item, ns, p))?;
            #[allow(clippy::indexing_slicing)] // `id` was just returned by parse_node
            let node = &self.nodes[id];
            let branch_path = format!("{path}/{i}");
            match node {
                Node::Union { .. } => {
                    return Err(Error::schema(
                        "a union may not immediately contain another union",
                        branch_path,
                    ));
                }
                Node::Record(_) | Node::Enum(_) | Node::Fixed(_) => {
                    let name = node.branch_name().to_string();
                    if !seen_names.insert(name.clone()) {
                        return Err(Error::schema(
                            format!("union contains '{name}' twice"),
                            branch_path,
                        ));
                    }
                }
                other => {
                    if !seen_kinds.insert(other.kind()) {
                        return Err(Error::schema(
                            format!("union contains more than one {}", other.kind().name()),
                            branch_path,
                        ));
                    }
                }
            }
            branches.push(id);
        }
        Ok(self.push(Node::Union { branches }))
    }

    pub(super) fn parse_object(
        &mut self,
        obj: &Map<String, Value>,
        ns: Option<&str>,
        path: &mut String,
    ) -> Result<NodeId> {
        let type_value = obj
            .get("type")
            .ok_or_else(|| Error::schema("schema object has no 'type'", path.clone()))?;
        let type_name = match type_value {
            Value::String(s) => s.as_str(),
            // `{"type": {...}}` and `{"type": [...]}`: a nested schema in place of a name.
            Value::Object(_) | Value::Array(_) => {
                return with_segment(path, "type", |p| self.parse_node(type_value, ns, p));
            }
            other => {
                return Err(Error::schema(
                    format!("'type' must be a string, not {}", describe(other)),
                    format!("{path}/type"),
                ));
            }
        };
        match type_name {
            "record" | "error" => self.parse_record(obj, ns, path, type_name == "error"),
            "enum" => self.parse_enum(obj, ns, path),
            "fixed" => self.parse_fixed(obj, ns, path),
            "array" => {
                let items = self.parse_child(obj, "array", "items", ns, path)?;
                Ok(self.push(Node::Array { items }))
            }
            "map" => {
                let values = self.parse_child(obj, "map", "values", ns, path)?;
                Ok(self.push(Node::Map { values }))
            }
            t => match kind_of_type_name(t) {
                Some(node) => {
                    let node = apply_logical(node, obj);
                    Ok(self.push(node))
                }
                None => self.parse_reference(t, ns, &format!("{path}/type")),
            },
        }
    }
}
