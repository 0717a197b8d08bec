//! The Python bindings: the only part of the crate that knows pyo3. Compiled as
//! `avrobridge._native`; the public API is re-exported by `avrobridge/__init__.py`.

mod batch;
mod compatibility;
mod container_codecs;
mod container_io;
mod container_reader;
mod container_writer;
mod decoder;
mod encoder;
mod encoder_logical;
mod errors;
mod messages;
mod objects;
mod plan;
mod plan_cache;
mod pytypes;
mod transcoder;
mod union_choice;

use std::sync::Arc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString};

use crate::schema::{Fingerprint, ParseOptions, Schema};
use crate::wire::{DEFAULT_MAX_ZERO_BYTE_ITEMS, ItemBudget};
use errors::to_pyerr;
use plan::Plan;

/// A parsed, validated Avro schema, compiled for encoding and decoding.
#[pyclass(frozen, name = "Schema", module = "avrobridge._native")]
pub struct PySchema {
    pub(crate) schema: Arc<Schema>,
    pub(crate) plan: Plan,
    /// The schema JSON as given (text), kept for `str()`, pickling and the registry.
    text: String,
    /// Texts of the schemas whose named types this one uses (Schema Registry references).
    references: Vec<String>,
}

fn json_dumps(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    let py = obj.py();
    let json = py.import("json")?;
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("separators", (",", ":"))?;
    json.call_method("dumps", (obj,), Some(&kwargs))?.extract()
}

impl PySchema {
    pub(crate) fn build(
        py: Python<'_>,
        text: String,
        references: Vec<String>,
        validate_defaults: bool,
    ) -> PyResult<PySchema> {
        let options = ParseOptions { validate_defaults };
        let schema = if references.is_empty() {
            Schema::parse_str_with(&text, options)
        } else {
            parse_with_reference_texts(&text, &references, options)
        }
        .map_err(|e| to_pyerr(e, None))?;
        let plan = Plan::build(py, &schema);
        Ok(PySchema {
            schema: Arc::new(schema),
            plan,
            text,
            references,
        })
    }
}

fn parse_json(text: &str, what: &str) -> crate::error::Result<serde_json::Value> {
    serde_json::from_str(text)
        .map_err(|e| crate::error::Error::schema(format!("{what} is not valid JSON: {e}"), ""))
}

fn parse_with_reference_texts(
    text: &str,
    references: &[String],
    options: ParseOptions,
) -> crate::error::Result<Schema> {
    let value = parse_json(text, "the schema")?;
    let refs = references
        .iter()
        .enumerate()
        .map(|(i, r)| parse_json(r, &format!("reference {i}")))
        .collect::<crate::error::Result<Vec<_>>>()?;
    Schema::parse_with_references(&value, &refs, options)
}

/// Schema JSON given as text, bytes, a parsed JSON object or a Schema -> text.
fn schema_text(schema: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(existing) = schema.cast::<PySchema>() {
        return Ok(existing.get().text.clone());
    }
    if let Ok(s) = schema.cast::<PyString>() {
        return Ok(s.to_str()?.to_string());
    }
    if let Ok(b) = schema.cast::<PyBytes>() {
        return String::from_utf8(b.as_bytes().to_vec())
            .map_err(|_| PyValueError::new_err("schema bytes are not UTF-8"));
    }
    json_dumps(schema).map_err(|e| {
        PyTypeError::new_err(format!(
            "schema must be JSON text or a JSON-like object: {e}"
        ))
    })
}

/// Accepts a `Schema`, or schema JSON as text or as the parsed object, and returns a Schema.
pub(crate) fn as_schema<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PySchema>> {
    if let Ok(s) = obj.cast::<PySchema>() {
        return Ok(s.clone());
    }
    let schema = PySchema::new(obj.py(), obj, None, true)?;
    Bound::new(obj.py(), schema)
}

#[pymethods]
impl PySchema {
    #[new]
    #[pyo3(signature = (schema, *, references = None, validate_defaults = true))]
    fn new(
        py: Python<'_>,
        schema: &Bound<'_, PyAny>,
        references: Option<&Bound<'_, PyAny>>,
        validate_defaults: bool,
    ) -> PyResult<Self> {
        let mut reference_texts = Vec::new();
        if let Some(refs) = references.filter(|r| !r.is_none()) {
            for r in refs.try_iter()? {
                reference_texts.push(schema_text(&r?)?);
            }
        } else if let Ok(existing) = schema.cast::<PySchema>() {
            reference_texts = existing.get().references.clone();
        }
        PySchema::build(py, schema_text(schema)?, reference_texts, validate_defaults)
    }

