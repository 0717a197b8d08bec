//! Reading a container file block by block: the header, then each block's record count,
//! stored size, data and sync marker, every length checked before it is used.

use std::io::{self, Read, Seek, SeekFrom};

use super::codec::{Codec, DecompressError, decompress};
use super::{ContainerError, Header, Limits, MAGIC, SYNC_SIZE};
use crate::rules::MAX_METADATA_ENTRIES;

/// Where a block is and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    /// 0 for the first block of the file.
    pub index: u64,
    /// Byte offset of the block (of its record count) in the file.
    pub offset: u64,
    /// Number of records in the block.
    pub count: u64,
    /// Offset just past the block's sync marker: where the next block starts.
    pub end: u64,
}

/// Reads a container file from any `Read` (give it a buffered one: varints are read a byte
/// at a time).
pub struct BlockReader<R> {
    src: R,
    pos: u64,
    end: Option<u64>,
    header: Header,
    limits: Limits,
    next_index: u64,
    stored: Vec<u8>,
    done: bool,
}

fn truncated(what: &str, needed: u64, at: u64, block: Option<u64>) -> ContainerError {
    ContainerError::format(
        format!("truncated file: {what} needs {needed} more bytes than the file has"),
        at,
        block,
    )
}

impl<R: Read> BlockReader<R> {
    /// Reads the header of the container that starts at the current position of `src`, which
    /// is byte `start` of the file; `end` is the file's length when it is known (lengths are
    /// then checked against it before anything is read).
    pub fn new(
        src: R,
        start: u64,
        end: Option<u64>,
        limits: Limits,
    ) -> Result<Self, ContainerError> {
        let mut reader = BlockReader {
            src,
            pos: start,
            end,
            header: Header {
                metadata: Vec::new(),
                codec: Codec::Null,
                sync: [0; SYNC_SIZE],
                end: start,
            },
            limits,
            next_index: 0,
            stored: Vec::new(),
            done: false,
        };
        reader.read_header()?;
        Ok(reader)
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Byte offset of the next block.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Index the next block will have.
    pub fn next_index(&self) -> u64 {
        self.next_index
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub fn get_mut(&mut self) -> &mut R {
        &mut self.src
    }

    fn read_exact(
        &mut self,
        buf: &mut [u8],
        what: &str,
        block: Option<u64>,
    ) -> Result<(), ContainerError> {
        let at = self.pos;
        let mut filled = 0usize;
        while filled < buf.len() {
            let spare = buf.get_mut(filled..).unwrap_or_default();
            match self.src.read(spare) {
                Ok(0) => {
                    self.pos += filled as u64;
                    return Err(truncated(what, (buf.len() - filled) as u64, at, block));
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ContainerError::io(&format!("cannot read {what}"), at, e)),
            }
        }
        self.pos += buf.len() as u64;
        Ok(())
    }

    /// A zig-zag varint; None when the file ends before its first byte.
    fn read_long(&mut self, what: &str, block: Option<u64>) -> Result<Option<i64>, ContainerError> {
        let at = self.pos;
        let mut value: u64 = 0;
        let mut shift = 0u32;
        loop {
            let mut byte = [0u8; 1];
            match self.src.read(&mut byte) {
                Ok(0) if shift == 0 => return Ok(None),
                Ok(0) => return Err(truncated(what, 1, at, block)),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ContainerError::io(&format!("cannot read {what}"), at, e)),
            }
            self.pos += 1;
            let [b] = byte;
            if shift == 63 && b > 1 {
                return Err(ContainerError::format(
                    format!("{what} is a varint longer than 10 bytes"),
                    at,
                    block,
                ));
            }
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(Some(((value >> 1) as i64) ^ -((value & 1) as i64)));
            }
            shift += 7;
        }
    }

    fn require_long(&mut self, what: &str, block: Option<u64>) -> Result<i64, ContainerError> {
        let at = self.pos;
        self.read_long(what, block)?
            .ok_or_else(|| truncated(what, 1, at, block))
    }

