//! The pass's objective (the log marginal posterior, difficulties profiled out) against
//! its gradient: central differences of the objective, every difficulty re-fitted at
//! each point, match the gradient the Newton steps use, for skills and every kind of hub
//! on data with every kind of measurement and a measurer effect.
#![allow(clippy::expect_used)]

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::centre::Centre;
use super::deviations;
use super::fit::{self, Settings, Start};
use super::layout::{layout, Layout, NONE};
use super::pass::{self, PassInput};
use super::prior::complete_sums;
use super::state::State;
use crate::data::{Dataset, SampleKind};
use crate::rank::lists::Selection;

/// 6 models; binary samples in two strata of benchmark 0, numeric ones in benchmark 1
/// (lower is better), then comparisons with ties and rankings.
fn mixed() -> Dataset {
    let mut rng = SmallRng::seed_from_u64(7);
    let skills = [-1.0, -0.4, 0.0, 0.3, 0.8, 1.5];
    let (n_models, n_samples) = (6, 90);
    let mut data = Dataset::empty(n_samples, n_models);
    let (mut models, mut values, mut offsets) = (Vec::new(), Vec::new(), vec![0u64]);
    let (mut pair_offsets, mut rank_offsets) = (vec![0u64], vec![0u64]);
    for sample in 0..n_samples {
        let mut entries: Vec<(u32, f32)> = Vec::new();
        let measured: Vec<usize> = (0..n_models)
            .filter(|_| rng.random::<f64>() < 0.7)
            .collect();
        let (benchmark, kind) = match sample {
            0..50 => (0, SampleKind::Binary),
            50..75 => (1, SampleKind::NumericLower),
            _ => (2, SampleKind::Unknown),
        };
        let difficulty = rng.random::<f64>() * 3.0 - 1.5;
        if sample < 75 {
            for &model in &measured {
                let utility = skills[model] - difficulty + rng.random::<f64>() * 2.0 - 1.0;
                let value = if kind == SampleKind::Binary {
                    f32::from(u8::from(utility > 0.0))
                } else {
                    (10.0 - 3.0 * utility) as f32
                };
                entries.push((model as u32, value));
            }
            if kind == SampleKind::Binary {
                entries.sort_by(|a, b| b.1.total_cmp(&a.1));
            } else {
                entries.sort_by(|a, b| a.1.total_cmp(&b.1));
            }
        } else if sample < 85 {
            let (a, b) = (sample % n_models, (sample * 7 + 1) % n_models);
            if a != b {
                let credit = [1.0, 0.0, 0.5, 0.8][sample % 4];
                data.pairwise.model_a.push(a as u32);
                data.pairwise.model_b.push(b as u32);
                data.pairwise.weight_a.push(credit);
            }
        } else {
            let mut order: Vec<usize> = measured.clone();
            order.sort_by(|&a, &b| skills[b].total_cmp(&skills[a]));
            for (position, &model) in order.iter().enumerate() {
                data.rankings.models.push(model as u32);
                data.rankings.groups.push((position / 2) as u32);
            }
            data.rankings
                .ranking_offsets
                .push(data.rankings.models.len() as u64);
        }
        for (model, value) in entries {
            models.push(model);
            values.push(value);
        }
        offsets.push(models.len() as u64);
        pair_offsets.push(data.pairwise.model_a.len() as u64);
        rank_offsets.push((data.rankings.ranking_offsets.len() - 1) as u64);
        data.sample_kinds.push(kind);
        data.benchmarks.push(benchmark);
        data.strata.push(2 * benchmark + (sample % 2) as u32);
    }
    data.cardinal.offsets = offsets;
    data.cardinal.models = models;
    data.cardinal.values = values;
    data.pairwise.offsets = pair_offsets;
    data.rankings.offsets = rank_offsets;
    data
}

