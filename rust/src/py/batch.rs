//! The bridge's batch step: a list of consumed `confluent_kafka.Message`s in, the positional
//! arguments of every `Producer.produce` call out, in one crossing.
//!
//! Each message is read once (its accessors called from here), each frame parsed once, the
//! records grouped by writer schema and transcoded with the GIL released into one buffer, and
//! each sink record built as the tuple `(topic, value, key, partition, None, None, timestamp,
//! headers)` that `produce(*args)` takes without keyword parsing. Records that cannot be
//! converted come back as `(index, stage, exception)`; offsets, counts per source topic, per
//! sink topic and per writer schema come back per batch.
//!
//! Writer schemas and sink topics the caller has not seen yet are not looked up here (that is
//! registry I/O): the batch comes back with `missing_*` filled and nothing else, and the
//! caller calls again once it has built the plans.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use super::errors::to_pyerr;
use super::messages::{self, PlanRef, Record, SideState, TopicEntry, ref_key};
use crate::error::Error;
use crate::framing::SchemaRef;
use crate::transcode::Transcoder;
use crate::wire::{DEFAULT_MAX_ZERO_BYTE_ITEMS, ItemBudget, write_long};

const VALUE_CONVERTER: &str = "VALUE_CONVERTER";
const KEY_CONVERTER: &str = "KEY_CONVERTER";

/// Every this many outputs one is kept alive until the thread's next batch (as
/// `Transcoder` batches do): CPython then reuses the arenas instead of unmapping them.
const KEEP_STRIDE: usize = 256;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Framing {
    Prefix,
    Header,
}

pub(crate) enum FilterKind {
    Tombstone,
    Header(String),
}

pub(crate) struct Filter {
    pub kind: FilterKind,
    pub negate: bool,
}

/// What stays the same from batch to batch: how records are framed, filtered and written.
#[pyclass(frozen, name = "BatchSpec", module = "avrobridge._native")]
pub struct PyBatchSpec {
    framing: Framing,
    pub(crate) transcode_keys: bool,
    preserve_partitions: bool,
    stop_at_failure: bool,
    pub(crate) filters: Vec<Filter>,
    /// Append topic, partition, offset, timestamp (each when set) after the value's body.
    metadata: [bool; 4],
}

#[pymethods]
impl PyBatchSpec {
    #[new]
    #[pyo3(signature = (
        *,
        framing = "prefix",
        transcode_keys = false,
        preserve_partitions = true,
        stop_at_failure = true,
        filters = Vec::new(),
        metadata = (false, false, false, false),
    ))]
    fn new(
        framing: &str,
        transcode_keys: bool,
        preserve_partitions: bool,
        stop_at_failure: bool,
        filters: Vec<(String, Option<String>, bool)>,
        metadata: (bool, bool, bool, bool),
    ) -> PyResult<Self> {
        let framing = match framing {
            "prefix" => Framing::Prefix,
            "header" => Framing::Header,
            other => {
                return Err(PyValueError::new_err(format!(
                    "framing must be 'prefix' or 'header', not {other:?}"
                )));
            }
        };
        let filters = filters
            .into_iter()
            .map(|(kind, header, negate)| {
                let kind = match (kind.as_str(), header) {
                    ("is_tombstone", _) => FilterKind::Tombstone,
                    ("has_header", Some(name)) => FilterKind::Header(name),
                    _ => {
                        return Err(PyValueError::new_err(format!(
                            "unknown record filter {kind:?} (is_tombstone, has_header NAME)"
                        )));
                    }
                };
                Ok(Filter { kind, negate })
            })
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyBatchSpec {
            framing,
            transcode_keys,
            preserve_partitions,
            stop_at_failure,
            filters,
            metadata: [metadata.0, metadata.1, metadata.2, metadata.3],
        })
    }
}

