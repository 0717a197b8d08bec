//! Avro schemas compiled into an arena of nodes.
//!
//! A schema is parsed once (`parse.rs`) into `Schema::nodes`; named types are defined once and
//! referenced by `NodeId` everywhere they are used, so recursive types are plain cycles in the
//! arena. Everything downstream (canonical form, defaults, decode/encode plans, resolution)
//! walks this arena.

mod canonical;
pub mod default;
mod fingerprint;
mod logical_types;
mod parse;
mod parse_named;

use std::collections::HashMap;

use crate::error::Result;

pub use fingerprint::{Fingerprint, fingerprint};

pub type NodeId = usize;

/// The logical types of Avro 1.12 that this crate knows. An annotation that is unknown or
/// invalid for its underlying type is dropped at parse time, as the specification asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logical {
    Decimal { precision: u32, scale: u32 },
    Uuid,
    Date,
    TimeMillis,
    TimeMicros,
    TimestampMillis,
    TimestampMicros,
    TimestampNanos,
    LocalTimestampMillis,
    LocalTimestampMicros,
    LocalTimestampNanos,
    Duration,
}

impl Logical {
    pub fn name(&self) -> &'static str {
        match self {
            Logical::Decimal { .. } => "decimal",
            Logical::Uuid => "uuid",
            Logical::Date => "date",
            Logical::TimeMillis => "time-millis",
            Logical::TimeMicros => "time-micros",
            Logical::TimestampMillis => "timestamp-millis",
            Logical::TimestampMicros => "timestamp-micros",
            Logical::TimestampNanos => "timestamp-nanos",
            Logical::LocalTimestampMillis => "local-timestamp-millis",
            Logical::LocalTimestampMicros => "local-timestamp-micros",
            Logical::LocalTimestampNanos => "local-timestamp-nanos",
            Logical::Duration => "duration",
        }
    }
}

/// A fully qualified name: `namespace` is `None` for the null namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub fullname: String,
    pub name: String,
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Ascending,
    Descending,
    Ignore,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub aliases: Vec<String>,
    pub node: NodeId,
    pub default: Option<serde_json::Value>,
    pub order: Order,
}

#[derive(Debug, Clone)]
pub struct Record {
    pub name: Name,
    /// Full names.
    pub aliases: Vec<String>,
    pub fields: Vec<Field>,
    pub is_error: bool,
}

#[derive(Debug, Clone)]
pub struct Enum {
    pub name: Name,
    pub aliases: Vec<String>,
    pub symbols: Vec<String>,
    /// Index into `symbols` of the enum's default symbol (used by resolution).
    pub default: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct Fixed {
    pub name: Name,
    pub aliases: Vec<String>,
    pub size: usize,
    pub logical: Option<Logical>,
}

#[derive(Debug, Clone)]
pub enum Node {
    Null,
    Boolean,
    Int { logical: Option<Logical> },
    Long { logical: Option<Logical> },
    Float,
    Double,
    Bytes { logical: Option<Logical> },
    String { logical: Option<Logical> },
    Record(Record),
    Enum(Enum),
    Array { items: NodeId },
    Map { values: NodeId },
    Union { branches: Vec<NodeId> },
    Fixed(Fixed),
}

/// What kind of value a node holds, ignoring names and logical types. Unions may hold at
/// most one branch of each unnamed kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Record,
    Enum,
    Array,
    Map,
    Union,
    Fixed,
}

impl Kind {
    #[cfg(test)]
    pub(crate) const ALL: [Kind; 14] = [
        Kind::Null,
        Kind::Boolean,
        Kind::Int,
        Kind::Long,
        Kind::Float,
        Kind::Double,
        Kind::Bytes,
        Kind::String,
        Kind::Record,
        Kind::Enum,
        Kind::Array,
        Kind::Map,
        Kind::Union,
        Kind::Fixed,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Boolean => "boolean",
            Kind::Int => "int",
            Kind::Long => "long",
            Kind::Float => "float",
            Kind::Double => "double",
            Kind::Bytes => "bytes",
            Kind::String => "string",
            Kind::Record => "record",
            Kind::Enum => "enum",
            Kind::Array => "array",
            Kind::Map => "map",
            Kind::Union => "union",
            Kind::Fixed => "fixed",
        }
    }
}

impl Node {
    pub fn kind(&self) -> Kind {
        match self {
            Node::Null => Kind::Null,
            Node::Boolean => Kind::Boolean,
            Node::Int { .. } => Kind::Int,
            Node::Long { .. } => Kind::Long,
            Node::Float => Kind::Float,
            Node::Double => Kind::Double,
            Node::Bytes { .. } => Kind::Bytes,
            Node::String { .. } => Kind::String,
            Node::Record(_) => Kind::Record,
            Node::Enum(_) => Kind::Enum,
            Node::Array { .. } => Kind::Array,
            Node::Map { .. } => Kind::Map,
            Node::Union { .. } => Kind::Union,
            Node::Fixed(_) => Kind::Fixed,
        }
    }

    /// The full name of a named type.
    pub fn name(&self) -> Option<&Name> {
        match self {
            Node::Record(r) => Some(&r.name),
            Node::Enum(e) => Some(&e.name),
            Node::Fixed(f) => Some(&f.name),
            _ => None,
        }
    }

    pub fn aliases(&self) -> &[String] {
        match self {
            Node::Record(r) => &r.aliases,
            Node::Enum(e) => &e.aliases,
            Node::Fixed(f) => &f.aliases,
            _ => &[],
        }
    }

    pub fn logical(&self) -> Option<Logical> {
        match self {
            Node::Int { logical }
            | Node::Long { logical }
            | Node::Bytes { logical }
            | Node::String { logical } => *logical,
            Node::Fixed(f) => f.logical,
            _ => None,
        }
    }