/// The objective and gradient at `parameters` and `deviations` (skills and hubs, then
/// the cells), every difficulty re-fitted first.
fn objective(
    selection: Selection,
    layout: &Layout,
    state: &State,
    parameters: &[f64],
    deviations: &[f64],
) -> (f64, Vec<f64>) {
    let mut items = state.items.clone();
    let centre = Centre::all(layout);
    let mut state = state.clone();
    state.parameters = parameters.to_vec();
    state.deviations = deviations.to_vec();
    let variance = state.spread_variance(layout);
    let effective = state.effective_skills(layout);
    let mut sums = None;
    for _ in 0..3 {
        let input = PassInput {
            selection,
            layout,
            parameters,
            spread_variance: &variance,
            tie: state.tie,
            steps: 30,
            small: 0.0,
            full: true,
            dropped: false,
            centre: &centre,
            objective: true,
            effective: &effective,
        };
        sums = Some(pass::run(&input, &mut items));
    }
    let mut sums = sums.expect("three passes ran");
    complete_sums(layout, &centre, parameters, 0.5, &[], &mut sums);
    let n = layout.n_ranked();
    let mut gradient: Vec<f64> = (0..n).map(|i| sums.row(i)[0]).collect();
    gradient.extend_from_slice(&sums.hub_gradient);
    // The cells' terms: their gradients before the elimination reduces the others'.
    let eliminated = deviations::eliminate(
        layout,
        &state.deviations,
        &state.deviation_variance,
        &mut sums,
    );
    gradient.extend_from_slice(&eliminated.gradient);
    (sums.objective, gradient)
}

#[test]
fn the_objective_s_differences_match_the_gradient() {
    let data = mixed();
    let selection = Selection::new(&data, None);
    let layout = layout(&selection).expect("a valid layout");
    assert!(layout.has_ties);
    // Two strata in each of the binary and the numeric benchmark: four with deviations.
    assert_eq!(layout.deviations.n_strata(), 4);
    let settings = Settings {
        alpha: 0.5,
        tolerance: 1e-10,
        max_iterations: 10_000,
    };
    let start = State::start(&layout, selection.len(), None);
    let fitted = fit::fit(selection, &layout, &settings, start, Start::Cold);
    assert!(fitted.converged);
    // Away from the optimum, with every hub inside its bounds.
    let mut parameters = fitted.state.parameters.clone();
    let mut rng = SmallRng::seed_from_u64(3);
    for value in parameters[..layout.n_ranked()].iter_mut() {
        *value += rng.random::<f64>() - 0.5;
    }
    for (indexes, value) in [
        (&layout.measurer_parameter, 0.3),
        (&layout.spread_parameter, 0.9),
    ] {
        for &index in indexes.iter().filter(|&&index| index != NONE) {
            parameters[index as usize] = value;
        }
    }
    for &index in layout.scale_parameter.iter().filter(|&&i| i != NONE) {
        parameters[index as usize] *= 1.1;
    }
    for &index in layout.location_parameter.iter().filter(|&&i| i != NONE) {
        parameters[index as usize] += 0.2;
    }
    let mut state = fitted.state.clone();
    for variance in &mut state.deviation_variance {
        *variance = 0.3;
    }
    let cells: Vec<f64> = (0..layout.deviations.n_cells())
        .map(|_| rng.random::<f64>() - 0.5)
        .collect();
    let (_, gradient) = objective(selection, &layout, &state, &parameters, &cells);
    assert_eq!(gradient.len(), parameters.len() + cells.len());
    let step = 1e-5;
    let at = |index: usize, shift: f64| {
        let (mut parameters, mut cells) = (parameters.clone(), cells.clone());
        match index.checked_sub(parameters.len()) {
            None => parameters[index] += shift,
            Some(cell) => cells[cell] += shift,
        }
        objective(selection, &layout, &state, &parameters, &cells).0
    };
    for (index, &want) in gradient.iter().enumerate() {
        let difference = (at(index, step) - at(index, -step)) / (2.0 * step);
        assert!(
            (difference - want).abs() < 1e-5 * (1.0 + want.abs()),
            "parameter {index}: differences {difference}, gradient {want}"
        );
    }
}
