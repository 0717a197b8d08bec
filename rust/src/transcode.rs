//! A resolution plan applied to bytes: writer encoding in, reader encoding out, no values in
//! between. Unchanged values are validated and copied as byte ranges, skipped fields are
//! walked without being decoded, promotions re-encode only the value that changes, and fields
//! the reader wants in another order are replayed from their saved input position.
//!
//! Input is validated as strictly as the decoder validates it (varints, lengths, UTF-8 of the
//! strings that are kept, indexes, depth), so malformed records fail here rather than
//! downstream.

use crate::error::{Error, Result};
use crate::resolve::{BranchTarget, EnumTarget, Op, OpId, Plan, Step};
use crate::schema::{Node, NodeId, Schema};
use crate::wire::{ItemBudget, MAX_DEPTH, Reader, write_long};

/// A plan with the writer schema it walks; cheap to share between threads.
pub struct Transcoder<'a> {
    pub plan: &'a Plan,
    pub writer: &'a Schema,
}

impl Transcoder<'_> {
    /// Transcodes one complete datum, appending to `out`. On error `out` is restored to its
    /// length on entry. `budget` is what the call may still read of zero-byte items (it is
    /// updated, so a batch shares one budget).
    pub fn transcode_into(
        &self,
        input: &[u8],
        out: &mut Vec<u8>,
        scratch: &mut Vec<usize>,
        budget: &mut ItemBudget,
    ) -> Result<()> {
        let start = out.len();
        let mut r = Reader::with_budget(input, *budget);
        scratch.clear();
        let result = self
            .run(self.plan.root, &mut r, out, scratch, 0)
            .and_then(|()| r.finish());
        *budget = r.budget();
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    /// One datum with a budget of its own.
    pub fn transcode_with(&self, input: &[u8], mut budget: ItemBudget) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(input.len() + 16);
        self.transcode_into(input, &mut out, &mut Vec::new(), &mut budget)?;
        Ok(out)
    }

    /// One datum with the default budget.
    pub fn transcode(&self, input: &[u8]) -> Result<Vec<u8>> {
        self.transcode_with(input, ItemBudget::default())
    }

    fn run(
        &self,
        op: OpId,
        r: &mut Reader<'_>,
        out: &mut Vec<u8>,
        slots: &mut Vec<usize>,
        depth: usize,
    ) -> Result<()> {
        match self.plan.op(op) {
            Op::Copy(node) => {
                let start = r.pos();
                walk(self.writer, *node, r, true, depth)?;
                out.extend_from_slice(r.since(start));
            }
            Op::IntAsLong => {
                let start = r.pos();
                r.read_int()?;
                out.extend_from_slice(r.since(start));
            }
            Op::IntToFloat => out.extend_from_slice(&(r.read_int()? as f32).to_le_bytes()),
            Op::IntToDouble => out.extend_from_slice(&f64::from(r.read_int()?).to_le_bytes()),
            Op::LongToFloat => out.extend_from_slice(&(r.read_long()? as f32).to_le_bytes()),
            Op::LongToDouble => out.extend_from_slice(&(r.read_long()? as f64).to_le_bytes()),
            Op::FloatToDouble => out.extend_from_slice(&f64::from(r.read_float()?).to_le_bytes()),
            Op::BytesAsString => {
                let start = r.pos();
                r.skip_str()?;
                out.extend_from_slice(r.since(start));
            }
            Op::StringAsBytes => {
                let start = r.pos();
                r.read_bytes()?;
                out.extend_from_slice(r.since(start));
            }
            Op::Enum(targets) => {
                let at = r.pos();
                let i = r.read_index(targets.len(), "enum symbol")?;
                match targets.get(i) {
                    Some(EnumTarget::Index(j)) => write_long(out, i64::from(*j)),
                    Some(EnumTarget::Unknown(symbol)) => {
                        return Err(Error::decode(
                            format!(
                                "enum symbol '{symbol}' is not in the reader's enum, which has no default"
                            ),
                            at,
                        ));
                    }
                    None => return Err(Error::decode("enum index out of range", at)),
                }
            }
            Op::Array { items, min } => {
                check_depth(depth, r)?;
                let mut index = 0usize;
                loop {
                    let count = r.read_block_count(*min)?;
                    if count == 0 {
                        break;
                    }
                    write_long(out, count as i64);
                    for _ in 0..count {
                        self.run(*items, r, out, slots, depth + 1)
                            .map_err(|e| e.at(index.to_string()))?;
                        index += 1;
                    }
                }
                out.push(0);
            }
            Op::Map { values, min } => {
                check_depth(depth, r)?;
                loop {
                    let count = r.read_block_count(min + 1)?;
                    if count == 0 {
                        break;
                    }
                    write_long(out, count as i64);
                    for _ in 0..count {
                        let start = r.pos();
                        let key = r.read_str()?;
                        out.extend_from_slice(r.since(start));
                        self.run(*values, r, out, slots, depth + 1)
                            .map_err(|e| e.at(key))?;
                    }
                }
                out.push(0);
            }
            Op::Record { steps, slots: n } => {
                check_depth(depth, r)?;
                let base = slots.len();
                slots.resize(base + n, 0);
                for step in steps.iter() {
                    match step {
                        Step::Field(op) => self.run(*op, r, out, slots, depth + 1)?,
                        Step::Copy(nodes) => {
                            let start = r.pos();
                            for node in nodes.iter() {
                                walk(self.writer, *node, r, true, depth + 1)?;
                            }
                            out.extend_from_slice(r.since(start));
                        }
                        Step::Skip(node) => walk(self.writer, *node, r, false, depth + 1)?,
                        Step::Save { slot, node } => {
                            if let Some(s) = slots.get_mut(base + slot) {
                                *s = r.pos();
                            }
                            walk(self.writer, *node, r, false, depth + 1)?;
                        }
                        Step::Replay { slot, op } => {
                            let resume = r.pos();
                            let saved = slots.get(base + slot).copied().unwrap_or(resume);
                            r.seek(saved);
                            self.run(*op, r, out, slots, depth + 1)?;
                            r.seek(resume);
                        }
                        Step::Default(bytes) => out.extend_from_slice(bytes),
                    }
                }
                slots.truncate(base);
            }
            Op::WriterUnion(targets) => {
                let at = r.pos();
                let i = r.read_index(targets.len(), "union branch")?;
                match targets.get(i) {
                    Some(BranchTarget::To { reader_index, op }) => {
                        if let Some(j) = reader_index {
                            write_long(out, i64::from(*j));
                        }
                        self.run(*op, r, out, slots, depth)?;
                    }
                    Some(BranchTarget::Fail(reason)) => {
                        return Err(Error::decode(format!("union branch {i}: {reason}"), at));
                    }
                    None => return Err(Error::decode("union index out of range", at)),
                }
            }
            Op::IntoUnion { reader_index, op } => {
                write_long(out, i64::from(*reader_index));
                self.run(*op, r, out, slots, depth)?;
            }
            Op::Fail(reason) => return Err(Error::decode(reason.to_string(), r.pos())),
            Op::Pending => {
                return Err(Error::decode(
                    "internal error: unfinished resolution plan",
                    r.pos(),
                ));
            }
        }
        Ok(())
    }
}

