//! The pool store: a directory of immutable, checksummed segments named by an
//! atomically replaced manifest. See DESIGN.md, "The store".
//!
//! CONTRACT (used by the bindings; keep these signatures):

use std::collections::BTreeMap;
use std::path::Path;

use crate::data::Dataset;
use crate::error::Result;

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

/// An open pool. Reads see the version loaded by `open` / the last `refresh` / commit.
/// Every `add_*` is one atomic batch: on any error nothing is written.
pub struct Pool {
    // private state: chosen by the store implementation
}

impl Pool {
    /// Creates an empty pool at `path` (must not exist, or be an empty directory).
    pub fn create(path: &Path) -> Result<Pool> {
        let _ = path;
        todo!()
    }
    /// Opens an existing pool, verifying every segment's checksum.
    pub fn open(path: &Path) -> Result<Pool> {
        let _ = path;
        todo!()
    }
    /// Loads what other writers committed since; returns whether anything changed.
    pub fn refresh(&mut self) -> Result<bool> {
        todo!()
    }
    pub fn path(&self) -> &Path {
        todo!()
    }
    pub fn version(&self) -> u64 {
        todo!()
    }
    pub fn stats(&self) -> PoolStats {
        todo!()
    }

    /// Adds samples; ids already present with identical content are skipped, with
    /// different content are an error naming the row.
    pub fn add_samples(&mut self, samples: Vec<SampleRecord>) -> Result<CommitReport> {
        let _ = samples;
        todo!()
    }
    /// Adds models; an existing id gains the new aliases and metadata keys. An alias
    /// that names another model is an error.
    pub fn add_models(&mut self, models: Vec<ModelRecord>) -> Result<CommitReport> {
        let _ = models;
        todo!()
    }
    /// Commits every part of `batch` atomically (one manifest update): on any error
    /// nothing is written and the error names the field and row.
    pub fn add_measurements(&mut self, batch: MeasurementBatch, provenance: Provenance) -> Result<CommitReport> {
        let _ = (batch, provenance);
        todo!()
    }
    /// Merges all measurement segments of each kind into one; returns segments removed.
    pub fn compact(&mut self) -> Result<u64> {
        todo!()
    }

    pub fn samples(&self) -> &[SampleRecord] {
        todo!()
    }
    pub fn models(&self) -> &[ModelRecord] {
        todo!()
    }
    pub fn provenances(&self) -> &[Provenance] {
        todo!()
    }
    /// Metric of each sample (None until its first measurement).
    pub fn sample_metrics(&self) -> &[Option<Metric>] {
        todo!()
    }
    pub fn sample_index(&self, id: &str) -> Option<u32> {
        let _ = id;
        todo!()
    }
    /// Resolves a model id or any alias.
    pub fn model_index(&self, id_or_alias: &str) -> Option<u32> {
        let _ = id_or_alias;
        todo!()
    }
    /// The measurements in columnar form, built on first use after each change.
    pub fn dataset(&mut self) -> Result<&Dataset> {
        todo!()
    }
    pub fn cardinal_rows(&self) -> Result<CardinalRows> {
        todo!()
    }
    pub fn pairwise_rows(&self) -> Result<PairwiseRows> {
        todo!()
    }
    pub fn ranking_rows(&self) -> Result<RankingRows> {
        todo!()
    }
}
