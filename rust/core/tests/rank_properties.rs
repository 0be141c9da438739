//! Properties of the Plackett–Luce ranking: recovery of true strengths, the prior, the
//! graph, subsets, warm starts, mixed kinds, and option validation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]

mod rank_common;

use onebench_core::rank::{rank, Interval, Method, RankOptions};
use onebench_core::{Dataset, Error};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rank_common::{kendall_tau, log_posterior, synthetic, Builder};

fn point_options() -> RankOptions {
    RankOptions {
        interval: Interval::None,
        ..Default::default()
    }
}

fn true_strengths(rng: &mut SmallRng, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.random_range(-2.0..2.0)).collect()
}

#[test]
fn recovers_true_order_dense_and_sparse() {
    let mut rng = SmallRng::seed_from_u64(11);
    let beta = true_strengths(&mut rng, 100);
    for (missing, minimum_tau) in [(0.0, 0.95), (0.95, 0.85)] {
        let data = synthetic(&mut rng, &beta, 10_000, missing);
        let result = rank(&data, None, &point_options()).unwrap();
        assert!(result.converged);
        assert!(result.ranked.iter().all(|&r| r));
        let tau = kendall_tau(&result.scores, &beta);
        assert!(tau > minimum_tau, "missing {missing}: tau {tau}");
        let mean: f64 = result.scores.iter().sum::<f64>() / 100.0;
        assert!(mean.abs() < 1e-9, "scores are centred");
    }
}

/// A chain 0 > 1 > 2 > 3 of comparisons, with model 0 winning every one.
fn all_win_data() -> Dataset {
    let mut builder = Builder::new(4);
    for _ in 0..5 {
        builder.sample().comparison(0, 1, 1.0);
        builder.sample().comparison(1, 2, 1.0).comparison(2, 1, 1.0);
        builder.sample().comparison(2, 3, 0.7);
    }
    builder.build()
}

#[test]
fn prior_keeps_an_all_win_model_finite() {
    let data = all_win_data();
    let result = rank(&data, None, &RankOptions::default()).unwrap();
    assert!(result.converged);
    assert!(result.scores.iter().all(|s| s.is_finite()));
    assert_eq!(result.rank[0], 1);
    assert!(result
        .ci_low
        .iter()
        .chain(&result.ci_high)
        .all(|s| s.is_finite()));
    // Without the prior the MLE does not exist: the solver reports it did not converge.
    let plain = RankOptions {
        alpha: 0.0,
        max_iterations: 200,
        interval: Interval::None,
        ..Default::default()
    };
    let result = rank(&data, None, &plain).unwrap();
    assert!(!result.converged);
}

#[test]
fn disconnected_components_are_reported_not_ranked() {
    let mut builder = Builder::new(8);
    builder
        .sample()
        .cardinal(&[(0, 1.0), (1, 0.0), (2, 0.0)], false);
    builder.sample().ranking(&[&[1], &[2, 0]]);
    builder.sample().comparison(3, 4, 1.0).comparison(4, 3, 0.5);
    builder.sample().comparison(6, 7, 0.5);
    // Model 5 only appears where every model ties: measured, but no information.
    builder.sample().cardinal(&[(5, 1.0), (0, 1.0)], false);
    let data = builder.build();
    let result = rank(&data, None, &RankOptions::default()).unwrap();
    assert_eq!(
        result.ranked,
        vec![true, true, true, false, false, false, false, false]
    );
    assert_eq!(result.disconnected, vec![vec![3, 4], vec![6, 7]]);
    for model in 3..8 {
        assert!(result.scores[model].is_nan());
    }
    assert_eq!(result.n_measurements, vec![3, 2, 2, 2, 2, 1, 1, 1]);
    assert_eq!(result.n_samples, vec![3, 2, 2, 1, 1, 1, 1, 1]);
    // A subset that leaves only the 3-4 component ranks it.
    let result = rank(&data, Some(&[2, 4]), &RankOptions::default()).unwrap();
    assert_eq!(
        result.ranked,
        vec![false, false, false, true, true, false, false, false]
    );
    assert!(result.disconnected.is_empty());
    assert_eq!(result.n_measurements, vec![1, 0, 0, 2, 2, 1, 0, 0]);
}

