//! The Confluent wire formats: a payload framed with magic byte 0 and a 4-byte big-endian
//! schema id (or magic byte 1 and a 16-byte schema GUID) before the Avro body, or the same
//! 5/17 bytes in a `__value_schema_id`/`__key_schema_id` header in front of a bare body.

use crate::error::{Error, Result};

pub const MAGIC: u8 = 0;
pub const MAGIC_GUID: u8 = 1;
pub const HEADER_LEN: usize = 5;
pub const GUID_HEADER_LEN: usize = 17;

/// What a framed payload (or id header) names its writer schema by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SchemaRef {
    Id(u32),
    Guid([u8; 16]),
}

impl SchemaRef {
    /// The GUID as a lower-case hyphenated UUID string (how registries write it).
    pub fn guid_string(guid: &[u8; 16]) -> String {
        use std::fmt::Write;
        let mut s = String::with_capacity(36);
        for (i, byte) in guid.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                s.push('-');
            }
            let _ = write!(s, "{byte:02x}");
        }
        s
    }
}

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

/// (writer reference, offset of the body) of a framed payload or an id header's value;
/// `what` names it in errors ("value", "header __value_schema_id"...).
pub fn parse_ref(data: &[u8], what: &str) -> Result<(SchemaRef, usize)> {
    match data {
        [MAGIC, a, b, c, d, ..] => Ok((SchemaRef::Id(u32::from_be_bytes([*a, *b, *c, *d])), 5)),
        [MAGIC_GUID, rest @ ..] if rest.len() >= 16 => {
            let mut guid = [0u8; 16];
            guid.copy_from_slice(rest.get(..16).unwrap_or_default());
            Ok((SchemaRef::Guid(guid), GUID_HEADER_LEN))
        }
        [] => Err(Error::framing(format!(
            "{what} is empty: no Confluent schema id"
        ))),
        [MAGIC | MAGIC_GUID, ..] => Err(Error::framing(format!(
            "{what} of {} bytes is shorter than its Confluent header",
            data.len()
        ))),
        [magic, ..] => Err(Error::framing(format!(
            "{what} has unknown magic byte {magic}: not in the Confluent wire format \
             (magic 0 + 4-byte schema id, or magic 1 + 16-byte GUID)"
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

    #[test]
    fn references_by_id_and_guid() {
        assert_eq!(
            parse_ref(&[0, 0, 0, 1, 2, 9], "value").ok(),
            Some((SchemaRef::Id(258), 5))
        );
        let mut guid = vec![1u8];
        guid.extend(0u8..16);
        guid.push(7);
        let parsed = parse_ref(&guid, "value").ok();
        let expected: [u8; 16] = core::array::from_fn(|i| i as u8);
        assert_eq!(parsed, Some((SchemaRef::Guid(expected), 17)));
        assert_eq!(
            SchemaRef::guid_string(&expected),
            "00010203-0405-0607-0809-0a0b0c0d0e0f"
        );
        for bad in [&[][..], &[0, 0, 0][..], &[1, 2][..], &[7, 0, 0, 0, 0][..]] {
            assert!(parse_ref(bad, "value").is_err(), "{bad:?}");
        }
    }
}
