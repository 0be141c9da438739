//! What a method knows of its scores' joint uncertainty, and the rank ranges it implies.
//!
//! Rank ranges are simulated: scores are drawn from the normal with the fit's covariance,
//! the models are ranked in every draw, and each model's range is the central `level`
//! share of its ranks. Unlike ranges read off overlapping score intervals (which ignore
//! that scores sharing samples move together, and so are too wide or too narrow by turns),
//! these are the ranks the fit's own uncertainty makes plausible.

use nalgebra::DMatrix;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

/// A method's uncertainty about its scores, in ranked-model order.
pub(crate) struct Uncertainty {
    /// The scores' covariance. A common shift of every score in it moves no rank and no
    /// centred score.
    pub covariance: DMatrix<f64>,
    /// Score intervals of the method's own (the mean's Agresti–Coull interval); `None`:
    /// normal intervals from the covariance's centred standard errors.
    pub intervals: Option<Vec<(f64, f64)>>,
}

/// Draws of the scores behind the rank ranges: 1,000 (the 2.5% tail holds 25) up to
/// 1,414 models, fewer beyond (never under 200), where a draw's n² cost would dominate.
fn draws(n: usize) -> usize {
    const WORK: f64 = 2e9;
    ((WORK / (n * n).max(1) as f64) as usize).clamp(200, 1000)
}

/// Fixed so that the same fit gives the same ranges; each draw has its own stream, so the
/// ranges do not depend on the thread count.
const SEED: u64 = 0x5EED_0F2A_4B1C;

/// A factor L with L Lᵀ = `covariance` (plus the least jitter that makes it positive
/// definite: a covariance from a sandwich or a centring can be singular along a
/// direction no rank depends on); `None` if even the jittered matrix is not.
fn factor(covariance: &DMatrix<f64>) -> Option<DMatrix<f64>> {
    let n = covariance.nrows();
    let scale = covariance.diagonal().mean().abs().max(1e-300);
    for exponent in [f64::NEG_INFINITY, -12.0, -10.0, -8.0, -6.0] {
        let mut matrix = covariance.clone();
        let jitter = scale * 10f64.powf(exponent);
        for i in 0..n {
            matrix[(i, i)] += jitter;
        }
        if let Some(cholesky) = matrix.cholesky() {
            return Some(cholesky.l());
        }
    }
    None
}

/// A standard normal draw (Box–Muller; one of the pair is enough here).
fn standard_normal(rng: &mut SmallRng) -> f64 {
    let u: f64 = 1.0 - rng.random::<f64>();
    let v: f64 = rng.random::<f64>();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// The central `level` range of each shown model's rank among the shown models, under
/// scores drawn from N(`scores`, `covariance`). `positions[k]` is the shown model k's row
/// in `covariance`; `scores` are in that row order. `None` when the covariance cannot be
/// factorised.
pub(crate) fn simulated_rank_ranges(
    positions: &[usize],
    scores: &[f64],
    covariance: &DMatrix<f64>,
    level: f64,
) -> Option<Vec<(u32, u32)>> {
    let shown = positions.len();
    if shown == 0 {
        return Some(Vec::new());
    }
    let sub = DMatrix::from_fn(shown, shown, |i, j| {
        covariance[(positions[i], positions[j])]
    });
    let lower = factor(&sub)?;
    let means: Vec<f64> = positions.iter().map(|&p| scores[p]).collect();
    let count = draws(shown);
    // Draw-major: ranks[d * shown + k] is model k's rank (0 = best) in draw d.
    let ranks: Vec<u32> = (0..count)
        .into_par_iter()
        .flat_map_iter(|draw| {
            let stream = SEED ^ (draw as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut rng = SmallRng::seed_from_u64(stream);
            let normal: Vec<f64> = (0..shown).map(|_| standard_normal(&mut rng)).collect();
            let drawn: Vec<f64> = (0..shown)
                .map(|i| {
                    let row = lower.row(i);
                    means[i] + (0..=i).map(|j| row[j] * normal[j]).sum::<f64>()
                })
                .collect();
            let mut order: Vec<usize> = (0..shown).collect();
            order.sort_by(|&a, &b| drawn[b].total_cmp(&drawn[a]));
            let mut rank = vec![0u32; shown];
            for (place, &model) in order.iter().enumerate() {
                rank[model] = place as u32;
            }
            rank
        })
        .collect();
    let (low, high) = ((1.0 - level) / 2.0, (1.0 + level) / 2.0);
    let low_index = (low * (count - 1) as f64).floor() as usize;
    let high_index = ((high * (count - 1) as f64).ceil() as usize).min(count - 1);
    let mut column = vec![0u32; count];
    Some(
        (0..shown)
            .map(|model| {
                for (draw, slot) in column.iter_mut().enumerate() {
                    *slot = ranks[draw * shown + model];
                }
                column.sort_unstable();
                (column[low_index] + 1, column[high_index] + 1)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]

    use super::*;

    /// Independent scores far apart keep their ranks; two equal scores share ranks 1-2.
    #[test]
    fn ranges_follow_the_uncertainty() {
        let covariance = DMatrix::from_diagonal_element(3, 3, 0.01);
        let ranges = simulated_rank_ranges(&[0, 1, 2], &[5.0, 0.0, 0.0], &covariance, 0.95)
            .expect("positive definite");
        assert_eq!(ranges, vec![(1, 1), (2, 3), (2, 3)]);
    }

    /// Two scores that move together (correlation near 1) keep their order, though their
    /// intervals overlap: the ranges read off the intervals would not see it.
    #[test]
    fn correlated_scores_keep_their_order() {
        let covariance = DMatrix::from_row_slice(2, 2, &[1.0, 0.999, 0.999, 1.0]);
        let ranges = simulated_rank_ranges(&[0, 1], &[0.3, 0.0], &covariance, 0.95)
            .expect("positive definite");
        assert_eq!(ranges, vec![(1, 1), (2, 2)]);
        let independent = DMatrix::from_diagonal_element(2, 2, 1.0);
        let ranges = simulated_rank_ranges(&[0, 1], &[0.3, 0.0], &independent, 0.95)
            .expect("positive definite");
        assert_eq!(ranges, vec![(1, 2), (1, 2)]);
    }

    /// A covariance singular along 1 (a centred one) still gives ranges.
    #[test]
    fn a_singular_covariance_is_factorised() {
        let covariance = DMatrix::from_row_slice(2, 2, &[0.5, -0.5, -0.5, 0.5]);
        let ranges =
            simulated_rank_ranges(&[0, 1], &[10.0, 0.0], &covariance, 0.95).expect("jittered");
        assert_eq!(ranges, vec![(1, 1), (2, 2)]);
    }
}