#[test]
fn subset_equals_a_dataset_of_that_subset() {
    let mut rng = SmallRng::seed_from_u64(5);
    let beta = true_strengths(&mut rng, 12);
    let mut builder = Builder::new(12);
    let mut kept = Builder::new(12);
    let subset: Vec<u32> = (0..300).filter(|s| s % 3 != 1).collect();
    for sample in 0..300u32 {
        let items: Vec<u32> = (0..12).filter(|_| rng.random::<f64>() < 0.6).collect();
        let order = rank_common::pl_ranking(&mut rng, &beta, &items);
        let entries: Vec<(u32, f32)> = order
            .iter()
            .enumerate()
            .map(|(p, &m)| (m, (p / 2) as f32))
            .collect();
        let comparison = (
            rng.random_range(0..12),
            rng.random_range(0..12),
            rng.random::<f32>(),
        );
        let keep = sample % 3 != 1;
        for (target, wanted) in [(&mut builder, true), (&mut kept, keep)] {
            if wanted {
                target.sample().cardinal(&entries, true).comparison(
                    comparison.0,
                    comparison.1,
                    comparison.2,
                );
            }
        }
    }
    let options = RankOptions::default();
    let from_subset = rank(&builder.build(), Some(&subset), &options).unwrap();
    let from_copy = rank(&kept.build(), None, &options).unwrap();
    for model in 0..12 {
        assert!((from_subset.scores[model] - from_copy.scores[model]).abs() < 1e-12);
        assert!((from_subset.ci_low[model] - from_copy.ci_low[model]).abs() < 1e-9);
    }
    assert_eq!(from_subset.n_measurements, from_copy.n_measurements);
    assert_eq!(from_subset.rank, from_copy.rank);
}

#[test]
fn warm_start_converges_in_fewer_iterations() {
    let mut rng = SmallRng::seed_from_u64(3);
    let beta = true_strengths(&mut rng, 40);
    let data = synthetic(&mut rng, &beta, 2_000, 0.5);
    let cold = rank(&data, None, &point_options()).unwrap();
    let warm_options = RankOptions {
        initial: Some(cold.scores.clone()),
        ..point_options()
    };
    let warm = rank(&data, None, &warm_options).unwrap();
    assert!(
        warm.converged && warm.iterations < cold.iterations,
        "{} vs {}",
        warm.iterations,
        cold.iterations
    );
    // Non-finite entries of the start are ignored.
    let mut partial = cold.scores.clone();
    partial[3] = f64::NAN;
    let options = RankOptions {
        initial: Some(partial),
        ..point_options()
    };
    let result = rank(&data, None, &options).unwrap();
    assert!((result.scores[3] - cold.scores[3]).abs() < 1e-6);
}

