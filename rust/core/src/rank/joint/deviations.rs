//! Deviations per model and stratum: on a benchmark with two or more strata (declared
//! categories or difficulty buckets), model m's skill on stratum s is θ_m + u_{m,s}, with
//! u_{m,s} ~ N(0, σ_k²) and σ_k² one variance per benchmark, estimated by empirical Bayes
//! like the difficulties' spreads.
//!
//! Why: one skill per model has to weigh a model's strata somehow, and when models were
//! measured on different strata (each keeps some categories or buckets), how a model
//! would have done on a stratum it was not measured on is read off the strata it was.
//! Where models differ by stratum (on chembench_irt a model's accuracy on the hard bucket
//! ranks the models more like their accuracy on the intermediate one than their easy
//! bucket does) the single skill weighs them wrongly. The deviations model that
//! interaction, as a random model × item-group effect of an explanatory item response
//! model (De Boeck & Wilson 2004, ch. 7; the testlet model of Bradlow, Wainer & Wang
//! 1999). The common skill keeps the weak skill prior, so a model's level is not pulled
//! towards the others' through its deviations; σ_k² goes to 0 where the strata rank the
//! models alike, and the model is then the one-skill model.
//!
//! The leaderboard score is the skill on the selection: θ_m + Σ_s w_s u_{m,s}, w_s the
//! share of the selection's cardinal samples in stratum s.
//!
//! In the fit each (model, stratum) cell is eliminated from the Newton system by its own
//! Schur complement (its couplings to its model's skill, its stratum's location and its
//! benchmark's numeric scale kept, those to other cells dropped, as the arrowhead step
//! drops skill–skill couplings) and stepped by back-substitution, so a cell and its
//! model's skill move together. While a benchmark's σ² is above its bound the fit
//! therefore takes the arrowhead step (`fit.rs`): the full step's exact skill–skill
//! couplings beside the cells' dropped ones do not make a contracting step (one fit of
//! 22 models ran 10,000 passes). σ_k² takes an EM step per pass (see
//! [`step_variances`]). Cells are dense (model × stratum), so they are kept only up to
//! [`CELL_LIMIT`].

use super::layout::{Layout, Reading, NONE};
use super::sums::{Sums, COUPLING, DIAGONAL, GRADIENT};

/// Most cells (ranked models × deviation strata) a selection gets deviations for: every
/// pass accumulator holds a row per cell.
pub(crate) const CELL_LIMIT: usize = 1 << 16;

/// Where σ² starts (σ = 0.5 logits).
pub(crate) const VARIANCE_START: f64 = 0.25;
/// Bounds of σ²: at the lower one the deviations are nil for every purpose.
pub(crate) const VARIANCE_MIN: f64 = 1e-6;
pub(crate) const VARIANCE_MAX: f64 = 100.0;

/// A cell's row in the pass sums: gradient, diagonal curvature, coupling to its model's
/// skill, to its stratum's location, to its benchmark's numeric scale.
pub(crate) const CELL_GRADIENT: usize = 0;
pub(crate) const CELL_DIAGONAL: usize = 1;
pub(crate) const CELL_CROSS: usize = 2;
pub(crate) const CELL_LOCATION: usize = 3;
pub(crate) const CELL_SCALE: usize = 4;
pub(crate) const CELL_STRIDE: usize = 5;

/// Which strata get deviations, and where their cells live: cell (s, m) is s · n + m.
#[derive(Debug, Clone, Default)]
pub(crate) struct Deviations {
    /// Per location group: its deviation stratum, or [`NONE`].
    pub stratum: Vec<u32>,
    /// Per deviation stratum: its location group.
    pub location: Vec<u32>,
    /// Per deviation stratum: its spread group (whose σ² it uses).
    pub spread: Vec<u32>,
    /// Per deviation stratum: its share of the selection's cardinal samples.
    pub share: Vec<f64>,
    /// Ranked models.
    pub n: usize,
}

impl Deviations {
    /// Deviation strata: the location groups in the ranked component whose spread group
    /// (benchmark and kind) has two or more of them. `location`, `spread` and `reading`
    /// by dataset sample, `location_parameter` by location group.
    pub fn new(
        location: &[u32],
        spread: &[u32],
        reading: &[Reading],
        location_parameter: &[u32],
        n_spreads: usize,
        n: usize,
    ) -> Deviations {
        let n_locations = location_parameter.len();
        let mut counts = vec![0usize; n_locations];
        let mut spread_of = vec![NONE; n_locations];
        for ((&group, &spread), &read) in location.iter().zip(spread).zip(reading) {
            if group == NONE || read == Reading::Absent {
                continue;
            }
            if location_parameter[group as usize] != NONE {
                counts[group as usize] += 1;
                spread_of[group as usize] = spread;
            }
        }
        let mut per_spread = vec![0usize; n_spreads];
        for (&count, &spread) in counts.iter().zip(&spread_of) {
            if count > 0 {
                per_spread[spread as usize] += 1;
            }
        }
        let total: usize = counts.iter().sum();
        let chosen: Vec<usize> = (0..n_locations)
            .filter(|&group| counts[group] > 0 && per_spread[spread_of[group] as usize] >= 2)
            .collect();
        let mut deviations = Deviations {
            stratum: vec![NONE; n_locations],
            n,
            ..Default::default()
        };
        if chosen.len() * n > CELL_LIMIT {
            return deviations;
        }
        for group in chosen {
            deviations.stratum[group] = deviations.location.len() as u32;
            deviations.location.push(group as u32);
            deviations.spread.push(spread_of[group]);
            deviations.share.push(counts[group] as f64 / total as f64);
        }
        deviations
    }

