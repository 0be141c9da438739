//! Plackett–Luce with alpha = 0 against golden estimates from choix 0.4.1
//! (fixtures/make_fixtures.py): pairwise, top-1 choices and rankings, each fed through
//! every kind of measurement that encodes it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rank_common;

use onebench_core::rank::{rank_with_solver, Interval, RankOptions, Solver};
use onebench_core::Dataset;
use rank_common::Builder;
use serde_json::Value;

fn fixture(name: &str) -> (usize, Value, Vec<f64>) {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    let n_items = value["n_items"].as_u64().unwrap() as usize;
    let params = value["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    (n_items, value["data"].clone(), params)
}

fn mle_options() -> RankOptions {
    RankOptions {
        alpha: 0.0,
        tolerance: 1e-11,
        max_iterations: 100_000,
        interval: Interval::None,
        ..Default::default()
    }
}

fn assert_matches(data: &Dataset, expected: &[f64]) {
    for solver in [Solver::Squarem, Solver::Lbfgs] {
        let result = rank_with_solver(data, None, &mle_options(), solver).unwrap();
        assert!(result.converged, "{solver:?} did not converge");
        assert!(result.ranked.iter().all(|&r| r));
        for (model, (got, want)) in result.scores.iter().zip(expected).enumerate() {
            assert!(
                (got - want).abs() < 1e-6,
                "{solver:?} model {model}: {got} vs choix {want}"
            );
        }
    }
}

fn as_u32(value: &Value) -> u32 {
    value.as_u64().unwrap() as u32
}

#[test]
fn pairwise_matches_choix_ilsr_pairwise() {
    let (n_items, data, expected) = fixture("choix_pairwise.json");
    let pairs: Vec<(u32, u32)> = data
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (as_u32(&p[0]), as_u32(&p[1])))
        .collect();
    // As comparisons, one per sample.
    let mut comparisons = Builder::new(n_items);
    for &(winner, loser) in &pairs {
        comparisons.sample().comparison(winner, loser, 1.0);
    }
    assert_matches(&comparisons.build(), &expected);
    // As a credit for b (weight_a = 0), all in one sample.
    let mut reversed = Builder::new(n_items);
    reversed.sample();
    for &(winner, loser) in &pairs {
        reversed.comparison(loser, winner, 0.0);
    }
    assert_matches(&reversed.build(), &expected);
    // As binary samples of two models.
    let mut binary = Builder::new(n_items);
    for &(winner, loser) in &pairs {
        binary
            .sample()
            .cardinal(&[(winner, 1.0), (loser, 0.0)], false);
    }
    assert_matches(&binary.build(), &expected);
}

#[test]
fn top1_matches_choix_ilsr_top1() {
    let (n_items, data, expected) = fixture("choix_top1.json");
    let choices: Vec<(u32, Vec<u32>)> = data
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                as_u32(&c[0]),
                c[1].as_array().unwrap().iter().map(as_u32).collect(),
            )
        })
        .collect();
    // As binary samples: one model right, the others wrong.
    let mut binary = Builder::new(n_items);
    for (winner, losers) in &choices {
        let mut entries = vec![(*winner, 1.0f32)];
        entries.extend(losers.iter().map(|&l| (l, 0.0f32)));
        binary.sample().cardinal(&entries, false);
    }
    assert_matches(&binary.build(), &expected);
    // As rankings with the losers tied last.
    let mut rankings = Builder::new(n_items);
    for (winner, losers) in &choices {
        rankings.sample().ranking(&[&[*winner], losers]);
    }
    assert_matches(&rankings.build(), &expected);
    // As a lower-is-better numeric sample where the losers tie.
    let mut numeric = Builder::new(n_items);
    for (winner, losers) in &choices {
        let mut entries = vec![(*winner, 0.5f32)];
        entries.extend(losers.iter().map(|&l| (l, 7.0f32)));
        numeric.sample().cardinal(&entries, true);
    }
    assert_matches(&numeric.build(), &expected);
}

#[test]
fn rankings_match_choix_ilsr_rankings() {
    let (n_items, data, expected) = fixture("choix_rankings.json");
    let orders: Vec<Vec<u32>> = data
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().iter().map(as_u32).collect())
        .collect();
    let mut rankings = Builder::new(n_items);
    for order in &orders {
        let groups: Vec<&[u32]> = order.chunks(1).collect();
        rankings.sample().ranking(&groups);
    }
    assert_matches(&rankings.build(), &expected);
    // As numeric samples with distinct values, several rankings in one sample.
    let mut numeric = Builder::new(n_items);
    for pair in orders.chunks(2) {
        numeric.sample();
        for order in pair {
            let groups: Vec<&[u32]> = order.chunks(1).collect();
            numeric.ranking(&groups);
        }
    }
    assert_matches(&numeric.build(), &expected);
    let mut cardinal = Builder::new(n_items);
    for order in &orders {
        let entries: Vec<(u32, f32)> = order
            .iter()
            .enumerate()
            .map(|(p, &m)| (m, p as f32 * 0.25))
            .collect();
        cardinal.sample().cardinal(&entries, true);
    }
    assert_matches(&cardinal.build(), &expected);
}

#[test]
fn lsr_rankings_is_not_the_mle() {
    // choix.lsr_rankings is a single spectral step; documents why the goldens use ILSR.
    let path = format!(
        "{}/tests/fixtures/choix_rankings.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let value: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let lsr: Vec<f64> = value["lsr_params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let (_, _, ilsr) = fixture("choix_rankings.json");
    let gap = lsr
        .iter()
        .zip(&ilsr)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(gap > 1e-3 && gap < 0.5, "gap {gap}");
}
