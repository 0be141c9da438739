//! Round trips of every kind of record and measurement, through reopen.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod store_common;

use onebench_core::store::{content_hash, CardinalBatch, MeasurementBatch, Metric, Pool};
use onebench_core::Error;
use store_common::*;

#[test]
fn samples_and_models_round_trip_through_reopen() {
    let root = tempfile::tempdir().unwrap();
    let directory = pool_dir(&root);
    let pool = pool_with(&directory, 3, 2);
    assert_eq!(pool.version(), 2);
    let samples = pool.samples().to_vec();
    let models = pool.models().to_vec();
    drop(pool);
    let reopened = Pool::open(&directory).unwrap();
    assert_eq!(reopened.samples(), &samples[..]);
    assert_eq!(reopened.models(), &models[..]);
    assert_eq!(reopened.sample_index("s2"), Some(2));
    assert_eq!(reopened.model_index("m1"), Some(1));
    assert_eq!(
        reopened.samples()[1].content_hash,
        content_hash("Question 1?")
    );
    assert_eq!(reopened.sample_metrics(), &[None, None, None]);
}

#[test]
fn content_hash_normalises_case_and_whitespace() {
    assert_eq!(
        content_hash("What  is\n 2+2?"),
        content_hash("what is 2+2?")
    );
    assert_ne!(content_hash("what is 2+2?"), content_hash("what is 2+3?"));
    assert_eq!(content_hash("x").len(), 16);
}

#[test]
fn identical_sample_is_skipped_and_different_one_is_an_error() {
    let root = tempfile::tempdir().unwrap();
    let mut pool = pool_with(&pool_dir(&root), 2, 1);
    let report = pool
        .add_samples(vec![sample("s0", "Question 0?"), sample("new", "New?")])
        .unwrap();
    assert_eq!((report.added, report.skipped), (1, 1));
    let error = pool
        .add_samples(vec![sample("s1", "Changed?")])
        .unwrap_err();
    assert!(
        matches!(error, Error::InvalidInput { row: Some(0), .. }),
        "{error}"
    );
    assert!(error.to_string().contains("s1"));
}

#[test]
fn aliases_resolve_and_merge_and_must_not_collide() {
    let root = tempfile::tempdir().unwrap();
    let directory = pool_dir(&root);
    let mut pool = pool_with(&directory, 1, 2);
    assert_eq!(pool.model_index("first"), Some(0));
    assert_eq!(
        pool.model_index("First"),
        None,
        "aliases are case-sensitive"
    );
    let report = pool
        .add_models(vec![model("m1", &["second", "m1-again"])])
        .unwrap();
    assert_eq!(report.added, 1);
    assert_eq!(pool.model_index("second"), Some(1));
    let same = pool.add_models(vec![model("m1", &["second"])]).unwrap();
    assert_eq!((same.added, same.skipped), (0, 1));
    let clash = pool.add_models(vec![model("m2", &["first"])]).unwrap_err();
    assert!(clash.to_string().contains("first"), "{clash}");
    let id_clash = pool.add_models(vec![model("second", &[])]).unwrap_err();
    assert!(matches!(id_clash, Error::InvalidInput { .. }), "{id_clash}");
    drop(pool);
    let pool = Pool::open(&directory).unwrap();
    assert_eq!(pool.model_index("m1-again"), Some(1));
    assert_eq!(pool.models()[1].aliases, vec!["second", "m1-again"]);
    assert_eq!(pool.models().len(), 2);
}

