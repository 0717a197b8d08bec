//! Avro schema JSON -> `Schema` arena, with every validity rule of the 1.12 specification:
//! names and namespaces, duplicate fields and symbols, union rules, fixed sizes, logical
//! types (invalid ones are dropped, as the specification asks) and field defaults.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::default::validate_default;
use super::{Enum, Field, Fixed, Logical, Name, Node, NodeId, Order, ParseOptions, Record, Schema};
use crate::error::{Error, Result};

const PRIMITIVES: [&str; 8] = [
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
];

/// Deeper JSON nesting than this is refused rather than risking the stack.
const MAX_SCHEMA_DEPTH: usize = 256;

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

struct PendingDefault {
    field: String,
    node: NodeId,
    value: Value,
    path: String,
}

struct Parser {
    nodes: Vec<Node>,
    names: HashMap<String, NodeId>,
    defaults: Vec<PendingDefault>,
    depth: usize,
}

/// Appends `segment` to `path` for the duration of `f`.
fn with_segment<T>(path: &mut String, segment: &str, f: impl FnOnce(&mut String) -> T) -> T {
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

fn is_valid_namespace(ns: &str) -> bool {
    ns.is_empty() || ns.split('.').all(is_valid_name)
}

fn kind_of_type_name(t: &str) -> Option<Node> {
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

fn describe(v: &Value) -> &'static str {
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
    fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    fn parse_node(&mut self, value: &Value, ns: Option<&str>, path: &mut String) -> Result<NodeId> {
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
    fn parse_reference(&mut self, s: &str, ns: Option<&str>, path: &str) -> Result<NodeId> {
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

    fn lookup(&self, s: &str, ns: Option<&str>) -> Option<NodeId> {
        if !s.contains('.') {
            if let Some(ns) = ns.filter(|n| !n.is_empty()) {
                if let Some(id) = self.names.get(&format!("{ns}.{s}")) {
                    return Some(*id);
                }
            }
        }
        self.names.get(s).copied()
    }

    fn parse_union(
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

    fn parse_object(
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
                let items = obj
                    .get("items")
                    .ok_or_else(|| Error::schema("array schema has no 'items'", path.clone()))?;
                let items = with_segment(path, "items", |p| self.parse_node(items, ns, p))?;
                Ok(self.push(Node::Array { items }))
            }
            "map" => {
                let values = obj
                    .get("values")
                    .ok_or_else(|| Error::schema("map schema has no 'values'", path.clone()))?;
                let values = with_segment(path, "values", |p| self.parse_node(values, ns, p))?;
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

    /// Works out the full name of a named type from `name` and `namespace`, checks it, and
    /// reserves it so that the type's own fields can refer to it.
    fn define_name(
        &mut self,
        obj: &Map<String, Value>,
        ns: Option<&str>,
        path: &str,
    ) -> Result<Name> {
        let raw = match obj.get("name") {
            Some(Value::String(s)) => s.as_str(),
            Some(other) => {
                return Err(Error::schema(
                    format!("'name' must be a string, not {}", describe(other)),
                    format!("{path}/name"),
                ));
            }
            None => return Err(Error::schema("named type has no 'name'", path.to_string())),
        };
        let namespace_attr = match obj.get("namespace") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(other) => {
                return Err(Error::schema(
                    format!("'namespace' must be a string, not {}", describe(other)),
                    format!("{path}/namespace"),
                ));
            }
        };
        let (namespace, short) = match raw.rsplit_once('.') {
            Some((space, short)) => (Some(space.to_string()), short.to_string()),
            None => (namespace_attr.or(ns).map(str::to_string), raw.to_string()),
        };
        let namespace = namespace.filter(|n| !n.is_empty());
        if !is_valid_name(&short) {
            return Err(Error::schema(
                format!(
                    "invalid name '{raw}': names start with a letter or _ and hold only letters, digits and _"
                ),
                format!("{path}/name"),
            ));
        }
        if let Some(space) = &namespace {
            if !is_valid_namespace(space) {
                return Err(Error::schema(
                    format!("invalid namespace '{space}'"),
                    format!("{path}/namespace"),
                ));
            }
        }
        if PRIMITIVES.contains(&short.as_str()) {
            return Err(Error::schema(
                format!("'{short}' is a primitive type and cannot be redefined"),
                format!("{path}/name"),
            ));
        }
        let fullname = match &namespace {
            Some(space) => format!("{space}.{short}"),
            None => short.clone(),
        };
        if self.names.contains_key(&fullname) {
            return Err(Error::schema(
                format!("name '{fullname}' is already defined"),
                format!("{path}/name"),
            ));
        }
        Ok(Name {
            fullname,
            name: short,
            namespace,
        })
    }

    fn parse_aliases(
        &self,
        obj: &Map<String, Value>,
        namespace: Option<&str>,
        path: &str,
    ) -> Result<Vec<String>> {
        let Some(value) = obj.get("aliases") else {
            return Ok(Vec::new());
        };
        let Value::Array(items) = value else {
            return Err(Error::schema(
                "'aliases' must be an array of names",
                format!("{path}/aliases"),
            ));
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let Value::String(alias) = item else {
                return Err(Error::schema(
                    "an alias must be a string",
                    format!("{path}/aliases/{i}"),
                ));
            };
            let valid = match alias.rsplit_once('.') {
                Some((space, short)) => is_valid_namespace(space) && is_valid_name(short),
                None => is_valid_name(alias),
            };
            if !valid {
                return Err(Error::schema(
                    format!("invalid alias '{alias}'"),
                    format!("{path}/aliases/{i}"),
                ));
            }
            out.push(match (alias.contains('.'), namespace) {
                (false, Some(space)) => format!("{space}.{alias}"),
                _ => alias.clone(),
            });
        }
        Ok(out)
    }

    fn parse_record(
        &mut self,
        obj: &Map<String, Value>,
        ns: Option<&str>,
        path: &mut String,
        is_error: bool,
    ) -> Result<NodeId> {
        let name = self.define_name(obj, ns, path)?;
        let aliases = self.parse_aliases(obj, name.namespace.as_deref(), path)?;
        // Reserve the id first so fields can refer to the record recursively. The placeholder
        // is already a record of this name: a union holding the record itself
        // (`["null", "Self"]`) must see a named record, not some other type.
        let id = self.push(Node::Record(Record {
            name: name.clone(),
            aliases: aliases.clone(),
            fields: Vec::new(),
            is_error,
        }));
        self.names.insert(name.fullname.clone(), id);
        let fields_value = obj.get("fields").ok_or_else(|| {
            Error::schema(
                format!("record '{}' has no 'fields'", name.fullname),
                path.clone(),
            )
        })?;
        let Value::Array(field_values) = fields_value else {
            return Err(Error::schema(
                "'fields' must be an array",
                format!("{path}/fields"),
            ));
        };
        let mut fields: Vec<Field> = Vec::with_capacity(field_values.len());
        let mut seen = HashSet::new();
        for (i, fv) in field_values.iter().enumerate() {
            let field_path = format!("{path}/fields/{i}");
            let Value::Object(f) = fv else {
                return Err(Error::schema("a field must be an object", field_path));
            };
            let fname = match f.get("name") {
                Some(Value::String(s)) => s.clone(),
                Some(_) => {
                    return Err(Error::schema(
                        "field 'name' must be a string",
                        format!("{field_path}/name"),
                    ));
                }
                None => return Err(Error::schema("field has no 'name'", field_path)),
            };
            if !is_valid_name(&fname) {
                return Err(Error::schema(
                    format!("invalid field name '{fname}'"),
                    format!("{field_path}/name"),
                ));
            }
            if !seen.insert(fname.clone()) {
                return Err(Error::schema(
                    format!("record '{}' has two fields named '{fname}'", name.fullname),
                    format!("{field_path}/name"),
                ));
            }
            let type_value = f.get("type").ok_or_else(|| {
                Error::schema(format!("field '{fname}' has no 'type'"), field_path.clone())
            })?;
            let mut type_path = format!("{field_path}/type");
            let node = self.parse_node(type_value, name.namespace.as_deref(), &mut type_path)?;
            let order = match f.get("order") {
                None => Order::Ascending,
                Some(Value::String(s)) if s == "ascending" => Order::Ascending,
                Some(Value::String(s)) if s == "descending" => Order::Descending,
                Some(Value::String(s)) if s == "ignore" => Order::Ignore,
                Some(_) => {
                    return Err(Error::schema(
                        "field 'order' must be \"ascending\", \"descending\" or \"ignore\"",
                        format!("{field_path}/order"),
                    ));
                }
            };
            let aliases = match f.get("aliases") {
                None => Vec::new(),
                Some(Value::Array(items)) => {
                    let mut out = Vec::new();
                    for (j, a) in items.iter().enumerate() {
                        match a {
                            Value::String(s) if is_valid_name(s) => out.push(s.clone()),
                            _ => {
                                return Err(Error::schema(
                                    "a field alias must be a valid name",
                                    format!("{field_path}/aliases/{j}"),
                                ));
                            }
                        }
                    }
                    out
                }
                Some(_) => {
                    return Err(Error::schema(
                        "field 'aliases' must be an array",
                        format!("{field_path}/aliases"),
                    ));
                }
            };
            let default = f.get("default").cloned();
            if let Some(value) = &default {
                self.defaults.push(PendingDefault {
                    field: fname.clone(),
                    node,
                    value: value.clone(),
                    path: format!("{field_path}/default"),
                });
            }
            fields.push(Field {
                name: fname,
                aliases,
                node,
                default,
                order,
            });
        }
        #[allow(clippy::indexing_slicing)] // reserved above
        {
            self.nodes[id] = Node::Record(Record {
                name,
                aliases,
                fields,
                is_error,
            });
        }
        Ok(id)
    }

    fn parse_enum(
        &mut self,
        obj: &Map<String, Value>,
        ns: Option<&str>,
        path: &str,
    ) -> Result<NodeId> {
        let name = self.define_name(obj, ns, path)?;
        let aliases = self.parse_aliases(obj, name.namespace.as_deref(), path)?;
        let Some(Value::Array(items)) = obj.get("symbols") else {
            return Err(Error::schema(
                format!("enum '{}' needs a 'symbols' array", name.fullname),
                path.to_string(),
            ));
        };
        let mut symbols = Vec::with_capacity(items.len());
        let mut seen = HashSet::new();
        for (i, item) in items.iter().enumerate() {
            let Value::String(sym) = item else {
                return Err(Error::schema(
                    "an enum symbol must be a string",
                    format!("{path}/symbols/{i}"),
                ));
            };
            if !is_valid_name(sym) {
                return Err(Error::schema(
                    format!("invalid enum symbol '{sym}'"),
                    format!("{path}/symbols/{i}"),
                ));
            }
            if !seen.insert(sym.as_str()) {
                return Err(Error::schema(
                    format!("enum '{}' has the symbol '{sym}' twice", name.fullname),
                    format!("{path}/symbols/{i}"),
                ));
            }
            symbols.push(sym.clone());
        }
        let default = match obj.get("default") {
            None => None,
            Some(Value::String(d)) => match symbols.iter().position(|s| s == d) {
                Some(i) => Some(i),
                None => {
                    return Err(Error::schema(
                        format!(
                            "enum default '{d}' is not one of the symbols of '{}'",
                            name.fullname
                        ),
                        format!("{path}/default"),
                    ));
                }
            },
            Some(_) => {
                return Err(Error::schema(
                    "enum 'default' must be a symbol",
                    format!("{path}/default"),
                ));
            }
        };
        let fullname = name.fullname.clone();
        let id = self.push(Node::Enum(Enum {
            name,
            aliases,
            symbols,
            default,
        }));
        self.names.insert(fullname, id);
        Ok(id)
    }

    fn parse_fixed(
        &mut self,
        obj: &Map<String, Value>,
        ns: Option<&str>,
        path: &str,
    ) -> Result<NodeId> {
        let name = self.define_name(obj, ns, path)?;
        let aliases = self.parse_aliases(obj, name.namespace.as_deref(), path)?;
        let size = match obj.get("size") {
            Some(Value::Number(n)) => match n.as_u64() {
                Some(s) if s <= u64::from(u32::MAX) => s as usize,
                _ => {
                    return Err(Error::schema(
                        format!(
                            "fixed '{}' needs a non-negative integer 'size'",
                            name.fullname
                        ),
                        format!("{path}/size"),
                    ));
                }
            },
            Some(_) => {
                return Err(Error::schema(
                    format!(
                        "fixed '{}' needs a non-negative integer 'size'",
                        name.fullname
                    ),
                    format!("{path}/size"),
                ));
            }
            None => {
                return Err(Error::schema(
                    format!("fixed '{}' has no 'size'", name.fullname),
                    path.to_string(),
                ));
            }
        };
        let logical = match logical_annotation(obj) {
            Some("decimal") => decimal_params(obj)
                .filter(|(p, _)| u64::from(*p) <= max_fixed_decimal_digits(size))
                .map(|(precision, scale)| Logical::Decimal { precision, scale }),
            Some("uuid") if size == 16 => Some(Logical::Uuid),
            Some("duration") if size == 12 => Some(Logical::Duration),
            _ => None,
        };
        let fullname = name.fullname.clone();
        let id = self.push(Node::Fixed(Fixed {
            name,
            aliases,
            size,
            logical,
        }));
        self.names.insert(fullname, id);
        Ok(id)
    }
}

fn logical_annotation(obj: &Map<String, Value>) -> Option<&str> {
    obj.get("logicalType").and_then(Value::as_str)
}

/// `precision` (> 0) and `scale` (0 ..= precision); `None` makes the annotation invalid.
fn decimal_params(obj: &Map<String, Value>) -> Option<(u32, u32)> {
    let precision = obj.get("precision")?.as_u64()?;
    let scale = match obj.get("scale") {
        None => 0,
        Some(v) => v.as_u64()?,
    };
    if precision == 0 || precision > u64::from(u32::MAX) || scale > precision {
        return None;
    }
    Some((precision as u32, scale as u32))
}

/// The most decimal digits a two's-complement number of `size` bytes can always hold:
/// floor(log10(2^(8*size - 1) - 1)).
fn max_fixed_decimal_digits(size: usize) -> u64 {
    if size == 0 {
        return 0;
    }
    let bits = (8 * size as u64).saturating_sub(1) as f64;
    (bits * std::f64::consts::LOG10_2).floor() as u64
}

/// Attaches a logical type to a primitive node when the annotation is valid for it; an
/// unknown or invalid annotation leaves the plain type, as the specification requires.
fn apply_logical(node: Node, obj: &Map<String, Value>) -> Node {
    let Some(lt) = logical_annotation(obj) else {
        return node;
    };
    match node {
        Node::Int { .. } => Node::Int {
            logical: match lt {
                "date" => Some(Logical::Date),
                "time-millis" => Some(Logical::TimeMillis),
                _ => None,
            },
        },
        Node::Long { .. } => Node::Long {
            logical: match lt {
                "time-micros" => Some(Logical::TimeMicros),
                "timestamp-millis" => Some(Logical::TimestampMillis),
                "timestamp-micros" => Some(Logical::TimestampMicros),
                "timestamp-nanos" => Some(Logical::TimestampNanos),
                "local-timestamp-millis" => Some(Logical::LocalTimestampMillis),
                "local-timestamp-micros" => Some(Logical::LocalTimestampMicros),
                "local-timestamp-nanos" => Some(Logical::LocalTimestampNanos),
                _ => None,
            },
        },
        Node::Bytes { .. } => Node::Bytes {
            logical: match lt {
                "decimal" => decimal_params(obj)
                    .map(|(precision, scale)| Logical::Decimal { precision, scale }),
                _ => None,
            },
        },
        Node::String { .. } => Node::String {
            logical: if lt == "uuid" {
                Some(Logical::Uuid)
            } else {
                None
            },
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::max_fixed_decimal_digits;

    #[test]
    fn fixed_decimal_digits_match_the_spec_table() {
        assert_eq!(max_fixed_decimal_digits(1), 2);
        assert_eq!(max_fixed_decimal_digits(2), 4);
        assert_eq!(max_fixed_decimal_digits(4), 9);
        assert_eq!(max_fixed_decimal_digits(8), 18);
        assert_eq!(max_fixed_decimal_digits(16), 38);
    }
}
