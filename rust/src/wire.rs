//! The Avro binary encoding at the byte level: zig-zag varints, lengths, blocks.
//!
//! Every length or count read here is checked against the bytes that remain before the
//! caller allocates anything, so a hostile `2^62` fails at once instead of reserving memory.

use crate::error::{Error, Result};

/// The nesting limit of data and the default budget of zero-byte items (see `rules`).
pub use crate::rules::{DEFAULT_MAX_ZERO_BYTE_ITEMS, MAX_DEPTH};

/// How many zero-byte items a call may still read; carried from datum to datum of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemBudget {
    limit: usize,
    left: usize,
}

impl ItemBudget {
    pub fn new(limit: usize) -> Self {
        ItemBudget { limit, left: limit }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    fn take(&mut self, count: u64, at: usize) -> Result<()> {
        if count > self.left as u64 {
            return Err(Error::decode(
                format!(
                    "more than {} items that take no bytes (null, empty records, fixed of size 0) \
                     in one call: the max_zero_byte_items limit",
                    self.limit
                ),
                at,
            ));
        }
        self.left -= count as usize;
        Ok(())
    }
}

impl Default for ItemBudget {
    fn default() -> Self {
        ItemBudget::new(DEFAULT_MAX_ZERO_BYTE_ITEMS)
    }
}

#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    budget: ItemBudget,
}

impl<'a> Reader<'a> {
    /// A reader with the default budget of zero-byte items.
    pub fn new(data: &'a [u8]) -> Self {
        Reader::with_budget(data, ItemBudget::default())
    }

    /// A reader that may still read `budget`'s zero-byte items; `budget()` hands back what is
    /// left, for the next datum of the same call.
    pub fn with_budget(data: &'a [u8], budget: ItemBudget) -> Self {
        Reader {
            data,
            pos: 0,
            budget,
        }
    }

    pub fn budget(&self) -> ItemBudget {
        self.budget
    }

    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    #[inline]
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// The bytes between `start` and the current position.
    #[inline]
    pub fn since(&self, start: usize) -> &'a [u8] {
        self.data.get(start..self.pos).unwrap_or_default()
    }

    fn truncated(&self, what: &str, needed: usize) -> Error {
        Error::decode(
            format!(
                "truncated input: {what} needs {needed} bytes, {} remain",
                self.remaining()
            ),
            self.pos,
        )
    }

    /// A zig-zag varint of at most 10 bytes.
    #[inline]
    pub fn read_long(&mut self) -> Result<i64> {
        let start = self.pos;
        let mut value: u64 = 0;
        let mut shift = 0u32;
        loop {
            let Some(&byte) = self.data.get(self.pos) else {
                self.pos = start;
                return Err(Error::decode("truncated input: varint ends early", start));
            };
            self.pos += 1;
            if shift == 63 && byte > 1 {
                self.pos = start;
                return Err(Error::decode(
                    "varint is longer than 10 bytes or overflows 64 bits",
                    start,
                ));
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(((value >> 1) as i64) ^ -((value & 1) as i64));
            }
            shift += 7;
        }
    }

    /// An int: a varint whose value fits in 32 bits (the specification's int).
    #[inline]
    pub fn read_int(&mut self) -> Result<i32> {
        let start = self.pos;
        let v = self.read_long()?;
        i32::try_from(v)
            .map_err(|_| Error::decode(format!("int value {v} is out of the 32-bit range"), start))
    }

    #[inline]
    pub fn read_bool(&mut self) -> Result<bool> {
        match self.data.get(self.pos) {
            Some(0) => {
                self.pos += 1;
                Ok(false)
            }
            Some(1) => {
                self.pos += 1;
                Ok(true)
            }
            Some(b) => Err(Error::decode(
                format!("invalid boolean byte {b} (must be 0 or 1)"),
                self.pos,
            )),
            None => Err(self.truncated("a boolean", 1)),
        }
    }

    #[inline]
    pub fn read_fixed(&mut self, n: usize) -> Result<&'a [u8]> {
        match self.data.get(self.pos..self.pos.saturating_add(n)) {
            Some(slice) if n <= self.remaining() => {
                self.pos += n;
                Ok(slice)
            }
            _ => Err(self.truncated("the value", n)),
        }
    }

    #[inline]
    fn read_array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut arr = [0u8; N];
        arr.copy_from_slice(self.read_fixed(N)?);
        Ok(arr)
    }

    #[inline]
    pub fn read_float(&mut self) -> Result<f32> {
        Ok(f32::from_le_bytes(self.read_array()?))
    }

    #[inline]
    pub fn read_double(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(self.read_array()?))
    }

    /// A length prefix followed by that many bytes (bytes and string).
    #[inline]
    pub fn read_bytes(&mut self) -> Result<&'a [u8]> {
        let start = self.pos;
        let len = self.read_long()?;
        if len < 0 {
            self.pos = start;
            return Err(Error::decode(format!("negative length {len}"), start));
        }
        let len = len as u64;
        if len > self.remaining() as u64 {
            let remaining = self.remaining();
            self.pos = start;
            return Err(Error::decode(
                format!("length {len} exceeds the {remaining} bytes that remain"),
                start,
            ));
        }
        self.read_fixed(len as usize)
    }

    /// A string: like bytes, and valid UTF-8.
    #[inline]
    pub fn read_str(&mut self) -> Result<&'a str> {
        let start = self.pos;
        let bytes = self.read_bytes()?;
        std::str::from_utf8(bytes)
            .map_err(|e| Error::decode(format!("string is not valid UTF-8 ({e})"), start))
    }

    /// Skips a string, checking it is UTF-8 (ASCII, the common case, is checked a word at a
    /// time without the general decoder).
    #[inline]
    pub fn skip_str(&mut self) -> Result<()> {
        let start = self.pos;
        let bytes = self.read_bytes()?;
        if !bytes.is_ascii() {
            std::str::from_utf8(bytes)
                .map_err(|e| Error::decode(format!("string is not valid UTF-8 ({e})"), start))?;
        }
        Ok(())
    }

    /// An index below `n` (union branch or enum symbol).
    #[inline]
    pub fn read_index(&mut self, n: usize, what: &str) -> Result<usize> {
        let start = self.pos;
        let v = self.read_long()?;
        if v < 0 || v as u64 >= n as u64 {
            return Err(Error::decode(
                format!("{what} index {v} is out of range (0..{n})"),
                start,
            ));
        }
        Ok(v as usize)
    }

    /// The item count of the next block of an array or map, `0` at the end marker. Negative
    /// counts (block followed by its byte size) are accepted; the size is read and, as
    /// Apache Avro Java's reader does, not used (items are always walked). The count is
    /// refused when it cannot fit in the remaining input (`min_item_size` bytes per item at
    /// least).
    #[inline]
    pub fn read_block_count(&mut self, min_item_size: usize) -> Result<usize> {
        let start = self.pos;
        let raw = self.read_long()?;
        let count = if raw < 0 {
            let Some(count) = raw.checked_neg() else {
                return Err(Error::decode(format!("invalid block count {raw}"), start));
            };
            self.read_long()?;
            count as u64
        } else {
            raw as u64
        };
        if count == 0 {
            return Ok(0);
        }
        if min_item_size > 0 {
            if count.saturating_mul(min_item_size as u64) > self.remaining() as u64 {
                return Err(Error::decode(
                    format!(
                        "block count {count} exceeds what the {} remaining bytes can hold",
                        self.remaining()
                    ),
                    start,
                ));
            }
        } else {
            self.budget.take(count, start)?;
        }
        Ok(count as usize)
    }

    /// Moves back to `pos` (used by transcoding to re-read a buffered value).
    #[inline]
    pub fn seek(&mut self, pos: usize) {
        self.pos = pos.min(self.data.len());
    }

    /// Fails when input is left after a complete datum.
    pub fn finish(&self) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::decode(
                format!("{} trailing bytes after the datum", self.remaining()),
                self.pos,
            ))
        }
    }
}

