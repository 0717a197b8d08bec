//! Phase one of a batch (`batch.rs`), with the GIL held: each consumed
//! `confluent_kafka.Message` read once, its frames parsed, its plans found.
//!
//! The message's accessors are called through the method descriptors of its type, with one
//! reused argument tuple: calling `m.value()` by name would look the method up on every call,
//! eight times per record.

use pyo3::exceptions::{PyBaseException, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple, PyType};
use std::sync::Arc;

use super::batch::{FilterKind, PyBatchSpec};
use super::errors::to_pyerr;
use super::transcoder::PyTranscoder;
use crate::error::Error;
use crate::framing::{self, SchemaRef};
use crate::resolve::Plan;
use crate::schema::Schema;

pub(crate) const VALUE_HEADER: &str = "__value_schema_id";
pub(crate) const KEY_HEADER: &str = "__key_schema_id";

/// A compiled plan of the batch (one per writer reference and side).
pub(crate) struct PlanRef {
    pub plan: Arc<Plan>,
    pub writer: Arc<Schema>,
    /// The transcoder's `max_zero_byte_items`.
    pub limit: usize,
    /// The sink frame of this writer's records, when the plan carries its own (a copy
    /// between registries: each writer schema has its own sink id); else the topic's.
    pub frame: Option<Vec<u8>>,
}

/// How one side of one record converts.
pub(crate) enum SideState {
    /// Nothing to do: a tombstone (no value) or a null key.
    Null,
    /// Transcode `body_at..` of the payload with plan `plan`, framed with the sink's frame.
    Convert {
        plan: usize,
        body_at: usize,
        from_header: bool,
    },
    Failed(PyErr),
}

/// Per source topic: its sink and frames, as the caller resolved them.
pub(crate) struct TopicEntry<'py> {
    pub name: Bound<'py, PyString>,
    pub text: String,
    pub sink: Bound<'py, PyString>,
    pub value_frame: Vec<u8>,
    pub key_frame: Vec<u8>,
    pub dropped: bool,
    /// Whether records keep their partition number (None: as the spec says).
    pub preserve: Option<bool>,
}

pub(crate) struct Record<'py> {
    pub index: usize,
    pub topic: usize,
    pub partition: i32,
    pub offset: i64,
    pub value: Option<Bound<'py, PyBytes>>,
    pub key: Bound<'py, PyAny>,
    pub timestamp: i64,
    pub headers: Option<Bound<'py, PyList>>,
    pub filtered: bool,
    pub value_side: SideState,
    pub key_side: SideState,
    pub writer: Option<SchemaRef>,
}

/// Everything phase one found.
pub(crate) struct Read<'py> {
    pub records: Vec<Record<'py>>,
    pub entries: Vec<TopicEntry<'py>>,
    pub events: Bound<'py, PyList>,
    pub plans: Vec<PlanRef>,
    pub missing_topics: Vec<Bound<'py, PyString>>,
    pub missing_value_refs: Vec<SchemaRef>,
    pub missing_key_refs: Vec<SchemaRef>,
}

/// The value of the first header named `name` (None when absent).
pub(crate) fn header_value<'py>(
    headers: &Bound<'py, PyList>,
    name: &str,
) -> Option<Bound<'py, PyAny>> {
    for item in headers.iter() {
        let Ok(pair) = item.cast::<PyTuple>() else {
            continue;
        };
        if let (Ok(k), Ok(v)) = (pair.get_item(0), pair.get_item(1)) {
            if k.cast::<PyString>().ok().and_then(|s| s.to_str().ok()) == Some(name) {
                return Some(v);
            }
        }
    }
    None
}

/// The Python key of a writer reference in the plan dicts: the int id, or the GUID string.
pub(crate) fn ref_key<'py>(py: Python<'py>, r: &SchemaRef) -> PyResult<Bound<'py, PyAny>> {
    Ok(match r {
        SchemaRef::Id(id) => id.into_pyobject(py)?.into_any(),
        SchemaRef::Guid(g) => PyString::new(py, &SchemaRef::guid_string(g)).into_any(),
    })
}

/// The plans of one side, found by writer reference (a batch names few: a list beats a map).
struct Plans<'a, 'py> {
    dict: &'a Bound<'py, PyDict>,
    found: Vec<(SchemaRef, Result<usize, Option<PyErr>>)>,
    missing: Vec<SchemaRef>,
}

