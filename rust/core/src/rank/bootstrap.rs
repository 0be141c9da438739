//! The bootstrap over samples (Efron 1979): each replicate draws as many samples as the
//! subset holds, with replacement, expressed as a multinomial weight per subset position
//! so that nothing is copied. Replicates run in parallel, each with its own SmallRng
//! seeded from (seed, replicate), so results do not depend on the thread count. The
//! intervals are percentile intervals of the centred scores and of the ranks.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use super::lists::Selection;
use crate::error::Result;

/// What `fit` returns for every replicate (scores by model index, and whether the fit
/// converged); `fit` ranks a weighted selection.
pub(crate) fn bootstrap_replicates<F, T>(
    selection: &Selection,
    replicates: usize,
    seed: u64,
    fit: F,
) -> Result<Vec<T>>
where
    F: Fn(Selection) -> Result<T> + Sync,
    T: Send,
{
    let len = selection.len();
    (0..replicates)
        .into_par_iter()
        .map(|replicate| {
            // Distinct, well-mixed streams per replicate (SplitMix64 constant).
            let stream = seed ^ (replicate as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut rng = SmallRng::seed_from_u64(stream);
            let mut weights = vec![0.0f64; len];
            if len > 0 {
                for _ in 0..len {
                    weights[rng.random_range(0..len)] += 1.0;
                }
            }
            fit(selection.with_weights(&weights))
        })
        .collect()
}

/// Scores closer than this (relative to the larger of 1 and the score) are one score.
/// Models whose data carry the same information, such as the same number right on the
/// same binary samples under the joint model's Rasch likelihood, have equal scores in
/// exact arithmetic, but an iterative fit leaves them a few ulps apart; the fits'
/// tolerance (1e-8 on a pass's change) is far above this, and no difference below it
/// means anything.
pub(crate) const SCORE_TIE: f64 = 1e-9;

/// The competition rank (1 + number better by more than [`SCORE_TIE`]) of each ranked
/// model; NaN scores rank last.
pub(crate) fn ranks_of(ranked_models: &[u32], scores: &[f64], ranks: &mut [u32]) {
    let mut sorted: Vec<f64> = ranked_models
        .iter()
        .map(|&m| scores[m as usize])
        .filter(|s| !s.is_nan())
        .collect();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let n = ranked_models.len() as u32;
    for &model in ranked_models {
        let score = scores[model as usize];
        ranks[model as usize] = if score.is_nan() {
            n
        } else {
            let tie = SCORE_TIE * score.abs().max(1.0);
            1 + sorted.partition_point(|&other| other > score + tie) as u32
        };
    }
}

/// The `q`-quantile of sorted finite values, linearly interpolated (NumPy's default).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let at = q * (sorted.len() - 1) as f64;
    let (below, above) = (at.floor() as usize, at.ceil() as usize);
    sorted[below] + (at - below as f64) * (sorted[above] - sorted[below])
}

/// Percentile intervals of the replicates' scores (centred per replicate over all
/// `ranked_models` when `centre`) and of their ranks among the `shown` models, written
/// into the output vectors (by model index).
#[allow(clippy::too_many_arguments)]
pub(crate) fn percentile_intervals(
    ranked_models: &[u32],
    shown: &[u32],
    replicates: &[Vec<f64>],
    level: f64,
    centre: bool,
    ci_low: &mut [f64],
    ci_high: &mut [f64],
    rank_low: &mut [u32],
    rank_high: &mut [u32],
) {
    let n_models = ci_low.len();
    let (q_low, q_high) = ((1.0 - level) / 2.0, (1.0 + level) / 2.0);
    let mut scores_by_model: Vec<Vec<f64>> = vec![Vec::new(); n_models];
    let mut ranks_by_model: Vec<Vec<f64>> = vec![Vec::new(); n_models];
    let mut ranks = vec![0u32; n_models];
    for replicate in replicates {
        let mut scores = replicate.clone();
        if centre {
            super::centre(ranked_models, &mut scores);
        }
        ranks_of(shown, &scores, &mut ranks);
        for &model in ranked_models {
            let model = model as usize;
            if scores[model].is_finite() {
                scores_by_model[model].push(scores[model]);
            }
        }
        for &model in shown {
            ranks_by_model[model as usize].push(f64::from(ranks[model as usize]));
        }
    }
    for &model in ranked_models {
        let model = model as usize;
        let scores = &mut scores_by_model[model];
        scores.sort_by(f64::total_cmp);
        ci_low[model] = quantile(scores, q_low);
        ci_high[model] = quantile(scores, q_high);
        let ranks = &mut ranks_by_model[model];
        ranks.sort_by(f64::total_cmp);
        rank_low[model] = quantile(ranks, q_low).floor().max(1.0) as u32;
        rank_high[model] = quantile(ranks, q_high).ceil().max(1.0) as u32;
    }
}
