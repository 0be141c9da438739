//! The fit: passes of difficulty steps and Newton steps on the profile posterior (skills
//! and hubs together), with Davidson's tie parameter stepped between passes.
//!
//! Stopping rule: the largest change of a pass (skills, locations, spreads and
//! difficulties in logits, scales relatively) is below the tolerance. `iterations`
//! counts passes over the data, the unit of cost.

use super::super::lists::Selection;
use super::centre::Centre;
use super::layout::{Layout, NONE};
use super::pass::{self, PassInput};
use super::prior::{self, complete_sums, LOCATION_MAX, MEASURER_MAX, SPREAD_MAX, SPREAD_MIN};
use super::state::State;
use super::{binary, blocks, deviations, solve};

/// Largest step of a skill or location per pass (logits).
const STEP: f64 = 3.0;

/// Passes without a new smallest change after which the steps are halved.
const STALL: usize = 8;

/// Passes after which every binary difficulty takes its two Newton steps, however small
/// the first. Early on one step suffices (the skills move more than the difficulties'
/// residual error); near the solution a difficulty in the flat tail of a sample nearly
/// every model passed (or failed) converges linearly, not quadratically, and a lagging
/// difficulty holds the whole fit to a slow linear rate: on synthetic data with
/// benchmark-structured missingness, 2.7–4 times more median passes (8 seeds).
const FULL_STEPS_AFTER: usize = 10;

/// Largest step of a measurer effect per pass: z moves with the skills, so a large step
/// of β and the skills' steps do not add up to the step of their Newton model.
const MEASURER_STEP: f64 = 0.25;

/// The outcome of a fit.
pub(crate) struct Fitted {
    pub state: State,
    pub iterations: usize,
    pub converged: bool,
}

/// Most rows (skills and cells) of the full matrix with deviation cells: every pass
/// accumulator holds rows² values (4096²: 128 MiB).
const FULL_ROWS: usize = 4096;

/// Flops a pass spends per measurement entry, about: what a factorisation is weighed
/// against.
const PASS_FLOPS: f64 = 100.0;

/// Most flops of one factorisation of the full step (a fraction of a second on two
/// cores): dense below 1200 parameters, by blocks of cells (`blocks.rs`) with them.
const FACTORISE: f64 = 2e9;

/// Whether a pass may build the full matrix: few enough parameters to factorise each
/// pass, and pair work not far above the pass itself or small in absolute terms (a
/// fraction of a second). A sample with cells couples its skills and cells pairwise:
/// four times a skill's pairs.
pub(crate) fn use_full(layout: &Layout) -> bool {
    let cells = layout.deviations.n_cells();
    let pair_work = if cells > 0 {
        4.0 * layout.pair_work
    } else {
        layout.pair_work
    };
    let affordable = pair_work <= (8.0 * layout.entries).max(2e8);
    if cells == 0 {
        // Nor may the factorisation dwarf the pass: on a small sample of a pool of many
        // models (the cross-validation's), a dense step of 1,000 skills costs a hundred
        // passes over the data, and the arrowhead steps are the cheaper way there.
        let factorise = (layout.n_parameters as f64).powi(3) / 3.0;
        return layout.n_parameters <= 1200
            && affordable
            && factorise <= (PASS_FLOPS * layout.entries).max(1e8);
    }
    let (per, strata) = (
        (cells / layout.deviations.n_strata().max(1)) as f64,
        layout.deviations.n_strata() as f64,
    );
    let outer = layout.n_parameters as f64;
    let factorise = strata * per * per * (per + 2.0 * outer) + outer.powi(3) / 3.0;
    layout.n_parameters + cells <= FULL_ROWS && factorise <= FACTORISE && affordable
}

pub(crate) struct Settings {
    pub alpha: f64,
    pub tolerance: f64,
    pub max_iterations: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Plain,
    Location,
    Scale,
    Spread,
    Measurer,
}

/// Where a fit starts from.
pub(crate) enum Start {
    /// Nothing fitted yet.
    Cold,
    /// Skills from an earlier fit; difficulties and hubs not fitted yet.
    Skills,
    /// An earlier fit's whole solution, on a selection that may have grown since (new
    /// samples at their locations); `new_spreads` marks the spread groups it had no
    /// value for.
    Resumed { new_spreads: Vec<bool> },
    /// A whole earlier state (a bootstrap replicate from the point fit).
    Warm,
}

