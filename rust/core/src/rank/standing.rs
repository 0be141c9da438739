//! From a method's fitted scores to the table: ranks, intervals and rank ranges by the
//! options' interval kind, and the models `min_samples` leaves out. Shared by every method.
//!
//! No table shows a rank range it does not have: with Fisher intervals the ranges are
//! simulated from the scores' covariance (`uncertainty.rs`); where a method has no
//! covariance (no likelihood, an information that is not positive definite, or one too
//! large to invert) the bootstrap stands in when it is affordable, and otherwise the
//! intervals and ranges are unknown (rank range 0) — each with a note saying why.

use super::lists::Selection;
use super::uncertainty::{simulated_rank_ranges, Uncertainty};
use super::{bootstrap, fisher, Interval, RankOptions, RankResult};
use crate::error::Result;

/// Replicates of the bootstrap that stands in for missing Fisher intervals.
pub(crate) const FALLBACK_REPLICATES: usize = 100;
/// Most measurements the stand-in bootstrap is run on: beyond them its replicates would
/// cost far more than the fit that was asked for, and the caller is told to ask.
pub(crate) const FALLBACK_MEASUREMENTS: u64 = 200_000;
/// Seed of the stand-in bootstrap (fixed: the same fit gives the same intervals).
const FALLBACK_SEED: u64 = 0x0B00_7F11;

/// What a method fitted.
pub(crate) struct Fitted<'a> {
    /// Models in the ranked component, and each model's samples in the selection.
    pub ranked_models: &'a [u32],
    pub n_samples: &'a [u64],
    /// Measurements in the selection (what a bootstrap replicate costs).
    pub measurements: u64,
    /// Point scores by model index (centred when `centred`).
    pub scores: Vec<f64>,
    /// Whether scores are log-strengths reported centred, replicates included.
    pub centred: bool,
}

/// Fills `result`'s scores, ranks and intervals from `fitted`. `uncertainty` gives the
/// scores' covariance in `ranked_models` order for Fisher intervals, or why there is
/// none; `replicate` one bootstrap replicate's scores by model index and whether its fit
/// converged.
pub(crate) fn stand<E, R>(
    result: &mut RankResult,
    selection: &Selection,
    options: &RankOptions,
    fitted: Fitted,
    uncertainty: E,
    replicate: R,
) -> Result<()>
where
    E: FnOnce() -> std::result::Result<Uncertainty, String>,
    R: Fn(Selection) -> Result<(Vec<f64>, bool)> + Sync,
{
    let Fitted {
        ranked_models,
        n_samples,
        measurements,
        scores,
        centred,
    } = fitted;
    let shown = shown_models(ranked_models, n_samples, options.min_samples);
    bootstrap::ranks_of(&shown, &scores, &mut result.rank);
    // Unknown until an interval gives them.
    result.rank_low.fill(0);
    result.rank_high.fill(0);
    let bootstrap_with = |result: &mut RankResult, replicates: usize, seed: u64| {
        let fits = bootstrap::bootstrap_replicates(selection, replicates, seed, &replicate)?;
        // A replicate that stopped before converging still counts (dropping it would
        // bias the intervals towards the easy resamples), but the result says so.
        result.unconverged_replicates = fits.iter().filter(|(_, converged)| !converged).count();
        let replicate_scores: Vec<Vec<f64>> = fits.into_iter().map(|(scores, _)| scores).collect();
        bootstrap::percentile_intervals(
            ranked_models,
            &shown,
            &replicate_scores,
            options.ci_level,
            centred,
            &mut result.ci_low,
            &mut result.ci_high,
            &mut result.rank_low,
            &mut result.rank_high,
        );
        Ok::<(), crate::error::Error>(())
    };
    match options.interval {
        Interval::None => {}
        Interval::Fisher => match uncertainty() {
            Ok(uncertainty) => {
                let known = fisher_intervals(
                    result,
                    ranked_models,
                    &shown,
                    &scores,
                    &uncertainty,
                    options.ci_level,
                );
                if !known {
                    result.notes.push(
                        "the rank ranges are unknown: the scores' covariance could not be factorised"
                            .to_string(),
                    );
                }
            }
            Err(reason) if measurements <= FALLBACK_MEASUREMENTS => {
                bootstrap_with(result, FALLBACK_REPLICATES, FALLBACK_SEED)?;
                result.notes.push(format!(
                    "no Fisher intervals ({reason}): the intervals and rank ranges are from \
                     {FALLBACK_REPLICATES} bootstrap replicates over samples instead; ask for \
                     the bootstrap (bootstrap=N) for more"
                ));
            }
            Err(reason) => result.notes.push(format!(
                "no Fisher intervals ({reason}), and {measurements} measurements are too many \
                 for a bootstrap to stand in unasked: the intervals and rank ranges are \
                 unknown; ask for the bootstrap (bootstrap=N) to estimate them"
            )),
        },
        Interval::Bootstrap { replicates, seed } => bootstrap_with(result, replicates, seed)?,
    }
    // A range holds its own point rank (a draw's ties or a skewed bootstrap can leave it
    // a place outside).
    for &model in &shown {
        let model = model as usize;
        if result.rank_low[model] > 0 {
            result.rank_low[model] = result.rank_low[model].min(result.rank[model]);
            result.rank_high[model] = result.rank_high[model].max(result.rank[model]);
        }
    }
    result.scores = scores;
    hide(result, ranked_models, &shown);
    Ok(())
}

