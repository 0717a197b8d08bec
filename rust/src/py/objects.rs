//! Reading Python objects for the encoder through the C API: exact-type checks, the ABCs
//! fastavro accepts (Mapping, Sequence, Integral), integer and float extraction with
//! fastavro's errors, borrowed UTF-8 and byte views, `mapping.get`.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyString;

use super::errors::{FResult, Fail};
use super::pytypes::py_types;
use crate::error::Error;

pub(super) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_string())
}

pub(super) fn wrong_type(expected: &str, obj: &Bound<'_, PyAny>) -> Fail {
    Fail::Avro(Error::encode(format!(
        "expected {expected}, got {}",
        type_name(obj)
    )))
}

#[inline]
pub(super) fn is_none(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_none()
}

/// The C API's type checks (subclasses included): `is_int(obj)` is `PyLong_Check`...
macro_rules! type_checks {
    ($($name:ident => $check:ident),* $(,)?) => {$(
        #[inline]
        pub(super) fn $name(obj: &Bound<'_, PyAny>) -> bool {
            // SAFETY: a type check on a live object.
            unsafe { ffi::$check(obj.as_ptr()) != 0 }
        }
    )*};
}

type_checks! {
    is_int => PyLong_Check,
    is_bool => PyBool_Check,
    is_str => PyUnicode_Check,
    is_bytes => PyBytes_Check,
    is_bytearray => PyByteArray_Check,
    is_float => PyFloat_Check,
    is_dict => PyDict_Check,
    is_list => PyList_Check,
    is_tuple => PyTuple_Check,
}

pub(super) fn is_instance(obj: &Bound<'_, PyAny>, cls: &Py<PyAny>) -> FResult<bool> {
    Ok(obj.is_instance(cls.bind(obj.py()))?)
}

pub(super) fn is_mapping(obj: &Bound<'_, PyAny>) -> FResult<bool> {
    if is_dict(obj) {
        return Ok(true);
    }
    is_instance(obj, &py_types(obj.py())?.mapping)
}

/// Sequences fastavro writes as arrays: list, tuple, other `Sequence`s and `array.array`,
/// but not text or bytes.
pub(super) fn is_sequence(obj: &Bound<'_, PyAny>) -> FResult<bool> {
    if is_list(obj) || is_tuple(obj) {
        return Ok(true);
    }
    if is_str(obj) || is_bytes(obj) || is_bytearray(obj) {
        return Ok(false);
    }
    let t = py_types(obj.py())?;
    Ok(is_instance(obj, &t.sequence)? || is_instance(obj, &t.array_array)?)
}

/// An integer from `int`, `bool` or any `numbers.Integral` (via `__index__`).
pub(super) fn extract_i64(obj: &Bound<'_, PyAny>, kind: &str) -> FResult<i64> {
    if is_bool(obj) {
        // fastavro's validator (and so its union choice) refuses bools for numbers; so do we.
        return Err(wrong_type(&format!("an integer for {kind}"), obj));
    }
    let owned;
    let target = if is_int(obj) {
        obj
    } else if !is_float(obj) && !is_str(obj) && is_instance(obj, &py_types(obj.py())?.integral)? {
        // SAFETY: PyNumber_Index returns a new reference or NULL with an exception set.
        owned =
            unsafe { Bound::from_owned_ptr_or_err(obj.py(), ffi::PyNumber_Index(obj.as_ptr())) }?;
        &owned
    } else {
        return Err(wrong_type(&format!("an integer for {kind}"), obj));
    };
    let mut overflow: std::ffi::c_int = 0;
    // SAFETY: `target` is an int.
    let v = unsafe { ffi::PyLong_AsLongLongAndOverflow(target.as_ptr(), &mut overflow) };
    if overflow != 0 {
        return Err(Fail::Avro(Error::encode(format!(
            "{target} is out of range for {kind}"
        ))));
    }
    if v == -1 {
        if let Some(err) = PyErr::take(obj.py()) {
            return Err(Fail::Py(err));
        }
    }
    Ok(v)
}

