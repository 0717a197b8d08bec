//! Avro object container files (`.avro`): the header, block framing with sync markers, and
//! the block codecs. Pure Rust over `std::io::Read`/`Write`; the Python bindings add the
//! record decoding and encoding (`py/container_*.rs`).
//!
//! Reading is bounded for any input: every length read from the file is checked against the
//! bytes left in it (when known) and against `Limits::max_block_bytes` before anything is
//! allocated, and a block is decompressed through a reader that stops one byte past the limit
//! (a decompression bomb costs at most the limit).

mod codec;
mod reader;
mod writer;

use std::fmt;
use std::io;

pub use codec::{Codec, compress, decompress};
pub use reader::{BlockInfo, BlockReader};
pub use writer::{BlockWriter, check_level};

use crate::error::Error;
use crate::schema::Schema;
use crate::transcode::walk;
use crate::wire::{DEFAULT_MAX_ZERO_BYTE_ITEMS, ItemBudget, Reader};

/// The four bytes every container file starts with.
pub const MAGIC: [u8; 4] = *b"Obj\x01";
/// The sync marker's size, the default `Limits::max_block_bytes` and the default block size.
pub use crate::rules::{DEFAULT_BLOCK_SIZE, DEFAULT_MAX_BLOCK_BYTES, SYNC_SIZE};
/// Metadata keys with this prefix are the specification's; users cannot set them.
pub const RESERVED_PREFIX: &str = "avro.";

/// What a reader accepts.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest decompressed block, and the largest header, the reader accepts. A block's
    /// compressed size may exceed it by an eighth (incompressible data grows a little).
    pub max_block_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_block_bytes: DEFAULT_MAX_BLOCK_BYTES,
        }
    }
}

impl Limits {
    /// The largest compressed block that can decompress within the limit.
    pub fn max_stored_bytes(&self) -> u64 {
        let limit = self.max_block_bytes as u64;
        limit.saturating_add(limit / 8).saturating_add(1024)
    }
}

/// A file's header: its metadata in file order, the codec and the sync marker.
#[derive(Debug, Clone)]
pub struct Header {
    pub metadata: Vec<(String, Vec<u8>)>,
    pub codec: Codec,
    pub sync: [u8; SYNC_SIZE],
    /// Byte offset of the first block (the header's length, from where the file starts).
    pub end: u64,
}

impl Header {
    /// The value of a metadata key (the last one when a file repeats a key, as Java's map).
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        self.metadata
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }

    /// The writer schema's JSON text (`avro.schema`).
    pub fn schema_text(&self) -> Result<&str, ContainerError> {
        let raw = self.get("avro.schema").ok_or_else(|| {
            ContainerError::format("the header has no avro.schema entry", 0, None)
        })?;
        std::str::from_utf8(raw)
            .map_err(|_| ContainerError::format("the header's avro.schema is not UTF-8", 0, None))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The bytes are not a valid container file, or a record in it is not valid.
    Format,
    /// Reading or writing the underlying file failed.
    Io,
    /// The caller asked for something invalid (an unknown codec, a reserved metadata key).
    Usage,
}

/// A failure reading or writing a container file, with where it happened.
#[derive(Debug)]
pub struct ContainerError {
    pub kind: ErrorKind,
    pub message: String,
    /// Byte offset in the file: where the bad bytes are, or the start of the block holding
    /// a bad record.
    pub offset: u64,
    /// Index of the block (None in the header).
    pub block: Option<u64>,
    /// Index of the record within the block, for a record that does not decode.
    pub record: Option<u64>,
    /// Data path inside that record.
    pub path: Option<String>,
    pub io: Option<io::Error>,
}

impl ContainerError {
    pub fn format(message: impl Into<String>, offset: u64, block: Option<u64>) -> Self {
        ContainerError {
            kind: ErrorKind::Format,
            message: message.into(),
            offset,
            block,
            record: None,
            path: None,
            io: None,
        }
    }

