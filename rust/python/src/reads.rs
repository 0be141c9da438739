//! The pool's reads: the sample and model tables and the measurement rows, as columns.

use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;

use crate::convert::{metadata_json, metric_name, ModelColumns};
use crate::errors::invalid;
use crate::pool::PoolCore;

#[pymethods]
impl PoolCore {
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
}
