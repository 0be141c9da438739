//! Ranking entry points: option parsing and result conversion.

use std::sync::Arc;

use numpy::{IntoPyArray, PyReadonlyArray1};
use onebench_core::rank::{
    item_diagnostics, rank, FormChoice, FormReport, Interval, ItemDiagnostics, JointForm,
    JointSolution, Method, RankOptions, RankResult,
};
use onebench_core::store::Pool;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::convert::subset_indexes;
use crate::errors::invalid;
use crate::pool::PoolCore;

/// A joint fit's whole solution, opaque to Python: handed back as the warm start of a
/// later fit (see `onebench.ranking`).
#[pyclass(frozen, module = "onebench._core")]
pub struct Solution {
    inner: Arc<JointSolution>,
}

impl Solution {
    fn shared(&self) -> Arc<JointSolution> {
        Arc::clone(&self.inner)
    }
}

#[pymethods]
impl Solution {
    /// The solution as versioned bytes, for the fit store (`onebench._fit_store`).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_bytes())
    }

    /// Reads `to_bytes`' layout back; a ValueError for bytes of another format version
    /// or a damaged copy.
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Solution> {
        JointSolution::from_bytes(data)
            .map(|inner| Solution {
                inner: Arc::new(inner),
            })
            .ok_or_else(|| PyValueError::new_err("not a joint solution of this format version"))
    }
}

/// Validated ranking options, owned so that they can cross into GIL-free work.
pub struct RankArguments {
    options: RankOptions,
}

impl RankArguments {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        method: &str,
        alpha: f64,
        ci_level: f64,
        interval: &str,
        replicates: usize,
        seed: u64,
        tolerance: f64,
        max_iterations: usize,
        initial: Option<PyReadonlyArray1<'_, f64>>,
        min_samples: u64,
        initial_solution: Option<&Solution>,
        form: &str,
    ) -> PyResult<Self> {
        let method = Method::parse(method).ok_or_else(|| {
            invalid(
                "method",
                format!(
                    "unknown method {method:?}; choose one of {}",
                    method_names().join(", ")
                ),
            )
        })?;
        let interval = match interval {
            "none" => Interval::None,
            "fisher" => Interval::Fisher,
            "bootstrap" => Interval::Bootstrap { replicates, seed },
            other => {
                return Err(invalid(
                    "interval",
                    format!("unknown interval {other:?}; choose none, fisher or bootstrap"),
                ))
            }
        };
        let form = match form {
            "auto" => FormChoice::Auto,
            name => FormChoice::Given(JointForm::parse(name).ok_or_else(|| {
                invalid(
                    "form",
                    format!(
                        "unknown form {name:?}; choose auto, core, full, or core with parts \
                         joined by '+' (core+spreads, core+deviations+measurer, ...)"
                    ),
                )
            })?),
        };
        if method != Method::Joint && form != FormChoice::Auto {
            return Err(invalid(
                "form",
                format!("a form is only for the joint method, not {}", method.name()),
            ));
        }
        let initial = initial
            .map(|array| array.as_slice().map(<[f64]>::to_vec))
            .transpose()
            .map_err(|_| invalid("initial", "must be a contiguous float64 array"))?;
        Ok(RankArguments {
            options: RankOptions {
                method,
                alpha,
                ci_level,
                interval,
                tolerance,
                max_iterations,
                initial,
                initial_solution: initial_solution.map(Solution::shared),
                min_samples,
                form,
            },
        })
    }
}

/// Every method name, in the order they are documented.
pub fn method_names() -> Vec<&'static str> {
    [
        Method::PlackettLuce,
        Method::BradleyTerry,
        Method::Elo,
        Method::Borda,
        Method::Mean,
        Method::Joint,
        Method::OneBench,
    ]
    .into_iter()
    .map(Method::name)
    .collect()
}

/// The names of the ranking methods.
#[pyfunction]
pub fn rank_dataset_methods() -> Vec<&'static str> {
    method_names()
}

/// Fits `arguments` on the pool's dataset; called with the GIL released.
pub fn rank_pool(
    pool: &mut Pool,
    subset: Option<&[u32]>,
    arguments: RankArguments,
) -> onebench_core::Result<RankResult> {
    let dataset = pool.dataset()?;
    rank(dataset, subset, &arguments.options)
}

pub fn result_to_dict(py: Python<'_>, result: RankResult) -> PyResult<Bound<'_, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("method", result.method)?;
    dict.set_item("scores", result.scores.into_pyarray(py))?;
    dict.set_item("ci_low", result.ci_low.into_pyarray(py))?;
    dict.set_item("ci_high", result.ci_high.into_pyarray(py))?;
    dict.set_item("rank", result.rank.into_pyarray(py))?;
    dict.set_item("rank_low", result.rank_low.into_pyarray(py))?;
    dict.set_item("rank_high", result.rank_high.into_pyarray(py))?;
    dict.set_item("n_measurements", result.n_measurements.into_pyarray(py))?;
    dict.set_item("n_samples", result.n_samples.into_pyarray(py))?;
    dict.set_item("ranked", result.ranked.into_pyarray(py))?;
    dict.set_item("disconnected", result.disconnected)?;
    dict.set_item("hidden", result.hidden.into_pyarray(py))?;
    dict.set_item("iterations", result.iterations)?;
    dict.set_item("converged", result.converged)?;
    dict.set_item("unconverged_replicates", result.unconverged_replicates)?;
    dict.set_item("notes", &result.notes)?;
    let solution = result.solution.map(|inner| Solution { inner });
    dict.set_item("solution", solution)?;
    let model_form = result
        .model_form
        .map(|report| form_to_dict(py, &report))
        .transpose()?;
    dict.set_item("model_form", model_form)?;
    Ok(dict)
}

