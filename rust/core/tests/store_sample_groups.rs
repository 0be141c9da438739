//! The dataset carries, per sample, the kind of its values (from the store's metric), its
//! benchmark, and its stratum (benchmark refined by category / subject / difficulty).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod store_common;

use onebench_core::data::SampleKind;
use onebench_core::store::{Metric, Pool};
use store_common::*;

fn tagged(id: &str, benchmark: &str, pairs: &[(&str, &str)]) -> onebench_core::store::SampleRecord {
    let mut record = sample(id, &format!("Question {id}?"));
    record.benchmark = benchmark.into();
    record.metadata = pairs
        .iter()
        .map(|(key, value)| (key.to_string(), serde_json::json!(value)))
        .collect();
    record
}

#[test]
fn dataset_knows_each_samples_kind_benchmark_and_stratum() {
    let root = tempfile::tempdir().unwrap();
    let directory = pool_dir(&root);
    let mut pool = Pool::create(&directory).unwrap();
    pool.add_samples(vec![
        tagged("a", "mmlu", &[("category", "law")]),
        tagged("b", "gsm", &[]),
        tagged("c", "mmlu", &[("category", "math"), ("src", "x")]),
        tagged("d", "mmlu", &[("category", "law"), ("src", "y")]),
        tagged("e", "gsm", &[("difficulty", "hard")]),
        tagged("f", "mmlu", &[]),
    ])
    .unwrap();
    pool.add_models(vec![model("m0", &[]), model("m1", &[])])
        .unwrap();
    let provenance = provenance("test");
    pool.add_measurements(
        cardinal(&["a", "c"], &["m0", "m1"], &[1.0, 0.0], Metric::Binary),
        provenance.clone(),
    )
    .unwrap();
    pool.add_measurements(
        cardinal(&["b"], &["m0"], &[0.5], Metric::NumericLower),
        provenance.clone(),
    )
    .unwrap();
    pool.add_measurements(
        cardinal(&["e"], &["m1"], &[3.0], Metric::NumericHigher),
        provenance,
    )
    .unwrap();
    drop(pool);
    let mut pool = Pool::open(&directory).unwrap();
    let data = pool.dataset().unwrap();
    use SampleKind::*;
    assert_eq!(
        data.sample_kinds,
        vec![
            Binary,
            NumericLower,
            Binary,
            Unknown,
            NumericHigher,
            Unknown
        ]
    );
    // Benchmarks in order of first use: mmlu 0, gsm 1.
    assert_eq!(data.benchmarks, vec![0, 1, 0, 0, 1, 0]);
    // Strata split mmlu by category (other metadata such as `src` does not split) and
    // gsm by difficulty; every stratum lies within one benchmark.
    let strata = &data.strata;
    assert_eq!(strata[0], strata[3], "same benchmark and category");
    assert_ne!(strata[0], strata[2], "law and math differ");
    assert_ne!(strata[0], strata[5], "a category and none differ");
    assert_ne!(strata[1], strata[4], "difficulty splits gsm");
    let distinct: std::collections::BTreeSet<u32> = strata.iter().copied().collect();
    assert_eq!(distinct.len(), 5);
    assert_eq!(data.stratum(3), strata[3]);
    assert_eq!(data.benchmark(4), 1);
}

#[test]
fn a_dataset_without_sample_groups_puts_every_sample_in_one() {
    let data = onebench_core::Dataset::empty(3, 2);
    assert_eq!(data.sample_kind(2), SampleKind::Unknown);
    assert_eq!(data.benchmark(2), 0);
    assert_eq!(data.stratum(2), 0);
}