/// Fisher intervals from `uncertainty` and rank ranges simulated from its covariance;
/// false when the covariance cannot be factorised (the ranges stay unknown).
fn fisher_intervals(
    result: &mut RankResult,
    ranked_models: &[u32],
    shown: &[u32],
    scores: &[f64],
    uncertainty: &Uncertainty,
    level: f64,
) -> bool {
    match &uncertainty.intervals {
        Some(intervals) => {
            for (&model, &(low, high)) in ranked_models.iter().zip(intervals) {
                result.ci_low[model as usize] = low;
                result.ci_high[model as usize] = high;
            }
        }
        None => {
            let z = fisher::normal_quantile(0.5 + level / 2.0);
            let errors = fisher::centred_errors_of_covariance(&uncertainty.covariance);
            for (&model, error) in ranked_models.iter().zip(errors) {
                let model = model as usize;
                result.ci_low[model] = scores[model] - z * error;
                result.ci_high[model] = scores[model] + z * error;
            }
        }
    }
    let mut row_of = vec![0usize; result.ranked.len()];
    for (row, &model) in ranked_models.iter().enumerate() {
        row_of[model as usize] = row;
    }
    let positions: Vec<usize> = shown.iter().map(|&model| row_of[model as usize]).collect();
    let ordered: Vec<f64> = ranked_models.iter().map(|&m| scores[m as usize]).collect();
    match simulated_rank_ranges(&positions, &ordered, &uncertainty.covariance, level) {
        Some(ranges) => {
            for (&model, (low, high)) in shown.iter().zip(ranges) {
                result.rank_low[model as usize] = low;
                result.rank_high[model as usize] = high;
            }
            true
        }
        None => false,
    }
}

/// The ranked models measured on at least `min_samples` samples, in the same order.
fn shown_models(ranked_models: &[u32], n_samples: &[u64], min_samples: u64) -> Vec<u32> {
    ranked_models
        .iter()
        .copied()
        .filter(|&model| n_samples[model as usize] >= min_samples)
        .collect()
}

/// Marks the ranked models that are not `shown` as hidden: not ranked, NaN scores.
fn hide(result: &mut RankResult, ranked_models: &[u32], shown: &[u32]) {
    if shown.len() == ranked_models.len() {
        return;
    }
    let mut visible = vec![false; result.ranked.len()];
    for &model in shown {
        visible[model as usize] = true;
    }
    for &model in ranked_models {
        let index = model as usize;
        if !visible[index] {
            result.ranked[index] = false;
            result.scores[index] = f64::NAN;
            result.ci_low[index] = f64::NAN;
            result.ci_high[index] = f64::NAN;
            (
                result.rank[index],
                result.rank_low[index],
                result.rank_high[index],
            ) = (0, 0, 0);
            result.hidden.push(model);
        }
    }
}
