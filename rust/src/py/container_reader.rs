//! `ContainerReader`: an Avro object container file read block by block. Reading,
//! decompressing, splitting a block into records and resolving them to a reader schema run
//! with the GIL released; only building the Python records needs it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

use super::container_io::{ErrorSlot, Source, open_source, to_pyerr};
use super::errors::{self, ConfigError, ContainerIOError, Fail};
use super::{GcPause, PySchema, as_schema, decoder};
use crate::container::{
    BlockInfo, BlockReader, ContainerError, DEFAULT_MAX_BLOCK_BYTES, ErrorKind, Header, Limits,
    check_consumed, check_count, record_ends,
};
use crate::resolve::{Plan, build_plan};
use crate::schema::Schema;
use crate::transcode::Transcoder;
use crate::wire::ItemBudget;

/// Buffers reused from block to block.
#[derive(Default)]
struct Buffers {
    /// The block's records (resolved to the reader schema when `Loaded::resolved`).
    data: Vec<u8>,
    /// Where each record of `data` ends (when the block was split).
    ends: Vec<usize>,
    spare: Vec<u8>,
    spare_ends: Vec<usize>,
    scratch: Vec<usize>,
}

struct ReaderState {
    /// None once closed.
    blocks: Option<BlockReader<Source>>,
    bufs: Buffers,
}

/// A block read with the GIL released, ready for Python.
struct Loaded {
    info: BlockInfo,
    bufs: Buffers,
    resolved: bool,
}

enum LoadFail {
    Busy,
    Closed,
    Container(ContainerError),
}

fn busy() -> PyErr {
    ContainerIOError::new_err("the ContainerReader is being used by another thread")
}

fn closed() -> PyErr {
    ContainerIOError::new_err("I/O operation on a closed ContainerReader")
}

fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>, LoadFail> {
    match m.try_lock() {
        Ok(g) => Ok(g),
        Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
        Err(TryLockError::WouldBlock) => Err(LoadFail::Busy),
    }
}

/// Splits the block into records (validating each) when needed, and resolves them to the
/// reader schema when there is a plan; true when `bufs.data` now holds reader records.
fn prepare(
    writer: &Schema,
    plan: Option<&Plan>,
    info: &BlockInfo,
    bufs: &mut Buffers,
    split: bool,
) -> Result<bool, ContainerError> {
    if plan.is_none() && !split {
        return check_count(writer, info, bufs.data.len()).map(|()| false);
    }
    record_ends(writer, info, &bufs.data, &mut bufs.ends)?;
    let Some(plan) = plan else {
        return Ok(false);
    };
    let t = Transcoder { plan, writer };
    bufs.spare.clear();
    bufs.spare_ends.clear();
    let mut start = 0usize;
    // One budget of zero-byte items per block: the block is what one call reads.
    let mut budget = ItemBudget::default();
    for (index, &end) in bufs.ends.iter().enumerate() {
        let datum = bufs.data.get(start..end).unwrap_or_default();
        t.transcode_into(datum, &mut bufs.spare, &mut bufs.scratch, &mut budget)
            .map_err(|e| ContainerError::record(info, index, &e))?;
        bufs.spare_ends.push(bufs.spare.len());
        start = end;
    }
    std::mem::swap(&mut bufs.data, &mut bufs.spare);
    std::mem::swap(&mut bufs.ends, &mut bufs.spare_ends);
    Ok(true)
}

/// Reads an Avro object container file: its header at once, then block by block. Records
/// come from iteration or `read_block()`; `read_block_datums()` gives each record's Avro
/// bytes without decoding them. With `reader_schema`, records are resolved to it.
#[pyclass(frozen, name = "ContainerReader", module = "avrobridge._native")]
pub struct PyContainerReader {
    name: String,
    writer: Py<PySchema>,
    reader: Option<Py<PySchema>>,
    plan: Option<Arc<Plan>>,
    header: Header,
    errors: ErrorSlot,
    state: Mutex<ReaderState>,
    /// Records of the current block not yet returned by `__next__`.
    queue: Mutex<VecDeque<Py<PyAny>>>,
}

impl PyContainerReader {
    fn fail(&self, py: Python<'_>, f: LoadFail) -> PyErr {
        match f {
            LoadFail::Busy => busy(),
            LoadFail::Closed => closed(),
            LoadFail::Container(e) => {
                let cause = if e.kind == ErrorKind::Io {
                    self.errors.take()
                } else {
                    None
                };
                to_pyerr(py, e, &self.name, cause)
            }
        }
    }

