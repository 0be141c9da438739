//! Checks run once per measurement segment when it is first loaded: its shape against
//! the manifest, and every index it holds; the same pass fixes each sample's metric.

use std::path::Path;

use super::segment::{self, Kind, RankingView, CARDINAL_ROW, PAIRWISE_ROW};
use super::state::{corrupt, Counts, Loaded};
use super::Metric;
use crate::error::{Error, Result};

/// Fixes each sample's metric from its measurements, and checks that every index in
/// the segment names a known sample, model and provenance.
pub fn replay(
    path: &Path,
    loaded: &Loaded,
    counts: &Counts,
    metrics: &mut [Option<Metric>],
) -> Result<()> {
    let corrupt = |reason: String| corrupt(path, reason);
    let (n_samples, n_models) = (counts.samples, counts.models);
    let payload = loaded.segment.payload();
    let runs = &loaded.entry.runs;
    for (run_index, run) in runs.iter().enumerate() {
        if run.provenance as usize >= counts.provenances {
            return Err(corrupt(format!(
                "run {run_index} names an unknown provenance"
            )));
        }
        let end = runs
            .get(run_index + 1)
            .map_or(loaded.entry.rows, |next| next.start) as usize;
        let start = run.start as usize;
        let mut check = |sample: u32, models: &[u32], metric: Metric| -> Result<()> {
            if sample >= n_samples || models.iter().any(|model| *model >= n_models) {
                return Err(corrupt(format!(
                    "row names an unknown sample or model (run {run_index})"
                )));
            }
            let slot = &mut metrics[sample as usize];
            if slot.is_none() {
                *slot = Some(metric);
            }
            Ok(())
        };
        match loaded.entry.kind {
            Kind::Cardinal => {
                let metric = run
                    .metric
                    .ok_or_else(|| corrupt(format!("run {run_index} has no metric")))?;
                for row in
                    payload[start * CARDINAL_ROW..end * CARDINAL_ROW].chunks_exact(CARDINAL_ROW)
                {
                    let (sample, model, _) = segment::cardinal_row(row);
                    check(sample, &[model], metric)?;
                }
            }
            Kind::Pairwise => {
                for row in
                    payload[start * PAIRWISE_ROW..end * PAIRWISE_ROW].chunks_exact(PAIRWISE_ROW)
                {
                    let (sample, a, b, _, _) = segment::pairwise_row(row);
                    check(sample, &[a, b], Metric::Pairwise)?;
                }
            }
            _ => {
                let view = RankingView::new(&loaded.segment);
                for ranking in start..end {
                    let models: Vec<u32> = (view.offset(ranking)..view.offset(ranking + 1))
                        .map(|entry| view.model(entry as usize))
                        .collect();
                    check(view.sample(ranking), &models, Metric::Ranking)?;
                }
            }
        }
    }
    Ok(())
}

/// Checks that a measurement segment's payload and runs match its declared rows, so that
/// later readers can index it without bounds surprises.
pub fn check_shape(path: &Path, loaded: &Loaded) -> Result<()> {
    let corrupt = |reason: String| Error::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    let rows = loaded.segment.rows;
    if rows != loaded.entry.rows {
        return Err(corrupt(format!(
            "{rows} rows, manifest says {}",
            loaded.entry.rows
        )));
    }
    let payload = loaded.segment.payload().len();
    let expected = match loaded.entry.kind {
        Kind::Cardinal => rows as usize * CARDINAL_ROW,
        Kind::Pairwise => rows as usize * PAIRWISE_ROW,
        _ => RankingView::payload_len(rows as usize, loaded.segment.entries as usize),
    };
    if payload != expected {
        return Err(corrupt(format!(
            "payload of {payload} bytes, expected {expected}"
        )));
    }
    if loaded.entry.kind == Kind::Rankings {
        let view = RankingView::new(&loaded.segment);
        let offsets_ok = view.offset(0) == 0
            && view.offset(view.rows) == view.entries as u64
            && (0..view.rows).all(|ranking| view.offset(ranking) <= view.offset(ranking + 1));
        if !offsets_ok {
            return Err(corrupt("ranking offsets out of order".into()));
        }
    }
    let runs = &loaded.entry.runs;
    let runs_ok = (rows == 0 || runs.first().is_some_and(|run| run.start == 0))
        && runs.windows(2).all(|pair| pair[0].start < pair[1].start)
        && runs.last().is_none_or(|run| run.start < rows.max(1));
    if !runs_ok {
        return Err(corrupt("provenance runs do not cover the rows".into()));
    }
    Ok(())
}
