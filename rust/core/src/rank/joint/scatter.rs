//! The terms of one cardinal (binary or numeric) sample, its difficulty already stepped:
//! the gradient and curvature of its measurers' skills and of its hubs, with the
//! difficulty profiled out (see `pass.rs`).

use super::deviations::{
    CELL_CENTRE, CELL_CROSS, CELL_DIAGONAL, CELL_DROPPED, CELL_GRADIENT, CELL_LOCATION,
    CELL_MEASURER, CELL_SCALE, CELL_SPREAD, CELL_STRIDE,
};
use super::pass::Entry;
use super::prior::Effect;
use super::sums::{Sums, CENTRE, COUPLING, DIAGONAL, DROPPED, GRADIENT};
use super::KAPPA2;

/// A sample's hubs, as hub numbers (parameter index − n).
pub(crate) struct SampleHubs {
    pub location: usize,
    pub spread: usize,
    pub scale: Option<usize>,
    pub measurer: usize,
    /// The measurer effect, when the sample has one (two or more measurers).
    pub effect: Option<Effect>,
}

/// One cardinal sample after its difficulty step.
pub(crate) struct CardinalSample<'a> {
    /// Its measurements (skill index, residual, curvature, value).
    pub entries: &'a [Entry],
    pub parameters: &'a [f64],
    /// Accumulate the Gershgorin size of the dropped skill–skill couplings.
    pub dropped: bool,
    pub weight: f64,
    pub hubs: SampleHubs,
    /// b̂ − ℓ.
    pub deviation: f64,
    /// The data's precision W.
    pub precision: f64,
    /// 1/τ².
    pub prior: f64,
    /// The sample's stratum has deviations: the first of its cells (see
    /// `deviations.rs`).
    pub cells: Option<usize>,
}

