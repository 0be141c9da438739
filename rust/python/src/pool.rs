//! `PoolCore`: the Rust pool behind `onebench.Pool`: opening, writes and lookups here;
//! its reads are in `reads.rs` and its ranking in `rank.rs` (one `#[pymethods]` block
//! each, as py-polars splits its classes).

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use onebench_core::store::{Commit, Pool, Provenance};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{
    measurement_batch, model_records, report, sample_records, CardinalArgument, ModelColumns,
    PairwiseArgument, RankingArgument, SampleColumns,
};
use crate::errors::{invalid, CoreError};

#[pyclass(frozen, module = "onebench._core")]
pub struct PoolCore {
    pub(crate) inner: Mutex<Pool>,
}

impl PoolCore {
    pub(crate) fn lock(&self) -> PyResult<MutexGuard<'_, Pool>> {
        self.inner
            .lock()
            .map_err(|_| invalid("pool", "an earlier operation on this pool panicked"))
    }

    /// Runs `work` on the pool with the GIL released; the mutex is taken after the GIL
    /// is let go, so a thread waiting for the pool never blocks other Python threads.
    pub(crate) fn detached<T, F>(&self, py: Python<'_>, work: F) -> PyResult<T>
    where
        T: Send,
        F: FnOnce(&mut Pool) -> onebench_core::Result<T> + Send,
    {
        let outcome = py.detach(|| -> PyResult<onebench_core::Result<T>> {
            let mut pool = self.lock()?;
            Ok(work(&mut pool))
        })?;
        Ok(outcome.map_err(CoreError)?)
    }
}

#[pymethods]
impl PoolCore {
    #[staticmethod]
    fn create(py: Python<'_>, path: PathBuf) -> PyResult<PoolCore> {
        let pool = py.detach(|| Pool::create(&path)).map_err(CoreError)?;
        Ok(PoolCore {
            inner: Mutex::new(pool),
        })
    }

    #[staticmethod]
    fn open(py: Python<'_>, path: PathBuf) -> PyResult<PoolCore> {
        let pool = py.detach(|| Pool::open(&path)).map_err(CoreError)?;
        Ok(PoolCore {
            inner: Mutex::new(pool),
        })
    }

    fn refresh(&self, py: Python<'_>) -> PyResult<bool> {
        self.detached(py, |pool| pool.refresh())
    }

    #[getter]
    fn path(&self) -> PyResult<PathBuf> {
        Ok(self.lock()?.path().to_path_buf())
    }

