//! Corruption is detected and named; torn commits (including real SIGKILLed writers)
//! leave whole batches or nothing; two handles on one pool see each other's commits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod store_common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use onebench_core::store::{CardinalBatch, MeasurementBatch, Metric, Pool};
use onebench_core::Error;
use rand::Rng;
use store_common::*;

fn segment_files(directory: &Path) -> Vec<PathBuf> {
    listing(directory)
        .into_iter()
        .filter(|name| name.ends_with(".seg"))
        .map(|name| directory.join(name))
        .collect()
}

/// A pool with a few measurements; returns its directory and the cardinal segment.
fn small_pool(root: &tempfile::TempDir) -> (PathBuf, PathBuf) {
    let directory = pool_dir(root);
    let mut pool = pool_with(&directory, 3, 3);
    pool.add_measurements(
        cardinal(&["s0", "s1"], &["m0", "m1"], &[1.0, 0.0], Metric::Binary),
        provenance("a"),
    )
    .unwrap();
    let segment = segment_files(&directory)
        .into_iter()
        .find(|path| path.to_string_lossy().contains("cardinal"))
        .unwrap();
    (directory, segment)
}

fn assert_corrupt_naming(directory: &Path, file: &Path) {
    match Pool::open(directory) {
        Err(Error::Corrupt { path, reason }) => {
            assert_eq!(path, file, "wrong file named ({reason})")
        }
        Err(other) => panic!("expected Corrupt naming {file:?}, got {other:?}"),
        Ok(_) => panic!("corrupt pool opened"),
    }
}

#[test]
fn a_flipped_byte_in_any_segment_is_named() {
    let root = tempfile::tempdir().unwrap();
    let (directory, _) = small_pool(&root);
    for segment in segment_files(&directory) {
        let original = std::fs::read(&segment).unwrap();
        for at in [0, 20, original.len() / 2, original.len() - 1] {
            let mut bytes = original.clone();
            bytes[at] ^= 0x40;
            std::fs::write(&segment, &bytes).unwrap();
            assert_corrupt_naming(&directory, &segment);
        }
        std::fs::write(&segment, &original).unwrap();
    }
    Pool::open(&directory).unwrap();
}

#[test]
fn a_truncated_or_missing_segment_is_named() {
    let root = tempfile::tempdir().unwrap();
    let (directory, segment) = small_pool(&root);
    let original = std::fs::read(&segment).unwrap();
    std::fs::write(&segment, &original[..original.len() - 5]).unwrap();
    assert_corrupt_naming(&directory, &segment);
    std::fs::remove_file(&segment).unwrap();
    assert_corrupt_naming(&directory, &segment);
}

#[test]
fn a_truncated_or_garbled_manifest_is_named() {
    let root = tempfile::tempdir().unwrap();
    let (directory, _) = small_pool(&root);
    let manifest = directory.join("MANIFEST");
    let original = std::fs::read(&manifest).unwrap();
    for length in [0, 10, original.len() / 2, original.len() - 3] {
        std::fs::write(&manifest, &original[..length]).unwrap();
        assert_corrupt_naming(&directory, &manifest);
    }
    let mut garbled = original.clone();
    garbled[5] ^= 1;
    std::fs::write(&manifest, &garbled).unwrap();
    assert_corrupt_naming(&directory, &manifest);
}

#[test]
fn an_orphan_from_a_torn_commit_is_ignored_then_removed() {
    let root = tempfile::tempdir().unwrap();
    let (directory, segment) = small_pool(&root);
    // A torn commit: its segment and temporary manifest were written, the rename never happened.
    let orphan = directory.join("000000000099-cardinal-deadbeef.seg");
    std::fs::copy(&segment, &orphan).unwrap();
    std::fs::File::create(directory.join("MANIFEST.tmp"))
        .unwrap()
        .write_all(b"{\"torn")
        .unwrap();
    let mut pool = Pool::open(&directory).unwrap();
    assert_eq!(pool.stats().n_cardinal, 2);
    pool.add_measurements(
        cardinal(&["s2"], &["m2"], &[1.0], Metric::Binary),
        provenance("b"),
    )
    .unwrap();
    assert!(
        !orphan.exists(),
        "the writer removes orphans under the lock"
    );
    assert!(!directory.join("MANIFEST.tmp").exists());
    assert_eq!(Pool::open(&directory).unwrap().stats().n_cardinal, 3);
}

