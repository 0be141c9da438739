//! `PoolCore`: the Rust pool behind `onebench.Pool`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use onebench_core::store::{
    CardinalBatch, Commit, IdColumn, MeasurementBatch, Metric, ModelRecord, PairwiseBatch, Pool,
    Provenance, RankingBatch, SampleRecord,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{invalid, CoreError};
use crate::rank::{
    diagnose_pool, diagnostics_to_dict, rank_pool, result_to_dict, RankArguments, Solution,
};

/// Ids as `(dictionary, codes)`, the dictionary-encoded form the Python layer produces.
pub type IdsArgument<'py> = (Vec<String>, PyReadonlyArray1<'py, u32>);

/// Model ids, their aliases, and their metadata as JSON (empty when none).
type ModelColumns = (Vec<String>, Vec<Vec<String>>, Vec<String>);

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

fn id_column(argument: &IdsArgument<'_>, field: &str) -> PyResult<IdColumn> {
    let codes = argument
        .1
        .as_slice()
        .map_err(|_| invalid(field, "codes must be a contiguous uint32 array"))?;
    Ok(IdColumn {
        dictionary: argument.0.clone(),
        codes: codes.to_vec(),
    })
}

fn json_map(text: &str, field: &str, row: usize) -> PyResult<BTreeMap<String, serde_json::Value>> {
    if text.is_empty() {
        return Ok(BTreeMap::new());
    }
    serde_json::from_str(text).map_err(|error| {
        CoreError(onebench_core::Error::invalid(
            field,
            Some(row),
            format!("not a JSON object: {error}"),
        ))
        .into()
    })
}

fn metric_from_name(name: &str) -> PyResult<Metric> {
    match name {
        "binary" => Ok(Metric::Binary),
        "numeric_higher" => Ok(Metric::NumericHigher),
        "numeric_lower" => Ok(Metric::NumericLower),
        other => Err(invalid(
            "metric",
            format!("unknown cardinal metric {other:?}"),
        )),
    }
}

pub fn metric_name(metric: Option<Metric>) -> Option<&'static str> {
    metric.map(|metric| match metric {
        Metric::Binary => "binary",
        Metric::NumericHigher => "numeric_higher",
        Metric::NumericLower => "numeric_lower",
        Metric::Pairwise => "pairwise",
        Metric::Ranking => "ranking",
    })
}

fn report(
    py: Python<'_>,
    report: onebench_core::store::CommitReport,
) -> PyResult<Bound<'_, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("version", report.version)?;
    dict.set_item("added", report.added)?;
    dict.set_item("skipped", report.skipped)?;
    Ok(dict)
}

type CardinalArgument<'py> = (
    IdsArgument<'py>,
    IdsArgument<'py>,
    PyReadonlyArray1<'py, f64>,
    String,
);
type PairwiseArgument<'py> = (
    IdsArgument<'py>,
    IdsArgument<'py>,
    IdsArgument<'py>,
    PyReadonlyArray1<'py, u8>,
    Option<PyReadonlyArray1<'py, f64>>,
);
type RankingArgument<'py> = (
    IdsArgument<'py>,
    PyReadonlyArray1<'py, u64>,
    IdsArgument<'py>,
    PyReadonlyArray1<'py, u32>,
);

