//! `Transcoder` for Python: single records and GIL-free batches, with per-thread reused
//! buffers.

use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyList, PyTuple};

use super::errors::to_pyerr;
use super::{PySchema, as_schema};
use crate::error::Error;
use crate::framing;
use crate::resolve::{Plan, build_plan};
use crate::schema::Schema;
use crate::transcode::Transcoder;
use crate::wire::{DEFAULT_MAX_ZERO_BYTE_ITEMS, ItemBudget};

/// A compiled writer -> reader plan, applied to bytes. Immutable and thread-safe: batches
/// run with the GIL released, so threads transcoding separate batches run in parallel.
#[pyclass(frozen, name = "Transcoder", module = "avrobridge._native")]
pub struct PyTranscoder {
    writer: Py<PySchema>,
    reader: Py<PySchema>,
    pub(crate) writer_schema: Arc<Schema>,
    pub(crate) plan: Arc<Plan>,
    /// Zero-byte items each call may read (`wire::DEFAULT_MAX_ZERO_BYTE_ITEMS`).
    pub(crate) max_zero_byte_items: usize,
}

/// One output of a batch: a byte range of the shared output buffer, or the error.
type Slot = Result<(usize, usize), Error>;

/// Every this many outputs of a batch one stays referenced until the next batch on the
/// thread has built its outputs (see `Scratch::keep`).
const KEEP_STRIDE: usize = 256;

/// Builds the `(outputs, errors)` pair a batch returns: `outputs[i]` is bytes or None, and
/// `errors` lists `(index, exception)` for every item that failed. `keep` receives a
/// reference to every `KEEP_STRIDE`-th output and the last one, replacing the previous
/// batch's only after this batch's outputs exist.
fn batch_result<'py>(
    py: Python<'py>,
    buf: &[u8],
    slots: &[Slot],
    keep: &mut Vec<Py<PyAny>>,
) -> PyResult<Bound<'py, PyTuple>> {
    // SAFETY: a new list of `len` NULL slots; every slot is set below before the list is used.
    let outputs = unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            pyo3::ffi::PyList_New(slots.len() as pyo3::ffi::Py_ssize_t),
        )?
    };
    let errors = PyList::empty(py);
    let mut kept = Vec::with_capacity(slots.len() / KEEP_STRIDE + 2);
    let last = slots.len().saturating_sub(1);
    for (index, slot) in slots.iter().enumerate() {
        let item = match slot {
            Ok((start, end)) => {
                let bytes = PyBytes::new(py, buf.get(*start..*end).unwrap_or_default());
                if index % KEEP_STRIDE == 0 || index == last {
                    kept.push(bytes.clone().into_any().unbind());
                }
                bytes.into_any()
            }
            Err(e) => {
                let err = to_pyerr(e.clone(), Some(index));
                errors.append((index, err.value(py)))?;
                py.None().into_bound(py)
            }
        };
        // SAFETY: index < len; PyList_SetItem steals the new reference.
        unsafe {
            pyo3::ffi::PyList_SetItem(
                outputs.as_ptr(),
                index as pyo3::ffi::Py_ssize_t,
                item.into_ptr(),
            )
        };
    }
    *keep = kept;
    PyTuple::new(py, [outputs, errors.into_any()])
}

/// Per-thread buffers reused across batches: the output bytes, the result slots, the
/// references that keep the inputs alive and the views of them. Allocating these afresh costs
/// page faults on every batch (multi-megabyte vectors are mmapped and unmapped each time),
/// kernel work done with the GIL held that stops two threads from scaling.
struct Scratch {
    buf: Vec<u8>,
    slots: Vec<Slot>,
    owners: Vec<Py<PyBytes>>,
    views: Vec<&'static [u8]>,
    /// A few outputs of the previous batch (one in `KEEP_STRIDE`). CPython's allocator
    /// unmaps an arena once every object in it is freed, so when a caller drops a whole batch
    /// of outputs the next batch would map and page-fault the same memory back in, with the
    /// GIL held. A handful of live objects per arena keeps the arenas mapped for reuse (about a
    /// third more throughput; docs/benchmarks.md), for memory bounded by one batch's outputs.
    keep: Vec<Py<PyAny>>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = const {
        std::cell::RefCell::new(Scratch {
            buf: Vec::new(),
            slots: Vec::new(),
            owners: Vec::new(),
            views: Vec::new(),
            keep: Vec::new(),
        })
    };
}

