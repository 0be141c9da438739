//! Release timings of the ranking solvers on synthetic benchmarks (ignored by default):
//! `cargo test --release -p onebench-core --test rank_timings -- --ignored --nocapture`.
//! Half the samples are binary, half numeric with distinct values.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rank_common;

use onebench_core::rank::{rank_with_solver, Interval, RankOptions, Solver};
use onebench_core::Dataset;

fn time(
    label: &str,
    data: &Dataset,
    beta: &[f64],
    options: &RankOptions,
    solver: Solver,
) -> Vec<f64> {
    rank_common::timed(label, beta, || {
        rank_with_solver(data, None, options, solver).unwrap()
    })
}

fn run(n_models: usize, n_samples: usize, missing: f64) {
    let (beta, data) = rank_common::announced_sparse(n_models, n_samples, missing);
    let point = RankOptions {
        interval: Interval::None,
        ..Default::default()
    };
    let squarem = time(
        "MM+SQUAREM, no interval",
        &data,
        &beta,
        &point,
        Solver::Squarem,
    );
    let lbfgs = time("L-BFGS, no interval", &data, &beta, &point, Solver::Lbfgs);
    let gap = squarem
        .iter()
        .zip(&lbfgs)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    println!("  max |beta_squarem - beta_lbfgs| = {gap:.2e}");
    let fisher = RankOptions::default();
    time(
        "MM+SQUAREM + Fisher",
        &data,
        &beta,
        &fisher,
        Solver::Squarem,
    );
    let warm = RankOptions {
        initial: Some(squarem.clone()),
        ..point.clone()
    };
    time(
        "warm start, no interval",
        &data,
        &beta,
        &warm,
        Solver::Squarem,
    );
}

#[test]
#[ignore]
fn timings_dense_100_by_10k() {
    run(100, 10_000, 0.0);
}

#[test]
#[ignore]
fn timings_sparse_500_by_1m() {
    run(500, 1_000_000, 0.95);
}

#[test]
#[ignore]
fn timings_sparse_1000_by_1m() {
    run(1000, 1_000_000, 0.95);
}