/// The core batch for the measurement arguments of `add_measurements`.
fn measurement_batch(
    cardinal: &[CardinalArgument<'_>],
    pairwise: Option<&PairwiseArgument<'_>>,
    rankings: Option<&RankingArgument<'_>>,
) -> PyResult<MeasurementBatch> {
    let mut batch = MeasurementBatch::default();
    for (samples, models, values, metric) in cardinal {
        batch.cardinal.push((
            CardinalBatch {
                samples: id_column(samples, "sample_id")?,
                models: id_column(models, "model")?,
                values: float_vec(values, "score")?,
            },
            metric_from_name(metric)?,
        ));
    }
    if let Some((samples, model_a, model_b, outcome, probability)) = pairwise {
        batch.pairwise = Some(PairwiseBatch {
            samples: id_column(samples, "sample_id")?,
            model_a: id_column(model_a, "model_a")?,
            model_b: id_column(model_b, "model_b")?,
            outcome: outcome
                .as_slice()
                .map_err(|_| invalid("winner", "must be a contiguous uint8 array"))?
                .to_vec(),
            probability_b: probability
                .as_ref()
                .map(|p| float_vec(p, "probability"))
                .transpose()?,
        });
    }
    if let Some((samples, offsets, models, positions)) = rankings {
        batch.rankings = Some(RankingBatch {
            samples: id_column(samples, "sample_id")?,
            offsets: offsets
                .as_slice()
                .map_err(|_| invalid("ranking", "offsets must be contiguous"))?
                .to_vec(),
            models: id_column(models, "ranking")?,
            positions: positions
                .as_slice()
                .map_err(|_| invalid("ranking", "positions must be contiguous"))?
                .to_vec(),
        });
    }
    Ok(batch)
}

fn float_vec(array: &PyReadonlyArray1<'_, f64>, field: &str) -> PyResult<Vec<f64>> {
    Ok(array
        .as_slice()
        .map_err(|_| invalid(field, "must be a contiguous float64 array"))?
        .to_vec())
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

    /// Columns of the sample table: ids, benchmarks, modalities, texts, references,
    /// metadata (JSON), content hashes, metrics.
    #[allow(clippy::type_complexity)]
    fn sample_columns(
        &self,
    ) -> PyResult<(
        Vec<String>,
        Vec<String>,
        Vec<String>,
        Vec<String>,
        Vec<Vec<String>>,
        Vec<String>,
        Vec<String>,
        Vec<Option<&'static str>>,
    )> {
        let pool = self.lock()?;
        let samples = pool.samples();
        let metrics = pool.sample_metrics();
        let mut columns = (
            Vec::with_capacity(samples.len()),
            Vec::with_capacity(samples.len()),
            Vec::with_capacity(samples.len()),
            Vec::with_capacity(samples.len()),
            Vec::with_capacity(samples.len()),
            Vec::with_capacity(samples.len()),
            Vec::with_capacity(samples.len()),
            Vec::with_capacity(samples.len()),
        );
        for (index, sample) in samples.iter().enumerate() {
            columns.0.push(sample.id.clone());
            columns.1.push(sample.benchmark.clone());
            columns.2.push(sample.modality.clone());
            columns.3.push(sample.text.clone());
            columns.4.push(sample.references.clone());
            columns.5.push(metadata_json(&sample.metadata));
            columns.6.push(sample.content_hash.clone());
            columns
                .7
                .push(metric_name(metrics.get(index).copied().flatten()));
        }
        Ok(columns)
    }

    /// Other sources' copies of samples: ids, the sample each copies, benchmarks,
    /// texts, references, metadata (JSON).
    #[allow(clippy::type_complexity)]
    fn sample_copies(
        &self,
    ) -> PyResult<(
        Vec<String>,
        Vec<String>,
        Vec<String>,
        Vec<String>,
        Vec<Vec<String>>,
        Vec<String>,
    )> {
        let pool = self.lock()?;
        let copies = pool.sample_copies();
        Ok((
            copies.iter().map(|copy| copy.id.clone()).collect(),
            copies
                .iter()
                .map(|copy| copy.same_as.clone().unwrap_or_default())
                .collect(),
            copies.iter().map(|copy| copy.benchmark.clone()).collect(),
            copies.iter().map(|copy| copy.text.clone()).collect(),
            copies.iter().map(|copy| copy.references.clone()).collect(),
            copies
                .iter()
                .map(|copy| metadata_json(&copy.metadata))
                .collect(),
        ))
    }

    /// The store's content hash of each text (whitespace collapsed, lower-cased), for
    /// finding the same question arriving from two sources before it is added.
    #[staticmethod]
    fn content_hashes(texts: Vec<String>) -> Vec<String> {
        texts
            .iter()
            .map(|text| onebench_core::store::content_hash(text))
            .collect()
    }

    fn sample_ids(&self) -> PyResult<Vec<String>> {
        Ok(self
            .lock()?
            .samples()
            .iter()
            .map(|sample| sample.id.clone())
            .collect())
    }

    /// Columns of the model table: ids, aliases, metadata (JSON).
    fn model_columns(&self) -> PyResult<ModelColumns> {
        let pool = self.lock()?;
        let models = pool.models();
        Ok((
            models.iter().map(|model| model.id.clone()).collect(),
            models.iter().map(|model| model.aliases.clone()).collect(),
            models
                .iter()
                .map(|model| metadata_json(&model.metadata))
                .collect(),
        ))
    }

    fn provenances(&self) -> PyResult<Vec<String>> {
        let pool = self.lock()?;
        pool.provenances()
            .iter()
            .map(|provenance| {
                serde_json::to_string(provenance)
                    .map_err(|error| invalid("provenance", error.to_string()))
            })
            .collect()
    }

    #[allow(clippy::type_complexity)]
    fn cardinal_rows<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(
        Bound<'py, PyArray1<u32>>,
        Bound<'py, PyArray1<u32>>,
        Bound<'py, PyArray1<f32>>,
        Bound<'py, PyArray1<u32>>,
    )> {
        let rows = self.detached(py, |pool| pool.cardinal_rows())?;
        Ok((
            rows.samples.into_pyarray(py),
            rows.models.into_pyarray(py),
            rows.values.into_pyarray(py),
            rows.provenance.into_pyarray(py),
        ))
    }

    #[allow(clippy::type_complexity)]
    fn pairwise_rows<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(
        Bound<'py, PyArray1<u32>>,
        Bound<'py, PyArray1<u32>>,
        Bound<'py, PyArray1<u32>>,
        Bound<'py, PyArray1<u8>>,
        Bound<'py, PyArray1<f32>>,
        Bound<'py, PyArray1<u32>>,
    )> {
        let rows = self.detached(py, |pool| pool.pairwise_rows())?;
        Ok((
            rows.samples.into_pyarray(py),
            rows.model_a.into_pyarray(py),
            rows.model_b.into_pyarray(py),
            rows.outcome.into_pyarray(py),
            rows.probability_b.into_pyarray(py),
            rows.provenance.into_pyarray(py),
        ))
    }

    #[allow(clippy::type_complexity)]
    fn ranking_rows<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(
        Bound<'py, PyArray1<u32>>,
        Bound<'py, PyArray1<u64>>,
        Bound<'py, PyArray1<u32>>,
        Bound<'py, PyArray1<u32>>,
        Bound<'py, PyArray1<u32>>,
    )> {
        let rows = self.detached(py, |pool| pool.ranking_rows())?;
        Ok((
            rows.samples.into_pyarray(py),
            rows.offsets.into_pyarray(py),
            rows.models.into_pyarray(py),
            rows.positions.into_pyarray(py),
            rows.provenance.into_pyarray(py),
        ))
    }

    #[pyo3(signature = (subset, method, alpha, ci_level, interval, replicates, seed, tolerance, max_iterations, initial=None, min_samples=0, initial_solution=None))]
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
        )?;
        let subset = subset
            .map(|array| array.as_slice().map(<[u32]>::to_vec))
            .transpose()
            .map_err(|_| invalid("samples", "must be a contiguous uint32 array"))?;
        let result = self.detached(py, |pool| rank_pool(pool, subset.as_deref(), arguments))?;
        result_to_dict(py, result)
    }

    /// Per-sample difficulty and discrimination under the joint model (see
    /// `onebench.Pool.item_diagnostics`).
    #[pyo3(signature = (subset, alpha, tolerance, max_iterations))]
    fn item_diagnostics<'py>(
        &self,
        py: Python<'py>,
        subset: Option<PyReadonlyArray1<'py, u32>>,
        alpha: f64,
        tolerance: f64,
        max_iterations: usize,
    ) -> PyResult<Bound<'py, PyDict>> {
        let subset = subset
            .map(|array| array.as_slice().map(<[u32]>::to_vec))
            .transpose()
            .map_err(|_| invalid("samples", "must be a contiguous uint32 array"))?;
        let diagnostics = self.detached(py, |pool| {
            diagnose_pool(pool, subset.as_deref(), alpha, tolerance, max_iterations)
        })?;
        diagnostics_to_dict(py, diagnostics)
    }
}