/// The result of one batch: what to produce, what failed, how far each partition got.
#[pyclass(frozen, name = "ConvertedBatch", module = "avrobridge._native")]
pub struct PyConvertedBatch {
    /// `produce(*args)` arguments of the sink records, in consumed order.
    #[pyo3(get)]
    produce: Py<PyList>,
    /// `(index, stage, exception)` of the records that could not be converted.
    #[pyo3(get)]
    failures: Py<PyList>,
    /// `(index, KafkaError)` of the consumed messages that were events, not records.
    #[pyo3(get)]
    events: Py<PyList>,
    /// `(topic, partition, next offset)` of every partition the handled records came from.
    #[pyo3(get)]
    offsets: Py<PyList>,
    /// Records handled: produced, filtered, or failed (before a stop).
    #[pyo3(get)]
    records: usize,
    #[pyo3(get)]
    tombstones: usize,
    #[pyo3(get)]
    filtered: usize,
    /// Records handled per source topic, and produced per sink topic.
    #[pyo3(get)]
    records_by_topic: Py<PyDict>,
    #[pyo3(get)]
    out_by_topic: Py<PyDict>,
    /// Values converted per writer schema reference (id, or GUID string).
    #[pyo3(get)]
    by_writer: Py<PyDict>,
    /// Writer references (value side, key side) and source topics with no entry yet.
    #[pyo3(get)]
    missing_value_refs: Py<PyList>,
    #[pyo3(get)]
    missing_key_refs: Py<PyList>,
    #[pyo3(get)]
    missing_topics: Py<PyList>,
    /// False when the batch stopped at a failure (`stop_at_failure`): records after it were
    /// not handled.
    #[pyo3(get)]
    complete: bool,
}

#[pymethods]
impl PyConvertedBatch {
    /// True when writer schemas or topics must be resolved before the batch can convert.
    #[getter]
    fn missing(&self, py: Python<'_>) -> bool {
        !(self.missing_value_refs.bind(py).is_empty()
            && self.missing_key_refs.bind(py).is_empty()
            && self.missing_topics.bind(py).is_empty())
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "ConvertedBatch(records={}, produce={}, failures={}, events={})",
            self.records,
            self.produce.bind(py).len(),
            self.failures.bind(py).len(),
            self.events.bind(py).len()
        )
    }
}

/// One transcoding job of phase two: input body, plan, sink frame to write first.
struct Job<'a> {
    plan: usize,
    body: &'a [u8],
    body_at: usize,
    prefix: &'a [u8],
    /// Metadata to append after the body (values only).
    meta: Option<(&'a str, i32, i64, i64)>,
}

fn run_job(
    job: &Job<'_>,
    plans: &[PlanRef],
    metadata: [bool; 4],
    buf: &mut Vec<u8>,
    scratch: &mut Vec<usize>,
    budget: &mut ItemBudget,
) -> Result<(usize, usize), Error> {
    let start = buf.len();
    let plan = plans
        .get(job.plan)
        .ok_or_else(|| Error::framing("internal: no plan for the record"))?;
    buf.extend_from_slice(job.prefix);
    let t = Transcoder {
        plan: &plan.plan,
        writer: &plan.writer,
    };
    if let Err(e) = t.transcode_into(job.body, buf, scratch, budget) {
        buf.truncate(start);
        return Err(super::transcoder::shift_offset(e, job.body_at));
    }
    if let Some((topic, partition, offset, timestamp)) = job.meta {
        if metadata[0] {
            write_long(buf, topic.len() as i64);
            buf.extend_from_slice(topic.as_bytes());
        }
        if metadata[1] {
            write_long(buf, i64::from(partition));
        }
        if metadata[2] {
            write_long(buf, offset);
        }
        if metadata[3] {
            write_long(buf, timestamp);
        }
    }
    Ok((start, buf.len()))
}

