//! Writer schema + reader schema -> a transcoding plan, by the Avro specification's
//! resolution rules.
//!
//! A plan maps writer bytes straight to reader bytes (`transcode.rs`). Problems that make
//! every record unreadable (a reader field without default that the writer lacks, types that
//! cannot be promoted, different names or fixed sizes) are plan errors, all listed at once.
//! Problems that only concern some records (a writer enum symbol the reader lacks and has no
//! default for; a writer union branch the reader cannot take) become read-time errors for
//! those records and are listed as warnings. What the plan changes in the records (fields
//! dropped, filled from defaults or renamed through aliases, promotions, enum symbols read
//! as the reader's default, named types matched through aliases) is listed as `changes`.
//!
//! A non-union writer type read as a reader union takes the branch `matching::select_branch`
//! picks (Apache Avro Java's order: exact type, then a record that resolves, then a
//! promotion); trying a branch builds its plan and takes it back if it does not resolve.

use std::collections::{HashMap, HashSet};

use crate::error::{Error, Result};
use crate::matching::{Promotion, names_match, promotion, select_branch};
use crate::schema::default::encode_default;
use crate::schema::{Logical, Node, NodeId, Schema};

pub type OpId = usize;

/// What a writer enum symbol becomes.
#[derive(Debug, Clone)]
pub enum EnumTarget {
    Index(u32),
    /// The reader lacks the symbol and has no default: the record cannot be read.
    Unknown(Box<str>),
}

/// What a writer union branch becomes.
#[derive(Debug, Clone)]
pub enum BranchTarget {
    /// Write `reader_index` (when the reader is a union), then the value through `op`.
    To { reader_index: Option<u32>, op: OpId },
    /// The reader cannot take this branch.
    Fail(Box<str>),
}

#[derive(Debug, Clone)]
pub enum Step {
    /// Transcode the next writer field into the output.
    Field(OpId),
    /// Validate the next writer fields (identical in the reader) and copy their bytes at once.
    Copy(Box<[NodeId]>),
    /// The next writer field is not in the reader: skip it.
    Skip(NodeId),
    /// The next writer field comes later in the reader: remember where it starts, skip it.
    Save { slot: usize, node: NodeId },
    /// Transcode a field saved earlier (reordered fields), then come back.
    Replay { slot: usize, op: OpId },
    /// A reader field the writer lacks: its default, encoded when the plan was built.
    Default(Box<[u8]>),
}

#[derive(Debug, Clone)]
pub enum Op {
    /// The value has the same encoding in both schemas: validate and copy it.
    Copy(NodeId),
    /// int -> long: same varint, checked to be a valid int.
    IntAsLong,
    IntToFloat,
    IntToDouble,
    LongToFloat,
    LongToDouble,
    FloatToDouble,
    /// bytes -> string: same encoding, checked to be UTF-8.
    BytesAsString,
    /// string -> bytes: same encoding.
    StringAsBytes,
    Enum(Box<[EnumTarget]>),
    /// `min` is the fewest bytes a writer item takes (bounds block counts).
    Array {
        items: OpId,
        min: usize,
    },
    Map {
        values: OpId,
        min: usize,
    },
    Record {
        steps: Box<[Step]>,
        slots: usize,
    },
    /// A writer union: read the branch index, then follow that branch's target.
    WriterUnion(Box<[BranchTarget]>),
    /// A non-union writer read into a reader union: write the branch index, then the value.
    IntoUnion {
        reader_index: u32,
        op: OpId,
    },
    /// A pair that failed to resolve, reached only through a union branch already marked
    /// as failing; kept so recursive references stay valid.
    Fail(Box<str>),
    /// Reserved for a record, array, map or union being built, so recursive references can
    /// point at it. Never left in a finished plan. (It must not look like `Copy`: a field
    /// that refers back to its own record is not a verbatim copy.)
    Pending,
}

