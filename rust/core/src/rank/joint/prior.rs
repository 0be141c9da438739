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
//!
//! Measurer effect. Who was measured on a sample says something about the sample: when
//! samples were chosen for models (the hard questions for the strong models, as a
//! benchmark's authors or a user's budget choose them), difficulty goes with the
//! measurers' skill, and a prior centred on the stratum alone reads the strong models'
//! hard samples as their weakness. So the prior's location for sample j is
//! μ_s + β_k z_j, with z_j the mean skill of j's measurers less the mean skill of all
//! ranked models, a covariate of the item as in explanatory item response models
//! (Fischer 1973; De Boeck & Wilson 2004) that models missingness which depends on the
//! models' skill (Holman & Glas 2005). β_k, one per benchmark, has a N(0, 1) prior and is
//! a hub beside the location. z_j counts only for samples measured by two or more models:
//! a single measurer's skill would move the difficulty with it and confound the two.

use rayon::prelude::*;

use super::super::optimize::best_prior_shift;
use super::centre::Centre;
use super::deviations::{CELL_CENTRE, CELL_CROSS, CELL_DROPPED, CELL_STRIDE};
use super::layout::{Layout, NONE};
use super::sums::{Sums, CENTRE, COUPLING, DIAGONAL, DROPPED, GRADIENT};
use super::Item;

/// Bounds of a measurer effect β: 0 (samples given without regard to skill) to just
/// below 1, where a sample's difficulty would follow its measurers' skill one for one and
/// the outcomes would say nothing about the skills. Negative β (easier samples for
/// stronger models) is not a way samples are chosen, and the data of random thinning can
/// reach for it along the near-flat directions of small spreads.
pub(crate) const MEASURER_MAX: f64 = 0.9;

/// Bound of a stratum's location (logits; the skills sit near 0): a stratum whose
/// samples every model passes (or fails) has its optimum at infinity, which the passes
/// approach by a constant step for ever. At 30 logits from the skills a pass is certain
/// to within e⁻³⁰, and the location is held there (an active bound, as a spread's).
pub(crate) const LOCATION_MAX: f64 = 30.0;

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
        // log σ(θ) + log σ(−θ) = log p(1 − p).
        sums.objective += alpha * (p * (1.0 - p)).max(f64::MIN_POSITIVE).ln();
        let row = sums.row(index);
        row[GRADIENT] += alpha * (1.0 - 2.0 * p);
        row[DIAGONAL] += 2.0 * alpha * p * (1.0 - p);
    }
}

/// A sample's measurer effect: the prior's location is ℓ = μ + β z. ∂ℓ/∂β = z and
/// ∂ℓ/∂θ_m = β/L for each of its L measurers; the centre of z moves ℓ by −β/n for every
/// skill, which the pass sums apart (`Sums::centre_*`, the rows' `CENTRE`) and
/// [`measurer_terms`] folds in once per pass.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Effect {
    /// The measurers' mean skill less the mean skill of all ranked models.
    pub z: f64,
    pub beta: f64,
    /// β/L.
    pub per_skill: f64,
}

impl Effect {
    /// β z: how far the effect moves the prior's location from the stratum's.
    pub fn shift(&self) -> f64 {
        self.beta * self.z
    }
}

/// The measurer effect of a sample measured by `models` (β its benchmark's); `None` for
/// fewer than 2 ranked measurers, whose prior sits at the stratum's location.
pub(crate) fn effect(
    models: &[u32],
    local: &[u32],
    skills: &[f64],
    mean_skill: f64,
    beta: f64,
) -> Option<Effect> {
    let (mut total, mut count) = (0.0, 0usize);
    for &model in models {
        let index = local[model as usize];
        if index != NONE {
            total += skills[index as usize];
            count += 1;
        }
    }
    (count >= 2).then(|| Effect {
        z: total / count as f64 - mean_skill,
        beta,
        per_skill: beta * (1.0 / count as f64),
    })
}

/// The mean skill of the ranked models (the centre of z).
pub(crate) fn mean_skill(skills: &[f64]) -> f64 {
    if skills.is_empty() {
        0.0
    } else {
        skills.iter().sum::<f64>() / skills.len() as f64
    }
}

