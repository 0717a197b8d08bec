//! Avro bytes -> Python objects, in fastavro's representation: records and maps as dict,
//! arrays as list, enums as str, bytes and fixed as bytes, unions as the plain value, and the
//! logical types converted as fastavro converts them.
//!
//! Objects are built with the C API directly (dict, list, str, int, float, bytes): this is the
//! hot path, and every pyo3 layer avoided here is measurable per record.

use pyo3::exceptions::PyValueError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyString;

use super::errors::{FResult, Fail};
use super::plan::{Op, Plan};
use super::pytypes::py_types;
use crate::calendar::{civil_from_days, parts_from_micros};
use crate::error::Error;
use crate::wire::{ItemBudget, MAX_DEPTH, Reader};

/// Decodes one complete datum; trailing bytes are an error. `budget` is what the call may
/// still read of zero-byte items (updated, so a batch shares one budget).
pub(crate) fn decode_datum<'py>(
    py: Python<'py>,
    plan: &Plan,
    data: &[u8],
    budget: &mut ItemBudget,
) -> FResult<Bound<'py, PyAny>> {
    let mut reader = Reader::with_budget(data, *budget);
    let value = decode_value(py, plan, plan.root, &mut reader, 0);
    *budget = reader.budget();
    let value = value?;
    reader.finish()?;
    Ok(value)
}

/// Decodes the datum at the start of `data` and returns it with the number of bytes it took
/// (records in a container block follow one another).
pub(crate) fn decode_prefix<'py>(
    py: Python<'py>,
    plan: &Plan,
    data: &[u8],
) -> FResult<(Bound<'py, PyAny>, usize)> {
    let mut reader = Reader::new(data);
    let value = decode_value(py, plan, plan.root, &mut reader, 0)?;
    Ok((value, reader.pos()))
}

#[inline]
fn owned<'py>(py: Python<'py>, ptr: *mut ffi::PyObject) -> FResult<Bound<'py, PyAny>> {
    // SAFETY: `ptr` is a new reference (or NULL with an exception set) from a C-API call.
    unsafe { Bound::from_owned_ptr_or_err(py, ptr) }.map_err(Fail::Py)
}

#[inline]
fn new_long(py: Python<'_>, v: i64) -> FResult<Bound<'_, PyAny>> {
    // SAFETY: plain C-API constructor, GIL held.
    owned(py, unsafe { ffi::PyLong_FromLongLong(v) })
}

#[inline]
fn new_bytes<'py>(py: Python<'py>, b: &[u8]) -> FResult<Bound<'py, PyAny>> {
    // SAFETY: pointer and length describe a live slice; CPython copies it.
    owned(py, unsafe {
        ffi::PyBytes_FromStringAndSize(b.as_ptr().cast(), b.len() as ffi::Py_ssize_t)
    })
}

#[inline]
fn new_str<'py>(py: Python<'py>, b: &[u8], offset: usize) -> FResult<Bound<'py, PyAny>> {
    // SAFETY: pointer and length describe a live slice; CPython validates and copies it.
    let ptr = unsafe {
        ffi::PyUnicode_DecodeUTF8(
            b.as_ptr().cast(),
            b.len() as ffi::Py_ssize_t,
            c"strict".as_ptr(),
        )
    };
    if ptr.is_null() {
        // Drop CPython's UnicodeDecodeError in favour of our DecodeError with the offset.
        let _ = PyErr::take(py);
        return Err(Error::decode("string is not valid UTF-8", offset).into());
    }
    owned(py, ptr)
}

/// `dict[key] = value` on a new dict.
#[inline]
fn dict_set(
    dict: &Bound<'_, PyAny>,
    key: &Bound<'_, PyAny>,
    value: &Bound<'_, PyAny>,
) -> FResult<()> {
    // SAFETY: all three are live objects; PyDict_SetItem does not steal references.
    if unsafe { ffi::PyDict_SetItem(dict.as_ptr(), key.as_ptr(), value.as_ptr()) } < 0 {
        return Err(Fail::Py(PyErr::fetch(dict.py())));
    }
    Ok(())
}

