//! Writing a container file: the header at once, then blocks of encoded records, each
//! compressed with the file's codec and followed by the sync marker.

use std::io::Write;

use super::codec::{Codec, compress};
use super::{ContainerError, MAGIC, RESERVED_PREFIX, SYNC_SIZE};
use crate::wire::{write_bytes, write_long};

/// Appends encoded records and writes them as blocks of about `block_size` uncompressed
/// bytes. Records are staged in `pending` first, so a batch that fails halfway can be taken
/// back (`rollback`) before any of it reaches the file.
pub struct BlockWriter<W: Write> {
    sink: W,
    codec: Codec,
    level: Option<i32>,
    sync: [u8; SYNC_SIZE],
    block_size: usize,
    /// Encoded records not yet written, back to back, and where each ends.
    pending: Vec<u8>,
    ends: Vec<usize>,
    compressed: Vec<u8>,
    frame: Vec<u8>,
    written: u64,
    records: u64,
    blocks: u64,
}

/// Checks a compression level against what the codec takes.
pub fn check_level(codec: Codec, level: Option<i32>) -> Result<(), ContainerError> {
    match (level, codec.levels()) {
        (None, _) => Ok(()),
        (Some(_), None) => Err(ContainerError::usage(format!(
            "the {} codec takes no compression level",
            codec.name()
        ))),
        (Some(l), Some((lo, hi, _))) if l < lo || l > hi => Err(ContainerError::usage(format!(
            "compression level {l} is outside the {} codec's {lo}..{hi}",
            codec.name()
        ))),
        _ => Ok(()),
    }
}

impl<W: Write> BlockWriter<W> {
    /// Writes the header (schema, codec, the user's metadata, sync marker) to `sink`.
    pub fn new(
        mut sink: W,
        schema_text: &str,
        codec: Codec,
        level: Option<i32>,
        metadata: &[(String, Vec<u8>)],
        sync: [u8; SYNC_SIZE],
        block_size: usize,
    ) -> Result<Self, ContainerError> {
        check_level(codec, level)?;
        if block_size == 0 {
            return Err(ContainerError::usage("block_size must be at least 1 byte"));
        }
        if let Some((key, _)) = metadata
            .iter()
            .find(|(k, _)| k.starts_with(RESERVED_PREFIX))
        {
            return Err(ContainerError::usage(format!(
                "metadata key '{key}' is reserved: keys starting with '{RESERVED_PREFIX}' are set by the writer"
            )));
        }
        let mut header = Vec::with_capacity(schema_text.len() + 64);
        header.extend_from_slice(&MAGIC);
        write_long(&mut header, 2 + metadata.len() as i64);
        write_bytes(&mut header, b"avro.schema");
        write_bytes(&mut header, schema_text.as_bytes());
        write_bytes(&mut header, b"avro.codec");
        write_bytes(&mut header, codec.name().as_bytes());
        for (key, value) in metadata {
            write_bytes(&mut header, key.as_bytes());
            write_bytes(&mut header, value);
        }
        header.push(0);
        header.extend_from_slice(&sync);
        sink.write_all(&header)
            .map_err(|e| ContainerError::io("cannot write the header", 0, e))?;
        Ok(BlockWriter {
            sink,
            codec,
            level,
            sync,
            block_size,
            pending: Vec::new(),
            ends: Vec::new(),
            compressed: Vec::new(),
            frame: Vec::new(),
            written: header.len() as u64,
            records: 0,
            blocks: 0,
        })
    }

    /// The buffer to encode the next record into; call `end_record` after it.
    pub fn pending_mut(&mut self) -> &mut Vec<u8> {
        &mut self.pending
    }

    /// Marks the end of a record encoded into `pending_mut()`.
    pub fn end_record(&mut self) {
        self.ends.push(self.pending.len());
    }

    pub fn append_record(&mut self, datum: &[u8]) {
        self.pending.extend_from_slice(datum);
        self.end_record();
    }

    /// Records appended but not yet written.
    pub fn pending_records(&self) -> usize {
        self.ends.len()
    }

    /// Uncompressed bytes of those records (and of a record being encoded).
    pub fn pending_bytes(&self) -> usize {
        self.pending.len()
    }

    /// Drops the pending records after the first `keep` (and any partly encoded one).
    pub fn rollback(&mut self, keep: usize) {
        self.ends.truncate(keep);
        self.pending
            .truncate(self.ends.last().copied().unwrap_or(0));
    }

    /// Writes every block that has reached the block size; the rest stays pending.
    pub fn write_full_blocks(&mut self) -> Result<(), ContainerError> {
        self.write_blocks(false)
    }

    /// Writes everything pending (the last block may be short).
    pub fn write_pending(&mut self) -> Result<(), ContainerError> {
        self.write_blocks(true)
    }

    /// Writes everything pending and flushes the sink.
    pub fn flush(&mut self) -> Result<(), ContainerError> {
        self.write_pending()?;
        let at = self.written;
        self.sink
            .flush()
            .map_err(|e| ContainerError::io("cannot flush", at, e))
    }

    fn write_blocks(&mut self, all: bool) -> Result<(), ContainerError> {
        let (mut head, mut first) = (0usize, 0usize);
        let mut result = Ok(());
        for i in 0..self.ends.len() {
            let end = self.ends.get(i).copied().unwrap_or(head);
            if end - head >= self.block_size {
                result = self.write_block(head, end, (i + 1 - first) as u64);
                if result.is_err() {
                    break;
                }
                (head, first) = (end, i + 1);
            }
        }
        if result.is_ok() && all && first < self.ends.len() {
            let end = self.pending.len();
            result = self.write_block(head, end, (self.ends.len() - first) as u64);
            if result.is_ok() {
                (head, first) = (end, self.ends.len());
            }
        }
        // Keep only what was not written, even after an error, so nothing is written twice.
        self.pending.drain(..head);
        self.ends.drain(..first);
        for e in &mut self.ends {
            *e -= head;
        }
        result
    }

    fn write_block(&mut self, start: usize, end: usize, count: u64) -> Result<(), ContainerError> {
        let data = self.pending.get(start..end).unwrap_or_default();
        let stored: &[u8] = if self.codec == Codec::Null {
            data
        } else {
            compress(self.codec, self.level, data, &mut self.compressed).map_err(|e| {
                ContainerError::io(
                    &format!("cannot compress a block with {}", self.codec.name()),
                    self.written,
                    e,
                )
            })?;
            &self.compressed
        };
        self.frame.clear();
        write_long(&mut self.frame, count as i64);
        write_long(&mut self.frame, stored.len() as i64);
        self.frame.extend_from_slice(stored);
        self.frame.extend_from_slice(&self.sync);
        let at = self.written;
        self.sink
            .write_all(&self.frame)
            .map_err(|e| ContainerError::io("cannot write a block", at, e))?;
        self.written += self.frame.len() as u64;
        self.records += count;
        self.blocks += 1;
        Ok(())
    }

    /// Bytes written to the sink so far (header and written blocks).
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// Records written to the sink so far (pending ones not counted).
    pub fn records_written(&self) -> u64 {
        self.records
    }

    pub fn blocks_written(&self) -> u64 {
        self.blocks
    }

    pub fn sync(&self) -> [u8; SYNC_SIZE] {
        self.sync
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }

    pub fn get_ref(&self) -> &W {
        &self.sink
    }

    pub fn get_mut(&mut self) -> &mut W {
        &mut self.sink
    }
}
