//! Helpers the integration tests share: schemas and plans that must build.

use _native::Schema;
use _native::resolve::{Plan, build_plan};

pub fn parse(text: &str) -> Schema {
    match Schema::parse_str(text) {
        Ok(s) => s,
        Err(e) => panic!("{text}: {e}"),
    }
}

/// The plan that reads `writer`'s data as `reader`'s, which must exist.
pub fn plan_for(writer: &Schema, reader: &Schema) -> Plan {
    match build_plan(writer, reader) {
        Ok(p) => p,
        Err(e) => panic!("no plan: {e}"),
    }
}