fn check_depth(depth: usize, r: &Reader<'_>) -> FResult<()> {
    if depth >= MAX_DEPTH {
        return Err(Error::decode(
            format!("data nested deeper than {MAX_DEPTH} levels"),
            r.pos(),
        )
        .into());
    }
    Ok(())
}

fn decode_value<'py>(
    py: Python<'py>,
    plan: &Plan,
    op: usize,
    r: &mut Reader<'_>,
    depth: usize,
) -> FResult<Bound<'py, PyAny>> {
    match plan.op(op) {
        Op::Null => Ok(py.None().into_bound(py)),
        Op::Boolean => {
            let b = r.read_bool()?;
            // SAFETY: Py_True/Py_False are immortal singletons; we take a new reference.
            let ptr = unsafe { if b { ffi::Py_True() } else { ffi::Py_False() } };
            Ok(unsafe { Bound::from_borrowed_ptr(py, ptr) })
        }
        Op::Int => new_long(py, i64::from(r.read_int()?)),
        Op::Long => new_long(py, r.read_long()?),
        Op::Float => {
            let v = r.read_float()?;
            // SAFETY: plain C-API constructor.
            owned(py, unsafe { ffi::PyFloat_FromDouble(f64::from(v)) })
        }
        Op::Double => {
            let v = r.read_double()?;
            // SAFETY: plain C-API constructor.
            owned(py, unsafe { ffi::PyFloat_FromDouble(v) })
        }
        Op::Bytes => new_bytes(py, r.read_bytes()?),
        Op::Str => {
            let at = r.pos();
            new_str(py, r.read_bytes()?, at)
        }
        Op::Fixed { size } => new_bytes(py, r.read_fixed(*size)?),
        Op::Record { fields, .. } => {
            check_depth(depth, r)?;
            // SAFETY: new empty dict.
            let dict = owned(py, unsafe { ffi::PyDict_New() })?;
            for field in fields.iter() {
                let value = decode_value(py, plan, field.op, r, depth + 1)
                    .map_err(|e| e.at(&*field.name))?;
                dict_set(&dict, field.key.bind(py), &value)?;
            }
            Ok(dict)
        }
        Op::Enum { symbols, .. } => {
            let i = r.read_index(symbols.len(), "enum symbol")?;
            match symbols.get(i) {
                Some(s) => Ok(s.bind(py).clone().into_any()),
                None => Err(Error::decode("enum index out of range", r.pos()).into()),
            }
        }
        Op::Array { items, min } => {
            check_depth(depth, r)?;
            let first = r.read_block_count(*min)?;
            // The first block (usually the only one) fills a list allocated at its size.
            // SAFETY: a new list of `first` NULL slots, each filled below before any read.
            let list = owned(py, unsafe { ffi::PyList_New(first as ffi::Py_ssize_t) })?;
            for index in 0..first {
                let value = decode_value(py, plan, *items, r, depth + 1)
                    .map_err(|e| e.at(index.to_string()))?;
                // SAFETY: index < first; PyList_SetItem steals the reference handed over.
                let slot = index as ffi::Py_ssize_t;
                if unsafe { ffi::PyList_SetItem(list.as_ptr(), slot, value.into_ptr()) } < 0 {
                    return Err(Fail::Py(PyErr::fetch(py)));
                }
            }
            let mut index = first;
            // Only a non-empty first block can be followed by more blocks.
            let mut more = first > 0;
            while more {
                let count = r.read_block_count(*min)?;
                more = count > 0;
                for _ in 0..count {
                    let value = decode_value(py, plan, *items, r, depth + 1)
                        .map_err(|e| e.at(index.to_string()))?;
                    // SAFETY: both live; PyList_Append does not steal.
                    if unsafe { ffi::PyList_Append(list.as_ptr(), value.as_ptr()) } < 0 {
                        return Err(Fail::Py(PyErr::fetch(py)));
                    }
                    index += 1;
                }
            }
            Ok(list)
        }
        Op::Map { values, min } => {
            check_depth(depth, r)?;
            // SAFETY: new empty dict.
            let dict = owned(py, unsafe { ffi::PyDict_New() })?;
            loop {
                // Each entry holds a key (at least one byte) and a value.
                let count = r.read_block_count(min + 1)?;
                if count == 0 {
                    break;
                }
                for _ in 0..count {
                    let at = r.pos();
                    let key_bytes = r.read_bytes()?;
                    let key = new_str(py, key_bytes, at)?;
                    let value = decode_value(py, plan, *values, r, depth + 1)
                        .map_err(|e| e.at(String::from_utf8_lossy(key_bytes).into_owned()))?;
                    dict_set(&dict, &key, &value)?;
                }
            }
            Ok(dict)
        }
        Op::Union { branches, .. } => {
            let i = r.read_index(branches.len(), "union branch")?;
            match branches.get(i) {
                Some(b) => decode_value(py, plan, *b, r, depth),
                None => Err(Error::decode("union index out of range", r.pos()).into()),
            }
        }
        Op::Date => {
            let at = r.pos();
            let days = i64::from(r.read_int()?);
            let (y, m, d) = civil_from_days(days);
            if !(1..=9999).contains(&y) {
                return Err(Error::decode(
                    format!("date {days} days from the epoch is outside years 1-9999"),
                    at,
                )
                .into());
            }
            let t = py_types(py)?;
            // The pickle-state form of the constructor skips argument parsing (40% faster).
            let state = [(y >> 8) as u8, y as u8, m as u8, d as u8];
            Ok(t.date.bind(py).call1((new_bytes(py, &state)?,))?)
        }
        Op::TimeMillis => {
            let at = r.pos();
            let ms = i64::from(r.read_int()?);
            time_of_day(py, ms.checked_mul(1000), at)
        }
        Op::TimeMicros => {
            let at = r.pos();
            let us = r.read_long()?;
            time_of_day(py, Some(us), at)
        }
        Op::TimestampMillis => {
            let at = r.pos();
            let ms = r.read_long()?;
            timestamp(py, ms.checked_mul(1000), true, at)
        }
        Op::TimestampMicros => {
            let at = r.pos();
            let us = r.read_long()?;
            timestamp(py, Some(us), true, at)
        }
        Op::LocalTimestampMillis => {
            let at = r.pos();
            let ms = r.read_long()?;
            timestamp(py, ms.checked_mul(1000), false, at)
        }
        Op::LocalTimestampMicros => {
            let at = r.pos();
            let us = r.read_long()?;
            timestamp(py, Some(us), false, at)
        }
        Op::DecimalBytes { scale, .. } => {
            let at = r.pos();
            let raw = r.read_bytes()?;
            decimal(py, raw, *scale).map_err(|e| located(py, e, at))
        }
        Op::DecimalFixed { scale, size, .. } => {
            let at = r.pos();
            let raw = r.read_fixed(*size)?;
            decimal(py, raw, *scale).map_err(|e| located(py, e, at))
        }
        Op::UuidString => {
            let at = r.pos();
            let s = r.read_str()?;
            if let Some(value) = parse_canonical_uuid(s) {
                return new_uuid(py, value);
            }
            let t = py_types(py)?;
            t.uuid.bind(py).call1((s,)).map_err(|e| {
                if e.is_instance_of::<PyValueError>(py) {
                    Fail::Avro(Error::decode(
                        format!("string of {} bytes is not a valid UUID", s.len()),
                        at,
                    ))
                } else {
                    Fail::Py(e)
                }
            })
        }
    }
}

