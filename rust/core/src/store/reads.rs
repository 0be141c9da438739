//! What an open pool holds: its records, resolved ids, and its measurements in columnar
//! or flat form. Kept apart from `mod.rs`, which opens pools and writes to them.

use super::{
    build, CardinalRows, Metric, ModelRecord, PairwiseRows, Pool, Provenance, RankingRows,
    SampleRecord,
};
use crate::data::Dataset;
use crate::error::Result;

impl Pool {
    pub fn samples(&self) -> &[SampleRecord] {
        &self.state.samples.records
    }

    /// Other sources' copies of samples (records with `same_as`), in commit order.
    pub fn sample_copies(&self) -> &[SampleRecord] {
        &self.state.samples.copies
    }

    pub fn models(&self) -> &[ModelRecord] {
        &self.state.models.records
    }

    pub fn provenances(&self) -> &[Provenance] {
        &self.state.provenances
    }

    /// Metric of each sample (None until its first measurement).
    pub fn sample_metrics(&self) -> &[Option<Metric>] {
        &self.state.metrics
    }

    /// Resolves a sample id, or the id of a copy to the sample it copies.
    pub fn sample_index(&self, id: &str) -> Option<u32> {
        self.state.samples.index.get(id).copied()
    }

    /// Resolves a model id or any alias.
    pub fn model_index(&self, id_or_alias: &str) -> Option<u32> {
        self.state.models.resolve(id_or_alias)
    }

    /// The measurements in columnar form, built on first use after each change.
    pub fn dataset(&mut self) -> Result<&Dataset> {
        Ok(self
            .dataset
            .get_or_insert_with(|| build::dataset(&self.state)))
    }

    pub fn cardinal_rows(&self) -> Result<CardinalRows> {
        Ok(build::cardinal_rows(&self.state))
    }

    pub fn pairwise_rows(&self) -> Result<PairwiseRows> {
        Ok(build::pairwise_rows(&self.state))
    }

    pub fn ranking_rows(&self) -> Result<RankingRows> {
        Ok(build::ranking_rows(&self.state))
    }
}
