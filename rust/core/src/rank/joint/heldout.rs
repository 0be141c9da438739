//! Held-out log-likelihood of a fold's measurements under a fit of the other folds: the
//! score by which `choose.rs` compares forms.
//!
//! A held-out outcome is predicted with the uncertainty the fit leaves in its sample's
//! difficulty, not at its point estimate: a sample whose other measurements are all in
//! training has b ~ N(b̂, 1/(1/τ² + W)) (W the data's precision, Laplace's approximation);
//! a sample with none has its prior, N(location, τ²). A form whose spread is too small
//! is then overconfident where it matters, on the samples few models saw. Binary
//! outcomes use the probit approximation of the logistic-normal integral,
//! E σ(x) ≈ σ(μ / √(1 + πv/8)) (MacKay 1992); numeric values their exact normal
//! predictive in the data's units (the log φ of the change of variable included, so
//! that forms with other scales compare); comparisons and rankings their likelihood at
//! the fitted skills.

use std::collections::HashMap;

use rayon::prelude::*;

use super::super::lists::{group_ends, Selection};
use super::centre::Centre;
use super::folds::fold_of;
use super::layout::{reading_of, Layout, Reading, NONE};
use super::ranking::ListTerms;
use super::state::State;
use super::{binary, pairwise, prior, KAPPA2};
use crate::data::Dataset;

/// A fold's held-out log-likelihood, summed per compact sample, and the measurements
/// it counts.
pub(crate) struct HeldOut {
    pub by_sample: Vec<f64>,
    pub measurements: usize,
}

/// Scores fold `fold` of `all` (the compact dataset; `keys` its samples' fold keys) under
/// the fit (`layout`, `state`) of `training`, the other folds of the same samples.
pub(crate) fn held_out(
    all: &Dataset,
    keys: &[u32],
    fold: usize,
    training: &Selection,
    layout: &Layout,
    state: &State,
) -> HeldOut {
    let n = layout.n_ranked();
    let locations: HashMap<(u32, bool), u32> = layout
        .location_key
        .iter()
        .enumerate()
        .map(|(group, &key)| (key, group as u32))
        .collect();
    let spreads: HashMap<(u32, bool), u32> = layout
        .spread_key
        .iter()
        .enumerate()
        .map(|(group, &key)| (key, group as u32))
        .collect();
    let context = Context {
        all,
        training: training.data,
        layout,
        state,
        locations,
        spreads,
        variance: state.spread_variance(layout),
        effective: state.effective_skills(layout),
        mean_skill: Centre::of(training, layout).mean(&state.parameters[..n]),
    };
    let scored: Vec<(f64, usize)> = (0..all.n_samples)
        .into_par_iter()
        .map(|sample| context.sample(sample, keys[sample], fold))
        .collect();
    HeldOut {
        measurements: scored.iter().map(|&(_, count)| count).sum(),
        by_sample: scored.into_iter().map(|(total, _)| total).collect(),
    }
}

struct Context<'a> {
    all: &'a Dataset,
    training: &'a Dataset,
    layout: &'a Layout,
    state: &'a State,
    locations: HashMap<(u32, bool), u32>,
    spreads: HashMap<(u32, bool), u32>,
    variance: Vec<f64>,
    effective: Vec<f64>,
    mean_skill: f64,
}