/// A ValueError or OverflowError from Python while building a value is a property of the
/// data: report it as a DecodeError at the value's offset (other exceptions pass through).
fn located(py: Python<'_>, e: Fail, at: usize) -> Fail {
    match e {
        Fail::Py(err)
            if err.is_instance_of::<PyValueError>(py)
                || err.is_instance_of::<pyo3::exceptions::PyOverflowError>(py) =>
        {
            Fail::Avro(Error::decode(format!("{}", err.value(py)), at))
        }
        other => other,
    }
}

fn time_of_day(py: Python<'_>, micros: Option<i64>, at: usize) -> FResult<Bound<'_, PyAny>> {
    match micros {
        Some(us) if (0..86_400_000_000).contains(&us) => {
            let secs = us / 1_000_000;
            let micro = us % 1_000_000;
            let t = py_types(py)?;
            // time's pickle state: hour, minute, second, microsecond (3 bytes, big-endian).
            let state = [
                (secs / 3600) as u8,
                ((secs / 60) % 60) as u8,
                (secs % 60) as u8,
                (micro >> 16) as u8,
                (micro >> 8) as u8,
                micro as u8,
            ];
            Ok(t.time.bind(py).call1((new_bytes(py, &state)?,))?)
        }
        _ => Err(Error::decode("time of day is outside 00:00 to 24:00", at).into()),
    }
}

fn timestamp(
    py: Python<'_>,
    micros: Option<i64>,
    utc: bool,
    at: usize,
) -> FResult<Bound<'_, PyAny>> {
    let Some(p) = micros.and_then(parts_from_micros) else {
        return Err(Error::decode(
            "timestamp is outside the years 1-9999 that Python's datetime holds",
            at,
        )
        .into());
    };
    let t = py_types(py)?;
    let dt = t.datetime.bind(py);
    // datetime's pickle state: year (2 bytes), month, day, hour, minute, second, microsecond
    // (3 bytes), big-endian. Constructing from it skips parsing eight arguments.
    let state = [
        (p.year >> 8) as u8,
        p.year as u8,
        p.month as u8,
        p.day as u8,
        p.hour as u8,
        p.minute as u8,
        p.second as u8,
        (p.micro >> 16) as u8,
        (p.micro >> 8) as u8,
        p.micro as u8,
    ];
    let state = new_bytes(py, &state)?;
    Ok(if utc {
        dt.call1((state, t.utc.bind(py)))?
    } else {
        dt.call1((state,))?
    })
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (either case) -> its 128-bit value; the other
/// spellings `uuid.UUID` accepts take the slow path.
fn parse_canonical_uuid(s: &str) -> Option<u128> {
    let b = s.as_bytes();
    if b.len() != 36 {
        return None;
    }
    let mut v: u128 = 0;
    for (i, c) in b.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if *c != b'-' {
                return None;
            }
            continue;
        }
        let d = char::from(*c).to_digit(16)?;
        v = (v << 4) | u128::from(d);
    }
    Some(v)
}

