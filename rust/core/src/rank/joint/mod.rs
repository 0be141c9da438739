//! The joint latent-skill model: one skill per model, shared by every kind of
//! measurement, so that every measurement counts, including a sample that only one
//! model was measured on.
//!
//! * binary sample j: P(right) = σ(θ_m − b_j), the Rasch model (`binary.rs`);
//! * numeric sample j: φ_k v = θ_m − b_j + logistic-scale Gaussian noise, a per-sample
//!   offset model on the same scale (`numeric.rs`);
//! * comparison: Bradley–Terry on θ_a − θ_b, Davidson's ties (`pairwise.rs`);
//! * ranking: Plackett–Luce with tied groups (`ranking.rs`).
//!
//! Difficulties b_j have a hierarchical prior around their stratum's location, moved by
//! how skilled the sample's measurers are (the measurer effect, for samples chosen by
//! difficulty), with an empirical-Bayes spread per benchmark (`prior.rs`): a sample seen by one model still
//! informs that model's skill (as the mean does, relative to what other models scored in
//! the same stratum), while a sample seen by many is pinned down by its own data (as the
//! ordinal methods do). On a benchmark with two or more strata a model's skill on a
//! stratum may differ from its skill elsewhere by a deviation with an empirical-Bayes
//! variance (`deviations.rs`), and its score is its skill on the selection. The fit
//! (`fit.rs`) is Newton's method on the posterior with the
//! difficulties profiled out per pass (`pass.rs`, `solve.rs`), accelerated by squared
//! extrapolation where passes creep, its jumps judged by the log marginal posterior that
//! the pass computes (`accelerate.rs`): O(measurements) per pass, parallel with rayon,
//! any subset and bootstrap weights read in place. A fit's whole solution, keyed by
//! sample and benchmark, warm-starts the next fit on a grown pool (`solution.rs`). Item
//! diagnostics (`diagnostics.rs`) add a discrimination per sample (the 2PL model) given
//! the skills.

mod accelerate;
mod binary;
mod blocks;
mod centre;
mod choose;
mod deviations;
mod diagnostics;
mod fit;
mod folds;
mod form;
mod heldout;
mod intervals;
mod layout;
mod links;
mod numeric;
#[cfg(test)]
mod objective_tests;
mod pairwise;
mod pass;
mod prior;
mod ranking;
mod scatter;
mod solution;
mod solve;
mod state;
mod sums;

pub use diagnostics::{item_diagnostics, ItemDiagnostics};
pub use form::{FormCandidate, FormChoice, FormReport, JointForm};
pub use solution::JointSolution;

use std::sync::Arc;

use super::lists::Selection;
use super::{RankOptions, RankResult};
use crate::data::Dataset;
use crate::error::Result;
use fit::Settings;
use layout::Layout;
use state::State;

/// κ² = π²/3, the variance of the standard logistic distribution.
pub(crate) const KAPPA2: f64 = std::f64::consts::PI * std::f64::consts::PI / 3.0;

/// One sample's difficulty, per selection position: the posterior mode of b.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Item {
    pub difficulty: f64,
}

pub(crate) fn settings(options: &RankOptions) -> Settings {
    Settings {
        alpha: options.alpha,
        tolerance: options.tolerance,
        max_iterations: options.max_iterations,
    }
}

/// Scores by model index, the skills on the selection (NaN for models that are not
/// ranked).
fn scores_by_model(layout: &Layout, state: &State, n_models: usize) -> Vec<f64> {
    let n = layout.n_ranked();
    let local = layout
        .deviations
        .scores(&state.parameters[..n], &state.deviations);
    let mut scores = vec![f64::NAN; n_models];
    for (&model, score) in layout.ranked_models.iter().zip(local) {
        scores[model as usize] = score;
    }
    scores
}

/// The point fit of `selection` (shared with the item diagnostics).
pub(crate) fn fit_point(
    selection: Selection,
    layout: &Layout,
    options: &RankOptions,
) -> fit::Fitted {
    let mut state = State::start(layout, selection.len(), options.initial.as_deref());
    let start = match &options.initial_solution {
        Some(solution) => fit::Start::Resumed {
            new_spreads: {
                let new_spreads = solution.resume(&selection, layout, &mut state);
                state.impose_form(layout);
                new_spreads
            },
        },
        None if options.initial.is_some() => fit::Start::Skills,
        None => fit::Start::Cold,
    };
    fit::fit(selection, layout, &settings(options), state, start)
}

/// The form a fit of `selection` uses: the caller's, or the one held-out measurements
/// choose (`choose.rs`).
pub(crate) fn resolve_form(selection: &Selection, options: &RankOptions) -> FormReport {
    match options.form {
        FormChoice::Given(form) => FormReport {
            form,
            chosen_by: "given",
            candidates: Vec::new(),
            measurements: 0,
            reason: format!("the form {} was asked for", form.name()),
        },
        FormChoice::Auto => choose::choose(selection, options),
    }
}

/// Ranks with the joint model; `options` as validated by `rank`.
pub(crate) fn rank_joint(
    data: &Dataset,
    subset: Option<&[u32]>,
    options: &RankOptions,
) -> Result<RankResult> {
    let selection = Selection::new(data, subset);
    // Bad input is reported before any cross-validation.
    layout::layout(&selection, JointForm::CORE)?;
    let report = resolve_form(&selection, options);
    let layout = layout::layout(&selection, report.form)?;
    let n_models = data.n_models;
    let mut result = RankResult {
        method: super::Method::Joint.name(),
        scores: vec![f64::NAN; n_models],
        ci_low: vec![f64::NAN; n_models],
        ci_high: vec![f64::NAN; n_models],
        rank: vec![0; n_models],
        rank_low: vec![0; n_models],
        rank_high: vec![0; n_models],
        n_measurements: layout.n_measurements.clone(),
        n_samples: layout.n_samples.clone(),
        ranked: layout.ranked.clone(),
        disconnected: layout.disconnected.clone(),
        hidden: Vec::new(),
        iterations: 0,
        converged: true,
        unconverged_replicates: 0,
        solution: None,
        model_form: Some(report),
        notes: Vec::new(),
    };
    if layout.ranked_models.is_empty() {
        return Ok(result);
    }
    let point = fit_point(selection, &layout, options);
    result.iterations = point.iterations;
    result.converged = point.converged;
    result.solution = Some(Arc::new(JointSolution::new(
        &selection,
        &layout,
        &point.state,
        n_models,
    )));
    let mut scores = scores_by_model(&layout, &point.state, n_models);
    super::centre(&layout.ranked_models, &mut scores);
    let settings = settings(options);
    super::standing::stand(
        &mut result,
        &selection,
        options,
        super::standing::Fitted {
            ranked_models: &layout.ranked_models,
            n_samples: &layout.n_samples,
            measurements: super::selection_measurements(&layout.n_measurements),
            scores,
            centred: true,
        },
        || intervals::fisher_uncertainty(&selection, &layout, &point.state, options.alpha),
        |weighted| {
            let fitted = fit::fit(
                weighted,
                &layout,
                &settings,
                point.state.clone(),
                fit::Start::Warm,
            );
            Ok((
                scores_by_model(&layout, &fitted.state, n_models),
                fitted.converged,
            ))
        },
    )?;
    Ok(result)
}