/// Scatters one cardinal sample's terms, its difficulty already stepped.
///
/// The terms are first those of the skills and the prior's location ℓ (the
/// difficulty profiled out); with a measurer effect, ℓ depends on μ, β and the
/// measurers' skills, and the chain rule carries ℓ's gradient and curvature to them
/// (Jᵀ M J for the linear map J, so the curvature stays positive semi-definite).
pub(crate) fn scatter(sums: &mut Sums, sample: &CardinalSample) {
    let CardinalSample {
        weight,
        deviation,
        precision,
        prior,
        ..
    } = *sample;
    let hubs = &sample.hubs;
    let binary = hubs.scale.is_none();
    let n = sums.n;
    let total = precision + prior;
    let inverse = 1.0 / total;
    // q = τ²W / (1 + τ²W) = W / H: the share of the data in the difficulty's posterior.
    let share = precision * inverse;
    // Σ of the entries' curvatures is the data precision W.
    let curvatures = if sample.dropped { precision } else { 0.0 };
    // Laplace's correction: the −½ log(τ²H) of the marginal posterior, whose
    // curvature H depends on the skills through the entries' p(1 − p). Without it
    // the difficulties' profile shrinks the skills of sparse data towards each
    // other (the incidental-parameter bias of joint maximum likelihood).
    let slope: f64 = if binary {
        sample.entries.iter().map(|e| e.value).sum()
    } else {
        0.0
    };
    // The location's own terms.
    let mut location_gradient = weight * deviation * prior;
    if binary {
        location_gradient += 0.5 * weight * slope * prior * inverse * inverse;
    }
    let location_curvature = weight * prior * share;
    let location_spread = weight * deviation * precision * prior * inverse;
    let (z, per_skill) = hubs.effect.map_or((0.0, 0.0), |e| (e.z, e.per_skill));
    let (mut first, mut second, mut scale_gradient) = (0.0, 0.0, 0.0);
    let scale = hubs.scale.map_or(1.0, |hub| sample.parameters[n + hub]);
    for entry in sample.entries {
        let w = entry.curvature;
        // This skill's coupling to the location.
        let coupling = -weight * w * prior * inverse;
        let row = sums.row(entry.local as usize);
        row[GRADIENT] += weight * entry.residual + per_skill * location_gradient;
        row[DIAGONAL] += weight * w * (1.0 - w * inverse)
            + per_skill * (2.0 * coupling + per_skill * location_curvature);
        if curvatures > 0.0 {
            row[DROPPED] += weight * w * (curvatures - w) * inverse;
        }
        let to_location = coupling + per_skill * location_curvature;
        row[COUPLING + hubs.location] += to_location;
        row[COUPLING + hubs.spread] +=
            -weight * deviation * w * prior * inverse + per_skill * location_spread;
        if let Some(effect) = hubs.effect {
            row[COUPLING + hubs.measurer] += z * to_location;
            row[CENTRE] -= effect.beta * to_location;
        }
        if hubs.scale.is_some() {
            first += entry.value / KAPPA2;
            second += entry.value * entry.value / KAPPA2 + 1.0 / (scale * scale);
            scale_gradient += -entry.residual * entry.value + 1.0 / scale;
        }
    }
    if let Some(hub) = hubs.scale {
        let location_scale = weight * first * prior * inverse;
        for entry in sample.entries {
            let row = sums.row(entry.local as usize);
            row[COUPLING + hub] += weight
                * (-entry.value / KAPPA2 + first * entry.curvature * inverse)
                + per_skill * location_scale;
        }
        sums.hub_gradient[hub] += weight * scale_gradient;
        sums.hub_diagonal[hub] += weight * (second - first * first * inverse);
        sums.hub_pair(hub, hubs.location, location_scale);
        sums.hub_pair(
            hub,
            hubs.spread,
            weight * deviation * first * prior * inverse,
        );
        if let Some(effect) = hubs.effect {
            sums.hub_pair(hub, hubs.measurer, z * location_scale);
            sums.centre_hubs[hub] -= effect.beta * location_scale;
        }
    }
    if !sums.pairs.is_empty() {
        for (p, a) in sample.entries.iter().enumerate() {
            let coupling_a = -weight * a.curvature * prior * inverse;
            for b in &sample.entries[..p] {
                let coupling_b = -weight * b.curvature * prior * inverse;
                let value = -weight * a.curvature * b.curvature * inverse
                    + per_skill * (coupling_a + coupling_b + per_skill * location_curvature);
                sums.pair(a.local as usize, b.local as usize, value);
            }
        }
    } else if curvatures > 0.0 && per_skill != 0.0 {
        // The Gershgorin size of the skill pairs the location's dependence adds.
        let others = sample.entries.len() as f64 - 1.0;
        let sizes: f64 =
            sample.entries.iter().map(|e| e.curvature).sum::<f64>() * weight * prior * inverse;
        for entry in sample.entries {
            let own = weight * entry.curvature * prior * inverse;
            sums.row(entry.local as usize)[DROPPED] += per_skill.abs()
                * (others * own + sizes - own)
                + others * per_skill * per_skill * location_curvature;
        }
    }
    if binary {
        for entry in sample.entries {
            let row = sums.row(entry.local as usize);
            row[GRADIENT] -=
                0.5 * weight * inverse * (entry.value - slope * entry.curvature * inverse);
        }
        sums.hub_gradient[hubs.spread] +=
            0.5 * weight * slope * deviation * prior * inverse * inverse;
    }
    if let Some(base) = sample.cells {
        scatter_cells(sums, sample, base, inverse, slope, first);
    }
    let squared = deviation * deviation * prior;
    sums.hub_gradient[hubs.location] += location_gradient;
    sums.hub_diagonal[hubs.location] += location_curvature;
    sums.hub_gradient[hubs.spread] += 0.5 * weight * (squared - share);
    sums.hub_diagonal[hubs.spread] -=
        0.5 * weight * (squared * (2.0 * prior * inverse - 1.0) - share * (1.0 - share));
    sums.hub_fisher[hubs.spread] += 0.5 * weight * share * share;
    sums.hub_pair(hubs.spread, hubs.location, location_spread);
    if let Some(effect) = hubs.effect {
        sums.hub_gradient[hubs.measurer] += z * location_gradient;
        sums.hub_diagonal[hubs.measurer] += z * z * location_curvature;
        sums.hub_pair(hubs.measurer, hubs.location, z * location_curvature);
        sums.hub_pair(hubs.measurer, hubs.spread, z * location_spread);
        let beta = effect.beta;
        sums.centre_gradient += beta * location_gradient;
        sums.centre_curvature += beta * beta * location_curvature;
        sums.centre_hubs[hubs.location] -= beta * location_curvature;
        sums.centre_hubs[hubs.measurer] -= beta * z * location_curvature;
        sums.centre_hubs[hubs.spread] -= beta * location_spread;
    }
}

