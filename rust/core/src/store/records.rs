//! The store's public records: what a caller adds (samples, models, measurement batches,
//! commits) and what it reads back (reports, statistics, measurement rows).

use std::collections::BTreeMap;

/// A string id column, dictionary-encoded: row `i` holds `dictionary[codes[i]]`.
/// Python hands ids over this way so that 50M rows cost 50M integers, not 50M strings.
#[derive(Debug, Clone, Default)]
pub struct IdColumn {
    pub dictionary: Vec<String>,
    pub codes: Vec<u32>,
}

/// The metric a sample's measurements follow; fixed by its first measurement batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Binary,
    NumericHigher,
    NumericLower,
    Pairwise,
    Ranking,
}

/// Who or what produced a batch of measurements.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Provenance {
    pub source: String,
    pub grader: Option<String>,
    pub judge: Option<String>,
    /// RFC 3339 time of the batch.
    pub time: String,
    /// Any further key -> value (JSON object).
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// A sample of the pool.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SampleRecord {
    pub id: String,
    pub benchmark: String,
    /// "text" or "image+text".
    pub modality: String,
    pub text: String,
    pub references: Vec<String>,
    pub metadata: BTreeMap<String, serde_json::Value>,
    /// Hex hash of the normalised text (whitespace collapsed, lower-cased).
    pub content_hash: String,
    /// Set when this record is another source's copy of sample `same_as` (the same
    /// question): the record is kept as that sample's second provenance and its id
    /// names that sample. Absent in pools written before copies existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_as: Option<String>,
}

/// A model of the pool.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelRecord {
    pub id: String,
    pub aliases: Vec<String>,
    pub metadata: BTreeMap<String, serde_json::Value>,
}

/// Binary or numeric measurements, one row per (sample, model).
#[derive(Debug, Clone, Default)]
pub struct CardinalBatch {
    pub samples: IdColumn,
    pub models: IdColumn,
    pub values: Vec<f64>,
}

/// Pairwise comparisons. `outcome`: 0 = a preferred, 1 = b preferred, 2 = tie.
/// `probability_b`: optional P(b preferred) in [0, 1]; NaN where absent.
#[derive(Debug, Clone, Default)]
pub struct PairwiseBatch {
    pub samples: IdColumn,
    pub model_a: IdColumn,
    pub model_b: IdColumn,
    pub outcome: Vec<u8>,
    pub probability_b: Option<Vec<f64>>,
}

/// Rankings with ties: ranking `r` is on `samples.codes[r]` and owns entries
/// `offsets[r]..offsets[r + 1]` of `models` / `positions` (best first; equal positions tie).
#[derive(Debug, Clone, Default)]
pub struct RankingBatch {
    pub samples: IdColumn,
    pub offsets: Vec<u64>,
    pub models: IdColumn,
    pub positions: Vec<u32>,
}

/// Measurements of any kinds committed together under one provenance.
/// `cardinal` holds (rows, metric) pairs with metric Binary, NumericHigher or NumericLower.
#[derive(Debug, Clone, Default)]
pub struct MeasurementBatch {
    pub cardinal: Vec<(CardinalBatch, Metric)>,
    pub pairwise: Option<PairwiseBatch>,
    pub rankings: Option<RankingBatch>,
}

/// What a commit did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommitReport {
    pub version: u64,
    pub added: u64,
    pub skipped: u64,
}

/// Everything one atomic commit adds: samples, models, and measurements under their
/// provenance.
#[derive(Debug, Clone, Default)]
pub struct Commit {
    pub samples: Vec<SampleRecord>,
    pub models: Vec<ModelRecord>,
    pub measurements: Option<(MeasurementBatch, Provenance)>,
}

/// What [`Pool::commit`] did, per part; all three carry the same version.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommitSummary {
    pub samples: CommitReport,
    pub models: CommitReport,
    pub measurements: CommitReport,
}

/// Counts for `pool_stats`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PoolStats {
    pub version: u64,
    pub n_samples: u64,
    pub n_models: u64,
    pub n_cardinal: u64,
    pub n_pairwise: u64,
    pub n_rankings: u64,
    pub n_segments: u64,
    pub bytes_on_disk: u64,
}

/// Flat rows of one measurement kind for export, with the index of each row's
/// provenance in [`Pool::provenances`].
#[derive(Debug, Clone, Default)]
pub struct CardinalRows {
    pub samples: Vec<u32>,
    pub models: Vec<u32>,
    pub values: Vec<f32>,
    pub provenance: Vec<u32>,
}

#[derive(Debug, Clone, Default)]
pub struct PairwiseRows {
    pub samples: Vec<u32>,
    pub model_a: Vec<u32>,
    pub model_b: Vec<u32>,
    pub outcome: Vec<u8>,
    /// NaN where absent.
    pub probability_b: Vec<f32>,
    pub provenance: Vec<u32>,
}

#[derive(Debug, Clone, Default)]
pub struct RankingRows {
    pub samples: Vec<u32>,
    pub offsets: Vec<u64>,
    pub models: Vec<u32>,
    pub positions: Vec<u32>,
    pub provenance: Vec<u32>,
}