/// One iteration at a time: a pass (the difficulties' steps) and a Newton step of the
/// skills and hubs, with the step damping and the switch to majorised steps that the
/// passes so far call for.
pub(crate) struct Fitter<'a> {
    selection: Selection<'a>,
    layout: &'a Layout,
    centre: Centre,
    alpha: f64,
    pub tolerance: f64,
    pub max_iterations: usize,
    /// Per spread group: held for the first passes, while its difficulties form.
    held_spreads: Vec<bool>,
    /// Binary difficulties take both Newton steps from the first pass (see
    /// [`FULL_STEPS_AFTER`]): a resumed fit starts near the solution.
    full_steps: bool,
    full: bool,
    /// The deviations' variances are held (a bootstrap replicate: resampled samples
    /// weigh some cells twice or more, which reads as a model × stratum interaction).
    held_variances: bool,
    locations: Vec<usize>,
    roles: Vec<Role>,
    steps: usize,
    majorise: bool,
    last: f64,
    growth: usize,
    damping: f64,
    best: f64,
    since_best: usize,
    /// Passes so far.
    pub iterations: usize,
    /// Whether the next pass computes the objective (it costs a log per binary
    /// measurement, so only the passes that `accelerate.rs` compares do).
    pub compute_objective: bool,
    /// The objective at the last pass's skills and hubs (see `Sums::objective`); NaN
    /// when that pass did not compute it.
    pub objective: f64,
}

