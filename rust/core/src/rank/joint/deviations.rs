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
//! In the fit the cells are parameters of the Newton system beside the skills, with
//! every coupling the data give them (to their model's and the other measurers' skills
//! and cells, to their stratum's location, their benchmark's spread, numeric scale and
//! measurer effect; `scatter.rs`). The full step factorises them with the rest; the
//! arrowhead step eliminates each cell into its model's skill and its hubs by its own
//! Schur complement and drops its couplings to other rows, as it drops the skills'
//! (`solve.rs`); each pass then moves every stratum's cells to mean 0 with its location
//! ([`centre_strata`]), the one direction that step crawls along. σ_k² is set each pass
//! to the maximum of the cells' Laplace-approximated marginal likelihood given the pass
//! ([`step_variances`]), which the objective judging the extrapolation's jumps includes
//! ([`marginal_terms`]). Cells are dense (model × stratum), so they are kept only up to
//! [`CELL_LIMIT`].
//!
//! Where every sample of a model lies in strata with deviations, a model × benchmark
//! difference can be read as either benchmark's deviations: the marginal likelihood
//! then has more than one maximum in the σ_k², which rank the models alike (the
//! `rank_joint_timings` data: binary σ² 5e-5 and numeric 0.31 from a cold start, 0.32
//! and 1e-6 from a warm one; Kendall tau 0.9954 both).

use rayon::prelude::*;

use super::super::lists::Selection;
use super::layout::{Layout, Reading, NONE};
use super::solve::Cell;
use super::sums::{Sums, DIAGONAL};
use super::Item;

/// Most cells (ranked models × deviation strata) a selection gets deviations for: every
/// pass accumulator holds a row per cell.
pub(crate) const CELL_LIMIT: usize = 1 << 16;

/// Where σ² starts (σ = 0.5 logits).
pub(crate) const VARIANCE_START: f64 = 0.25;
/// Bounds of σ²: at the lower one the deviations are nil for every purpose.
pub(crate) const VARIANCE_MIN: f64 = 1e-6;
pub(crate) const VARIANCE_MAX: f64 = 100.0;

