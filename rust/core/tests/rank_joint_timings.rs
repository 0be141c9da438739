//! Release timings of the joint model (ignored by default):
//! `cargo test --release -p onebench-core --test rank_joint_timings -- --ignored --nocapture`.
//! The data are those of `rank_timings.rs` (`rank_common::sparse`: half binary samples, half numeric with
//! distinct values, 95% of cells missing at random), so the figures compare with
//! Plackett–Luce's there. The stratified runs split each of the two kinds into 8 strata
//! (16 in all) and declare the samples' kinds (undeclared, a numeric sample of one
//! model reads as binary), so the joint model fits a deviation per model and stratum
//! as well.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rank_common;

use onebench_core::data::SampleKind;
use onebench_core::rank::{rank, FormChoice, Interval, JointForm, Method, RankOptions};
use onebench_core::Dataset;

fn time(label: &str, data: &Dataset, beta: &[f64], options: &RankOptions) -> Vec<f64> {
    rank_common::timed(label, beta, || rank(data, None, options).unwrap())
}

fn run(n_models: usize, n_samples: usize, missing: f64, strata: u32) {
    let (beta, mut data) = rank_common::announced_sparse(n_models, n_samples, missing);
    if strata > 1 {
        println!("  in {strata} strata");
        data.strata = (0..n_samples as u32)
            .map(|sample| sample % strata)
            .collect();
        data.sample_kinds = (0..n_samples)
            .map(|sample| {
                if sample % 2 == 0 {
                    SampleKind::Binary
                } else {
                    SampleKind::NumericHigher
                }
            })
            .collect();
    }
    let point = RankOptions {
        method: Method::Joint,
        interval: Interval::None,
        ..Default::default()
    };
    let scores = time(
        "joint, no interval (form chosen by cross-validation)",
        &data,
        &beta,
        &point,
    );
    // The speed class is that of the full form, fitted whole before forms were chosen.
    for (label, form) in [
        ("joint, no interval, form full", JointForm::FULL),
        ("joint, no interval, form core", JointForm::CORE),
    ] {
        let given = RankOptions {
            form: FormChoice::Given(form),
            ..point.clone()
        };
        time(label, &data, &beta, &given);
    }
    let fisher = RankOptions {
        interval: Interval::Fisher,
        ..point.clone()
    };
    time(
        "joint, Fisher intervals and simulated rank ranges",
        &data,
        &beta,
        &fisher,
    );
    let warm = RankOptions {
        initial: Some(scores),
        ..point.clone()
    };
    time("joint, warm start from the skills", &data, &beta, &warm);
    // A re-rank after the pool grew by 5% of its samples, from the earlier whole solution.
    let earlier: Vec<u32> = (0..(n_samples - n_samples / 20) as u32).collect();
    let before = rank(&data, Some(&earlier), &point).unwrap();
    let resumed = RankOptions {
        initial_solution: before.solution,
        ..point.clone()
    };
    time(
        "joint, resumed after 5% new samples",
        &data,
        &beta,
        &resumed,
    );
    let pl = RankOptions {
        interval: Interval::None,
        ..Default::default()
    };
    time("plackett-luce, no interval", &data, &beta, &pl);
}

#[test]
#[ignore]
fn joint_timings_sparse_100_by_100k() {
    run(100, 100_000, 0.95, 1);
}

#[test]
#[ignore]
fn joint_timings_sparse_stratified_100_by_100k() {
    run(100, 100_000, 0.95, 16);
}

#[test]
#[ignore]
fn joint_timings_sparse_1000_by_1m() {
    run(1000, 1_000_000, 0.95, 1);
}

#[test]
#[ignore]
fn joint_timings_sparse_stratified_1000_by_1m() {
    run(1000, 1_000_000, 0.95, 16);
}
