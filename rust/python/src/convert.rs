//! Python arguments of the pool's writes to the core's records and batches, and the
//! core's values back to what Python reads.

use std::collections::BTreeMap;

use numpy::PyReadonlyArray1;
use onebench_core::store::{
    CardinalBatch, IdColumn, MeasurementBatch, Metric, ModelRecord, PairwiseBatch, RankingBatch,
    SampleRecord,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{invalid, CoreError};

/// Ids as `(dictionary, codes)`, the dictionary-encoded form the Python layer produces.
pub type IdsArgument<'py> = (Vec<String>, PyReadonlyArray1<'py, u32>);

pub fn id_column(argument: &IdsArgument<'_>, field: &str) -> PyResult<IdColumn> {
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

pub fn report(
    py: Python<'_>,
    report: onebench_core::store::CommitReport,
) -> PyResult<Bound<'_, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("version", report.version)?;
    dict.set_item("added", report.added)?;
    dict.set_item("skipped", report.skipped)?;
    Ok(dict)
}

pub type CardinalArgument<'py> = (
    IdsArgument<'py>,
    IdsArgument<'py>,
    PyReadonlyArray1<'py, f64>,
    String,
);
pub type PairwiseArgument<'py> = (
    IdsArgument<'py>,
    IdsArgument<'py>,
    IdsArgument<'py>,
    PyReadonlyArray1<'py, u8>,
    Option<PyReadonlyArray1<'py, f64>>,
);
pub type RankingArgument<'py> = (
    IdsArgument<'py>,
    PyReadonlyArray1<'py, u64>,
    IdsArgument<'py>,
    PyReadonlyArray1<'py, u32>,
);

/// The core batch for the measurement arguments of `add_measurements`.
pub fn measurement_batch(
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

pub fn float_vec(array: &PyReadonlyArray1<'_, f64>, field: &str) -> PyResult<Vec<f64>> {
    Ok(array
        .as_slice()
        .map_err(|_| invalid(field, "must be a contiguous float64 array"))?
        .to_vec())
}

/// `add_samples` arguments: ids, benchmarks, modalities, texts, references, metadata JSON.
pub type SampleColumns = (
    Vec<String>,
    Vec<String>,
    Vec<String>,
    Vec<String>,
    Vec<Vec<String>>,
    Vec<String>,
);

/// Model ids, their aliases, and their metadata as JSON (empty when none): the arguments
/// of `add_models` and the columns of the model table.
pub type ModelColumns = (Vec<String>, Vec<Vec<String>>, Vec<String>);

pub fn sample_records(
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

pub fn model_records(arguments: ModelColumns) -> PyResult<Vec<ModelRecord>> {
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
pub fn metadata_json(metadata: &BTreeMap<String, serde_json::Value>) -> String {
    if metadata.is_empty() {
        String::new()
    } else {
        serde_json::to_string(metadata).unwrap_or_default()
    }
}

/// A subset of sample indexes (`None`: every sample).
pub fn subset_indexes(subset: Option<PyReadonlyArray1<'_, u32>>) -> PyResult<Option<Vec<u32>>> {
    subset
        .map(|array| array.as_slice().map(<[u32]>::to_vec))
        .transpose()
        .map_err(|_| invalid("samples", "must be a contiguous uint32 array"))
}
