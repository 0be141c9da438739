//! The pass's objective (the log marginal posterior, difficulties profiled out) against
//! its gradient: central differences of the objective, every difficulty re-fitted at
//! each point, match the gradient the Newton steps use, for skills and every kind of hub
//! on data with every kind of measurement and a measurer effect.
#![allow(clippy::expect_used)]

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use nalgebra::DMatrix;

use super::centre::Centre;
use super::deviations;
use super::fit::{self, Settings, Start};
use super::layout::{layout, Layout, NONE};
use super::pass::{self, PassInput};
use super::prior::complete_sums;
use super::solve;
use super::state::State;
use crate::data::{Dataset, SampleKind};
use crate::rank::lists::Selection;

/// 6 models; binary samples in two strata of benchmark 0, numeric ones in benchmark 1
/// (lower is better), then comparisons with ties and rankings.
pub(super) fn mixed() -> Dataset {
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

/// The objective, gradient and curvature matrix at `parameters` and `deviations`, every
/// difficulty re-fitted first. The gradient is over the skills and hubs, then the cells;
/// the matrix is in the Newton step's order (skills, cells, hubs).
fn objective(
    selection: Selection,
    layout: &Layout,
    state: &State,
    parameters: &[f64],
    deviations: &[f64],
) -> (f64, Vec<f64>, DMatrix<f64>) {
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
    let cells = deviations::system(
        layout,
        &state.deviations,
        &state.deviation_variance,
        &mut sums,
    );
    gradient.extend(cells.iter().map(|cell| cell.gradient));
    let matrix = solve::full_matrix(&sums, &cells);
    (sums.objective, gradient, matrix)
}

/// A point away from the optimum of [`mixed`], every hub inside its bounds, with
/// deviations of variance 0.3: its layout, state, parameters and cells.
fn away_from_the_optimum(selection: Selection) -> (Layout, State, Vec<f64>, Vec<f64>) {
    let layout = layout(&selection, crate::rank::JointForm::FULL).expect("a valid layout");
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
    (layout, state, parameters, cells)
}

/// The gradient at `parameters` with parameter `index` (skills and hubs, then cells)
/// moved by `shift`.
fn moved(
    selection: Selection,
    layout: &Layout,
    state: &State,
    (parameters, cells): (&[f64], &[f64]),
    index: usize,
    shift: f64,
) -> (f64, Vec<f64>) {
    let (mut parameters, mut cells) = (parameters.to_vec(), cells.to_vec());
    match index.checked_sub(parameters.len()) {
        None => parameters[index] += shift,
        Some(cell) => cells[cell] += shift,
    }
    let (objective, gradient, _) = objective(selection, layout, state, &parameters, &cells);
    (objective, gradient)
}

#[test]
fn the_objective_s_differences_match_the_gradient() {
    let data = mixed();
    let selection = Selection::new(&data, None);
    let (layout, state, parameters, cells) = away_from_the_optimum(selection);
    let (_, gradient, _) = objective(selection, &layout, &state, &parameters, &cells);
    assert_eq!(gradient.len(), parameters.len() + cells.len());
    let step = 1e-5;
    let point = (&parameters[..], &cells[..]);
    for (index, &want) in gradient.iter().enumerate() {
        let up = moved(selection, &layout, &state, point, index, step).0;
        let down = moved(selection, &layout, &state, point, index, -step).0;
        let difference = (up - down) / (2.0 * step);
        assert!(
            (difference - want).abs() < 1e-5 * (1.0 + want.abs()),
            "parameter {index}: differences {difference}, gradient {want}"
        );
    }
}

/// The cells' rows of the full Newton matrix are the gradient's derivatives: on the
/// numeric benchmark, whose gradient has no Laplace term (the one term of the gradient
/// the curvature leaves out), central differences of the gradient in every parameter
/// match the cells' couplings to it (skills, other cells, every hub).
#[test]
fn the_gradient_s_differences_match_the_cells_curvature() {
    let data = mixed();
    let selection = Selection::new(&data, None);
    let (layout, state, parameters, cells) = away_from_the_optimum(selection);
    let (_, gradient, matrix) = objective(selection, &layout, &state, &parameters, &cells);
    let (n, total) = (layout.n_ranked(), gradient.len());
    let n_cells = cells.len();
    // The matrix's index of gradient entry `index`.
    let position = |index: usize| match index.checked_sub(parameters.len()) {
        Some(cell) => n + cell,
        None if index < n => index,
        None => index + n_cells,
    };
    let strata = &layout.deviations;
    let numeric: Vec<usize> = (0..n_cells)
        .filter(|&cell| layout.scale_parameter[strata.spread[cell / n] as usize] != NONE)
        .collect();
    assert!(numeric.len() >= 2 * n, "both numeric strata have cells");
    let step = 1e-5;
    let point = (&parameters[..], &cells[..]);
    let mut checked = 0;
    for column in 0..total {
        let up = moved(selection, &layout, &state, point, column, step).1;
        let down = moved(selection, &layout, &state, point, column, -step).1;
        for &cell in &numeric {
            let row = parameters.len() + cell;
            let difference = -(up[row] - down[row]) / (2.0 * step);
            let want = matrix[(position(row), position(column))];
            assert!(
                (difference - want).abs() < 1e-4 * (1.0 + want.abs()),
                "cell {cell}, parameter {column}: differences {difference}, curvature {want}"
            );
            checked += usize::from(want.abs() > 1e-3);
        }
    }
    assert!(checked > 4 * numeric.len(), "{checked} couplings");
}
