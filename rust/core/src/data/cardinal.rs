//! Building the cardinal CSR from rows that can be read in independent parts.
//!
//! Two passes over the rows (count, then scatter), so peak memory is the output plus one
//! count per sample for each reader. Contiguous groups of parts are read in parallel, and
//! each group scatters into slots of each sample reserved for it in part order, so the
//! result is the same for any number of threads.

use std::ops::Range;
use std::sync::atomic::{AtomicU32, Ordering};

use rayon::prelude::*;

use super::CardinalCsr;

/// Rows `(sample, model, value)` readable in parts. Reading a part twice must give the
/// same rows in the same order.
pub trait CardinalSource: Sync {
    /// The number of parts.
    fn part_count(&self) -> usize;
    /// The number of rows over all parts.
    fn row_count(&self) -> usize;
    /// Calls `visit` for each row of part `part`, in order.
    fn visit_part<V: FnMut(u32, u32, f32)>(&self, part: usize, visit: V);
}

/// Rows held in memory, one slice a part (the unit tests' source).
#[cfg(test)]
impl CardinalSource for [&[(u32, u32, f32)]] {
    fn part_count(&self) -> usize {
        self.len()
    }

    fn row_count(&self) -> usize {
        self.iter().map(|part| part.len()).sum()
    }

    fn visit_part<V: FnMut(u32, u32, f32)>(&self, part: usize, mut visit: V) {
        for &(sample, model, value) in self[part] {
            visit(sample, model, value);
        }
    }
}

/// Builds a [`CardinalCsr`] from unordered rows. `lower_is_better[s]` orders sample `s`
/// ascending. Repeated (sample, model) cells are averaged.
pub fn build_cardinal<S: CardinalSource + ?Sized>(
    n_samples: usize,
    source: &S,
    lower_is_better: &[bool],
) -> CardinalCsr {
    let groups = part_groups(source, n_samples, rayon::current_num_threads());
    let mut cursors: Vec<Vec<u64>> = groups
        .par_iter()
        .map(|parts| {
            let mut count = vec![0u64; n_samples];
            for part in parts.clone() {
                source.visit_part(part, |sample, _, _| count[sample as usize] += 1);
            }
            count
        })
        .collect();
    // Each group's count of a sample becomes the first slot it writes for that sample.
    let mut offsets = Vec::with_capacity(n_samples + 1);
    offsets.push(0u64);
    let mut total = 0u64;
    for sample in 0..n_samples {
        for cursor in cursors.iter_mut() {
            let rows = cursor[sample];
            cursor[sample] = total;
            total += rows;
        }
        offsets.push(total);
    }
    let total = total as usize;
    // Atomics let the groups write their disjoint slots of one array without unsafe code;
    // relaxed stores are plain stores, and rayon's join publishes them to this thread.
    let models: Vec<AtomicU32> = (0..total).map(|_| AtomicU32::new(0)).collect();
    let values: Vec<AtomicU32> = (0..total).map(|_| AtomicU32::new(0)).collect();
    groups
        .par_iter()
        .zip(cursors.par_iter_mut())
        .for_each(|(parts, cursor)| {
            for part in parts.clone() {
                source.visit_part(part, |sample, model, value| {
                    let slot = &mut cursor[sample as usize];
                    models[*slot as usize].store(model, Ordering::Relaxed);
                    values[*slot as usize].store(value.to_bits(), Ordering::Relaxed);
                    *slot += 1;
                });
            }
        });
    drop(cursors);
    let mut models: Vec<u32> = models.into_iter().map(AtomicU32::into_inner).collect();
    let mut values: Vec<f32> = values
        .into_iter()
        .map(|bits| f32::from_bits(bits.into_inner()))
        .collect();
    let lengths = sort_and_merge_rows(&offsets, &mut models, &mut values, lower_is_better);
    compact_rows(offsets, lengths, models, values)
}

/// Contiguous ranges of parts, one per reader: as many readers as threads and parts allow,
/// but only as many as the rows justify, since each keeps a count per sample (together at
/// most a quarter of the output's eight bytes a row).
fn part_groups<S: CardinalSource + ?Sized>(
    source: &S,
    n_samples: usize,
    threads: usize,
) -> Vec<Range<usize>> {
    let parts = source.part_count();
    let justified = source.row_count() / (4 * n_samples.max(1));
    let readers = threads.min(parts).min(justified).max(1);
    (0..readers)
        .map(|reader| reader * parts / readers..(reader + 1) * parts / readers)
        .collect()
}

/// Sorts each sample's rows best first and averages repeated models in place; returns
/// the number of rows each sample keeps (a prefix of its range).
fn sort_and_merge_rows(
    offsets: &[u64],
    models: &mut [u32],
    values: &mut [f32],
    lower_is_better: &[bool],
) -> Vec<u64> {
    let mut pieces: Vec<(usize, &mut [u32], &mut [f32])> = Vec::with_capacity(offsets.len());
    let (mut rest_models, mut rest_values) = (models, values);
    for s in 0..offsets.len() - 1 {
        let len = (offsets[s + 1] - offsets[s]) as usize;
        let (head_models, tail_models) = rest_models.split_at_mut(len);
        let (head_values, tail_values) = rest_values.split_at_mut(len);
        pieces.push((s, head_models, head_values));
        rest_models = tail_models;
        rest_values = tail_values;
    }
    pieces
        .into_par_iter()
        .map_init(Vec::new, |pairs, (sample, models, values)| {
            let lower = lower_is_better.get(sample).copied().unwrap_or(false);
            merge_sample(models, values, lower, pairs) as u64
        })
        .collect()
}

