//! Release timings of the joint model (ignored by default):
//! `cargo test --release -p onebench-core --test rank_joint_timings -- --ignored --nocapture`.
//! The data are those of `rank_timings.rs` (half binary samples, half numeric with
//! distinct values, 95% of cells missing at random), so the figures compare with
//! Plackett–Luce's there.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rank_common;

use std::time::Instant;

use onebench_core::rank::{rank, Interval, Method, RankOptions};
use onebench_core::Dataset;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// As `rank_timings::sparse`: absent models skipped geometrically, so 95% missingness
/// costs O(present) draws.
fn sparse(seed: u64, n_models: usize, n_samples: usize, missing: f64) -> (Vec<f64>, Dataset) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let beta: Vec<f64> = (0..n_models).map(|_| rng.random_range(-2.0..2.0)).collect();
    let log_missing = missing.ln();
    let mut present = Vec::new();
    let (mut models, mut values, mut offsets) = (Vec::new(), Vec::new(), vec![0u64]);
    for sample in 0..n_samples {
        present.clear();
        let mut next = -1i64;
        loop {
            let u: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
            next += 1 + (u.ln() / log_missing).floor() as i64;
            if next >= n_models as i64 {
                break;
            }
            present.push(next as u32);
        }
        if sample % 2 == 0 {
            let difficulty: f64 = rng.random_range(-1.5..1.5);
            let (mut correct, mut wrong) = (Vec::new(), Vec::new());
            for &m in &present {
                let p = 1.0 / (1.0 + (difficulty - beta[m as usize]).exp());
                if rng.random::<f64>() < p {
                    correct.push(m)
                } else {
                    wrong.push(m)
                }
            }
            values.extend(std::iter::repeat_n(1.0f32, correct.len()));
            values.extend(std::iter::repeat_n(0.0f32, wrong.len()));
            models.extend(correct);
            models.extend(wrong);
        } else {
            let order = rank_common::pl_ranking(&mut rng, &beta, &present);
            let length = order.len();
            values.extend((0..length).map(|p| (length - p) as f32));
            models.extend(order);
        }
        offsets.push(models.len() as u64);
    }
    let mut data = Dataset::empty(n_samples, n_models);
    data.cardinal.offsets = offsets;
    data.cardinal.models = models;
    data.cardinal.values = values;
    (beta, data)
}

fn time(label: &str, data: &Dataset, beta: &[f64], options: &RankOptions) -> Vec<f64> {
    let started = Instant::now();
    let result = rank(data, None, options).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let tau = rank_common::kendall_tau(&result.scores, beta);
    println!(
        "  {label:<28} {seconds:>7.3} s  passes {:>4}  converged {}  tau {tau:.4}",
        result.iterations, result.converged
    );
    result.scores
}

fn run(n_models: usize, n_samples: usize, missing: f64) {
    let started = Instant::now();
    let (beta, data) = sparse(7, n_models, n_samples, missing);
    println!(
        "{n_models} models x {n_samples} samples, {:.0}% missing: {} measurements (built in {:.1} s, {} threads)",
        missing * 100.0,
        data.n_measurements(),
        started.elapsed().as_secs_f64(),
        rayon::current_num_threads()
    );
    let point = RankOptions {
        method: Method::Joint,
        interval: Interval::None,
        ..Default::default()
    };
    let scores = time("joint, no interval", &data, &beta, &point);
    let warm = RankOptions {
        initial: Some(scores),
        ..point.clone()
    };
    time("joint, warm start", &data, &beta, &warm);
    let pl = RankOptions {
        interval: Interval::None,
        ..Default::default()
    };
    time("plackett-luce, no interval", &data, &beta, &pl);
}

#[test]
#[ignore]
fn joint_timings_sparse_100_by_100k() {
    run(100, 100_000, 0.95);
}

#[test]
#[ignore]
fn joint_timings_sparse_1000_by_1m() {
    run(1000, 1_000_000, 0.95);
}
