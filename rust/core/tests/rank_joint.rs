//! The joint latent-skill model: exact agreement with Bradley–Terry and Plackett–Luce on
//! the data they share with it, the orders a complete matrix implies, recovery from
//! sparse mixed data drawn from the model, subsets, warm starts, intervals and item
//! diagnostics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]

mod rank_common;

use onebench_core::data::{Dataset, SampleKind};
use onebench_core::rank::{item_diagnostics, rank, Interval, Method, RankOptions, RankResult};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rank_common::{kendall_tau, pl_ranking, Builder};

const KAPPA: f64 = 1.813_799_364_234_217_8; // π/√3, the standard logistic's sd

fn joint(interval: Interval) -> RankOptions {
    RankOptions {
        method: Method::Joint,
        interval,
        tolerance: 1e-10,
        ..Default::default()
    }
}

fn fit(data: &Dataset, options: &RankOptions) -> RankResult {
    let result = rank(data, None, options).unwrap();
    assert!(result.converged, "{} did not converge", result.method);
    result
}

fn normal(rng: &mut SmallRng) -> f64 {
    // Box–Muller.
    let u: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Data drawn from the joint model: `n_benchmarks` benchmarks, each with two strata whose
/// difficulty locations differ; sample j of benchmark k is binary when k is even, numeric
/// otherwise (in the benchmark's own units; odd benchmarks ≡ 3 mod 4 lower-is-better).
/// Each cell is kept with probability 1 − `missing`.
fn drawn(
    seed: u64,
    n_models: usize,
    n_samples: usize,
    missing: f64,
    n_benchmarks: usize,
) -> (Vec<f64>, Dataset) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let skills: Vec<f64> = (0..n_models).map(|_| normal(&mut rng)).collect();
    let mut data = Dataset::empty(n_samples, n_models);
    let (mut offsets, mut models, mut values) = (vec![0u64], Vec::new(), Vec::new());
    let mut entries: Vec<(u32, f32)> = Vec::new();
    for sample in 0..n_samples {
        let benchmark = sample % n_benchmarks;
        let stratum = 2 * benchmark + (sample / n_benchmarks) % 2;
        let location = if stratum.is_multiple_of(2) { -0.8 } else { 0.8 };
        let difficulty = location + 1.5 * normal(&mut rng);
        let binary = benchmark.is_multiple_of(2);
        let lower = benchmark % 4 == 3;
        entries.clear();
        for model in 0..n_models {
            if rng.random::<f64>() < missing {
                continue;
            }
            let utility = skills[model] - difficulty;
            let value = if binary {
                f64::from(u8::from(rng.random::<f64>() < sigmoid(utility)))
            } else {
                let score = 50.0 + 4.0 * (utility + KAPPA * normal(&mut rng));
                if lower {
                    -score
                } else {
                    score
                }
            };
            entries.push((model as u32, value as f32));
        }
        if lower {
            entries.sort_by(|a, b| a.1.total_cmp(&b.1));
        } else {
            entries.sort_by(|a, b| b.1.total_cmp(&a.1));
        }
        for &(model, value) in &entries {
            models.push(model);
            values.push(value);
        }
        offsets.push(models.len() as u64);
        data.sample_kinds.push(match (binary, lower) {
            (true, _) => SampleKind::Binary,
            (false, false) => SampleKind::NumericHigher,
            (false, true) => SampleKind::NumericLower,
        });
        data.benchmarks.push(benchmark as u32);
        data.strata.push(stratum as u32);
    }
    data.cardinal.offsets = offsets;
    data.cardinal.models = models;
    data.cardinal.values = values;
    (skills, data)
}

fn centred(values: &[f64]) -> Vec<f64> {
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    values.iter().map(|v| v - mean).collect()
}

fn assert_close(got: &[f64], want: &[f64], tolerance: f64) {
    for (model, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() < tolerance, "model {model}: {g} vs {w}");
    }
}