/// The terms of a sample's deviation cells (the first of its stratum's cells is `base`).
/// A cell moves its entry's outcome as the skill does but not the prior's location (z
/// reads the common skills): the skill's terms less the chain rule's. `inverse`, `slope`
/// and `first` are [`scatter`]'s: 1/H, the binary Laplace term's Σ e, Σ v/κ².
fn scatter_cells(
    sums: &mut Sums,
    sample: &CardinalSample,
    base: usize,
    inverse: f64,
    slope: f64,
    first: f64,
) {
    let (weight, deviation, precision, prior) = (
        sample.weight,
        sample.deviation,
        sample.precision,
        sample.prior,
    );
    let hubs = &sample.hubs;
    let binary = hubs.scale.is_none();
    let n = sums.n;
    let (z, per_skill) = hubs.effect.map_or((0.0, 0.0), |e| (e.z, e.per_skill));
    let others = sample.entries.len() as f64 - 1.0;
    for entry in sample.entries {
        let w = entry.curvature;
        let coupling = -weight * w * prior * inverse;
        let own = weight * w * (1.0 - w * inverse);
        let mut gradient = weight * entry.residual;
        if binary {
            gradient -= 0.5 * weight * inverse * (entry.value - slope * w * inverse);
        }
        let cell = (base + entry.local as usize) * CELL_STRIDE;
        let row = &mut sums.cells[cell..cell + CELL_STRIDE];
        row[CELL_GRADIENT] += gradient;
        row[CELL_DIAGONAL] += own;
        row[CELL_CROSS] += own + per_skill * coupling;
        row[CELL_LOCATION] += coupling;
        row[CELL_SPREAD] += -weight * deviation * w * prior * inverse;
        if let Some(effect) = hubs.effect {
            row[CELL_MEASURER] += z * coupling;
            row[CELL_CENTRE] -= effect.beta * coupling;
        }
        if hubs.scale.is_some() {
            row[CELL_SCALE] += weight * (-entry.value / KAPPA2 + first * w * inverse);
        }
        if sample.dropped {
            // Its couplings to the other entries' skills and cells, and theirs to it
            // (`Sums::skill_pair`'s Gershgorin sizes).
            let shared = weight * w * (precision - w) * inverse;
            row[CELL_DROPPED] += 2.0 * shared + others * (per_skill * coupling).abs();
            sums.row(entry.local as usize)[DROPPED] +=
                shared + per_skill.abs() * weight * prior * inverse * (precision - w);
        }
    }
    if sums.pairs.is_empty() {
        return;
    }
    for (p, a) in sample.entries.iter().enumerate() {
        let coupling_a = -weight * a.curvature * prior * inverse;
        let (skill_a, cell_a) = (a.local as usize, n + base + a.local as usize);
        for b in &sample.entries[..p] {
            let coupling_b = -weight * b.curvature * prior * inverse;
            let (skill_b, cell_b) = (b.local as usize, n + base + b.local as usize);
            let shared = -weight * a.curvature * b.curvature * inverse;
            sums.pair(skill_a, cell_b, shared + per_skill * coupling_b);
            sums.pair(cell_a, skill_b, shared + per_skill * coupling_a);
            sums.pair(cell_a, cell_b, shared);
        }
    }
}
