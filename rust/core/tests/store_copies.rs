//! Sample copies: the same question stored by a second source is kept as a copy
//! (`same_as`) whose id names the original sample, so that both sources' measurements
//! land on one sample and both provenances stay readable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod store_common;

use onebench_core::store::{Commit, Metric, Pool, SampleRecord};
use onebench_core::Error;
use store_common::*;

fn copy(id: &str, of: &str, text: &str) -> SampleRecord {
    SampleRecord {
        benchmark: "other-harness".into(),
        same_as: Some(of.into()),
        ..sample(id, text)
    }
}

fn field_and_row(error: &Error) -> (String, Option<usize>) {
    match error {
        Error::InvalidInput { field, row, .. } => (field.clone(), *row),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn a_copy_names_its_sample_and_measurements_through_it_land_on_that_sample() {
    let root = tempfile::tempdir().unwrap();
    let directory = pool_dir(&root);
    let mut pool = pool_with(&directory, 2, 2);
    pool.add_samples(vec![copy("h/7", "s1", "question 1?")])
        .unwrap();
    assert_eq!(pool.stats().n_samples, 2, "a copy is not a new sample");
    assert_eq!(pool.sample_index("h/7"), pool.sample_index("s1"));
    assert_eq!(pool.sample_copies().len(), 1);
    assert_eq!(pool.sample_copies()[0].benchmark, "other-harness");
    assert!(!pool.sample_copies()[0].content_hash.is_empty());

    pool.add_measurements(
        cardinal(&["s1"], &["m0"], &[1.0], Metric::Binary),
        provenance("first"),
    )
    .unwrap();
    pool.add_measurements(
        cardinal(&["h/7"], &["m1"], &[0.0], Metric::Binary),
        provenance("second"),
    )
    .unwrap();
    let rows = pool.cardinal_rows().unwrap();
    let s1 = pool.sample_index("s1").unwrap();
    assert_eq!(rows.samples, vec![s1, s1]);

    // Reopened (and after a compaction) the copy still resolves.
    let reopened = Pool::open(&directory).unwrap();
    assert_eq!(reopened.sample_index("h/7"), Some(s1));
    assert_eq!(reopened.sample_copies(), pool.sample_copies());
    pool.compact().unwrap();
    let compacted = Pool::open(&directory).unwrap();
    assert_eq!(compacted.sample_index("h/7"), Some(s1));
    assert_eq!(compacted.samples(), reopened.samples());
    assert_eq!(compacted.sample_copies(), reopened.sample_copies());
}

#[test]
fn re_adding_a_copy_is_skipped_and_a_changed_one_is_an_error() {
    let root = tempfile::tempdir().unwrap();
    let mut pool = pool_with(&pool_dir(&root), 1, 1);
    pool.add_samples(vec![copy("h/0", "s0", "question 0?")])
        .unwrap();
    let version = pool.version();
    let again = pool
        .add_samples(vec![copy("h/0", "s0", "question 0?")])
        .unwrap();
    assert_eq!((again.added, again.skipped), (0, 1));
    // The same record without `same_as` (a plain re-import) is present too.
    let plain = SampleRecord {
        same_as: None,
        ..copy("h/0", "s0", "question 0?")
    };
    assert_eq!(pool.add_samples(vec![plain]).unwrap().skipped, 1);
    assert_eq!(pool.version(), version);

    let changed = copy("h/0", "s0", "a different question?");
    let error = pool.add_samples(vec![changed]).unwrap_err();
    assert_eq!(field_and_row(&error), ("id".to_string(), Some(0)));
    assert!(
        error.to_string().contains("as a copy of sample \"s0\""),
        "{error}"
    );
}

#[test]
fn a_copy_of_a_copy_is_stored_as_a_copy_of_the_sample() {
    let root = tempfile::tempdir().unwrap();
    let mut pool = pool_with(&pool_dir(&root), 1, 1);
    pool.add_samples(vec![
        copy("h/0", "s0", "question 0?"),
        copy("i/0", "h/0", "question 0?"),
    ])
    .unwrap();
    let copies = pool.sample_copies();
    assert_eq!(copies[1].same_as.as_deref(), Some("s0"));
    assert_eq!(pool.sample_index("i/0"), pool.sample_index("s0"));
}

#[test]
fn a_copy_of_an_unknown_sample_or_of_itself_is_an_error_naming_the_row() {
    let root = tempfile::tempdir().unwrap();
    let directory = pool_dir(&root);
    let mut pool = pool_with(&directory, 1, 1);
    let files = listing(&directory);
    let error = pool
        .add_samples(vec![sample("fine", "q"), copy("h/1", "nowhere", "q")])
        .unwrap_err();
    assert_eq!(field_and_row(&error), ("same_as".to_string(), Some(1)));
    let error = pool
        .add_samples(vec![copy("s0", "s0", "question 0?")])
        .unwrap_err();
    assert_eq!(field_and_row(&error), ("same_as".to_string(), Some(0)));
    assert_eq!(listing(&directory), files, "nothing written");
    assert!(pool.sample_index("fine").is_none());
}

#[test]
fn a_copy_registered_with_a_bad_batch_is_not_added() {
    let root = tempfile::tempdir().unwrap();
    let directory = pool_dir(&root);
    let mut pool = pool_with(&directory, 1, 1);
    let files = listing(&directory);
    let bad = Commit {
        samples: vec![copy("h/0", "s0", "question 0?")],
        models: vec![],
        measurements: Some((
            cardinal(&["h/0"], &["m0"], &[f64::NAN], Metric::NumericHigher),
            provenance("bad"),
        )),
    };
    assert!(pool.commit(bad).is_err());
    assert!(pool.sample_index("h/0").is_none());
    assert!(pool.sample_copies().is_empty());
    assert_eq!(listing(&directory), files);
}
