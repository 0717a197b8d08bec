//! avrobridge's core: Avro schemas compiled into plans, the binary codec, schema resolution
//! and bytes-to-bytes transcoding. The pure-Rust modules below know nothing of Python; the
//! `py` module (feature `python`) is the only one that does.

pub mod calendar;
pub mod compat;
pub mod container;
pub mod error;
pub mod framing;
pub mod logical;
pub mod matching;
pub mod resolve;
pub mod rules;
pub mod schema;
pub mod transcode;
pub mod wire;

#[cfg(feature = "python")]
mod py;

pub use error::{Error, Result};
pub use schema::{Fingerprint, Schema};
