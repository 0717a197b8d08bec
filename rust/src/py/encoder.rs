//! Python objects -> Avro bytes, accepting what fastavro's writer accepts and producing the
//! same bytes: records as any mapping (missing fields take their default), unions picked the
//! way fastavro picks them (tuple notation, `-type`, first matching branch, most matching
//! record fields, double over float), and logical types converted from datetime, Decimal and
//! UUID values.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

use super::errors::{FResult, Fail};
use super::plan::{Op, Plan};
use super::pytypes::py_types;
use crate::calendar::days_from_civil;
use crate::error::Error;
use crate::wire::{MAX_DEPTH, write_bytes, write_long};

pub(crate) fn encode_datum(
    py: Python<'_>,
    plan: &Plan,
    obj: &Bound<'_, PyAny>,
    buf: &mut Vec<u8>,
) -> FResult<()> {
    encode_value(py, plan, plan.root, obj, buf, 0)
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_string())
}

fn wrong_type(expected: &str, obj: &Bound<'_, PyAny>) -> Fail {
    Fail::Avro(Error::encode(format!(
        "expected {expected}, got {}",
        type_name(obj)
    )))
}

#[inline]
fn is_none(obj: &Bound<'_, PyAny>) -> bool {
    obj.is_none()
}

#[inline]
fn is_int(obj: &Bound<'_, PyAny>) -> bool {
    // SAFETY: type check on a live object.
    unsafe { ffi::PyLong_Check(obj.as_ptr()) != 0 }
}

#[inline]
fn is_bool(obj: &Bound<'_, PyAny>) -> bool {
    // SAFETY: type check on a live object.
    unsafe { ffi::PyBool_Check(obj.as_ptr()) != 0 }
}

#[inline]
fn is_str(obj: &Bound<'_, PyAny>) -> bool {
    // SAFETY: type check on a live object.
    unsafe { ffi::PyUnicode_Check(obj.as_ptr()) != 0 }
}

#[inline]
fn is_bytes(obj: &Bound<'_, PyAny>) -> bool {
    // SAFETY: type check on a live object.
    unsafe { ffi::PyBytes_Check(obj.as_ptr()) != 0 }
}

#[inline]
fn is_bytearray(obj: &Bound<'_, PyAny>) -> bool {
    // SAFETY: type check on a live object.
    unsafe { ffi::PyByteArray_Check(obj.as_ptr()) != 0 }
}

#[inline]
fn is_float(obj: &Bound<'_, PyAny>) -> bool {
    // SAFETY: type check on a live object.
    unsafe { ffi::PyFloat_Check(obj.as_ptr()) != 0 }
}

#[inline]
fn is_dict(obj: &Bound<'_, PyAny>) -> bool {
    // SAFETY: type check on a live object.
    unsafe { ffi::PyDict_Check(obj.as_ptr()) != 0 }
}

#[inline]
fn is_list(obj: &Bound<'_, PyAny>) -> bool {
    // SAFETY: type check on a live object.
    unsafe { ffi::PyList_Check(obj.as_ptr()) != 0 }
}

#[inline]
fn is_tuple(obj: &Bound<'_, PyAny>) -> bool {
    // SAFETY: type check on a live object.
    unsafe { ffi::PyTuple_Check(obj.as_ptr()) != 0 }
}

fn is_instance(obj: &Bound<'_, PyAny>, cls: &Py<PyAny>) -> FResult<bool> {
    Ok(obj.is_instance(cls.bind(obj.py()))?)
}

fn is_mapping(obj: &Bound<'_, PyAny>) -> FResult<bool> {
    if is_dict(obj) {
        return Ok(true);
    }
    is_instance(obj, &py_types(obj.py())?.mapping)
}