/// One fit over all four kinds maximises the summed log posterior written out directly.
#[test]
fn mixed_kinds_maximise_the_joint_posterior() {
    let mut rng = SmallRng::seed_from_u64(8);
    let beta = true_strengths(&mut rng, 6);
    let mut builder = Builder::new(6);
    for _ in 0..40 {
        let items: Vec<u32> = (0..6).filter(|_| rng.random::<f64>() < 0.7).collect();
        let order = rank_common::pl_ranking(&mut rng, &beta, &items);
        let split = order.len() / 2;
        let binary: Vec<(u32, f32)> = order
            .iter()
            .enumerate()
            .map(|(p, &m)| (m, f32::from(p < split)))
            .collect();
        let numeric: Vec<(u32, f32)> = order
            .iter()
            .enumerate()
            .map(|(p, &m)| (m, (p / 2) as f32))
            .collect();
        let groups: Vec<&[u32]> = order.chunks(2).collect();
        builder.sample().cardinal(&binary, false);
        builder.sample().cardinal(&numeric, true).ranking(&groups);
        builder.sample().comparison(
            rng.random_range(0..6),
            rng.random_range(0..6),
            rng.random::<f32>(),
        );
    }
    let data = builder.build();
    let alpha = 0.5;
    let options = RankOptions {
        alpha,
        tolerance: 1e-12,
        ..Default::default()
    };
    let result = rank(&data, None, &options).unwrap();
    assert!(result.converged);
    // Reported scores are centred; the posterior is maximised at the uncentred point.
    // Recover the shift by maximising over it numerically.
    let objective = |shift: f64| {
        let point: Vec<f64> = result.scores.iter().map(|s| s + shift).collect();
        log_posterior(&data, &point, alpha, &result.ranked)
    };
    let (mut low, mut high) = (-10.0, 10.0);
    for _ in 0..200 {
        let (a, b) = (low + (high - low) / 3.0, high - (high - low) / 3.0);
        if objective(a) < objective(b) {
            low = a;
        } else {
            high = b;
        }
    }
    let shift = (low + high) / 2.0;
    let point: Vec<f64> = result.scores.iter().map(|s| s + shift).collect();
    let h = 1e-5;
    let mut hessian = vec![vec![0.0; 6]; 6];
    for i in 0..6 {
        let mut up = point.clone();
        up[i] += h;
        let mut down = point.clone();
        down[i] -= h;
        let gradient = (log_posterior(&data, &up, alpha, &result.ranked)
            - log_posterior(&data, &down, alpha, &result.ranked))
            / (2.0 * h);
        assert!(gradient.abs() < 1e-5, "gradient {i}: {gradient}");
        for j in 0..6 {
            let at = |di: f64, dj: f64| {
                let mut p = point.clone();
                p[i] += di;
                p[j] += dj;
                log_posterior(&data, &p, alpha, &result.ranked)
            };
            let g = 1e-4;
            hessian[i][j] = -(at(g, g) - at(g, -g) - at(-g, g) + at(-g, -g)) / (4.0 * g * g);
        }
    }
    // Fisher standard errors of centred scores from the numerical Hessian.
    let matrix = nalgebra::DMatrix::from_fn(6, 6, |i, j| hessian[i][j]);
    let covariance = matrix.try_inverse().unwrap();
    let z = 1.959963984540054;
    for i in 0..6 {
        let mut variance = covariance[(i, i)];
        let row_mean: f64 = (0..6).map(|j| covariance[(i, j)]).sum::<f64>() / 6.0;
        let grand: f64 = covariance.iter().sum::<f64>() / 36.0;
        variance += grand - 2.0 * row_mean;
        let half_width = (result.ci_high[i] - result.ci_low[i]) / 2.0;
        assert!(
            (half_width - z * variance.sqrt()).abs() < 1e-4 * half_width,
            "model {i}: {half_width} vs {}",
            z * variance.sqrt()
        );
    }
}

#[test]
fn invalid_options_name_the_field() {
    let data = all_win_data();
    let field = |options: RankOptions, subset: Option<&[u32]>| match rank(&data, subset, &options) {
        Err(Error::InvalidInput { field, row, .. }) => (field, row),
        other => panic!("expected InvalidInput, got {other:?}"),
    };
    let options = |change: fn(&mut RankOptions)| {
        let mut options = RankOptions::default();
        change(&mut options);
        options
    };
    assert_eq!(
        field(options(|o| o.alpha = -1.0), None),
        ("alpha".into(), None)
    );
    assert_eq!(
        field(options(|o| o.alpha = f64::NAN), None),
        ("alpha".into(), None)
    );
    assert_eq!(
        field(options(|o| o.ci_level = 1.0), None),
        ("ci_level".into(), None)
    );
    assert_eq!(
        field(options(|o| o.ci_level = 0.0), None),
        ("ci_level".into(), None)
    );
    assert_eq!(
        field(options(|o| o.initial = Some(vec![0.0; 3])), None),
        ("initial".into(), None)
    );
    assert_eq!(
        field(options(|o| o.tolerance = 0.0), None),
        ("tolerance".into(), None)
    );
    assert_eq!(
        field(
            options(|o| o.interval = Interval::Bootstrap {
                replicates: 0,
                seed: 1
            }),
            None
        ),
        ("replicates".into(), None)
    );
    assert_eq!(
        field(RankOptions::default(), Some(&[0, 1, 99])),
        ("samples".into(), Some(2))
    );
    // Every method accepts the same options.
    for method in [
        Method::PlackettLuce,
        Method::BradleyTerry,
        Method::Elo,
        Method::Borda,
        Method::Mean,
    ] {
        let options = RankOptions {
            method,
            ..Default::default()
        };
        assert_eq!(rank(&data, None, &options).unwrap().method, method.name());
    }
}

#[test]
fn empty_subset_ranks_nothing() {
    let data = all_win_data();
    let result = rank(&data, Some(&[]), &RankOptions::default()).unwrap();
    assert!(result.ranked.iter().all(|&r| !r));
    assert!(result.scores.iter().all(|s| s.is_nan()));
    assert!(result.converged);
}
