//! The block codecs of the specification. Decompression is bounded: output stops one byte
//! past the limit, and memory grows with the bytes actually produced, never with a size the
//! input claims.

use std::io::{self, Read};

/// A block codec (`avro.codec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Null,
    Deflate,
    Snappy,
    Zstandard,
    Bzip2,
    Xz,
}

impl Codec {
    pub const ALL: [Codec; 6] = [
        Codec::Null,
        Codec::Deflate,
        Codec::Snappy,
        Codec::Zstandard,
        Codec::Bzip2,
        Codec::Xz,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Codec::Null => "null",
            Codec::Deflate => "deflate",
            Codec::Snappy => "snappy",
            Codec::Zstandard => "zstandard",
            Codec::Bzip2 => "bzip2",
            Codec::Xz => "xz",
        }
    }

    pub fn from_name(name: &str) -> Option<Codec> {
        Codec::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The compression levels the codec takes (None: it takes none), and its default, which
    /// is Apache Avro Java's.
    pub fn levels(self) -> Option<(i32, i32, i32)> {
        match self {
            Codec::Null | Codec::Snappy => None,
            Codec::Deflate => Some((0, 9, 6)),
            Codec::Zstandard => Some((1, 22, 3)),
            Codec::Bzip2 => Some((1, 9, 9)),
            Codec::Xz => Some((0, 9, 6)),
        }
    }
}

/// Why a block did not decompress.
#[derive(Debug)]
pub enum DecompressError {
    /// It decompresses to more than the limit.
    TooLarge,
    /// The compressed data is invalid; the message says how.
    Corrupt(String),
}

/// Decompresses `input` into `out` (cleared first), refusing more than `limit` bytes.
pub fn decompress(
    codec: Codec,
    input: &[u8],
    out: &mut Vec<u8>,
    limit: usize,
) -> Result<(), DecompressError> {
    out.clear();
    match codec {
        Codec::Null => {
            if input.len() > limit {
                return Err(DecompressError::TooLarge);
            }
            out.extend_from_slice(input);
            Ok(())
        }
        Codec::Snappy => snappy_decompress(input, out, limit),
        Codec::Deflate => read_bounded(flate2::bufread::DeflateDecoder::new(input), out, limit),
        Codec::Zstandard => {
            let decoder = zstd::stream::read::Decoder::with_buffer(input)
                .map_err(|e| DecompressError::Corrupt(e.to_string()))?;
            read_bounded(decoder, out, limit)
        }
        Codec::Bzip2 => read_bounded(bzip2::bufread::BzDecoder::new(input), out, limit),
        Codec::Xz => read_bounded(liblzma::bufread::XzDecoder::new(input), out, limit),
    }
}

/// Reads `r` to its end into `out`, growing `out` with the data (doubling, from 64 KiB) and
/// never past `limit + 1` bytes.
fn read_bounded(mut r: impl Read, out: &mut Vec<u8>, limit: usize) -> Result<(), DecompressError> {
    let cap = limit.saturating_add(1);
    let mut filled = 0usize;
    loop {
        if filled == out.len() {
            if filled >= cap {
                out.truncate(filled);
                return Err(DecompressError::TooLarge);
            }
            let grow = filled.max(64 << 10).min(cap - filled);
            out.reserve_exact(grow);
            out.resize(filled + grow, 0);
        }
        let spare = out.get_mut(filled..).unwrap_or_default();
        match r.read(spare) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                out.truncate(filled);
                return Err(DecompressError::Corrupt(e.to_string()));
            }
        }
    }
    out.truncate(filled);
    if filled > limit {
        return Err(DecompressError::TooLarge);
    }
    Ok(())
}

/// Most bytes a valid raw snappy stream of `n` bytes can produce: no element expands more
/// than a 3-byte copy of 64 bytes.
fn snappy_bound(n: usize) -> u64 {
    (n as u64).saturating_mul(22)
}

