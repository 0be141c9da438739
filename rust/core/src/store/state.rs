//! The in-memory view of one version of a pool: interned samples and models,
//! provenances, sample metrics and the mapped measurement segments.
//!
//! Loading is incremental: when the new manifest extends the old one (the usual case
//! after a commit), only the new segments are read. Everything fallible happens before
//! the state is touched, so a failed load leaves the previous version intact.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use super::intern::{Models, Samples};
use super::manifest::{Manifest, SegmentEntry};
use super::replay::{check_shape, replay};
use super::segment::{Kind, Segment};
use super::{Metric, ModelRecord, Provenance, SampleRecord};
use crate::error::{Error, Result};

/// A measurement segment with its manifest entry.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub entry: SegmentEntry,
    pub segment: Arc<Segment>,
}

#[derive(Debug, Clone, Default)]
pub struct State {
    pub manifest: Manifest,
    pub samples: Samples,
    pub models: Models,
    pub provenances: Vec<Provenance>,
    pub metrics: Vec<Option<Metric>>,
    pub cardinal: Vec<Loaded>,
    pub pairwise: Vec<Loaded>,
    pub rankings: Vec<Loaded>,
    /// Names of the record segments read so far, in manifest order.
    record_segments: Vec<String>,
}

fn is_record(kind: Kind) -> bool {
    matches!(kind, Kind::Samples | Kind::Models | Kind::Provenances)
}

impl State {
    pub fn measurement_segments(&self) -> impl Iterator<Item = &Loaded> {
        self.cardinal
            .iter()
            .chain(&self.pairwise)
            .chain(&self.rankings)
    }

    pub fn n_cardinal(&self) -> u64 {
        self.cardinal.iter().map(|loaded| loaded.entry.rows).sum()
    }

    pub fn n_pairwise(&self) -> u64 {
        self.pairwise.iter().map(|loaded| loaded.entry.rows).sum()
    }

    pub fn n_rankings(&self) -> u64 {
        self.rankings.iter().map(|loaded| loaded.entry.rows).sum()
    }

    /// Moves this state to `manifest`. Files named in `trusted` were just written and
    /// fsynced by this process, so their full CRC pass is skipped.
    pub fn load(
        &mut self,
        pool: &Path,
        manifest: Manifest,
        trusted: &HashSet<String>,
    ) -> Result<()> {
        let records: Vec<&SegmentEntry> = manifest
            .segments
            .iter()
            .filter(|entry| is_record(entry.kind))
            .collect();
        let measurements: HashSet<&str> = manifest
            .segments
            .iter()
            .filter(|entry| !is_record(entry.kind))
            .map(|entry| entry.name.as_str())
            .collect();
        let extends = records.len() >= self.record_segments.len()
            && records
                .iter()
                .zip(&self.record_segments)
                .all(|(entry, name)| entry.name == *name)
            && self
                .measurement_segments()
                .all(|loaded| measurements.contains(loaded.entry.name.as_str()));
        if extends {
            let delta = self.read_delta(pool, &manifest, trusted)?;
            self.apply(delta);
        } else {
            // A compaction replaced segments: rebuild from scratch, but keep the
            // mappings of segments that survived, already verified.
            let mut fresh = State::default();
            let reuse: HashMap<&str, &Loaded> = self
                .measurement_segments()
                .map(|loaded| (loaded.entry.name.as_str(), loaded))
                .collect();
            let mut delta = fresh.read_delta(pool, &manifest, trusted)?;
            for loaded in &mut delta.segments {
                if let Some(old) = reuse.get(loaded.entry.name.as_str()) {
                    loaded.segment = old.segment.clone();
                }
            }
            fresh.apply(delta);
            *self = fresh;
        }
        self.manifest = manifest;
        Ok(())
    }