fn form_to_dict<'py>(py: Python<'py>, report: &FormReport) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("form", report.form.name())?;
    dict.set_item("parts", report.form.parts())?;
    dict.set_item("chosen_by", report.chosen_by)?;
    dict.set_item("reason", &report.reason)?;
    dict.set_item("measurements", report.measurements)?;
    let candidates = report
        .candidates
        .iter()
        .map(|candidate| {
            let entry = PyDict::new(py);
            entry.set_item("form", candidate.form.name())?;
            entry.set_item("parts", candidate.form.parts())?;
            entry.set_item("log_likelihood", candidate.log_likelihood)?;
            entry.set_item("gain", candidate.gain)?;
            entry.set_item("standard_error", candidate.standard_error)?;
            entry.set_item("kept", candidate.kept)?;
            Ok(entry)
        })
        .collect::<PyResult<Vec<_>>>()?;
    dict.set_item("candidates", candidates)?;
    Ok(dict)
}

/// Item diagnostics of the joint model on the pool's dataset; called with the GIL
/// released.
pub fn diagnose_pool(
    pool: &mut Pool,
    subset: Option<&[u32]>,
    alpha: f64,
    tolerance: f64,
    max_iterations: usize,
    initial_solution: Option<Arc<JointSolution>>,
) -> onebench_core::Result<ItemDiagnostics> {
    let options = RankOptions {
        method: Method::Joint,
        alpha,
        interval: Interval::None,
        tolerance,
        max_iterations,
        initial_solution,
        ..Default::default()
    };
    let dataset = pool.dataset()?;
    item_diagnostics(dataset, subset, &options)
}

pub fn diagnostics_to_dict(
    py: Python<'_>,
    diagnostics: ItemDiagnostics,
) -> PyResult<Bound<'_, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("samples", diagnostics.samples.into_pyarray(py))?;
    dict.set_item("n_models", diagnostics.n_models.into_pyarray(py))?;
    dict.set_item("difficulty", diagnostics.difficulty.into_pyarray(py))?;
    dict.set_item(
        "discrimination",
        diagnostics.discrimination.into_pyarray(py),
    )?;
    dict.set_item(
        "discrimination_se",
        diagnostics.discrimination_se.into_pyarray(py),
    )?;
    dict.set_item("flagged", diagnostics.flagged.into_pyarray(py))?;
    dict.set_item("iterations", diagnostics.iterations)?;
    Ok(dict)
}

#[pymethods]
impl PoolCore {
    #[pyo3(signature = (subset, method, alpha, ci_level, interval, replicates, seed, tolerance, max_iterations, initial=None, min_samples=0, initial_solution=None, form="auto"))]
    #[allow(clippy::too_many_arguments)]
    fn rank<'py>(
        &self,
        py: Python<'py>,
        subset: Option<PyReadonlyArray1<'py, u32>>,
        method: &str,
        alpha: f64,
        ci_level: f64,
        interval: &str,
        replicates: usize,
        seed: u64,
        tolerance: f64,
        max_iterations: usize,
        initial: Option<PyReadonlyArray1<'py, f64>>,
        min_samples: u64,
        initial_solution: Option<PyRef<'py, Solution>>,
        form: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let arguments = RankArguments::new(
            method,
            alpha,
            ci_level,
            interval,
            replicates,
            seed,
            tolerance,
            max_iterations,
            initial,
            min_samples,
            initial_solution.as_deref(),
            form,
        )?;
        let subset = subset_indexes(subset)?;
        let result = self.detached(py, |pool| rank_pool(pool, subset.as_deref(), arguments))?;
        result_to_dict(py, result)
    }

    /// Per-sample difficulty and discrimination under the joint model (see
    /// `onebench.Pool.item_diagnostics`).
    #[pyo3(signature = (subset, alpha, tolerance, max_iterations, initial_solution=None))]
    fn item_diagnostics<'py>(
        &self,
        py: Python<'py>,
        subset: Option<PyReadonlyArray1<'py, u32>>,
        alpha: f64,
        tolerance: f64,
        max_iterations: usize,
        initial_solution: Option<PyRef<'py, Solution>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let initial_solution = initial_solution.as_deref().map(Solution::shared);
        let subset = subset_indexes(subset)?;
        let diagnostics = self.detached(py, |pool| {
            diagnose_pool(
                pool,
                subset.as_deref(),
                alpha,
                tolerance,
                max_iterations,
                initial_solution,
            )
        })?;
        diagnostics_to_dict(py, diagnostics)
    }
}
