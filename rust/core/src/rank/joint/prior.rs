//! The priors: on skills (as in Plackett–Luce, `alpha` virtual wins and losses against a
//! reference skill 0) and on difficulties, hierarchical with empirical-Bayes spreads.
//!
//! Difficulty prior. b_j ~ N(μ_s, τ_k²): μ_s is the location of the sample's stratum (its
//! benchmark, refined by declared category or difficulty), a parameter fitted with the
//! skills; τ_k² is the spread of its benchmark's difficulties, estimated from the data by
//! empirical Bayes (Robbins 1956; Efron & Morris 1975): it maximises the marginal
//! likelihood of the samples with their difficulties integrated out: exact for numeric
//! samples (the normal–normal model of a meta-analysis), by Laplace's approximation for
//! binary ones (Tierney & Kadane 1986). τ is a hub of the Newton step (`pass.rs`,
//! `solve.rs`); in τ, unlike log τ², a benchmark whose samples do not differ reaches its
//! lower bound in a step or two, where it is held (an active bound). A sample seen by one model is then tied to its stratum's
//! location with the weight the data give that spread; a sample seen by many is pinned
//! down by its own data.

use rayon::prelude::*;

use super::super::optimize::best_prior_shift;
use super::layout::{Layout, NONE};
use super::sums::{Sums, DIAGONAL, GRADIENT};
use super::Item;

/// Bounds of a spread τ (logits): finite precisions both ways.
pub(crate) const SPREAD_MIN: f64 = 1e-2;
pub(crate) const SPREAD_MAX: f64 = 100.0;

/// Adds the skill prior's gradient and curvature: α [log σ(θ) + log σ(−θ)].
pub(crate) fn skill_prior(skills: &[f64], alpha: f64, sums: &mut Sums) {
    if alpha <= 0.0 {
        return;
    }
    for (index, &skill) in skills.iter().enumerate() {
        let p = super::binary::sigmoid(skill);
        let row = sums.row(index);
        row[GRADIENT] += alpha * (1.0 - 2.0 * p);
        row[DIAGONAL] += 2.0 * alpha * p * (1.0 - p);
    }
}

/// The common shift of skills, locations and difficulties that maximises the skill prior
/// (the likelihood depends only on differences); the mean skill goes to 0 without one.
pub(crate) fn common_shift(skills: &[f64], alpha: f64) -> f64 {
    if skills.is_empty() {
        return 0.0;
    }
    if alpha > 0.0 {
        let mut shifted = skills.to_vec();
        best_prior_shift(&mut shifted, |_| true);
        shifted[0] - skills[0]
    } else {
        -skills.iter().sum::<f64>() / skills.len() as f64
    }
}

/// Applies a common shift to skills, locations and the difficulties.
pub(crate) fn apply_shift(layout: &Layout, parameters: &mut [f64], items: &mut [Item], shift: f64) {
    if shift == 0.0 {
        return;
    }
    let n = layout.n_ranked();
    for value in &mut parameters[..n] {
        *value += shift;
    }
    for &index in &layout.location_parameter {
        if index != NONE {
            parameters[index as usize] += shift;
        }
    }
    items
        .par_iter_mut()
        .for_each(|item| item.difficulty += shift);
}
