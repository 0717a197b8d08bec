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
use crate::matching::Promotion;
use crate::schema::{NodeId, Schema};

mod builder;
mod records;
mod unions;

use builder::Builder;

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
pub(crate) struct Issue {
    pub(crate) kind: &'static str,
    pub(crate) location: String,
    pub(crate) message: String,
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

/// The op re-encoding a promoted value.
pub(crate) fn promotion_op(p: Promotion) -> Op {
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