/// A compiled plan. `ops` may contain cycles (recursive types); `root` is the entry point.
#[derive(Debug, Clone)]
pub struct Plan {
    pub ops: Vec<Op>,
    pub root: OpId,
    pub slots: usize,
    /// Read-time problems that concern only some records.
    pub warnings: Vec<String>,
    /// What happens to the records: (kind, location, message), in plan-building order.
    pub changes: Vec<(&'static str, String, String)>,
}

impl Plan {
    #[inline]
    #[allow(clippy::indexing_slicing)] // op ids come from this plan's builder
    pub fn op(&self, id: OpId) -> &Op {
        &self.ops[id]
    }
}

/// One plan-time problem.
#[derive(Debug, Clone)]
struct Issue {
    kind: &'static str,
    location: String,
    message: String,
}

impl Issue {
    fn render(&self) -> String {
        format!("{} at {}: {}", self.kind, self.location, self.message)
    }
}

pub fn build_plan(writer: &Schema, reader: &Schema) -> Result<Plan> {
    let mut b = Builder {
        writer,
        reader,
        ops: Vec::new(),
        memo: HashMap::new(),
        location: Vec::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
        changes: Vec::new(),
        max_slots: 0,
        unresolvable: HashSet::new(),
    };
    let root = b.resolve(writer.root(), reader.root());
    if !b.errors.is_empty() || root.is_none() {
        let messages: Vec<String> = b.errors.iter().map(Issue::render).collect();
        let summary = if messages.is_empty() {
            "writer and reader schemas do not resolve".to_string()
        } else {
            messages.join("; ")
        };
        return Err(Error::Resolution {
            message: format!(
                "cannot read data written with the writer schema using the reader schema: {summary}"
            ),
            messages,
        });
    }
    let Some(root) = root else {
        return Err(Error::Resolution {
            message: "unresolvable".into(),
            messages: Vec::new(),
        });
    };
    Ok(Plan {
        ops: b.ops,
        root,
        slots: b.max_slots,
        warnings: b.warnings.iter().map(Issue::render).collect(),
        changes: b
            .changes
            .into_iter()
            .map(|i| (i.kind, i.location, i.message))
            .collect(),
    })
}

struct Builder<'a> {
    writer: &'a Schema,
    reader: &'a Schema,
    ops: Vec<Op>,
    memo: HashMap<(NodeId, NodeId), OpId>,
    location: Vec<String>,
    errors: Vec<Issue>,
    warnings: Vec<Issue>,
    changes: Vec<Issue>,
    max_slots: usize,
    /// Pairs a trial found unresolvable (a failure never depends on where the pair is met).
    unresolvable: HashSet<(NodeId, NodeId)>,
}

/// What trying a reader union branch gave: its op and the warnings it raised, or failure.
type Trial = Option<(OpId, Vec<Issue>)>;

fn decimal_params(node: &Node) -> Option<(u32, u32)> {
    match node.logical() {
        Some(Logical::Decimal { precision, scale }) => Some((precision, scale)),
        _ => None,
    }
}

impl<'a> Builder<'a> {
    fn here(&self) -> String {
        if self.location.is_empty() {
            "/".to_string()
        } else {
            format!("/{}", self.location.join("/"))
        }
    }

    fn error(&mut self, kind: &'static str, message: String) {
        let location = self.here();
        self.errors.push(Issue {
            kind,
            location,
            message,
        });
    }

    fn change(&mut self, kind: &'static str, location: String, message: String) {
        self.changes.push(Issue {
            kind,
            location,
            message,
        });
    }