    /// Reads every segment of `manifest` this state has not seen, without changing it.
    fn read_delta(
        &self,
        pool: &Path,
        manifest: &Manifest,
        trusted: &HashSet<String>,
    ) -> Result<Delta> {
        let seen_records: HashSet<&str> = self.record_segments.iter().map(String::as_str).collect();
        let seen_measurements: HashMap<&str, &Loaded> = self
            .measurement_segments()
            .map(|loaded| (loaded.entry.name.as_str(), loaded))
            .collect();
        let mut delta = Delta::default();
        let mut models: Option<Models> = None;
        let mut new_ids: rustc_hash::FxHashSet<String> = rustc_hash::FxHashSet::default();
        let mut new_samples = 0usize;
        for entry in &manifest.segments {
            let path = pool.join(&entry.name);
            if is_record(entry.kind) {
                if seen_records.contains(entry.name.as_str()) {
                    continue;
                }
                let segment = Segment::open(&path, entry.kind, entry.length, entry.crc, true)?;
                if entry.kind == Kind::Models {
                    let models = models.get_or_insert_with(|| self.models.clone());
                    read_models(&path, &segment, models)?;
                } else if entry.kind == Kind::Samples {
                    for record in read_lines::<SampleRecord>(&path, &segment)? {
                        if self.samples.index.contains_key(&record.id)
                            || !new_ids.insert(record.id.clone())
                        {
                            return Err(corrupt(
                                &path,
                                format!("sample {:?} stored twice", record.id),
                            ));
                        }
                        match &record.same_as {
                            // A copy must follow the sample it copies.
                            Some(target)
                                if !self.samples.index.contains_key(target)
                                    && !new_ids.contains(target) =>
                            {
                                return Err(corrupt(
                                    &path,
                                    format!(
                                        "sample {:?} copies unknown sample {target:?}",
                                        record.id
                                    ),
                                ));
                            }
                            Some(_) => {}
                            None => new_samples += 1,
                        }
                        delta.samples.push(record);
                    }
                } else {
                    delta
                        .provenances
                        .extend(read_lines::<Provenance>(&path, &segment)?);
                }
                delta.record_segments.push(entry.name.clone());
                continue;
            }
            if seen_measurements.contains_key(entry.name.as_str()) {
                continue;
            }
            let verify = !trusted.contains(&entry.name);
            let segment = Arc::new(Segment::open(
                &path,
                entry.kind,
                entry.length,
                entry.crc,
                verify,
            )?);
            let loaded = Loaded {
                entry: entry.clone(),
                segment,
            };
            check_shape(&path, &loaded)?;
            delta.segments.push(loaded);
        }
        let counts = Counts {
            samples: (self.samples.records.len() + new_samples) as u32,
            models: models.as_ref().unwrap_or(&self.models).records.len() as u32,
            provenances: self.provenances.len() + delta.provenances.len(),
        };
        let mut metrics = self.metrics.clone();
        metrics.resize(counts.samples as usize, None);
        for loaded in &delta.segments {
            replay(
                &pool.join(&loaded.entry.name),
                loaded,
                &counts,
                &mut metrics,
            )?;
            loaded.segment.release_pages();
        }
        delta.metrics = metrics;
        delta.models = models;
        Ok(delta)
    }

    fn apply(&mut self, delta: Delta) {
        for record in delta.samples {
            self.samples.push(record);
        }
        if let Some(models) = delta.models {
            self.models = models;
        }
        self.provenances.extend(delta.provenances);
        self.metrics = delta.metrics;
        self.record_segments.extend(delta.record_segments);
        for loaded in delta.segments {
            match loaded.entry.kind {
                Kind::Cardinal => self.cardinal.push(loaded),
                Kind::Pairwise => self.pairwise.push(loaded),
                _ => self.rankings.push(loaded),
            }
        }
    }
}

/// What a load adds to a state; built without touching the state so that a failed
/// load changes nothing.
#[derive(Default)]
struct Delta {
    samples: Vec<SampleRecord>,
    models: Option<Models>,
    provenances: Vec<Provenance>,
    metrics: Vec<Option<Metric>>,
    record_segments: Vec<String>,
    segments: Vec<Loaded>,
}

pub struct Counts {
    pub samples: u32,
    pub models: u32,
    pub provenances: usize,
}

pub fn corrupt(path: &Path, reason: String) -> Error {
    Error::Corrupt {
        path: path.to_path_buf(),
        reason,
    }
}

fn read_lines<T: serde::de::DeserializeOwned>(path: &Path, segment: &Segment) -> Result<Vec<T>> {
    let lines = segment
        .payload()
        .split(|byte| *byte == b'\n')
        .filter(|line| !line.is_empty());
    let mut records = Vec::new();
    for (line_number, line) in lines.enumerate() {
        let record = serde_json::from_slice(line)
            .map_err(|e| corrupt(path, format!("record {line_number}: {e}")))?;
        records.push(record);
    }
    if records.len() as u64 != segment.rows {
        return Err(corrupt(
            path,
            format!("{} records, header says {}", records.len(), segment.rows),
        ));
    }
    Ok(records)
}

fn read_models(path: &Path, segment: &Segment, models: &mut Models) -> Result<()> {
    for (line_number, record) in read_lines::<ModelRecord>(path, segment)?.iter().enumerate() {
        models
            .apply(record, line_number)
            .map_err(|e| corrupt(path, format!("record {line_number}: {e}")))?;
    }
    Ok(())
}
