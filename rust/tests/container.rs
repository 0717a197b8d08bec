#![allow(clippy::panic, clippy::indexing_slicing, clippy::unwrap_used)]
//! Pure-Rust checks of the container-file reader and writer (no Python).

use std::io::{Cursor, Read};

use _native::Schema;
use _native::container::{
    BlockReader, BlockWriter, Codec, ContainerError, ErrorKind, Limits, record_ends,
};
use _native::wire::write_long;

const SCHEMA: &str = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"long"},{"name":"s","type":"string"}]}"#;
const SYNC: [u8; 16] = *b"0123456789abcdef";

fn datum(i: i64) -> Vec<u8> {
    let mut out = Vec::new();
    write_long(&mut out, i);
    let s = format!("record {i}");
    write_long(&mut out, s.len() as i64);
    out.extend_from_slice(s.as_bytes());
    out
}

fn file(codec: Codec, records: i64, block_size: usize) -> Vec<u8> {
    let meta = vec![("app".to_string(), b"test".to_vec())];
    let mut w = BlockWriter::new(Vec::new(), SCHEMA, codec, None, &meta, SYNC, block_size).unwrap();
    for i in 0..records {
        w.append_record(&datum(i));
        w.write_full_blocks().unwrap();
    }
    w.flush().unwrap();
    w.get_ref().clone()
}

/// Every record of a file, as bytes, block by block.
fn read_all<R: Read>(mut r: BlockReader<R>) -> Result<Vec<Vec<u8>>, ContainerError> {
    let schema = Schema::parse_str(r.header().schema_text()?).unwrap();
    let (mut data, mut ends, mut out) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(info) = r.next_block(&mut data)? {
        record_ends(&schema, &info, &data, &mut ends)?;
        let mut start = 0;
        for &end in &ends {
            out.push(data[start..end].to_vec());
            start = end;
        }
    }
    Ok(out)
}

fn open(data: &[u8], limits: Limits) -> Result<BlockReader<Cursor<&[u8]>>, ContainerError> {
    BlockReader::new(Cursor::new(data), 0, Some(data.len() as u64), limits)
}

#[test]
fn every_codec_round_trips_in_several_blocks() {
    let want: Vec<Vec<u8>> = (0..500).map(datum).collect();
    for codec in Codec::ALL {
        let data = file(codec, 500, 1000);
        let r = open(&data, Limits::default()).unwrap();
        assert_eq!(r.header().codec, codec);
        assert_eq!(r.header().get("app"), Some(&b"test"[..]));
        assert_eq!(r.header().sync, SYNC);
        assert_eq!(read_all(r).unwrap(), want, "{codec:?}");
    }
}

/// A reader that gives a few bytes per call and whose length is not known.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(3).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn a_stream_of_unknown_length_reads_the_same() {
    let data = file(Codec::Deflate, 200, 500);
    let r = BlockReader::new(Trickle(&data), 0, None, Limits::default()).unwrap();
    assert_eq!(read_all(r).unwrap().len(), 200);
    let cut = &data[..data.len() - 20];
    let r = BlockReader::new(Trickle(cut), 0, None, Limits::default()).unwrap();
    let e = read_all(r).unwrap_err();
    assert!(e.message.starts_with("truncated file"), "{}", e.message);
}

#[test]
fn a_wrong_sync_marker_names_its_block_and_offset() {
    let mut data = file(Codec::Null, 100, 300);
    let r = open(&data, Limits::default()).unwrap();
    let first = r.header().end;
    // The second block's sync marker: find it after the first one.
    let at = data[first as usize..]
        .windows(16)
        .position(|w| w == SYNC)
        .unwrap()
        + first as usize;
    let second = data[at + 16..].windows(16).position(|w| w == SYNC).unwrap() + at + 16;
    data[second] ^= 0xff;
    let e = read_all(open(&data, Limits::default()).unwrap()).unwrap_err();
    assert_eq!(
        (e.kind, e.block, e.offset),
        (ErrorKind::Format, Some(1), second as u64)
    );
    assert!(e.describe("f.avro").starts_with("f.avro: block 1 at byte"));
}