    /// A length read from the file, checked: not negative, within `limit`, and within the
    /// bytes left in the file when its length is known.
    fn checked_len(
        &self,
        len: i64,
        what: &str,
        limit: u64,
        at: u64,
        block: Option<u64>,
    ) -> Result<u64, ContainerError> {
        if len < 0 {
            return Err(ContainerError::format(
                format!("{what} has a negative size {len}"),
                at,
                block,
            ));
        }
        let len = len as u64;
        if len > limit {
            return Err(ContainerError::format(
                format!(
                    "{what} of {len} bytes exceeds the limit of {} bytes (max_block_bytes)",
                    self.limits.max_block_bytes
                ),
                at,
                block,
            ));
        }
        if let Some(end) = self.end {
            let left = end.saturating_sub(self.pos);
            if len > left {
                return Err(ContainerError::format(
                    format!("{what} of {len} bytes exceeds the {left} bytes left in the file"),
                    at,
                    block,
                ));
            }
        }
        Ok(len)
    }

    /// Reads `len` bytes into `out` (replacing its content). When the file's length is not
    /// known, `out` grows with the bytes that arrive rather than with `len`.
    fn read_into(
        &mut self,
        len: u64,
        out: &mut Vec<u8>,
        what: &str,
        block: Option<u64>,
    ) -> Result<(), ContainerError> {
        out.clear();
        if self.end.is_some() {
            out.resize(len as usize, 0);
            return self.read_exact(out, what, block);
        }
        let at = self.pos;
        let got = (&mut self.src)
            .take(len)
            .read_to_end(out)
            .map_err(|e| ContainerError::io(&format!("cannot read {what}"), at, e))?;
        self.pos += got as u64;
        if (got as u64) < len {
            return Err(truncated(what, len - got as u64, at, block));
        }
        Ok(())
    }

    fn read_header(&mut self) -> Result<(), ContainerError> {
        let mut magic = [0u8; 4];
        let start = self.pos;
        self.read_exact(&mut magic, "the 4-byte magic", None)
            .map_err(|e| {
                if e.kind == super::ErrorKind::Format {
                    ContainerError::format(
                        "not an Avro object container file: shorter than its 4-byte magic",
                        start,
                        None,
                    )
                } else {
                    e
                }
            })?;
        if magic != MAGIC {
            return Err(ContainerError::format(
                format!(
                    "not an Avro object container file: it starts with {}, not 4f626a01 (\"Obj\\x01\")",
                    magic.iter().map(|b| format!("{b:02x}")).collect::<String>()
                ),
                start,
                None,
            ));
        }
        let mut budget = self.limits.max_block_bytes as u64;
        let mut entries = 0u64;
        loop {
            let at = self.pos;
            let mut count = self.require_long("the header's metadata count", None)?;
            if count == 0 {
                break;
            }
            if count < 0 {
                count = count.checked_neg().ok_or_else(|| {
                    ContainerError::format(format!("invalid metadata count {count}"), at, None)
                })?;
                self.require_long("the header's metadata block size", None)?;
            }
            for _ in 0..count {
                entries += 1;
                if entries > MAX_METADATA_ENTRIES as u64 {
                    return Err(ContainerError::format(
                        format!("the header has more than {MAX_METADATA_ENTRIES} metadata entries"),
                        at,
                        None,
                    ));
                }
                let mut key = Vec::new();
                self.read_header_bytes(&mut key, &mut budget, "a metadata key")?;
                let key_at = self.pos;
                let key = String::from_utf8(key).map_err(|_| {
                    ContainerError::format("a metadata key is not UTF-8", key_at, None)
                })?;
                let mut value = Vec::new();
                self.read_header_bytes(&mut value, &mut budget, "a metadata value")?;
                self.header.metadata.push((key, value));
            }
        }
        let mut sync = [0u8; SYNC_SIZE];
        self.read_exact(&mut sync, "the header's sync marker", None)?;
        self.header.sync = sync;
        self.header.end = self.pos;
        self.header.codec = match self.header.get("avro.codec") {
            None => Codec::Null,
            Some(name) => {
                let name = String::from_utf8_lossy(name).into_owned();
                Codec::from_name(&name).ok_or_else(|| {
                    let known: Vec<&str> = Codec::ALL.iter().map(|c| c.name()).collect();
                    ContainerError::format(
                        format!(
                            "unknown codec '{name}' (avro.codec); avrobridge reads {}",
                            known.join(", ")
                        ),
                        start,
                        None,
                    )
                })?
            }
        };
        Ok(())
    }