/// Sequences fastavro writes as arrays: list, tuple, other `Sequence`s and `array.array`,
/// but not text or bytes.
fn is_sequence(obj: &Bound<'_, PyAny>) -> FResult<bool> {
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
fn extract_i64(obj: &Bound<'_, PyAny>, kind: &str) -> FResult<i64> {
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

fn extract_i32(obj: &Bound<'_, PyAny>) -> FResult<i32> {
    let v = extract_i64(obj, "int")?;
    i32::try_from(v).map_err(|_| {
        Fail::Avro(Error::encode(format!(
            "{v} is out of range for int (32-bit)"
        )))
    })
}

fn extract_f64(obj: &Bound<'_, PyAny>, kind: &str) -> FResult<f64> {
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
fn str_utf8<'a>(obj: &'a Bound<'_, PyAny>) -> FResult<&'a [u8]> {
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

fn bytes_like<'a>(obj: &'a Bound<'_, PyAny>) -> Option<&'a [u8]> {
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
fn mapping_get<'py>(
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

fn check_depth(depth: usize) -> FResult<()> {
    if depth >= MAX_DEPTH {
        return Err(Fail::Avro(Error::encode(format!(
            "data nested deeper than {MAX_DEPTH} levels (or a reference cycle)"
        ))));
    }
    Ok(())
}

fn encode_value(
    py: Python<'_>,
    plan: &Plan,
    op: usize,
    obj: &Bound<'_, PyAny>,
    buf: &mut Vec<u8>,
    depth: usize,
) -> FResult<()> {
    match plan.op(op) {
        Op::Null => {
            if is_none(obj) {
                Ok(())
            } else {
                Err(wrong_type("None", obj))
            }
        }
        Op::Boolean => {
            if is_bool(obj) {
                buf.push(u8::from(obj.is_truthy()?));
                Ok(())
            } else {
                Err(wrong_type("a bool", obj))
            }
        }
        Op::Int => {
            write_long(buf, i64::from(extract_i32(obj)?));
            Ok(())
        }
        Op::Long => {
            write_long(buf, extract_i64(obj, "long")?);
            Ok(())
        }
        Op::Float => {
            buf.extend_from_slice(&(extract_f64(obj, "float")? as f32).to_le_bytes());
            Ok(())
        }
        Op::Double => {
            buf.extend_from_slice(&extract_f64(obj, "double")?.to_le_bytes());
            Ok(())
        }
        Op::Str => {
            if !is_str(obj) {
                return Err(wrong_type("a str", obj));
            }
            write_bytes(buf, str_utf8(obj)?);
            Ok(())
        }
        Op::Bytes => match bytes_like(obj) {
            Some(b) => {
                write_bytes(buf, b);
                Ok(())
            }
            None => Err(wrong_type("bytes", obj)),
        },
        Op::Fixed { size } => match bytes_like(obj) {
            Some(b) if b.len() == *size => {
                buf.extend_from_slice(b);
                Ok(())
            }
            Some(b) => Err(Fail::Avro(Error::encode(format!(
                "fixed needs exactly {size} bytes, got {}",
                b.len()
            )))),
            None => Err(wrong_type(&format!("bytes (fixed of {size})"), obj)),
        },
        Op::Enum { names, .. } => {
            if !is_str(obj) {
                return Err(wrong_type("a str (enum symbol)", obj));
            }
            let s = str_utf8(obj)?;
            match names.iter().position(|n| n.as_bytes() == s) {
                Some(i) => {
                    write_long(buf, i as i64);
                    Ok(())
                }
                None => Err(Fail::Avro(Error::encode(format!(
                    "'{}' is not a symbol of the enum ({})",
                    String::from_utf8_lossy(s),
                    names.join(", ")
                )))),
            }
        }
        Op::Record {
            fields, fullname, ..
        } => {
            check_depth(depth)?;
            if !is_mapping(obj)? {
                return Err(wrong_type(&format!("a dict (record {fullname})"), obj));
            }
            for field in fields.iter() {
                let key = field.key.bind(py);
                match mapping_get(obj, key)? {
                    Some(value) => {
                        encode_value(py, plan, field.op, &value, buf, depth + 1)
                            .map_err(|e| e.at(&*field.name))?;
                    }
                    None => match &field.default {
                        Some(default) => buf.extend_from_slice(default),
                        // fastavro writes a missing field without default as None: fine for
                        // a nullable field, an error otherwise.
                        None => encode_value(
                            py,
                            plan,
                            field.op,
                            &py.None().into_bound(py),
                            buf,
                            depth + 1,
                        )
                        .map_err(|e| {
                            match e {
                                Fail::Avro(Error::Encode { .. })
                                    if !matches_null(plan, field.op) =>
                                {
                                    Fail::Avro(Error::encode(format!(
                                        "missing field '{}' has no default",
                                        field.name
                                    )))
                                }
                                other => other,
                            }
                            .at(&*field.name)
                        })?,
                    },
                }
            }
            Ok(())
        }
        Op::Array { items, .. } => {
            check_depth(depth)?;
            if is_list(obj) || is_tuple(obj) {
                let len = obj.len()?;
                if len > 0 {
                    write_long(buf, len as i64);
                    for i in 0..len {
                        // SAFETY: index within bounds of a list/tuple we hold.
                        let item = unsafe {
                            let ptr = if is_list(obj) {
                                ffi::PyList_GetItem(obj.as_ptr(), i as ffi::Py_ssize_t)
                            } else {
                                ffi::PyTuple_GetItem(obj.as_ptr(), i as ffi::Py_ssize_t)
                            };
                            if ptr.is_null() {
                                return Err(Fail::Py(PyErr::fetch(py)));
                            }
                            Bound::from_borrowed_ptr(py, ptr)
                        };
                        encode_value(py, plan, *items, &item, buf, depth + 1)
                            .map_err(|e| e.at(i.to_string()))?;
                    }
                }
                buf.push(0);
                return Ok(());
            }
            if !is_sequence(obj)? {
                return Err(wrong_type("a list", obj));
            }
            let values: Vec<Bound<'_, PyAny>> = obj.try_iter()?.collect::<PyResult<_>>()?;
            if !values.is_empty() {
                write_long(buf, values.len() as i64);
                for (i, item) in values.iter().enumerate() {
                    encode_value(py, plan, *items, item, buf, depth + 1)
                        .map_err(|e| e.at(i.to_string()))?;
                }
            }
            buf.push(0);
            Ok(())
        }
        Op::Map { values, .. } => {
            check_depth(depth)?;
            if is_dict(obj) {
                let len = obj.len()?;
                if len > 0 {
                    write_long(buf, len as i64);
                    let mut pos: ffi::Py_ssize_t = 0;
                    let mut key: *mut ffi::PyObject = std::ptr::null_mut();
                    let mut value: *mut ffi::PyObject = std::ptr::null_mut();
                    let mut written = 0usize;
                    // SAFETY: iterating a dict we hold; encoding runs no code that mutates it
                    // except through user __index__/__float__ hooks, which we detect by count.
                    while unsafe { ffi::PyDict_Next(obj.as_ptr(), &mut pos, &mut key, &mut value) }
                        != 0
                    {
                        let (k, v) = unsafe {
                            (
                                Bound::from_borrowed_ptr(py, key),
                                Bound::from_borrowed_ptr(py, value),
                            )
                        };
                        encode_entry(py, plan, *values, &k, &v, buf, depth)?;
                        written += 1;
                    }
                    if written != len {
                        return Err(Fail::Avro(Error::encode(
                            "dict changed size while being encoded",
                        )));
                    }
                }
                buf.push(0);
                return Ok(());
            }
            if !is_mapping(obj)? {
                return Err(wrong_type("a dict (map)", obj));
            }
            let items: Vec<Bound<'_, PyAny>> = obj
                .call_method0("items")?
                .try_iter()?
                .collect::<PyResult<_>>()?;
            if !items.is_empty() {
                write_long(buf, items.len() as i64);
                for pair in &items {
                    let k = pair.get_item(0)?;
                    let v = pair.get_item(1)?;
                    encode_entry(py, plan, *values, &k, &v, buf, depth)?;
                }
            }
            buf.push(0);
            Ok(())
        }
        Op::Union {
            branches,
            null_branch,
        } => {
            let (index, value) = choose_branch(py, plan, branches, *null_branch, obj)?;
            let Some(branch) = branches.get(index) else {
                return Err(Fail::Avro(Error::encode("union branch out of range")));
            };
            write_long(buf, index as i64);
            encode_value(py, plan, *branch, &value, buf, depth)
        }
        Op::Date => {
            let days = if is_int(obj) {
                i64::from(extract_i32(obj)?)
            } else {
                date_to_days(py, obj)?
            };
            let days =
                i32::try_from(days).map_err(|_| Fail::Avro(Error::encode("date out of range")))?;
            write_long(buf, i64::from(days));
            Ok(())
        }
        Op::TimeMillis => {
            let v = if is_int(obj) {
                i64::from(extract_i32(obj)?)
            } else {
                time_to_micros(py, obj)? / 1000
            };
            let v = i32::try_from(v)
                .map_err(|_| Fail::Avro(Error::encode("time-millis out of range")))?;
            write_long(buf, i64::from(v));
            Ok(())
        }
        Op::TimeMicros => {
            let v = if is_int(obj) {
                extract_i64(obj, "long")?
            } else {
                time_to_micros(py, obj)?
            };
            write_long(buf, v);
            Ok(())
        }
        Op::TimestampMillis
        | Op::TimestampMicros
        | Op::LocalTimestampMillis
        | Op::LocalTimestampMicros => {
            let op = plan.op(op);
            let v = if is_int(obj) {
                extract_i64(obj, "long")?
            } else {
                datetime_to_long(py, op, obj)?
            };
            write_long(buf, v);
            Ok(())
        }
        Op::DecimalBytes { precision, scale } => {
            if let Some(b) = bytes_like(obj) {
                write_bytes(buf, b);
                return Ok(());
            }
            let (negative, magnitude) = decimal_unscaled(py, obj, *precision, *scale)?;
            let bit_len = bit_length(&magnitude);
            // fastavro's length: (bit_length + 8) // 8 bytes, even where one fewer would do.
            let len = (bit_len + 8) / 8;
            write_bytes(buf, &twos_complement(&magnitude, negative, len));
            Ok(())
        }
        Op::DecimalFixed {
            precision,
            scale,
            size,
        } => {
            if let Some(b) = bytes_like(obj) {
                if b.len() != *size {
                    return Err(Fail::Avro(Error::encode(format!(
                        "fixed needs exactly {size} bytes, got {}",
                        b.len()
                    ))));
                }
                buf.extend_from_slice(b);
                return Ok(());
            }
            let (negative, magnitude) = decimal_unscaled(py, obj, *precision, *scale)?;
            if bit_length(&magnitude) + 1 > size * 8 {
                return Err(Fail::Avro(Error::encode(format!(
                    "decimal does not fit in fixed of {size} bytes"
                ))));
            }
            buf.extend_from_slice(&twos_complement(&magnitude, negative, *size));
            Ok(())
        }
        Op::UuidString => {
            if is_str(obj) {
                write_bytes(buf, str_utf8(obj)?);
                return Ok(());
            }
            if is_instance(obj, &py_types(py)?.uuid)? {
                // Format from the 128-bit value: str(UUID) runs ~0.5 µs of Python.
                let value: u128 = obj.getattr(PyString::intern(py, "int"))?.extract()?;
                write_bytes(buf, format_uuid(value).as_bytes());
                return Ok(());
            }
            Err(wrong_type("a str or uuid.UUID", obj))
        }
    }
}

fn matches_null(plan: &Plan, op: usize) -> bool {
    match plan.op(op) {
        Op::Null => true,
        Op::Union { null_branch, .. } => null_branch.is_some(),
        _ => false,
    }
}

fn encode_entry(
    py: Python<'_>,
    plan: &Plan,
    values: usize,
    k: &Bound<'_, PyAny>,
    v: &Bound<'_, PyAny>,
    buf: &mut Vec<u8>,
    depth: usize,
) -> FResult<()> {
    if !is_str(k) {
        return Err(wrong_type("str map keys", k));
    }
    let key = str_utf8(k)?;
    write_bytes(buf, key);
    encode_value(py, plan, values, v, buf, depth + 1)
        .map_err(|e| e.at(String::from_utf8_lossy(key).into_owned()))
}

/// Picks the union branch for `obj`, as fastavro does; returns the branch index and the value
/// to encode (unwrapped from tuple notation).
fn choose_branch<'py>(
    py: Python<'py>,
    plan: &Plan,
    branches: &[usize],
    null_branch: Option<usize>,
    obj: &Bound<'py, PyAny>,
) -> FResult<(usize, Bound<'py, PyAny>)> {
    if is_none(obj) {
        if let Some(i) = null_branch {
            return Ok((i, obj.clone()));
        }
    }
    // Tuple notation: (branch name, value).
    if is_tuple(obj) && obj.len()? == 2 {
        let tuple = obj.cast::<PyTuple>().map_err(PyErr::from)?;
        let name = tuple.get_item(0)?;
        if is_str(&name) {
            let name = name.to_string();
            if let Some(i) = branches.iter().position(|b| plan.branch_name(*b) == name) {
                return Ok((i, tuple.get_item(1)?));
            }
        }
    }
    // The common `["null", T]`: anything that is not None is a T.
    if branches.len() == 2 {
        if let Some(n) = null_branch {
            if !is_none(obj) {
                return Ok((1 - n, obj.clone()));
            }
        }
    }
    let mut best: Option<usize> = None;
    let mut most_fields: i64 = -1;
    let mut could_be_float = false;
    for (i, branch) in branches.iter().enumerate() {
        let op = plan.op(*branch);
        if could_be_float {
            if matches!(op, Op::Double) {
                best = Some(i);
                break;
            }
            continue;
        }
        if !matches_value(py, plan, *branch, obj, 0)? {
            continue;
        }
        match op {
            // fastavro applies "most matching fields" to records only: a matching error
            // record is taken at once. Copied so the bytes stay identical.
            Op::Record {
                fields,
                is_error: false,
                ..
            } => {
                let mut count = 0i64;
                for f in fields.iter() {
                    if mapping_get(obj, f.key.bind(py))?.is_some() {
                        count += 1;
                    }
                }
                if count > most_fields {
                    best = Some(i);
                    most_fields = count;
                }
            }
            Op::Float => {
                best = Some(i);
                could_be_float = true;
            }
            _ => {
                best = Some(i);
                break;
            }
        }
    }
    match best {
        Some(i) => Ok((i, obj.clone())),
        None => {
            let names: Vec<&str> = branches.iter().map(|b| plan.branch_name(*b)).collect();
            Err(Fail::Avro(Error::encode(format!(
                "{} value matches no branch of the union [{}]",
                type_name(obj),
                names.join(", ")
            ))))
        }
    }
}

/// Whether `obj` is a valid value of `op` (fastavro's `validate`, used to choose branches).
fn matches_value(
    py: Python<'_>,
    plan: &Plan,
    op: usize,
    obj: &Bound<'_, PyAny>,
    depth: usize,
) -> FResult<bool> {
    if depth >= MAX_DEPTH {
        return Ok(false);
    }
    let t = py_types(py)?;
    let int_in = |lo: i64, hi: i64| -> FResult<bool> {
        if is_bool(obj) || is_float(obj) || is_str(obj) {
            return Ok(false);
        }
        if !(is_int(obj) || is_instance(obj, &t.integral)?) {
            return Ok(false);
        }
        Ok(extract_i64(obj, "long")
            .map(|v| (lo..=hi).contains(&v))
            .unwrap_or(false))
    };
    Ok(match plan.op(op) {
        Op::Null => is_none(obj),
        Op::Boolean => is_bool(obj),
        Op::Int => int_in(i64::from(i32::MIN), i64::from(i32::MAX))?,
        Op::Long => int_in(i64::MIN, i64::MAX)?,
        Op::Float | Op::Double => {
            !is_bool(obj)
                && (is_float(obj) || is_int(obj) || (!is_str(obj) && is_instance(obj, &t.real)?))
        }
        Op::Str => is_str(obj),
        Op::Bytes => bytes_like(obj).is_some(),
        Op::Fixed { size } => bytes_like(obj).is_some_and(|b| b.len() == *size),
        Op::Enum { names, .. } => {
            is_str(obj)
                && names
                    .iter()
                    .any(|n| n.as_bytes() == str_utf8(obj).unwrap_or_default())
        }
        Op::Array { items, .. } => {
            if !is_sequence(obj)? {
                return Ok(false);
            }
            for item in obj.try_iter()? {
                if !matches_value(py, plan, *items, &item?, depth + 1)? {
                    return Ok(false);
                }
            }
            true
        }
        Op::Map { values, .. } => {
            if !is_mapping(obj)? {
                return Ok(false);
            }
            for pair in obj.call_method0("items")?.try_iter()? {
                let pair = pair?;
                if !is_str(&pair.get_item(0)?)
                    || !matches_value(py, plan, *values, &pair.get_item(1)?, depth + 1)?
                {
                    return Ok(false);
                }
            }
            true
        }
        Op::Record {
            fields, fullname, ..
        } => {
            if !is_mapping(obj)? {
                return Ok(false);
            }
            if let Some(declared) = mapping_get(obj, &PyString::intern(py, "-type"))? {
                if declared.to_string() != **fullname {
                    return Ok(false);
                }
            }
            for f in fields.iter() {
                match mapping_get(obj, f.key.bind(py))? {
                    Some(v) => {
                        if !matches_value(py, plan, f.op, &v, depth + 1)? {
                            return Ok(false);
                        }
                    }
                    None => {
                        if f.default.is_none()
                            && !matches_value(py, plan, f.op, &py.None().into_bound(py), depth + 1)?
                        {
                            return Ok(false);
                        }
                    }
                }
            }
            true
        }
        Op::Union { branches, .. } => {
            for b in branches.iter() {
                if matches_value(py, plan, *b, obj, depth + 1)? {
                    return Ok(true);
                }
            }
            false
        }
        Op::Date => {
            is_instance(obj, &t.date)?
                || int_in(i64::from(i32::MIN), i64::from(i32::MAX))?
                || is_str(obj)
        }
        Op::TimeMillis => {
            is_instance(obj, &t.time)? || int_in(i64::from(i32::MIN), i64::from(i32::MAX))?
        }
        Op::TimeMicros => is_instance(obj, &t.time)? || int_in(i64::MIN, i64::MAX)?,
        Op::TimestampMillis
        | Op::TimestampMicros
        | Op::LocalTimestampMillis
        | Op::LocalTimestampMicros => is_instance(obj, &t.datetime)? || int_in(i64::MIN, i64::MAX)?,
        Op::DecimalBytes { .. } => bytes_like(obj).is_some() || is_instance(obj, &t.decimal)?,
        Op::DecimalFixed { size, .. } => {
            bytes_like(obj).is_some_and(|b| b.len() == *size) || is_instance(obj, &t.decimal)?
        }
        Op::UuidString => is_str(obj) || is_instance(obj, &t.uuid)?,
    })
}

fn get_i64(obj: &Bound<'_, PyAny>, attr: &str) -> FResult<i64> {
    Ok(obj
        .getattr(PyString::intern(obj.py(), attr))?
        .extract::<i64>()?)
}

/// `date` (or `datetime`) -> days since the epoch; an ISO string is parsed as fastavro does.
fn date_to_days(py: Python<'_>, obj: &Bound<'_, PyAny>) -> FResult<i64> {
    let t = py_types(py)?;
    let date = if is_str(obj) {
        t.date.bind(py).call_method1("fromisoformat", (obj,))?
    } else if is_instance(obj, &t.date)? {
        obj.clone()
    } else {
        return Err(wrong_type("a datetime.date or int", obj));
    };
    let (y, m, d) = (
        get_i64(&date, "year")?,
        get_i64(&date, "month")?,
        get_i64(&date, "day")?,
    );
    Ok(days_from_civil(y, m as u32, d as u32))
}

fn time_to_micros(py: Python<'_>, obj: &Bound<'_, PyAny>) -> FResult<i64> {
    if !is_instance(obj, &py_types(py)?.time)? {
        return Err(wrong_type("a datetime.time or int", obj));
    }
    let (h, m, s, us) = (
        get_i64(obj, "hour")?,
        get_i64(obj, "minute")?,
        get_i64(obj, "second")?,
        get_i64(obj, "microsecond")?,
    );
    Ok(((h * 60 + m) * 60 + s) * 1_000_000 + us)
}

/// `datetime` -> the long of a timestamp logical type, with fastavro's rules: aware values are
/// instants; naive ones are local time for timestamp-* (as `time.mktime` reads them) and
/// taken as they are for local-timestamp-*.
fn datetime_to_long(py: Python<'_>, op: &Op, obj: &Bound<'_, PyAny>) -> FResult<i64> {
    let t = py_types(py)?;
    if !is_instance(obj, &t.datetime)? {
        return Err(wrong_type("a datetime.datetime or int", obj));
    }
    let millis = matches!(op, Op::TimestampMillis | Op::LocalTimestampMillis);
    let local = matches!(op, Op::LocalTimestampMillis | Op::LocalTimestampMicros);
    let micro = get_i64(obj, "microsecond")?;
    let sub = if millis { micro / 1000 } else { micro };
    let scale: i64 = if millis { 1000 } else { 1_000_000 };
    let overflow = || Fail::Avro(Error::encode("timestamp out of range"));
    if local {
        let days = days_from_civil(
            get_i64(obj, "year")?,
            get_i64(obj, "month")? as u32,
            get_i64(obj, "day")? as u32,
        );
        let secs = days * 86_400
            + get_i64(obj, "hour")? * 3600
            + get_i64(obj, "minute")? * 60
            + get_i64(obj, "second")?;
        return secs
            .checked_mul(scale)
            .and_then(|v| v.checked_add(sub))
            .ok_or_else(overflow);
    }
    if obj.getattr(PyString::intern(py, "tzinfo"))?.is_none() {
        let secs: f64 = t
            .mktime
            .bind(py)
            .call1((obj.call_method0("timetuple")?,))?
            .extract()?;
        return (secs as i64)
            .checked_mul(scale)
            .and_then(|v| v.checked_add(sub))
            .ok_or_else(overflow);
    }
    let delta = obj.sub(t.epoch_utc.bind(py))?;
    let secs = get_i64(&delta, "days")? * 86_400 + get_i64(&delta, "seconds")?;
    let us = get_i64(&delta, "microseconds")?;
    let sub = if millis { us / 1000 } else { us };
    secs.checked_mul(scale)
        .and_then(|v| v.checked_add(sub))
        .ok_or_else(overflow)
}

/// A `Decimal` -> (negative, unscaled magnitude as little-endian u32 limbs) at `scale`,
/// refusing values whose digits exceed `precision` or whose exponent is finer than `scale`.
fn decimal_unscaled(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    precision: u32,
    scale: u32,
) -> FResult<(bool, Vec<u32>)> {
    if !is_instance(obj, &py_types(py)?.decimal)? {
        return Err(wrong_type("a decimal.Decimal or bytes", obj));
    }
    // Parse str(Decimal) (C-fast) rather than as_tuple(), which builds a tuple of ints.
    let text = obj.str()?;
    let Some((negative, digits, exponent)) = parse_decimal_text(text.to_str()?) else {
        return Err(Fail::Avro(Error::encode(
            "NaN and infinite decimals cannot be encoded",
        )));
    };
    if digits.len() as u64 > u64::from(precision) {
        return Err(Fail::Avro(Error::encode(format!(
            "decimal has {} digits, more than the schema's precision {precision}",
            digits.len()
        ))));
    }
    let delta = exponent + i64::from(scale);
    if delta < 0 {
        return Err(Fail::Avro(Error::encode(format!(
            "decimal has more fractional digits than the schema's scale {scale}"
        ))));
    }
    let significant = digits.iter().skip_while(|d| **d == 0).count() as i64;
    if significant > 0 && significant + delta > i64::from(precision) {
        return Err(Fail::Avro(Error::encode(format!(
            "decimal needs {} digits at scale {scale}, more than the schema's precision {precision}",
            significant + delta
        ))));
    }
    let mut limbs: Vec<u32> = Vec::new();
    let zeros = if significant > 0 {
        delta.max(0) as usize
    } else {
        0
    };
    for d in digits
        .iter()
        .copied()
        .chain(std::iter::repeat_n(0u8, zeros))
    {
        mul_add(&mut limbs, 10, u32::from(d));
    }
    Ok((negative, limbs))
}

/// `str(Decimal)` -> (negative, coefficient digits as `as_tuple()` gives them, exponent);
/// None for NaN and infinities.
fn parse_decimal_text(text: &str) -> Option<(bool, Vec<u8>, i64)> {
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, text.get(1..)?),
        Some(b'+') => (false, text.get(1..)?),
        _ => (false, text),
    };
    let (mantissa, exp) = match rest.find(['E', 'e']) {
        Some(i) => (rest.get(..i)?, rest.get(i + 1..)?.parse::<i64>().ok()?),
        None => (rest, 0),
    };
    let mut digits = Vec::with_capacity(mantissa.len());
    let mut fraction = 0i64;
    let mut seen_point = false;
    for c in mantissa.bytes() {
        match c {
            b'0'..=b'9' => {
                digits.push(c - b'0');
                if seen_point {
                    fraction += 1;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => return None,
        }
    }
    if digits.is_empty() {
        return None;
    }
    let leading = digits
        .iter()
        .take_while(|d| **d == 0)
        .count()
        .min(digits.len() - 1);
    digits.drain(..leading);
    Some((negative, digits, exp.checked_sub(fraction)?))
}

fn format_uuid(v: u128) -> String {
    let hex = format!("{v:032x}");
    let part = |a: usize, b: usize| hex.get(a..b).unwrap_or_default();
    format!(
        "{}-{}-{}-{}-{}",
        part(0, 8),
        part(8, 12),
        part(12, 16),
        part(16, 20),
        part(20, 32)
    )
}

fn mul_add(limbs: &mut Vec<u32>, mul: u32, add: u32) {
    let mut carry = u64::from(add);
    for limb in limbs.iter_mut() {
        let v = u64::from(*limb) * u64::from(mul) + carry;
        *limb = v as u32;
        carry = v >> 32;
    }
    if carry > 0 {
        limbs.push(carry as u32);
    }
}

fn bit_length(limbs: &[u32]) -> usize {
    for (i, limb) in limbs.iter().enumerate().rev() {
        if *limb != 0 {
            return i * 32 + (32 - limb.leading_zeros() as usize);
        }
    }
    0
}

/// Big-endian two's complement of ±magnitude in exactly `len` bytes.
fn twos_complement(limbs: &[u32], negative: bool, len: usize) -> Vec<u8> {
    let mut le: Vec<u8> = limbs.iter().flat_map(|l| l.to_le_bytes()).collect();
    le.resize(len.max(le.len()), 0);
    le.truncate(len);
    let is_zero = le.iter().all(|b| *b == 0);
    if negative && !is_zero {
        let mut carry = 1u16;
        for b in le.iter_mut() {
            let v = u16::from(!*b) + carry;
            *b = v as u8;
            carry = v >> 8;
        }
    }
    le.reverse();
    le
}
