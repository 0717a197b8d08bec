#![allow(clippy::panic, clippy::indexing_slicing)]
//! Which reader union branch a writer type takes (`matching::select_branch`, Apache Avro Java's
//! `Resolver` order), and the checker's promise: compatible means the transcoder has a plan.

mod common;

use _native::compat::check;
use _native::transcode::Transcoder;
use _native::wire::{ItemBudget, write_long};
use common::{parse, plan_for};

fn transcode(writer: &str, reader: &str, data: &[u8]) -> Vec<u8> {
    let (w, r) = (parse(writer), parse(reader));
    assert!(
        check(&r, &w).is_empty(),
        "the checker must find {reader} compatible"
    );
    let plan = plan_for(&w, &r);
    match (Transcoder {
        plan: &plan,
        writer: &w,
    })
    .transcode(data)
    {
        Ok(out) => out,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn the_exact_type_comes_before_a_promotion() {
    // long 42 read with ["float","long"]: branch 1, the long itself (not 42.0).
    assert_eq!(
        transcode(r#""long""#, r#"["float","long"]"#, &[84]),
        vec![2, 84]
    );
    // No exact branch: the first promotion.
    assert_eq!(
        transcode(r#""int""#, r#"["double","float"]"#, &[2]),
        [vec![0], 1.0f64.to_le_bytes().to_vec()].concat()
    );
}

#[test]
fn the_full_name_comes_before_the_short_name() {
    let written = r#"{"type":"record","name":"Point","namespace":"written","fields":[
        {"name":"x","type":"int"},{"name":"y","type":"int"}]}"#;
    let reader = format!(
        r#"["null",{{"type":"record","name":"Point","fields":[
            {{"name":"x","type":"int"}},{{"name":"y","type":"int"}},{{"name":"z","type":"int"}}]}},
            {written}]"#
    );
    assert_eq!(transcode(written, &reader, &[2, 4]), vec![4, 2, 4]);
}

#[test]
fn a_record_that_resolves_is_taken_when_the_exact_one_does_not() {
    let written =
        r#"{"type":"record","name":"P","namespace":"w","fields":[{"name":"x","type":"int"}]}"#;
    let reader = r#"[{"type":"record","name":"P","namespace":"w","fields":[
            {"name":"x","type":"int"},{"name":"z","type":"int"}]},
        {"type":"record","name":"P","namespace":"other","fields":[
            {"name":"x","type":"int"},{"name":"z","type":"int","default":3}]}]"#;
    assert_eq!(transcode(written, reader, &[2]), vec![2, 2, 6]);
}

#[test]
fn bytes_stay_bytes_whether_or_not_the_unions_differ() {
    let mut data = vec![2];
    write_long(&mut data, 1);
    data.push(0xff);
    for reader in [r#"["string","bytes"]"#, r#"["string","bytes","null"]"#] {
        assert_eq!(transcode(r#"["string","bytes"]"#, reader, &data), data);
    }
}

#[test]
fn a_batch_shares_one_budget_of_zero_byte_items() {
    let s = parse(r#"{"type":"array","items":"null"}"#);
    let plan = plan_for(&s, &s);
    let t = Transcoder {
        plan: &plan,
        writer: &s,
    };
    let mut item = Vec::new();
    write_long(&mut item, 6);
    item.push(0);
    let (mut out, mut scratch, mut budget) = (Vec::new(), Vec::new(), ItemBudget::new(10));
    assert!(
        t.transcode_into(&item, &mut out, &mut scratch, &mut budget)
            .is_ok()
    );
    assert!(
        t.transcode_into(&item, &mut out, &mut scratch, &mut budget)
            .is_err()
    );
    assert!(t.transcode(&item).is_ok(), "a new call has a new budget");
}