/// A `uuid.UUID` exactly as `UUID.__init__` leaves it, without running that Python code
/// (about 1 µs): allocate, then set the `int` and `is_safe` slots.
fn new_uuid(py: Python<'_>, value: u128) -> FResult<Bound<'_, PyAny>> {
    let t = py_types(py)?;
    let obj = t.object_new.bind(py).call1((t.uuid.bind(py),))?;
    let Ok(int) = value.into_pyobject(py);
    for (name, v) in [
        ("int", int.as_any()),
        ("is_safe", t.safe_uuid_unknown.bind(py)),
    ] {
        let name = PyString::intern(py, name);
        // SAFETY: live objects. The generic setter bypasses UUID.__setattr__ (which forbids
        // assignment), as UUID.__init__ itself does through object.__setattr__.
        if unsafe { ffi::PyObject_GenericSetAttr(obj.as_ptr(), name.as_ptr(), v.as_ptr()) } < 0 {
            return Err(Fail::Py(PyErr::fetch(py)));
        }
    }
    Ok(obj)
}

/// A two's-complement big-endian unscaled value -> `Decimal`, exactly (no rounding to the
/// declared precision: the bytes are the truth).
fn decimal<'py>(py: Python<'py>, raw: &[u8], scale: u32) -> FResult<Bound<'py, PyAny>> {
    let digits: String = if raw.len() <= 16 {
        let mut v: i128 = if raw.first().is_some_and(|b| b & 0x80 != 0) {
            -1
        } else {
            0
        };
        for b in raw {
            v = (v << 8) | i128::from(*b);
        }
        v.to_string()
    } else {
        let int_type = py.get_type::<pyo3::types::PyInt>();
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("signed", true)?;
        int_type
            .call_method("from_bytes", (raw, "big"), Some(&kwargs))?
            .str()?
            .to_string()
    };
    let text = format!("{digits}E-{scale}");
    let t = py_types(py)?;
    Ok(t.decimal.bind(py).call1((PyString::new(py, &text),))?)
}
