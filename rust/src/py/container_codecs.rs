//! The container block codecs on their own (`_compress`, `_decompress`): what the benchmarks
//! time to show how much of reading or writing a file is (de)compression.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::errors::ConfigError;
use crate::container::{Codec, check_level, compress, decompress};

fn codec(name: &str) -> PyResult<Codec> {
    Codec::from_name(name).ok_or_else(|| ConfigError::new_err(format!("unknown codec '{name}'")))
}

/// A block's data compressed as the container writer compresses it (GIL released).
#[pyfunction]
#[pyo3(signature = (codec_name, data, level = None))]
pub(crate) fn _compress<'py>(
    py: Python<'py>,
    codec_name: &str,
    data: &[u8],
    level: Option<i32>,
) -> PyResult<Bound<'py, PyBytes>> {
    let codec = codec(codec_name)?;
    check_level(codec, level).map_err(|e| ConfigError::new_err(e.message))?;
    let mut out = Vec::new();
    py.detach(|| compress(codec, level, data, &mut out))
        .map_err(|e| ConfigError::new_err(format!("cannot compress: {e}")))?;
    Ok(PyBytes::new(py, &out))
}

/// A block's stored data decompressed as the container reader does it, refusing more than
/// `limit` bytes (GIL released).
#[pyfunction]
pub(crate) fn _decompress<'py>(
    py: Python<'py>,
    codec_name: &str,
    data: &[u8],
    limit: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let codec = codec(codec_name)?;
    let mut out = Vec::new();
    py.detach(|| decompress(codec, data, &mut out, limit))
        .map_err(|e| ConfigError::new_err(format!("cannot decompress: {e:?}")))?;
    Ok(PyBytes::new(py, &out))
}