impl Plans<'_, '_> {
    fn side(
        &mut self,
        plans: &mut Vec<PlanRef>,
        r: SchemaRef,
        body_at: usize,
        from_header: bool,
    ) -> PyResult<SideState> {
        let py = self.dict.py();
        let at = match self.found.iter().rposition(|(known, _)| *known == r) {
            Some(at) => at,
            None => {
                let entry = match self.dict.get_item(ref_key(py, &r)?)? {
                    None => {
                        self.missing.push(r);
                        Err(None)
                    }
                    Some(found) => {
                        // A Transcoder, or (Transcoder, sink frame).
                        let (plan, frame) = match found.cast::<PyTuple>() {
                            Ok(pair) if pair.len() == 2 => {
                                let frame: Vec<u8> = pair.get_item(1)?.extract()?;
                                (pair.get_item(0)?, Some(frame))
                            }
                            _ => (found.clone(), None),
                        };
                        if let Ok(t) = plan.cast::<PyTranscoder>() {
                            let t = t.get();
                            plans.push(PlanRef {
                                plan: t.plan.clone(),
                                writer: t.writer_schema.clone(),
                                limit: t.max_zero_byte_items,
                                frame,
                            });
                            Ok(plans.len() - 1)
                        } else if found.is_instance_of::<PyBaseException>() {
                            Err(Some(PyErr::from_value(found)))
                        } else {
                            return Err(PyTypeError::new_err(
                                "plans map writer references to Transcoders, (Transcoder, frame) pairs or \
                                 exceptions",
                            ));
                        }
                    }
                };
                self.found.push((r, entry));
                self.found.len() - 1
            }
        };
        Ok(match self.found.get(at) {
            Some((_, Ok(plan))) => SideState::Convert {
                plan: *plan,
                body_at,
                from_header,
            },
            Some((_, Err(Some(e)))) => SideState::Failed(e.clone_ref(py)),
            _ => SideState::Null, // missing: the batch is returned unconverted
        })
    }
}

/// Where one side's writer reference is: the id header when the record has one, else the
/// payload's own prefix.
fn locate(
    payload: &[u8],
    headers: Option<&Bound<'_, PyList>>,
    header_name: &str,
    what: &str,
) -> Result<(SchemaRef, usize, bool), Error> {
    if let Some(value) = headers.and_then(|h| header_value(h, header_name)) {
        let Ok(bytes) = value.cast::<PyBytes>() else {
            return Err(Error::framing(format!(
                "header {header_name} is not bytes: no Confluent schema id"
            )));
        };
        let (r, _) = framing::parse_ref(bytes.as_bytes(), &format!("header {header_name}"))?;
        return Ok((r, 0, true));
    }
    let (r, body_at) = framing::parse_ref(payload, what)?;
    Ok((r, body_at, false))
}

const NAMES: [&str; 8] = [
    "error",
    "topic",
    "partition",
    "offset",
    "value",
    "key",
    "timestamp",
    "headers",
];
const ERROR: usize = 0;
const TOPIC: usize = 1;
const PARTITION: usize = 2;
const OFFSET: usize = 3;
const VALUE: usize = 4;
const KEY: usize = 5;
const TIMESTAMP: usize = 6;
const HEADERS: usize = 7;

/// Calls a message's accessors through its type's method descriptors.
struct Accessors<'py> {
    kind: Bound<'py, PyType>,
    methods: Vec<Bound<'py, PyAny>>,
    /// `(message,)`, the one argument of every call; its item is swapped per message.
    arg: Bound<'py, PyTuple>,
}

impl<'py> Accessors<'py> {
    fn new(first: &Bound<'py, PyAny>) -> PyResult<Self> {
        let kind = first.get_type();
        let methods = NAMES
            .iter()
            .map(|name| kind.getattr(*name))
            .collect::<PyResult<Vec<_>>>()?;
        let arg = PyTuple::new(first.py(), [first])?;
        Ok(Accessors { kind, methods, arg })
    }

    /// Makes `m` the argument of the calls that follow.
    fn select(&self, m: &Bound<'py, PyAny>) -> PyResult<()> {
        if !m.get_type().is(&self.kind) {
            return Err(PyTypeError::new_err(format!(
                "a batch holds messages of one type ({}), not {}",
                self.kind.name()?,
                m.get_type().name()?
            )));
        }
        // SAFETY: `arg` is a 1-tuple only this struct references (refcount 1, as
        // PyTuple_SetItem requires); the call steals the new reference to `m` and releases
        // the previous item.
        let status =
            unsafe { pyo3::ffi::PyTuple_SetItem(self.arg.as_ptr(), 0, m.clone().into_ptr()) };
        if status != 0 {
            return Err(PyErr::fetch(m.py()));
        }
        Ok(())
    }

    fn call(&self, which: usize) -> PyResult<Bound<'py, PyAny>> {
        let py = self.arg.py();
        let method = self
            .methods
            .get(which)
            .ok_or_else(|| PyTypeError::new_err("internal: no such accessor"))?;
        // SAFETY: both pointers are valid objects kept alive by `self`; the result is a new
        // reference or NULL with an exception set.
        unsafe {
            Bound::from_owned_ptr_or_err(
                py,
                pyo3::ffi::PyObject_Call(method.as_ptr(), self.arg.as_ptr(), std::ptr::null_mut()),
            )
        }
    }
}

