//! The state a fit carries from pass to pass, and where a cold start puts it.

use super::deviations::VARIANCE_START;
use super::form::FIXED_SPREAD;
use super::layout::{Layout, NONE};
use super::{Item, KAPPA2};

/// Everything a fit carries from pass to pass (and a warm start carries over).
#[derive(Debug, Clone)]
pub(crate) struct State {
    /// Skills of the ranked models, then the hubs (see `layout.rs`).
    pub parameters: Vec<f64>,
    /// One difficulty per selection position.
    pub items: Vec<Item>,
    /// Davidson's ν; 0 when no comparison is a tie.
    pub tie: f64,
    /// One deviation per (model, stratum) cell (see `deviations.rs`).
    pub deviations: Vec<f64>,
    /// σ² of the deviations, per spread group.
    pub deviation_variance: Vec<f64>,
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
                parameters[index as usize] = FIXED_SPREAD;
            }
        }
        State {
            parameters,
            items: vec![Item::default(); positions],
            tie: if layout.has_ties { 1.0 } else { 0.0 },
            deviations: vec![0.0; layout.deviations.n_cells()],
            deviation_variance: vec![VARIANCE_START; layout.spread_parameter.len()],
        }
    }

    /// Puts the parts the layout's form holds where it holds them (a resumed solution
    /// may come from a fit of another form): spreads that are not estimated at
    /// [`FIXED_SPREAD`], measurer effects at 0 without the measurer part.
    pub fn impose_form(&mut self, layout: &Layout) {
        for (group, &index) in layout.spread_parameter.iter().enumerate() {
            if index != NONE && layout.fixed_spread[group] {
                self.parameters[index as usize] = FIXED_SPREAD;
            }
        }
        if !layout.form.measurer {
            for &index in layout.measurer_parameter.iter().filter(|&&i| i != NONE) {
                self.parameters[index as usize] = 0.0;
            }
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

    /// The skills on each deviation stratum, θ + u (see `Deviations::effective`).
    pub fn effective_skills(&self, layout: &Layout) -> Vec<f64> {
        layout
            .deviations
            .effective(&self.parameters[..layout.n_ranked()], &self.deviations)
    }
}