#[inline]
fn check_depth(depth: usize, r: &Reader<'_>) -> Result<()> {
    if depth >= MAX_DEPTH {
        return Err(Error::decode(
            format!("data nested deeper than {MAX_DEPTH} levels"),
            r.pos(),
        ));
    }
    Ok(())
}

/// Walks one value of writer node `node` without building it, validating the encoding;
/// strings are checked to be UTF-8 when `utf8` is set (values that are kept).
pub fn walk(
    schema: &Schema,
    node: NodeId,
    r: &mut Reader<'_>,
    utf8: bool,
    depth: usize,
) -> Result<()> {
    match schema.node(node) {
        Node::Null => {}
        Node::Boolean => {
            r.read_bool()?;
        }
        Node::Int { .. } => {
            r.read_int()?;
        }
        Node::Long { .. } => {
            r.read_long()?;
        }
        Node::Float => {
            r.read_fixed(4)?;
        }
        Node::Double => {
            r.read_fixed(8)?;
        }
        Node::Bytes { .. } => {
            r.read_bytes()?;
        }
        Node::String { .. } => {
            if utf8 {
                r.skip_str()?;
            } else {
                r.read_bytes()?;
            }
        }
        Node::Fixed(f) => {
            r.read_fixed(f.size)?;
        }
        Node::Enum(e) => {
            r.read_index(e.symbols.len(), "enum symbol")?;
        }
        Node::Union { branches } => {
            let i = r.read_index(branches.len(), "union branch")?;
            if let Some(b) = branches.get(i) {
                walk(schema, *b, r, utf8, depth)?;
            }
        }
        Node::Array { items } => {
            check_depth(depth, r)?;
            let min = schema.min_size(*items);
            // Below the depth limit only: at it, item records must fail their depth check.
            let fixed = schema
                .fixed_size(*items)
                .filter(|s| *s > 0 && depth + 1 < MAX_DEPTH);
            loop {
                let count = r.read_block_count(min)?;
                if count == 0 {
                    break;
                }
                match fixed {
                    // Items of one size needing no checks (doubles, floats, fixed): the whole
                    // block at once. `read_block_count` proved count * size fits.
                    Some(size) => {
                        r.read_fixed(count * size)?;
                    }
                    None => {
                        for _ in 0..count {
                            walk(schema, *items, r, utf8, depth + 1)?;
                        }
                    }
                }
            }
        }
        Node::Map { values } => {
            check_depth(depth, r)?;
            let min = schema.min_size(*values) + 1;
            loop {
                let count = r.read_block_count(min)?;
                if count == 0 {
                    break;
                }
                for _ in 0..count {
                    if utf8 {
                        r.skip_str()?;
                    } else {
                        r.read_bytes()?;
                    }
                    walk(schema, *values, r, utf8, depth + 1)?;
                }
            }
        }
        Node::Record(rec) => {
            check_depth(depth, r)?;
            for f in &rec.fields {
                walk(schema, f.node, r, utf8, depth + 1).map_err(|e| e.at(f.name.as_str()))?;
            }
        }
    }
    Ok(())
}
