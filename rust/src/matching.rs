//! When a writer type can be read as a reader type, and which reader union branch a writer
//! type is read as. One place for the rules that the compatibility checker (`compat.rs`) and
//! the resolver (`resolve.rs`, and so the transcoder and decoding with a reader schema) share.
//!
//! Branch choice follows Apache Avro Java 1.12, `Resolver.ReaderUnion.firstMatchingBranch`:
//!
//! 1. the first branch of the writer's exact type: for a record, enum or fixed the same full
//!    name (or a reader alias naming it, as Java applies aliases to the writer first), for any
//!    other type the same type;
//! 2. a record branch that resolves: the last one with the writer's unqualified name, else
//!    the first;
//! 3. the first branch the writer's type promotes to.
//!
//! Java takes the candidate it finds even when it cannot read the writer's values (and then
//! fails every such record); here a candidate counts only if it resolves, and the search goes
//! on. So a branch is picked whenever one can read the values, which is what
//! `SchemaCompatibility` (the checker) asks: whenever the checker says compatible, the
//! resolver finds a branch. Names are compared as everywhere else (unqualified name or a
//! reader alias), so step 2 also serves enums and fixeds, where Java would fail.

use crate::schema::{Kind, NodeId, Schema};

/// The specification's promotions of a writer type to a reader type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Promotion {
    IntToLong,
    IntToFloat,
    IntToDouble,
    LongToFloat,
    LongToDouble,
    FloatToDouble,
    StringToBytes,
    BytesToString,
}

/// int -> long/float/double, long -> float/double, float -> double, string <-> bytes.
pub fn promotion(w: Kind, r: Kind) -> Option<Promotion> {
    Some(match (w, r) {
        (Kind::Int, Kind::Long) => Promotion::IntToLong,
        (Kind::Int, Kind::Float) => Promotion::IntToFloat,
        (Kind::Int, Kind::Double) => Promotion::IntToDouble,
        (Kind::Long, Kind::Float) => Promotion::LongToFloat,
        (Kind::Long, Kind::Double) => Promotion::LongToDouble,
        (Kind::Float, Kind::Double) => Promotion::FloatToDouble,
        (Kind::String, Kind::Bytes) => Promotion::StringToBytes,
        (Kind::Bytes, Kind::String) => Promotion::BytesToString,
        _ => return None,
    })
}

/// Named types match by unqualified name, or through a reader alias naming the writer's full
/// name (Java's `SchemaCompatibility.schemaNameEquals`). Unnamed types always do.
pub fn names_match(writer: &Schema, w: NodeId, reader: &Schema, r: NodeId) -> bool {
    let (wn, rn) = (writer.node(w), reader.node(r));
    match (wn.name(), rn.name()) {
        (Some(a), Some(b)) => a.name == b.name || rn.aliases().contains(&a.fullname),
        _ => true,
    }
}

/// The reader union branch (an index into `branches`) that non-union writer node `w` is read
/// as, or None. `resolves(i)` tells whether branch `i` can read the writer's values; it is
/// asked at most once per branch, in the order above.
pub fn select_branch(
    writer: &Schema,
    w: NodeId,
    reader: &Schema,
    branches: &[NodeId],
    mut resolves: impl FnMut(usize) -> bool,
) -> Option<usize> {
    let wn = writer.node(w);
    let wk = wn.kind();
    let mut asked = vec![false; branches.len()];
    let mut ask = |i: usize, asked: &mut Vec<bool>| -> bool {
        match asked.get_mut(i) {
            Some(seen) if !*seen => {
                *seen = true;
                resolves(i)
            }
            _ => false,
        }
    };
    let same_kind = |b: NodeId| reader.node(b).kind() == wk;
    // 1. The exact type.
    for (i, b) in branches.iter().enumerate() {
        if !same_kind(*b) {
            continue;
        }
        let rn = reader.node(*b);
        let exact = match (wn.name(), rn.name()) {
            (Some(a), Some(name)) => {
                name.fullname == a.fullname || rn.aliases().contains(&a.fullname)
            }
            _ => true,
        };
        if exact && ask(i, &mut asked) {
            return Some(i);
        }
    }
    // 2. A named branch whose name matches: the last with the writer's unqualified name.
    if let Some(wname) = wn.name() {
        let mut found: Option<usize> = None;
        for (i, b) in branches.iter().enumerate() {
            if same_kind(*b) && names_match(writer, w, reader, *b) && ask(i, &mut asked) {
                let same_short = reader.node(*b).name().is_some_and(|n| n.name == wname.name);
                if found.is_none() || same_short {
                    found = Some(i);
                }
            }
        }
        if found.is_some() {
            return found;
        }
    }
    // 3. The first promotion.
    for (i, b) in branches.iter().enumerate() {
        if promotion(wk, reader.node(*b).kind()).is_some() && ask(i, &mut asked) {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::promotion;
    use crate::rules;
    use crate::schema::Kind;

    #[test]
    fn promotions_are_the_rule_table() {
        for w in Kind::ALL {
            for r in Kind::ALL {
                let table = rules::promotes(w.name(), r.name());
                assert_eq!(promotion(w, r).is_some(), table, "{w:?} -> {r:?}");
            }
        }
    }
}
