//! ONEBench's estimator (`method = onebench`) against a plain I-LSR loop written as choix
//! writes it (a dense Markov chain with rate alpha between all items, its stationary
//! distribution, `exp_transform`, the L1 stopping rule), a two-model case with a closed
//! form, and its sandwich intervals against the bootstrap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rank_common;

use onebench_core::rank::{rank, rank_with_solver, Interval, Method, RankOptions, Solver};
use onebench_core::Dataset;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rank_common::Builder;

/// A weighted top-1 choice: the winner, the others in its set, the weight.
type Choice = (usize, Vec<usize>, f64);

/// The stationary distribution of a generator (rows sum to 0) by Gaussian elimination on
/// πQ = 0 with the last equation replaced by Σπ = 1.
fn stationary(generator: &[Vec<f64>]) -> Vec<f64> {
    let n = generator.len();
    let mut system: Vec<Vec<f64>> = (0..n)
        .map(|j| {
            let mut row: Vec<f64> = (0..n).map(|i| generator[i][j]).collect();
            row.push(0.0);
            row
        })
        .collect();
    system[n - 1] = vec![1.0; n + 1];
    for column in 0..n {
        let pivot = (column..n)
            .max_by(|&a, &b| system[a][column].abs().total_cmp(&system[b][column].abs()))
            .unwrap();
        system.swap(column, pivot);
        for row in 0..n {
            if row != column {
                let factor = system[row][column] / system[column][column];
                let pivot_row = system[column].clone();
                for (value, pivot) in system[row].iter_mut().zip(&pivot_row).skip(column) {
                    *value -= factor * pivot;
                }
            }
        }
    }
    (0..n).map(|i| system[i][n] / system[i][i]).collect()
}

/// choix's `ilsr_top1` with weights: centred log-strengths.
fn reference_ilsr(n: usize, choices: &[Choice], alpha: f64) -> Vec<f64> {
    let mut params = vec![0.0; n];
    for _ in 0..10_000 {
        let mean = params.iter().sum::<f64>() / n as f64;
        let exp: Vec<f64> = params.iter().map(|p| (p - mean).exp()).collect();
        let total: f64 = exp.iter().sum();
        let weights: Vec<f64> = exp.iter().map(|w| n as f64 * w / total).collect();
        let mut chain = vec![vec![alpha; n]; n];
        for (winner, losers, weight) in choices {
            let strength = weights[*winner] + losers.iter().map(|&l| weights[l]).sum::<f64>();
            for &loser in losers {
                chain[loser][*winner] += weight / strength;
            }
        }
        for (i, row) in chain.iter_mut().enumerate() {
            let sum: f64 = row.iter().sum();
            row[i] -= sum;
        }
        let logs: Vec<f64> = stationary(&chain).iter().map(|p| p.ln()).collect();
        let mean = logs.iter().sum::<f64>() / n as f64;
        let next: Vec<f64> = logs.iter().map(|l| l - mean).collect();
        let change: f64 = next.iter().zip(&params).map(|(a, b)| (a - b).abs()).sum();
        params = next;
        if change < 1e-13 {
            return params;
        }
    }
    panic!("the reference did not converge");
}

fn options(alpha: f64) -> RankOptions {
    RankOptions {
        method: Method::OneBench,
        alpha,
        interval: Interval::None,
        tolerance: 1e-12,
        max_iterations: 100_000,
        ..Default::default()
    }
}

