//! Field default values: checking a JSON default against its type, and encoding it to Avro
//! bytes once, when a resolution plan is built, so filling a missing field costs a memcpy.
//!
//! Avro 1.12 (AVRO-3649) lets a union default match any branch; it is encoded with the first
//! branch it matches.

use serde_json::Value;

use super::{Node, NodeId, Schema};
use crate::rules::MAX_DEFAULT_DEPTH;
use crate::wire;

pub fn validate_default(schema: &Schema, node: NodeId, value: &Value) -> Result<(), String> {
    encode_default_inner(schema, node, value, &mut None, 0)
}

/// Encodes a (valid) default as Avro binary.
pub fn encode_default(
    schema: &Schema,
    node: NodeId,
    value: &Value,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let mut sink = Some(std::mem::take(out));
    let result = encode_default_inner(schema, node, value, &mut sink, 0);
    *out = sink.unwrap_or_default();
    result
}

fn expected(what: &str, got: &Value) -> String {
    let shown = match got {
        Value::String(s) if s.len() > 40 => format!("a string of {} bytes", s.len()),
        other => {
            let s = other.to_string();
            match s.char_indices().nth(40) {
                // Cut at a character boundary (truncating mid-character would panic).
                Some((cut, _)) => format!("{}…", s.get(..cut).unwrap_or_default()),
                None => s,
            }
        }
    };
    format!("expected {what}, got {shown}")
}

/// An integer default. serde_json reads `-0` as the float -0.0; Jackson (Java) reads it as
/// the integer 0, so accept it as 0. Other non-integers are refused.
fn json_integer(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_f64().filter(|f| *f == 0.0).map(|_| 0))
}

/// Default bytes: a JSON string whose code points 0-255 stand for byte values.
fn latin1_bytes(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// An array or map default: its entries in one block (none when empty), then the end.
fn encode_block<I: ExactSizeIterator>(
    out: &mut Option<Vec<u8>>,
    entries: impl IntoIterator<IntoIter = I>,
    mut entry: impl FnMut(&mut Option<Vec<u8>>, I::Item) -> Result<(), String>,
) -> Result<(), String> {
    let entries = entries.into_iter();
    if let Some(buf) = out {
        if entries.len() > 0 {
            wire::write_long(buf, entries.len() as i64);
        }
    }
    for e in entries {
        entry(out, e)?;
    }
    if let Some(buf) = out {
        buf.push(0);
    }
    Ok(())
}

fn encode_default_inner(
    schema: &Schema,
    node: NodeId,
    value: &Value,
    out: &mut Option<Vec<u8>>,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEFAULT_DEPTH {
        return Err("default nested too deeply".to_string());
    }
    match schema.node(node) {
        Node::Null => match value {
            Value::Null => Ok(()),
            other => Err(expected("null", other)),
        },
        Node::Boolean => match value {
            Value::Bool(b) => {
                if let Some(buf) = out {
                    buf.push(u8::from(*b));
                }
                Ok(())
            }
            other => Err(expected("a boolean", other)),
        },
        Node::Int { .. } => match json_integer(value).and_then(|v| i32::try_from(v).ok()) {
            Some(v) => {
                if let Some(buf) = out {
                    wire::write_long(buf, i64::from(v));
                }
                Ok(())
            }
            None => Err(expected("an int (32-bit integer)", value)),
        },
        Node::Long { .. } => match json_integer(value) {
            Some(v) => {
                if let Some(buf) = out {
                    wire::write_long(buf, v);
                }
                Ok(())
            }
            None => Err(expected("a long (64-bit integer)", value)),
        },
        Node::Float => match value.as_f64() {
            Some(v) => {
                if let Some(buf) = out {
                    buf.extend_from_slice(&(v as f32).to_le_bytes());
                }
                Ok(())
            }
            None => Err(expected("a number", value)),
        },
        Node::Double => match value.as_f64() {
            Some(v) => {
                if let Some(buf) = out {
                    buf.extend_from_slice(&v.to_le_bytes());
                }
                Ok(())
            }
            None => Err(expected("a number", value)),
        },
        Node::Bytes { .. } => match value.as_str().and_then(latin1_bytes) {
            Some(bytes) => {
                if let Some(buf) = out {
                    wire::write_bytes(buf, &bytes);
                }
                Ok(())
            }
            None => Err(expected("a string of code points 0-255 (bytes)", value)),
        },
        Node::String { .. } => match value {
            Value::String(s) => {
                if let Some(buf) = out {
                    wire::write_bytes(buf, s.as_bytes());
                }
                Ok(())
            }
            other => Err(expected("a string", other)),
        },
        Node::Fixed(f) => match value.as_str().and_then(latin1_bytes) {
            Some(bytes) if bytes.len() == f.size => {
                if let Some(buf) = out {
                    buf.extend_from_slice(&bytes);
                }
                Ok(())
            }
            _ => Err(expected(
                &format!(
                    "a string of {} code points 0-255 (fixed '{}')",
                    f.size, f.name.fullname
                ),
                value,
            )),
        },
        Node::Enum(e) => match value
            .as_str()
            .and_then(|s| e.symbols.iter().position(|x| x == s))
        {
            Some(index) => {
                if let Some(buf) = out {
                    wire::write_long(buf, index as i64);
                }
                Ok(())
            }
            None => Err(expected(
                &format!("a symbol of enum '{}'", e.name.fullname),
                value,
            )),
        },
        Node::Array { items } => match value {
            Value::Array(values) => encode_block(out, values.iter().enumerate(), |out, (i, v)| {
                encode_default_inner(schema, *items, v, out, depth + 1)
                    .map_err(|e| format!("item {i}: {e}"))
            }),
            other => Err(expected("an array", other)),
        },
        Node::Map { values: value_node } => match value {
            Value::Object(entries) => encode_block(out, entries, |out, (k, v)| {
                if let Some(buf) = out {
                    wire::write_bytes(buf, k.as_bytes());
                }
                encode_default_inner(schema, *value_node, v, out, depth + 1)
                    .map_err(|e| format!("key '{k}': {e}"))
            }),
            other => Err(expected("an object (map)", other)),
        },
        Node::Record(r) => match value {
            Value::Object(entries) => {
                for field in &r.fields {
                    let v = match entries.get(&field.name) {
                        Some(v) => v,
                        None => match &field.default {
                            Some(d) => d,
                            None => {
                                return Err(format!(
                                    "record '{}' default lacks field '{}'",
                                    r.name.fullname, field.name
                                ));
                            }
                        },
                    };
                    encode_default_inner(schema, field.node, v, out, depth + 1)
                        .map_err(|e| format!("field '{}': {e}", field.name))?;
                }
                Ok(())
            }
            other => Err(expected(
                &format!("an object (record '{}')", r.name.fullname),
                other,
            )),
        },
        Node::Union { branches } => {
            for (index, branch) in branches.iter().enumerate() {
                if encode_default_inner(schema, *branch, value, &mut None, depth + 1).is_ok() {
                    if let Some(buf) = out {
                        wire::write_long(buf, index as i64);
                    }
                    return encode_default_inner(schema, *branch, value, out, depth + 1);
                }
            }
            let names: Vec<&str> = branches
                .iter()
                .map(|b| schema.node(*b).branch_name())
                .collect();
            Err(expected(
                &format!(
                    "a value of one of the union's branches [{}]",
                    names.join(", ")
                ),
                value,
            ))
        }
    }
}