    pub fn n_strata(&self) -> usize {
        self.location.len()
    }

    pub fn n_cells(&self) -> usize {
        self.location.len() * self.n
    }

    /// The skills on each deviation stratum, θ + u, stratum-major (n per stratum).
    pub fn effective(&self, skills: &[f64], deviations: &[f64]) -> Vec<f64> {
        let mut effective = Vec::with_capacity(self.n_cells());
        for stratum in 0..self.n_strata() {
            let cells = &deviations[stratum * self.n..(stratum + 1) * self.n];
            effective.extend(skills.iter().zip(cells).map(|(skill, u)| skill + u));
        }
        effective
    }

    /// The skills on the selection: θ_m + Σ_s w_s u_{m,s}.
    pub fn scores(&self, skills: &[f64], deviations: &[f64]) -> Vec<f64> {
        let mut scores = skills.to_vec();
        for (stratum, &share) in self.share.iter().enumerate() {
            let cells = &deviations[stratum * self.n..(stratum + 1) * self.n];
            for (score, u) in scores.iter_mut().zip(cells) {
                *score += share * u;
            }
        }
        scores
    }
}

/// Whether any benchmark's deviations are above their bound: at it a cell's prior
/// precision (1/σ² = 10⁶) leaves nothing for the dropped couplings to misstate, and the
/// fit may take the full step.
pub(crate) fn active(layout: &Layout, variance: &[f64]) -> bool {
    let cells = &layout.deviations;
    cells.n_cells() > 0
        && cells
            .spread
            .iter()
            .any(|&group| variance[group as usize] > VARIANCE_MIN)
}

/// What the back-substitution needs of each cell after [`eliminate`].
pub(crate) struct Eliminated {
    /// Per cell: its curvature D = d + 1/σ² and gradient G = g − u/σ².
    pub curvature: Vec<f64>,
    pub gradient: Vec<f64>,
}

/// The hub numbers (parameter index − n) of a stratum's location and numeric scale.
fn hubs(deviations: &Deviations, layout: &Layout, stratum: usize) -> (usize, Option<usize>) {
    let n = layout.n_ranked();
    let group = deviations.location[stratum] as usize;
    let location = layout.location_parameter[group] as usize - n;
    let scale = match layout.scale_parameter[deviations.spread[stratum] as usize] {
        NONE => None,
        index => Some(index as usize - n),
    };
    (location, scale)
}

/// Adds the cells' prior terms (and their part of the objective, log N(u; 0, σ²) of the
/// cells with data: the objective judges the extrapolation's jumps, σ² included) and
/// eliminates the cells from the skills' and hubs' Newton system.
pub(crate) fn eliminate(
    layout: &Layout,
    deviations: &[f64],
    variance: &[f64],
    sums: &mut Sums,
) -> Eliminated {
    let cells = &layout.deviations;
    let n = cells.n;
    let mut eliminated = Eliminated {
        curvature: vec![0.0; cells.n_cells()],
        gradient: vec![0.0; cells.n_cells()],
    };
    for stratum in 0..cells.n_strata() {
        let sigma2 = variance[cells.spread[stratum] as usize];
        let (location, scale) = hubs(cells, layout, stratum);
        for model in 0..n {
            let cell = stratum * n + model;
            let row = &sums.cells[cell * CELL_STRIDE..(cell + 1) * CELL_STRIDE];
            let (g, d, cross) = (row[CELL_GRADIENT], row[CELL_DIAGONAL], row[CELL_CROSS]);
            let (to_location, to_scale) = (row[CELL_LOCATION], row[CELL_SCALE]);
            let u = deviations[cell];
            sums.objective -= 0.5 * u * u / sigma2;
            if d > 0.0 {
                sums.objective -= 0.5 * sigma2.ln();
            }
            let curvature = d + 1.0 / sigma2;
            let gradient = g - u / sigma2;
            eliminated.curvature[cell] = curvature;
            eliminated.gradient[cell] = gradient;
            let inverse = 1.0 / curvature;
            let skill = sums.row(model);
            skill[GRADIENT] -= cross * gradient * inverse;
            skill[DIAGONAL] -= cross * cross * inverse;
            skill[COUPLING + location] -= cross * to_location * inverse;
            sums.hub_gradient[location] -= to_location * gradient * inverse;
            sums.hub_diagonal[location] -= to_location * to_location * inverse;
            if let Some(hub) = scale {
                sums.row(model)[COUPLING + hub] -= cross * to_scale * inverse;
                sums.hub_gradient[hub] -= to_scale * gradient * inverse;
                sums.hub_diagonal[hub] -= to_scale * to_scale * inverse;
                sums.hub_pair(hub, location, -to_location * to_scale * inverse);
            }
        }
    }
    eliminated
}

