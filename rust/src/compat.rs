//! Reader/writer compatibility, decided exactly as Apache Avro's `SchemaCompatibility` (and so
//! Confluent Schema Registry) decides it: the same incompatibility types, locations (JSON
//! pointers such as `/fields/1/type`) and messages, in the same order.
//!
//! This is the registry's rule. It asks whether *some* reader union branch can read a writer
//! type; the resolver (`resolve.rs`) picks *which* one, by Java's `Resolver` order
//! (`matching.rs`, home of the name and promotion rules both use). docs/resolution.md lists
//! where the checker and the resolver differ.

use std::collections::HashMap;

use crate::matching::{names_match, promotion};
use crate::schema::{Kind, Node, NodeId, Schema};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncompatibilityType {
    NameMismatch,
    FixedSizeMismatch,
    MissingEnumSymbols,
    ReaderFieldMissingDefaultValue,
    TypeMismatch,
    MissingUnionBranch,
}

impl IncompatibilityType {
    pub fn as_str(&self) -> &'static str {
        match self {
            IncompatibilityType::NameMismatch => "NAME_MISMATCH",
            IncompatibilityType::FixedSizeMismatch => "FIXED_SIZE_MISMATCH",
            IncompatibilityType::MissingEnumSymbols => "MISSING_ENUM_SYMBOLS",
            IncompatibilityType::ReaderFieldMissingDefaultValue => {
                "READER_FIELD_MISSING_DEFAULT_VALUE"
            }
            IncompatibilityType::TypeMismatch => "TYPE_MISMATCH",
            IncompatibilityType::MissingUnionBranch => "MISSING_UNION_BRANCH",
        }
    }
}

/// One reason the reader cannot read the writer's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incompatibility {
    pub kind: IncompatibilityType,
    /// JSON pointer into the reader schema, e.g. `/fields/1/type`; `/` for the root.
    pub location: String,
    /// Java's message: the field name, `expected: com.acme.Foo`, `[A, B]`, ...
    pub message: String,
}

/// Java's upper-case type names, used in its messages.
fn java_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Null => "NULL",
        Kind::Boolean => "BOOLEAN",
        Kind::Int => "INT",
        Kind::Long => "LONG",
        Kind::Float => "FLOAT",
        Kind::Double => "DOUBLE",
        Kind::Bytes => "BYTES",
        Kind::String => "STRING",
        Kind::Record => "RECORD",
        Kind::Enum => "ENUM",
        Kind::Array => "ARRAY",
        Kind::Map => "MAP",
        Kind::Union => "UNION",
        Kind::Fixed => "FIXED",
    }
}

/// Every incompatibility of reading data written with `writer` using `reader`; empty when
/// compatible.
pub fn check(reader: &Schema, writer: &Schema) -> Vec<Incompatibility> {
    let mut checker = Checker {
        reader,
        writer,
        memo: HashMap::new(),
        location: Vec::new(),
    };
    checker.compat(reader.root(), writer.root())
}

struct Checker<'a> {
    reader: &'a Schema,
    writer: &'a Schema,
    /// Pairs being checked (None) or already checked: recursion assumes compatibility, as
    /// Java does, and a repeated pair returns its first answer.
    memo: HashMap<(NodeId, NodeId), Option<Vec<Incompatibility>>>,
    location: Vec<String>,
}

