//! Compaction: every kind with more than one segment is rewritten as one new segment,
//! rows in commit order, provenance runs rebased. The new files get fresh names and the
//! old ones are deleted only after the new manifest is in place, so readers of the old
//! version are never disturbed.

use std::collections::HashSet;

use super::commit::Transaction;
use super::manifest::Run;
use super::segment::{Kind, RankingView};
use super::state::{Loaded, State};
use super::SampleRecord;
use crate::error::Result;

/// Concatenated runs of `segments`, rebased and with adjacent equal runs merged.
fn merged_runs(segments: &[Loaded]) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    let mut base = 0u64;
    for loaded in segments {
        for run in &loaded.entry.runs {
            let rebased = Run {
                start: base + run.start,
                ..*run
            };
            let same = runs.last().is_some_and(|last| {
                last.provenance == rebased.provenance && last.metric == rebased.metric
            });
            if !same {
                runs.push(rebased);
            }
        }
        base += loaded.entry.rows;
    }
    runs
}

fn merge_fixed(transaction: &mut Transaction, kind: Kind, segments: &[Loaded]) -> Result<()> {
    let rows = segments.iter().map(|loaded| loaded.entry.rows).sum();
    transaction.segment(kind, rows, 0, merged_runs(segments), |writer| {
        for loaded in segments {
            writer.write(loaded.segment.payload())?;
        }
        Ok(())
    })
}

fn merge_rankings(transaction: &mut Transaction, segments: &[Loaded]) -> Result<()> {
    let views: Vec<RankingView> = segments
        .iter()
        .map(|loaded| RankingView::new(&loaded.segment))
        .collect();
    let rows: usize = views.iter().map(|view| view.rows).sum();
    let entries: usize = views.iter().map(|view| view.entries).sum();
    transaction.segment(
        Kind::Rankings,
        rows as u64,
        entries as u64,
        merged_runs(segments),
        |writer| {
            let mut bytes = Vec::with_capacity(RankingView::payload_len(rows, entries));
            for view in &views {
                bytes.extend((0..view.rows).flat_map(|ranking| view.sample(ranking).to_le_bytes()));
            }
            let mut base = 0u64;
            for view in &views {
                bytes.extend(
                    (0..view.rows).flat_map(|ranking| (base + view.offset(ranking)).to_le_bytes()),
                );
                base += view.entries as u64;
            }
            bytes.extend(base.to_le_bytes());
            for view in &views {
                bytes.extend((0..view.entries).flat_map(|entry| view.model(entry).to_le_bytes()));
            }
            for view in &views {
                bytes
                    .extend((0..view.entries).flat_map(|entry| view.position(entry).to_le_bytes()));
            }
            writer.write(&bytes)
        },
    )
}

/// Rewrites `state` into one segment per kind; returns how many segments went away.
pub fn compact(pool: &std::path::Path, state: &mut State) -> Result<u64> {
    let count = |kind: Kind| {
        state
            .manifest
            .segments
            .iter()
            .filter(|entry| entry.kind == kind)
            .count()
    };
    let merged: HashSet<Kind> = [
        Kind::Samples,
        Kind::Models,
        Kind::Provenances,
        Kind::Cardinal,
        Kind::Pairwise,
        Kind::Rankings,
    ]
    .into_iter()
    .filter(|kind| count(*kind) > 1)
    .collect();
    if merged.is_empty() {
        return Ok(0);
    }
    let before = state.manifest.segments.len() as u64;
    let mut transaction = Transaction::new(pool, state);
    if merged.contains(&Kind::Samples) {
        // Samples first, then the copies that name them.
        let records: Vec<&SampleRecord> = state
            .samples
            .records
            .iter()
            .chain(&state.samples.copies)
            .collect();
        transaction.records(Kind::Samples, &records)?;
    }
    if merged.contains(&Kind::Models) {
        transaction.records(Kind::Models, &state.models.records)?;
    }
    if merged.contains(&Kind::Provenances) {
        transaction.records(Kind::Provenances, &state.provenances)?;
    }
    if merged.contains(&Kind::Cardinal) {
        merge_fixed(&mut transaction, Kind::Cardinal, &state.cardinal)?;
    }
    if merged.contains(&Kind::Pairwise) {
        merge_fixed(&mut transaction, Kind::Pairwise, &state.pairwise)?;
    }
    if merged.contains(&Kind::Rankings) {
        merge_rankings(&mut transaction, &state.rankings)?;
    }
    transaction.commit(state, |entry| !merged.contains(&entry.kind))?;
    Ok(before - state.manifest.segments.len() as u64)
}
