//! Records in resolution: the steps that turn a writer record into a reader record (fields
//! copied, skipped, saved and replayed in reader order, defaults), and whether two types
//! encode identically (so their bytes can be copied).

use super::builder::{Builder, decimal_params};
use super::{Op, OpId, Step};
use crate::schema::default::encode_default;
use crate::schema::{Node, NodeId};

impl<'a> Builder<'a> {
    pub(super) fn record_steps(
        &mut self,
        wr: &crate::schema::Record,
        rr: &crate::schema::Record,
    ) -> Option<(Box<[Step]>, usize)> {
        // Which reader field each writer field feeds (by name, then by reader aliases).
        let mut feeds: Vec<Option<usize>> = vec![None; wr.fields.len()];
        let mut fed_by: Vec<Option<usize>> = vec![None; rr.fields.len()];
        for (ri, rf) in rr.fields.iter().enumerate() {
            let found = wr
                .fields
                .iter()
                .position(|wf| wf.name == rf.name)
                .or_else(|| {
                    rf.aliases
                        .iter()
                        .find_map(|a| wr.fields.iter().position(|wf| &wf.name == a))
                });
            if let Some(wi) = found {
                if let Some(slot) = feeds.get_mut(wi) {
                    if slot.is_none() {
                        *slot = Some(ri);
                        if let Some(f) = fed_by.get_mut(ri) {
                            *f = Some(wi);
                        }
                    }
                }
            }
        }
        // Ops for matched fields, and defaults for the rest.
        let mut field_ops: Vec<Option<OpId>> = vec![None; rr.fields.len()];
        let mut defaults: Vec<Option<Box<[u8]>>> = vec![None; rr.fields.len()];
        let mut ok = true;
        self.location.push("fields".to_string());
        for (ri, rf) in rr.fields.iter().enumerate() {
            self.location.push(ri.to_string());
            match fed_by.get(ri).copied().flatten() {
                Some(wi) => {
                    if let Some(wf) = wr.fields.get(wi).filter(|wf| wf.name != rf.name) {
                        let message = format!(
                            "writer field '{}' is read as '{}' through an alias",
                            wf.name, rf.name
                        );
                        self.change("FIELD_RENAMED", self.here(), message);
                    }
                    let wnode = wr.fields.get(wi).map(|f| f.node);
                    match wnode.and_then(|wn| self.with("type", |b| b.resolve(wn, rf.node))) {
                        Some(op) => {
                            if let Some(slot) = field_ops.get_mut(ri) {
                                *slot = Some(op);
                            }
                        }
                        None => ok = false,
                    }
                }
                None => {
                    match &rf.default {
                        Some(value) => {
                            let mut buf = Vec::new();
                            match encode_default(self.reader, rf.node, value, &mut buf) {
                                Ok(()) => {
                                    let message = format!(
                                        "field '{}' is not in the writer: its default is used",
                                        rf.name
                                    );
                                    self.change("FIELD_DEFAULTED", self.here(), message);
                                    if let Some(slot) = defaults.get_mut(ri) {
                                        *slot = Some(buf.into_boxed_slice());
                                    }
                                }
                                Err(reason) => {
                                    self.error(
                                        "INVALID_DEFAULT",
                                        format!(
                                            "the default of field '{}' is invalid: {reason}",
                                            rf.name
                                        ),
                                    );
                                    ok = false;
                                }
                            }
                        }
                        None => {
                            self.error(
                            "READER_FIELD_MISSING_DEFAULT_VALUE",
                            format!("field '{}' has no default value and the writer has no such field", rf.name),
                        );
                            ok = false;
                        }
                    }
                }
            }
            self.location.pop();
        }
        self.location.pop();
        if !ok {
            return None;
        }
        for (wi, wf) in wr.fields.iter().enumerate() {
            if feeds.get(wi).copied().flatten().is_none() {
                let message = format!("writer field '{}' is not in the reader: dropped", wf.name);
                self.change("FIELD_DROPPED", self.here(), message);
            }
        }
        // Walk the writer's fields in order, emitting reader fields as soon as they can be.
        let mut steps: Vec<Step> = Vec::new();
        let mut slot_of: Vec<Option<usize>> = vec![None; wr.fields.len()];
        let mut slots = 0usize;
        let mut next = 0usize; // next reader field to emit
        let emit_ready = |next: &mut usize, steps: &mut Vec<Step>, slot_of: &[Option<usize>]| {
            while *next < rr.fields.len() {
                if let Some(Some(d)) = defaults.get(*next) {
                    steps.push(Step::Default(d.clone()));
                } else if let Some(wi) = fed_by.get(*next).copied().flatten() {
                    match (
                        slot_of.get(wi).copied().flatten(),
                        field_ops.get(*next).copied().flatten(),
                    ) {
                        (Some(slot), Some(op)) => steps.push(Step::Replay { slot, op }),
                        _ => return,
                    }
                } else {
                    return;
                }
                *next += 1;
            }
        };
        emit_ready(&mut next, &mut steps, &slot_of);
        for (wi, wf) in wr.fields.iter().enumerate() {
            match feeds.get(wi).copied().flatten() {
                None => steps.push(Step::Skip(wf.node)),
                Some(ri) if ri == next => {
                    let op = field_ops.get(ri).copied().flatten()?;
                    match self.ops.get(op) {
                        Some(Op::Copy(node)) => match steps.last_mut() {
                            Some(Step::Copy(nodes)) => {
                                let mut v = nodes.to_vec();
                                v.push(*node);
                                *nodes = v.into_boxed_slice();
                            }
                            _ => steps.push(Step::Copy(Box::new([*node]))),
                        },
                        _ => steps.push(Step::Field(op)),
                    }
                    next += 1;
                    emit_ready(&mut next, &mut steps, &slot_of);
                }
                Some(_) => {
                    if let Some(s) = slot_of.get_mut(wi) {
                        *s = Some(slots);
                    }
                    steps.push(Step::Save {
                        slot: slots,
                        node: wf.node,
                    });
                    slots += 1;
                }
            }
        }
        emit_ready(&mut next, &mut steps, &slot_of);
        if next != rr.fields.len() {
            self.error(
                "INTERNAL",
                "could not order the reader's fields".to_string(),
            );
            return None;
        }
        Some((steps.into_boxed_slice(), slots))
    }

