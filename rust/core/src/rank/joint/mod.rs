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
mod centre;
mod deviations;
mod diagnostics;
mod fit;
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
pub use solution::JointSolution;

use std::sync::Arc;

use nalgebra::DMatrix;

use super::lists::Selection;
use super::{fisher, RankOptions, RankResult};
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

fn settings(options: &RankOptions) -> Settings {
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
            new_spreads: solution.resume(&selection, layout, &mut state),
        },
        None if options.initial.is_some() => fit::Start::Skills,
        None => fit::Start::Cold,
    };
    fit::fit(selection, layout, &settings(options), state, start)
}

/// Ranks with the joint model; `options` as validated by `rank`.
pub(crate) fn rank_joint(
    data: &Dataset,
    subset: Option<&[u32]>,
    options: &RankOptions,
) -> Result<RankResult> {
    let selection = Selection::new(data, subset);
    let layout = layout::layout(&selection)?;
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
            scores,
            centred: true,
        },
        || fisher_errors(&selection, &layout, &point.state, options.alpha),
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

/// Most rows (skills and cells) Fisher intervals factorise with deviation cells.
const FISHER_ROWS: usize = 4096;

/// Standard errors of the centred scores from the observed information of the profile
/// posterior (difficulties and hubs profiled out), in ranked-model order. With
/// deviation cells the scores θ + Σ w u are linear in the skills and cells, whose
/// covariance is the information's inverse; `None` beyond [`FISHER_ROWS`] of them.
fn fisher_errors(
    selection: &Selection,
    layout: &Layout,
    state: &State,
    alpha: f64,
) -> Option<Vec<f64>> {
    let n = layout.n_ranked();
    let cells = &layout.deviations;
    let rows = n + cells.n_cells();
    if cells.n_cells() > 0 && rows > FISHER_ROWS {
        return None;
    }
    let mut items = state.items.clone();
    let variance = state.spread_variance(layout);
    let centre = centre::Centre::all(layout);
    let effective = state.effective_skills(layout);
    let input = pass::PassInput {
        selection: *selection,
        layout,
        parameters: &state.parameters,
        spread_variance: &variance,
        tie: state.tie,
        steps: 1,
        small: binary::SMALL,
        full: true,
        dropped: false,
        centre: &centre,
        objective: false,
        effective: &effective,
    };
    let mut sums = pass::run(&input, &mut items);
    prior::complete_sums(layout, &centre, &state.parameters, alpha, &[], &mut sums);
    let system = deviations::system(
        layout,
        &state.deviations,
        &state.deviation_variance,
        &mut sums,
    );
    let matrix = solve::full_matrix(&sums, &system);
    let size = matrix.nrows();
    let mut information = matrix.view((0, 0), (rows, rows)).into_owned();
    if size > rows {
        // I = A − B D⁻¹ Bᵀ: the hubs profiled out.
        let coupling = matrix.view((0, rows), (rows, size - rows)).into_owned();
        let hubs = matrix
            .view((rows, rows), (size - rows, size - rows))
            .into_owned();
        let solved = hubs.cholesky()?.solve(&coupling.transpose());
        information -= coupling * solved;
    }
    if alpha == 0.0 && n > 0 {
        // The skills' common shift is free: fixed by a rank-one term, which the
        // centring then removes.
        let mean_diagonal = (0..n).map(|i| information[(i, i)]).sum::<f64>() / n as f64;
        let term = mean_diagonal.abs().max(1e-12) / n as f64;
        information.view_mut((0, 0), (n, n)).add_scalar_mut(term);
    }
    let covariance = information.cholesky()?.inverse();
    // The scores' covariance J Σ Jᵀ, J = [I | W] with W the strata's shares.
    let mut map = DMatrix::<f64>::zeros(n, rows);
    for model in 0..n {
        map[(model, model)] = 1.0;
    }
    for (stratum, &share) in cells.share.iter().enumerate() {
        for model in 0..n {
            map[(model, n + stratum * n + model)] = share;
        }
    }
    let scores = &map * covariance * map.transpose();
    Some(fisher::centred_errors_of_covariance(&scores))
}