/// Avro's snappy: raw snappy followed by the big-endian CRC-32 of the uncompressed data.
fn snappy_decompress(input: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<(), DecompressError> {
    let Some(split) = input.len().checked_sub(4) else {
        return Err(DecompressError::Corrupt(format!(
            "a snappy block needs 4 bytes of CRC-32, it has {} bytes",
            input.len()
        )));
    };
    let (data, crc) = input.split_at(split);
    let len =
        snap::raw::decompress_len(data).map_err(|e| DecompressError::Corrupt(e.to_string()))?;
    if len > limit {
        return Err(DecompressError::TooLarge);
    }
    if len as u64 > snappy_bound(data.len()) {
        return Err(DecompressError::Corrupt(format!(
            "snappy: {} bytes cannot decompress to the {len} bytes they claim",
            data.len()
        )));
    }
    out.resize(len, 0);
    let n = snap::raw::Decoder::new()
        .decompress(data, out)
        .map_err(|e| DecompressError::Corrupt(e.to_string()))?;
    out.truncate(n);
    let expected = u32::from_be_bytes([
        *crc.first().unwrap_or(&0),
        *crc.get(1).unwrap_or(&0),
        *crc.get(2).unwrap_or(&0),
        *crc.get(3).unwrap_or(&0),
    ]);
    let actual = crc32fast::hash(out);
    if actual != expected {
        return Err(DecompressError::Corrupt(format!(
            "snappy: CRC-32 of the decompressed data is {actual:08x}, the block says {expected:08x}"
        )));
    }
    Ok(())
}

/// Compresses `input` into `out` (cleared first) with the codec at `level` (its default when
/// None; the caller has checked the level is in range).
pub fn compress(
    codec: Codec,
    level: Option<i32>,
    input: &[u8],
    out: &mut Vec<u8>,
) -> io::Result<()> {
    out.clear();
    let level = level.or(codec.levels().map(|(_, _, d)| d)).unwrap_or(0);
    let unsigned = level.max(0) as u32;
    match codec {
        Codec::Null => out.extend_from_slice(input),
        Codec::Snappy => {
            out.resize(snap::raw::max_compress_len(input.len()), 0);
            let n = snap::raw::Encoder::new()
                .compress(input, out)
                .map_err(io::Error::other)?;
            out.truncate(n);
            out.extend_from_slice(&crc32fast::hash(input).to_be_bytes());
        }
        Codec::Deflate => {
            flate2::bufread::DeflateEncoder::new(input, flate2::Compression::new(unsigned))
                .read_to_end(out)?;
        }
        Codec::Zstandard => {
            *out = zstd::bulk::compress(input, level)?;
        }
        Codec::Bzip2 => {
            bzip2::bufread::BzEncoder::new(input, bzip2::Compression::new(unsigned))
                .read_to_end(out)?;
        }
        Codec::Xz => {
            liblzma::bufread::XzEncoder::new(input, unsigned).read_to_end(out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        (0..50_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect()
    }

    fn packed(codec: Codec, data: &[u8]) -> Vec<u8> {
        let mut packed = Vec::new();
        assert!(compress(codec, None, data, &mut packed).is_ok());
        packed
    }

    /// Each codec gives the data back within a limit of its size, and refuses it (without
    /// growing far past the limit) one byte under.
    #[test]
    fn every_codec_roundtrips_within_the_limit_only() {
        let data = sample();
        for codec in Codec::ALL {
            let packed = packed(codec, &data);
            let mut back = Vec::new();
            let result = decompress(codec, &packed, &mut back, data.len() - 1);
            assert!(
                matches!(result, Err(DecompressError::TooLarge)),
                "{codec:?}"
            );
            assert!(back.capacity() <= data.len() + 64 * 1024, "{codec:?}");
            let result = decompress(codec, &packed, &mut back, data.len());
            assert!(result.is_ok(), "{codec:?}");
            assert_eq!(back, data, "{codec:?}");
        }
    }

    #[test]
    fn a_bad_snappy_crc_is_refused() {
        let data = sample();
        let mut packed = Vec::new();
        assert!(compress(Codec::Snappy, None, &data, &mut packed).is_ok());
        if let Some(last) = packed.last_mut() {
            *last ^= 1;
        }
        let mut back = Vec::new();
        let result = decompress(Codec::Snappy, &packed, &mut back, 1 << 20);
        assert!(matches!(result, Err(DecompressError::Corrupt(m)) if m.contains("CRC")));
    }

    #[test]
    fn a_snappy_length_beyond_what_its_bytes_can_make_is_refused_before_allocating() {
        // Varint 60,000,000 then nothing: claims far more than 4 bytes can expand to.
        let mut input = vec![0x80, 0x8d, 0xce, 0x1c];
        input.extend_from_slice(&[0, 0, 0, 0]);
        let mut back = Vec::new();
        let result = decompress(Codec::Snappy, &input, &mut back, 64 << 20);
        assert!(matches!(result, Err(DecompressError::Corrupt(_))));
        assert_eq!(back.capacity(), 0);
    }
}