#[test]
fn comparisons_alone_give_bradley_terry() {
    // Without ties the joint model's comparison term is Bradley–Terry's likelihood, and
    // the skill prior is the baselines' prior: the fits must agree.
    let mut rng = SmallRng::seed_from_u64(3);
    let strengths = [1.0, 0.4, 0.0, -0.5, -1.2];
    let mut builder = Builder::new(5);
    for _ in 0..300 {
        let a = rng.random_range(0..5u32);
        let b = (a + rng.random_range(1..5u32)) % 5;
        let p = sigmoid(strengths[a as usize] - strengths[b as usize]);
        let credit = if rng.random::<f64>() < 0.2 {
            0.3 // a judge's probability
        } else if rng.random::<f64>() < p {
            1.0
        } else {
            0.0
        };
        builder.sample().comparison(a, b, credit);
    }
    let data = builder.build();
    let options = RankOptions {
        method: Method::BradleyTerry,
        interval: Interval::None,
        tolerance: 1e-12,
        ..Default::default()
    };
    let baseline = fit(&data, &options);
    let joint = fit(&data, &joint(Interval::None));
    assert_close(&joint.scores, &baseline.scores, 1e-6);
}

#[test]
fn rankings_alone_give_plackett_luce() {
    let mut rng = SmallRng::seed_from_u64(4);
    let beta = [0.9, 0.3, 0.0, -0.4, -0.8, 0.5];
    let mut builder = Builder::new(6);
    for _ in 0..200 {
        let order = pl_ranking(&mut rng, &beta, &[0, 1, 2, 3, 4, 5]);
        // Tie the last two of every third ranking.
        let groups: Vec<Vec<u32>> = if rng.random::<f64>() < 0.33 {
            let mut groups: Vec<Vec<u32>> = order[..4].iter().map(|&m| vec![m]).collect();
            groups.push(order[4..].to_vec());
            groups
        } else {
            order.iter().map(|&m| vec![m]).collect()
        };
        let slices: Vec<&[u32]> = groups.iter().map(Vec::as_slice).collect();
        builder.sample().ranking(&slices);
    }
    let data = builder.build();
    let options = RankOptions {
        interval: Interval::None,
        tolerance: 1e-12,
        ..Default::default()
    };
    let baseline = fit(&data, &options);
    let joint = fit(&data, &joint(Interval::None));
    assert_close(&joint.scores, &baseline.scores, 1e-6);
}

#[test]
fn complete_binary_data_rank_as_accuracy_does() {
    // With every model on every sample, a model's number right is sufficient for its
    // Rasch skill: the order is the accuracy order.
    let (_, data) = drawn(5, 15, 400, 0.0, 1);
    let result = fit(&data, &joint(Interval::None));
    let mut right = [0.0f64; 15];
    for (model, value) in data.cardinal.models.iter().zip(&data.cardinal.values) {
        right[*model as usize] += f64::from(*value);
    }
    for a in 0..15 {
        for b in 0..15 {
            if right[a] > right[b] {
                assert!(result.scores[a] > result.scores[b], "models {a} and {b}");
            }
        }
    }
}

#[test]
fn complete_numeric_data_rank_as_the_mean_does() {
    // Benchmark 1 is numeric, higher is better; every model on every sample.
    let (_, mut data) = drawn(6, 12, 300, 0.0, 2);
    // Keep benchmark 1 only.
    let subset: Vec<u32> = (0..300).filter(|s| s % 2 == 1).collect();
    let result = rank(&data, Some(&subset), &joint(Interval::None)).unwrap();
    let mut sums = [0.0f64; 12];
    for &sample in &subset {
        let range = data.cardinal.range(sample as usize);
        for (model, value) in data.cardinal.models[range.clone()]
            .iter()
            .zip(&data.cardinal.values[range])
        {
            sums[*model as usize] += f64::from(*value);
        }
    }
    for a in 0..12 {
        for b in 0..12 {
            if sums[a] > sums[b] + 1e-6 {
                assert!(result.scores[a] > result.scores[b], "models {a} and {b}");
            }
        }
    }
    // Skill differences are value differences over the fitted scale: rescaling the values
    // changes nothing.
    for value in &mut data.cardinal.values {
        *value *= 7.0;
    }
    let rescaled = rank(&data, Some(&subset), &joint(Interval::None)).unwrap();
    assert_close(&rescaled.scores, &result.scores, 1e-5);
}

