//! Every validation error names its field and row, and writes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod store_common;

use onebench_core::store::{CardinalBatch, MeasurementBatch, Metric, Pool};
use onebench_core::Error;
use store_common::*;

/// Commits `batch` to a fresh pool (with s0 already binary, s1 pairwise) and checks that
/// it fails with an error whose text holds `expected`, leaving version and files alone.
fn rejected(batch: MeasurementBatch, expected: &str) -> Error {
    let root = tempfile::tempdir().unwrap();
    let directory = pool_dir(&root);
    let mut pool = pool_with(&directory, 4, 3);
    pool.add_measurements(
        cardinal(&["s0"], &["m0"], &[1.0], Metric::Binary),
        provenance("setup"),
    )
    .unwrap();
    pool.add_measurements(
        pairwise(&["s1"], &["m0"], &["m1"], &[0], None),
        provenance("setup"),
    )
    .unwrap();
    let (version, files) = (pool.version(), listing(&directory));
    let error = pool.add_measurements(batch, provenance("bad")).unwrap_err();
    assert!(
        error.to_string().contains(expected),
        "{error:?} lacks {expected:?}"
    );
    assert_eq!(pool.version(), version);
    assert_eq!(
        listing(&directory),
        files,
        "a rejected batch left files behind"
    );
    let reopened = Pool::open(&directory).unwrap();
    assert_eq!(reopened.version(), version);
    assert_eq!(reopened.stats().n_cardinal, 1);
    assert_eq!(reopened.provenances().len(), 2);
    error
}