    pub fn io(what: &str, offset: u64, error: io::Error) -> Self {
        ContainerError {
            kind: ErrorKind::Io,
            message: format!("{what}: {error}"),
            offset,
            block: None,
            record: None,
            path: None,
            io: Some(error),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        ContainerError {
            kind: ErrorKind::Usage,
            message: message.into(),
            offset: 0,
            block: None,
            record: None,
            path: None,
            io: None,
        }
    }

    /// A record of block `info` that does not decode (or transcode).
    pub fn record(info: &BlockInfo, index: usize, error: &Error) -> Self {
        let path = match error {
            Error::Decode { path, .. } if !path.is_empty() => Some(path.render()),
            _ => None,
        };
        ContainerError {
            kind: ErrorKind::Format,
            message: error.full_message(),
            offset: info.offset,
            block: Some(info.index),
            record: Some(index as u64),
            path,
            io: None,
        }
    }

    /// The message with the file name and the location: `dump.avro: block 3 at byte 1234:
    /// record 7: cannot decode /name at byte 2: ...`.
    pub fn describe(&self, file: &str) -> String {
        let mut out = String::new();
        if !file.is_empty() {
            out.push_str(file);
            out.push_str(": ");
        }
        if self.kind != ErrorKind::Usage {
            match self.block {
                Some(b) => out.push_str(&format!("block {b} at byte {}: ", self.offset)),
                None => out.push_str(&format!("byte {}: ", self.offset)),
            }
        }
        if let Some(r) = self.record {
            out.push_str(&format!("record {r}: "));
        }
        out.push_str(&self.message);
        out
    }
}

impl fmt::Display for ContainerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(""))
    }
}

impl std::error::Error for ContainerError {}

/// Refuses a block record count its data cannot hold: each record takes at least the
/// schema's minimum size, and records of zero bytes are capped like zero-byte array items.
pub fn check_count(
    schema: &Schema,
    info: &BlockInfo,
    data_len: usize,
) -> Result<(), ContainerError> {
    let min = schema.min_size(schema.root()) as u64;
    let fits = match (data_len as u64).checked_div(min) {
        Some(most) => info.count <= most,
        None => info.count <= DEFAULT_MAX_ZERO_BYTE_ITEMS as u64,
    };
    if fits {
        Ok(())
    } else {
        Err(ContainerError::format(
            format!(
                "block count {} exceeds what its {data_len} bytes of data can hold",
                info.count
            ),
            info.offset,
            Some(info.index),
        ))
    }
}

/// Finds where each of the block's records ends, validating each as the transcoder does;
/// fails on a bad record or on bytes left after the last one. `ends` is cleared first.
pub fn record_ends(
    schema: &Schema,
    info: &BlockInfo,
    data: &[u8],
    ends: &mut Vec<usize>,
) -> Result<(), ContainerError> {
    check_count(schema, info, data.len())?;
    ends.clear();
    ends.reserve(info.count as usize);
    let mut start = 0usize;
    // The block is one call: its records share one budget of zero-byte items.
    let mut budget = ItemBudget::default();
    for index in 0..info.count as usize {
        let rest = data.get(start..).unwrap_or_default();
        let mut r = Reader::with_budget(rest, budget);
        walk(schema, schema.root(), &mut r, true, 0)
            .map_err(|e| ContainerError::record(info, index, &e))?;
        budget = r.budget();
        start += r.pos();
        ends.push(start);
    }
    check_consumed(info, start, data.len())
}

/// Fails when a block holds bytes after its last record.
pub fn check_consumed(info: &BlockInfo, used: usize, len: usize) -> Result<(), ContainerError> {
    if used == len {
        Ok(())
    } else {
        Err(ContainerError::format(
            format!(
                "{} bytes follow the block's {} records",
                len - used.min(len),
                info.count
            ),
            info.offset,
            Some(info.index),
        ))
    }
}