    fn read_header_bytes(
        &mut self,
        out: &mut Vec<u8>,
        budget: &mut u64,
        what: &str,
    ) -> Result<(), ContainerError> {
        let at = self.pos;
        let len = self.require_long(what, None)?;
        if len > 0 && len as u64 > *budget {
            return Err(ContainerError::format(
                format!(
                    "the header exceeds the limit of {} bytes (max_block_bytes)",
                    self.limits.max_block_bytes
                ),
                at,
                None,
            ));
        }
        let len = self.checked_len(len, what, u64::MAX, at, None)?;
        *budget -= len;
        self.read_into(len, out, what, None)
    }

    /// Reads the next block into `out` (its decompressed data), or returns None at the end of
    /// the file. Checks the sync marker and refuses a block above the limit.
    pub fn next_block(&mut self, out: &mut Vec<u8>) -> Result<Option<BlockInfo>, ContainerError> {
        out.clear();
        if self.done {
            return Ok(None);
        }
        let offset = self.pos;
        let index = self.next_index;
        let block = Some(index);
        let Some(count) = self.read_long("the block's record count", block)? else {
            self.done = true;
            return Ok(None);
        };
        if count < 0 {
            return Err(ContainerError::format(
                format!("negative block record count {count}"),
                offset,
                block,
            ));
        }
        let size_at = self.pos;
        let size = self.require_long("the block's size", block)?;
        let limit = self.limits.max_stored_bytes();
        let size = self.checked_len(size, "the block", limit, size_at, block)?;
        let data_at = self.pos;
        let codec = self.header.codec;
        if codec == Codec::Null {
            self.read_into(size, out, "the block's data", block)?;
        } else {
            let mut stored = std::mem::take(&mut self.stored);
            let read = self.read_into(size, &mut stored, "the block's data", block);
            self.stored = stored;
            read?;
        }
        let sync_at = self.pos;
        let mut sync = [0u8; SYNC_SIZE];
        self.read_exact(&mut sync, "the block's sync marker", block)?;
        if sync != self.header.sync {
            return Err(ContainerError::format(
                "the sync marker after the block does not match the header's",
                sync_at,
                block,
            ));
        }
        let max = self.limits.max_block_bytes;
        let result = if codec == Codec::Null {
            if out.len() > max {
                Err(DecompressError::TooLarge)
            } else {
                Ok(())
            }
        } else {
            decompress(codec, &self.stored, out, max)
        };
        result.map_err(|e| match e {
            DecompressError::TooLarge => ContainerError::format(
                format!(
                    "the block decompresses to more than the limit of {max} bytes (max_block_bytes)"
                ),
                data_at,
                block,
            ),
            DecompressError::Corrupt(m) => ContainerError::format(
                format!("cannot decompress the {} block: {m}", codec.name()),
                data_at,
                block,
            ),
        })?;
        self.next_index += 1;
        Ok(Some(BlockInfo {
            index,
            offset,
            count: count as u64,
            end: self.pos,
        }))
    }
}

impl<R: Read + Seek> BlockReader<R> {
    /// Continues at the block at byte `offset` (an offset an earlier `next_block` reported),
    /// numbering it `index`: how a reader resumes where a previous run stopped.
    pub fn seek_block(&mut self, offset: u64, index: u64) -> Result<(), ContainerError> {
        if offset < self.header.end {
            return Err(ContainerError::usage(format!(
                "offset {offset} is inside the header, which ends at byte {}",
                self.header.end
            )));
        }
        self.src
            .seek(SeekFrom::Start(offset))
            .map_err(|e| ContainerError::io("cannot seek", offset, e))?;
        self.pos = offset;
        self.next_index = index;
        self.done = false;
        Ok(())
    }
}
