//! The rule tables of the Avro schema language (primitive and logical types, promotions) and
//! the limits avrobridge enforces (nesting depths, sizes). They live in
//! `python/avrobridge/data/avro_rules.json`, which the Python package loads at import too;
//! build.rs turns them into the consts below, so both implementations apply the same ones.

include!(concat!(env!("OUT_DIR"), "/avro_rules.rs"));

/// Whether logical type `logical` may annotate a `base` ("int", "fixed"...).
pub fn logical_applies(logical: &str, base: &str) -> bool {
    LOGICAL_TYPES
        .iter()
        .any(|(name, bases)| *name == logical && bases.contains(&base))
}

/// The one size a fixed must have for logical type `logical`, if it has one.
pub fn fixed_logical_size(logical: &str) -> Option<usize> {
    FIXED_LOGICAL_SIZES
        .iter()
        .find(|(name, _)| *name == logical)
        .map(|(_, size)| *size)
}

/// Whether values of type `writer` may be read as type `reader` (a promotion).
pub fn promotes(writer: &str, reader: &str) -> bool {
    PROMOTIONS
        .iter()
        .any(|(w, readers)| *w == writer && readers.contains(&reader))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    const RULES: &str = include_str!("../../python/avrobridge/data/avro_rules.json");

    fn rules() -> Value {
        serde_json::from_str(RULES).unwrap_or_default()
    }

    #[test]
    fn the_consts_are_the_json_file() {
        let rules = rules();
        let primitives: Vec<&str> = rules
            .get("primitive_types")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(primitives, PRIMITIVE_TYPES);
        for (name, value) in [
            ("max_depth", MAX_DEPTH),
            ("default_max_zero_byte_items", DEFAULT_MAX_ZERO_BYTE_ITEMS),
            ("max_schema_depth", MAX_SCHEMA_DEPTH),
            ("json_max_nesting", JSON_MAX_NESTING),
            ("max_default_depth", MAX_DEFAULT_DEPTH),
            ("plan_cache_limit", PLAN_CACHE_LIMIT),
            ("sync_size", SYNC_SIZE),
            ("max_metadata_entries", MAX_METADATA_ENTRIES),
            ("default_max_block_bytes", DEFAULT_MAX_BLOCK_BYTES),
            ("default_block_size", DEFAULT_BLOCK_SIZE),
            ("stream_chunk", STREAM_CHUNK),
        ] {
            let json = rules.pointer(&format!("/limits/{name}/value"));
            assert_eq!(json.and_then(Value::as_u64), Some(value as u64), "{name}");
        }
        let logical = rules.get("logical_types").and_then(Value::as_object);
        let logical = logical.map(|m| m.len());
        assert_eq!(logical, Some(LOGICAL_TYPES.len()));
        assert!(logical_applies("decimal", "fixed"));
        assert!(!logical_applies("date", "long"));
        assert_eq!(fixed_logical_size("duration"), Some(12));
        assert!(promotes("int", "double") && promotes("bytes", "string"));
        assert!(!promotes("double", "float"));
    }

    fn nested(levels: usize) -> String {
        "[".repeat(levels) + &"]".repeat(levels)
    }

    /// Python imitates serde_json's recursion limit with `json_max_nesting`.
    #[test]
    fn json_max_nesting_is_serde_jsons_limit() {
        assert!(serde_json::from_str::<Value>(&nested(JSON_MAX_NESTING)).is_ok());
        assert!(serde_json::from_str::<Value>(&nested(JSON_MAX_NESTING + 1)).is_err());
    }
}
