//! Logical type annotations: which ones are valid on which type (an invalid one is ignored,
//! as the specification says), decimal precision and scale, the digits a fixed can hold.

use serde_json::{Map, Value};

use super::{Logical, Node};

pub(super) fn logical_annotation(obj: &Map<String, Value>) -> Option<&str> {
    obj.get("logicalType").and_then(Value::as_str)
}

/// `precision` (> 0) and `scale` (0 ..= precision); `None` makes the annotation invalid.
pub(super) fn decimal_params(obj: &Map<String, Value>) -> Option<(u32, u32)> {
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
pub(super) fn max_fixed_decimal_digits(size: usize) -> u64 {
    if size == 0 {
        return 0;
    }
    let bits = (8 * size as u64).saturating_sub(1) as f64;
    (bits * std::f64::consts::LOG10_2).floor() as u64
}

/// Attaches a logical type to a primitive node when the annotation is valid for it; an
/// unknown or invalid annotation leaves the plain type, as the specification requires.
pub(super) fn apply_logical(node: Node, obj: &Map<String, Value>) -> Node {
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
