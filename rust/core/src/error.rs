//! The one error type of the core crate. Every variant names what went wrong and where
//! (file, field, row), because the messages reach users unchanged.

use std::path::PathBuf;

/// Errors raised by the store and the solvers.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An operating-system error on a file of the pool.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file of the pool does not match its checksum or cannot be decoded.
    #[error("corrupt pool file {path}: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    /// The path holds no pool, or already holds one.
    #[error("{path}: {reason}")]
    NotAPool { path: PathBuf, reason: String },
    /// Another process holds the writer lock.
    #[error("pool {path} is locked by another writer")]
    Locked { path: PathBuf },
    /// Bad user input; `field` names the column or argument, `row` the offending row if any.
    #[error("{}", format_invalid(field, *row, message))]
    InvalidInput {
        field: String,
        row: Option<usize>,
        message: String,
    },
    /// An id that the pool does not know.
    #[error("unknown {kind} id {id:?}{}", row.map(|r| format!(" (row {r})")).unwrap_or_default())]
    UnknownId {
        kind: &'static str,
        id: String,
        row: Option<usize>,
    },
    /// The comparison graph splits into parts that cannot be ranked against each other.
    #[error("comparison graph is disconnected: {components} components")]
    Disconnected { components: usize },
    /// A solver did not reach its tolerance.
    #[error("{method} did not converge in {iterations} iterations")]
    NotConverged { method: String, iterations: usize },
}

fn format_invalid(field: &str, row: Option<usize>, message: &str) -> String {
    match row {
        Some(row) => format!("{field}, row {row}: {message}"),
        None => format!("{field}: {message}"),
    }
}

impl Error {
    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid(
        field: impl Into<String>,
        row: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        Error::InvalidInput {
            field: field.into(),
            row,
            message: message.into(),
        }
    }

    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