#[inline]
pub fn write_long(buf: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        buf.push((z as u8) | 0x80);
        z >>= 7;
    }
    buf.push(z as u8);
}

#[inline]
pub fn write_bytes(buf: &mut Vec<u8>, bytes: &[u8]) {
    write_long(buf, bytes.len() as i64);
    buf.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(v: i64) -> i64 {
        let mut buf = Vec::new();
        write_long(&mut buf, v);
        let mut r = Reader::new(&buf);
        let out = r.read_long().unwrap_or(0);
        assert!(r.is_empty());
        out
    }

    #[test]
    fn varints_roundtrip_at_the_edges() {
        for v in [
            0,
            1,
            -1,
            63,
            -64,
            64,
            i32::MAX as i64,
            i32::MIN as i64,
            i64::MAX,
            i64::MIN,
        ] {
            assert_eq!(roundtrip(v), v);
        }
    }

    #[test]
    fn an_eleven_byte_varint_is_refused() {
        let data = [0xffu8; 11];
        assert!(Reader::new(&data).read_long().is_err());
        let mut ten = [0xffu8; 10];
        ten[9] = 0x02;
        assert!(Reader::new(&ten).read_long().is_err());
    }

    #[test]
    fn a_huge_length_fails_without_allocating() {
        let mut buf = Vec::new();
        write_long(&mut buf, 1 << 62);
        assert!(matches!(
            Reader::new(&buf).read_bytes(),
            Err(Error::Decode { .. })
        ));
        assert!(Reader::new(&buf).read_block_count(1).is_err());
        assert!(Reader::new(&buf).read_block_count(0).is_err());
    }

    #[test]
    fn the_zero_byte_item_budget_spans_the_readers_of_a_call() {
        let mut block = Vec::new();
        write_long(&mut block, 3);
        let mut budget = ItemBudget::new(5);
        let mut r = Reader::with_budget(&block, budget);
        assert_eq!(r.read_block_count(0).ok(), Some(3));
        budget = r.budget();
        let mut r = Reader::with_budget(&block, budget);
        assert!(matches!(r.read_block_count(0), Err(Error::Decode { .. })));
        assert_eq!(r.budget(), budget, "a refused block takes nothing");
        assert_eq!(Reader::new(&block).read_block_count(0).ok(), Some(3));
    }
}
