//! Every baseline on a tiny case worked out by hand: three models, a binary sample, a
//! lower-is-better numeric sample, two comparisons (one a tie) and a ranking with a tie.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_range_loop)]

mod rank_common;

use onebench_core::rank::{rank, Interval, Method, RankOptions, RankResult};
use onebench_core::Dataset;
use rank_common::Builder;

fn tiny() -> Dataset {
    let mut builder = Builder::new(3);
    builder
        .sample()
        .cardinal(&[(0, 1.0), (1, 0.0), (2, 1.0)], false);
    builder
        .sample()
        .cardinal(&[(0, 2.0), (1, 1.0), (2, 3.0)], true);
    builder.sample().comparison(0, 1, 0.5).comparison(2, 1, 1.0);
    builder.sample().ranking(&[&[2], &[0, 1]]);
    builder.build()
}

fn run(method: Method, interval: Interval) -> RankResult {
    let options = RankOptions {
        method,
        alpha: 0.0,
        interval,
        tolerance: 1e-12,
        ..Default::default()
    };
    rank(&tiny(), None, &options).unwrap()
}

fn assert_close(got: &[f64], want: &[f64]) {
    for (model, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() < 1e-12, "model {model}: {g} vs {w}");
    }
}

#[test]
fn mean_scores_by_hand() {
    // Model 0: binary 1, numeric -2, tie 0.5, ranking position 1.5 of 0..2 -> 0.25.
    // Model 1: 0, -1, 0.5 and 0, 0.25. Model 2: 1, -3, 1, 1.
    let result = run(Method::Mean, Interval::Fisher);
    assert_close(&result.scores, &[-0.25 / 4.0, -0.25 / 5.0, 0.0]);
    assert_eq!(result.rank, vec![3, 2, 1]);
    // The mean's own interval (a normal one: the numeric scores leave [0, 1]), and rank
    // ranges simulated from it; no stand-in, so no note.
    for model in 0..3 {
        assert!(result.ci_low[model] < result.scores[model], "model {model}");
        assert!(
            result.scores[model] < result.ci_high[model],
            "model {model}"
        );
        assert!(result.rank_low[model] >= 1 && result.rank_low[model] <= result.rank[model]);
        assert!(result.rank[model] <= result.rank_high[model] && result.rank_high[model] <= 3);
    }
    assert!(result.notes.is_empty(), "{:?}", result.notes);
}

#[test]
fn a_method_without_likelihood_gets_the_bootstrap_with_a_note() {
    let result = run(Method::Borda, Interval::Fisher);
    assert_eq!(result.notes.len(), 1, "{:?}", result.notes);
    assert!(result.notes[0].contains("borda has no likelihood"));
    assert!(result.notes[0].contains("bootstrap replicates"));
    for model in 0..3 {
        assert!(
            result.ci_low[model] <= result.ci_high[model],
            "model {model}"
        );
        assert!(result.rank_low[model] >= 1 && result.rank_high[model] <= 3);
    }
}

#[test]
fn no_intervals_asked_leaves_the_rank_ranges_unknown() {
    let result = run(Method::Mean, Interval::None);
    assert!(result.ci_low.iter().all(|v| v.is_nan()));
    assert!(result
        .rank_low
        .iter()
        .chain(&result.rank_high)
        .all(|&r| r == 0));
}

#[test]
fn borda_scores_by_hand() {
    // (beaten + ties / 2) / (len - 1), averaged over the lists (comparisons are lists of 2).
    let result = run(Method::Borda, Interval::None);
    assert_close(&result.scores, &[2.0 / 4.0, 1.75 / 5.0, 2.75 / 4.0]);
    assert_eq!(result.rank, vec![2, 3, 1]);
}

#[test]
fn elo_ratings_by_hand() {
    // The battles in data order, written out by hand: the binary sample (0 and 2 right,
    // 1 wrong), the lower-is-better numeric sample (1 < 0 < 2), the two comparisons (a
    // tie, then 2 over 1) and the ranking (2 over the tied 0 and 1).
    let battles = [
        (0, 1, 1.0),
        (2, 1, 1.0),
        (1, 0, 1.0),
        (1, 2, 1.0),
        (0, 2, 1.0),
        (0, 1, 0.5),
        (2, 1, 1.0),
        (2, 0, 1.0),
        (2, 1, 1.0),
    ];
    let mut ratings = [1000.0f64; 3];
    for (a, b, credit) in battles {
        let expected = 1.0 / (1.0 + 10f64.powf((ratings[b] - ratings[a]) / 400.0));
        let change = 4.0 * (credit - expected);
        ratings[a] += change;
        ratings[b] -= change;
    }
    let result = run(Method::Elo, Interval::None);
    assert_close(&result.scores, &ratings);
    assert_eq!(result.rank, vec![2, 3, 1]);
}

