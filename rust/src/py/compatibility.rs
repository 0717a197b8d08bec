//! The reader/writer compatibility check (`crate::compat`, Java's `SchemaCompatibility`),
//! for Python.

use pyo3::prelude::*;

use super::as_schema;
use crate::compat;

/// Every reason `reader` cannot read data written with `writer`, as
/// `(error_type, location, message)` triples in Apache Avro's order; empty when compatible.
#[pyfunction]
pub(crate) fn reader_writer_incompatibilities(
    reader: &Bound<'_, PyAny>,
    writer: &Bound<'_, PyAny>,
) -> PyResult<Vec<(&'static str, String, String)>> {
    let reader = as_schema(reader)?;
    let writer = as_schema(writer)?;
    let found = compat::check(&reader.get().schema, &writer.get().schema);
    Ok(found
        .into_iter()
        .map(|i| (i.kind.as_str(), i.location, i.message))
        .collect())
}
