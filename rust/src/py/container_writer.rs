//! `ContainerWriter`: records (encoded here) or already-encoded record bytes appended to an
//! Avro object container file. Compression and writing run with the GIL released.

use std::sync::{Mutex, MutexGuard, TryLockError};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyTuple};

use super::container_io::{ErrorSlot, Sink, open_sink, to_pyerr};
use super::errors::{self, ConfigError, ContainerIOError};
use super::{PySchema, as_schema, encoder};
use crate::container::{
    BlockWriter, Codec, ContainerError, DEFAULT_BLOCK_SIZE, RESERVED_PREFIX, SYNC_SIZE, check_level,
};
use crate::transcode::walk;
use crate::wire::{ItemBudget, Reader};

/// Writes an Avro object container file: the header at once, then blocks of about
/// `block_size` uncompressed bytes as records are appended. `flush()` writes the pending
/// records as a (short) block; `fsync()` also makes the file durable; `close()` flushes and,
/// for a path, closes the file.
#[pyclass(frozen, name = "ContainerWriter", module = "avrobridge._native")]
pub struct PyContainerWriter {
    name: String,
    schema: Py<PySchema>,
    codec: Codec,
    sync: [u8; SYNC_SIZE],
    block_size: usize,
    errors: ErrorSlot,
    /// None once closed.
    state: Mutex<Option<BlockWriter<Sink>>>,
}

type Guard<'a> = MutexGuard<'a, Option<BlockWriter<Sink>>>;

