//! One error type for the crate. `py/errors.rs` maps each variant onto the Python class of
//! the same name in `avrobridge.errors`.

use std::fmt;

/// Where in the data an error happened: segments are pushed while the error unwinds, so they
/// are stored innermost first and rendered reversed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataPath(Vec<String>);

impl DataPath {
    pub fn push(&mut self, segment: impl Into<String>) {
        self.0.push(segment.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `/phoneNumber/areaCode`, `/emails/3`; empty for the top level.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for seg in self.0.iter().rev() {
            out.push('/');
            out.push_str(seg);
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The schema JSON is invalid; `path` is a JSON-pointer-like path into it.
    Schema { message: String, path: String },
    /// The bytes are not a valid encoding. `offset` is the byte offset of the failing read.
    Decode {
        message: String,
        offset: usize,
        path: DataPath,
    },
    /// A value cannot be encoded; `path` names the field.
    Encode { message: String, path: DataPath },
    /// Writer and reader schemas do not resolve; one line per incompatibility.
    Resolution {
        message: String,
        messages: Vec<String>,
    },
    /// A record is not in the expected wire framing.
    Framing { message: String },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn schema(message: impl Into<String>, path: impl Into<String>) -> Self {
        Error::Schema {
            message: message.into(),
            path: path.into(),
        }
    }

    pub fn decode(message: impl Into<String>, offset: usize) -> Self {
        Error::Decode {
            message: message.into(),
            offset,
            path: DataPath::default(),
        }
    }

    pub fn encode(message: impl Into<String>) -> Self {
        Error::Encode {
            message: message.into(),
            path: DataPath::default(),
        }
    }

    pub fn framing(message: impl Into<String>) -> Self {
        Error::Framing {
            message: message.into(),
        }
    }

    /// Adds a path segment (a field name, an array index, a map key) while unwinding.
    pub fn at(mut self, segment: impl Into<String>) -> Self {
        match &mut self {
            Error::Decode { path, .. } | Error::Encode { path, .. } => path.push(segment),
            _ => {}
        }
        self
    }

    /// The message as shown to users, with the location folded in.
    pub fn full_message(&self) -> String {
        match self {
            Error::Schema { message, path } if path.is_empty() => {
                format!("invalid schema: {message}")
            }
            Error::Schema { message, path } => format!("invalid schema at {path}: {message}"),
            Error::Decode {
                message,
                offset,
                path,
            } if path.is_empty() => {
                format!("cannot decode at byte {offset}: {message}")
            }
            Error::Decode {
                message,
                offset,
                path,
            } => {
                format!(
                    "cannot decode {} at byte {offset}: {message}",
                    path.render()
                )
            }
            Error::Encode { message, path } if path.is_empty() => {
                format!("cannot encode: {message}")
            }
            Error::Encode { message, path } => {
                format!("cannot encode {}: {message}", path.render())
            }
            Error::Resolution { message, .. } => message.clone(),
            Error::Framing { message } => message.clone(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full_message())
    }
}

impl std::error::Error for Error {}
