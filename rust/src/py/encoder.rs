//! Python objects -> Avro bytes, accepting what fastavro's writer accepts and producing the
//! same bytes: records as any mapping (missing fields take their default), unions picked the
//! way fastavro picks them (tuple notation, `-type`, first matching branch, most matching
//! record fields, double over float), and logical types converted from datetime, Decimal and
//! UUID values.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyString;

use super::encoder_logical::{date_to_days, datetime_to_long, decimal_unscaled, time_to_micros};
use super::errors::{FResult, Fail};
use super::objects::*;
use super::plan::{Op, Plan};
use super::pytypes::py_types;
use super::union_choice::{choose_branch, matches_null};
use crate::error::Error;
use crate::logical::{bit_length, format_uuid, twos_complement};
use crate::wire::{MAX_DEPTH, write_bytes, write_long};

pub(crate) fn encode_datum(
    py: Python<'_>,
    plan: &Plan,
    obj: &Bound<'_, PyAny>,
    buf: &mut Vec<u8>,
) -> FResult<()> {
    encode_value(py, plan, plan.root, obj, buf, 0)
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
