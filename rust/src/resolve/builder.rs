//! The plan builder's state and the walk over (writer, reader) pairs: primitives,
//! promotions, named types, arrays, maps; unions and records are in `unions.rs` and
//! `records.rs`.

use std::collections::{HashMap, HashSet};

use super::{BranchTarget, EnumTarget, Issue, Op, OpId, promotion_op};
use crate::matching::{names_match, promotion};
use crate::schema::{Logical, Name, Node, NodeId, Schema};

pub(super) struct Builder<'a> {
    pub(super) writer: &'a Schema,
    pub(super) reader: &'a Schema,
    pub(super) ops: Vec<Op>,
    pub(super) memo: HashMap<(NodeId, NodeId), OpId>,
    pub(super) location: Vec<String>,
    pub(super) errors: Vec<Issue>,
    pub(super) warnings: Vec<Issue>,
    pub(super) changes: Vec<Issue>,
    pub(super) max_slots: usize,
    /// Pairs a trial found unresolvable (a failure never depends on where the pair is met).
    pub(super) unresolvable: HashSet<(NodeId, NodeId)>,
}

/// What trying a reader union branch gave: its op and the warnings it raised, or failure.
pub(super) type Trial = Option<(OpId, Vec<Issue>)>;

pub(super) fn decimal_params(node: &Node) -> Option<(u32, u32)> {
    match node.logical() {
        Some(Logical::Decimal { precision, scale }) => Some((precision, scale)),
        _ => None,
    }
}

impl<'a> Builder<'a> {
    pub(super) fn here(&self) -> String {
        if self.location.is_empty() {
            "/".to_string()
        } else {
            format!("/{}", self.location.join("/"))
        }
    }

    pub(super) fn error(&mut self, kind: &'static str, message: String) {
        let location = self.here();
        self.errors.push(Issue {
            kind,
            location,
            message,
        });
    }

    pub(super) fn change(&mut self, kind: &'static str, location: String, message: String) {
        self.changes.push(Issue {
            kind,
            location,
            message,
        });
    }

    /// Notes a named type matched through a reader alias (its name differs).
    pub(super) fn note_alias(&mut self, w: NodeId, r: NodeId) {
        let (wn, rn) = (self.writer.node(w), self.reader.node(r));
        if let (Some(a), Some(b)) = (wn.name(), rn.name()) {
            if a.name != b.name {
                let message = format!(
                    "the writer's {} is read as {} through an alias",
                    a.fullname, b.fullname
                );
                self.change("NAME_ALIASED", self.here(), message);
            }
        }
    }

    pub(super) fn with<T>(&mut self, segment: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        self.location.push(segment.to_string());
        let out = f(self);
        self.location.pop();
        out
    }

    pub(super) fn push(&mut self, op: Op) -> OpId {
        self.ops.push(op);
        self.ops.len() - 1
    }

    pub(super) fn names_match(&self, w: NodeId, r: NodeId) -> bool {
        names_match(self.writer, w, self.reader, r)
    }

