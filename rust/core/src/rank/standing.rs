//! From a method's fitted scores to the table: ranks, intervals and rank intervals by the
//! options' interval kind, and the models `min_samples` leaves out. Shared by every method.

use super::lists::Selection;
use super::{bootstrap, fisher, Interval, RankOptions, RankResult};
use crate::error::Result;

/// What a method fitted.
pub(crate) struct Fitted<'a> {
    /// Models in the ranked component, and each model's samples in the selection.
    pub ranked_models: &'a [u32],
    pub n_samples: &'a [u64],
    /// Point scores by model index (centred when `centred`).
    pub scores: Vec<f64>,
    /// Whether scores are log-strengths reported centred, replicates included.
    pub centred: bool,
}

/// Fills `result`'s scores, ranks and intervals from `fitted`. `errors` gives the
/// standard errors in `ranked_models` order for Fisher intervals (`None`: none);
/// `replicate` one bootstrap replicate's scores by model index and whether its fit
/// converged.
pub(crate) fn stand<E, R>(
    result: &mut RankResult,
    selection: &Selection,
    options: &RankOptions,
    fitted: Fitted,
    errors: E,
    replicate: R,
) -> Result<()>
where
    E: FnOnce() -> Option<Vec<f64>>,
    R: Fn(Selection) -> Result<(Vec<f64>, bool)> + Sync,
{
    let Fitted {
        ranked_models,
        n_samples,
        scores,
        centred,
    } = fitted;
    let shown = shown_models(ranked_models, n_samples, options.min_samples);
    bootstrap::ranks_of(&shown, &scores, &mut result.rank);
    result.rank_low.clone_from(&result.rank);
    result.rank_high.clone_from(&result.rank);
    match options.interval {
        Interval::None => {}
        Interval::Fisher => {
            if let Some(errors) = errors() {
                let z = fisher::normal_quantile(0.5 + options.ci_level / 2.0);
                for (&model, error) in ranked_models.iter().zip(errors) {
                    let model = model as usize;
                    result.ci_low[model] = scores[model] - z * error;
                    result.ci_high[model] = scores[model] + z * error;
                }
                fisher::rank_intervals(
                    &shown,
                    &result.ci_low,
                    &result.ci_high,
                    &mut result.rank_low,
                    &mut result.rank_high,
                );
            }
        }
        Interval::Bootstrap { replicates, seed } => {
            let fits = bootstrap::bootstrap_replicates(selection, replicates, seed, replicate)?;
            // A replicate that stopped before converging still counts (dropping it would
            // bias the intervals towards the easy resamples), but the result says so.
            result.unconverged_replicates = fits.iter().filter(|(_, converged)| !converged).count();
            let replicate_scores: Vec<Vec<f64>> =
                fits.into_iter().map(|(scores, _)| scores).collect();
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
        }
    }
    result.scores = scores;
    hide(result, ranked_models, &shown);
    Ok(())
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