/// Adds the measurer effects' N(0, 1) prior and folds in the terms of z's centre.
///
/// Every skill in the centre (n_c of them, see `centre.rs`) moves the mean skill, and with
/// it every z, by 1/n_c: ∂ℓ_j/∂θ_i has a part −β/n_c for every such i, so the chain rule
/// adds to their curvature a matrix S 11ᵀ + u 1ᵀ + 1 uᵀ and to each of them the same
/// coupling w_h to each hub, where the pass summed S = Σ β² C_ℓℓ / n_c², u_i (the rows'
/// `CENTRE`) / n_c and w_h / n_c. Leaving it out would misstate the curvature along the
/// common shift of the skills, the direction the locations are flat in, and the steps
/// would oscillate along it. A skill outside the centre has no data, so its u_i is 0 and
/// it gets no terms.
pub(crate) fn measurer_terms(
    layout: &Layout,
    centre: &Centre,
    parameters: &[f64],
    sums: &mut Sums,
) {
    let n = layout.n_ranked();
    for &index in &layout.measurer_parameter {
        if index != NONE {
            let hub = index as usize - n;
            let beta = parameters[index as usize];
            sums.hub_gradient[hub] -= beta;
            sums.hub_diagonal[hub] += 1.0;
            sums.objective -= 0.5 * beta * beta;
        }
    }
    let members = centre.count();
    if members == 0 || (sums.centre_gradient == 0.0 && sums.centre_curvature == 0.0) {
        return;
    }
    let inverse = 1.0 / members as f64;
    let common = sums.centre_curvature * inverse * inverse;
    let gradient = sums.centre_gradient * inverse;
    let hubs: Vec<f64> = sums.centre_hubs.iter().map(|w| w * inverse).collect();
    let stride = sums.stride;
    let u: Vec<f64> = (0..n)
        .map(|i| sums.skills[i * stride + CENTRE] * inverse)
        .collect();
    let total: f64 = u.iter().map(|value| value.abs()).sum();
    let full = !sums.pairs.is_empty();
    for (i, &own) in u.iter().enumerate() {
        if !centre.contains(i) {
            continue;
        }
        let row = sums.row(i);
        row[GRADIENT] -= gradient;
        row[DIAGONAL] += common + 2.0 * own;
        for (coupling, w) in row[COUPLING..].iter_mut().zip(&hubs) {
            *coupling += w;
        }
        if !full {
            row[DROPPED] += (members as f64 - 1.0) * (common + own).abs() + total - own.abs();
        }
    }
    if full {
        for i in (0..n).filter(|&i| centre.contains(i)) {
            for k in (0..i).filter(|&k| centre.contains(k)) {
                sums.pair(i, k, common + u[i] + u[k]);
            }
        }
    }
    centre_cells(layout, centre, inverse, sums);
}

/// The cells' part of z's centre: a cell's outcomes couple to the prior's location,
/// which every skill in the centre moves by −β/n_c, so the cell gets a curvature term
/// (its `CELL_CENTRE` / n_c) with each such skill. The arrowhead step keeps the one with
/// its own model's skill (in its cross coupling) and bounds the others.
fn centre_cells(layout: &Layout, centre: &Centre, inverse: f64, sums: &mut Sums) {
    let n = layout.n_ranked();
    let full = !sums.pairs.is_empty();
    let members = centre.count() as f64;
    let mut total = 0.0;
    for cell in 0..layout.deviations.n_cells() {
        let base = cell * CELL_STRIDE;
        let value = sums.cells[base + CELL_CENTRE] * inverse;
        if value == 0.0 {
            continue;
        }
        let model = cell % n;
        if full {
            for i in (0..n).filter(|&i| centre.contains(i)) {
                sums.pair(n + cell, i, value);
            }
            continue;
        }
        let own = centre.contains(model);
        if own {
            sums.cells[base + CELL_CROSS] += value;
        }
        sums.cells[base + CELL_DROPPED] += value.abs() * (members - f64::from(u8::from(own)));
        total += value.abs();
    }
    if !full && total > 0.0 {
        for i in (0..n).filter(|&i| centre.contains(i)) {
            sums.row(i)[DROPPED] += total;
        }
    }
}

/// Holds each hub of `indexes` (parameter indexes) at a bound of [`low`, `high`] that
/// its gradient pushes further out.
fn hold_at_bounds(
    indexes: &[u32],
    n: usize,
    (low, high): (f64, f64),
    parameters: &[f64],
    sums: &mut Sums,
) {
    for &index in indexes.iter().filter(|&&index| index != NONE) {
        let (hub, value) = (index as usize - n, parameters[index as usize]);
        let gradient = sums.hub_gradient[hub];
        if (value <= low && gradient <= 0.0) || (value >= high && gradient >= 0.0) {
            super::solve::hold_hub(sums, hub);
        }
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
        -mean_skill(skills)
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

/// Completes a pass's sums into the Newton system: the priors, the terms of z's centre,
/// the spreads re-expressed in τ, and the hubs held at their bounds (and the spreads of
/// the groups marked in `held_spreads`, by spread group; empty: none). Spreads the form
/// does not estimate and, without the measurer part, the measurer effects are held too.
pub(crate) fn complete_sums(
    layout: &Layout,
    centre: &Centre,
    parameters: &[f64],
    alpha: f64,
    held_spreads: &[bool],
    sums: &mut Sums,
) {
    let n = layout.n_ranked();
    skill_prior(&parameters[..n], alpha, sums);
    measurer_terms(layout, centre, parameters, sums);
    let spreads: Vec<(usize, f64, bool)> = layout
        .spread_parameter
        .iter()
        .enumerate()
        .filter(|(_, &index)| index != NONE)
        .map(|(group, &index)| {
            let held =
                layout.fixed_spread[group] || held_spreads.get(group).copied().unwrap_or(false);
            (index as usize - n, parameters[index as usize], held)
        })
        .collect();
    super::solve::spread_hubs(sums, &spreads, SPREAD_MIN, SPREAD_MAX);
    let (measurers, locations) = (&layout.measurer_parameter, &layout.location_parameter);
    if layout.form.measurer {
        hold_at_bounds(measurers, n, (0.0, MEASURER_MAX), parameters, sums);
    } else {
        // Held at 0, where every fit starts it (`State::impose_form`).
        for &index in measurers.iter().filter(|&&index| index != NONE) {
            super::solve::hold_hub(sums, index as usize - n);
        }
    }
    hold_at_bounds(
        locations,
        n,
        (-LOCATION_MAX, LOCATION_MAX),
        parameters,
        sums,
    );
}
