//! A schema compiled for the Python codec: one `Op` per schema node (same ids), with the
//! Python strings decode hands out (field names, enum symbols) created once and shared.

use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::schema::{Logical, Node, Schema, default::encode_default};

pub(crate) struct FieldPlan {
    pub key: Py<PyString>,
    pub name: Box<str>,
    pub op: usize,
    /// The field's default, Avro-encoded, written when a record to encode lacks the field.
    pub default: Option<Box<[u8]>>,
}

pub(crate) enum Op {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    Str,
    Record {
        fields: Box<[FieldPlan]>,
        fullname: Box<str>,
        is_error: bool,
    },
    Enum {
        symbols: Box<[Py<PyString>]>,
        names: Box<[Box<str>]>,
    },
    Array {
        items: usize,
        min: usize,
    },
    Map {
        values: usize,
        min: usize,
    },
    Union {
        branches: Box<[usize]>,
        null_branch: Option<usize>,
    },
    Fixed {
        size: usize,
    },
    Date,
    TimeMillis,
    TimeMicros,
    TimestampMillis,
    TimestampMicros,
    LocalTimestampMillis,
    LocalTimestampMicros,
    DecimalBytes {
        precision: u32,
        scale: u32,
    },
    DecimalFixed {
        precision: u32,
        scale: u32,
        size: usize,
    },
    UuidString,
}

pub(crate) struct Plan {
    pub ops: Vec<Op>,
    pub root: usize,
    /// Union branch names, as fastavro's tuple notation and `-type` key give them.
    pub branch_names: Vec<Box<str>>,
}

impl Plan {
    #[inline]
    #[allow(clippy::indexing_slicing)] // op ids come from the schema this plan was built from
    pub fn op(&self, id: usize) -> &Op {
        &self.ops[id]
    }

    pub fn build(py: Python<'_>, schema: &Schema) -> Plan {
        let mut ops = Vec::with_capacity(schema.nodes().len());
        let mut branch_names = Vec::with_capacity(schema.nodes().len());
        for (id, node) in schema.nodes().iter().enumerate() {
            branch_names.push(Box::from(node.branch_name()));
            ops.push(match node {
                Node::Null => Op::Null,
                Node::Boolean => Op::Boolean,
                Node::Int { logical } => match logical {
                    Some(Logical::Date) => Op::Date,
                    Some(Logical::TimeMillis) => Op::TimeMillis,
                    _ => Op::Int,
                },
                Node::Long { logical } => match logical {
                    Some(Logical::TimeMicros) => Op::TimeMicros,
                    Some(Logical::TimestampMillis) => Op::TimestampMillis,
                    Some(Logical::TimestampMicros) => Op::TimestampMicros,
                    Some(Logical::LocalTimestampMillis) => Op::LocalTimestampMillis,
                    Some(Logical::LocalTimestampMicros) => Op::LocalTimestampMicros,
                    // Nanosecond timestamps do not fit Python's datetime; like fastavro they
                    // stay integers.
                    _ => Op::Long,
                },
                Node::Float => Op::Float,
                Node::Double => Op::Double,
                Node::Bytes { logical } => match logical {
                    Some(Logical::Decimal { precision, scale }) => Op::DecimalBytes {
                        precision: *precision,
                        scale: *scale,
                    },
                    _ => Op::Bytes,
                },
                Node::String { logical } => match logical {
                    Some(Logical::Uuid) => Op::UuidString,
                    _ => Op::Str,
                },
                Node::Record(r) => Op::Record {
                    fields: r
                        .fields
                        .iter()
                        .map(|f| FieldPlan {
                            key: PyString::intern(py, &f.name).unbind(),
                            name: Box::from(f.name.as_str()),
                            op: f.node,
                            default: f.default.as_ref().and_then(|d| {
                                let mut buf = Vec::new();
                                encode_default(schema, f.node, d, &mut buf)
                                    .ok()
                                    .map(|()| buf.into_boxed_slice())
                            }),
                        })
                        .collect(),
                    fullname: Box::from(r.name.fullname.as_str()),
                    is_error: r.is_error,
                },
                Node::Enum(e) => Op::Enum {
                    symbols: e
                        .symbols
                        .iter()
                        .map(|s| PyString::intern(py, s).unbind())
                        .collect(),
                    names: e.symbols.iter().map(|s| Box::from(s.as_str())).collect(),
                },
                Node::Array { items } => Op::Array {
                    items: *items,
                    min: schema.min_size(*items),
                },
                Node::Map { values } => Op::Map {
                    values: *values,
                    min: schema.min_size(*values),
                },
                Node::Union { branches } => Op::Union {
                    branches: branches.clone().into_boxed_slice(),
                    null_branch: branches
                        .iter()
                        .position(|b| matches!(schema.node(*b), Node::Null)),
                },
                Node::Fixed(f) => match f.logical {
                    Some(Logical::Decimal { precision, scale }) => Op::DecimalFixed {
                        precision,
                        scale,
                        size: f.size,
                    },
                    _ => Op::Fixed { size: f.size },
                },
            });
            debug_assert_eq!(ops.len(), id + 1);
        }
        Plan {
            ops,
            root: schema.root(),
            branch_names,
        }
    }

    #[allow(clippy::indexing_slicing)]
    pub fn branch_name(&self, id: usize) -> &str {
        &self.branch_names[id]
    }
}