    /// Notes a named type matched through a reader alias (its name differs).
    fn note_alias(&mut self, w: NodeId, r: NodeId) {
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

    fn with<T>(&mut self, segment: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        self.location.push(segment.to_string());
        let out = f(self);
        self.location.pop();
        out
    }

    fn push(&mut self, op: Op) -> OpId {
        self.ops.push(op);
        self.ops.len() - 1
    }

    fn names_match(&self, w: NodeId, r: NodeId) -> bool {
        names_match(self.writer, w, self.reader, r)
    }

    /// Builds the op turning writer node `w` into reader node `r`, recording errors.
    fn resolve(&mut self, w: NodeId, r: NodeId) -> Option<OpId> {
        if let Some(op) = self.memo.get(&(w, r)) {
            return Some(*op);
        }
        if self.identical(w, r, &mut Vec::new()) {
            let id = self.push(Op::Copy(w));
            self.memo.insert((w, r), id);
            return Some(id);
        }
        let (writer, reader) = (self.writer, self.reader);
        let (wn, rn) = (writer.node(w), reader.node(r));
        // Writer union (the reader may or may not be one).
        if let Node::Union { branches } = wn {
            // Reserve the id so recursive references resolve to it.
            let id = self.push(Op::Pending);
            self.memo.insert((w, r), id);
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
            let id = self.push(Op::IntoUnion {
                reader_index: index as u32,
                op: inner,
            });
            self.memo.insert((w, r), id);
            return Some(id);
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
                let id = self.push(promotion_op(p));
                self.memo.insert((w, r), id);
                return Some(id);
            }
            self.error(
                "TYPE_MISMATCH",
                format!("writer type {} cannot be read as {}", wk.name(), rk.name()),
            );
            return None;
        }
        match (wn, rn) {
            (Node::Array { items: wi }, Node::Array { items: ri }) => {
                let id = self.push(Op::Pending);
                self.memo.insert((w, r), id);
                let Some(inner) = self.with("items", |b| b.resolve(*wi, *ri)) else {
                    return self.failed(w, r, id);
                };
                let min = writer.min_size(*wi);
                #[allow(clippy::indexing_slicing)]
                {
                    self.ops[id] = Op::Array { items: inner, min };
                }
                Some(id)
            }
            (Node::Map { values: wv }, Node::Map { values: rv }) => {
                let id = self.push(Op::Pending);
                self.memo.insert((w, r), id);
                let Some(inner) = self.with("values", |b| b.resolve(*wv, *rv)) else {
                    return self.failed(w, r, id);
                };
                let min = writer.min_size(*wv);
                #[allow(clippy::indexing_slicing)]
                {
                    self.ops[id] = Op::Map { values: inner, min };
                }
                Some(id)
            }
            (Node::Fixed(wf), Node::Fixed(rf)) => {
                let mut ok = true;
                if !self.names_match(w, r) {
                    self.with("name", |b| {
                        b.error("NAME_MISMATCH", format!("expected: {}", wf.name.fullname))
                    });
                    ok = false;
                }
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
                let id = self.push(Op::Copy(w));
                self.memo.insert((w, r), id);
                Some(id)
            }
            (Node::Enum(we), Node::Enum(re)) => {
                if !self.names_match(w, r) {
                    self.with("name", |b| {
                        b.error("NAME_MISMATCH", format!("expected: {}", we.name.fullname))
                    });
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
                let id = self.push(Op::Enum(targets.into_boxed_slice()));
                self.memo.insert((w, r), id);
                Some(id)
            }
            (Node::Record(wr), Node::Record(rr)) => {
                if !self.names_match(w, r) {
                    self.with("name", |b| {
                        b.error("NAME_MISMATCH", format!("expected: {}", wr.name.fullname))
                    });
                    return None;
                }
                self.note_alias(w, r);
                let id = self.push(Op::Pending);
                self.memo.insert((w, r), id);
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
            _ => {
                let id = self.push(Op::Copy(w));
                self.memo.insert((w, r), id);
                Some(id)
            }
        }
    }

    /// Marks a reserved op as failed and forgets it, so a later use of the same pair resolves
    /// (and reports) again at its own location.
    fn failed(&mut self, w: NodeId, r: NodeId, id: OpId) -> Option<OpId> {
        self.memo.remove(&(w, r));
        if let Some(op) = self.ops.get_mut(id) {
            *op = Op::Fail(Box::from("this part of the writer schema does not resolve"));
        }
        None
    }

    /// One writer union branch against the reader (a union or not). Errors inside a branch
    /// only concern the records that use it, so they become a read-time failure.
    fn resolve_writer_branch(&mut self, wb: NodeId, r: NodeId) -> BranchTarget {
        let (writer, reader) = (self.writer, self.reader);
        let what = writer.node(wb).branch_name().to_string();
        let errors_before = self.errors.len();
        let resolved = match reader.node(r) {
            Node::Union { branches } => self
                .union_branch(wb, branches, false)
                .map(|(i, op)| (Some(i as u32), op)),
            rn => {
                let (wk, rk) = (writer.node(wb).kind(), rn.kind());
                let readable = (wk == rk && self.names_match(wb, r)) || promotion(wk, rk).is_some();
                if !readable {
                    let msg = format!(
                        "the writer union's {what} branch cannot be read as {}",
                        rn.branch_name()
                    );
                    self.warnings.push(Issue {
                        kind: "MISSING_UNION_BRANCH",
                        location: self.here(),
                        message: msg.clone(),
                    });
                    return BranchTarget::Fail(Box::from(msg.as_str()));
                }
                self.resolve(wb, r).map(|op| (None, op))
            }
        };
        match resolved {
            Some((reader_index, op)) if self.errors.len() == errors_before => {
                BranchTarget::To { reader_index, op }
            }
            _ => {
                // Demote the branch's errors to warnings: only records using it fail.
                let demoted: Vec<Issue> = self.errors.drain(errors_before..).collect();
                let only_missing = demoted.len() == 1
                    && demoted
                        .first()
                        .is_some_and(|i| i.kind == "MISSING_UNION_BRANCH");
                let msg = if only_missing {
                    demoted
                        .iter()
                        .map(|i| i.message.clone())
                        .collect::<String>()
                } else {
                    let listed: Vec<String> = demoted.iter().map(Issue::render).collect();
                    format!("this union branch does not resolve: {}", listed.join("; "))
                };
                self.warnings.extend(demoted);
                BranchTarget::Fail(Box::from(msg.as_str()))
            }
        }
    }

    /// The reader union branch non-union writer node `w` is read as (`matching`), with the
    /// op reading it. Each candidate is tried; one that does not resolve is taken back. When
    /// none resolves, the first candidate (Java's pick) is resolved again to report why; or
    /// the reader union has no branch for the writer's type at all. `at_index`: locations
    /// name the reader branch (a writer union's branch already names the writer's).
    fn union_branch(
        &mut self,
        w: NodeId,
        branches: &[NodeId],
        at_index: bool,
    ) -> Option<(usize, OpId)> {
        let (writer, reader) = (self.writer, self.reader);
        let mut tried: Vec<Trial> = vec![None; branches.len()];
        let mut first_candidate: Option<usize> = None;
        let picked = select_branch(writer, w, reader, branches, |i| {
            first_candidate.get_or_insert(i);
            let Some(rb) = branches.get(i).copied() else {
                return false;
            };
            let result = if at_index {
                self.with(&i.to_string(), |b| b.trial(w, rb))
            } else {
                self.trial(w, rb)
            };
            let ok = result.is_some();
            if let Some(slot) = tried.get_mut(i) {
                *slot = result;
            }
            ok
        });
        if let Some(i) = picked {
            if let Some(Some((op, warnings))) = tried.get_mut(i).map(Option::take) {
                self.warnings.extend(warnings);
                return Some((i, op));
            }
        }
        let what = writer.node(w).branch_name().to_string();
        match first_candidate.and_then(|i| branches.get(i).map(|rb| (i, *rb))) {
            Some((i, rb)) => {
                let errors_before = self.errors.len();
                let again = if at_index {
                    self.with(&i.to_string(), |b| b.resolve(w, rb))
                } else {
                    self.resolve(w, rb)
                };
                match again {
                    Some(op) if self.errors.len() == errors_before => Some((i, op)),
                    _ => None,
                }
            }
            None => {
                self.error(
                    "MISSING_UNION_BRANCH",
                    format!("the reader union has no branch for the writer's {what}"),
                );
                None
            }
        }
    }

    /// Builds the op for (w, r) tentatively: on success it stays (with the warnings it
    /// raised, handed back), on failure everything it added is taken back.
    fn trial(&mut self, w: NodeId, r: NodeId) -> Trial {
        if self.unresolvable.contains(&(w, r)) {
            return None;
        }
        let (ops, errors, warnings) = (self.ops.len(), self.errors.len(), self.warnings.len());
        let out = self.resolve(w, r);
        let raised: Vec<Issue> = self.warnings.drain(warnings..).collect();
        match out {
            Some(op) if self.errors.len() == errors => Some((op, raised)),
            _ => {
                self.errors.truncate(errors);
                self.ops.truncate(ops);
                self.memo.retain(|_, id| *id < ops);
                self.unresolvable.insert((w, r));
                None
            }
        }
    }

    fn record_steps(
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
    fn identical(&self, w: NodeId, r: NodeId, seen: &mut Vec<(NodeId, NodeId)>) -> bool {
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

/// The op re-encoding a promoted value.
fn promotion_op(p: Promotion) -> Op {
    match p {
        Promotion::IntToLong => Op::IntAsLong,
        Promotion::IntToFloat => Op::IntToFloat,
        Promotion::IntToDouble => Op::IntToDouble,
        Promotion::LongToFloat => Op::LongToFloat,
        Promotion::LongToDouble => Op::LongToDouble,
        Promotion::FloatToDouble => Op::FloatToDouble,
        Promotion::StringToBytes => Op::StringAsBytes,
        Promotion::BytesToString => Op::BytesAsString,
    }
}
