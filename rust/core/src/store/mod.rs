//! The pool store: a directory of immutable, checksummed segments named by an
//! atomically replaced manifest. See DESIGN.md, "The store".
//!
//! CONTRACT (used by the bindings; keep these signatures):

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::data::Dataset;
use crate::error::{Error, Result};

mod build;
mod commit;
mod compact;
mod duplicates;
mod intern;
mod lock;
mod manifest;
mod many;
mod ordinal;
mod reads;
mod records;
mod replay;
mod segment;
mod state;
mod strata;
mod validate;

pub use intern::content_hash;
pub use many::RefusedCommit;
pub use records::{
    CardinalBatch, CardinalRows, Commit, CommitReport, CommitSummary, IdColumn, MeasurementBatch,
    Metric, ModelRecord, PairwiseBatch, PairwiseRows, PoolStats, Provenance, RankingBatch,
    RankingRows, SampleRecord,
};

use commit::Transaction;
use lock::WriterLock;
use manifest::Manifest;
use segment::Kind;
use state::State;

/// An open pool. Reads see the version loaded by `open` / the last `refresh` / commit.
/// Every `add_*` is one atomic batch: on any error nothing is written.
pub struct Pool {
    path: PathBuf,
    state: State,
    /// Built on first use after each change of version.
    dataset: Option<Dataset>,
}

/// How often a reader retries when a compaction deletes files between its reading the
/// manifest and opening them.
const LOAD_ATTEMPTS: usize = 5;

impl Pool {
    /// Creates an empty pool at `path` (must not exist, or be an empty directory).
    pub fn create(path: &Path) -> Result<Pool> {
        if path.exists() {
            let mut listing = std::fs::read_dir(path).map_err(|e| Error::io(path, e))?;
            if listing.next().is_some() {
                return Err(Error::NotAPool {
                    path: path.to_path_buf(),
                    reason: "cannot create a pool: directory is not empty".into(),
                });
            }
        } else {
            std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
        }
        {
            let _lock = WriterLock::acquire(path)?;
            Manifest::empty().write(path)?;
        }
        Pool::open(path)
    }

    /// Opens an existing pool, verifying every segment's checksum.
    pub fn open(path: &Path) -> Result<Pool> {
        if !path.is_dir() {
            return Err(Error::NotAPool {
                path: path.to_path_buf(),
                reason: "not a directory".into(),
            });
        }
        let mut pool = Pool {
            path: path.to_path_buf(),
            state: State::default(),
            dataset: None,
        };
        pool.load_latest()?;
        Ok(pool)
    }

    /// Reads the current manifest and loads it. A file missing because a compaction
    /// removed it after we read the manifest is retried with the newer manifest.
    fn load_latest(&mut self) -> Result<bool> {
        let mut attempt = 0;
        loop {
            let manifest = Manifest::read(&self.path)?;
            if manifest == self.state.manifest {
                return Ok(false);
            }
            match self
                .state
                .load(&self.path, manifest.clone(), &HashSet::new())
            {
                Ok(()) => {
                    self.dataset = None;
                    return Ok(true);
                }
                Err(error) => {
                    attempt += 1;
                    let moved_on =
                        Manifest::read(&self.path).is_ok_and(|latest| latest != manifest);
                    if attempt >= LOAD_ATTEMPTS || !moved_on {
                        return Err(error);
                    }
                }
            }
        }
    }