    /// The texts of the referenced schemas this schema was parsed with.
    #[getter]
    fn references(&self) -> Vec<String> {
        self.references.clone()
    }

    /// Parsing Canonical Form, as the Avro specification defines it.
    #[getter]
    fn canonical_form(&self) -> &str {
        self.schema.canonical_form()
    }

    /// The schema JSON text this object was built from.
    #[getter]
    fn text(&self) -> &str {
        &self.text
    }

    /// The full name of the top-level type when it is named, else None.
    #[getter]
    fn name(&self) -> Option<String> {
        self.schema
            .node(self.schema.root())
            .name()
            .map(|n| n.fullname.clone())
    }

    /// The top-level type: "record", "enum", "union", "int", ...
    #[getter]
    fn r#type(&self) -> &'static str {
        self.schema.node(self.schema.root()).kind().name()
    }

    /// The digest of the canonical form: "CRC-64-AVRO" (8 bytes, little-endian), "MD5" or
    /// "SHA-256".
    #[pyo3(signature = (algorithm = "CRC-64-AVRO"))]
    fn fingerprint<'py>(&self, py: Python<'py>, algorithm: &str) -> PyResult<Bound<'py, PyBytes>> {
        let alg = Fingerprint::from_name(algorithm).ok_or_else(|| {
            PyValueError::new_err(format!(
                "unknown fingerprint algorithm '{algorithm}': use CRC-64-AVRO, MD5 or SHA-256"
            ))
        })?;
        Ok(PyBytes::new(py, &self.schema.fingerprint(alg)))
    }

    fn to_json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("json")?.call_method1("loads", (&self.text,))
    }

    fn __str__(&self) -> &str {
        &self.text
    }

    fn __repr__(&self) -> String {
        let mut shown: String = self.text.chars().take(80).collect();
        if shown.len() < self.text.len() {
            shown.push('…');
        }
        format!("Schema({shown:?})")
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<PySchema>() {
            Ok(o) => {
                o.get().text == self.text
                    || o.get().schema.canonical_form() == self.schema.canonical_form() && {
                        // Same wire shape; equal only if the JSON documents are equal too.
                        let a: Result<serde_json::Value, _> = serde_json::from_str(&self.text);
                        let b: Result<serde_json::Value, _> = serde_json::from_str(&o.get().text);
                        matches!((a, b), (Ok(a), Ok(b)) if a == b)
                    }
            }
            Err(_) => false,
        }
    }

    fn __hash__(&self) -> u64 {
        crate::schema::fingerprint(
            self.schema.canonical_form().as_bytes(),
            Fingerprint::Crc64Avro,
        )
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        // Schema(text, references=[...]) through a helper that takes them positionally.
        let py = slf.py();
        let rebuild = py
            .import("avrobridge._native")?
            .getattr("_schema_from_parts")?;
        let args = (slf.get().text.clone(), slf.get().references.clone());
        Ok(
            pyo3::types::PyTuple::new(py, [rebuild, args.into_pyobject(py)?.into_any()])?
                .into_any(),
        )
    }
}

/// Encodes one datum.
#[pyfunction]
fn encode<'py>(
    py: Python<'py>,
    schema: &Bound<'py, PyAny>,
    datum: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let schema = as_schema(schema)?;
    encode_one(
        py,
        &schema.get().plan,
        datum,
        &mut Vec::with_capacity(64),
        None,
    )
}

/// Encodes one datum (item `index` of a batch) through `buf`, which it clears first.
fn encode_one<'py>(
    py: Python<'py>,
    plan: &Plan,
    datum: &Bound<'py, PyAny>,
    buf: &mut Vec<u8>,
    index: Option<usize>,
) -> PyResult<Bound<'py, PyBytes>> {
    buf.clear();
    encoder::encode_datum(py, plan, datum, buf).map_err(|e| e.into_encode_pyerr(py, index))?;
    Ok(PyBytes::new(py, buf))
}

