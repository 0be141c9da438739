//! Several commits, each with its own provenance, made in one manifest update: an import
//! of many sources (files) is then all or nothing, and a bad row in the last file leaves
//! nothing of the first behind.
//!
//! Each commit is validated against the pool as the commits before it leave it: their
//! samples, models and the metrics their measurements fix.

use super::commit::{write_plan, Transaction};
use super::segment::Kind;
use super::validate::{validate, Plan};
use super::{Commit, CommitReport, CommitSummary, Metric, ModelRecord, Pool, SampleRecord};
use crate::error::Error;

/// The error of a [`Pool::commit_many`]: which commit (by position) was refused, and why.
#[derive(Debug)]
pub struct RefusedCommit {
    pub index: usize,
    pub error: Error,
}

impl Pool {
    /// Commits every one of `commits` in one manifest update, or none of them.
    pub fn commit_many(
        &mut self,
        commits: Vec<Commit>,
    ) -> Result<Vec<CommitSummary>, RefusedCommit> {
        let refused = |index: usize| move |error: Error| RefusedCommit { index, error };
        let _lock = self.begin().map_err(refused(0))?;
        let mut trial = self.state.clone();
        let mut samples: Vec<SampleRecord> = Vec::new();
        let mut models: Vec<ModelRecord> = Vec::new();
        let mut counts = Vec::with_capacity(commits.len());
        let mut plans: Vec<(Plan, usize)> = Vec::new();
        for (index, commit) in commits.iter().enumerate() {
            let (fresh, samples_skipped) = trial
                .samples
                .plan_add(commit.samples.clone())
                .map_err(refused(index))?;
            for record in &fresh {
                trial.samples.push(record.clone());
            }
            trial.metrics.resize(trial.samples.records.len(), None);
            let mut changed = 0u64;
            for (row, record) in commit.models.iter().enumerate() {
                if trial.models.add(record, row).map_err(refused(index))? {
                    models.push(record.clone());
                    changed += 1;
                }
            }
            let mut rows = 0;
            if let Some((batch, _)) = &commit.measurements {
                let plan = validate(&trial, batch).map_err(refused(index))?;
                claim_metrics(&plan, &mut trial.metrics);
                rows = plan.rows();
                if rows > 0 {
                    plans.push((plan, index));
                }
            }
            counts.push((
                fresh.len() as u64,
                samples_skipped,
                changed,
                commit.models.len() as u64 - changed,
                rows,
            ));
            samples.extend(fresh);
        }
        let first_provenance = self.state.provenances.len() as u32;
        let mut transaction = Transaction::new(&self.path, &self.state);
        let write = |transaction: &mut Transaction| -> crate::Result<()> {
            if !samples.is_empty() {
                transaction.records(Kind::Samples, &samples)?;
            }
            if !models.is_empty() {
                transaction.records(Kind::Models, &models)?;
            }
            if !plans.is_empty() {
                let provenances: Vec<_> = plans
                    .iter()
                    .filter_map(|(_, index)| commits[*index].measurements.as_ref())
                    .map(|(_, provenance)| provenance.clone())
                    .collect();
                transaction.records(Kind::Provenances, &provenances)?;
                for (offset, (plan, _)) in plans.iter().enumerate() {
                    write_plan(transaction, plan, first_provenance + offset as u32)?;
                }
            }
            Ok(())
        };
        write(&mut transaction).map_err(refused(0))?;
        drop(plans);
        if !samples.is_empty() || !models.is_empty() || counts.iter().any(|count| count.4 > 0) {
            transaction
                .commit(&mut self.state, |_| true)
                .map_err(refused(0))?;
            self.dataset = None;
        }
        let report = |added, skipped| CommitReport {
            version: self.version(),
            added,
            skipped,
        };
        Ok(counts
            .into_iter()
            .map(
                |(samples, samples_skipped, models, models_skipped, rows)| CommitSummary {
                    samples: report(samples, samples_skipped),
                    models: report(models, models_skipped),
                    measurements: report(rows, 0),
                },
            )
            .collect())
    }
}

/// Fixes, in `metrics`, the metric of every sample `plan` measures first, so that the
/// commits after it are validated against it.
fn claim_metrics(plan: &Plan, metrics: &mut [Option<Metric>]) {
    let mut claim = |sample: u32, metric: Metric| {
        if let Some(slot) = metrics.get_mut(sample as usize) {
            slot.get_or_insert(metric);
        }
    };
    for part in &plan.cardinal {
        for row in 0..part.values.len() {
            claim(part.samples.get(row), part.metric);
        }
    }
    if let Some(part) = &plan.pairwise {
        for row in 0..part.outcome.len() {
            claim(part.samples.get(row), Metric::Pairwise);
        }
    }
    if let Some(part) = &plan.rankings {
        for row in 0..part.samples.column.codes.len() {
            claim(part.samples.get(row), Metric::Ranking);
        }
    }
}