    /// Reads the next block with the GIL released (None at the end of the file).
    fn load(&self, py: Python<'_>, split: bool) -> PyResult<Option<Loaded>> {
        let writer = self.writer.get().schema.clone();
        let plan = self.plan.clone();
        let result = py.detach(|| {
            let mut guard = lock(&self.state)?;
            let st = &mut *guard;
            let blocks = st.blocks.as_mut().ok_or(LoadFail::Closed)?;
            let mut bufs = std::mem::take(&mut st.bufs);
            let loaded = match blocks.next_block(&mut bufs.data) {
                Ok(None) => Ok(None),
                Ok(Some(info)) => prepare(&writer, plan.as_deref(), &info, &mut bufs, split)
                    .map(|resolved| Some((info, resolved))),
                Err(e) => Err(e),
            };
            match loaded {
                Ok(Some((info, resolved))) => Ok(Some(Loaded {
                    info,
                    bufs,
                    resolved,
                })),
                Ok(None) => {
                    st.bufs = bufs;
                    Ok(None)
                }
                Err(e) => {
                    st.bufs = bufs;
                    Err(LoadFail::Container(e))
                }
            }
        });
        result.map_err(|f| self.fail(py, f))
    }

    /// Returns the buffers for the next block (dropped if another call holds the state).
    fn give_back(&self, bufs: Buffers) {
        if let Ok(mut st) = self.state.try_lock() {
            st.bufs = bufs;
        }
    }

    fn record_error(&self, py: Python<'_>, info: &BlockInfo, index: usize, fail: Fail) -> PyErr {
        match fail {
            Fail::Avro(e) => to_pyerr(
                py,
                ContainerError::record(info, index, &e),
                &self.name,
                None,
            ),
            Fail::Py(err) => {
                let mut e = ContainerError::format(
                    format!("cannot decode: {}", err.value(py)),
                    info.offset,
                    Some(info.index),
                );
                e.record = Some(index as u64);
                to_pyerr(py, e, &self.name, Some(err))
            }
        }
    }

    /// The block's records as Python values.
    fn records(&self, py: Python<'_>, loaded: &Loaded) -> PyResult<Vec<Py<PyAny>>> {
        let _gc = GcPause::new();
        let Loaded { info, bufs, .. } = loaded;
        let mut out = Vec::with_capacity(info.count as usize);
        match (&self.reader, loaded.resolved) {
            (Some(reader), true) => {
                let plan = &reader.get().plan;
                let mut start = 0usize;
                let mut budget = ItemBudget::default();
                for (index, &end) in bufs.ends.iter().enumerate() {
                    let datum = bufs.data.get(start..end).unwrap_or_default();
                    let value = decoder::decode_datum(py, plan, datum, &mut budget)
                        .map_err(|f| self.record_error(py, info, index, f))?;
                    out.push(value.unbind());
                    start = end;
                }
            }
            _ => {
                let plan = &self.writer.get().plan;
                let mut pos = 0usize;
                for index in 0..info.count as usize {
                    let rest = bufs.data.get(pos..).unwrap_or_default();
                    let (value, used) = decoder::decode_prefix(py, plan, rest)
                        .map_err(|f| self.record_error(py, info, index, f))?;
                    out.push(value.unbind());
                    pos += used;
                }
                check_consumed(info, pos, bufs.data.len())
                    .map_err(|e| to_pyerr(py, e, &self.name, None))?;
            }
        }
        Ok(out)
    }

    fn next_records(&self, py: Python<'_>) -> PyResult<Option<Vec<Py<PyAny>>>> {
        let Some(loaded) = self.load(py, false)? else {
            return Ok(None);
        };
        let records = self.records(py, &loaded);
        self.give_back(loaded.bufs);
        records.map(Some)
    }

    fn queue(&self) -> PyResult<MutexGuard<'_, VecDeque<Py<PyAny>>>> {
        lock(&self.queue).map_err(|_| busy())
    }
}

#[pymethods]
impl PyContainerReader {
    #[new]
    #[pyo3(signature = (source, reader_schema = None, *, max_block_bytes = DEFAULT_MAX_BLOCK_BYTES, name = None))]
    fn new(
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        reader_schema: Option<&Bound<'_, PyAny>>,
        max_block_bytes: usize,
        name: Option<String>,
    ) -> PyResult<Self> {
        if max_block_bytes == 0 {
            return Err(ConfigError::new_err("max_block_bytes must be at least 1"));
        }
        let reader = reader_schema
            .filter(|r| !r.is_none())
            .map(as_schema)
            .transpose()?;
        let opened = open_source(source, name)?;
        let (name, errors) = (opened.name, opened.errors);
        let (io, start, end) = (opened.io, opened.start, opened.end);
        let limits = Limits { max_block_bytes };
        let blocks = py
            .detach(|| BlockReader::new(io, start, end, limits))
            .map_err(|e| to_pyerr(py, e, &name, errors.take()))?;
        let header = blocks.header().clone();
        let text = header
            .schema_text()
            .map_err(|e| to_pyerr(py, e, &name, None))?;
        let writer = PySchema::build(py, text.to_string(), Vec::new(), false).map_err(|e| {
            let message = format!("the header's avro.schema does not parse: {}", e.value(py));
            to_pyerr(
                py,
                ContainerError::format(message, start + 4, None),
                &name,
                Some(e),
            )
        })?;
        let plan = match &reader {
            Some(r) => Some(Arc::new(
                build_plan(&writer.schema, &r.get().schema)
                    .map_err(|e| errors::to_pyerr(e, None))?,
            )),
            None => None,
        };
        Ok(PyContainerReader {
            name,
            writer: Py::new(py, writer)?,
            reader: reader.map(Bound::unbind),
            plan,
            header,
            errors,
            state: Mutex::new(ReaderState {
                blocks: Some(blocks),
                bufs: Buffers::default(),
            }),
            queue: Mutex::new(VecDeque::new()),
        })
    }

