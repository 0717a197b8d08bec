#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! How far the transcoder itself scales over threads, without Python: Employee v2 -> v1 over
//! 100,000 records, one thread converting the batch 2N times against two threads converting
//! it N times each (each thread with its own output buffer, as in the Python binding). This
//! is the ceiling for `transcode_many` from two Python threads on this machine, whose part
//! under the GIL (bytes objects in and out) does not scale at all.
//!
//!     cargo run --release --example thread_scaling

use std::path::Path;
use std::time::Instant;

use _native::Schema;
use _native::resolve::build_plan;
use _native::transcode::Transcoder;
use _native::wire::{ItemBudget, write_bytes, write_long};

const RECORDS: usize = 100_000;
const ROUNDS: usize = 10;

fn schema(name: &str) -> Schema {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../python/avrobridge/data")
        .join(name);
    Schema::parse_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// One Employee v2 record, encoded by hand (field order of employee_v2.avsc).
fn employee(i: usize, out: &mut Vec<u8>) {
    write_bytes(out, format!("First{i}").as_bytes());
    if i % 3 == 0 {
        write_long(out, 1);
        write_bytes(out, format!("nick{i}").as_bytes());
    } else {
        write_long(out, 0);
    }
    write_bytes(out, format!("Last{i}").as_bytes());
    write_long(out, 35 + (i % 30) as i64);
    write_long(out, 2);
    write_bytes(out, format!("user{i}@example.com").as_bytes());
    write_bytes(out, format!("alt{i}@example.org").as_bytes());
    write_long(out, 0);
    write_long(out, 1);
    for part in ["301", "1", "555", "1234"] {
        write_bytes(out, part.as_bytes());
    }
    write_long(out, (i % 4) as i64);
}

fn main() {
    let (writer, reader) = (schema("employee_v2.avsc"), schema("employee_v1.avsc"));
    let plan = build_plan(&writer, &reader).unwrap();
    let t = Transcoder {
        plan: &plan,
        writer: &writer,
    };
    let items: Vec<Vec<u8>> = (0..RECORDS)
        .map(|i| {
            let mut v = Vec::new();
            employee(i, &mut v);
            v
        })
        .collect();
    let convert = |rounds: usize| {
        let (mut buf, mut slots, mut scratch) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            buf.clear();
            slots.clear();
            for item in &items {
                let start = buf.len();
                t.transcode_into(item, &mut buf, &mut scratch, &mut ItemBudget::default())
                    .unwrap();
                slots.push((start, buf.len()));
            }
        }
    };
    let (mut one, mut two) = (f64::MAX, f64::MAX);
    for _ in 0..5 {
        let started = Instant::now();
        convert(2 * ROUNDS);
        one = one.min(started.elapsed().as_secs_f64());
        let started = Instant::now();
        std::thread::scope(|s| {
            s.spawn(|| convert(ROUNDS));
            s.spawn(|| convert(ROUNDS));
        });
        two = two.min(started.elapsed().as_secs_f64());
    }
    let n = (2 * ROUNDS * RECORDS) as f64;
    println!(
        "Employee v2 -> v1: 1 thread {:.0} ns/record ({:.2} M/s), 2 threads {:.0} ns/record \
         ({:.2} M/s): {:.2}x",
        one / n * 1e9,
        n / one / 1e6,
        two / n * 1e9,
        n / two / 1e6,
        one / two
    );
}