thread_local! {
    static BUFFER: std::cell::RefCell<(Vec<u8>, Vec<Py<PyAny>>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// Above this the output buffer is released after the batch instead of being kept.
const KEEP_BUFFER_BYTES: usize = 64 << 20;

/// Converts a batch of consumed messages. `value_plans`/`key_plans` map writer references
/// (int id, or GUID string) to a `Transcoder` or to the exception its records fail with;
/// `topics` maps each source topic to `(sink topic, value frame, key frame, dropped)`, where
/// a frame is the 5-byte prefix (prefix framing) or the id header's value (header framing)
/// and `dropped` says a topic filter drops the topic's records.
#[pyfunction]
#[pyo3(signature = (messages, spec, value_plans, key_plans, topics))]
pub(crate) fn convert_batch<'py>(
    py: Python<'py>,
    messages: &Bound<'py, PyList>,
    spec: &Bound<'py, PyBatchSpec>,
    value_plans: &Bound<'py, PyDict>,
    key_plans: Option<&Bound<'py, PyDict>>,
    topics: &Bound<'py, PyDict>,
) -> PyResult<PyConvertedBatch> {
    let spec = spec.get();
    if spec.transcode_keys && key_plans.is_none() {
        return Err(PyValueError::new_err("transcode_keys needs key_plans"));
    }
    let read = messages::read(py, messages, spec, value_plans, key_plans, topics)?;
    let messages::Read {
        records,
        entries,
        events,
        plans,
        missing_topics,
        missing_value_refs,
        missing_key_refs,
    } = read;
    let value_header = messages::VALUE_HEADER;
    let key_header = messages::KEY_HEADER;
    let missing = |refs: &[SchemaRef]| -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        for r in refs {
            out.append(ref_key(py, r)?)?;
        }
        Ok(out)
    };
    let missing_value_refs = missing(&missing_value_refs)?;
    let missing_key_refs = missing(&missing_key_refs)?;
    if !missing_topics.is_empty() || !missing_value_refs.is_empty() || !missing_key_refs.is_empty()
    {
        return Ok(PyConvertedBatch {
            produce: PyList::empty(py).unbind(),
            failures: PyList::empty(py).unbind(),
            events: events.unbind(),
            offsets: PyList::empty(py).unbind(),
            records: 0,
            tombstones: 0,
            filtered: 0,
            records_by_topic: PyDict::new(py).unbind(),
            out_by_topic: PyDict::new(py).unbind(),
            by_writer: PyDict::new(py).unbind(),
            missing_value_refs: missing_value_refs.unbind(),
            missing_key_refs: missing_key_refs.unbind(),
            missing_topics: PyList::new(py, missing_topics)?.unbind(),
            complete: false,
        });
    }

    // Phase two, without the GIL: every transcoding job into one buffer.
    let mut jobs: Vec<Job<'_>> = Vec::with_capacity(records.len() * 2);
    // Where each record's value and key jobs are (usize::MAX: none).
    let mut job_of: Vec<(usize, usize)> = Vec::with_capacity(records.len());
    let topic_texts: Vec<&str> = entries.iter().map(|e| e.text.as_str()).collect();
    for rec in &records {
        let entry = entries.get(rec.topic);
        let mut at = (usize::MAX, usize::MAX);
        if let (SideState::Convert { plan, body_at, .. }, Some(v), Some(e)) =
            (&rec.value_side, &rec.value, entry)
        {
            let bytes = v.as_bytes();
            at.0 = jobs.len();
            jobs.push(Job {
                plan: *plan,
                body: bytes.get(*body_at..).unwrap_or_default(),
                body_at: *body_at,
                prefix: if spec.framing == Framing::Prefix {
                    frame_of(&plans, *plan, &e.value_frame)
                } else {
                    &[]
                },
                meta: Some((
                    topic_texts.get(rec.topic).copied().unwrap_or_default(),
                    rec.partition,
                    rec.offset,
                    rec.timestamp,
                )),
            });
        }
        if let (SideState::Convert { plan, body_at, .. }, Some(e)) = (&rec.key_side, entry) {
            if let Ok(k) = rec.key.cast::<PyBytes>() {
                at.1 = jobs.len();
                jobs.push(Job {
                    plan: *plan,
                    body: k.as_bytes().get(*body_at..).unwrap_or_default(),
                    body_at: *body_at,
                    prefix: if spec.framing == Framing::Prefix {
                        frame_of(&plans, *plan, &e.key_frame)
                    } else {
                        &[]
                    },
                    meta: None,
                });
            }
        }
        job_of.push(at);
    }
    let metadata = spec.metadata;
    BUFFER.with(|cell| -> PyResult<PyConvertedBatch> {
        let mut guard = cell
            .try_borrow_mut()
            .map_err(|_| PyTypeError::new_err("re-entrant convert_batch call"))?;
        let (buf, keep) = &mut *guard;
        buf.clear();
        let total: usize = jobs.iter().map(|j| j.body.len() + j.prefix.len()).sum();
        buf.reserve(total + total / 8 + 16 * jobs.len());
        let plans = &plans;
        // One budget of zero-byte items for the whole batch (the largest any plan allows).
        let limit = plans
            .iter()
            .map(|p| p.limit)
            .max()
            .unwrap_or(DEFAULT_MAX_ZERO_BYTE_ITEMS);
        let slots: Vec<Result<(usize, usize), Error>> = py.detach(|| {
            let mut scratch = Vec::new();
            let mut budget = ItemBudget::new(limit);
            jobs.iter()
                .map(|j| run_job(j, plans, metadata, buf, &mut scratch, &mut budget))
                .collect()
        });

        // Phase three, with the GIL: the produce arguments, failures and counts, in order.
        let produce = PyList::empty(py);
        let failures = PyList::empty(py);
        let mut offsets: Vec<(usize, i32, i64)> = Vec::new();
        let mut by_writer: Vec<(SchemaRef, usize)> = Vec::new();
        let (mut handled, mut tombstones, mut filtered) = (0usize, 0usize, 0usize);
        let mut complete = true;
        // (records handled, records produced) per source topic.
        let mut per_topic = vec![(0usize, 0usize); entries.len()];
        let mut kept = Vec::with_capacity(records.len() / KEEP_STRIDE + 2);
        let none = py.None().into_bound(py);
        let value_stage = intern!(py, VALUE_CONVERTER);
        let key_stage = intern!(py, KEY_CONVERTER);
        for (rec, (value_job, key_job)) in records.iter().zip(&job_of) {
            let output = |job: usize| -> Option<&Result<(usize, usize), Error>> {
                if job == usize::MAX {
                    None
                } else {
                    slots.get(job)
                }
            };
            // A failure of the value side, else of the key side.
            let failure: Option<(&Bound<'py, PyString>, PyErr)> =
                match (&rec.value_side, output(*value_job)) {
                    (SideState::Failed(e), _) => Some((value_stage, e.clone_ref(py))),
                    (_, Some(Err(e))) => Some((value_stage, to_pyerr(e.clone(), None))),
                    _ => match (&rec.key_side, output(*key_job)) {
                        (SideState::Failed(e), _) => Some((key_stage, e.clone_ref(py))),
                        (_, Some(Err(e))) => Some((key_stage, to_pyerr(e.clone(), None))),
                        _ => None,
                    },
                };
            if let Some((stage, err)) = failure {
                failures.append((rec.index, stage, err.value(py)))?;
                if spec.stop_at_failure {
                    complete = false;
                    break;
                }
            } else if rec.filtered {
                filtered += 1;
            } else {
                let Some(entry) = entries.get(rec.topic) else {
                    continue;
                };
                let bytes_of = |slot: Option<&Result<(usize, usize), Error>>| match slot {
                    Some(Ok((start, end))) => {
                        Some(PyBytes::new(py, buf.get(*start..*end).unwrap_or_default()))
                    }
                    _ => None,
                };
                let value_out = match (&rec.value, bytes_of(output(*value_job))) {
                    (_, Some(b)) => b.into_any(),
                    (None, None) => {
                        tombstones += 1;
                        none.clone()
                    }
                    (Some(v), None) => v.clone().into_any(), // not converted (cannot happen)
                };
                let key_out = match bytes_of(output(*key_job)) {
                    Some(b) => b.into_any(),
                    None => rec.key.clone(),
                };
                let headers_out =
                    sink_headers(py, spec, rec, entry, plans, value_header, key_header)?;
                if kept.len() * KEEP_STRIDE <= produce.len() {
                    kept.push(value_out.clone().unbind());
                }
                let partition = if entry.preserve.unwrap_or(spec.preserve_partitions) {
                    rec.partition
                } else {
                    -1
                };
                let args = PyTuple::new(
                    py,
                    [
                        entry.sink.clone().into_any(),
                        value_out,
                        key_out,
                        partition.into_pyobject(py)?.into_any(),
                        none.clone(),
                        none.clone(),
                        rec.timestamp.into_pyobject(py)?.into_any(),
                        headers_out,
                    ],
                )?;
                produce.append(args)?;
                if let Some(c) = per_topic.get_mut(rec.topic) {
                    c.1 += 1;
                }
                if let (Some(w), Some(_)) = (rec.writer, &rec.value) {
                    match by_writer.iter_mut().find(|(r, _)| *r == w) {
                        Some((_, n)) => *n += 1,
                        None => by_writer.push((w, 1)),
                    }
                }
            }
            handled += 1;
            if let Some(c) = per_topic.get_mut(rec.topic) {
                c.0 += 1;
            }
            match offsets
                .iter_mut()
                .find(|(t, p, _)| *t == rec.topic && *p == rec.partition)
            {
                Some(entry) => entry.2 = entry.2.max(rec.offset + 1),
                None => offsets.push((rec.topic, rec.partition, rec.offset + 1)),
            }
        }
        *keep = kept;
        if buf.capacity() > KEEP_BUFFER_BYTES {
            *buf = Vec::new();
        }
        let offsets_out = PyList::empty(py);
        for (t, p, o) in offsets {
            if let Some(e) = entries.get(t) {
                offsets_out.append((e.name.clone(), p, o))?;
            }
        }
        let records_by_topic = PyDict::new(py);
        let out_by_topic = PyDict::new(py);
        for (e, (handled, out)) in entries.iter().zip(per_topic) {
            if handled > 0 {
                records_by_topic.set_item(&e.name, handled)?;
            }
            if out > 0 {
                let before: usize = match out_by_topic.get_item(&e.sink)? {
                    Some(n) => n.extract()?,
                    None => 0,
                };
                out_by_topic.set_item(&e.sink, before + out)?;
            }
        }
        let writers = PyDict::new(py);
        for (r, n) in by_writer {
            writers.set_item(ref_key(py, &r)?, n)?;
        }
        Ok(PyConvertedBatch {
            produce: produce.unbind(),
            failures: failures.unbind(),
            events: events.clone().unbind(),
            offsets: offsets_out.unbind(),
            records: handled,
            tombstones,
            filtered,
            records_by_topic: records_by_topic.unbind(),
            out_by_topic: out_by_topic.unbind(),
            by_writer: writers.unbind(),
            missing_value_refs: PyList::empty(py).unbind(),
            missing_key_refs: PyList::empty(py).unbind(),
            missing_topics: PyList::empty(py).unbind(),
            complete,
        })
    })
}

/// The sink frame of a record converted with `plan`: the plan's own, else the topic's.
fn frame_of<'a>(plans: &'a [PlanRef], plan: usize, topic_frame: &'a [u8]) -> &'a [u8] {
    match plans.get(plan).and_then(|p| p.frame.as_deref()) {
        Some(frame) => frame,
        None => topic_frame,
    }
}

fn side_frame<'a>(plans: &'a [PlanRef], side: &SideState, topic_frame: &'a [u8]) -> &'a [u8] {
    match side {
        SideState::Convert { plan, .. } => frame_of(plans, *plan, topic_frame),
        _ => topic_frame,
    }
}

/// The sink record's headers: the consumed ones, unless a converted side took its schema id
/// from a header or writes it to one (then that header is replaced or removed).
fn sink_headers<'py>(
    py: Python<'py>,
    spec: &PyBatchSpec,
    rec: &Record<'py>,
    entry: &TopicEntry<'py>,
    plans: &[PlanRef],
    value_header: &str,
    key_header: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let to_header = spec.framing == Framing::Header;
    let touches = |side: &SideState| match side {
        SideState::Convert { from_header, .. } => *from_header || to_header,
        _ => false,
    };
    let (value_touched, key_touched) = (touches(&rec.value_side), touches(&rec.key_side));
    if !value_touched && !key_touched {
        return Ok(match &rec.headers {
            Some(h) => h.clone().into_any(),
            None => py.None().into_bound(py),
        });
    }
    let out = PyList::empty(py);
    if let Some(headers) = &rec.headers {
        for item in headers.iter() {
            let name = item
                .cast::<PyTuple>()
                .ok()
                .and_then(|t| t.get_item(0).ok())
                .and_then(|k| {
                    k.cast::<PyString>()
                        .ok()
                        .and_then(|s| s.to_str().ok().map(str::to_owned))
                });
            let drop = match name.as_deref() {
                Some(n) => (value_touched && n == value_header) || (key_touched && n == key_header),
                None => false,
            };
            if !drop {
                out.append(item)?;
            }
        }
    }
    if to_header {
        if value_touched {
            let value = side_frame(plans, &rec.value_side, &entry.value_frame);
            out.append((value_header, PyBytes::new(py, value)))?;
        }
        if key_touched {
            let key = side_frame(plans, &rec.key_side, &entry.key_frame);
            out.append((key_header, PyBytes::new(py, key)))?;
        }
    }
    Ok(out.into_any())
}