/// Phase one over every message of the batch.
pub(crate) fn read<'py>(
    py: Python<'py>,
    messages: &Bound<'py, PyList>,
    spec: &PyBatchSpec,
    value_plans: &Bound<'py, PyDict>,
    key_plans: Option<&Bound<'py, PyDict>>,
    topics: &Bound<'py, PyDict>,
) -> PyResult<Read<'py>> {
    let events = PyList::empty(py);
    let mut entries: Vec<TopicEntry<'py>> = Vec::new();
    let mut missing_topics: Vec<Bound<'py, PyString>> = Vec::new();
    let mut plans: Vec<PlanRef> = Vec::new();
    let mut value_lookup = Plans {
        dict: value_plans,
        found: Vec::new(),
        missing: Vec::new(),
    };
    let empty = PyDict::new(py);
    let mut key_lookup = Plans {
        dict: key_plans.unwrap_or(&empty),
        found: Vec::new(),
        missing: Vec::new(),
    };
    let mut records: Vec<Record<'py>> = Vec::with_capacity(messages.len());
    let accessors = match messages.len() {
        0 => None,
        _ => Some(Accessors::new(&messages.get_item(0)?)?),
    };
    for (index, m) in messages.iter().enumerate() {
        let Some(get) = &accessors else { break };
        get.select(&m)?;
        let error = get.call(ERROR)?;
        if !error.is_none() {
            events.append((index, error))?;
            continue;
        }
        let topic = get.call(TOPIC)?.cast_into::<PyString>()?;
        let topic_idx = {
            let text = topic.to_str()?;
            match entries.iter().rposition(|e| e.text == text) {
                Some(i) => i,
                None => match topics.get_item(&topic)? {
                    Some(entry) => {
                        // (sink, value frame, key frame, dropped[, preserve partitions])
                        let entry = entry.cast_into::<PyTuple>()?;
                        let preserve: Option<bool> = match entry.len() {
                            5 => Some(entry.get_item(4)?.extract()?),
                            _ => None,
                        };
                        let (sink, value_frame, key_frame, dropped): (
                            Bound<'py, PyString>,
                            Vec<u8>,
                            Option<Vec<u8>>,
                            bool,
                        ) = entry.get_slice(0, 4).extract()?;
                        entries.push(TopicEntry {
                            preserve,
                            text: text.to_owned(),
                            name: topic.clone(),
                            sink,
                            value_frame,
                            key_frame: key_frame.unwrap_or_default(),
                            dropped,
                        });
                        entries.len() - 1
                    }
                    None => {
                        if !missing_topics.iter().any(|t| t.to_str().ok() == Some(text)) {
                            missing_topics.push(topic.clone());
                        }
                        continue;
                    }
                },
            }
        };
        let partition: i32 = get.call(PARTITION)?.extract()?;
        let offset: i64 = get.call(OFFSET)?.extract()?;
        let value = get.call(VALUE)?;
        let value = if value.is_none() {
            None
        } else {
            Some(value.cast_into::<PyBytes>()?)
        };
        let key = get.call(KEY)?;
        let (kind, ts): (i32, i64) = get.call(TIMESTAMP)?.extract()?;
        let headers = get.call(HEADERS)?;
        let headers = if headers.is_none() {
            None
        } else {
            Some(headers.cast_into::<PyList>()?)
        };
        let mut filtered = entries.get(topic_idx).is_some_and(|e| e.dropped);
        for f in &spec.filters {
            let hit = match &f.kind {
                FilterKind::Tombstone => value.is_none(),
                FilterKind::Header(name) => headers
                    .as_ref()
                    .is_some_and(|h| header_value(h, name).is_some()),
            };
            if hit != f.negate {
                filtered = true;
            }
        }
        let mut writer = None;
        let value_side = match &value {
            _ if filtered => SideState::Null,
            None => SideState::Null,
            Some(v) => match locate(v.as_bytes(), headers.as_ref(), VALUE_HEADER, "value") {
                Ok((r, body_at, from_header)) => {
                    writer = Some(r);
                    value_lookup.side(&mut plans, r, body_at, from_header)?
                }
                Err(e) => SideState::Failed(to_pyerr(e, None)),
            },
        };
        let key_side = if !spec.transcode_keys || filtered || key.is_none() {
            SideState::Null
        } else {
            match key.cast::<PyBytes>() {
                Err(_) => SideState::Failed(to_pyerr(
                    Error::framing("key is not bytes: no Confluent schema id"),
                    None,
                )),
                Ok(k) => match locate(k.as_bytes(), headers.as_ref(), KEY_HEADER, "key") {
                    Ok((r, body_at, from_header)) => {
                        key_lookup.side(&mut plans, r, body_at, from_header)?
                    }
                    Err(e) => SideState::Failed(to_pyerr(e, None)),
                },
            }
        };
        records.push(Record {
            index,
            topic: topic_idx,
            partition,
            offset,
            value,
            key,
            // librdkafka reports "no timestamp" as type 0; produce's 0 means "now".
            timestamp: if kind == 0 { 0 } else { ts },
            headers,
            filtered,
            value_side,
            key_side,
            writer,
        });
    }
    Ok(Read {
        records,
        entries,
        events,
        plans,
        missing_topics,
        missing_value_refs: value_lookup.missing,
        missing_key_refs: key_lookup.missing,
    })
}