impl<'a> Fitter<'a> {
    pub fn new(
        selection: Selection<'a>,
        layout: &'a Layout,
        settings: &Settings,
        start: Start,
    ) -> Fitter<'a> {
        let locations: Vec<usize> = layout
            .location_parameter
            .iter()
            .filter(|&&index| index != NONE)
            .map(|&index| index as usize)
            .collect();
        let mut roles = vec![Role::Plain; layout.n_parameters];
        for (indices, role) in [
            (&layout.location_parameter, Role::Location),
            (&layout.scale_parameter, Role::Scale),
            (&layout.spread_parameter, Role::Spread),
            (&layout.measurer_parameter, Role::Measurer),
        ] {
            for &index in indices {
                if index != NONE {
                    roles[index as usize] = role;
                }
            }
        }
        let steps = if matches!(start, Start::Warm) { 2 } else { 4 };
        let full_steps = matches!(start, Start::Resumed { .. });
        let held_variances = matches!(start, Start::Warm);
        let held_spreads = match start {
            Start::Cold | Start::Skills => vec![true; layout.spread_parameter.len()],
            Start::Resumed { new_spreads } => new_spreads,
            Start::Warm => Vec::new(),
        };
        Fitter {
            selection,
            layout,
            centre: Centre::of(&selection, layout),
            alpha: settings.alpha,
            tolerance: settings.tolerance,
            max_iterations: settings.max_iterations,
            held_spreads,
            full_steps,
            full: use_full(layout),
            held_variances,
            locations,
            roles,
            // Difficulties start at their location: a few Newton steps place them first;
            // later a sample takes a second step only while its steps are large.
            steps,
            majorise: false,
            last: f64::INFINITY,
            growth: 0,
            damping: 1.0,
            best: f64::INFINITY,
            since_best: 0,
            iterations: 0,
            compute_objective: false,
            objective: f64::NAN,
        }
    }

    /// The parameters' bounds for `value` reached from `reference`: a step's start, or
    /// the point the acceleration extrapolates from.
    pub fn bound(&self, index: usize, value: f64, reference: f64) -> f64 {
        match self.roles[index] {
            Role::Plain => value,
            Role::Location => value.clamp(-LOCATION_MAX, LOCATION_MAX),
            Role::Scale => value.clamp(reference / 4.0, reference * 4.0),
            Role::Spread => value
                .clamp(reference / 10.0, reference * 10.0)
                .clamp(SPREAD_MIN, SPREAD_MAX),
            Role::Measurer => value.clamp(0.0, MEASURER_MAX),
        }
    }

    /// One pass and step from `state`: the largest change it made (skills, locations,
    /// spreads and difficulties in logits, scales relatively), or `None` when the Newton
    /// system is singular.
    pub fn iterate(&mut self, state: &mut State) -> Option<f64> {
        let (layout, n) = (self.layout, self.layout.n_ranked());
        self.iterations += 1;
        let variance = state.spread_variance(layout);
        let effective = state.effective_skills(layout);
        let full = self.full;
        let input = PassInput {
            selection: self.selection,
            layout,
            parameters: &state.parameters,
            spread_variance: &variance,
            tie: state.tie,
            steps: self.steps,
            small: if self.full_steps || self.iterations > FULL_STEPS_AFTER {
                0.0
            } else {
                binary::SMALL
            },
            full,
            dropped: !full && self.majorise,
            centre: &self.centre,
            objective: self.compute_objective,
            effective: &effective,
        };
        let mut sums = pass::run(&input, &mut state.items);
        self.steps = 2;
        // Where the spreads are not warm, the first passes' difficulties still sit at
        // their locations, which reads as no spread at all: spreads move once skills and
        // difficulties have formed.
        let held: &[bool] = if self.iterations <= 2 {
            &self.held_spreads
        } else {
            &[]
        };
        complete_sums(
            layout,
            &self.centre,
            &state.parameters,
            self.alpha,
            held,
            &mut sums,
        );
        let cells = deviations::system(
            layout,
            &state.deviations,
            &state.deviation_variance,
            &mut sums,
        );
        self.objective = if self.compute_objective {
            sums.objective
                + deviations::marginal_terms(layout, &sums, &cells, &state.deviation_variance)
        } else {
            f64::NAN
        };
        let step = if full {
            let shift = (self.alpha == 0.0).then_some(&self.locations[..]);
            if cells.is_empty() {
                solve::full_step(&sums, &cells, shift)
            } else {
                let strata = layout.deviations.n_strata();
                blocks::blocked_step(&sums, &cells, strata, shift)
            }
            .or_else(|| solve::arrowhead_step(&sums, &cells, true))
        } else {
            solve::arrowhead_step(&sums, &cells, self.majorise)
        }?;
        let mut change = sums.item_step;
        // σ² from the cells the pass read; then the cells' step.
        let variance_change = if self.held_variances {
            0.0
        } else {
            deviations::step_variances(
                layout,
                &sums,
                &cells,
                &state.deviations,
                &mut state.deviation_variance,
            )
        };
        for (value, step) in state.deviations.iter_mut().zip(&step.cells) {
            let step = (self.damping * step).clamp(-STEP, STEP);
            *value += step;
            change = change.max(step.abs());
        }
        for (index, (value, step)) in state
            .parameters
            .iter_mut()
            .zip(&step.parameters)
            .enumerate()
        {
            let role = self.roles[index];
            let step = self.damping * step;
            let step = match role {
                Role::Plain | Role::Location => step.clamp(-STEP, STEP),
                Role::Measurer => step.clamp(-MEASURER_STEP, MEASURER_STEP),
                Role::Scale | Role::Spread => step,
            };
            let next = self.bound(index, *value + step, *value);
            let moved = (next - *value).abs();
            change = change.max(if role == Role::Scale {
                moved / *value
            } else {
                moved
            });
            *value = next;
        }
        change = change.max(deviations::centre_strata(
            layout,
            &self.selection,
            &mut state.deviations,
            &mut state.parameters,
            &mut state.items,
        ));
        let shift = prior::common_shift(&state.parameters[..n], self.alpha);
        prior::apply_shift(layout, &mut state.parameters, &mut state.items, shift);
        if state.tie > 0.0 && sums.tie_curvature > 0.0 {
            let step = (sums.tie_gradient / sums.tie_curvature).clamp(-2.0, 2.0);
            state.tie = (state.tie.ln() + step).exp().clamp(1e-6, 1e6);
            change = change.max(step.abs());
        }
        // Steps are damped when passes stop reaching a new smallest change (of everything
        // but σ², which each pass sets rather than steps, and which does not overshoot): the
        // couplings the steps leave out (the difficulties' step lags, the spreads'
        // Fisher curvature) can otherwise hold a fit in a cycle.
        if change < self.best {
            (self.best, self.since_best) = (change, 0);
        } else {
            self.since_best += 1;
            if self.since_best >= STALL {
                self.damping = f64::max(self.damping * 0.5, 1.0 / 64.0);
                self.since_best = 0;
            }
        }
        if !full {
            // Arrowhead steps that grow twice in a row are not contracting.
            self.growth = if change > self.last {
                self.growth + 1
            } else {
                0
            };
            self.majorise |= self.growth >= 2;
        }
        self.last = change;
        let change = change.max(variance_change);
        Some(change)
    }
}

/// Fits from `state`.
pub(crate) fn fit(
    selection: Selection,
    layout: &Layout,
    settings: &Settings,
    state: State,
    start: Start,
) -> Fitted {
    super::accelerate::squarem(Fitter::new(selection, layout, settings, start), state)
}