/// What a decoding call may still read of zero-byte items: resolving (bytes to bytes) and
/// building values each have the whole budget.
struct DecodeBudget {
    resolve: ItemBudget,
    build: ItemBudget,
}

impl DecodeBudget {
    fn new(limit: usize) -> Self {
        DecodeBudget {
            resolve: ItemBudget::new(limit),
            build: ItemBudget::new(limit),
        }
    }
}

/// Decodes one datum of `writer` (optionally resolved to `reader`) as a Python value.
fn decode_one<'py>(
    py: Python<'py>,
    writer: &Bound<'py, PySchema>,
    reader: Option<&Bound<'py, PySchema>>,
    data: &[u8],
    index: Option<usize>,
    budget: &mut DecodeBudget,
) -> PyResult<Bound<'py, PyAny>> {
    let result = match reader {
        None => decoder::decode_datum(py, &writer.get().plan, data, &mut budget.build),
        Some(reader) => {
            match plan_cache::resolve_bytes(writer, reader, data, &mut budget.resolve) {
                Ok(resolved) => {
                    decoder::decode_datum(py, &reader.get().plan, &resolved, &mut budget.build)
                }
                Err(e) => Err(errors::Fail::Avro(e)),
            }
        }
    };
    result.map_err(|e| {
        let offset = match &e {
            errors::Fail::Avro(crate::error::Error::Decode { offset, .. }) => *offset,
            _ => 0,
        };
        e.into_decode_pyerr(py, offset, index)
    })
}

fn optional_schema<'py>(
    reader: Option<&Bound<'py, PyAny>>,
) -> PyResult<Option<Bound<'py, PySchema>>> {
    reader.filter(|r| !r.is_none()).map(as_schema).transpose()
}

/// Decodes one datum; the whole input must be consumed. With `reader`, the data is
/// resolved from the writer schema `schema` to the reader schema (Avro schema resolution).
/// At most `max_zero_byte_items` items that take no bytes are read (`wire`).
#[pyfunction]
#[pyo3(signature = (schema, data, reader = None, *, max_zero_byte_items = DEFAULT_MAX_ZERO_BYTE_ITEMS))]
fn decode<'py>(
    py: Python<'py>,
    schema: &Bound<'py, PyAny>,
    data: &[u8],
    reader: Option<&Bound<'py, PyAny>>,
    max_zero_byte_items: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let writer = as_schema(schema)?;
    let reader = optional_schema(reader)?;
    let mut budget = DecodeBudget::new(max_zero_byte_items);
    decode_one(py, &writer, reader.as_ref(), data, None, &mut budget)
}

/// Pauses Python's cyclic GC while a batch builds many containers: every few hundred new
/// dicts would otherwise trigger a collection that walks all results built so far, making a
/// large batch quadratic. The previous state is restored on drop.
pub(crate) struct GcPause(bool);

impl GcPause {
    pub(crate) fn new() -> Self {
        // SAFETY: GIL held; plain C-API calls.
        GcPause(unsafe { pyo3::ffi::PyGC_Disable() } != 0)
    }
}

impl Drop for GcPause {
    fn drop(&mut self) {
        if self.0 {
            // SAFETY: GIL held (the guard never leaves the thread that holds it).
            unsafe { pyo3::ffi::PyGC_Enable() };
        }
    }
}

/// What a many-item call built: a value or a failure per item. A bad item does not stop the
/// others.
#[derive(Default)]
struct BatchResults {
    values: Vec<Option<Py<PyAny>>>,
    failures: Vec<(usize, PyErr)>,
}

impl BatchResults {
    fn push(&mut self, index: usize, result: PyResult<Bound<'_, PyAny>>) {
        match result {
            Ok(value) => self.values.push(Some(value.unbind())),
            Err(e) => {
                self.failures.push((index, e));
                self.values.push(None);
            }
        }
    }

    /// The values, or the first failure carrying every result and every error.
    fn into_list(self, py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
        if !self.failures.is_empty() {
            return Err(raise_batch(py, self.values, self.failures));
        }
        PyList::new(py, self.values.into_iter().flatten())
    }
}