#[test]
fn cardinal_measurements_round_trip_with_aliases_and_metrics() {
    let root = tempfile::tempdir().unwrap();
    let directory = pool_dir(&root);
    let mut pool = pool_with(&directory, 3, 3);
    let binary = cardinal(
        &["s0", "s0", "s0"],
        &["first", "m1", "m2"],
        &[1.0, 0.0, 1.0],
        Metric::Binary,
    );
    let report = pool
        .add_measurements(binary, provenance("harness"))
        .unwrap();
    assert_eq!(report.added, 3);
    let lower = cardinal(
        &["s1", "s1"],
        &["m0", "m2"],
        &[2.5, 0.5],
        Metric::NumericLower,
    );
    pool.add_measurements(lower, provenance("latency")).unwrap();
    drop(pool);
    let mut pool = Pool::open(&directory).unwrap();
    assert_eq!(
        pool.sample_metrics(),
        &[Some(Metric::Binary), Some(Metric::NumericLower), None]
    );
    let rows = pool.cardinal_rows().unwrap();
    assert_eq!(rows.samples, vec![0, 0, 0, 1, 1]);
    assert_eq!(rows.models, vec![0, 1, 2, 0, 2]);
    assert_eq!(rows.values, vec![1.0, 0.0, 1.0, 2.5, 0.5]);
    assert_eq!(rows.provenance, vec![0, 0, 0, 1, 1]);
    assert_eq!(pool.provenances()[1].source, "latency");
    let dataset = pool.dataset().unwrap();
    assert_eq!((dataset.n_samples, dataset.n_models), (3, 3));
    assert_eq!(dataset.cardinal.offsets, vec![0, 3, 5, 5]);
    // Lower is better on s1: m2 (0.5) first.
    assert_eq!(&dataset.cardinal.models[3..5], &[2, 0]);
    let stats = pool.stats();
    assert_eq!(
        (stats.n_cardinal, stats.n_samples, stats.n_models),
        (5, 3, 3)
    );
    assert!(stats.bytes_on_disk > 5 * 12);
}

#[test]
fn repeated_measurement_across_batches_is_averaged() {
    let root = tempfile::tempdir().unwrap();
    let mut pool = pool_with(&pool_dir(&root), 1, 2);
    pool.add_measurements(
        cardinal(
            &["s0", "s0"],
            &["m0", "m1"],
            &[1.0, 4.0],
            Metric::NumericHigher,
        ),
        provenance("a"),
    )
    .unwrap();
    pool.add_measurements(
        cardinal(&["s0"], &["m0"], &[3.0], Metric::NumericHigher),
        provenance("b"),
    )
    .unwrap();
    let dataset = pool.dataset().unwrap();
    assert_eq!(dataset.cardinal.models, vec![1, 0]);
    assert_eq!(dataset.cardinal.values, vec![4.0, 2.0]);
}

#[test]
fn pairwise_and_rankings_round_trip() {
    let root = tempfile::tempdir().unwrap();
    let directory = pool_dir(&root);
    let mut pool = pool_with(&directory, 3, 3);
    let comparisons = pairwise(
        &["s0", "s1", "s0"],
        &["m0", "m1", "m2"],
        &["m1", "first", "m0"],
        &[0, 2, 1],
        Some(&[f64::NAN, f64::NAN, 0.75]),
    );
    pool.add_measurements(comparisons, provenance("arena"))
        .unwrap();
    let ranked = rankings(
        &["s2", "s2"],
        &[&[("m2", 0), ("m0", 1), ("m1", 1)], &[("m1", 0), ("m0", 1)]],
    );
    pool.add_measurements(ranked, provenance("ranker")).unwrap();
    drop(pool);
    let mut pool = Pool::open(&directory).unwrap();
    assert_eq!(
        pool.sample_metrics(),
        &[
            Some(Metric::Pairwise),
            Some(Metric::Pairwise),
            Some(Metric::Ranking)
        ]
    );
    let rows = pool.pairwise_rows().unwrap();
    assert_eq!(rows.samples, vec![0, 1, 0]);
    assert_eq!(rows.model_b, vec![1, 0, 0]);
    assert_eq!(rows.outcome, vec![0, 2, 1]);
    assert!(rows.probability_b[0].is_nan());
    assert_eq!(rows.probability_b[2], 0.75);
    let ranking_rows = pool.ranking_rows().unwrap();
    assert_eq!(ranking_rows.offsets, vec![0, 3, 5]);
    assert_eq!(ranking_rows.models, vec![2, 0, 1, 1, 0]);
    assert_eq!(ranking_rows.positions, vec![0, 1, 1, 0, 1]);
    assert_eq!(ranking_rows.provenance, vec![1, 1]);
    let dataset = pool.dataset().unwrap();
    assert_eq!(dataset.pairwise.offsets, vec![0, 2, 3, 3]);
    assert_eq!(dataset.pairwise.model_a, vec![0, 2, 1]);
    assert_eq!(dataset.pairwise.weight_a, vec![1.0, 0.25, 0.5]);
    assert_eq!(dataset.rankings.offsets, vec![0, 0, 0, 2]);
    assert_eq!(dataset.rankings.ranking_offsets, vec![0, 3, 5]);
    assert_eq!(dataset.rankings.groups, vec![0, 1, 1, 0, 1]);
    assert_eq!(dataset.n_measurements(), 5);
}

