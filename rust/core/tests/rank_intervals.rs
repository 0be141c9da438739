//! Fisher and bootstrap intervals: reproducibility, consistency with the point estimate,
//! rank intervals, and that the Fisher interval is about as wide as the bootstrap one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]

mod rank_common;

use onebench_core::rank::{rank, Interval, Method, RankOptions};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

fn data() -> (Vec<f64>, onebench_core::Dataset) {
    let mut rng = SmallRng::seed_from_u64(21);
    let beta: Vec<f64> = (0..15).map(|_| rng.random_range(-1.5..1.5)).collect();
    let data = rank_common::synthetic(&mut rng, &beta, 600, 0.4);
    (beta, data)
}

#[test]
fn bootstrap_is_reproducible_with_a_seed() {
    let (_, data) = data();
    let options = |seed| RankOptions {
        interval: Interval::Bootstrap {
            replicates: 40,
            seed,
        },
        ..Default::default()
    };
    let first = rank(&data, None, &options(1)).unwrap();
    let again = rank(&data, None, &options(1)).unwrap();
    let other = rank(&data, None, &options(2)).unwrap();
    assert_eq!(first.ci_low, again.ci_low);
    assert_eq!(first.ci_high, again.ci_high);
    assert_eq!(first.rank_low, again.rank_low);
    assert_ne!(first.ci_low, other.ci_low);
    // The same result on a single thread: streams are per replicate, not per thread.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let single = pool.install(|| rank(&data, None, &options(1)).unwrap());
    for (a, b) in first.ci_low.iter().zip(&single.ci_low) {
        assert!((a - b).abs() < 1e-9);
    }
}

#[test]
fn intervals_bracket_the_estimate_and_agree() {
    let (_, data) = data();
    let fisher = rank(&data, None, &RankOptions::default()).unwrap();
    let bootstrap = rank(
        &data,
        None,
        &RankOptions {
            interval: Interval::Bootstrap {
                replicates: 200,
                seed: 4,
            },
            ..Default::default()
        },
    )
    .unwrap();
    for model in 0..15 {
        for result in [&fisher, &bootstrap] {
            assert!(
                result.ci_low[model] <= result.scores[model]
                    && result.scores[model] <= result.ci_high[model]
            );
            assert!(
                result.rank_low[model] <= result.rank[model]
                    && result.rank[model] <= result.rank_high[model]
            );
        }
        let fisher_width = fisher.ci_high[model] - fisher.ci_low[model];
        let bootstrap_width = bootstrap.ci_high[model] - bootstrap.ci_low[model];
        let ratio = bootstrap_width / fisher_width;
        assert!(
            (0.6..1.6).contains(&ratio),
            "model {model}: width ratio {ratio}"
        );
    }
    // A wider level gives wider intervals and wider rank intervals.
    let wide = rank(
        &data,
        None,
        &RankOptions {
            ci_level: 0.99,
            ..Default::default()
        },
    )
    .unwrap();
    for model in 0..15 {
        assert!(
            wide.ci_high[model] - wide.ci_low[model] > fisher.ci_high[model] - fisher.ci_low[model]
        );
        assert!(
            wide.rank_low[model] <= fisher.rank_low[model]
                && wide.rank_high[model] >= fisher.rank_high[model]
        );
    }
}

/// Rank ranges simulated from the Fisher covariance lie within the ranges read off
/// overlapping intervals (LMArena's convention, which ignores how scores move together
/// and so is the wider), and agree with the bootstrap's ranges to within two ranks.
#[test]
fn fisher_rank_ranges_are_simulated_from_the_covariance() {
    let (_, data) = data();
    let result = rank(&data, None, &RankOptions::default()).unwrap();
    let bootstrap = rank(
        &data,
        None,
        &RankOptions {
            interval: Interval::Bootstrap {
                replicates: 400,
                seed: 9,
            },
            ..Default::default()
        },
    )
    .unwrap();
    let n = 15;
    let mut narrower = 0;
    for model in 0..n {
        let better = (0..n)
            .filter(|&o| result.ci_low[o] > result.ci_high[model])
            .count() as u32;
        let worse = (0..n)
            .filter(|&o| result.ci_high[o] < result.ci_low[model])
            .count() as u32;
        assert!(result.rank_low[model] > better, "model {model}");
        assert!(result.rank_high[model] <= n as u32 - worse, "model {model}");
        narrower += usize::from(
            result.rank_high[model] - result.rank_low[model] < n as u32 - worse - 1 - better,
        );
        for (fisher, resampled) in [
            (result.rank_low[model], bootstrap.rank_low[model]),
            (result.rank_high[model], bootstrap.rank_high[model]),
        ] {
            assert!(
                fisher.abs_diff(resampled) <= 2,
                "model {model}: {fisher} vs {resampled}"
            );
        }
    }
    assert!(
        narrower > 0,
        "no range is narrower than the overlap convention's"
    );
    assert!(result.notes.is_empty(), "{:?}", result.notes);
}

