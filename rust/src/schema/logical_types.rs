//! Logical type annotations: which ones are valid on which type (an invalid one is ignored,
//! as the specification says), decimal precision and scale, the digits a fixed can hold.

use serde_json::{Map, Value};

use super::{Kind, Logical, Node};
use crate::rules;

fn logical_annotation(obj: &Map<String, Value>) -> Option<&str> {
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

/// The logical types without parameters, found by name.
const PLAIN: [Logical; 11] = [
    Logical::Uuid,
    Logical::Date,
    Logical::TimeMillis,
    Logical::TimeMicros,
    Logical::TimestampMillis,
    Logical::TimestampMicros,
    Logical::TimestampNanos,
    Logical::LocalTimestampMillis,
    Logical::LocalTimestampMicros,
    Logical::LocalTimestampNanos,
    Logical::Duration,
];

/// The logical type that `obj`'s annotation gives a node of kind `base` (of `fixed_size` bytes
/// for a fixed). `None` when there is no annotation or it is unknown or invalid there (the
/// rule tables say which types each may annotate): the plain type stays, as the
/// specification requires.
pub(super) fn logical_for(
    obj: &Map<String, Value>,
    base: Kind,
    fixed_size: Option<usize>,
) -> Option<Logical> {
    let name = logical_annotation(obj)?;
    if !rules::logical_applies(name, base.name()) {
        return None;
    }
    if let (Some(size), Some(required)) = (fixed_size, rules::fixed_logical_size(name)) {
        if size != required {
            return None;
        }
    }
    if name == "decimal" {
        let (precision, scale) = decimal_params(obj)?;
        if fixed_size.is_some_and(|size| u64::from(precision) > max_fixed_decimal_digits(size)) {
            return None;
        }
        return Some(Logical::Decimal { precision, scale });
    }
    PLAIN.into_iter().find(|l| l.name() == name)
}

/// Attaches a logical type to a primitive node when the annotation is valid for it.
pub(super) fn apply_logical(node: Node, obj: &Map<String, Value>) -> Node {
    let logical = logical_for(obj, node.kind(), None);
    match node {
        Node::Int { .. } => Node::Int { logical },
        Node::Long { .. } => Node::Long { logical },
        Node::Bytes { .. } => Node::Bytes { logical },
        Node::String { .. } => Node::String { logical },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Kind, logical_for, max_fixed_decimal_digits};
    use crate::rules::{self, LOGICAL_TYPES};

    /// Every logical type of the rule tables is known, and attaches to exactly the types the
    /// tables give it (a fixed of the size the tables ask for).
    #[test]
    fn logical_types_are_the_rule_table() {
        for (name, _) in LOGICAL_TYPES {
            let annotation = json!({"logicalType": name, "precision": 4, "scale": 2});
            let obj = annotation.as_object().cloned().unwrap_or_default();
            for kind in Kind::ALL {
                let size =
                    (kind == Kind::Fixed).then(|| rules::fixed_logical_size(name).unwrap_or(8));
                let logical = logical_for(&obj, kind, size);
                assert_eq!(
                    logical.is_some(),
                    rules::logical_applies(name, kind.name()),
                    "{name} on {kind:?}"
                );
                assert!(logical.is_none_or(|l| l.name() == name));
            }
        }
    }

    #[test]
    fn fixed_decimal_digits_match_the_spec_table() {
        assert_eq!(max_fixed_decimal_digits(1), 2);
        assert_eq!(max_fixed_decimal_digits(2), 4);
        assert_eq!(max_fixed_decimal_digits(4), 9);
        assert_eq!(max_fixed_decimal_digits(8), 18);
        assert_eq!(max_fixed_decimal_digits(16), 38);
    }
}