#[test]
fn recovers_skills_from_sparse_mixed_data_better_than_mean_and_plackett_luce() {
    let (skills, data) = drawn(7, 60, 20_000, 0.97, 6);
    let joint = fit(&data, &joint(Interval::None));
    assert!(joint.ranked.iter().all(|&r| r), "every model is ranked");
    let tau = kendall_tau(&joint.scores, &skills);
    assert!(tau > 0.85, "tau {tau}");
    // On the logit scale of the truth: the fitted skills are the true ones, up to noise.
    let error = centred(&joint.scores)
        .iter()
        .zip(centred(&skills))
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        / 60.0;
    assert!(error.sqrt() < 0.3, "rms error {}", error.sqrt());
    for method in [Method::PlackettLuce, Method::Mean] {
        let options = RankOptions {
            method,
            interval: Interval::None,
            ..Default::default()
        };
        let other = rank(&data, None, &options).unwrap();
        let scores: Vec<f64> = other
            .scores
            .iter()
            .map(|s| if s.is_nan() { f64::MIN } else { *s })
            .collect();
        let other_tau = kendall_tau(&scores, &skills);
        assert!(
            tau > other_tau,
            "{}: {other_tau} vs joint {tau}",
            other.method
        );
    }
}

#[test]
fn samples_seen_by_one_model_still_rank_every_model() {
    // Every sample has a single model: no within-sample order exists, yet the shared
    // difficulty distribution ties every model to the common scale.
    let mut rng = SmallRng::seed_from_u64(8);
    let skills: Vec<f64> = (0..10).map(|m| f64::from(m) * 0.3 - 1.5).collect();
    let mut builder = Builder::new(10);
    for sample in 0..4000 {
        let model = sample % 10;
        let difficulty = normal(&mut rng);
        let right = rng.random::<f64>() < sigmoid(skills[model] - difficulty);
        builder
            .sample()
            .cardinal(&[(model as u32, f32::from(u8::from(right)))], false);
    }
    let data = builder.build();
    let result = fit(&data, &joint(Interval::Fisher));
    assert!(result.ranked.iter().all(|&r| r));
    assert!(kendall_tau(&result.scores, &skills) > 0.9);
    assert!(result.ci_low.iter().all(|v| v.is_finite()));
    let pl = rank(&data, None, &RankOptions::default()).unwrap();
    assert!(
        pl.ranked.iter().all(|&r| !r),
        "nothing to compare for Plackett–Luce"
    );
}

#[test]
fn samples_picked_for_each_model_by_difficulty_rank_by_skill_not_by_accuracy() {
    // Adaptive selection within one unlabelled benchmark: each model is given samples whose
    // difficulty lies near its skill, so every model answers about half right and the
    // accuracies say little. Who measured a sample is then what tells hard from easy
    // samples (the measurer effect of `prior.rs`); a single difficulty prior without it
    // falls back towards accuracy.
    let mut rng = SmallRng::seed_from_u64(21);
    let skills: Vec<f64> = (0..30).map(|_| 1.5 * normal(&mut rng)).collect();
    let mut builder = Builder::new(30);
    let mut right = vec![0.0; 30];
    let mut seen = vec![0.0; 30];
    for _ in 0..6000 {
        let difficulty = 2.0 * normal(&mut rng);
        let mut entries = Vec::new();
        for (model, &skill) in skills.iter().enumerate() {
            if (skill - difficulty).abs() > 1.0 || rng.random::<f64>() < 0.5 {
                continue;
            }
            let answer = rng.random::<f64>() < sigmoid(skill - difficulty);
            right[model] += f64::from(u8::from(answer));
            seen[model] += 1.0;
            entries.push((model as u32, f32::from(u8::from(answer))));
        }
        builder.sample().cardinal(&entries, false);
    }
    let data = builder.build();
    let accuracy: Vec<f64> = right.iter().zip(&seen).map(|(r, s)| r / s).collect();
    let result = fit(&data, &joint(Interval::None));
    let (joint_tau, accuracy_tau) = (
        kendall_tau(&result.scores, &skills),
        kendall_tau(&accuracy, &skills),
    );
    // Measured: 0.88 against accuracy's 0.60; without the measurer effect 0.62.
    assert!(
        joint_tau > 0.8 && joint_tau > accuracy_tau + 0.2,
        "joint {joint_tau}, accuracy {accuracy_tau}"
    );
}

