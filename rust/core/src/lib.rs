//! onebench-core: the sample pool store and the ranking solvers of onebench.
//!
//! Pure Rust, no Python: the `onebench-python` crate wraps it. Data flows one way:
//! [`store`] persists samples, models and measurements and builds a columnar
//! [`data::Dataset`]; [`rank`] fits models on any subset of it.

pub mod data;
pub mod error;
pub mod rank;
pub mod store;

pub use data::Dataset;
pub use error::{Error, Result};