/// `pairs` is scratch space, kept between samples so that a sample costs no allocation.
fn merge_sample(
    models: &mut [u32],
    values: &mut [f32],
    lower_is_better: bool,
    pairs: &mut Vec<(u32, f32)>,
) -> usize {
    pairs.clear();
    pairs.extend(models.iter().copied().zip(values.iter().copied()));
    pairs.sort_unstable_by_key(|pair| pair.0);
    // Average repeated measurements of one model on this sample.
    let mut kept = 0;
    let mut index = 0;
    while index < pairs.len() {
        let model = pairs[index].0;
        let (mut sum, mut count) = (0f64, 0usize);
        while index < pairs.len() && pairs[index].0 == model {
            sum += f64::from(pairs[index].1);
            count += 1;
            index += 1;
        }
        pairs[kept] = (model, (sum / count as f64) as f32);
        kept += 1;
    }
    pairs.truncate(kept);
    // Models are unique now, so breaking ties by model gives the order a stable sort of
    // the model-sorted pairs would, without its scratch buffer.
    if lower_is_better {
        pairs.sort_unstable_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    } else {
        pairs.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    }
    for (slot, (model, value)) in pairs.iter().enumerate() {
        models[slot] = *model;
        values[slot] = *value;
    }
    kept
}

fn compact_rows(
    offsets: Vec<u64>,
    lengths: Vec<u64>,
    mut models: Vec<u32>,
    mut values: Vec<f32>,
) -> CardinalCsr {
    let mut new_offsets = Vec::with_capacity(offsets.len());
    new_offsets.push(0u64);
    let mut write = 0usize;
    for (s, length) in lengths.iter().enumerate() {
        let read = offsets[s] as usize;
        let length = *length as usize;
        if read != write {
            models.copy_within(read..read + length, write);
            values.copy_within(read..read + length, write);
        }
        write += length;
        new_offsets.push(write as u64);
    }
    models.truncate(write);
    values.truncate(write);
    models.shrink_to_fit();
    values.shrink_to_fit();
    CardinalCsr {
        offsets: new_offsets,
        models,
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROWS: [(u32, u32, f32); 6] = [
        (1, 0, 0.0),
        (0, 1, 1.0),
        (0, 0, 0.0),
        (1, 1, 3.0),
        (1, 0, 1.0),
        (1, 2, 2.0),
    ];

    #[test]
    fn build_cardinal_orders_best_first_and_averages_repeats() {
        let parts: [&[(u32, u32, f32)]; 1] = [&ROWS];
        let csr = build_cardinal(3, &parts[..], &[false, true, false]);
        assert_eq!(csr.offsets, vec![0, 2, 5, 5]);
        assert_eq!(&csr.models[0..2], &[1, 0]);
        // Sample 1 is lower-is-better: model 0 averages 0.5 and comes first.
        assert_eq!(&csr.models[2..5], &[0, 2, 1]);
        assert_eq!(&csr.values[2..5], &[0.5, 2.0, 3.0]);
    }

    #[test]
    fn parts_read_in_parallel_give_what_one_reader_gives() -> Result<(), rayon::ThreadPoolBuildError>
    {
        // 40,000 rows over 50 samples with repeats and ties, in 7 parts of unequal size.
        let rows: Vec<(u32, u32, f32)> = (0..40_000u32)
            .map(|row| {
                let mixed = row.wrapping_mul(2_654_435_761);
                (
                    mixed % 50,
                    (mixed >> 8) % 300,
                    ((mixed >> 20) % 4) as f32 * 0.25,
                )
            })
            .collect();
        let cuts = [0, 3_000, 3_001, 9_000, 20_000, 20_000, 33_333, 40_000];
        let parts: Vec<&[(u32, u32, f32)]> = cuts.windows(2).map(|w| &rows[w[0]..w[1]]).collect();
        assert_eq!(part_groups(&parts[..], 50, 4).len(), 4);
        let lower: Vec<bool> = (0..50).map(|sample| sample % 3 == 0).collect();
        let whole: [&[(u32, u32, f32)]; 1] = [&rows];
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()?
            .install(|| build_cardinal(50, &whole[..], &lower));
        let four = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()?
            .install(|| build_cardinal(50, &parts[..], &lower));
        assert_eq!(one.offsets, four.offsets);
        assert_eq!(one.models, four.models);
        assert_eq!(one.values, four.values);
        // One entry per distinct cell, holding the mean of its rows.
        let mut cells: std::collections::BTreeMap<(u32, u32), (f64, f64)> = Default::default();
        for &(sample, model, value) in &rows {
            let cell = cells.entry((sample, model)).or_default();
            *cell = (cell.0 + f64::from(value), cell.1 + 1.0);
        }
        assert_eq!(four.models.len(), cells.len());
        for sample in 0..50usize {
            let range = four.offsets[sample] as usize..four.offsets[sample + 1] as usize;
            for (model, value) in four.models[range.clone()].iter().zip(&four.values[range]) {
                let (sum, count) = cells[&(sample as u32, *model)];
                assert_eq!(*value, (sum / count) as f32);
            }
        }
        Ok(())
    }
}