/// A cell's row in the pass sums: gradient, diagonal curvature, the Gershgorin size of
/// its couplings to other rows (the arrowhead step drops them), its term of the measurer
/// effect's centre (as a skill's `CENTRE`), its coupling to its model's skill, then to
/// its stratum's location, its benchmark's spread, numeric scale and measurer effect.
pub(crate) const CELL_GRADIENT: usize = 0;
pub(crate) const CELL_DIAGONAL: usize = 1;
pub(crate) const CELL_DROPPED: usize = 2;
pub(crate) const CELL_CENTRE: usize = 3;
pub(crate) const CELL_CROSS: usize = 4;
pub(crate) const CELL_LOCATION: usize = 5;
pub(crate) const CELL_SPREAD: usize = 6;
pub(crate) const CELL_SCALE: usize = 7;
pub(crate) const CELL_MEASURER: usize = 8;
pub(crate) const CELL_STRIDE: usize = 9;

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

    /// No deviation strata (a form without deviations).
    pub fn none(n_locations: usize, n: usize) -> Deviations {
        Deviations {
            stratum: vec![NONE; n_locations],
            n,
            ..Default::default()
        }
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

    /// The skills a sample of location group `group` reads, and the first of its
    /// stratum's cells: the stratum's slice of `effective` (see [`Deviations::effective`])
    /// where it has deviations, `skills` otherwise.
    pub fn skills_of<'a>(
        &self,
        group: u32,
        skills: &'a [f64],
        effective: &'a [f64],
    ) -> (&'a [f64], Option<usize>) {
        match self.stratum[group as usize] {
            NONE => (skills, None),
            stratum => {
                let base = stratum as usize * self.n;
                (&effective[base..base + self.n], Some(base))
            }
        }
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

/// The hubs (hub numbers, parameter index − n) of a stratum's cells, with the slots of
/// their couplings in a cell's row: location, spread, numeric scale, measurer effect.
fn hubs(layout: &Layout, stratum: usize) -> Vec<(usize, usize)> {
    let cells = &layout.deviations;
    let n = layout.n_ranked();
    let group = cells.spread[stratum] as usize;
    let location = layout.location_parameter[cells.location[stratum] as usize];
    [
        (location, CELL_LOCATION),
        (layout.spread_parameter[group], CELL_SPREAD),
        (layout.scale_parameter[group], CELL_SCALE),
        (layout.measurer_parameter[group], CELL_MEASURER),
    ]
    .into_iter()
    .filter(|&(index, _)| index != NONE)
    .map(|(index, slot)| (index as usize - n, slot))
    .collect()
}

/// The cells' rows of the Newton system: their pass sums with the prior N(0, σ²) added
/// (and its −u²/2σ² to the objective; see [`marginal_terms`] for the rest) and the hubs'
/// factors applied. Call after `prior::complete_sums`.
pub(crate) fn system(
    layout: &Layout,
    deviations: &[f64],
    variance: &[f64],
    sums: &mut Sums,
) -> Vec<Cell> {
    let cells = &layout.deviations;
    let n = cells.n;
    let mut system = Vec::with_capacity(cells.n_cells());
    for stratum in 0..cells.n_strata() {
        let sigma2 = variance[cells.spread[stratum] as usize];
        let hubs = hubs(layout, stratum);
        for model in 0..n {
            let cell = stratum * n + model;
            let row = &sums.cells[cell * CELL_STRIDE..(cell + 1) * CELL_STRIDE];
            let u = deviations[cell];
            let mut couplings = [(0, 0.0); 4];
            for (coupling, &(hub, slot)) in couplings.iter_mut().zip(&hubs) {
                *coupling = (hub, row[slot] * sums.hub_factor[hub]);
            }
            system.push(Cell {
                model,
                curvature: row[CELL_DIAGONAL] + 1.0 / sigma2,
                dropped: row[CELL_DROPPED],
                gradient: row[CELL_GRADIENT] - u / sigma2,
                cross: row[CELL_CROSS],
                couplings,
            });
            sums.objective -= 0.5 * u * u / sigma2;
        }
    }
    system
}

/// Moves each stratum's cells to mean 0, with its location and its samples'
/// difficulties by the same amount. The likelihood reads only θ + u − b, and b's prior
/// only b − μ, so along that direction only the cells' prior changes, and this is its
/// optimum. The arrowhead step, which drops the couplings between the cells of a sample's
/// models, crawls along it (on 1000 models × 1M samples in 16 strata, a location moved
/// by about 1e-5 every pass, shrinking by under 1% a pass); the skills' common shift is
/// fixed the same way (`prior::apply_shift`). Returns the largest move.
pub(crate) fn centre_strata(
    layout: &Layout,
    selection: &Selection,
    deviations: &mut [f64],
    parameters: &mut [f64],
    items: &mut [Item],
) -> f64 {
    let cells = &layout.deviations;
    let n = cells.n;
    if n == 0 || cells.n_strata() == 0 {
        return 0.0;
    }
    // Per location group: the move of its stratum's cells.
    let mut moves = vec![0.0; cells.stratum.len()];
    let mut largest: f64 = 0.0;
    for (stratum, values) in deviations.chunks_exact_mut(n).enumerate() {
        let mean = values.iter().sum::<f64>() / n as f64;
        if mean == 0.0 {
            continue;
        }
        for value in values.iter_mut() {
            *value -= mean;
        }
        let group = cells.location[stratum] as usize;
        parameters[layout.location_parameter[group] as usize] -= mean;
        moves[group] = mean;
        largest = largest.max(mean.abs());
    }
    if largest > 0.0 {
        items
            .par_iter_mut()
            .enumerate()
            .for_each(|(position, item)| {
                let group = layout.location[selection.sample(position)];
                if group != NONE {
                    item.difficulty -= moves[group as usize];
                }
            });
    }
    largest
}

/// Each skill's curvature in the pass sums.
fn skill_curvatures(sums: &Sums) -> Vec<f64> {
    (0..sums.n)
        .map(|model| sums.skills[model * sums.stride + DIAGONAL])
        .collect()
}

/// Each skill's curvature with its cells eliminated (S = C − Σ x²/D).
fn eliminated_skills(sums: &Sums, system: &[Cell]) -> Vec<f64> {
    let mut eliminated = skill_curvatures(sums);
    for cell in system {
        eliminated[cell.model] -= cell.cross * cell.cross / cell.curvature;
    }
    eliminated
}

/// The objective's terms in σ² beyond the cells' −u²/2σ²: Laplace's approximation of
/// the cells and their skills integrated out, −½ Σ log(1 + σ² d) over the cells (d a
/// cell's data curvature) − ½ Σ log(S/C) over the models (S a skill's curvature with its
/// cells eliminated, C without). Its σ²-derivative is ½ Σ (u² + v)/σ⁴ − K/2σ², v as in
/// [`step_variances`], which sets σ² at its maximum; without it the objective (the joint
/// density of the cells) falls as σ² rises to that value, and the extrapolation refused
/// every jump. The skills' and cells' gradients leave these terms
/// out (as they leave out the curvature's own derivatives): they only judge the jumps.
pub(crate) fn marginal_terms(
    layout: &Layout,
    sums: &Sums,
    system: &[Cell],
    variance: &[f64],
) -> f64 {
    let cells = &layout.deviations;
    let n = cells.n;
    if n == 0 || system.is_empty() {
        return 0.0;
    }
    let mut total = 0.0;
    for (index, d) in sums
        .cells
        .chunks_exact(CELL_STRIDE)
        .map(|row| row[CELL_DIAGONAL])
        .enumerate()
    {
        let sigma2 = variance[cells.spread[index / n] as usize];
        total -= 0.5 * (sigma2 * d.max(0.0)).ln_1p();
    }
    let whole = skill_curvatures(sums);
    for (eliminated, whole) in eliminated_skills(sums, system).iter().zip(&whole) {
        if *whole > 0.0 && *eliminated > 0.0 {
            total -= 0.5 * (eliminated / whole).ln();
        }
    }
    total
}

/// Each benchmark's σ² at the maximum of the objective of [`marginal_terms`] (the cells
/// and their skills integrated out by Laplace's method), given the pass's cells. A cell
/// is read as normal data: its posterior mode at σ² is u(σ²) = σ²y/(1 + σ²d), y = g + d u
/// its data's gradient at u = 0 (g the gradient at the pass's u; at the fit's fixed point
/// u = σ²y/(1 + σ²d) exactly), and its posterior variance with
/// its skill's uncertainty included is v = 1/D + (x/D)²/S (S the skill's curvature with
/// its cells eliminated: the block inverse of the skill and its cells). The score,
/// ½ Σ (u² + v − σ²)/σ⁴ over the cells with data, is then
/// ½ Σ [(y² + x²/S)/(1 + σ²d)² − d/(1 + σ²d)], whose zero (EM's fixed point, σ² the mean
/// of u² + v) is found by bisection in log σ²; where the score at σ² = 0 is ≤ 0 (the
/// strata rank the models alike) σ² goes to its bound. EM's own steps near that bound
/// are of order σ⁴, so it creeps there for hundreds of passes and more; a scoring step
/// taken with the cells of the last σ² overshoots, as the cells lag behind it. Call with
/// the cells the pass read (before their step). Returns the largest change of a σ².
pub(crate) fn step_variances(
    layout: &Layout,
    sums: &Sums,
    system: &[Cell],
    deviations: &[f64],
    variance: &mut [f64],
) -> f64 {
    let cells = &layout.deviations;
    let n = cells.n;
    let eliminated = eliminated_skills(sums, system);
    // Per spread group, per cell with data: d, and y² + x²/S.
    let mut terms = vec![Vec::new(); variance.len()];
    for (index, cell) in system.iter().enumerate() {
        let row = &sums.cells[index * CELL_STRIDE..(index + 1) * CELL_STRIDE];
        let d = row[CELL_DIAGONAL];
        if d <= 0.0 {
            continue;
        }
        let y = row[CELL_GRADIENT] + d * deviations[index];
        let skill = eliminated[cell.model].max(1e-12);
        terms[cells.spread[index / n] as usize].push((d, y * y + cell.cross * cell.cross / skill));
    }
    let mut change: f64 = 0.0;
    for (terms, variance) in terms.iter().zip(variance.iter_mut()) {
        if terms.is_empty() {
            continue;
        }
        let score = |sigma2: f64| -> f64 {
            terms
                .iter()
                .map(|&(d, squared)| {
                    let shrink = 1.0 / (1.0 + sigma2 * d);
                    squared * shrink * shrink - d * shrink
                })
                .sum()
        };
        let after = if score(0.0) <= 0.0 {
            VARIANCE_MIN
        } else if score(VARIANCE_MAX) >= 0.0 {
            VARIANCE_MAX
        } else {
            let (mut low, mut high) = (VARIANCE_MIN.ln(), VARIANCE_MAX.ln());
            while high - low > 1e-12 {
                let middle = 0.5 * (low + high);
                if score(middle.exp()) > 0.0 {
                    low = middle;
                } else {
                    high = middle;
                }
            }
            (0.5 * (low + high)).exp()
        };
        change = change.max((after - *variance).abs());
        *variance = after;
    }
    change
}