/// The cells' steps given the skills' and hubs' `step` (before damping), with the sums
/// of the same pass.
pub(crate) fn cell_steps(
    layout: &Layout,
    sums: &Sums,
    eliminated: &Eliminated,
    step: &[f64],
) -> Vec<f64> {
    let cells = &layout.deviations;
    let n = cells.n;
    let mut steps = vec![0.0; cells.n_cells()];
    for stratum in 0..cells.n_strata() {
        let (location, scale) = hubs(cells, layout, stratum);
        for model in 0..n {
            let cell = stratum * n + model;
            let row = &sums.cells[cell * CELL_STRIDE..(cell + 1) * CELL_STRIDE];
            let mut right = eliminated.gradient[cell]
                - row[CELL_CROSS] * step[model]
                - row[CELL_LOCATION] * step[n + location];
            if let Some(hub) = scale {
                right -= row[CELL_SCALE] * step[n + hub];
            }
            steps[cell] = right / eliminated.curvature[cell];
        }
    }
    steps
}

/// One EM step of each benchmark's σ²: the mean over its cells with data of u² + v, v a
/// cell's posterior variance with the skill's uncertainty included (v = 1/D + (x/D)²/S,
/// S the skill's curvature with its cells eliminated: the block inverse of the skill and
/// its cells). EM's step near σ² = 0 is of order σ⁴ (it would take thousands of passes
/// to get there), so while EM lowers a σ² whose marginal likelihood falls from 0 (the
/// score test: Σ (g² − d̃) ≤ 0, g a cell's gradient at u = 0 and d̃ its information with
/// the skill free; the strata rank the models alike), σ² goes to its bound at once; from
/// there EM's steps are below any tolerance. Returns the largest change of a σ² (u moves
/// by about Δσ² times its gradient, which is what the fit's tolerance is about).
pub(crate) fn step_variances(
    layout: &Layout,
    sums: &Sums,
    eliminated: &Eliminated,
    deviations: &[f64],
    variance: &mut [f64],
) -> f64 {
    let cells = &layout.deviations;
    let n = cells.n;
    let groups = variance.len();
    let (mut total, mut score) = (vec![0.0; groups], vec![0.0; groups]);
    let mut counts = vec![0usize; groups];
    // Each skill's curvature before its cells were eliminated.
    let mut whole: Vec<f64> = (0..n)
        .map(|model| sums.skills[model * sums.stride + DIAGONAL])
        .collect();
    for cell in 0..cells.n_cells() {
        let cross = sums.cells[cell * CELL_STRIDE + CELL_CROSS];
        whole[cell % n] += cross * cross / eliminated.curvature[cell];
    }
    for stratum in 0..cells.n_strata() {
        let group = cells.spread[stratum] as usize;
        for (model, &whole) in whole.iter().enumerate() {
            let cell = stratum * n + model;
            let row = &sums.cells[cell * CELL_STRIDE..(cell + 1) * CELL_STRIDE];
            let d = row[CELL_DIAGONAL];
            if d <= 0.0 {
                continue;
            }
            let inverse = 1.0 / eliminated.curvature[cell];
            let skill = sums.skills[model * sums.stride + DIAGONAL].max(1e-12);
            let u = deviations[cell];
            total[group] += u * u + inverse + (row[CELL_CROSS] * inverse).powi(2) / skill;
            counts[group] += 1;
            let at_zero = row[CELL_GRADIENT] + d * u;
            score[group] += at_zero * at_zero - d * (1.0 - d / whole.max(d));
        }
    }
    let mut change: f64 = 0.0;
    for (group, variance) in variance.iter_mut().enumerate() {
        if counts[group] == 0 {
            continue;
        }
        let em = total[group] / counts[group] as f64;
        let after = if score[group] <= 0.0 && em < *variance {
            VARIANCE_MIN
        } else {
            em.clamp(VARIANCE_MIN, VARIANCE_MAX)
        };
        change = change.max((after - *variance).abs());
        *variance = after;
    }
    change
}

/// How the skills' errors carry to the scores θ + Σ w u: given the skill, a cell's
/// posterior has mean −(x/D) θ (up to a constant) and variance 1/D, so a score is
/// a θ + e with a = 1 − Σ w x/D and e of variance Σ w²/D. Returns (a, var e) per model.
pub(crate) fn score_errors(
    layout: &Layout,
    sums: &Sums,
    eliminated: &Eliminated,
) -> (Vec<f64>, Vec<f64>) {
    let cells = &layout.deviations;
    let n = cells.n;
    let (mut scale, mut noise) = (vec![1.0; n], vec![0.0; n]);
    for (stratum, &share) in cells.share.iter().enumerate() {
        for model in 0..n {
            let cell = stratum * n + model;
            let inverse = 1.0 / eliminated.curvature[cell];
            scale[model] -= share * sums.cells[cell * CELL_STRIDE + CELL_CROSS] * inverse;
            noise[model] += share * share * inverse;
        }
    }
    (scale, noise)
}
