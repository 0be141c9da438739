//! The fit: passes of difficulty steps and Newton steps on the profile posterior (skills
//! and hubs together), with Davidson's tie parameter stepped between passes.
//!
//! Stopping rule: the largest change of a pass (skills, locations, spreads and
//! difficulties in logits, scales relatively) is below the tolerance. `iterations`
//! counts passes over the data, the unit of cost.

use super::super::lists::Selection;
use super::layout::{Layout, NONE};
use super::pass::{self, PassInput};
use super::prior::{self, MEASURER_MAX, SPREAD_MAX, SPREAD_MIN};
use super::sums::Sums;
use super::{solve, Item, KAPPA2};

/// Largest step of a skill or location per pass (logits).
const STEP: f64 = 3.0;

/// Passes without a new smallest change after which the steps are halved.
const STALL: usize = 8;

/// Largest step of a measurer effect per pass: z moves with the skills, so a large step
/// of β and the skills' steps do not add up to the step of their Newton model.
const MEASURER_STEP: f64 = 0.25;

/// Everything a fit carries from pass to pass (and a warm start carries over).
#[derive(Debug, Clone)]
pub(crate) struct State {
    /// Skills of the ranked models, then the hubs (see `layout.rs`).
    pub parameters: Vec<f64>,
    /// One difficulty per selection position.
    pub items: Vec<Item>,
    /// Davidson's ν; 0 when no comparison is a tie.
    pub tie: f64,
}

impl State {
    /// A cold start (skills from `initial`, by model index, when given).
    pub fn start(layout: &Layout, positions: usize, initial: Option<&[f64]>) -> State {
        let mut parameters = vec![0.0; layout.n_parameters];
        if let Some(initial) = initial {
            for (local, &model) in layout.ranked_models.iter().enumerate() {
                let value = initial.get(model as usize).copied().unwrap_or(0.0);
                parameters[local] = if value.is_finite() { value } else { 0.0 };
            }
        }
        for (group, &index) in layout.scale_parameter.iter().enumerate() {
            if index != NONE {
                // Start where the benchmark's spread of values is one logistic sd.
                parameters[index as usize] = KAPPA2.sqrt() / layout.spread_sd[group];
            }
        }
        for &index in &layout.spread_parameter {
            if index != NONE {
                parameters[index as usize] = 1.0;
            }
        }
        State {
            parameters,
            items: vec![Item::default(); positions],
            tie: if layout.has_ties { 1.0 } else { 0.0 },
        }
    }

    /// τ² per spread group (1 for groups outside the ranked component).
    pub fn spread_variance(&self, layout: &Layout) -> Vec<f64> {
        layout
            .spread_parameter
            .iter()
            .map(|&index| {
                if index == NONE {
                    1.0
                } else {
                    let spread = self.parameters[index as usize];
                    spread * spread
                }
            })
            .collect()
    }
}

/// The outcome of a fit.
pub(crate) struct Fitted {
    pub state: State,
    pub iterations: usize,
    pub converged: bool,
}

/// Whether a pass may build the full matrix: few enough parameters to factorise each
/// pass (N³/3 flops), and pair work not far above the pass itself or small in absolute
/// terms (a fraction of a second).
pub(crate) fn use_full(layout: &Layout) -> bool {
    layout.n_parameters <= 1200 && layout.pair_work <= (8.0 * layout.entries).max(2e8)
}

pub(crate) struct Settings {
    pub alpha: f64,
    pub tolerance: f64,
    pub max_iterations: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Plain,
    Scale,
    Spread,
    Measurer,
}

/// Where a fit starts from.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Start {
    /// Nothing fitted yet.
    Cold,
    /// Skills from an earlier fit; difficulties and hubs not fitted yet.
    Skills,
    /// A whole earlier state (a bootstrap replicate from the point fit).
    Warm,
}

/// Completes a pass's sums into the Newton system: the priors, the terms of z's centre,
/// the spreads re-expressed in τ, and the hubs held at their bounds (every spread when
/// `hold_spreads`).
pub(crate) fn complete_sums(
    layout: &Layout,
    parameters: &[f64],
    alpha: f64,
    hold_spreads: bool,
    sums: &mut Sums,
) {
    let n = layout.n_ranked();
    prior::skill_prior(&parameters[..n], alpha, sums);
    prior::measurer_terms(layout, parameters, sums);
    let spreads: Vec<(usize, f64)> = layout
        .spread_parameter
        .iter()
        .filter(|&&index| index != NONE)
        .map(|&index| (index as usize - n, parameters[index as usize]))
        .collect();
    solve::spread_hubs(sums, &spreads, SPREAD_MIN, SPREAD_MAX, hold_spreads);
    prior::hold_measurers(layout, parameters, sums);
}

