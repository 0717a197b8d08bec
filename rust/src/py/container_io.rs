//! Where container files come from and go to: a path (read and written by Rust with the GIL
//! released), bytes in memory, or any Python binary file object (its `read`/`write` called
//! with the GIL taken back for each call, in large chunks). Also the mapping of
//! `ContainerError` onto `avrobridge.errors`.

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyString};

use super::errors::{ConfigError, ContainerError as PyContainerError, ContainerIOError};
use crate::container::{ContainerError, ErrorKind};
use crate::rules::STREAM_CHUNK;

/// Where a file object's method leaves the Python exception it raised, to become the
/// `__cause__` of the error that reports the failure.
#[derive(Clone, Default)]
pub(crate) struct ErrorSlot(Arc<Mutex<Option<PyErr>>>);

impl ErrorSlot {
    fn put(&self, e: PyErr) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(e);
        }
    }

    pub(crate) fn take(&self) -> Option<PyErr> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// A Python binary file object.
pub(crate) struct PyStream {
    obj: Py<PyAny>,
    error: ErrorSlot,
}

impl PyStream {
    fn failed(&mut self, method: &str, e: PyErr) -> io::Error {
        let message = Python::attach(|py| format!("{method}() raised {}", e.value(py)));
        self.error.put(e);
        io::Error::other(message)
    }

    fn call<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        args: impl pyo3::call::PyCallArgs<'py>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.obj.bind(py).call_method1(method, args)
    }
}

impl Read for PyStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = Python::attach(|py| -> PyResult<usize> {
            let got = self.call(py, "read", (buf.len(),))?;
            if got.is_none() {
                return Err(PyTypeError::new_err(
                    "read() returned None (a non-blocking file?)",
                ));
            }
            let bytes: PyBackedBytes = got.extract()?;
            let n = bytes.len().min(buf.len());
            if let (Some(dst), Some(src)) = (buf.get_mut(..n), bytes.get(..n)) {
                dst.copy_from_slice(src);
            }
            Ok(n)
        });
        result.map_err(|e| self.failed("read", e))
    }
}

impl Seek for PyStream {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let (offset, whence) = match pos {
            SeekFrom::Start(o) => (o as i64, 0),
            SeekFrom::Current(o) => (o, 1),
            SeekFrom::End(o) => (o, 2),
        };
        Python::attach(|py| self.call(py, "seek", (offset, whence))?.extract::<u64>())
            .map_err(|e| self.failed("seek", e))
    }
}

impl Write for PyStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let result = Python::attach(|py| -> PyResult<usize> {
            let written = self.call(py, "write", (PyBytes::new(py, buf),))?;
            // Buffered files return the length (or None); raw files may write less.
            Ok(written
                .extract::<usize>()
                .unwrap_or(buf.len())
                .min(buf.len()))
        });
        result.map_err(|e| self.failed("write", e))
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = Python::attach(|py| self.call(py, "flush", ()).map(|_| ()));
        result.map_err(|e| self.failed("flush", e))
    }
}

/// What a reader reads.
pub(crate) enum Source {
    File(BufReader<File>),
    Memory(Cursor<PyBackedBytes>),
    Stream(BufReader<PyStream>),
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::File(f) => f.read(buf),
            Source::Memory(m) => m.read(buf),
            Source::Stream(s) => s.read(buf),
        }
    }
}

impl Seek for Source {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self {
            Source::File(f) => f.seek(pos),
            Source::Memory(m) => m.seek(pos),
            Source::Stream(s) => s.seek(pos),
        }
    }
}

/// A source or sink opened from a Python argument, with its name, start offset, length
/// (when known) and the slot where a file object's exceptions land.
pub(crate) struct Opened<T> {
    pub(crate) io: T,
    pub(crate) name: String,
    pub(crate) start: u64,
    pub(crate) end: Option<u64>,
    pub(crate) errors: ErrorSlot,
}

/// `os.fspath(obj)` as a str, for str and os.PathLike arguments; None for anything else.
fn path_of(obj: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Some(s.to_str()?.to_string()));
    }
    if !obj.hasattr("__fspath__")? {
        return Ok(None);
    }
    let os = obj.py().import("os")?;
    let path = os.call_method1("fsdecode", (os.call_method1("fspath", (obj,))?,))?;
    Ok(Some(path.extract()?))
}

fn stream_name(obj: &Bound<'_, PyAny>, fallback: &str) -> String {
    obj.getattr("name")
        .ok()
        .and_then(|n| n.extract::<String>().ok())
        .unwrap_or_else(|| fallback.to_string())
}

fn os_error(py: Python<'_>, what: &str, name: &str, e: io::Error) -> PyErr {
    let err = ContainerError::io(what, 0, e);
    to_pyerr(py, err, name, None)
}

