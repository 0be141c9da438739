//! Maps `onebench_core::Error` onto the Python exception hierarchy defined in
//! `onebench/exceptions.py` (defined in Python so that classes can inherit from both
//! `OnebenchError` and the matching builtin, e.g. `ValueError`).

use onebench_core::Error;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Wrapper so that `?` converts core errors into Python exceptions.
pub struct CoreError(pub Error);

impl From<Error> for CoreError {
    fn from(error: Error) -> Self {
        CoreError(error)
    }
}

impl From<CoreError> for PyErr {
    fn from(error: CoreError) -> PyErr {
        Python::attach(|py| to_python(py, &error.0).unwrap_or_else(|failure| failure))
    }
}

fn to_python(py: Python<'_>, error: &Error) -> PyResult<PyErr> {
    let (class_name, fields): (&str, Vec<(&str, Py<PyAny>)>) = match error {
        Error::Io { path, .. } => (
            "PoolIOError",
            vec![(
                "path",
                path.display()
                    .to_string()
                    .into_pyobject(py)?
                    .into_any()
                    .unbind(),
            )],
        ),
        Error::Corrupt { path, .. } => (
            "CorruptPoolError",
            vec![(
                "path",
                path.display()
                    .to_string()
                    .into_pyobject(py)?
                    .into_any()
                    .unbind(),
            )],
        ),
        Error::NotAPool { path, .. } => (
            "PoolNotFoundError",
            vec![(
                "path",
                path.display()
                    .to_string()
                    .into_pyobject(py)?
                    .into_any()
                    .unbind(),
            )],
        ),
        Error::Locked { path } => (
            "PoolLockedError",
            vec![(
                "path",
                path.display()
                    .to_string()
                    .into_pyobject(py)?
                    .into_any()
                    .unbind(),
            )],
        ),
        Error::InvalidInput { field, row, .. } => (
            "InvalidInputError",
            vec![
                (
                    "field",
                    field.clone().into_pyobject(py)?.into_any().unbind(),
                ),
                ("row", row.into_pyobject(py)?.into_any().unbind()),
            ],
        ),
        Error::UnknownId { kind, id, row } => (
            "UnknownIdError",
            vec![
                ("field", kind.into_pyobject(py)?.into_any().unbind()),
                ("id", id.clone().into_pyobject(py)?.into_any().unbind()),
                ("row", row.into_pyobject(py)?.into_any().unbind()),
            ],
        ),
        Error::Disconnected { .. } => ("DisconnectedGraphError", vec![]),
        Error::NotConverged { .. } => ("ConvergenceError", vec![]),
    };
    let exceptions = py.import("onebench.exceptions")?;
    let class = exceptions.getattr(class_name)?;
    let keywords = PyDict::new(py);
    for (key, value) in fields {
        keywords.set_item(key, value)?;
    }
    let instance = class.call((error.to_string(),), Some(&keywords))?;
    Ok(PyErr::from_value(instance))
}

/// An error for a binding-level argument problem (wrong length, bad option name).
pub fn invalid(field: &str, message: impl Into<String>) -> PyErr {
    CoreError(Error::invalid(field, None, message)).into()
}

#[allow(dead_code)]
pub fn internal(message: impl Into<String>) -> PyErr {
    PyRuntimeError::new_err(message.into())
}