/// `add_samples` arguments: ids, benchmarks, modalities, texts, references, metadata JSON.
type SampleColumns = (
    Vec<String>,
    Vec<String>,
    Vec<String>,
    Vec<String>,
    Vec<Vec<String>>,
    Vec<String>,
);

/// `add_models` arguments: ids, aliases, metadata JSON.
type ModelArguments = (Vec<String>, Vec<Vec<String>>, Vec<String>);

fn sample_records(
    columns: SampleColumns,
    same_as: Option<Vec<String>>,
) -> PyResult<Vec<SampleRecord>> {
    let (ids, benchmarks, modalities, texts, references, metadata_json) = columns;
    let count = ids.len();
    let same_as = same_as.unwrap_or_else(|| vec![String::new(); count]);
    for (field, length) in [
        ("benchmark", benchmarks.len()),
        ("modality", modalities.len()),
        ("text", texts.len()),
        ("reference", references.len()),
        ("metadata", metadata_json.len()),
        ("same_as", same_as.len()),
    ] {
        if length != count {
            return Err(invalid(
                field,
                format!("has {length} rows, sample_id has {count}"),
            ));
        }
    }
    let rows = ids
        .into_iter()
        .zip(benchmarks)
        .zip(modalities)
        .zip(texts)
        .zip(references)
        .zip(metadata_json)
        .zip(same_as);
    let mut records = Vec::with_capacity(count);
    for (row, ((((((id, benchmark), modality), text), references), metadata), same_as)) in
        rows.enumerate()
    {
        records.push(SampleRecord {
            id,
            benchmark,
            modality,
            text,
            references,
            metadata: json_map(&metadata, "metadata", row)?,
            content_hash: String::new(),
            same_as: Some(same_as).filter(|target| !target.is_empty()),
        });
    }
    Ok(records)
}

fn model_records(arguments: ModelArguments) -> PyResult<Vec<ModelRecord>> {
    let (ids, aliases, metadata_json) = arguments;
    if aliases.len() != ids.len() || metadata_json.len() != ids.len() {
        return Err(invalid(
            "aliases",
            "aliases and metadata need one row per model",
        ));
    }
    let mut records = Vec::with_capacity(ids.len());
    for (row, ((id, aliases), metadata)) in
        ids.into_iter().zip(aliases).zip(metadata_json).enumerate()
    {
        records.push(ModelRecord {
            id,
            aliases,
            metadata: json_map(&metadata, "metadata", row)?,
        });
    }
    Ok(records)
}

/// Metadata as a JSON object, or "" when there is none (Python reads "" as no metadata).
fn metadata_json(metadata: &BTreeMap<String, serde_json::Value>) -> String {
    if metadata.is_empty() {
        String::new()
    } else {
        serde_json::to_string(metadata).unwrap_or_default()
    }
}