/// Opens what `ContainerReader` was given: a path, bytes-like content or a file object.
pub(crate) fn open_source(
    obj: &Bound<'_, PyAny>,
    name: Option<String>,
) -> PyResult<Opened<Source>> {
    let py = obj.py();
    if let Some(path) = path_of(obj)? {
        let name = name.unwrap_or_else(|| path.clone());
        let file = File::open(&path).map_err(|e| os_error(py, "cannot open the file", &name, e))?;
        let end = file
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        return Ok(Opened {
            io: Source::File(BufReader::with_capacity(1 << 16, file)),
            name,
            start: 0,
            end,
            errors: ErrorSlot::default(),
        });
    }
    if let Ok(bytes) = obj.extract::<PyBackedBytes>() {
        let len = bytes.len() as u64;
        return Ok(Opened {
            io: Source::Memory(Cursor::new(bytes)),
            name: name.unwrap_or_else(|| "<bytes>".to_string()),
            start: 0,
            end: Some(len),
            errors: ErrorSlot::default(),
        });
    }
    if obj.hasattr("read")? {
        let name = name.unwrap_or_else(|| stream_name(obj, "<stream>"));
        let seekable = obj
            .call_method0("seekable")
            .and_then(|s| s.extract::<bool>())
            .unwrap_or(false);
        let (start, end) = if seekable {
            let start: u64 = obj.call_method0("tell")?.extract()?;
            let end: u64 = obj.call_method1("seek", (0, 2))?.extract()?;
            obj.call_method1("seek", (start, 0))?;
            (start, Some(end))
        } else {
            (0, None)
        };
        let errors = ErrorSlot::default();
        let stream = PyStream {
            obj: obj.clone().unbind(),
            error: errors.clone(),
        };
        return Ok(Opened {
            io: Source::Stream(BufReader::with_capacity(STREAM_CHUNK, stream)),
            name,
            start,
            end,
            errors,
        });
    }
    Err(PyTypeError::new_err(format!(
        "cannot read a container file from {}: give a path, bytes or a binary file object",
        obj.get_type().name()?
    )))
}

/// What a writer writes to.
pub(crate) enum Sink {
    File(File),
    Stream(PyStream),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::File(f) => f.write(buf),
            Sink::Stream(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::File(f) => f.flush(),
            Sink::Stream(s) => s.flush(),
        }
    }
}

impl Sink {
    /// Makes what was written durable: fsync for a file we opened; for a file object,
    /// `flush()` then `os.fsync(fileno())`.
    pub(crate) fn sync(&mut self) -> io::Result<()> {
        match self {
            Sink::File(f) => f.sync_all(),
            Sink::Stream(s) => {
                s.flush()?;
                let result = Python::attach(|py| -> PyResult<()> {
                    let fileno = s.call(py, "fileno", ())?;
                    py.import("os")?.call_method1("fsync", (fileno,))?;
                    Ok(())
                });
                result.map_err(|e| s.failed("fsync", e))
            }
        }
    }
}

/// Opens what `ContainerWriter` was given: a path (created or truncated) or a file object.
pub(crate) fn open_sink(obj: &Bound<'_, PyAny>, name: Option<String>) -> PyResult<Opened<Sink>> {
    let py = obj.py();
    if let Some(path) = path_of(obj)? {
        let name = name.unwrap_or_else(|| path.clone());
        let file =
            File::create(&path).map_err(|e| os_error(py, "cannot create the file", &name, e))?;
        return Ok(Opened {
            io: Sink::File(file),
            name,
            start: 0,
            end: None,
            errors: ErrorSlot::default(),
        });
    }
    if obj.hasattr("write")? {
        let errors = ErrorSlot::default();
        return Ok(Opened {
            io: Sink::Stream(PyStream {
                obj: obj.clone().unbind(),
                error: errors.clone(),
            }),
            name: name.unwrap_or_else(|| stream_name(obj, "<stream>")),
            start: 0,
            end: None,
            errors,
        });
    }
    Err(PyTypeError::new_err(format!(
        "cannot write a container file to {}: give a path or a binary file object",
        obj.get_type().name()?
    )))
}

/// Maps a container error onto `avrobridge.errors`: `ContainerError` for a bad file,
/// `ContainerIOError` (an OSError) for a failed read or write, `ConfigError` for a bad
/// argument. `cause` is the Python exception a file object raised, if any.
pub(crate) fn to_pyerr(
    py: Python<'_>,
    e: ContainerError,
    name: &str,
    cause: Option<PyErr>,
) -> PyErr {
    let message = e.describe(name);
    let err = match e.kind {
        ErrorKind::Format => PyContainerError::new_err((
            message,
            e.offset,
            e.path,
            e.record,
            name.to_string(),
            e.block,
        )),
        ErrorKind::Usage => ConfigError::new_err(message),
        ErrorKind::Io => {
            let errno = e.io.as_ref().and_then(|io| io.raw_os_error());
            let err = match errno {
                Some(n) => ContainerIOError::new_err((n, message)),
                None => ContainerIOError::new_err(message),
            };
            let _ = err.value(py).setattr("filename", name);
            let cause = cause.or_else(|| e.io.map(PyErr::from));
            err.set_cause(py, cause);
            return err;
        }
    };
    if let Some(c) = cause {
        err.set_cause(py, Some(c));
    }
    err
}