#[test]
fn a_model_alone_on_its_benchmark_is_reported_not_ranked() {
    let (_, mut data) = drawn(9, 6, 200, 0.0, 1);
    // Model 6 answers only samples of a benchmark nobody else ran.
    data.n_models = 7;
    let n = data.n_samples;
    for extra in 0..20 {
        let last = *data.cardinal.offsets.last().unwrap();
        data.cardinal.models.push(6);
        data.cardinal
            .values
            .push(f32::from(u8::from(extra % 3 == 0)));
        data.cardinal.offsets.push(last + 1);
        for offsets in [&mut data.pairwise.offsets, &mut data.rankings.offsets] {
            let last = *offsets.last().unwrap();
            offsets.push(last);
        }
        data.sample_kinds.push(SampleKind::Binary);
        data.benchmarks.push(1);
        data.strata.push(99);
    }
    data.n_samples = n + 20;
    let result = fit(&data, &joint(Interval::None));
    assert!(!result.ranked[6]);
    assert!(result.scores[6].is_nan());
    assert_eq!(result.disconnected, vec![vec![6]]);
    assert!(result.ranked[..6].iter().all(|&r| r));
}

#[test]
fn a_subset_ranks_as_the_same_samples_copied_out() {
    let (_, data) = drawn(10, 8, 600, 0.5, 4);
    let subset: Vec<u32> = (0..600).filter(|s| s % 3 != 0).collect();
    let in_place = rank(&data, Some(&subset), &joint(Interval::None)).unwrap();
    let mut copy = Dataset::empty(subset.len(), data.n_models);
    let (mut offsets, mut models, mut values) = (vec![0u64], Vec::new(), Vec::new());
    for &sample in &subset {
        let range = data.cardinal.range(sample as usize);
        models.extend_from_slice(&data.cardinal.models[range.clone()]);
        values.extend_from_slice(&data.cardinal.values[range]);
        offsets.push(models.len() as u64);
        copy.sample_kinds.push(data.sample_kinds[sample as usize]);
        copy.benchmarks.push(data.benchmarks[sample as usize]);
        copy.strata.push(data.strata[sample as usize]);
    }
    copy.cardinal.offsets = offsets;
    copy.cardinal.models = models;
    copy.cardinal.values = values;
    let copied = rank(&copy, None, &joint(Interval::None)).unwrap();
    assert_close(&in_place.scores, &copied.scores, 1e-7);
}

/// A warm start from the skills alone saves no passes (the difficulties and hubs, which
/// most passes go to, start afresh), but it must not take more.
#[test]
fn a_warm_start_from_skills_reaches_the_same_fit_in_no_more_passes() {
    let (_, data) = drawn(11, 30, 3000, 0.8, 4);
    let cold = fit(&data, &joint(Interval::None));
    let warm_options = RankOptions {
        initial: Some(cold.scores.clone()),
        ..joint(Interval::None)
    };
    let warm = fit(&data, &warm_options);
    assert_close(&warm.scores, &cold.scores, 1e-6);
    assert!(
        warm.iterations <= cold.iterations,
        "{} vs {}",
        warm.iterations,
        cold.iterations
    );
}

/// Resuming an earlier fit's whole solution after the pool grew (new samples, some in a
/// benchmark the earlier fit never saw) reaches the cold fit of the grown pool in fewer
/// passes.
#[test]
fn resuming_a_solution_after_new_samples_reaches_the_cold_fit_in_fewer_passes() {
    let (_, data) = drawn(11, 30, 3000, 0.8, 4);
    let cold = fit(&data, &joint(Interval::None));
    let resumed = |earlier: &[u32]| {
        let before = rank(&data, Some(earlier), &joint(Interval::None)).unwrap();
        let options = RankOptions {
            initial_solution: before.solution.clone(),
            ..joint(Interval::None)
        };
        let after = fit(&data, &options);
        assert_close(&after.scores, &cold.scores, 1e-6);
        eprintln!(
            "{} of 3000 samples before: {} passes",
            earlier.len(),
            after.iterations
        );
        after.iterations
    };
    // 5% more samples in every benchmark.
    let grown: Vec<u32> = (0..2850).collect();
    let passes = resumed(&grown);
    assert!(passes < cold.iterations, "{passes} vs {}", cold.iterations);
    // A whole benchmark (every fourth sample) is new: its spread starts cold.
    let new_benchmark: Vec<u32> = (0..3000).filter(|sample| sample % 4 != 3).collect();
    let passes = resumed(&new_benchmark);
    assert!(passes < cold.iterations, "{passes} vs {}", cold.iterations);
    // The same pool: the solution is already there.
    let all: Vec<u32> = (0..3000).collect();
    assert!(resumed(&all) <= 3);
}