    /// Loads what other writers committed since; returns whether anything changed.
    pub fn refresh(&mut self) -> Result<bool> {
        self.load_latest()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn version(&self) -> u64 {
        self.state.manifest.version
    }

    pub fn stats(&self) -> PoolStats {
        PoolStats {
            version: self.version(),
            n_samples: self.state.samples.records.len() as u64,
            n_models: self.state.models.records.len() as u64,
            n_cardinal: self.state.n_cardinal(),
            n_pairwise: self.state.n_pairwise(),
            n_rankings: self.state.n_rankings(),
            n_segments: self.state.manifest.segments.len() as u64,
            bytes_on_disk: self.state.manifest.bytes(),
        }
    }

    /// Takes the writer lock and brings the state up to date, so that validation sees
    /// every commit made by other writers.
    fn begin(&mut self) -> Result<WriterLock> {
        let lock = WriterLock::acquire(&self.path)?;
        self.load_latest()?;
        Ok(lock)
    }

    fn report(&self, added: u64, skipped: u64) -> CommitReport {
        CommitReport {
            version: self.version(),
            added,
            skipped,
        }
    }

    /// Adds samples; ids already present with identical content are skipped, with
    /// different content are an error naming the row.
    pub fn add_samples(&mut self, samples: Vec<SampleRecord>) -> Result<CommitReport> {
        let summary = self.commit(Commit {
            samples,
            ..Commit::default()
        })?;
        Ok(summary.samples)
    }

    /// Adds models; an existing id gains the new aliases and metadata keys. An alias
    /// that names another model is an error.
    pub fn add_models(&mut self, models: Vec<ModelRecord>) -> Result<CommitReport> {
        let summary = self.commit(Commit {
            models,
            ..Commit::default()
        })?;
        Ok(summary.models)
    }

    /// Commits every part of `batch` atomically (one manifest update): on any error
    /// nothing is written and the error names the field and row.
    pub fn add_measurements(
        &mut self,
        batch: MeasurementBatch,
        provenance: Provenance,
    ) -> Result<CommitReport> {
        let summary = self.commit(Commit {
            measurements: Some((batch, provenance)),
            ..Commit::default()
        })?;
        Ok(summary.measurements)
    }

    /// Commits samples, models and measurements together in one manifest update, so
    /// that an importer that registers what its measurements name leaves nothing
    /// behind when a measurement row is bad. Measurements are validated against the
    /// pool as it will be with this commit's samples and models.
    pub fn commit(&mut self, commit: Commit) -> Result<CommitSummary> {
        let _lock = self.begin()?;
        let (fresh_samples, samples_skipped) = self.state.samples.plan_add(commit.samples)?;
        let mut models = self.state.models.clone();
        let mut changed_models = Vec::new();
        let mut models_skipped = 0;
        for (row, record) in commit.models.into_iter().enumerate() {
            if models.add(&record, row)? {
                changed_models.push(record);
            } else {
                models_skipped += 1;
            }
        }
        // Measurements must see this commit's samples and models; the copy holds only
        // records and shared segment handles, and is made only when something is new.
        let trial;
        let view = if fresh_samples.is_empty() && changed_models.is_empty() {
            &self.state
        } else {
            let mut state = self.state.clone();
            for record in &fresh_samples {
                state.samples.push(record.clone());
            }
            state.metrics.resize(state.samples.records.len(), None);
            state.models = models;
            trial = state;
            &trial
        };
        let plan = match &commit.measurements {
            Some((batch, _)) => Some(validate::validate(view, batch)?),
            None => None,
        };
        let measurements_added = plan.as_ref().map_or(0, |plan| plan.rows());
        let mut transaction = Transaction::new(&self.path, &self.state);
        if !fresh_samples.is_empty() {
            transaction.records(Kind::Samples, &fresh_samples)?;
        }
        if !changed_models.is_empty() {
            transaction.records(Kind::Models, &changed_models)?;
        }
        if let (Some(plan), Some((_, provenance))) = (&plan, &commit.measurements) {
            if measurements_added > 0 {
                transaction.records(Kind::Provenances, std::slice::from_ref(provenance))?;
                commit::write_plan(&mut transaction, plan, self.state.provenances.len() as u32)?;
            }
        }
        let changed =
            !fresh_samples.is_empty() || !changed_models.is_empty() || measurements_added > 0;
        drop(plan);
        if changed {
            transaction.commit(&mut self.state, |_| true)?;
            self.dataset = None;
        }
        Ok(CommitSummary {
            samples: self.report(fresh_samples.len() as u64, samples_skipped),
            models: self.report(changed_models.len() as u64, models_skipped),
            measurements: self.report(measurements_added, 0),
        })
    }

    /// Merges all measurement segments of each kind into one; returns segments removed.
    pub fn compact(&mut self) -> Result<u64> {
        let _lock = self.begin()?;
        let removed = compact::compact(&self.path, &mut self.state)?;
        if removed > 0 {
            self.dataset = None;
        }
        Ok(removed)
    }
}