    #[getter]
    fn version(&self) -> PyResult<u64> {
        Ok(self.lock()?.version())
    }

    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let stats = self.lock()?.stats();
        let dict = PyDict::new(py);
        dict.set_item("version", stats.version)?;
        dict.set_item("samples", stats.n_samples)?;
        dict.set_item("models", stats.n_models)?;
        dict.set_item("cardinal", stats.n_cardinal)?;
        dict.set_item("pairwise", stats.n_pairwise)?;
        dict.set_item("rankings", stats.n_rankings)?;
        dict.set_item("segments", stats.n_segments)?;
        dict.set_item("bytes_on_disk", stats.bytes_on_disk)?;
        Ok(dict)
    }

    /// `same_as`: per row, the sample this row is another source's copy of ("" for none).
    #[pyo3(signature = (ids, benchmarks, modalities, texts, references, metadata_json, same_as=None))]
    #[allow(clippy::too_many_arguments)]
    fn add_samples<'py>(
        &self,
        py: Python<'py>,
        ids: Vec<String>,
        benchmarks: Vec<String>,
        modalities: Vec<String>,
        texts: Vec<String>,
        references: Vec<Vec<String>>,
        metadata_json: Vec<String>,
        same_as: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let records = sample_records(
            (
                ids,
                benchmarks,
                modalities,
                texts,
                references,
                metadata_json,
            ),
            same_as,
        )?;
        let outcome = self.detached(py, |pool| pool.add_samples(records))?;
        report(py, outcome)
    }

    fn add_models<'py>(
        &self,
        py: Python<'py>,
        ids: Vec<String>,
        aliases: Vec<Vec<String>>,
        metadata_json: Vec<String>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let records = model_records((ids, aliases, metadata_json))?;
        let outcome = self.detached(py, |pool| pool.add_models(records))?;
        report(py, outcome)
    }

    /// One atomic commit: the measurements, plus (optionally) the samples and models
    /// they name, given as the argument tuples of `add_samples` / `add_models`.
    #[pyo3(signature = (provenance_json, cardinal, pairwise=None, rankings=None, samples=None, models=None, same_as=None))]
    #[allow(clippy::too_many_arguments)]
    fn add_measurements<'py>(
        &self,
        py: Python<'py>,
        provenance_json: &str,
        cardinal: Vec<CardinalArgument<'py>>,
        pairwise: Option<PairwiseArgument<'py>>,
        rankings: Option<RankingArgument<'py>>,
        samples: Option<SampleColumns>,
        models: Option<ModelColumns>,
        same_as: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let provenance: Provenance = serde_json::from_str(provenance_json)
            .map_err(|error| invalid("provenance", format!("malformed: {error}")))?;
        let batch = measurement_batch(&cardinal, pairwise.as_ref(), rankings.as_ref())?;
        let commit = Commit {
            samples: samples
                .map(|columns| sample_records(columns, same_as))
                .transpose()?
                .unwrap_or_default(),
            models: models.map(model_records).transpose()?.unwrap_or_default(),
            measurements: Some((batch, provenance)),
        };
        let summary = self.detached(py, |pool| pool.commit(commit))?;
        let dict = report(py, summary.measurements)?;
        dict.set_item("samples_added", summary.samples.added)?;
        dict.set_item("models_added", summary.models.added)?;
        Ok(dict)
    }

    /// Several `add_measurements` commits, each a tuple of its arguments, made in one
    /// manifest update: all or none. A refused commit raises the error of its row with
    /// `batch` set to the commit's position.
    #[allow(clippy::type_complexity)]
    fn commit_many<'py>(
        &self,
        py: Python<'py>,
        batches: Vec<(
            String,
            Vec<CardinalArgument<'py>>,
            Option<PairwiseArgument<'py>>,
            Option<RankingArgument<'py>>,
            Option<SampleColumns>,
            Option<ModelColumns>,
            Option<Vec<String>>,
        )>,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let mut commits = Vec::with_capacity(batches.len());
        for (provenance_json, cardinal, pairwise, rankings, samples, models, same_as) in &batches {
            let provenance: Provenance = serde_json::from_str(provenance_json)
                .map_err(|error| invalid("provenance", format!("malformed: {error}")))?;
            commits.push(Commit {
                samples: samples
                    .clone()
                    .map(|columns| sample_records(columns, same_as.clone()))
                    .transpose()?
                    .unwrap_or_default(),
                models: models
                    .clone()
                    .map(model_records)
                    .transpose()?
                    .unwrap_or_default(),
                measurements: Some((
                    measurement_batch(cardinal, pairwise.as_ref(), rankings.as_ref())?,
                    provenance,
                )),
            });
        }
        let outcome = py.detach(|| -> PyResult<_> {
            let mut pool = self.lock()?;
            Ok(pool.commit_many(commits))
        })?;
        let summaries = match outcome {
            Ok(summaries) => summaries,
            Err(refused) => {
                let error: PyErr = CoreError(refused.error).into();
                error.value(py).setattr("batch", refused.index)?;
                return Err(error);
            }
        };
        summaries
            .into_iter()
            .map(|summary| {
                let dict = report(py, summary.measurements)?;
                dict.set_item("samples_added", summary.samples.added)?;
                dict.set_item("models_added", summary.models.added)?;
                Ok(dict)
            })
            .collect()
    }

    fn compact(&self, py: Python<'_>) -> PyResult<u64> {
        self.detached(py, |pool| pool.compact())
    }

    fn sample_index(&self, id: &str) -> PyResult<Option<u32>> {
        Ok(self.lock()?.sample_index(id))
    }

    fn model_index(&self, id: &str) -> PyResult<Option<u32>> {
        Ok(self.lock()?.model_index(id))
    }
}
