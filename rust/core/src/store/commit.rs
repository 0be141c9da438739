//! The commit protocol. Under the writer lock: new segments are written under fresh
//! unique names and fsynced, then the directory is fsynced, then the manifest naming
//! them is swapped in. Until that rename the new files are orphans that no reader
//! looks at, so a crash at any point leaves either the whole batch or none of it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use super::manifest::{sync_directory, Manifest, Run, SegmentEntry, MANIFEST};
use super::segment::{self, Kind, SegmentWriter, CARDINAL_ROW};
use super::state::State;
use super::validate::Plan;
use crate::error::{Error, Result};

/// Rows encoded per write, so that encoding runs in parallel on a bounded buffer.
const BLOCK_ROWS: usize = 1 << 20;

/// A commit in progress: the segments written so far, removed again if the commit
/// is abandoned (on error), so that failed commits leave no orphans behind.
pub struct Transaction<'p> {
    pool: &'p Path,
    version: u64,
    entries: Vec<SegmentEntry>,
    written: Vec<PathBuf>,
    committed: bool,
}

/// A name no other commit uses, even one that crashed at the same version.
fn unique_name(version: u64, kind: Kind) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nonce = nanos ^ (u64::from(std::process::id()) << 32) ^ count.rotate_left(17);
    format!("{version:012}-{}-{nonce:016x}.seg", kind.name())
}

impl<'p> Transaction<'p> {
    pub fn new(pool: &'p Path, state: &State) -> Self {
        Transaction {
            pool,
            version: state.manifest.version + 1,
            entries: Vec::new(),
            written: Vec::new(),
            committed: false,
        }
    }

    /// Writes one segment; `fill` writes its payload.
    pub fn segment(
        &mut self,
        kind: Kind,
        rows: u64,
        entries: u64,
        runs: Vec<Run>,
        fill: impl FnOnce(&mut SegmentWriter) -> Result<()>,
    ) -> Result<()> {
        let name = unique_name(self.version, kind);
        let path = self.pool.join(&name);
        self.written.push(path.clone());
        let mut writer = SegmentWriter::create(&path, kind, rows, entries)?;
        fill(&mut writer)?;
        let (length, crc) = writer.finish()?;
        self.entries.push(SegmentEntry {
            name,
            kind,
            length,
            crc,
            rows,
            runs,
        });
        Ok(())
    }

    /// A segment of JSON lines.
    pub fn records<T: serde::Serialize>(&mut self, kind: Kind, records: &[T]) -> Result<()> {
        let mut text = Vec::new();
        for record in records {
            serde_json::to_writer(&mut text, record)
                .map_err(|e| Error::invalid(kind.name(), None, e.to_string()))?;
            text.push(b'\n');
        }
        self.segment(kind, records.len() as u64, 0, Vec::new(), |writer| {
            writer.write(&text)
        })
    }