/// Above this the buffer is released after the batch instead of being kept for the next
/// (memory stays bounded by the largest batch, up to this, per thread).
const KEEP_SCRATCH_BYTES: usize = 256 << 20;

/// An empty vector of slices with another lifetime, keeping the allocation (the in-place
/// `collect` of an empty iterator reuses the buffer, as element types have one layout).
fn recycle<'b>(mut v: Vec<&[u8]>) -> Vec<&'b [u8]> {
    v.clear();
    v.into_iter().map(|_| -> &'b [u8] { &[] }).collect()
}

/// Strong references to the batch's items as bytes objects (bytearray and other buffers are
/// copied into bytes), so their memory stays valid while the GIL is released.
fn collect_inputs(items: &Bound<'_, PyAny>, owners: &mut Vec<Py<PyBytes>>) -> PyResult<()> {
    owners.reserve(items.len().unwrap_or(0));
    for (i, item) in items.try_iter()?.enumerate() {
        let item = item?;
        let bytes = match item.cast_into::<PyBytes>() {
            Ok(b) => b,
            Err(e) => match e.into_inner().extract::<PyBackedBytes>() {
                Ok(b) => PyBytes::new(items.py(), &b),
                Err(_) => return Err(PyTypeError::new_err(format!("item {i} is not bytes"))),
            },
        };
        owners.push(bytes.unbind());
    }
    Ok(())
}

/// Runs `transcode_one(input, buf)` for every item with the GIL released, then builds the
/// Python result with it held.
fn run_batch<'py>(
    py: Python<'py>,
    items: &Bound<'py, PyAny>,
    mut transcode_one: impl FnMut(&[u8], &mut Vec<u8>, &mut Vec<usize>) -> Result<(), Error> + Send,
) -> PyResult<Bound<'py, PyTuple>> {
    SCRATCH.with(|cell| {
        let mut guard = cell
            .try_borrow_mut()
            .map_err(|_| PyTypeError::new_err("re-entrant batch call"))?;
        let Scratch {
            buf,
            slots,
            owners,
            views,
            keep,
        } = &mut *guard;
        buf.clear();
        slots.clear();
        owners.clear();
        let collected = collect_inputs(items, owners);
        if let Err(e) = collected {
            owners.clear();
            return Err(e);
        }
        let mut inputs = recycle(std::mem::take(views));
        inputs.extend(owners.iter().map(|b| b.as_bytes(py)));
        // Room for the outputs up front (they are rarely much larger than the inputs), so the
        // buffer does not grow, copy and fault pages in the middle of the batch.
        let total: usize = inputs.iter().map(|b| b.len()).sum();
        buf.reserve(total + total / 8 + 64 * inputs.len());
        slots.reserve(inputs.len());
        py.detach(|| {
            let mut scratch = Vec::new();
            for item in &inputs {
                let start = buf.len();
                slots.push(transcode_one(item, buf, &mut scratch).map(|()| (start, buf.len())));
            }
        });
        *views = recycle(inputs);
        owners.clear();
        let result = batch_result(py, buf, slots, keep);
        if buf.capacity() > KEEP_SCRATCH_BYTES {
            *buf = Vec::new();
        }
        slots.clear();
        result
    })
}

#[pymethods]
impl PyTranscoder {
    #[new]
    #[pyo3(signature = (writer, reader, *, max_zero_byte_items = DEFAULT_MAX_ZERO_BYTE_ITEMS))]
    fn new(
        writer: &Bound<'_, PyAny>,
        reader: &Bound<'_, PyAny>,
        max_zero_byte_items: usize,
    ) -> PyResult<Self> {
        let writer = as_schema(writer)?;
        let reader = as_schema(reader)?;
        let writer_schema = writer.get().schema.clone();
        let reader_schema = reader.get().schema.clone();
        let plan = build_plan(&writer_schema, &reader_schema).map_err(|e| to_pyerr(e, None))?;
        Ok(PyTranscoder {
            writer: writer.unbind(),
            reader: reader.unbind(),
            writer_schema,
            plan: Arc::new(plan),
            max_zero_byte_items,
        })
    }