/// Raises the first failure of a batch, carrying every result and every error.
fn raise_batch(
    py: Python<'_>,
    results: Vec<Option<Py<PyAny>>>,
    failures: Vec<(usize, PyErr)>,
) -> PyErr {
    let Some((_, first)) = failures.first() else {
        return PyValueError::new_err("empty failure list");
    };
    let first = first.clone_ref(py);
    let value = first.value(py);
    let results: Vec<Py<PyAny>> = results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| py.None()))
        .collect();
    let errors: Vec<(usize, Bound<'_, PyAny>)> = failures
        .iter()
        .map(|(i, e)| (*i, e.value(py).clone().into_any()))
        .collect();
    let _ = value.setattr("results", PyList::new(py, results).ok());
    let _ = value.setattr("errors", errors);
    first
}

/// Encodes many data in one call. A bad item does not stop the others: the first failure is
/// raised with `.index`, `.results` (None where an item failed) and `.errors`.
#[pyfunction]
fn encode_many<'py>(
    py: Python<'py>,
    schema: &Bound<'py, PyAny>,
    data: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyList>> {
    let schema = as_schema(schema)?;
    let plan = &schema.get().plan;
    let mut results = BatchResults::default();
    let mut buf = Vec::with_capacity(256);
    for (index, item) in data.try_iter()?.enumerate() {
        let encoded = encode_one(py, plan, &item?, &mut buf, Some(index));
        results.push(index, encoded.map(Bound::into_any));
    }
    results.into_list(py)
}

/// Decodes many byte strings in one call, with `encode_many`'s error contract. The whole
/// batch reads at most `max_zero_byte_items` items that take no bytes.
#[pyfunction]
#[pyo3(signature = (schema, items, reader = None, *, max_zero_byte_items = DEFAULT_MAX_ZERO_BYTE_ITEMS))]
fn decode_many<'py>(
    py: Python<'py>,
    schema: &Bound<'py, PyAny>,
    items: &Bound<'py, PyAny>,
    reader: Option<&Bound<'py, PyAny>>,
    max_zero_byte_items: usize,
) -> PyResult<Bound<'py, PyList>> {
    let writer = as_schema(schema)?;
    let reader = optional_schema(reader)?;
    let mut budget = DecodeBudget::new(max_zero_byte_items);
    let mut results = BatchResults::default();
    let _gc = GcPause::new();
    for (index, item) in items.try_iter()?.enumerate() {
        let item = item?;
        let data: &[u8] = match item.cast::<PyBytes>() {
            Ok(b) => b.as_bytes(),
            Err(_) => return Err(PyTypeError::new_err(format!("item {index} is not bytes"))),
        };
        let decoded = decode_one(py, &writer, reader.as_ref(), data, Some(index), &mut budget);
        results.push(index, decoded);
    }
    results.into_list(py)
}

/// Unpickling helper: `Schema(text, references=references)`.
#[pyfunction]
fn _schema_from_parts(py: Python<'_>, text: String, references: Vec<String>) -> PyResult<PySchema> {
    PySchema::build(py, text, references, true)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DEFAULT_MAX_ZERO_BYTE_ITEMS", DEFAULT_MAX_ZERO_BYTE_ITEMS)?;
    m.add_class::<PySchema>()?;
    m.add_function(wrap_pyfunction!(_schema_from_parts, m)?)?;
    m.add_class::<transcoder::PyTranscoder>()?;
    m.add_function(wrap_pyfunction!(
        compatibility::reader_writer_incompatibilities,
        m
    )?)?;
    m.add_function(wrap_pyfunction!(encode, m)?)?;
    m.add_function(wrap_pyfunction!(decode, m)?)?;
    m.add_function(wrap_pyfunction!(encode_many, m)?)?;
    m.add_function(wrap_pyfunction!(decode_many, m)?)?;
    m.add_class::<batch::PyBatchSpec>()?;
    m.add_class::<batch::PyConvertedBatch>()?;
    m.add_function(wrap_pyfunction!(batch::convert_batch, m)?)?;
    m.add_class::<container_reader::PyContainerReader>()?;
    m.add_class::<container_writer::PyContainerWriter>()?;
    m.add_function(wrap_pyfunction!(container_codecs::_compress, m)?)?;
    m.add_function(wrap_pyfunction!(container_codecs::_decompress, m)?)?;
    Ok(())
}