#[test]
fn two_handles_see_and_interleave_each_others_commits() {
    let root = tempfile::tempdir().unwrap();
    let directory = pool_dir(&root);
    let mut first = pool_with(&directory, 4, 2);
    let mut second = Pool::open(&directory).unwrap();
    first
        .add_measurements(
            cardinal(&["s0"], &["m0"], &[1.0], Metric::Binary),
            provenance("first-1"),
        )
        .unwrap();
    assert_eq!(
        second.stats().n_cardinal,
        0,
        "a reader keeps its version until refresh"
    );
    assert!(second.refresh().unwrap());
    assert!(!second.refresh().unwrap());
    assert_eq!(second.stats().n_cardinal, 1);
    // The second handle is stale about s1 (first fixes it binary), so its commit must
    // see that under the lock and reject a numeric row on s1.
    first
        .add_measurements(
            cardinal(&["s1"], &["m0"], &[0.0], Metric::Binary),
            provenance("first-2"),
        )
        .unwrap();
    let error = second
        .add_measurements(
            cardinal(&["s1"], &["m1"], &[0.5], Metric::NumericHigher),
            provenance("second-bad"),
        )
        .unwrap_err();
    assert!(error.to_string().contains("binary"), "{error}");
    second
        .add_measurements(
            cardinal(&["s2"], &["m1"], &[0.5], Metric::NumericHigher),
            provenance("second-1"),
        )
        .unwrap();
    first.add_samples(vec![sample("late", "Late?")]).unwrap();
    second
        .add_measurements(
            cardinal(&["late"], &["m1"], &[1.0], Metric::Binary),
            provenance("second-2"),
        )
        .unwrap();
    first.refresh().unwrap();
    let sources: Vec<&str> = first
        .provenances()
        .iter()
        .map(|provenance| provenance.source.as_str())
        .collect();
    assert_eq!(sources, ["first-1", "first-2", "second-1", "second-2"]);
    assert_eq!(first.version(), second.version());
    assert_eq!(first.cardinal_rows().unwrap().provenance, vec![0, 1, 2, 3]);
    assert_eq!(first.dataset().unwrap().n_samples, 5);
}

const WRITER_ENV: &str = "ONEBENCH_STORE_CRASH_WRITER";
const ROW_SAMPLES: usize = 64;

/// The rows of batch `k`: its size and content depend on k, so that a torn batch or a
/// batch mixed with another cannot pass the check.
fn batch_for(k: usize) -> MeasurementBatch {
    let rows = 500 + (k * 7919) % 20_000;
    let samples: Vec<String> = (0..rows)
        .map(|row| format!("s{}", row % ROW_SAMPLES))
        .collect();
    let models: Vec<String> = (0..rows)
        .map(|row| format!("m{}", (row / ROW_SAMPLES) % 1000))
        .collect();
    let column = |values: &[String]| {
        let references: Vec<&str> = values.iter().map(String::as_str).collect();
        ids(&references)
    };
    let mut batch = MeasurementBatch {
        cardinal: vec![(
            CardinalBatch {
                samples: column(&samples),
                models: column(&models),
                values: vec![k as f64; rows],
            },
            Metric::NumericHigher,
        )],
        ..Default::default()
    };
    let comparisons = k % 5 + 1;
    let p0 = vec!["p0"; comparisons];
    batch.pairwise = pairwise(
        &p0,
        &vec!["m0"; comparisons],
        &vec!["m1"; comparisons],
        &vec![(k % 3) as u8; comparisons],
        None,
    )
    .pairwise;
    batch
}