/// Random samples of every kind, with the top-1 choices each one stands for.
fn mixed(seed: u64, n: usize) -> (Dataset, Vec<Choice>) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let beta: Vec<f64> = (0..n).map(|_| rng.random_range(-1.5..1.5)).collect();
    let mut builder = Builder::new(n);
    let mut choices = Vec::new();
    let models: Vec<u32> = (0..n as u32).collect();
    for sample in 0..300 {
        builder.sample();
        let field: Vec<u32> = models
            .iter()
            .copied()
            .filter(|_| rng.random_bool(0.6))
            .collect();
        if field.len() < 2 {
            continue;
        }
        // Integer values with ties: binary on even samples, grades 0-3 on odd ones.
        let levels = if sample % 2 == 0 { 2 } else { 4 };
        let values: Vec<(u32, f32)> = field
            .iter()
            .map(|&m| {
                let p = 1.0 / (1.0 + (-beta[m as usize]).exp());
                let grade = (0..levels - 1).filter(|_| rng.random_bool(p)).count();
                (m, grade as f32)
            })
            .collect();
        builder.cardinal(&values, false);
        for &(winner, value) in &values {
            let worse: Vec<usize> = values
                .iter()
                .filter(|(_, v)| *v < value)
                .map(|&(m, _)| m as usize)
                .collect();
            if !worse.is_empty() {
                choices.push((winner as usize, worse, 1.0));
            }
        }
        let (a, b) = (field[0], field[1]);
        let credit = [0.0f32, 0.5, 1.0][rng.random_range(0..3)];
        builder.comparison(a, b, credit);
        for (winner, loser, weight) in [(a, b, credit), (b, a, 1.0 - credit)] {
            if weight > 0.0 {
                choices.push((winner as usize, vec![loser as usize], f64::from(weight)));
            }
        }
    }
    (builder.build(), choices)
}

#[test]
fn matches_a_plain_ilsr_loop_on_every_kind() {
    for (seed, alpha) in [(1, 0.01), (2, 0.01), (3, 1.0), (4, 0.0)] {
        let (data, choices) = mixed(seed, 7);
        let expected = reference_ilsr(7, &choices, alpha);
        for solver in [Solver::Squarem, Solver::Lbfgs] {
            let result = rank_with_solver(&data, None, &options(alpha), solver).unwrap();
            assert!(result.converged, "{solver:?} did not converge");
            for (model, (got, want)) in result.scores.iter().zip(&expected).enumerate() {
                assert!(
                    (got - want).abs() < 1e-8,
                    "seed {seed} alpha {alpha} {solver:?} model {model}: {got} vs {want}"
                );
            }
        }
    }
}

#[test]
fn two_models_have_the_closed_form() {
    // A right and B wrong on `a` samples, the reverse on `b`: each is a choice from
    // {A, B}, and θ_j (T_j + 2α) = W_j + 2α gives log θ_A/θ_B = log((a + 2α)/(b + 2α)).
    let (a, b, alpha) = (7, 3, 0.5);
    let mut builder = Builder::new(2);
    for sample in 0..a + b {
        let right = if sample < a { 0 } else { 1 };
        builder
            .sample()
            .cardinal(&[(right, 1.0), (1 - right, 0.0)], false);
    }
    let result = rank(&builder.build(), None, &options(alpha)).unwrap();
    let expected = ((a as f64 + 2.0 * alpha) / (b as f64 + 2.0 * alpha)).ln();
    assert!((result.scores[0] - result.scores[1] - expected).abs() < 1e-10);
    assert!(result.scores[0] + result.scores[1] < 1e-12, "centred");
}

#[test]
fn sandwich_errors_agree_with_the_bootstrap() {
    // Binary samples of a shared difficulty: the choices of a sample are dependent.
    let mut rng = SmallRng::seed_from_u64(9);
    let n = 8;
    let mut builder = Builder::new(n);
    for _ in 0..1500 {
        let difficulty: f64 = rng.random_range(-2.0..2.0);
        let values: Vec<(u32, f32)> = (0..n as u32)
            .map(|m| {
                let p = 1.0 / (1.0 + (difficulty - 0.3 * f64::from(m)).exp());
                (m, f32::from(u8::from(rng.random_bool(p))))
            })
            .collect();
        builder.sample().cardinal(&values, false);
    }
    let data = builder.build();
    let fisher = rank(
        &data,
        None,
        &RankOptions {
            interval: Interval::Fisher,
            ..options(0.01)
        },
    )
    .unwrap();
    let bootstrap = rank(
        &data,
        None,
        &RankOptions {
            interval: Interval::Bootstrap {
                replicates: 300,
                seed: 3,
            },
            ..options(0.01)
        },
    )
    .unwrap();
    for model in 0..n {
        let fisher_width = fisher.ci_high[model] - fisher.ci_low[model];
        let bootstrap_width = bootstrap.ci_high[model] - bootstrap.ci_low[model];
        assert!(fisher_width.is_finite() && fisher_width > 0.0);
        let ratio = fisher_width / bootstrap_width;
        assert!(
            (0.8..1.25).contains(&ratio),
            "model {model}: Fisher {fisher_width} vs bootstrap {bootstrap_width}"
        );
    }
}
