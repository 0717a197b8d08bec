//! Logical types from Python objects: date, time and datetime values to the Avro longs and
//! ints (fastavro's rules for naive and aware values), and `Decimal`s to their unscaled
//! magnitude (the arithmetic is in `crate::logical`).

use pyo3::prelude::*;
use pyo3::types::PyString;

use super::errors::{FResult, Fail};
use super::objects::*;
use super::plan::Op;
use super::pytypes::py_types;
use crate::calendar::days_from_civil;
use crate::error::Error;
use crate::logical;

pub(super) fn get_i64(obj: &Bound<'_, PyAny>, attr: &str) -> FResult<i64> {
    Ok(obj
        .getattr(PyString::intern(obj.py(), attr))?
        .extract::<i64>()?)
}

/// `date` (or `datetime`) -> days since the epoch; an ISO string is parsed as fastavro does.
pub(super) fn date_to_days(py: Python<'_>, obj: &Bound<'_, PyAny>) -> FResult<i64> {
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

pub(super) fn time_to_micros(py: Python<'_>, obj: &Bound<'_, PyAny>) -> FResult<i64> {
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
pub(super) fn datetime_to_long(py: Python<'_>, op: &Op, obj: &Bound<'_, PyAny>) -> FResult<i64> {
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
pub(super) fn decimal_unscaled(
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
    Ok(logical::decimal_unscaled(text.to_str()?, precision, scale)?)
}
