//! Errors crossing into Python: every `Error` variant becomes the class of the same name in
//! `avrobridge.errors`, so both backends raise identical types.

use pyo3::prelude::*;

use crate::error::Error;

pyo3::import_exception!(avrobridge.errors, SchemaError);
pyo3::import_exception!(avrobridge.errors, SchemaResolutionError);
pyo3::import_exception!(avrobridge.errors, DecodeError);
pyo3::import_exception!(avrobridge.errors, EncodeError);
pyo3::import_exception!(avrobridge.errors, FramingError);
pyo3::import_exception!(avrobridge.errors, ConfigError);
pyo3::import_exception!(avrobridge.errors, ContainerError);
pyo3::import_exception!(avrobridge.errors, ContainerIOError);

/// A failure inside the bindings: ours, or one raised by Python code we called (a
/// `MemoryError`, a broken `__index__`, a datetime out of range...).
pub(crate) enum Fail {
    Avro(Error),
    Py(PyErr),
}

pub(crate) type FResult<T> = std::result::Result<T, Fail>;

impl From<Error> for Fail {
    #[inline]
    fn from(e: Error) -> Self {
        Fail::Avro(e)
    }
}

impl From<PyErr> for Fail {
    #[inline]
    fn from(e: PyErr) -> Self {
        Fail::Py(e)
    }
}

impl Fail {
    /// Adds a data-path segment while unwinding.
    #[inline]
    pub(crate) fn at(self, segment: impl Into<String>) -> Self {
        match self {
            Fail::Avro(e) => Fail::Avro(e.at(segment)),
            other => other,
        }
    }

    /// A Python exception raised during decoding becomes a `DecodeError` at `offset` (the
    /// original exception is kept as `__cause__`); ours convert directly.
    pub(crate) fn into_decode_pyerr(
        self,
        py: Python<'_>,
        offset: usize,
        index: Option<usize>,
    ) -> PyErr {
        match self {
            Fail::Avro(e) => to_pyerr(e, index),
            Fail::Py(err) => {
                let msg = format!("cannot decode at byte {offset}: {}", err.value(py));
                let new = DecodeError::new_err((msg, offset, None::<String>, index));
                new.set_cause(py, Some(err));
                new
            }
        }
    }

    pub(crate) fn into_encode_pyerr(self, py: Python<'_>, index: Option<usize>) -> PyErr {
        match self {
            Fail::Avro(e) => to_pyerr(e, index),
            Fail::Py(err) => {
                if err.is_instance_of::<EncodeError>(py) {
                    return err;
                }
                let msg = format!("cannot encode: {}", err.value(py));
                let new = EncodeError::new_err((msg, None::<usize>, None::<String>, index));
                new.set_cause(py, Some(err));
                new
            }
        }
    }
}

/// Maps a crate error onto its Python class with the location as attributes.
pub(crate) fn to_pyerr(e: Error, index: Option<usize>) -> PyErr {
    let message = e.full_message();
    match e {
        Error::Schema { path, .. } => {
            SchemaError::new_err((message, if path.is_empty() { None } else { Some(path) }))
        }
        Error::Decode { offset, path, .. } => {
            let path = if path.is_empty() {
                None
            } else {
                Some(path.render())
            };
            DecodeError::new_err((message, offset, path, index))
        }
        Error::Encode { path, .. } => {
            let path = if path.is_empty() {
                None
            } else {
                Some(path.render())
            };
            EncodeError::new_err((message, None::<usize>, path, index))
        }
        Error::Resolution { messages, .. } => SchemaResolutionError::new_err((message, messages)),
        Error::Framing { .. } => FramingError::new_err((message, 0usize, None::<String>, index)),
    }
}