    /// Builds the op turning writer node `w` into reader node `r`, recording errors.
    pub(super) fn resolve(&mut self, w: NodeId, r: NodeId) -> Option<OpId> {
        if let Some(op) = self.memo.get(&(w, r)) {
            return Some(*op);
        }
        if self.identical(w, r, &mut Vec::new()) {
            return self.memoized(w, r, Op::Copy(w));
        }
        let (writer, reader) = (self.writer, self.reader);
        let (wn, rn) = (writer.node(w), reader.node(r));
        // Writer union (the reader may or may not be one).
        if let Node::Union { branches } = wn {
            // Reserve the id so recursive references resolve to it.
            let id = self.reserve(w, r);
            let mut targets = Vec::with_capacity(branches.len());
            let mut any_ok = false;
            for (i, wb) in branches.iter().enumerate() {
                let target = self.with(&i.to_string(), |b| b.resolve_writer_branch(*wb, r));
                any_ok |= matches!(target, BranchTarget::To { .. });
                targets.push(target);
            }
            if !any_ok && !branches.is_empty() {
                self.error(
                    "MISSING_UNION_BRANCH",
                    "the reader can take none of the writer union's branches".to_string(),
                );
            }
            #[allow(clippy::indexing_slicing)] // reserved above
            {
                self.ops[id] = Op::WriterUnion(targets.into_boxed_slice());
            }
            return Some(id);
        }
        // Reader union, non-union writer: the branch Java's Resolver picks.
        if let Node::Union { branches } = rn {
            let (index, inner) = self.union_branch(w, branches, true)?;
            return self.memoized(
                w,
                r,
                Op::IntoUnion {
                    reader_index: index as u32,
                    op: inner,
                },
            );
        }
        let (wk, rk) = (wn.kind(), rn.kind());
        if let (Some(wd), Some(rd)) = (decimal_params(wn), decimal_params(rn)) {
            if wd != rd {
                self.error(
                    "DECIMAL_MISMATCH",
                    format!(
                        "decimal({}, {}) data cannot be read as decimal({}, {}): the specification matches decimals only with equal precision and scale",
                        wd.0, wd.1, rd.0, rd.1
                    ),
                );
                return None;
            }
        }
        if wk != rk {
            if let Some(p) = promotion(wk, rk) {
                let message = format!("{} is promoted to {}", wk.name(), rk.name());
                self.change("TYPE_PROMOTED", self.here(), message);
                return self.memoized(w, r, promotion_op(p));
            }
            self.error(
                "TYPE_MISMATCH",
                format!("writer type {} cannot be read as {}", wk.name(), rk.name()),
            );
            return None;
        }
        match (wn, rn) {
            (Node::Array { items: wi }, Node::Array { items: ri }) => {
                let min = writer.min_size(*wi);
                self.resolve_collection((w, r), "items", (*wi, *ri), |items| Op::Array {
                    items,
                    min,
                })
            }
            (Node::Map { values: wv }, Node::Map { values: rv }) => {
                let min = writer.min_size(*wv);
                self.resolve_collection((w, r), "values", (*wv, *rv), |values| Op::Map {
                    values,
                    min,
                })
            }
            (Node::Fixed(wf), Node::Fixed(rf)) => {
                let mut ok = self.check_names(w, r, &wf.name);
                if wf.size != rf.size {
                    self.with("size", |b| {
                        b.error(
                            "FIXED_SIZE_MISMATCH",
                            format!("expected: {}, found: {}", wf.size, rf.size),
                        )
                    });
                    ok = false;
                }
                if !ok {
                    return None;
                }
                self.note_alias(w, r);
                self.memoized(w, r, Op::Copy(w))
            }
            (Node::Enum(we), Node::Enum(re)) => {
                if !self.check_names(w, r, &we.name) {
                    return None;
                }
                self.note_alias(w, r);
                let mut missing = Vec::new();
                let mut defaulted = Vec::new();
                let targets: Vec<EnumTarget> = we
                    .symbols
                    .iter()
                    .map(|s| match re.symbols.iter().position(|x| x == s) {
                        Some(i) => EnumTarget::Index(i as u32),
                        None => match re.default {
                            Some(i) => {
                                defaulted.push(s.as_str());
                                EnumTarget::Index(i as u32)
                            }
                            None => {
                                missing.push(s.as_str());
                                EnumTarget::Unknown(Box::from(s.as_str()))
                            }
                        },
                    })
                    .collect();
                if let Some(symbol) = re.default.and_then(|i| re.symbols.get(i)) {
                    if !defaulted.is_empty() {
                        let location = format!("{}/symbols", self.here().trim_end_matches('/'));
                        let message = format!(
                            "[{}] are read as the reader's default '{symbol}'",
                            defaulted.join(", ")
                        );
                        self.change("ENUM_SYMBOL_DEFAULTED", location, message);
                    }
                }
                if !missing.is_empty() {
                    let location = format!("{}/symbols", self.here().trim_end_matches('/'));
                    self.warnings.push(Issue {
                        kind: "MISSING_ENUM_SYMBOLS",
                        location,
                        message: format!("[{}]: records holding them cannot be read (the reader enum has no default)", missing.join(", ")),
                    });
                }
                self.memoized(w, r, Op::Enum(targets.into_boxed_slice()))
            }
            (Node::Record(wr), Node::Record(rr)) => {
                if !self.check_names(w, r, &wr.name) {
                    return None;
                }
                self.note_alias(w, r);
                let id = self.reserve(w, r);
                let Some((steps, slots)) = self.record_steps(wr, rr) else {
                    return self.failed(w, r, id);
                };
                self.max_slots = self.max_slots.max(slots);
                #[allow(clippy::indexing_slicing)]
                {
                    self.ops[id] = Op::Record { steps, slots };
                }
                Some(id)
            }
            // Same primitive kind: `identical` already answered, except for logical-type
            // differences, which resolution ignores.
            _ => self.memoized(w, r, Op::Copy(w)),
        }
    }

    /// An array or map: its op reserved first (a recursive type finds it), then its items or
    /// values (`inner`) resolved under `segment`; `op` makes the op of their op.
    fn resolve_collection(
        &mut self,
        (w, r): (NodeId, NodeId),
        segment: &str,
        inner: (NodeId, NodeId),
        op: impl FnOnce(OpId) -> Op,
    ) -> Option<OpId> {
        let id = self.reserve(w, r);
        let Some(inner) = self.with(segment, |b| b.resolve(inner.0, inner.1)) else {
            return self.failed(w, r, id);
        };
        if let Some(slot) = self.ops.get_mut(id) {
            *slot = op(inner);
        }
        Some(id)
    }

    /// Whether named types `w` and `r` match; NAME_MISMATCH (naming the writer's type) if not.
    fn check_names(&mut self, w: NodeId, r: NodeId, writer_name: &Name) -> bool {
        let ok = self.names_match(w, r);
        if !ok {
            let message = format!("expected: {}", writer_name.fullname);
            self.with("name", |b| b.error("NAME_MISMATCH", message));
        }
        ok
    }

    /// Reserves the op of pair (`w`, `r`) before building it, so recursive references find it.
    fn reserve(&mut self, w: NodeId, r: NodeId) -> OpId {
        let id = self.push(Op::Pending);
        self.memo.insert((w, r), id);
        id
    }

    /// The op of pair (`w`, `r`), built in one go, remembered for the pair's other uses.
    fn memoized(&mut self, w: NodeId, r: NodeId, op: Op) -> Option<OpId> {
        let id = self.push(op);
        self.memo.insert((w, r), id);
        Some(id)
    }

    /// Marks a reserved op as failed and forgets it, so a later use of the same pair resolves
    /// (and reports) again at its own location.
    pub(super) fn failed(&mut self, w: NodeId, r: NodeId, id: OpId) -> Option<OpId> {
        self.memo.remove(&(w, r));
        if let Some(op) = self.ops.get_mut(id) {
            *op = Op::Fail(Box::from("this part of the writer schema does not resolve"));
        }
        None
    }
}
