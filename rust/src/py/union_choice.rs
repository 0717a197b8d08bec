//! Which union branch a Python value is written as, the way fastavro's writer picks it:
//! tuple notation and `-type` first, then the first branch the value is valid for (records
//! by the most matching fields, double over float).

use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

use super::errors::{FResult, Fail};
use super::objects::*;
use super::plan::{Op, Plan};
use super::pytypes::py_types;
use crate::error::Error;
use crate::wire::MAX_DEPTH;

pub(super) fn matches_null(plan: &Plan, op: usize) -> bool {
    match plan.op(op) {
        Op::Null => true,
        Op::Union { null_branch, .. } => null_branch.is_some(),
        _ => false,
    }
}

/// Picks the union branch for `obj`, as fastavro does; returns the branch index and the value
/// to encode (unwrapped from tuple notation).
pub(super) fn choose_branch<'py>(
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
pub(super) fn matches_value(
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
