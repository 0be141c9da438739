//! `Pool::commit_many`: several commits with their own provenances in one manifest
//! update, all or nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod store_common;

use onebench_core::store::{Commit, Metric, Pool};
use onebench_core::Error;
use store_common::*;

fn first_commit() -> Commit {
    Commit {
        samples: vec![sample("fresh", "a fresh question")],
        models: vec![model("newcomer", &[])],
        measurements: Some((
            cardinal(
                &["fresh", "s0"],
                &["newcomer", "m0"],
                &[1.0, 0.0],
                Metric::Binary,
            ),
            provenance("first"),
        )),
    }
}

#[test]
fn later_commits_see_earlier_ones_and_keep_their_own_provenance() {
    let root = tempfile::tempdir().unwrap();
    let directory = pool_dir(&root);
    let mut pool = pool_with(&directory, 1, 1);
    let version = pool.version();
    let second = Commit {
        samples: vec![],
        models: vec![],
        measurements: Some((
            cardinal(&["fresh"], &["m0"], &[0.0], Metric::Binary),
            provenance("second"),
        )),
    };
    let summaries = pool.commit_many(vec![first_commit(), second]).unwrap();
    assert_eq!(pool.version(), version + 1, "one manifest update");
    assert_eq!(summaries.len(), 2);
    assert_eq!(
        (summaries[0].samples.added, summaries[0].models.added),
        (1, 1)
    );
    assert_eq!(summaries[1].measurements.added, 1);
    let rows = pool.cardinal_rows().unwrap();
    let sources: Vec<&str> = rows
        .provenance
        .iter()
        .map(|&index| pool.provenances()[index as usize].source.as_str())
        .collect();
    assert_eq!(sources, ["first", "first", "second"]);
    let reopened = Pool::open(&directory).unwrap();
    assert_eq!(reopened.stats(), pool.stats());
}

#[test]
fn a_bad_later_commit_leaves_nothing_of_the_earlier_ones() {
    let root = tempfile::tempdir().unwrap();
    let directory = pool_dir(&root);
    let mut pool = pool_with(&directory, 1, 1);
    let (version, files) = (pool.version(), listing(&directory));
    // The first commit fixes "fresh" as binary; the second measures it numerically.
    let conflicting = Commit {
        samples: vec![],
        models: vec![],
        measurements: Some((
            cardinal(
                &["s0", "fresh"],
                &["m0", "newcomer"],
                &[0.5, 0.5],
                Metric::NumericHigher,
            ),
            provenance("second"),
        )),
    };
    let refused = pool
        .commit_many(vec![first_commit(), conflicting])
        .unwrap_err();
    assert_eq!(refused.index, 1);
    match refused.error {
        Error::InvalidInput { row, .. } => assert_eq!(row, Some(0)),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    assert_eq!((pool.version(), listing(&directory)), (version, files));
    assert!(pool.sample_index("fresh").is_none());
    assert!(pool.model_index("newcomer").is_none());
}

#[test]
fn nothing_to_commit_changes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let directory = pool_dir(&root);
    let mut pool = pool_with(&directory, 1, 1);
    let version = pool.version();
    assert!(pool.commit_many(vec![]).unwrap().is_empty());
    let again = Commit {
        samples: vec![sample("s0", "Question 0?")],
        ..Commit::default()
    };
    let summaries = pool.commit_many(vec![again]).unwrap();
    assert_eq!(summaries[0].samples.skipped, 1);
    assert_eq!(pool.version(), version);
}