#[test]
fn one_batch_of_several_kinds_commits_one_version() {
    let root = tempfile::tempdir().unwrap();
    let mut pool = pool_with(&pool_dir(&root), 4, 3);
    let mut batch = cardinal(&["s0"], &["m0"], &[1.0], Metric::Binary);
    batch.cardinal.push((
        CardinalBatch {
            samples: ids(&["s1"]),
            models: ids(&["m1"]),
            values: vec![0.3],
        },
        Metric::NumericHigher,
    ));
    batch.pairwise = pairwise(&["s2"], &["m0"], &["m1"], &[0], None).pairwise;
    batch.rankings = rankings(&["s3"], &[&[("m0", 0), ("m2", 1)]]).rankings;
    let before = pool.version();
    let report = pool.add_measurements(batch, provenance("mixed")).unwrap();
    assert_eq!((report.version, report.added), (before + 1, 4));
    let stats = pool.stats();
    assert_eq!(
        (stats.n_cardinal, stats.n_pairwise, stats.n_rankings),
        (2, 1, 1)
    );
    assert_eq!(
        pool.sample_metrics(),
        &[
            Some(Metric::Binary),
            Some(Metric::NumericHigher),
            Some(Metric::Pairwise),
            Some(Metric::Ranking)
        ]
    );
}

#[test]
fn dictionary_codes_are_resolved_once_per_entry() {
    let root = tempfile::tempdir().unwrap();
    let mut pool = pool_with(&pool_dir(&root), 2, 2);
    let column = |dictionary: &[&str], codes: &[u32]| onebench_core::store::IdColumn {
        dictionary: dictionary.iter().map(|id| id.to_string()).collect(),
        codes: codes.to_vec(),
    };
    let batch = MeasurementBatch {
        cardinal: vec![(
            CardinalBatch {
                samples: column(&["s1", "s0"], &[0, 0, 1, 1]),
                models: column(&["first", "m1", "unused-unknown"], &[0, 1, 0, 1]),
                values: vec![1.0, 0.0, 0.0, 1.0],
            },
            Metric::Binary,
        )],
        ..Default::default()
    };
    pool.add_measurements(batch, provenance("dictionary"))
        .unwrap();
    let rows = pool.cardinal_rows().unwrap();
    assert_eq!(rows.samples, vec![1, 1, 0, 0]);
    assert_eq!(rows.models, vec![0, 1, 0, 1]);
}

#[test]
fn create_refuses_a_non_empty_directory_and_open_refuses_a_non_pool() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("file"), b"x").unwrap();
    assert!(matches!(
        Pool::create(root.path()),
        Err(Error::NotAPool { .. })
    ));
    assert!(matches!(
        Pool::open(root.path()),
        Err(Error::NotAPool { .. })
    ));
    let mut empty = Pool::create(&root.path().join("empty")).unwrap();
    assert_eq!(empty.version(), 0);
    assert!(!empty.refresh().unwrap(), "nothing changed");
    assert_eq!(empty.dataset().unwrap().n_measurements(), 0);
}