/// Fits from `state`.
pub(crate) fn fit(
    selection: Selection,
    layout: &Layout,
    settings: &Settings,
    mut state: State,
    start: Start,
) -> Fitted {
    let n = layout.n_ranked();
    let full = use_full(layout);
    let locations: Vec<usize> = layout
        .location_parameter
        .iter()
        .filter(|&&index| index != NONE)
        .map(|&index| index as usize)
        .collect();
    let mut roles = vec![Role::Plain; layout.n_parameters];
    for &index in &layout.scale_parameter {
        if index != NONE {
            roles[index as usize] = Role::Scale;
        }
    }
    for &index in &layout.spread_parameter {
        if index != NONE {
            roles[index as usize] = Role::Spread;
        }
    }
    for &index in &layout.measurer_parameter {
        if index != NONE {
            roles[index as usize] = Role::Measurer;
        }
    }
    // Difficulties start at their location: a few Newton steps place them first; later a
    // sample takes a second step only while its steps are large.
    let mut steps = if start == Start::Warm { 2 } else { 4 };
    let (mut majorise, mut last, mut growth) = (false, f64::INFINITY, 0);
    // Steps are damped when passes stop reaching a new smallest change: the couplings the
    // steps leave out (the difficulties' step lags, the spreads' Fisher curvature) can
    // otherwise hold a fit in a cycle.
    let (mut damping, mut best, mut since_best) = (1.0, f64::INFINITY, 0);
    let mut iterations = 0;
    while iterations < settings.max_iterations {
        iterations += 1;
        let variance = state.spread_variance(layout);
        let input = PassInput {
            selection,
            layout,
            parameters: &state.parameters,
            spread_variance: &variance,
            tie: state.tie,
            steps,
            full,
            dropped: !full && majorise,
        };
        let mut sums = pass::run(&input, &mut state.items);
        steps = 2;
        // On a cold start the first passes' difficulties still sit at their locations,
        // which reads as no spread at all: spreads move once skills have formed.
        let hold = start == Start::Cold && iterations <= 2;
        complete_sums(layout, &state.parameters, settings.alpha, hold, &mut sums);
        let step = if full {
            let shift = (settings.alpha == 0.0).then_some(&locations[..]);
            solve::full_step(&sums, shift).or_else(|| solve::arrowhead_step(&sums, true))
        } else {
            solve::arrowhead_step(&sums, majorise)
        };
        let Some(step) = step else {
            return Fitted {
                state,
                iterations,
                converged: false,
            };
        };
        let mut change = sums.item_step;
        for ((value, step), role) in state.parameters.iter_mut().zip(&step).zip(&roles) {
            let step = damping * step;
            let next = match role {
                Role::Plain => *value + step.clamp(-STEP, STEP),
                Role::Scale => (*value + step).clamp(*value / 4.0, *value * 4.0),
                Role::Spread => (*value + step)
                    .clamp(*value / 10.0, *value * 10.0)
                    .clamp(SPREAD_MIN, SPREAD_MAX),
                Role::Measurer => {
                    (*value + step.clamp(-MEASURER_STEP, MEASURER_STEP)).clamp(0.0, MEASURER_MAX)
                }
            };
            let moved = (next - *value).abs();
            change = change.max(if *role == Role::Scale {
                moved / *value
            } else {
                moved
            });
            *value = next;
        }
        let shift = prior::common_shift(&state.parameters[..n], settings.alpha);
        prior::apply_shift(layout, &mut state.parameters, &mut state.items, shift);
        if state.tie > 0.0 && sums.tie_curvature > 0.0 {
            let step = (sums.tie_gradient / sums.tie_curvature).clamp(-2.0, 2.0);
            state.tie = (state.tie.ln() + step).exp().clamp(1e-6, 1e6);
            change = change.max(step.abs());
        }
        if change < settings.tolerance {
            return Fitted {
                state,
                iterations,
                converged: true,
            };
        }
        if change < best {
            (best, since_best) = (change, 0);
        } else {
            since_best += 1;
            if since_best >= STALL {
                (damping, since_best) = (f64::max(damping * 0.5, 1.0 / 64.0), 0);
            }
        }
        if !full {
            // Arrowhead steps that grow twice in a row are not contracting.
            growth = if change > last { growth + 1 } else { 0 };
            majorise |= growth >= 2;
        }
        last = change;
    }
    Fitted {
        state,
        iterations,
        converged: false,
    }
}