pub(super) fn extract_i32(obj: &Bound<'_, PyAny>) -> FResult<i32> {
    let v = extract_i64(obj, "int")?;
    i32::try_from(v).map_err(|_| {
        Fail::Avro(Error::encode(format!(
            "{v} is out of range for int (32-bit)"
        )))
    })
}

pub(super) fn extract_f64(obj: &Bound<'_, PyAny>, kind: &str) -> FResult<f64> {
    if is_bool(obj) {
        return Err(wrong_type(&format!("a number for {kind}"), obj));
    }
    if is_float(obj)
        || is_int(obj)
        || (!is_str(obj) && is_instance(obj, &py_types(obj.py())?.real)?)
    {
        // SAFETY: float/int/Real all support PyFloat_AsDouble (via __float__ where needed).
        let v = unsafe { ffi::PyFloat_AsDouble(obj.as_ptr()) };
        if v == -1.0 {
            if let Some(err) = PyErr::take(obj.py()) {
                return Err(Fail::Py(err));
            }
        }
        return Ok(v);
    }
    Err(wrong_type(&format!("a number for {kind}"), obj))
}

/// The UTF-8 bytes of a `str`, borrowed from CPython's cached UTF-8 form.
pub(super) fn str_utf8<'a>(obj: &'a Bound<'_, PyAny>) -> FResult<&'a [u8]> {
    let mut size: ffi::Py_ssize_t = 0;
    // SAFETY: `obj` is a str (checked by callers); the buffer lives as long as `obj`.
    let ptr = unsafe { ffi::PyUnicode_AsUTF8AndSize(obj.as_ptr(), &mut size) };
    if ptr.is_null() {
        let err = PyErr::fetch(obj.py());
        return Err(Fail::Avro(Error::encode(format!(
            "string cannot be encoded as UTF-8: {err}"
        ))));
    }
    // SAFETY: CPython guarantees `size` valid bytes at `ptr`.
    Ok(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), size as usize) })
}

pub(super) fn bytes_like<'a>(obj: &'a Bound<'_, PyAny>) -> Option<&'a [u8]> {
    if is_bytes(obj) {
        // SAFETY: bytes object; buffer lives as long as `obj`.
        unsafe {
            let ptr = ffi::PyBytes_AsString(obj.as_ptr());
            let len = ffi::PyBytes_Size(obj.as_ptr());
            Some(std::slice::from_raw_parts(ptr.cast::<u8>(), len as usize))
        }
    } else if is_bytearray(obj) {
        // SAFETY: bytearray; we hold the GIL and do not run Python code while borrowing.
        unsafe {
            let ptr = ffi::PyByteArray_AsString(obj.as_ptr());
            let len = ffi::PyByteArray_Size(obj.as_ptr());
            Some(std::slice::from_raw_parts(ptr.cast::<u8>(), len as usize))
        }
    } else {
        None
    }
}

/// `mapping.get(key)`, telling a missing key (None) from a present `None`.
pub(super) fn mapping_get<'py>(
    obj: &Bound<'py, PyAny>,
    key: &Bound<'py, PyString>,
) -> FResult<Option<Bound<'py, PyAny>>> {
    if is_dict(obj) {
        // SAFETY: dict and str are live; the result is borrowed, so we take a new reference.
        let ptr = unsafe { ffi::PyDict_GetItemWithError(obj.as_ptr(), key.as_ptr()) };
        if ptr.is_null() {
            if let Some(err) = PyErr::take(obj.py()) {
                return Err(Fail::Py(err));
            }
            return Ok(None);
        }
        // SAFETY: borrowed pointer to a live value.
        return Ok(Some(unsafe { Bound::from_borrowed_ptr(obj.py(), ptr) }));
    }
    if obj.contains(key)? {
        Ok(Some(obj.get_item(key)?))
    } else {
        Ok(None)
    }
}