    /// Same encoding in both schemas, so bytes can be copied: same shape all the way down,
    /// same enum symbols in the same order, same union branches, same names where names
    /// are compared. `seen` stops recursion through recursive types.
    pub(super) fn identical(&self, w: NodeId, r: NodeId, seen: &mut Vec<(NodeId, NodeId)>) -> bool {
        if seen.contains(&(w, r)) {
            return true;
        }
        let (wn, rn) = (self.writer.node(w), self.reader.node(r));
        if decimal_params(wn) != decimal_params(rn)
            && decimal_params(wn).is_some()
            && decimal_params(rn).is_some()
        {
            return false;
        }
        seen.push((w, r));
        let out = match (wn, rn) {
            (Node::Null, Node::Null)
            | (Node::Boolean, Node::Boolean)
            | (Node::Int { .. }, Node::Int { .. })
            | (Node::Long { .. }, Node::Long { .. })
            | (Node::Float, Node::Float)
            | (Node::Double, Node::Double)
            | (Node::Bytes { .. }, Node::Bytes { .. })
            | (Node::String { .. }, Node::String { .. }) => true,
            (Node::Fixed(a), Node::Fixed(b)) => a.size == b.size && self.names_match(w, r),
            (Node::Enum(a), Node::Enum(b)) => a.symbols == b.symbols && self.names_match(w, r),
            (Node::Array { items: a }, Node::Array { items: b }) => self.identical(*a, *b, seen),
            (Node::Map { values: a }, Node::Map { values: b }) => self.identical(*a, *b, seen),
            (Node::Union { branches: a }, Node::Union { branches: b }) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b.iter())
                        .all(|(x, y)| self.identical(*x, *y, seen))
            }
            (Node::Record(a), Node::Record(b)) => {
                self.names_match(w, r)
                    && a.fields.len() == b.fields.len()
                    && a.fields
                        .iter()
                        .zip(b.fields.iter())
                        .all(|(x, y)| x.name == y.name && self.identical(x.node, y.node, seen))
            }
            _ => false,
        };
        seen.pop();
        out
    }
}
