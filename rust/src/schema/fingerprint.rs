//! Schema fingerprints over the Parsing Canonical Form: CRC-64-AVRO (Rabin), MD5, SHA-256.

use md5::{Digest, Md5};
use sha2::Sha256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fingerprint {
    Crc64Avro,
    Md5,
    Sha256,
}

impl Fingerprint {
    pub fn from_name(name: &str) -> Option<Fingerprint> {
        match name.to_ascii_uppercase().as_str() {
            "CRC-64-AVRO" | "RABIN" => Some(Fingerprint::Crc64Avro),
            "MD5" => Some(Fingerprint::Md5),
            "SHA-256" | "SHA256" => Some(Fingerprint::Sha256),
            _ => None,
        }
    }
}

const EMPTY64: u64 = 0xc15d_213a_a4d7_a795;

#[allow(clippy::indexing_slicing)] // i < 256 by the loop bound
const fn rabin_table() -> [u64; 256] {
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut fp = i as u64;
        let mut j = 0;
        while j < 8 {
            fp = (fp >> 1) ^ (EMPTY64 & (0u64.wrapping_sub(fp & 1)));
            j += 1;
        }
        table[i] = fp;
        i += 1;
    }
    table
}

static RABIN: [u64; 256] = rabin_table();

/// The 64-bit Rabin fingerprint of the specification (Java's `parsingFingerprint64`).
#[allow(clippy::indexing_slicing)] // a u8 always indexes a 256-entry table
pub fn rabin64(data: &[u8]) -> u64 {
    let mut fp = EMPTY64;
    for &b in data {
        let slot = ((fp ^ u64::from(b)) & 0xff) as u8;
        fp = (fp >> 8) ^ RABIN[usize::from(slot)];
    }
    fp
}

/// The digest bytes; CRC-64-AVRO is given little-endian, as Java and single-object encoding do.
pub fn fingerprint(data: &[u8], algorithm: Fingerprint) -> Vec<u8> {
    match algorithm {
        Fingerprint::Crc64Avro => rabin64(data).to_le_bytes().to_vec(),
        Fingerprint::Md5 => Md5::digest(data).to_vec(),
        Fingerprint::Sha256 => Sha256::digest(data).to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::rabin64;

    #[test]
    fn rabin_matches_the_spec_test_data() {
        assert_eq!(rabin64(b"\"null\"") as i64, 7195948357588979594);
        assert_eq!(rabin64(b"\"int\"") as i64, 8247732601305521295);
    }
}