#[test]
fn fisher_without_prior_uses_the_centred_pseudo_inverse() {
    let (_, data) = data();
    let options = RankOptions {
        alpha: 0.0,
        ..Default::default()
    };
    let result = rank(&data, None, &options).unwrap();
    assert!(result.converged);
    assert!(result
        .ci_low
        .iter()
        .zip(&result.ci_high)
        .all(|(l, h)| l.is_finite() && h > l));
}

/// A model measured on a handful of samples is fitted (its measurements still count) but
/// left out of the ranks: the others' scores do not move, and their ranks and rank
/// intervals are among themselves.
#[test]
fn min_samples_leaves_thinly_measured_models_out_of_the_ranks() {
    let (_, data) = data();
    let few = 3usize;
    // Model 14 keeps its measurements on 3 samples only.
    let mut thin = onebench_core::Dataset::empty(data.n_samples, data.n_models);
    let (mut offsets, mut models, mut values, mut kept) = (vec![0u64], vec![], vec![], 0);
    for sample in 0..data.n_samples {
        let range = data.cardinal.range(sample);
        for (&model, &value) in data.cardinal.models[range.clone()]
            .iter()
            .zip(&data.cardinal.values[range])
        {
            if model == 14 {
                if kept == few {
                    continue;
                }
                kept += 1;
            }
            models.push(model);
            values.push(value);
        }
        offsets.push(models.len() as u64);
    }
    thin.sample_kinds.clone_from(&data.sample_kinds);
    thin.benchmarks.clone_from(&data.benchmarks);
    thin.strata.clone_from(&data.strata);
    thin.cardinal.offsets = offsets;
    thin.cardinal.models = models;
    thin.cardinal.values = values;
    for method in [Method::PlackettLuce, Method::Joint] {
        for interval in [
            Interval::Fisher,
            Interval::Bootstrap {
                replicates: 30,
                seed: 3,
            },
        ] {
            let options = |min_samples| RankOptions {
                method,
                alpha: if method == Method::Joint { 0.1 } else { 1.0 },
                interval,
                min_samples,
                ..Default::default()
            };
            let all = rank(&thin, None, &options(0)).unwrap();
            assert!(all.ranked[14] && all.hidden.is_empty());
            assert_eq!(all.n_samples[14], few as u64);
            let shown = rank(&thin, None, &options(few as u64 + 1)).unwrap();
            assert_eq!(shown.hidden, vec![14]);
            assert!(!shown.ranked[14] && shown.scores[14].is_nan() && shown.rank[14] == 0);
            let mut ranks: Vec<u32> = (0..14).map(|m| shown.rank[m]).collect();
            ranks.sort_unstable();
            assert_eq!(ranks, (1..=14).collect::<Vec<u32>>(), "{method:?}");
            for m in 0..14 {
                assert_eq!(shown.scores[m], all.scores[m], "{method:?} model {m}");
                assert_eq!(shown.ci_low[m], all.ci_low[m]);
                assert!(shown.rank_low[m] >= 1 && shown.rank_high[m] <= 14);
                assert!(shown.rank_low[m] <= shown.rank[m] && shown.rank[m] <= shown.rank_high[m]);
            }
        }
    }
}

#[test]
fn bootstrap_replicates_that_stop_early_are_counted() {
    let mut rng = SmallRng::seed_from_u64(31);
    let beta: Vec<f64> = (0..8).map(|m| m as f64 * 0.3).collect();
    let data = rank_common::synthetic(&mut rng, &beta, 300, 0.3);
    for method in [Method::PlackettLuce, Method::Joint] {
        let interval = Interval::Bootstrap {
            replicates: 12,
            seed: 1,
        };
        let cut = RankOptions {
            method,
            interval,
            max_iterations: 2,
            ..Default::default()
        };
        let result = rank(&data, None, &cut).unwrap();
        assert!(!result.converged);
        assert_eq!(result.unconverged_replicates, 12, "{}", result.method);
        let full = RankOptions {
            method,
            interval,
            ..Default::default()
        };
        let result = rank(&data, None, &full).unwrap();
        assert!(result.converged);
        assert_eq!(result.unconverged_replicates, 0, "{}", result.method);
    }
}

/// Where no Fisher interval exists and the pool is too large for a bootstrap to stand in
/// unasked, the intervals and rank ranges are unknown (0), and a note says what to pass.
#[test]
fn too_large_for_a_stand_in_bootstrap_the_ranges_are_unknown() {
    let mut rng = SmallRng::seed_from_u64(5);
    let beta: Vec<f64> = (0..30).map(|_| rng.random_range(-1.5..1.5)).collect();
    let data = rank_common::synthetic(&mut rng, &beta, 8_000, 0.0);
    let result = rank(
        &data,
        None,
        &RankOptions {
            method: Method::Borda,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(result.n_measurements.iter().sum::<u64>() > 200_000);
    assert!(result
        .rank_low
        .iter()
        .chain(&result.rank_high)
        .all(|&r| r == 0));
    assert!(result.ci_low.iter().all(|v| v.is_nan()));
    assert_eq!(result.notes.len(), 1, "{:?}", result.notes);
    assert!(result.notes[0].contains("unknown"), "{}", result.notes[0]);
    assert!(
        result.notes[0].contains("bootstrap=N"),
        "{}",
        result.notes[0]
    );
}
