//! The Confluent wire format: magic byte 0, a 4-byte big-endian schema id, the Avro body.

use crate::error::{Error, Result};

pub const MAGIC: u8 = 0;
pub const HEADER_LEN: usize = 5;

/// Splits a framed record into (schema id, body).
pub fn split(frame: &[u8]) -> Result<(u32, &[u8])> {
    match frame {
        [MAGIC, a, b, c, d, body @ ..] => Ok((u32::from_be_bytes([*a, *b, *c, *d]), body)),
        [] => Err(Error::framing(
            "empty record: not in the Confluent wire format",
        )),
        [magic, ..] if *magic != MAGIC => Err(Error::framing(format!(
            "unknown magic byte {magic}: not in the Confluent wire format (magic byte 0 + 4-byte schema id)"
        ))),
        _ => Err(Error::framing(format!(
            "record of {} bytes is shorter than the 5-byte Confluent header",
            frame.len()
        ))),
    }
}

pub fn write_header(out: &mut Vec<u8>, schema_id: u32) {
    out.push(MAGIC);
    out.extend_from_slice(&schema_id.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_write_agree() {
        let mut frame = Vec::new();
        write_header(&mut frame, 258);
        frame.extend_from_slice(b"\x02");
        assert_eq!(split(&frame).ok(), Some((258, &b"\x02"[..])));
        assert!(split(&[1, 0, 0, 0, 1]).is_err());
        assert!(split(&[0, 0, 0]).is_err());
        assert!(split(&[]).is_err());
    }
}
