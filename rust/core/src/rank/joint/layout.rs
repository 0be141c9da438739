//! What a selection asks of the joint model: how each sample's values are read, which
//! difficulty groups exist, which models can be ranked, and where each parameter lives.
//!
//! Parameters are one vector: the skills of the ranked models (local indexes 0..n), then
//! the *hubs*: one location per difficulty group (the mean difficulty of a stratum's
//! binary or numeric samples), one scale per numeric spread group (a benchmark's numeric
//! samples), one log spread per spread group and one measurer effect per spread group (see
//! `prior.rs`). Per-sample difficulties live beside the vector, one per selection
//! position, and so do the deviations per model and stratum (`deviations.rs`).
//!
//! Connectivity comes from the links pass (`links.rs`): the component with the most
//! models is ranked; the others are reported.

use std::collections::HashMap;

use rayon::prelude::*;

use super::super::graph::Coverage;
use super::super::lists::Selection;
use super::deviations::Deviations;
use super::form::{JointForm, SPREAD_EVIDENCE};
use super::links::Links;
use crate::data::{Dataset, SampleKind};
use crate::error::Result;

/// A model or group outside the ranked component.
pub(crate) const NONE: u32 = u32::MAX;

/// Largest location groups × models for which a pass marks links in a matrix rather than
/// joining them one measurement at a time.
const SEEN_LIMIT: usize = 1 << 22;

/// How a sample's cardinal values enter the model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Reading {
    /// No cardinal values in the selection.
    Absent,
    /// 0/1 outcomes (fractions allowed: repeated measurements are averaged).
    Binary,
    /// A score; `sign` orients it so that higher is better.
    Numeric { sign: f64 },
}

/// Per-sample facts and the parameter layout of one selection.
pub(crate) struct Layout {
    /// By dataset sample index.
    pub reading: Vec<Reading>,
    /// By dataset sample index: the sample's location group, or [`NONE`].
    pub location: Vec<u32>,
    /// By dataset sample index: the sample's spread group, or [`NONE`].
    pub spread: Vec<u32>,
    /// Per location group: (stratum, numeric), which outlives the selection.
    pub location_key: Vec<(u32, bool)>,
    /// Per spread group: (benchmark, numeric).
    pub spread_key: Vec<(u32, bool)>,
    /// Per spread group: the mean of its oriented numeric values (subtracted first).
    pub centre: Vec<f64>,
    /// Per spread group: the standard deviation of its oriented numeric values.
    pub spread_sd: Vec<f64>,
    /// Ranked models and their local indexes.
    pub ranked: Vec<bool>,
    pub ranked_models: Vec<u32>,
    pub local: Vec<u32>,
    pub disconnected: Vec<Vec<u32>>,
    pub n_measurements: Vec<u64>,
    pub n_samples: Vec<u64>,
    /// Per location group: its parameter index, or [`NONE`] outside the ranked component.
    pub location_parameter: Vec<u32>,
    /// Per spread group: the parameter index of its scale (numeric groups in the ranked
    /// component), or [`NONE`].
    pub scale_parameter: Vec<u32>,
    /// Per spread group: the parameter index of its log spread log τ² (groups in the
    /// ranked component), or [`NONE`].
    pub spread_parameter: Vec<u32>,
    /// Per spread group: the parameter index of its measurer effect β (groups in the
    /// ranked component), or [`NONE`].
    pub measurer_parameter: Vec<u32>,
    pub n_parameters: usize,
    /// Σ over positions of (entries + 2)² / 2: the cost of a pass with the full matrix.
    pub pair_work: f64,
    /// Entries read by a pass (cardinal entries, comparisons, ranking entries).
    pub entries: f64,
    /// Whether any comparison is an exact tie (credit 1/2): then Davidson's tie parameter
    /// is fitted.
    pub has_ties: bool,
    /// The strata with a deviation per model (see `deviations.rs`); none when the form
    /// has no deviations.
    pub deviations: Deviations,
    /// The parts the fit uses (see `form.rs`).
    pub form: JointForm,
    /// Per spread group: samples measured twice or more (the evidence for its spread).
    pub repeated: Vec<usize>,
    /// Per spread group: whether its spread is held at `form::FIXED_SPREAD`.
    pub fixed_spread: Vec<bool>,
}

impl Layout {
    /// The skill parameters come first.
    pub fn n_ranked(&self) -> usize {
        self.ranked_models.len()
    }
}

/// Reads unknown kinds from the values: all 0 or 1 is binary; otherwise numeric, ordered
/// as the dataset stored it (best first: ascending values mean lower is better).
pub(crate) fn reading_of(kind: SampleKind, values: &[f32]) -> Reading {
    match kind {
        SampleKind::Binary => Reading::Binary,
        SampleKind::NumericHigher => Reading::Numeric { sign: 1.0 },
        SampleKind::NumericLower => Reading::Numeric { sign: -1.0 },
        SampleKind::Unknown => {
            if values.iter().all(|&v| v == 0.0 || v == 1.0) {
                Reading::Binary
            } else if values.first() < values.last() {
                Reading::Numeric { sign: -1.0 }
            } else {
                Reading::Numeric { sign: 1.0 }
            }
        }
    }
}

/// The keys of a group numbering, in group order.
fn keys_by_group(index: &HashMap<(u32, bool), u32>) -> Vec<(u32, bool)> {
    let mut keys = vec![(0, false); index.len()];
    for (&key, &group) in index {
        keys[group as usize] = key;
    }
    keys
}