    /// The file's name in messages (its path, a file object's `name`, or `<bytes>`).
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// The writer schema, from the header.
    #[getter]
    fn schema(&self, py: Python<'_>) -> Py<PySchema> {
        self.writer.clone_ref(py)
    }

    #[getter]
    fn reader_schema(&self, py: Python<'_>) -> Option<Py<PySchema>> {
        self.reader.as_ref().map(|r| r.clone_ref(py))
    }

    #[getter]
    fn codec(&self) -> &'static str {
        self.header.codec.name()
    }

    /// Every metadata entry of the header (`avro.schema`, `avro.codec` and the user's).
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        for (k, v) in &self.header.metadata {
            out.set_item(k, PyBytes::new(py, v))?;
        }
        Ok(out)
    }

    #[getter]
    fn sync_marker<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.header.sync)
    }

    /// Byte offset of the next block.
    #[getter]
    fn position(&self) -> PyResult<u64> {
        let st = lock(&self.state).map_err(|_| busy())?;
        st.blocks.as_ref().map(|b| b.position()).ok_or_else(closed)
    }

    /// Index of the next block (blocks read so far).
    #[getter]
    fn block_index(&self) -> PyResult<u64> {
        let st = lock(&self.state).map_err(|_| busy())?;
        st.blocks
            .as_ref()
            .map(|b| b.next_index())
            .ok_or_else(closed)
    }

    #[getter]
    fn closed(&self) -> PyResult<bool> {
        let st = lock(&self.state).map_err(|_| busy())?;
        Ok(st.blocks.is_none())
    }

    /// The records of the next block (the rest of the current one while iterating), or None
    /// at the end of the file.
    fn read_block<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyList>>> {
        let queued: Vec<Py<PyAny>> = self.queue()?.drain(..).collect();
        if !queued.is_empty() {
            return PyList::new(py, queued).map(Some);
        }
        match self.next_records(py)? {
            Some(records) => PyList::new(py, records).map(Some),
            None => Ok(None),
        }
    }

    /// `(block index, byte offset of the block, [record bytes])` for the next block, each
    /// record's Avro encoding (resolved to the reader schema when there is one), or None at
    /// the end of the file.
    fn read_block_datums<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<Option<(u64, u64, Bound<'py, PyList>)>> {
        if !self.queue()?.is_empty() {
            return Err(ConfigError::new_err(
                "read_block_datums() in the middle of a block whose records are being iterated",
            ));
        }
        let Some(loaded) = self.load(py, true)? else {
            return Ok(None);
        };
        let Loaded { info, bufs, .. } = &loaded;
        let mut start = 0usize;
        let items = bufs.ends.iter().map(|&end| {
            let b = PyBytes::new(py, bufs.data.get(start..end).unwrap_or_default());
            start = end;
            b
        });
        let list = PyList::new(py, items);
        let (index, offset) = (info.index, info.offset);
        self.give_back(loaded.bufs);
        Ok(Some((index, offset, list?)))
    }

    /// Continues at the block at byte `offset`, as reported by `read_block_datums()`, which
    /// will be numbered `index` (resuming where an earlier reader stopped). The source must
    /// be seekable.
    #[pyo3(signature = (offset, index = 0))]
    fn seek_block(&self, py: Python<'_>, offset: u64, index: u64) -> PyResult<()> {
        self.queue()?.clear();
        let result = {
            let mut st = lock(&self.state).map_err(|_| busy())?;
            let blocks = st.blocks.as_mut().ok_or_else(closed)?;
            blocks.seek_block(offset, index)
        };
        result.map_err(|e| self.fail(py, LoadFail::Container(e)))
    }

    /// Releases the file (a file object given by the caller stays open).
    fn close(&self) -> PyResult<()> {
        self.queue()?.clear();
        let mut st = lock(&self.state).map_err(|_| busy())?;
        st.blocks = None;
        st.bufs = Buffers::default();
        Ok(())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close()?;
        Ok(false)
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        loop {
            if let Some(record) = self.queue()?.pop_front() {
                return Ok(Some(record));
            }
            match self.next_records(py)? {
                None => return Ok(None),
                Some(records) => self.queue()?.extend(records),
            }
        }
    }

    fn __repr__(&self) -> String {
        let schema = self.writer.get().schema.clone();
        let shown = schema.node(schema.root()).branch_name().to_string();
        format!(
            "ContainerReader({:?}, codec={:?}, schema={shown})",
            self.name,
            self.header.codec.name()
        )
    }
}