impl Checker<'_> {
    fn here(&self) -> String {
        if self.location.is_empty() {
            return "/".to_string();
        }
        let escaped: Vec<String> = self
            .location
            .iter()
            .map(|s| s.replace('~', "~0").replace('/', "~1"))
            .collect();
        format!("/{}", escaped.join("/"))
    }

    fn incompatible(&self, kind: IncompatibilityType, message: String) -> Vec<Incompatibility> {
        vec![Incompatibility {
            kind,
            location: self.here(),
            message,
        }]
    }

    fn with<T>(&mut self, segment: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        self.location.push(segment.to_string());
        let out = f(self);
        self.location.pop();
        out
    }

    fn compat(&mut self, r: NodeId, w: NodeId) -> Vec<Incompatibility> {
        match self.memo.get(&(r, w)) {
            Some(None) => return Vec::new(),
            Some(Some(done)) => return done.clone(),
            None => {}
        }
        self.memo.insert((r, w), None);
        let result = self.calculate(r, w);
        self.memo.insert((r, w), Some(result.clone()));
        result
    }

    fn type_mismatch(&self, r: NodeId, w: NodeId) -> Vec<Incompatibility> {
        let (rk, wk) = (self.reader.node(r).kind(), self.writer.node(w).kind());
        self.incompatible(
            IncompatibilityType::TypeMismatch,
            format!(
                "reader type: {} not compatible with writer type: {}",
                java_type(rk),
                java_type(wk)
            ),
        )
    }

    fn calculate(&mut self, r: NodeId, w: NodeId) -> Vec<Incompatibility> {
        let (reader, writer) = (self.reader, self.writer);
        let (rn, wn) = (reader.node(r), writer.node(w));
        let (rk, wk) = (rn.kind(), wn.kind());
        if rk == wk {
            return match (rn, wn) {
                (Node::Array { items: ri }, Node::Array { items: wi }) => {
                    let (ri, wi) = (*ri, *wi);
                    self.with("items", |c| c.compat(ri, wi))
                }
                (Node::Map { values: rv }, Node::Map { values: wv }) => {
                    let (rv, wv) = (*rv, *wv);
                    self.with("values", |c| c.compat(rv, wv))
                }
                (Node::Fixed(rf), Node::Fixed(wf)) => {
                    let mut out = self.check_names(r, w);
                    if rf.size != wf.size {
                        out.extend(self.with("size", |c| {
                            c.incompatible(
                                IncompatibilityType::FixedSizeMismatch,
                                format!("expected: {}, found: {}", wf.size, rf.size),
                            )
                        }));
                    }
                    out
                }
                (Node::Enum(re), Node::Enum(we)) => {
                    let mut out = self.check_names(r, w);
                    let mut missing: Vec<&String> = we
                        .symbols
                        .iter()
                        .filter(|s| !re.symbols.contains(s))
                        .collect();
                    if !missing.is_empty() && re.default.is_none() {
                        // Java collects them in a TreeSet: sorted, printed as [A, B].
                        missing.sort();
                        missing.dedup();
                        let listed: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
                        out.extend(self.with("symbols", |c| {
                            c.incompatible(
                                IncompatibilityType::MissingEnumSymbols,
                                format!("[{}]", listed.join(", ")),
                            )
                        }));
                    }
                    out
                }
                (Node::Record(rr), Node::Record(wr)) => {
                    let mut out = self.check_names(r, w);
                    out.extend(self.check_fields(rr, wr));
                    out
                }
                (Node::Union { .. }, Node::Union { branches }) => {
                    let mut out = Vec::new();
                    for (i, wb) in branches.iter().enumerate() {
                        let wb = *wb;
                        out.extend(self.with(&i.to_string(), |c| {
                            if c.compat(r, wb).is_empty() {
                                Vec::new()
                            } else {
                                let branch = java_type(c.writer.node(wb).kind());
                                c.incompatible(
                                    IncompatibilityType::MissingUnionBranch,
                                    format!("reader union lacking writer type: {branch}"),
                                )
                            }
                        }));
                    }
                    out
                }
                _ => Vec::new(),
            };
        }
        // Different kinds. A writer union is readable when each branch is (Avro 1.12 puts
        // the branch index in the location; 1.11 did not).
        if let Node::Union { branches } = wn {
            let mut out = Vec::new();
            for (i, wb) in branches.iter().enumerate() {
                let wb = *wb;
                out.extend(self.with(&i.to_string(), |c| c.compat(r, wb)));
            }
            return out;
        }
        if promotion(wk, rk).is_some() {
            return Vec::new();
        }
        match rk {
            Kind::Union => {
                let Node::Union { branches } = rn else {
                    return Vec::new();
                };
                // Java tries the branches with a fresh location stack, so findings memoised
                // here carry locations counted from the root when they are reused elsewhere.
                let saved = std::mem::take(&mut self.location);
                let found = branches.iter().any(|rb| self.compat(*rb, w).is_empty());
                self.location = saved;
                if found {
                    return Vec::new();
                }
                self.incompatible(
                    IncompatibilityType::MissingUnionBranch,
                    format!("reader union lacking writer type: {}", java_type(wk)),
                )
            }
            _ => self.type_mismatch(r, w),
        }
    }

    /// Named types match by unqualified name, or when a reader alias is the writer's full name.
    fn check_names(&mut self, r: NodeId, w: NodeId) -> Vec<Incompatibility> {
        if names_match(self.writer, w, self.reader, r) {
            return Vec::new();
        }
        let Some(wname) = self.writer.node(w).name() else {
            return Vec::new();
        };
        let expected = wname.fullname.clone();
        self.with("name", |c| {
            c.incompatible(
                IncompatibilityType::NameMismatch,
                format!("expected: {expected}"),
            )
        })
    }

    fn check_fields(
        &mut self,
        rr: &crate::schema::Record,
        wr: &crate::schema::Record,
    ) -> Vec<Incompatibility> {
        let mut out = Vec::new();
        self.location.push("fields".to_string());
        for (pos, rf) in rr.fields.iter().enumerate() {
            self.location.push(pos.to_string());
            let writer_field = wr.fields.iter().find(|wf| wf.name == rf.name).or_else(|| {
                rf.aliases
                    .iter()
                    .find_map(|alias| wr.fields.iter().find(|wf| &wf.name == alias))
            });
            match writer_field {
                Some(wf) => {
                    let (rt, wt) = (rf.node, wf.node);
                    out.extend(self.with("type", |c| c.compat(rt, wt)));
                }
                None if rf.default.is_some() => {}
                None => {
                    let reader_type = self.reader.node(rf.node);
                    if matches!(reader_type, Node::Enum(e) if e.default.is_some()) {
                        // Java's special case: an enum field with an enum default is checked
                        // against the writer record itself.
                        let (rt, w) = (rf.node, self.writer_record_id(wr));
                        out.extend(self.with("type", |c| c.compat(rt, w)));
                    } else {
                        out.extend(self.incompatible(
                            IncompatibilityType::ReaderFieldMissingDefaultValue,
                            rf.name.clone(),
                        ));
                    }
                }
            }
            self.location.pop();
        }
        self.location.pop();
        out
    }

    fn writer_record_id(&self, wr: &crate::schema::Record) -> NodeId {
        self.writer
            .named(&wr.name.fullname)
            .unwrap_or(self.writer.root())
    }
}