/// `metadata` as (key, value) pairs: a mapping of str to bytes or str (stored as UTF-8).
fn metadata_pairs(metadata: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(String, Vec<u8>)>> {
    let Some(m) = metadata.filter(|m| !m.is_none()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for item in m.call_method0("items")?.try_iter()? {
        let (key, value): (String, Bound<'_, PyAny>) = item?.extract()?;
        let value = match value.extract::<PyBackedBytes>() {
            Ok(b) => b.to_vec(),
            Err(_) => match value.extract::<String>() {
                Ok(s) => s.into_bytes(),
                Err(_) => {
                    return Err(PyTypeError::new_err(format!(
                        "metadata value of '{key}' must be bytes or str"
                    )));
                }
            },
        };
        out.push((key, value));
    }
    Ok(out)
}

impl PyContainerWriter {
    fn state(&self) -> PyResult<Guard<'_>> {
        match self.state.try_lock() {
            Ok(g) => Ok(g),
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
            Err(TryLockError::WouldBlock) => Err(ContainerIOError::new_err(
                "the ContainerWriter is being used by another thread",
            )),
        }
    }

    fn error(&self, py: Python<'_>, e: ContainerError) -> PyErr {
        to_pyerr(py, e, &self.name, self.errors.take())
    }

    /// Runs `f` on the open writer with the GIL released.
    fn detached(
        &self,
        py: Python<'_>,
        guard: &mut Guard<'_>,
        f: impl FnOnce(&mut BlockWriter<Sink>) -> Result<(), ContainerError> + Send,
    ) -> PyResult<()> {
        let w = Self::open(guard)?;
        py.detach(|| f(w)).map_err(|e| self.error(py, e))
    }

    fn write_full(&self, py: Python<'_>, guard: &mut Guard<'_>) -> PyResult<()> {
        let full = guard
            .as_ref()
            .is_some_and(|w| w.pending_bytes() >= self.block_size);
        if full {
            self.detached(py, guard, |w| w.write_full_blocks())?;
        }
        Ok(())
    }

    fn open<'a>(guard: &'a mut Guard<'_>) -> PyResult<&'a mut BlockWriter<Sink>> {
        guard
            .as_mut()
            .ok_or_else(|| ContainerIOError::new_err("I/O operation on a closed ContainerWriter"))
    }

    /// A figure of the open writer.
    fn count<T>(&self, f: impl FnOnce(&BlockWriter<Sink>) -> T) -> PyResult<T> {
        let mut g = self.state()?;
        Ok(f(Self::open(&mut g)?))
    }
}

#[pymethods]
impl PyContainerWriter {
    #[new]
    #[pyo3(signature = (sink, schema, *, codec = "null", compression_level = None, block_size = DEFAULT_BLOCK_SIZE, metadata = None, sync_marker = None, name = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        sink: &Bound<'_, PyAny>,
        schema: &Bound<'_, PyAny>,
        codec: &str,
        compression_level: Option<i32>,
        block_size: usize,
        metadata: Option<&Bound<'_, PyAny>>,
        sync_marker: Option<&[u8]>,
        name: Option<String>,
    ) -> PyResult<Self> {
        let schema = as_schema(schema)?;
        let codec = Codec::from_name(codec).ok_or_else(|| {
            let known: Vec<&str> = Codec::ALL.iter().map(|c| c.name()).collect();
            ConfigError::new_err(format!("unknown codec '{codec}': use {}", known.join(", ")))
        })?;
        // Every argument is checked before the file is created (or truncated).
        check_level(codec, compression_level).map_err(|e| ConfigError::new_err(e.message))?;
        if block_size == 0 {
            return Err(ConfigError::new_err("block_size must be at least 1 byte"));
        }
        let metadata = metadata_pairs(metadata)?;
        if let Some((key, _)) = metadata
            .iter()
            .find(|(k, _)| k.starts_with(RESERVED_PREFIX))
        {
            return Err(ConfigError::new_err(format!(
                "metadata key '{key}' is reserved: keys starting with '{RESERVED_PREFIX}' are set by the writer"
            )));
        }
        let sync: [u8; SYNC_SIZE] = match sync_marker {
            Some(s) => s.try_into().map_err(|_| {
                ConfigError::new_err(format!(
                    "sync_marker must be {SYNC_SIZE} bytes, not {}",
                    s.len()
                ))
            })?,
            None => {
                let random = py.import("os")?.call_method1("urandom", (SYNC_SIZE,))?;
                let bytes: Vec<u8> = random.extract()?;
                bytes
                    .try_into()
                    .map_err(|_| PyTypeError::new_err("os.urandom returned the wrong length"))?
            }
        };
        let opened = open_sink(sink, name)?;
        let (name, errors, io) = (opened.name, opened.errors, opened.io);
        let text = schema.get().text.clone();
        let writer = py
            .detach(|| {
                BlockWriter::new(
                    io,
                    &text,
                    codec,
                    compression_level,
                    &metadata,
                    sync,
                    block_size,
                )
            })
            .map_err(|e| to_pyerr(py, e, &name, errors.take()))?;
        Ok(PyContainerWriter {
            name,
            schema: schema.unbind(),
            codec,
            sync,
            block_size,
            errors,
            state: Mutex::new(Some(writer)),
        })
    }

    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    #[getter]
    fn schema(&self, py: Python<'_>) -> Py<PySchema> {
        self.schema.clone_ref(py)
    }

    #[getter]
    fn codec(&self) -> &'static str {
        self.codec.name()
    }

    #[getter]
    fn sync_marker<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.sync)
    }

    #[getter]
    fn block_size(&self) -> usize {
        self.block_size
    }

    /// Records appended so far (written or pending).
    #[getter]
    fn records(&self) -> PyResult<u64> {
        self.count(|w| w.records_written() + w.pending_records() as u64)
    }

    /// Bytes written to the file so far (header and complete blocks): its size once flushed.
    #[getter]
    fn bytes_written(&self) -> PyResult<u64> {
        self.count(|w| w.bytes_written())
    }

    #[getter]
    fn blocks_written(&self) -> PyResult<u64> {
        self.count(|w| w.blocks_written())
    }

    /// Uncompressed bytes of the records not yet written.
    #[getter]
    fn pending_bytes(&self) -> PyResult<usize> {
        self.count(|w| w.pending_bytes())
    }

    #[getter]
    fn closed(&self) -> PyResult<bool> {
        Ok(self.state()?.is_none())
    }

    /// Appends one record.
    fn write(&self, py: Python<'_>, record: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut guard = self.state()?;
        let w = Self::open(&mut guard)?;
        let keep = w.pending_records();
        let plan = &self.schema.get().plan;
        if let Err(e) = encoder::encode_datum(py, plan, record, w.pending_mut()) {
            w.rollback(keep);
            return Err(e.into_encode_pyerr(py, None));
        }
        w.end_record();
        self.write_full(py, &mut guard)
    }

    /// Appends many records: all of them, or (when one cannot be encoded) none, raising the
    /// `EncodeError` of the first bad one with its `index`.
    fn write_many(&self, py: Python<'_>, records: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut guard = self.state()?;
        let w = Self::open(&mut guard)?;
        let keep = w.pending_records();
        let plan = &self.schema.get().plan;
        for (index, record) in records.try_iter()?.enumerate() {
            let encoded = record
                .map_err(errors::Fail::Py)
                .and_then(|r| encoder::encode_datum(py, plan, &r, w.pending_mut()));
            if let Err(e) = encoded {
                w.rollback(keep);
                return Err(e.into_encode_pyerr(py, Some(index)));
            }
            w.end_record();
        }
        self.write_full(py, &mut guard)
    }

    /// Appends records given as their Avro encoding in the writer schema (as
    /// `ContainerReader.read_block_datums()` and `Transcoder` give them). Each is validated
    /// first: all are appended, or none, raising the `DecodeError` of the first bad one.
    fn write_datums(&self, py: Python<'_>, datums: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut items: Vec<PyBackedBytes> = Vec::new();
        for (i, item) in datums.try_iter()?.enumerate() {
            items.push(
                item?
                    .extract()
                    .map_err(|_| PyTypeError::new_err(format!("item {i} is not bytes")))?,
            );
        }
        let schema = self.schema.get().schema.clone();
        let mut guard = self.state()?;
        let w = Self::open(&mut guard)?;
        let failed = py.detach(|| {
            let keep = w.pending_records();
            // The call's records share one budget of zero-byte items.
            let mut budget = ItemBudget::default();
            for (index, datum) in items.iter().enumerate() {
                let mut r = Reader::with_budget(datum, budget);
                let checked =
                    walk(&schema, schema.root(), &mut r, true, 0).and_then(|()| r.finish());
                budget = r.budget();
                if let Err(e) = checked {
                    w.rollback(keep);
                    return Some((index, e));
                }
                w.append_record(datum);
            }
            None
        });
        if let Some((index, e)) = failed {
            return Err(errors::to_pyerr(e, Some(index)));
        }
        self.write_full(py, &mut guard)
    }

    /// Writes the pending records as a block and flushes the file.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        let mut guard = self.state()?;
        self.detached(py, &mut guard, |w| w.flush())
    }

    /// `flush()`, then makes the file durable (fsync; for a file object, `os.fsync` of its
    /// `fileno()`).
    fn fsync(&self, py: Python<'_>) -> PyResult<()> {
        let mut guard = self.state()?;
        self.detached(py, &mut guard, |w| {
            w.flush()?;
            let at = w.bytes_written();
            w.get_mut()
                .sync()
                .map_err(|e| ContainerError::io("cannot fsync", at, e))
        })
    }

    /// Flushes and, for a path, closes the file (a file object given by the caller stays
    /// open). Closing twice is allowed.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let mut guard = self.state()?;
        if guard.is_none() {
            return Ok(());
        }
        self.detached(py, &mut guard, |w| w.flush())?;
        *guard = None;
        Ok(())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!(
            "ContainerWriter({:?}, codec={:?})",
            self.name,
            self.codec.name()
        )
    }
}