#[test]
fn a_solution_resumes_only_the_joint_method() {
    let (_, data) = drawn(11, 10, 200, 0.5, 2);
    let joint_fit = fit(&data, &joint(Interval::None));
    let options = RankOptions {
        method: Method::PlackettLuce,
        initial_solution: joint_fit.solution,
        ..Default::default()
    };
    let error = rank(&data, None, &options).unwrap_err().to_string();
    assert!(error.contains("initial_solution"), "{error}");
    assert!(fit(&data, &RankOptions::default()).solution.is_none());
}

/// A bootstrap replicate that draws none of a thinly measured model's samples leaves
/// that model's skill to the prior alone; it must not carry the other parameters away
/// with it (it did while that skill still moved the centre of the measurer effect).
#[test]
fn bootstrap_replicates_without_a_models_samples_stay_bounded() {
    let mut rng = SmallRng::seed_from_u64(3);
    let accuracy = [0.2, 0.4, 0.6, 0.8];
    let n_samples = 200;
    let mut builder = Builder::new(5);
    for sample in 0..n_samples {
        let mut entries: Vec<(u32, f32)> = (0..4)
            .map(|model| {
                let right = rng.random::<f64>() < accuracy[model];
                (model as u32, f32::from(u8::from(right)))
            })
            .collect();
        // The fifth model is right on the only two samples it was measured on.
        if sample < 2 {
            entries.push((4, 1.0));
        }
        builder.sample().cardinal(&entries, false);
    }
    let mut data = builder.build();
    data.benchmarks = (0..n_samples as u32).map(|sample| sample % 2).collect();
    data.strata = data.benchmarks.clone();
    data.sample_kinds = vec![SampleKind::Binary; n_samples];
    // Each fit resumes the last one's solution, as a re-rank of an unchanged pool does:
    // the replicates then start a hair away from where they did (seeds 1 and 2 ran away in a
    // second or third fit before the change, with one thread and with two).
    for seed in 0..3 {
        let mut solution = None;
        for _ in 0..3 {
            let options = RankOptions {
                alpha: 0.1,
                tolerance: 1e-8,
                initial_solution: solution,
                ..joint(Interval::Bootstrap {
                    replicates: 30,
                    seed,
                })
            };
            let result = fit(&data, &options);
            for model in 0..5 {
                let (low, high) = (result.ci_low[model], result.ci_high[model]);
                assert!(
                    low.abs() < 20.0 && high.abs() < 20.0,
                    "seed {seed}, model {model}: [{low}, {high}]"
                );
            }
            solution = result.solution;
        }
    }
}

#[test]
fn intervals_bracket_the_scores_and_the_bootstrap_repeats_with_its_seed() {
    let (_, data) = drawn(12, 12, 1500, 0.6, 4);
    let fisher = fit(&data, &joint(Interval::Fisher));
    let bootstrap = joint(Interval::Bootstrap {
        replicates: 60,
        seed: 5,
    });
    let first = fit(&data, &bootstrap);
    let second = fit(&data, &bootstrap);
    assert_eq!(first.ci_low, second.ci_low);
    assert_eq!(first.ci_high, second.ci_high);
    for model in 0..12 {
        for result in [&fisher, &first] {
            assert!(result.ci_low[model] <= result.scores[model] + 0.05);
            assert!(result.scores[model] <= result.ci_high[model] + 0.05);
            assert!(result.rank_low[model] <= result.rank[model]);
            assert!(result.rank[model] <= result.rank_high[model]);
        }
        // Both measure the same uncertainty.
        let width = |r: &RankResult| r.ci_high[model] - r.ci_low[model];
        let ratio = width(&first) / width(&fisher);
        assert!((0.6..1.6).contains(&ratio), "model {model}: ratio {ratio}");
    }
}

