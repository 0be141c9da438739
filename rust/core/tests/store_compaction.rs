//! Compaction merges segments and changes no data, provenance or metric.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod store_common;

use onebench_core::store::{Metric, Pool};
use store_common::*;

/// Everything a reader can observe, in comparable form.
fn snapshot(pool: &mut Pool) -> String {
    let cardinal = pool.cardinal_rows().unwrap();
    let pairwise = pool.pairwise_rows().unwrap();
    let rankings = pool.ranking_rows().unwrap();
    let dataset = pool.dataset().unwrap().clone();
    format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        pool.samples(),
        pool.models(),
        pool.provenances(),
        pool.sample_metrics(),
        (
            cardinal.samples,
            cardinal.models,
            cardinal.values,
            cardinal.provenance
        ),
        (
            pairwise.samples,
            pairwise.model_a,
            pairwise.model_b,
            pairwise.outcome,
            pairwise.provenance
        ),
        pairwise
            .probability_b
            .iter()
            .map(|p| p.to_bits())
            .collect::<Vec<_>>(),
        (
            rankings.samples,
            rankings.offsets,
            rankings.models,
            rankings.positions,
            rankings.provenance
        ),
        dataset.cardinal,
        dataset.pairwise,
        dataset.rankings,
        (dataset.n_samples, dataset.n_models),
        pool.model_index("first"),
    )
}

fn busy_pool(directory: &std::path::Path) -> Pool {
    let mut pool = pool_with(directory, 8, 4);
    pool.add_models(vec![model("m1", &["one"])]).unwrap();
    pool.add_samples(vec![sample("s8", "Eight?")]).unwrap();
    for k in 0..3u32 {
        let value = f64::from(k);
        pool.add_measurements(
            cardinal(
                &["s0", "s1"],
                &["m0", "m1"],
                &[value, 1.0 - value.min(1.0)],
                Metric::NumericHigher,
            ),
            provenance(&format!("cardinal-{k}")),
        )
        .unwrap();
        pool.add_measurements(
            pairwise(
                &["s2", "s3"],
                &["m0", "m2"],
                &["m1", "one"],
                &[k as u8 % 3, 2],
                Some(&[f64::NAN, 0.25]),
            ),
            provenance(&format!("pairwise-{k}")),
        )
        .unwrap();
        pool.add_measurements(
            rankings(
                &["s4", "s5"],
                &[&[("m0", 0), ("m1", k)], &[("m3", 0), ("m2", 0), ("m1", 1)]],
            ),
            provenance(&format!("rankings-{k}")),
        )
        .unwrap();
    }
    pool.add_measurements(
        cardinal(&["s6"], &["m3"], &[1.0], Metric::Binary),
        provenance("binary"),
    )
    .unwrap();
    pool
}

#[test]
fn compaction_preserves_data_and_provenance() {
    let root = tempfile::tempdir().unwrap();
    let directory = pool_dir(&root);
    let mut pool = busy_pool(&directory);
    let before = snapshot(&mut pool);
    let segments = pool.stats().n_segments;
    let version = pool.version();
    let removed = pool.compact().unwrap();
    assert_eq!(pool.stats().n_segments, 6);
    assert_eq!(removed, segments - 6);
    assert_eq!(pool.version(), version + 1);
    assert_eq!(snapshot(&mut pool), before);
    let files = listing(&directory)
        .into_iter()
        .filter(|name| name.ends_with(".seg"))
        .count();
    assert_eq!(files, 6, "replaced segments are deleted");
    let mut reopened = Pool::open(&directory).unwrap();
    assert_eq!(snapshot(&mut reopened), before);
    assert_eq!(reopened.compact().unwrap(), 0, "nothing left to merge");
    // Provenance runs survive: rows of each batch still point at their batch.
    let cardinal = reopened.cardinal_rows().unwrap();
    let sources: Vec<&str> = cardinal
        .provenance
        .iter()
        .map(|p| reopened.provenances()[*p as usize].source.as_str())
        .collect();
    assert_eq!(
        sources,
        [
            "cardinal-0",
            "cardinal-0",
            "cardinal-1",
            "cardinal-1",
            "cardinal-2",
            "cardinal-2",
            "binary"
        ]
    );
}

#[test]
fn commits_after_compaction_and_stale_readers_still_work() {
    let root = tempfile::tempdir().unwrap();
    let directory = pool_dir(&root);
    let mut writer = busy_pool(&directory);
    let mut reader = Pool::open(&directory).unwrap();
    let before = snapshot(&mut reader);
    writer.compact().unwrap();
    // The reader's mapped files were deleted, but its view stays valid.
    assert_eq!(reader.cardinal_rows().unwrap().values.len(), 7);
    assert!(reader.refresh().unwrap());
    assert_eq!(snapshot(&mut reader), before);
    writer
        .add_measurements(
            cardinal(&["s7"], &["one"], &[0.5], Metric::NumericLower),
            provenance("after"),
        )
        .unwrap();
    reader.refresh().unwrap();
    assert_eq!(reader.stats().n_cardinal, 8);
    assert_eq!(reader.sample_metrics()[7], Some(Metric::NumericLower));
    assert_eq!(
        reader.cardinal_rows().unwrap().provenance.last(),
        Some(&(reader.provenances().len() as u32 - 1))
    );
}