    /// Publishes the segments: `keep` decides which current segments stay (all but
    /// the merged ones for a compaction). Returns the new manifest.
    pub fn commit(
        mut self,
        state: &mut State,
        keep: impl Fn(&SegmentEntry) -> bool,
    ) -> Result<u64> {
        sync_directory(self.pool)?;
        let mut segments: Vec<SegmentEntry> = state
            .manifest
            .segments
            .iter()
            .filter(|entry| keep(entry))
            .cloned()
            .collect();
        segments.extend(self.entries.iter().cloned());
        let manifest = Manifest {
            version: self.version,
            segments,
            ..state.manifest.clone()
        };
        // From here on the files may be named by the manifest on disk (the rename may
        // succeed even if a later fsync fails), so they must never be removed on error.
        self.committed = true;
        manifest.write(self.pool)?;
        let trusted: HashSet<String> = self
            .entries
            .iter()
            .map(|entry| entry.name.clone())
            .collect();
        state.load(self.pool, manifest, &trusted)?;
        remove_orphans(self.pool, &state.manifest);
        Ok(self.version)
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.committed {
            for path in &self.written {
                // Best effort: a leftover file is an ignored orphan, never harmful.
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// Removes segment files that no manifest names: leftovers of torn commits, and files a
/// compaction replaced. Called under the lock, after the new manifest is in place, so
/// that readers of the previous version keep their (already mapped) files valid.
pub fn remove_orphans(pool: &Path, manifest: &Manifest) {
    let Ok(listing) = std::fs::read_dir(pool) else {
        return;
    };
    for entry in listing.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let orphan = (name.ends_with(".seg") && !manifest.is_live(name))
            || name == format!("{MANIFEST}.tmp");
        if orphan {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes `rows` fixed-size records produced by `encode` in parallel blocks.
pub fn write_blocks(
    writer: &mut SegmentWriter,
    rows: usize,
    width: usize,
    encode: impl Fn(usize, &mut [u8]) + Sync,
) -> Result<()> {
    let mut buffer = vec![0u8; BLOCK_ROWS.min(rows) * width];
    let mut start = 0;
    while start < rows {
        let count = BLOCK_ROWS.min(rows - start);
        let block = &mut buffer[..count * width];
        block
            .par_chunks_mut(width)
            .enumerate()
            .for_each(|(offset, out)| encode(start + offset, out));
        writer.write(block)?;
        start += count;
    }
    Ok(())
}

/// Writes the measurement segments of a validated batch, all under provenance `provenance`.
pub fn write_plan(transaction: &mut Transaction, plan: &Plan, provenance: u32) -> Result<()> {
    let cardinal_rows: usize = plan.cardinal.iter().map(|part| part.values.len()).sum();
    if cardinal_rows > 0 {
        let mut runs = Vec::new();
        let mut start = 0u64;
        for part in plan.cardinal.iter().filter(|part| !part.values.is_empty()) {
            runs.push(Run {
                start,
                provenance,
                metric: Some(part.metric),
            });
            start += part.values.len() as u64;
        }
        transaction.segment(Kind::Cardinal, cardinal_rows as u64, 0, runs, |writer| {
            for part in &plan.cardinal {
                write_blocks(writer, part.values.len(), CARDINAL_ROW, |row, out| {
                    out[0..4].copy_from_slice(&part.samples.get(row).to_le_bytes());
                    out[4..8].copy_from_slice(&part.models.get(row).to_le_bytes());
                    out[8..12].copy_from_slice(&(part.values[row] as f32).to_le_bytes());
                })?;
            }
            Ok(())
        })?;
    }
    if let Some(part) = plan
        .pairwise
        .as_ref()
        .filter(|part| !part.outcome.is_empty())
    {
        let rows = part.outcome.len();
        let run = vec![Run {
            start: 0,
            provenance,
            metric: None,
        }];
        transaction.segment(Kind::Pairwise, rows as u64, 0, run, |writer| {
            write_blocks(writer, rows, segment::PAIRWISE_ROW, |row, out| {
                let probability = part
                    .probability_b
                    .map_or(f32::NAN, |column| column[row] as f32);
                let row = (
                    part.samples.get(row),
                    part.model_a.get(row),
                    part.model_b.get(row),
                    part.outcome[row],
                    probability,
                );
                segment::encode_pairwise(out, row);
            })
        })?;
    }
    if let Some(part) = plan.rankings.as_ref().filter(|part| part.offsets.len() > 1) {
        let rows = part.offsets.len() - 1;
        let entries = part.positions.len();
        let run = vec![Run {
            start: 0,
            provenance,
            metric: None,
        }];
        transaction.segment(Kind::Rankings, rows as u64, entries as u64, run, |writer| {
            let mut bytes = Vec::with_capacity(segment::RankingView::payload_len(rows, entries));
            bytes.extend((0..rows).flat_map(|ranking| part.samples.get(ranking).to_le_bytes()));
            bytes.extend(part.offsets.iter().flat_map(|offset| offset.to_le_bytes()));
            bytes.extend((0..entries).flat_map(|entry| part.models.get(entry).to_le_bytes()));
            bytes.extend(
                part.positions
                    .iter()
                    .flat_map(|position| position.to_le_bytes()),
            );
            writer.write(&bytes)
        })?;
    }
    Ok(())
}