#[test]
fn a_bomb_is_refused_at_the_limit() {
    // A block of one 8 MiB string of zeros: a few kB compressed.
    let mut w = BlockWriter::new(
        Vec::new(),
        "\"bytes\"",
        Codec::Zstandard,
        None,
        &[],
        SYNC,
        1 << 30,
    )
    .unwrap();
    let mut big = Vec::new();
    write_long(&mut big, 8 << 20);
    big.resize(big.len() + (8 << 20), 0);
    w.append_record(&big);
    w.flush().unwrap();
    let data = w.get_ref().clone();
    assert!(data.len() < 64 << 10);
    let limits = Limits {
        max_block_bytes: 1 << 20,
    };
    let e = read_all(open(&data, limits).unwrap()).unwrap_err();
    assert!(
        e.message.contains("more than the limit of 1048576 bytes"),
        "{}",
        e.message
    );
}

#[test]
fn resuming_at_a_block_offset() {
    let data = file(Codec::Snappy, 300, 400);
    let mut r = open(&data, Limits::default()).unwrap();
    let mut buf = Vec::new();
    let mut infos = Vec::new();
    while let Some(info) = r.next_block(&mut buf).unwrap() {
        infos.push(info);
    }
    assert!(infos.len() > 3);
    let mut again = open(&data, Limits::default()).unwrap();
    again.seek_block(infos[2].offset, 2).unwrap();
    let resumed = again.next_block(&mut buf).unwrap().unwrap();
    assert_eq!(resumed, infos[2]);
    assert!(again.seek_block(3, 0).is_err());
}

#[test]
fn rollback_takes_back_pending_records_only() {
    let mut w =
        BlockWriter::new(Vec::new(), SCHEMA, Codec::Null, None, &[], SYNC, 1 << 20).unwrap();
    w.append_record(&datum(1));
    w.append_record(&datum(2));
    w.pending_mut().extend_from_slice(b"half a record");
    w.rollback(1);
    assert_eq!(
        (w.pending_records(), w.pending_bytes()),
        (1, datum(1).len())
    );
    w.flush().unwrap();
    let data = w.get_ref().clone();
    assert_eq!(
        read_all(open(&data, Limits::default()).unwrap()).unwrap(),
        vec![datum(1)]
    );
    assert_eq!(w.bytes_written(), data.len() as u64);
    assert_eq!((w.records_written(), w.blocks_written()), (1, 1));
}

#[test]
fn writer_arguments_are_checked() {
    let bad_level = BlockWriter::new(Vec::new(), SCHEMA, Codec::Snappy, Some(1), &[], SYNC, 10);
    assert_eq!(bad_level.err().map(|e| e.kind), Some(ErrorKind::Usage));
    let out_of_range =
        BlockWriter::new(Vec::new(), SCHEMA, Codec::Deflate, Some(10), &[], SYNC, 10);
    assert!(out_of_range.is_err());
    let reserved = vec![("avro.x".to_string(), Vec::new())];
    assert!(BlockWriter::new(Vec::new(), SCHEMA, Codec::Null, None, &reserved, SYNC, 10).is_err());
    assert!(BlockWriter::new(Vec::new(), SCHEMA, Codec::Null, None, &[], SYNC, 0).is_err());
}

#[test]
fn a_header_claiming_a_huge_entry_fails_before_allocating() {
    let mut data = b"Obj\x01".to_vec();
    write_long(&mut data, 1);
    write_long(&mut data, 1 << 60);
    let e = open(&data, Limits::default()).err().unwrap();
    assert!(e.message.contains("exceeds the limit"), "{}", e.message);
    let e = BlockReader::new(Trickle(&data), 0, None, Limits::default())
        .err()
        .unwrap();
    assert!(e.message.contains("exceeds the limit"), "{}", e.message);
}