/// Reads the samples of `selection` and lays out the parameters of `form`.
pub(crate) fn layout(selection: &Selection, form: JointForm) -> Result<Layout> {
    let data: &Dataset = selection.data;
    let n_samples = data.n_samples;
    let cardinal = &data.cardinal;
    // How each position's sample is read (in parallel: unknown kinds read every value).
    let readings: Vec<Reading> = (0..selection.len())
        .into_par_iter()
        .map(|position| {
            let sample = selection.sample(position);
            if sample + 1 >= cardinal.offsets.len() {
                return Reading::Absent;
            }
            let range = cardinal.range(sample);
            if range.is_empty() {
                Reading::Absent
            } else {
                reading_of(data.sample_kind(sample), &cardinal.values[range])
            }
        })
        .collect();
    let mut reading = vec![Reading::Absent; n_samples];
    let mut location = vec![NONE; n_samples];
    let mut spread = vec![NONE; n_samples];
    // Groups are numbered in order of first use along the selection.
    let mut location_index: HashMap<(u32, bool), u32> = HashMap::new();
    let mut spread_index: HashMap<(u32, bool), u32> = HashMap::new();
    let mut repeated_count: HashMap<u32, usize> = HashMap::new();
    for (position, &read) in readings.iter().enumerate() {
        let sample = selection.sample(position);
        if read == Reading::Absent || reading[sample] != Reading::Absent {
            continue;
        }
        reading[sample] = read;
        let repeated = cardinal.range(sample).len() >= 2;
        let numeric = matches!(read, Reading::Numeric { .. });
        let next = location_index.len() as u32;
        location[sample] = *location_index
            .entry((data.stratum(sample), numeric))
            .or_insert(next);
        let next = spread_index.len() as u32;
        spread[sample] = *spread_index
            .entry((data.benchmark(sample), numeric))
            .or_insert(next);
        if repeated {
            *repeated_count.entry(spread[sample]).or_insert(0) += 1;
        }
    }
    drop(readings);
    let n_spreads = spread_index.len();
    let n_models = data.n_models;
    let n_locations = location_index.len();
    let seen = n_locations * n_models <= SEEN_LIMIT;
    let links = selection.fold(
        || Links {
            selection: *selection,
            location: &location,
            spread: &spread,
            reading: &reading,
            seen: if seen {
                vec![false; n_locations * n_models]
            } else {
                Vec::new()
            },
            moments: vec![[0.0; 3]; n_spreads],
            coverage: Coverage::new(n_models, n_models + n_locations),
            pair_work: 0.0,
            entries: 0.0,
            has_ties: false,
        },
        Links::merge,
    );
    links.coverage.check()?;
    let Links {
        mut coverage,
        pair_work,
        entries,
        has_ties,
        seen,
        moments,
        ..
    } = links;
    for (index, _) in seen.iter().enumerate().filter(|(_, &seen)| seen) {
        let (group, model) = (index / n_models, index % n_models);
        coverage
            .components
            .union((n_models + group) as u32, model as u32);
    }
    let centre: Vec<f64> = moments
        .iter()
        .map(|m| if m[2] > 0.0 { m[0] / m[2] } else { 0.0 })
        .collect();
    let spread_sd: Vec<f64> = moments
        .iter()
        .zip(&centre)
        .map(|(m, centre)| {
            let variance = if m[2] > 0.0 {
                m[1] / m[2] - centre * centre
            } else {
                0.0
            };
            // A group whose values are all equal still needs a unit.
            if variance > 0.0 {
                variance.sqrt()
            } else {
                1.0
            }
        })
        .collect();
    let split = coverage.split();
    let main_root = split.main_root.unwrap_or(NONE);
    let ranked_models = split.ranked_models;
    let mut next = ranked_models.len() as u32;
    let location_parameter: Vec<u32> = (0..n_locations as u32)
        .map(|group| {
            if main_root != NONE && coverage.components.find(n_models as u32 + group) == main_root {
                next += 1;
                next - 1
            } else {
                NONE
            }
        })
        .collect();
    // A spread group gets a spread (and, numeric, a scale) when one of its samples lies
    // in the ranked component.
    let spread_key = keys_by_group(&spread_index);
    let mut spread_used = vec![false; n_spreads];
    for sample in 0..n_samples {
        let group = location[sample];
        if group != NONE && location_parameter[group as usize] != NONE {
            spread_used[spread[sample] as usize] = true;
        }
    }
    let mut number = |used: bool| {
        if used {
            next += 1;
            next - 1
        } else {
            NONE
        }
    };
    let scale_parameter: Vec<u32> = spread_used
        .iter()
        .zip(&spread_key)
        .map(|(&used, &(_, numeric))| number(used && numeric))
        .collect();
    let spread_parameter: Vec<u32> = spread_used.iter().map(|&used| number(used)).collect();
    let measurer_parameter: Vec<u32> = spread_used.iter().map(|&used| number(used)).collect();
    let deviations = if form.deviations {
        Deviations::new(
            &location,
            &spread,
            &reading,
            &location_parameter,
            n_spreads,
            ranked_models.len(),
        )
    } else {
        Deviations::none(n_locations, ranked_models.len())
    };
    let repeated: Vec<usize> = (0..n_spreads as u32)
        .map(|group| repeated_count.get(&group).copied().unwrap_or(0))
        .collect();
    let fixed_spread = repeated
        .iter()
        .map(|&count| !form.spreads || count < SPREAD_EVIDENCE)
        .collect();
    Ok(Layout {
        reading,
        location,
        spread,
        location_key: keys_by_group(&location_index),
        spread_key,
        centre,
        spread_sd,
        ranked: split.ranked,
        ranked_models,
        local: split.local,
        disconnected: split.disconnected,
        n_measurements: coverage.n_measurements,
        n_samples: coverage.n_samples,
        location_parameter,
        scale_parameter,
        spread_parameter,
        measurer_parameter,
        n_parameters: next as usize,
        pair_work,
        entries,
        has_ties,
        deviations,
        form,
        repeated,
        fixed_spread,
    })
}