/// The share of models whose 95% bootstrap interval holds the true (centred) skill.
fn coverage(seed: u64, missing: f64, n_samples: usize) -> f64 {
    let (skills, data) = drawn(seed, 60, n_samples, missing, 4);
    let options = joint(Interval::Bootstrap {
        replicates: 100,
        seed,
    });
    let result = fit(&data, &options);
    let truth = centred(&skills);
    let covered = (0..60)
        .filter(|&m| result.ci_low[m] <= truth[m] && truth[m] <= result.ci_high[m])
        .count();
    covered as f64 / 60.0
}

#[test]
fn bootstrap_intervals_cover_the_true_skill_at_0_and_95_percent_missing() {
    for (missing, n_samples) in [(0.0, 300), (0.95, 6000)] {
        // Six datasets of 60 models: the share is an average over 360 intervals.
        let mean = (0..6)
            .map(|seed| coverage(20 + seed, missing, n_samples))
            .sum::<f64>()
            / 6.0;
        eprintln!("{missing} missing: coverage {mean:.4}");
        assert!((0.90..=0.98).contains(&mean), "{missing}: coverage {mean}");
    }
}

#[test]
fn item_diagnostics_flag_samples_with_flipped_labels() {
    let (_, mut data) = drawn(13, 40, 1000, 0.3, 1);
    // Flip every 50th sample: its right answers become wrong and the reverse.
    let flipped: Vec<usize> = (0..1000).step_by(50).collect();
    for &sample in &flipped {
        let range = data.cardinal.range(sample);
        let values = &mut data.cardinal.values[range.clone()];
        for value in values.iter_mut() {
            *value = 1.0 - *value;
        }
        // Keep best first.
        let models = &mut data.cardinal.models[range];
        let mut pairs: Vec<(u32, f32)> =
            models.iter().copied().zip(values.iter().copied()).collect();
        pairs.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (slot, (model, value)) in pairs.into_iter().enumerate() {
            models[slot] = model;
            values[slot] = value;
        }
    }
    let diagnostics = item_diagnostics(&data, None, &RankOptions::default()).unwrap();
    assert_eq!(diagnostics.samples.len(), 1000);
    let flagged: Vec<usize> = (0..1000).filter(|&s| diagnostics.flagged[s]).collect();
    let found = flagged.iter().filter(|s| flipped.contains(s)).count();
    let recall = found as f64 / flipped.len() as f64;
    let precision = found as f64 / flagged.len().max(1) as f64;
    assert!(recall >= 0.8, "recall {recall}");
    assert!(precision >= 0.8, "precision {precision}");
    // Ordinary samples discriminate positively, around 1.
    let typical: Vec<f64> = (0..1000)
        .filter(|s| !flipped.contains(s))
        .map(|s| diagnostics.discrimination[s])
        .collect();
    let median = {
        let mut sorted = typical.clone();
        sorted.sort_by(f64::total_cmp);
        sorted[sorted.len() / 2]
    };
    assert!(
        (0.7..1.3).contains(&median),
        "median discrimination {median}"
    );
    assert!(diagnostics.difficulty.iter().all(|d| d.is_finite()));
    // After a leaderboard, the diagnostics resume its solution: the same values in fewer
    // passes of the joint fit underneath.
    let options = RankOptions {
        method: Method::Joint,
        interval: Interval::None,
        ..Default::default()
    };
    let board = rank(&data, None, &options).unwrap();
    let resumed = RankOptions {
        initial_solution: board.solution,
        ..RankOptions::default()
    };
    let again = item_diagnostics(&data, None, &resumed).unwrap();
    assert!(
        again.iterations < diagnostics.iterations,
        "{} vs {}",
        again.iterations,
        diagnostics.iterations
    );
    assert_close(&again.discrimination, &diagnostics.discrimination, 1e-5);
    assert_eq!(again.flagged, diagnostics.flagged);
}

#[test]
fn bad_options_and_indexes_are_refused() {
    let (_, data) = drawn(14, 4, 20, 0.0, 1);
    let bad = RankOptions {
        alpha: -1.0,
        ..joint(Interval::None)
    };
    assert!(rank(&data, None, &bad).is_err());
    assert!(item_diagnostics(&data, Some(&[99]), &RankOptions::default()).is_err());
    let mut broken = data.clone();
    broken.cardinal.models[0] = 77;
    assert!(rank(&broken, None, &joint(Interval::None)).is_err());
}
