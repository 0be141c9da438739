//! A joint fit's whole solution, keyed by what outlives one selection (model, sample,
//! stratum and benchmark indexes of the dataset), so that a later fit on a grown pool
//! starts from all of it.
//!
//! A warm start from the skills alone saves nothing here: the difficulties and hubs,
//! which most passes go to, would start afresh. Carrying them is the joint model's
//! counterpart of Plackett–Luce's warm start, whose scores are its whole state. New
//! samples start at their stratum's location and new groups where a cold fit puts them.
//! The start is only a start: the resumed fit stops where a cold fit of the same data
//! does (to the tolerance, in `rank_joint.rs` and `test_ranking.py`), in fewer passes.

use std::collections::HashMap;

use super::super::lists::Selection;
use super::layout::{Layout, NONE};
use super::state::State;

/// A location group's key: (stratum, numeric).
type LocationKey = (u32, bool);
/// A spread group's key: (benchmark, numeric).
type SpreadKey = (u32, bool);

/// One spread group's hubs.
#[derive(Clone, Copy)]
struct Hubs {
    /// NaN for binary groups, which have no scale.
    scale: f64,
    spread: f64,
    measurer: f64,
}

/// The solution of a joint fit (see the module comment). Opaque: pass it back through
/// [`RankOptions::initial_solution`](super::super::RankOptions::initial_solution).
#[derive(Clone, Default)]
pub struct JointSolution {
    /// By model index; NaN for models the fit did not rank.
    skills: Vec<f64>,
    /// Fitted samples (dataset indexes, ascending) and their difficulties.
    samples: Vec<u32>,
    difficulties: Vec<f64>,
    locations: HashMap<LocationKey, f64>,
    hubs: HashMap<SpreadKey, Hubs>,
    tie: f64,
    /// By (model index, stratum key): the deviations (see `deviations.rs`).
    deviations: HashMap<(u32, LocationKey), f64>,
    /// By spread key: σ² of the deviations.
    deviation_variance: HashMap<SpreadKey, f64>,
}

impl std::fmt::Debug for JointSolution {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("JointSolution")
            .field("models", &self.skills.len())
            .field("samples", &self.samples.len())
            .field("locations", &self.locations.len())
            .field("spread_groups", &self.hubs.len())
            .finish()
    }
}

impl JointSolution {
    /// Keys `state`, fitted on `selection` with `layout`.
    pub(crate) fn new(
        selection: &Selection,
        layout: &Layout,
        state: &State,
        n_models: usize,
    ) -> JointSolution {
        let mut skills = vec![f64::NAN; n_models];
        for (local, &model) in layout.ranked_models.iter().enumerate() {
            skills[model as usize] = state.parameters[local];
        }
        let mut pairs: Vec<(u32, f64)> = (0..selection.len())
            .filter_map(|position| {
                let sample = selection.sample(position);
                let group = layout.location[sample];
                (group != NONE && layout.location_parameter[group as usize] != NONE)
                    .then(|| (sample as u32, state.items[position].difficulty))
            })
            .collect();
        pairs.sort_unstable_by_key(|&(sample, _)| sample);
        pairs.dedup_by_key(|pair| pair.0);
        let (samples, difficulties) = pairs.into_iter().unzip();
        let parameter = |index: u32| {
            if index == NONE {
                f64::NAN
            } else {
                state.parameters[index as usize]
            }
        };
        let locations = layout
            .location_key
            .iter()
            .zip(&layout.location_parameter)
            .filter(|(_, &index)| index != NONE)
            .map(|(&key, &index)| (key, parameter(index)))
            .collect();
        let hubs = (0..layout.spread_key.len())
            .filter(|&group| layout.spread_parameter[group] != NONE)
            .map(|group| {
                let hubs = Hubs {
                    scale: parameter(layout.scale_parameter[group]),
                    spread: parameter(layout.spread_parameter[group]),
                    measurer: parameter(layout.measurer_parameter[group]),
                };
                (layout.spread_key[group], hubs)
            })
            .collect();
        let cells = &layout.deviations;
        let mut deviations = HashMap::new();
        let mut deviation_variance = HashMap::new();
        for stratum in 0..cells.n_strata() {
            let key = layout.location_key[cells.location[stratum] as usize];
            for (local, &model) in layout.ranked_models.iter().enumerate() {
                deviations.insert((model, key), state.deviations[stratum * cells.n + local]);
            }
            let group = cells.spread[stratum] as usize;
            deviation_variance.insert(layout.spread_key[group], state.deviation_variance[group]);
        }
        JointSolution {
            skills,
            samples,
            difficulties,
            locations,
            hubs,
            tie: state.tie,
            deviations,
            deviation_variance,
        }
    }

    fn difficulty(&self, sample: usize) -> Option<f64> {
        let sample = u32::try_from(sample).ok()?;
        let found = self.samples.binary_search(&sample).ok()?;
        Some(self.difficulties[found])
    }

    /// Moves a cold start `state` onto this solution where it applies; per spread group
    /// of `layout`, whether it is new (its spread is then held at first, as in a cold
    /// fit).
    pub(crate) fn resume(
        &self,
        selection: &Selection,
        layout: &Layout,
        state: &mut State,
    ) -> Vec<bool> {
        for (local, &model) in layout.ranked_models.iter().enumerate() {
            if let Some(&skill) = self.skills.get(model as usize) {
                if skill.is_finite() {
                    state.parameters[local] = skill;
                }
            }
        }
        let mut set = |index: u32, value: f64| {
            if index != NONE && value.is_finite() {
                state.parameters[index as usize] = value;
            }
        };
        for (key, &index) in layout.location_key.iter().zip(&layout.location_parameter) {
            if let Some(&location) = self.locations.get(key) {
                set(index, location);
            }
        }
        let mut new_spreads = vec![false; layout.spread_key.len()];
        for (group, key) in layout.spread_key.iter().enumerate() {
            if layout.spread_parameter[group] == NONE {
                continue;
            }
            match self.hubs.get(key) {
                Some(hubs) => {
                    set(layout.scale_parameter[group], hubs.scale);
                    set(layout.spread_parameter[group], hubs.spread);
                    set(layout.measurer_parameter[group], hubs.measurer);
                }
                None => new_spreads[group] = true,
            }
        }
        for (position, item) in state.items.iter_mut().enumerate() {
            let sample = selection.sample(position);
            let group = layout.location[sample];
            if group == NONE {
                continue;
            }
            item.difficulty = match self.difficulty(sample) {
                Some(difficulty) if difficulty.is_finite() => difficulty,
                // A new sample starts at its stratum's location, where a cold fit
                // starts every sample.
                _ => match layout.location_parameter[group as usize] {
                    NONE => 0.0,
                    index => state.parameters[index as usize],
                },
            };
        }
        if layout.has_ties && self.tie > 0.0 {
            state.tie = self.tie;
        }
        let cells = &layout.deviations;
        for stratum in 0..cells.n_strata() {
            let key = layout.location_key[cells.location[stratum] as usize];
            for (local, &model) in layout.ranked_models.iter().enumerate() {
                if let Some(&value) = self.deviations.get(&(model, key)) {
                    state.deviations[stratum * cells.n + local] = value;
                }
            }
            let group = cells.spread[stratum] as usize;
            if let Some(&variance) = self.deviation_variance.get(&layout.spread_key[group]) {
                state.deviation_variance[group] = variance;
            }
        }
        new_spreads
    }
}