fn expected_rows(k: usize) -> usize {
    500 + (k * 7919) % 20_000
}

/// The writer process: commits batches k, k+1, ... until killed, compacting now and then.
#[test]
fn crash_writer_process() {
    let Ok(directory) = std::env::var(WRITER_ENV) else {
        return; // Only runs when re-executed by the crash test.
    };
    let mut pool = Pool::open(Path::new(&directory)).unwrap();
    loop {
        let k = pool.provenances().len();
        pool.add_measurements(batch_for(k), provenance(&format!("batch-{k}")))
            .unwrap();
        if k % 6 == 5 {
            pool.compact().unwrap();
        }
    }
}

fn check_prefix_of_whole_batches(directory: &Path) -> usize {
    let pool = Pool::open(directory).unwrap();
    let n = pool.provenances().len();
    for (k, provenance) in pool.provenances().iter().enumerate() {
        assert_eq!(
            provenance.source,
            format!("batch-{k}"),
            "batches are not a prefix"
        );
    }
    let rows = pool.cardinal_rows().unwrap();
    let mut at = 0;
    for k in 0..n {
        let length = expected_rows(k);
        assert!(
            rows.provenance[at..at + length]
                .iter()
                .all(|p| *p as usize == k),
            "batch {k} torn"
        );
        assert!(
            rows.values[at..at + length]
                .iter()
                .all(|value| *value == k as f32),
            "batch {k} mixed"
        );
        for (offset, sample) in rows.samples[at..at + length].iter().enumerate() {
            assert_eq!(
                *sample as usize,
                pool.sample_index(&format!("s{}", offset % ROW_SAMPLES))
                    .unwrap() as usize
            );
        }
        at += length;
    }
    assert_eq!(at, rows.values.len(), "rows beyond the last whole batch");
    let pairwise = pool.pairwise_rows().unwrap();
    let expected: usize = (0..n).map(|k| k % 5 + 1).sum();
    assert_eq!(pairwise.outcome.len(), expected);
    let mut at = 0;
    for k in 0..n {
        for row in at..at + k % 5 + 1 {
            assert_eq!(
                (
                    pairwise.provenance[row] as usize,
                    pairwise.outcome[row] as usize
                ),
                (k, k % 3)
            );
        }
        at += k % 5 + 1;
    }
    n
}

#[test]
fn killed_writers_leave_a_prefix_of_whole_batches() {
    let root = tempfile::tempdir().unwrap();
    let directory = pool_dir(&root);
    let mut pool = Pool::create(&directory).unwrap();
    let mut samples: Vec<_> = (0..ROW_SAMPLES)
        .map(|i| sample(&format!("s{i}"), &format!("q{i}")))
        .collect();
    samples.push(sample("p0", "pairwise question"));
    pool.add_samples(samples).unwrap();
    pool.add_models((0..1000).map(|i| model(&format!("m{i}"), &[])).collect())
        .unwrap();
    drop(pool);
    let executable = std::env::current_exe().unwrap();
    let mut random = rand::rng();
    let started = Instant::now();
    let mut rounds = 0;
    let mut committed = 0;
    while rounds < 30 && started.elapsed() < Duration::from_secs(20) {
        let mut child = std::process::Command::new(&executable)
            .args([
                "crash_writer_process",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(WRITER_ENV, &directory)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(random.random_range(30..400)));
        let still_running = child.try_wait().unwrap().is_none();
        assert!(still_running, "the writer process died on its own");
        child.kill().unwrap(); // SIGKILL: no destructors, no cleanup.
        child.wait().unwrap();
        committed = check_prefix_of_whole_batches(&directory);
        rounds += 1;
    }
    eprintln!("{rounds} writers killed, {committed} whole batches committed");
    assert!(rounds >= 10, "only {rounds} rounds in the time allowed");
    assert!(
        committed > rounds / 2,
        "too few batches committed ({committed}) to test anything"
    );
}
