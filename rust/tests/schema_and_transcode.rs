#![allow(clippy::panic, clippy::indexing_slicing)]
//! Pure-Rust checks of parsing, canonical form, resolution and transcoding (no Python).

mod common;

use _native::resolve::build_plan;
use _native::transcode::Transcoder;
use _native::wire::write_long;
use common::{parse, plan_for};

#[test]
fn a_record_holding_itself_in_a_nullable_union_parses() {
    // Regression: the record's placeholder node looked like "null" to the union check.
    let s = parse(
        r#"{"type":"record","name":"LongList","fields":[
            {"name":"value","type":"long"},
            {"name":"next","type":["null","LongList"],"default":null}]}"#,
    );
    assert_eq!(
        s.canonical_form(),
        r#"{"name":"LongList","type":"record","fields":[{"name":"value","type":"long"},{"name":"next","type":["null","LongList"]}]}"#
    );
}

#[test]
fn a_tree_parses_and_transcodes_to_itself() {
    let text = r#"{"type":"record","name":"Tree","fields":[
        {"name":"label","type":"string"},
        {"name":"children","type":{"type":"array","items":"Tree"}}]}"#;
    let s = parse(text);
    let plan = plan_for(&s, &s);
    // Tree("a", [Tree("b", [])])
    let mut data = Vec::new();
    write_long(&mut data, 1);
    data.extend_from_slice(b"a");
    write_long(&mut data, 1);
    write_long(&mut data, 1);
    data.extend_from_slice(b"b");
    data.push(0);
    data.push(0);
    let out = Transcoder {
        plan: &plan,
        writer: &s,
    }
    .transcode(&data);
    assert_eq!(out.ok(), Some(data));
}

#[test]
fn int_union_promotes_to_long_union() {
    let w = parse(r#"["null","int"]"#);
    let r = parse(r#"["null","long"]"#);
    let plan = plan_for(&w, &r);
    let t = Transcoder {
        plan: &plan,
        writer: &w,
    };
    // branch 1, int 5 -> branch 1, long 5 (same varint)
    assert_eq!(t.transcode(&[2, 10]).ok(), Some(vec![2, 10]));
    assert_eq!(t.transcode(&[0]).ok(), Some(vec![0]));
    assert!(t.transcode(&[4]).is_err());
}

#[test]
fn a_missing_field_without_default_is_a_plan_error() {
    let w = parse(r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#);
    let r = parse(
        r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"string"}]}"#,
    );
    match build_plan(&w, &r) {
        Err(_native::Error::Resolution { messages, .. }) => {
            assert_eq!(messages.len(), 1);
            assert!(messages[0].contains("READER_FIELD_MISSING_DEFAULT_VALUE"));
        }
        other => panic!("expected a resolution error, got {other:?}"),
    }
}

#[test]
fn a_recursive_record_gets_added_fields_at_every_level() {
    // Regression: the op reserved for a record being built looked like a verbatim copy, so
    // a field referring back to its own record copied the writer bytes unchanged.
    let w = parse(
        r#"{"type":"record","name":"Node","fields":[
            {"name":"next","type":["null","Node"]}]}"#,
    );
    let r = parse(
        r#"{"type":"record","name":"Node","fields":[
            {"name":"added","type":"long","default":7},
            {"name":"next","type":["null","Node"]}]}"#,
    );
    let plan = plan_for(&w, &r);
    let t = Transcoder {
        plan: &plan,
        writer: &w,
    };
    // Node(next=Node(next=null)): union branch 1, then branch 0.
    assert_eq!(t.transcode(&[2, 0]).ok(), Some(vec![14, 2, 14, 0]));
}