fn field_and_row(error: &Error) -> (String, Option<usize>) {
    match error {
        Error::InvalidInput { field, row, .. } => (field.clone(), *row),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn unknown_sample_and_model_ids_name_the_row() {
    let error = rejected(
        cardinal(&["s2", "nope"], &["m0", "m1"], &[1.0, 0.0], Metric::Binary),
        "nope",
    );
    assert!(
        matches!(
            error,
            Error::UnknownId {
                kind: "sample",
                row: Some(1),
                ..
            }
        ),
        "{error:?}"
    );
    let error = rejected(
        cardinal(&["s2", "s2"], &["m0", "ghost"], &[1.0, 0.0], Metric::Binary),
        "ghost",
    );
    assert!(
        matches!(
            error,
            Error::UnknownId {
                kind: "model",
                row: Some(1),
                ..
            }
        ),
        "{error:?}"
    );
    let error = rejected(pairwise(&["s1"], &["m0"], &["ghost"], &[0], None), "ghost");
    assert!(
        matches!(
            error,
            Error::UnknownId {
                kind: "model",
                row: Some(0),
                ..
            }
        ),
        "{error:?}"
    );
    let error = rejected(rankings(&["s3"], &[&[("m0", 0), ("ghost", 1)]]), "ghost");
    assert!(
        matches!(
            error,
            Error::UnknownId {
                kind: "model",
                row: Some(0),
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn code_outside_the_dictionary_is_rejected() {
    let mut batch = cardinal(&["s2"], &["m0"], &[1.0], Metric::Binary);
    batch.cardinal[0].0.samples.codes[0] = 7;
    let error = rejected(batch, "outside the dictionary");
    assert_eq!(
        field_and_row(&error),
        ("cardinal[0].samples".into(), Some(0))
    );
}

#[test]
fn non_finite_and_non_binary_values_are_rejected() {
    let error = rejected(
        cardinal(
            &["s2", "s2"],
            &["m0", "m1"],
            &[0.5, f64::NAN],
            Metric::NumericHigher,
        ),
        "finite",
    );
    assert_eq!(
        field_and_row(&error),
        ("cardinal[0].values".into(), Some(1))
    );
    let error = rejected(
        cardinal(&["s2"], &["m0"], &[f64::INFINITY], Metric::NumericLower),
        "finite",
    );
    assert_eq!(
        field_and_row(&error),
        ("cardinal[0].values".into(), Some(0))
    );
    let error = rejected(
        cardinal(&["s2"], &["m0"], &[1e300], Metric::NumericLower),
        "finite",
    );
    assert_eq!(field_and_row(&error).1, Some(0));
    let error = rejected(
        cardinal(&["s2", "s2"], &["m0", "m1"], &[1.0, 0.5], Metric::Binary),
        "not 0 or 1",
    );
    assert_eq!(
        field_and_row(&error),
        ("cardinal[0].values".into(), Some(1))
    );
}

#[test]
fn pairwise_rows_are_checked() {
    let error = rejected(
        pairwise(
            &["s1", "s1"],
            &["m0", "first"],
            &["m1", "m0"],
            &[0, 0],
            None,
        ),
        "both",
    );
    assert_eq!(field_and_row(&error), ("pairwise.model_b".into(), Some(1)));
    let error = rejected(pairwise(&["s1"], &["m0"], &["m1"], &[3], None), "tie");
    assert_eq!(field_and_row(&error), ("pairwise.outcome".into(), Some(0)));
    let error = rejected(
        pairwise(
            &["s1", "s1"],
            &["m0", "m0"],
            &["m1", "m1"],
            &[0, 1],
            Some(&[0.5, 1.5]),
        ),
        "outside",
    );
    assert_eq!(
        field_and_row(&error),
        ("pairwise.probability_b".into(), Some(1))
    );
    let error = rejected(
        pairwise(&["s1"], &["m0"], &["m1"], &[0], Some(&[f64::INFINITY])),
        "outside",
    );
    assert_eq!(field_and_row(&error).0, "pairwise.probability_b");
}

#[test]
fn rankings_are_checked() {
    let error = rejected(
        rankings(&["s3", "s3"], &[&[("m0", 0), ("m1", 1)], &[("m0", 0)]]),
        "at least 2",
    );
    assert_eq!(field_and_row(&error), ("rankings.offsets".into(), Some(1)));
    let error = rejected(rankings(&["s3"], &[&[("m0", 0), ("first", 1)]]), "twice");
    assert_eq!(field_and_row(&error), ("rankings.models".into(), Some(0)));
    let error = rejected(
        rankings(&["s3"], &[&[("m0", 1), ("m1", 0)]]),
        "non-decreasing",
    );
    assert_eq!(
        field_and_row(&error),
        ("rankings.positions".into(), Some(0))
    );
    let mut batch = rankings(&["s3"], &[&[("m0", 0), ("m1", 1)]]);
    batch.rankings.as_mut().unwrap().offsets = vec![0, 3];
    let error = rejected(batch, "end at 2");
    assert_eq!(field_and_row(&error), ("rankings.offsets".into(), None));
}

#[test]
fn mismatched_column_lengths_are_rejected() {
    let mut batch = cardinal(&["s2", "s2"], &["m0", "m1"], &[1.0, 0.0], Metric::Binary);
    batch.cardinal[0].0.values.pop();
    let error = rejected(batch, "rows");
    assert_eq!(field_and_row(&error).1, None);
    let mut batch = pairwise(&["s1"], &["m0"], &["m1"], &[0], Some(&[0.5]));
    batch.pairwise.as_mut().unwrap().probability_b = Some(vec![]);
    let error = rejected(batch, "rows");
    assert_eq!(
        field_and_row(&error),
        ("pairwise.probability_b".into(), None)
    );
    let mut batch = rankings(&["s3"], &[&[("m0", 0), ("m1", 1)]]);
    batch.rankings.as_mut().unwrap().positions.pop();
    assert_eq!(
        field_and_row(&rejected(batch, "rows")).0,
        "rankings.positions"
    );
}

#[test]
fn a_cell_twice_in_one_batch_is_rejected() {
    let batch = cardinal(
        &["s2", "s3", "s2"],
        &["m0", "m0", "first"],
        &[1.0, 0.0, 0.0],
        Metric::Binary,
    );
    let error = rejected(batch, "repeats");
    assert_eq!(
        field_and_row(&error),
        ("cardinal[0].models".into(), Some(2))
    );
}

#[test]
fn a_metric_contradicting_the_samples_is_rejected() {
    // s0 is binary from the setup batch.
    let error = rejected(
        cardinal(
            &["s2", "s0"],
            &["m0", "m1"],
            &[0.5, 0.5],
            Metric::NumericHigher,
        ),
        "binary",
    );
    assert_eq!(
        field_and_row(&error),
        ("cardinal[0].samples".into(), Some(1))
    );
    // s1 is pairwise.
    let error = rejected(rankings(&["s1"], &[&[("m0", 0), ("m1", 1)]]), "pairwise");
    assert_eq!(field_and_row(&error), ("rankings.samples".into(), Some(0)));
    let error = rejected(pairwise(&["s0"], &["m0"], &["m1"], &[0], None), "binary");
    assert_eq!(field_and_row(&error), ("pairwise.samples".into(), Some(0)));
    // Within one batch: s2 becomes binary in the first part, the second part disagrees.
    let mut batch = cardinal(&["s2"], &["m0"], &[1.0], Metric::Binary);
    batch.cardinal.push((
        CardinalBatch {
            samples: ids(&["s3", "s2"]),
            models: ids(&["m0", "m1"]),
            values: vec![2.0, 3.0],
        },
        Metric::NumericLower,
    ));
    let error = rejected(batch, "earlier in this batch");
    assert_eq!(
        field_and_row(&error),
        ("cardinal[1].samples".into(), Some(1))
    );
    let error = rejected(
        cardinal(&["s2"], &["m0"], &[1.0], Metric::Pairwise),
        "must be binary",
    );
    assert_eq!(field_and_row(&error).0, "cardinal[0].metric");
}

#[test]
fn invalid_samples_and_models_write_nothing() {
    let root = tempfile::tempdir().unwrap();
    let directory = pool_dir(&root);
    let mut pool = pool_with(&directory, 2, 2);
    let (version, files) = (pool.version(), listing(&directory));
    let mut bad = sample("s9", "text");
    bad.modality = "audio".into();
    let error = pool
        .add_samples(vec![sample("s8", "fine"), bad])
        .unwrap_err();
    assert_eq!(field_and_row(&error), ("modality".into(), Some(1)));
    let error = pool
        .add_models(vec![model("m7", &[]), model("m8", &["m1"])])
        .unwrap_err();
    assert_eq!(field_and_row(&error), ("aliases".into(), Some(1)));
    assert_eq!((pool.version(), listing(&directory)), (version, files));
    assert_eq!(
        pool.model_index("m7"),
        None,
        "a rejected batch must not leak into memory"
    );
    assert_eq!(pool.sample_index("s8"), None);
}

#[test]
fn a_commit_registers_samples_and_models_together_with_its_measurements() {
    use onebench_core::store::Commit;
    let root = tempfile::tempdir().unwrap();
    let directory = pool_dir(&root);
    let mut pool = pool_with(&directory, 1, 1);
    let (version, files) = (pool.version(), listing(&directory));
    // The new sample and model are named by the batch; its second row is NaN.
    let bad = Commit {
        samples: vec![sample("fresh", "a fresh question")],
        models: vec![model("newcomer", &[])],
        measurements: Some((
            cardinal(
                &["fresh", "fresh"],
                &["newcomer", "m0"],
                &[1.0, f64::NAN],
                Metric::NumericHigher,
            ),
            provenance("bad"),
        )),
    };
    let error = pool.commit(bad).unwrap_err();
    assert_eq!(
        field_and_row(&error),
        ("cardinal[0].values".to_string(), Some(1))
    );
    assert_eq!(pool.version(), version);
    assert_eq!(listing(&directory), files);
    assert!(pool.sample_index("fresh").is_none());
    assert!(pool.model_index("newcomer").is_none());

    let good = Commit {
        samples: vec![sample("fresh", "a fresh question")],
        models: vec![model("newcomer", &[])],
        measurements: Some((
            cardinal(
                &["fresh", "fresh"],
                &["newcomer", "m0"],
                &[1.0, 0.5],
                Metric::NumericHigher,
            ),
            provenance("good"),
        )),
    };
    let summary = pool.commit(good).unwrap();
    assert_eq!(summary.samples.added, 1);
    assert_eq!(summary.models.added, 1);
    assert_eq!(summary.measurements.added, 2);
    assert_eq!(
        pool.version(),
        version + 1,
        "one manifest update for all three"
    );
    let reopened = Pool::open(&directory).unwrap();
    assert_eq!(reopened.stats().n_cardinal, 2);
    assert!(reopened.model_index("newcomer").is_some());
}

#[test]
fn ids_and_names_with_control_or_invisible_characters_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let directory = pool_dir(&root);
    let mut pool = pool_with(&directory, 2, 2);
    let (version, files) = (pool.version(), listing(&directory));
    let hostile = [
        "\u{1b}[2J\u{1b}[31mgpt",
        "nul\u{0}model",
        "evil\u{202e}txt.exe",
        "zero\u{200b}width",
        "line\nbreak",
        "tab\tmodel",
        "c1\u{9b}31m",
    ];
    for name in hostile {
        let error = pool.add_models(vec![model(name, &[])]).unwrap_err();
        assert_eq!(field_and_row(&error), ("id".to_string(), Some(0)));
        assert!(error.to_string().contains("must be printable"), "{error}");
        // The message shows the name escaped, never the raw character.
        assert!(!error.to_string().contains(name), "{error}");
        let error = pool.add_models(vec![model("m0", &[name])]).unwrap_err();
        assert_eq!(field_and_row(&error).0, "aliases");
        let error = pool.add_samples(vec![sample(name, "text")]).unwrap_err();
        assert_eq!(field_and_row(&error), ("id".to_string(), Some(0)));
        let mut record = sample("fresh", "text");
        record.benchmark = name.to_string();
        let error = pool.add_samples(vec![record]).unwrap_err();
        assert_eq!(field_and_row(&error), ("benchmark".to_string(), Some(0)));
    }
    assert_eq!(pool.version(), version);
    assert_eq!(listing(&directory), files);
    // Printable Unicode stays welcome: accents, CJK, emoji.
    pool.add_models(vec![model("modèle-日本-🦙", &["ünïcode"])])
        .unwrap();
    pool.add_samples(vec![sample("échantillon/1", "Qu'est-ce ?")])
        .unwrap();
}