#[test]
fn bradley_terry_solves_the_hand_counted_score_equations() {
    // Pair counts by hand (ties half each way): wins[i][j] = times i beat j.
    let wins = [[0.0, 2.0, 1.5], [2.0, 0.0, 1.0], [1.5, 3.0, 0.0]];
    let result = run(Method::BradleyTerry, Interval::Fisher);
    assert!(result.converged);
    let beta = &result.scores;
    assert!(beta.iter().sum::<f64>().abs() < 1e-12);
    let p = |i: usize, j: usize| 1.0 / (1.0 + (beta[j] - beta[i]).exp());
    for i in 0..3 {
        let observed: f64 = wins[i].iter().sum();
        let expected: f64 = (0..3)
            .filter(|&j| j != i)
            .map(|j| (wins[i][j] + wins[j][i]) * p(i, j))
            .sum();
        assert!(
            (observed - expected).abs() < 1e-9,
            "model {i}: {observed} vs {expected}"
        );
    }
    // Fisher: the pseudo-inverse of the BT information gives the centred variances.
    let information = nalgebra::DMatrix::from_fn(3, 3, |i, j| {
        if i == j {
            (0..3)
                .filter(|&k| k != i)
                .map(|k| (wins[i][k] + wins[k][i]) * p(i, k) * p(k, i))
                .sum()
        } else {
            -(wins[i][j] + wins[j][i]) * p(i, j) * p(j, i)
        }
    });
    let covariance = information.pseudo_inverse(1e-12).unwrap();
    for i in 0..3 {
        let half_width = (result.ci_high[i] - result.ci_low[i]) / 2.0;
        let want = 1.959963984540054 * covariance[(i, i)].sqrt();
        assert!(
            (half_width - want).abs() < 1e-6,
            "model {i}: {half_width} vs {want}"
        );
    }
}

#[test]
fn plackett_luce_differs_from_pair_expansion() {
    // The same data through PL (lists are not expanded into pairs) gives another fit.
    let pl = run(Method::PlackettLuce, Interval::None);
    let bt = run(Method::BradleyTerry, Interval::None);
    assert!(pl.converged);
    let gap = pl
        .scores
        .iter()
        .zip(&bt.scores)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(gap > 1e-3);
}

#[test]
fn every_method_bootstraps() {
    for method in [
        Method::PlackettLuce,
        Method::BradleyTerry,
        Method::Elo,
        Method::Borda,
        Method::Mean,
    ] {
        let result = run(
            method,
            Interval::Bootstrap {
                replicates: 50,
                seed: 9,
            },
        );
        for model in 0..3 {
            assert!(result.ci_low[model] <= result.ci_high[model], "{method:?}");
            assert!(
                result.rank_low[model] <= result.rank_high[model],
                "{method:?}"
            );
            assert!(
                result.rank_low[model] >= 1 && result.rank_high[model] <= 3,
                "{method:?}"
            );
        }
    }
}

#[test]
fn models_with_the_same_information_share_a_rank() {
    // Models 0 and 1 answer every binary sample alike; 2 and 3 differ from them. The
    // joint model ties 0 and 1 in exact arithmetic (same number right on the same
    // samples) and its fit leaves them ulps apart: the rank must still be shared.
    // Sample s: models 0 and 1 right on odd s, model 2 on s = 0 and 3, model 3 on s < 5.
    let answers: Vec<[f32; 4]> = (0..6)
        .map(|s| {
            let odd = f32::from(u8::from(s % 2 == 1));
            [
                odd,
                odd,
                f32::from(u8::from(s % 3 == 0)),
                f32::from(u8::from(s < 5)),
            ]
        })
        .collect();
    let mut builder = Builder::new(4);
    for row in answers {
        let cells: Vec<(u32, f32)> = row
            .iter()
            .enumerate()
            .map(|(m, &v)| (m as u32, v))
            .collect();
        builder.sample().cardinal(&cells, false);
    }
    let data = builder.build();
    for method in [
        Method::Joint,
        Method::PlackettLuce,
        Method::BradleyTerry,
        Method::Mean,
        Method::Borda,
    ] {
        let options = RankOptions {
            method,
            alpha: if method == Method::Joint { 0.1 } else { 1.0 },
            interval: Interval::None,
            ..Default::default()
        };
        let result = rank(&data, None, &options).unwrap();
        assert!(
            (result.scores[0] - result.scores[1]).abs() < 1e-9,
            "{method:?}: {:?}",
            result.scores
        );
        assert_eq!(
            result.rank[0], result.rank[1],
            "{method:?}: {:?}",
            result.rank
        );
        // Competition ranking: each rank is 1 + the number of models ranked strictly
        // ahead, so the model after a tied pair skips the shared place.
        for &own in &result.rank {
            let ahead = result.rank.iter().filter(|&&other| other < own).count() as u32;
            assert_eq!(own, 1 + ahead, "{method:?}: {:?}", result.rank);
        }
    }
}