impl Context<'_> {
    /// Compact sample `sample` (dataset sample `original`): its held-out log-likelihood
    /// and count.
    fn sample(&self, sample: usize, original: u32, fold: usize) -> (f64, usize) {
        let (mut total, mut count) = (0.0, 0usize);
        let all = self.all;
        let held = |place: usize| fold_of(original, place) == fold;
        let range = all.cardinal.range(sample);
        let mut place = range.len();
        if (0..range.len()).any(held) {
            let (sum, scored) = self.cardinal(sample, original, fold);
            total += sum;
            count += scored;
        }
        let local = &self.layout.local;
        let skills = &self.state.parameters[..self.layout.n_ranked()];
        let mut list = ListTerms::new();
        let mut ends = Vec::new();
        for ranking in all.rankings.range(sample) {
            if held(place) {
                let entries = all.rankings.entries(ranking);
                let models = &all.rankings.models[entries.clone()];
                if models.iter().all(|&m| local[m as usize] != NONE) {
                    group_ends(&all.rankings.groups[entries], &mut ends);
                    list.fill(models, &ends, local, skills, true);
                    total += list.log_likelihood;
                    count += 1;
                }
            }
            place += 1;
        }
        for comparison in all.pairwise.range(sample) {
            if held(place) {
                let (a, b) = (
                    local[all.pairwise.model_a[comparison] as usize],
                    local[all.pairwise.model_b[comparison] as usize],
                );
                if a != NONE && b != NONE {
                    let difference = skills[a as usize] - skills[b as usize];
                    let credit = f64::from(all.pairwise.weight_a[comparison]);
                    total += pairwise::log_likelihood(difference, credit, self.state.tie);
                    count += 1;
                }
            }
            place += 1;
        }
        (total, count)
    }

    /// The held-out cardinal entries of compact sample `sample`.
    fn cardinal(&self, sample: usize, original: u32, fold: usize) -> (f64, usize) {
        let (all, layout, parameters) = (self.all, self.layout, &self.state.parameters);
        let range = all.cardinal.range(sample);
        let reading = reading_of(all.sample_kind(sample), &all.cardinal.values[range.clone()]);
        let numeric = matches!(reading, Reading::Numeric { .. });
        let key = |index: u32| (index, numeric);
        let group = self.locations.get(&key(all.stratum(sample))).copied();
        let spread = self.spreads.get(&key(all.benchmark(sample))).copied();
        let (Some(group), Some(spread)) = (group, spread) else {
            return (0.0, 0);
        };
        let (location_index, spread_index) = (
            layout.location_parameter[group as usize],
            layout.spread_parameter[spread as usize],
        );
        if location_index == NONE || spread_index == NONE {
            return (0.0, 0);
        }
        let (skills, _) = layout
            .deviations
            .skills_of(group, parameters, &self.effective);
        let scale = match reading {
            Reading::Numeric { .. } => parameters[layout.scale_parameter[spread as usize] as usize],
            _ => 1.0,
        };
        // The difficulty's posterior given the training measurements of the sample.
        let trained = self.training.cardinal.range(sample);
        let trained_models = &self.training.cardinal.models[trained.clone()];
        let beta = parameters[layout.measurer_parameter[spread as usize] as usize];
        let effect = prior::effect(
            trained_models,
            &layout.local,
            parameters,
            self.mean_skill,
            beta,
        );
        let location = parameters[location_index as usize] + effect.map_or(0.0, |e| e.shift());
        let prior_variance = self.variance[spread as usize];
        let present = !trained.is_empty() && layout.location[sample] != NONE;
        let difficulty = if present {
            self.state.items[sample].difficulty
        } else {
            location
        };
        let mut precision = 0.0;
        if present {
            for &model in trained_models {
                let index = layout.local[model as usize];
                if index == NONE {
                    continue;
                }
                precision += match reading {
                    Reading::Numeric { .. } => 1.0 / KAPPA2,
                    _ => {
                        let p = binary::sigmoid(skills[index as usize] - difficulty);
                        p * (1.0 - p)
                    }
                };
            }
        }
        let variance = 1.0 / (1.0 / prior_variance + precision);
        let (mut total, mut count) = (0.0, 0usize);
        for (place, entry) in range.enumerate() {
            if fold_of(original, place) != fold {
                continue;
            }
            let index = layout.local[all.cardinal.models[entry] as usize];
            if index == NONE {
                continue;
            }
            let margin = skills[index as usize] - difficulty;
            let value = f64::from(all.cardinal.values[entry]);
            total += match reading {
                Reading::Numeric { sign } => {
                    let spread = spread as usize;
                    let oriented = sign * value - layout.centre[spread];
                    let noise = KAPPA2 + variance;
                    let residual = scale * oriented - margin;
                    scale.ln()
                        - 0.5 * (2.0 * std::f64::consts::PI * noise).ln()
                        - 0.5 * residual * residual / noise
                }
                _ => {
                    let x = margin / (1.0 + std::f64::consts::PI * variance / 8.0).sqrt();
                    // y log σ(x) + (1 − y) log σ(−x), stably.
                    let log_right = -(-x).exp().ln_1p();
                    let log_right = if log_right.is_finite() { log_right } else { x };
                    log_right - (1.0 - value) * x
                }
            };
            count += 1;
        }
        (total, count)
    }
}
