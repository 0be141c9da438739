//! Helpers shared by the store tests: small pools with known samples and models.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use onebench_core::store::{
    CardinalBatch, IdColumn, MeasurementBatch, Metric, ModelRecord, PairwiseBatch, Pool,
    Provenance, RankingBatch, SampleRecord,
};

pub fn sample(id: &str, text: &str) -> SampleRecord {
    SampleRecord {
        id: id.into(),
        benchmark: "bench".into(),
        modality: "text".into(),
        text: text.into(),
        references: vec!["answer".into()],
        metadata: BTreeMap::from([("subject".to_string(), serde_json::json!("algebra"))]),
        content_hash: String::new(),
        same_as: None,
    }
}

pub fn model(id: &str, aliases: &[&str]) -> ModelRecord {
    ModelRecord {
        id: id.into(),
        aliases: aliases.iter().map(|alias| alias.to_string()).collect(),
        metadata: BTreeMap::new(),
    }
}

pub fn provenance(source: &str) -> Provenance {
    Provenance {
        source: source.into(),
        grader: Some("exact".into()),
        judge: None,
        time: "2025-01-01T00:00:00Z".into(),
        extra: BTreeMap::new(),
    }
}

/// A column with one dictionary entry per row (the simplest encoding).
pub fn ids(values: &[&str]) -> IdColumn {
    IdColumn {
        dictionary: values.iter().map(|value| value.to_string()).collect(),
        codes: (0..values.len() as u32).collect(),
    }
}

pub fn cardinal(
    samples: &[&str],
    models: &[&str],
    values: &[f64],
    metric: Metric,
) -> MeasurementBatch {
    MeasurementBatch {
        cardinal: vec![(
            CardinalBatch {
                samples: ids(samples),
                models: ids(models),
                values: values.to_vec(),
            },
            metric,
        )],
        ..Default::default()
    }
}

pub fn pairwise(
    samples: &[&str],
    a: &[&str],
    b: &[&str],
    outcome: &[u8],
    probability: Option<&[f64]>,
) -> MeasurementBatch {
    MeasurementBatch {
        pairwise: Some(PairwiseBatch {
            samples: ids(samples),
            model_a: ids(a),
            model_b: ids(b),
            outcome: outcome.to_vec(),
            probability_b: probability.map(<[f64]>::to_vec),
        }),
        ..Default::default()
    }
}

pub fn rankings(samples: &[&str], groups: &[&[(&str, u32)]]) -> MeasurementBatch {
    let mut offsets = vec![0u64];
    let mut models = Vec::new();
    let mut positions = Vec::new();
    for group in groups {
        for (model, position) in *group {
            models.push(*model);
            positions.push(*position);
        }
        offsets.push(models.len() as u64);
    }
    MeasurementBatch {
        rankings: Some(RankingBatch {
            samples: ids(samples),
            offsets,
            models: ids(&models),
            positions,
        }),
        ..Default::default()
    }
}

/// A pool with samples s0..s{n_samples} and models m0..m{n_models} (m0 aliased "first").
pub fn pool_with(directory: &Path, n_samples: usize, n_models: usize) -> Pool {
    let mut pool = Pool::create(directory).unwrap();
    let samples = (0..n_samples)
        .map(|i| sample(&format!("s{i}"), &format!("Question {i}?")))
        .collect();
    pool.add_samples(samples).unwrap();
    let models = (0..n_models)
        .map(|i| {
            if i == 0 {
                model("m0", &["first"])
            } else {
                model(&format!("m{i}"), &[])
            }
        })
        .collect();
    pool.add_models(models).unwrap();
    pool
}

pub fn pool_dir(root: &tempfile::TempDir) -> PathBuf {
    root.path().join("pool")
}

/// The pool's files, sorted, for "nothing was written" checks.
pub fn listing(directory: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
