//! `onebench._core`: thin PyO3 bindings over `onebench-core`.
//!
//! This crate only converts types, releases the GIL around long work and maps core
//! errors onto `onebench.exceptions`. Docstrings live on the Python classes that wrap
//! these objects (`onebench.Pool`, `onebench.Leaderboard`).

mod convert;
mod errors;
mod pool;
mod rank;
mod reads;

use pyo3::prelude::*;

#[pymodule]
fn _core(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add_class::<pool::PoolCore>()?;
    module.add_class::<rank::Solution>()?;
    module.add_function(wrap_pyfunction!(rank::rank_dataset_methods, module)?)?;
    Ok(())
}