    /// Zero-byte items (null, empty records, fixed of size 0) each call may read in total.
    #[getter]
    fn max_zero_byte_items(&self) -> usize {
        self.max_zero_byte_items
    }

    #[getter]
    fn writer(&self, py: Python<'_>) -> Py<PySchema> {
        self.writer.clone_ref(py)
    }

    #[getter]
    fn reader(&self, py: Python<'_>) -> Py<PySchema> {
        self.reader.clone_ref(py)
    }

    /// Problems that make only some records unreadable (a writer enum symbol or union branch
    /// the reader cannot take); such records fail at transcode time.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.plan.warnings.clone()
    }

    /// What the plan does to the records: (kind, location, message) for each field dropped,
    /// filled from its default or renamed through an alias, each promotion, each set of
    /// enum symbols read as the reader's default and each named type matched by an alias.
    #[getter]
    fn changes(&self) -> Vec<(&'static str, String, String)> {
        self.plan.changes.clone()
    }

    /// Writer bytes -> reader bytes.
    fn transcode<'py>(&self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let t = Transcoder {
            plan: &self.plan,
            writer: &self.writer_schema,
        };
        let budget = ItemBudget::new(self.max_zero_byte_items);
        let out = t
            .transcode_with(data, budget)
            .map_err(|e| to_pyerr(e, None))?;
        Ok(PyBytes::new(py, &out))
    }

    /// Transcodes every item with the GIL released; returns `(outputs, errors)`. Each
    /// output starts with `prefix` (a sink's frame for records that had none, as a container
    /// file's).
    #[pyo3(signature = (items, *, prefix = None))]
    fn transcode_many<'py>(
        &self,
        py: Python<'py>,
        items: &Bound<'py, PyAny>,
        prefix: Option<Vec<u8>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let t = Transcoder {
            plan: &self.plan,
            writer: &self.writer_schema,
        };
        let prefix = prefix.unwrap_or_default();
        let mut budget = ItemBudget::new(self.max_zero_byte_items);
        run_batch(py, items, |item, buf, scratch| {
            let start = buf.len();
            buf.extend_from_slice(&prefix);
            t.transcode_into(item, buf, scratch, &mut budget)
                .inspect_err(|_| buf.truncate(start))
        })
    }

    /// The same for Confluent-framed records: each item must carry magic byte 0 and a
    /// schema id (equal to `expected_writer_id` when given); outputs carry `schema_id`, or
    /// no frame when it is None (records bound for a container file).
    #[pyo3(signature = (items, schema_id, expected_writer_id = None))]
    fn transcode_framed_many<'py>(
        &self,
        py: Python<'py>,
        items: &Bound<'py, PyAny>,
        schema_id: Option<u32>,
        expected_writer_id: Option<u32>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let t = Transcoder {
            plan: &self.plan,
            writer: &self.writer_schema,
        };
        let mut budget = ItemBudget::new(self.max_zero_byte_items);
        run_batch(py, items, |item, buf, scratch| {
            let (id, body) = framing::split(item)?;
            if let Some(expected) = expected_writer_id {
                if id != expected {
                    return Err(Error::framing(format!(
                        "record has schema id {id}, this transcoder reads schema id {expected}"
                    )));
                }
            }
            let start = buf.len();
            if let Some(schema_id) = schema_id {
                framing::write_header(buf, schema_id);
            }
            t.transcode_into(body, buf, scratch, &mut budget)
                .map_err(|e| {
                    buf.truncate(start);
                    shift_offset(e, framing::HEADER_LEN)
                })
        })
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let name = |s: &Py<PySchema>| {
            s.get()
                .schema
                .node(s.get().schema.root())
                .branch_name()
                .to_string()
        };
        let _ = py;
        format!(
            "Transcoder({} -> {})",
            name(&self.writer),
            name(&self.reader)
        )
    }
}

/// Offsets in framed records count the 5-byte header too.
pub(crate) fn shift_offset(e: Error, by: usize) -> Error {
    match e {
        Error::Decode {
            message,
            offset,
            path,
        } => Error::Decode {
            message,
            offset: offset + by,
            path,
        },
        other => other,
    }
}