    /// The name a union branch is known by: the full name for named types, else the kind.
    pub fn branch_name(&self) -> &str {
        match self.name() {
            Some(n) => &n.fullname,
            None => self.kind().name(),
        }
    }
}

/// A parsed, validated Avro schema.
#[derive(Debug, Clone)]
pub struct Schema {
    nodes: Vec<Node>,
    root: NodeId,
    names: HashMap<String, NodeId>,
    canonical: String,
    /// `min_size` of every node, computed once (walkers bound block counts with it).
    min_sizes: Vec<usize>,
    /// Nodes whose every value takes the same number of bytes and needs no validation
    /// (float, double, fixed, null, records of those): arrays of them are skipped in O(1).
    fixed_sizes: Vec<Option<usize>>,
}

/// Options of the parser, mirroring Java's `Schema.Parser` switches.
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions {
    /// Reject field defaults that do not match the field's type (Java's `validateDefaults`).
    pub validate_defaults: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            validate_defaults: true,
        }
    }
}

impl Schema {
    /// Parses schema JSON text.
    pub fn parse_str(text: &str) -> Result<Schema> {
        Self::parse_str_with(text, ParseOptions::default())
    }

    pub fn parse_str_with(text: &str, options: ParseOptions) -> Result<Schema> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            crate::error::Error::schema(format!("not valid JSON: {e}"), String::new())
        })?;
        Self::parse_value_with(&value, options)
    }

    pub fn parse_value(value: &serde_json::Value) -> Result<Schema> {
        Self::parse_value_with(value, ParseOptions::default())
    }

    pub fn parse_value_with(value: &serde_json::Value, options: ParseOptions) -> Result<Schema> {
        parse::parse(value, options, &[])
    }

    /// Parses `value` with named types already defined by `references` (schemas this one
    /// refers to by name, as Schema Registry references provide them).
    pub fn parse_with_references(
        value: &serde_json::Value,
        references: &[serde_json::Value],
        options: ParseOptions,
    ) -> Result<Schema> {
        parse::parse(value, options, references)
    }

    pub(crate) fn from_parts(
        nodes: Vec<Node>,
        root: NodeId,
        names: HashMap<String, NodeId>,
    ) -> Schema {
        let mut schema = Schema {
            nodes,
            root,
            names,
            canonical: String::new(),
            min_sizes: Vec::new(),
            fixed_sizes: Vec::new(),
        };
        schema.canonical = canonical::canonical_form(&schema);
        schema.min_sizes = (0..schema.nodes.len())
            .map(|id| schema.min_size_inner(id, &mut Vec::new()))
            .collect();
        schema.fixed_sizes = (0..schema.nodes.len())
            .map(|id| schema.fixed_size_inner(id, &mut Vec::new()))
            .collect();
        schema
    }

    pub fn root(&self) -> NodeId {
        self.root
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The node with this id. Ids come from this schema, so the lookup cannot fail.
    #[allow(clippy::indexing_slicing)]
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    pub fn named(&self, fullname: &str) -> Option<NodeId> {
        self.names.get(fullname).copied()
    }

    pub fn names(&self) -> &HashMap<String, NodeId> {
        &self.names
    }

    /// Parsing Canonical Form, as the Avro specification defines it.
    pub fn canonical_form(&self) -> &str {
        &self.canonical
    }

    pub fn fingerprint(&self, algorithm: Fingerprint) -> Vec<u8> {
        fingerprint(self.canonical.as_bytes(), algorithm)
    }

    /// The fewest bytes any value of this node can take (0 for null, empty records, fixed(0)).
    /// Used to bound block counts read from the wire before allocating.
    #[inline]
    pub fn min_size(&self, id: NodeId) -> usize {
        self.min_sizes.get(id).copied().unwrap_or(0)
    }

    /// The encoded size of every value of this node when it is always the same and the bytes
    /// need no validation; None otherwise.
    #[inline]
    pub fn fixed_size(&self, id: NodeId) -> Option<usize> {
        self.fixed_sizes.get(id).copied().flatten()
    }

    fn fixed_size_inner(&self, id: NodeId, visiting: &mut Vec<NodeId>) -> Option<usize> {
        match self.node(id) {
            Node::Null => Some(0),
            Node::Float => Some(4),
            Node::Double => Some(8),
            Node::Fixed(f) => Some(f.size),
            Node::Record(r) => {
                if visiting.contains(&id) {
                    return None;
                }
                visiting.push(id);
                let total = r
                    .fields
                    .iter()
                    .map(|f| self.fixed_size_inner(f.node, visiting))
                    .try_fold(0usize, |acc, s| s.and_then(|s| acc.checked_add(s)));
                visiting.pop();
                total
            }
            _ => None,
        }
    }

    fn min_size_inner(&self, id: NodeId, visiting: &mut Vec<NodeId>) -> usize {
        match self.node(id) {
            Node::Null => 0,
            Node::Boolean | Node::Int { .. } | Node::Long { .. } => 1,
            Node::Float => 4,
            Node::Double => 8,
            Node::Bytes { .. } | Node::String { .. } => 1,
            Node::Enum(_) | Node::Array { .. } | Node::Map { .. } | Node::Union { .. } => 1,
            Node::Fixed(f) => f.size,
            Node::Record(r) => {
                if visiting.contains(&id) {
                    // A record that contains itself without a union or collection in between
                    // can hold no finite value; treat it as non-empty.
                    return 1;
                }
                visiting.push(id);
                let total = r
                    .fields
                    .iter()
                    .map(|f| self.min_size_inner(f.node, visiting))
                    .sum();
                visiting.pop();
                total
            }
        }
    }
}
