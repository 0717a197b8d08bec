//! The process-wide plan cache of `decode(..., reader=...)` (and `decode_many`): a plan per
//! (writer, reader) schema pair, so a call with a reader schema builds its plan once. At most
//! `PLAN_CACHE_LIMIT` plans; a full cache is emptied rather than evicted piecemeal.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;

use super::PySchema;
use crate::error::Error;
use crate::resolve::{Plan, build_plan};
use crate::rules::PLAN_CACHE_LIMIT;
use crate::schema::Schema;
use crate::transcode::Transcoder;
use crate::wire::ItemBudget;

/// Plans built for `decode(..., reader=...)`, keyed by the two schemas' identities (the
/// Arcs are kept, so an address cannot be reused while its entry lives).
type PlanKey = (usize, usize);
type PlanEntry = (Arc<Schema>, Arc<Schema>, Arc<Plan>);
static PLAN_CACHE: Mutex<Option<HashMap<PlanKey, PlanEntry>>> = Mutex::new(None);

fn cached_plan(writer: &Arc<Schema>, reader: &Arc<Schema>) -> Result<Arc<Plan>, Error> {
    let key = (Arc::as_ptr(writer) as usize, Arc::as_ptr(reader) as usize);
    if let Ok(guard) = PLAN_CACHE.lock() {
        if let Some((_, _, plan)) = guard.as_ref().and_then(|m| m.get(&key)) {
            return Ok(plan.clone());
        }
    }
    let plan = Arc::new(build_plan(writer, reader)?);
    if let Ok(mut guard) = PLAN_CACHE.lock() {
        let map = guard.get_or_insert_with(HashMap::new);
        if map.len() >= PLAN_CACHE_LIMIT {
            map.clear();
        }
        map.insert(key, (writer.clone(), reader.clone(), plan.clone()));
    }
    Ok(plan)
}

/// Transcodes `data` from `writer` to `reader` for decoding with resolution.
pub(crate) fn resolve_bytes(
    writer: &Bound<'_, PySchema>,
    reader: &Bound<'_, PySchema>,
    data: &[u8],
    budget: &mut ItemBudget,
) -> Result<Vec<u8>, Error> {
    let (w, r) = (writer.get().schema.clone(), reader.get().schema.clone());
    let plan = cached_plan(&w, &r)?;
    let mut out = Vec::with_capacity(data.len() + 16);
    Transcoder {
        plan: &plan,
        writer: &w,
    }
    .transcode_into(data, &mut out, &mut Vec::new(), budget)?;
    Ok(out)
}
