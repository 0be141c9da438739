//! Ingest and open speed at scale. Ignored by default (it writes ~600 MB); run with
//! `cargo test --release -p onebench-core --test store_performance -- --ignored --nocapture`.
//! `ONEBENCH_PERF_ROWS` sets the number of cardinal rows (default 50M).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod store_common;

use std::time::Instant;

use onebench_core::store::{CardinalBatch, IdColumn, MeasurementBatch, Metric, Pool};
use store_common::*;

fn resident_megabytes() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kilobytes| kilobytes.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Anonymous memory only: the mapped segment pages are file-backed cache, not heap.
    field("RssAnon:") / 1024.0
}

#[test]
#[ignore]
fn ingest_and_open_fifty_million_cardinal_rows() {
    let rows: usize = std::env::var("ONEBENCH_PERF_ROWS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(50_000_000);
    let n_samples = 500_000usize;
    let n_models = rows.div_ceil(n_samples);
    let root = tempfile::tempdir().unwrap();
    let directory = pool_dir(&root);
    let mut pool = Pool::create(&directory).unwrap();
    pool.add_samples(
        (0..n_samples)
            .map(|i| sample(&format!("s{i}"), &format!("question {i}")))
            .collect(),
    )
    .unwrap();
    pool.add_models(
        (0..n_models)
            .map(|i| model(&format!("m{i}"), &[]))
            .collect(),
    )
    .unwrap();
    // Every (sample, model) once, samples scattered within each model's block.
    let batch = MeasurementBatch {
        cardinal: vec![(
            CardinalBatch {
                samples: IdColumn {
                    dictionary: (0..n_samples).map(|i| format!("s{i}")).collect(),
                    codes: (0..rows)
                        .map(|i| ((i as u64 * 7919) % n_samples as u64) as u32)
                        .collect(),
                },
                models: IdColumn {
                    dictionary: (0..n_models).map(|i| format!("m{i}")).collect(),
                    codes: (0..rows).map(|i| (i / n_samples) as u32).collect(),
                },
                values: (0..rows).map(|i| (i % 1000) as f64 / 1000.0).collect(),
            },
            Metric::NumericHigher,
        )],
        ..Default::default()
    };
    let started = Instant::now();
    let report = pool.add_measurements(batch, provenance("perf")).unwrap();
    let ingest = started.elapsed().as_secs_f64();
    assert_eq!(report.added, rows as u64);
    let bytes = pool.stats().bytes_on_disk;
    drop(pool);
    let baseline = resident_megabytes();
    let started = Instant::now();
    let mut pool = Pool::open(&directory).unwrap();
    let open = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let entries = pool.dataset().unwrap().cardinal.models.len();
    let build = started.elapsed().as_secs_f64();
    let resident = resident_megabytes() - baseline;
    assert_eq!(entries, rows);
    let cardinal_segment: u64 = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_name().to_string_lossy().contains("cardinal"))
        .map(|entry| entry.metadata().unwrap().len())
        .sum();
    eprintln!(
        "{rows} rows: ingest {ingest:.2} s ({:.1} M rows/s); open {open:.2} s; dataset {build:.2} s; \
         cardinal segment {:.2} bytes/row; pool {bytes} bytes; heap after open+dataset {resident:.0} MB \
         ({:.1} bytes/row)",
        rows as f64 / ingest / 1e6,
        cardinal_segment as f64 / rows as f64,
        resident * 1024.0 * 1024.0 / rows as f64,
    );
    assert!(cardinal_segment as f64 / rows as f64 <= 12.01);
}
