//! The columnar, in-memory form of a pool's measurements that the solvers read.
//!
//! Every kind is held in CSR layout by sample, so that a subset of samples (a custom
//! benchmark) is ranked by walking its rows without copying, and a bootstrap replicate
//! is a weight per sample rather than a resampled copy.

/// Binary and numeric measurements, by sample.
///
/// The entries of sample `s` are `offsets[s]..offsets[s + 1]`, ordered best first
/// (by value, descending for higher-is-better samples and ascending for lower-is-better
/// ones). Adjacent entries with equal `values` are tied. Binary measurements are values
/// 0 and 1 of a higher-is-better sample. Each (sample, model) appears at most once:
/// repeated measurements of a cell are averaged when the dataset is built.
#[derive(Debug, Clone, Default)]
pub struct CardinalCsr {
    pub offsets: Vec<u64>,
    pub models: Vec<u32>,
    pub values: Vec<f32>,
}

/// Pairwise comparisons, by sample. `weight_a` is the credit of `model_a`
/// (1 = a preferred, 0 = b preferred, 0.5 = tie, or a judge's probability);
/// `model_b` gets `1 - weight_a`.
#[derive(Debug, Clone, Default)]
pub struct PairwiseCsr {
    pub offsets: Vec<u64>,
    pub model_a: Vec<u32>,
    pub model_b: Vec<u32>,
    pub weight_a: Vec<f32>,
}

/// Rankings with ties, by sample. Sample `s` owns rankings
/// `offsets[s]..offsets[s + 1]`; ranking `r` owns entries
/// `ranking_offsets[r]..ranking_offsets[r + 1]`, ordered best first; `groups`
/// is non-decreasing within a ranking and equal for tied models.
#[derive(Debug, Clone, Default)]
pub struct RankingCsr {
    pub offsets: Vec<u64>,
    pub ranking_offsets: Vec<u64>,
    pub models: Vec<u32>,
    pub groups: Vec<u32>,
}

/// How the cardinal values of a sample are read (from the store's metric).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SampleKind {
    /// Not known: a model reads it from the values (all 0 or 1 = binary).
    #[default]
    Unknown,
    /// Correct (1) or wrong (0).
    Binary,
    /// A score where higher is better.
    NumericHigher,
    /// A score where lower is better.
    NumericLower,
}

/// All measurements of a pool, indexed by dense sample and model indexes.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub n_samples: usize,
    pub n_models: usize,
    pub cardinal: CardinalCsr,
    pub pairwise: PairwiseCsr,
    pub rankings: RankingCsr,
    /// Per sample, how its cardinal values are read; empty when unknown.
    pub sample_kinds: Vec<SampleKind>,
    /// Per sample, the dense index of its benchmark; empty when all share one.
    pub benchmarks: Vec<u32>,
    /// Per sample, the dense index of its stratum: its benchmark refined by the sample's
    /// `category`, `subject` and `difficulty` metadata (samples that a benchmark itself
    /// declares to differ). Empty when the strata are the benchmarks.
    pub strata: Vec<u32>,
}

impl CardinalCsr {
    /// The entry range of sample `s`.
    #[inline]
    pub fn range(&self, sample: usize) -> std::ops::Range<usize> {
        self.offsets[sample] as usize..self.offsets[sample + 1] as usize
    }
}

impl PairwiseCsr {
    /// The comparison range of sample `s`.
    #[inline]
    pub fn range(&self, sample: usize) -> std::ops::Range<usize> {
        self.offsets[sample] as usize..self.offsets[sample + 1] as usize
    }
}

impl RankingCsr {
    /// The ranking range of sample `s`.
    #[inline]
    pub fn range(&self, sample: usize) -> std::ops::Range<usize> {
        self.offsets[sample] as usize..self.offsets[sample + 1] as usize
    }

    /// The entry range of ranking `r`.
    #[inline]
    pub fn entries(&self, ranking: usize) -> std::ops::Range<usize> {
        self.ranking_offsets[ranking] as usize..self.ranking_offsets[ranking + 1] as usize
    }
}

impl Dataset {
    /// An empty dataset over `n_samples` samples and `n_models` models.
    pub fn empty(n_samples: usize, n_models: usize) -> Self {
        let zeros = vec![0u64; n_samples + 1];
        Dataset {
            n_samples,
            n_models,
            cardinal: CardinalCsr {
                offsets: zeros.clone(),
                ..Default::default()
            },
            pairwise: PairwiseCsr {
                offsets: zeros.clone(),
                ..Default::default()
            },
            rankings: RankingCsr {
                offsets: zeros,
                ranking_offsets: vec![0],
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// The kind of sample `s` (unknown when the dataset does not say).
    #[inline]
    pub fn sample_kind(&self, sample: usize) -> SampleKind {
        self.sample_kinds.get(sample).copied().unwrap_or_default()
    }

    /// The benchmark index of sample `s` (0 when the dataset does not say).
    #[inline]
    pub fn benchmark(&self, sample: usize) -> u32 {
        self.benchmarks.get(sample).copied().unwrap_or(0)
    }

    /// The stratum index of sample `s` (its benchmark when the dataset does not say).
    #[inline]
    pub fn stratum(&self, sample: usize) -> u32 {
        match self.strata.get(sample) {
            Some(&stratum) => stratum,
            None => self.benchmark(sample),
        }
    }

    /// Total number of measurements (cardinal entries, comparisons and rankings).
    pub fn n_measurements(&self) -> usize {
        self.cardinal.models.len()
            + self.pairwise.model_a.len()
            + self.rankings.ranking_offsets.len().saturating_sub(1)
    }
}

/// Builds a [`CardinalCsr`] from unordered `(sample, model, value)` rows in two passes
/// (count, then scatter), so that peak memory is the output plus the caller's rows.
///
/// `rows` is called twice and must yield the same rows both times. `lower_is_better[s]`
/// orders sample `s` ascending. Repeated (sample, model) cells are averaged.
pub fn build_cardinal<I, F>(n_samples: usize, rows: F, lower_is_better: &[bool]) -> CardinalCsr
where
    F: Fn() -> I,
    I: Iterator<Item = (u32, u32, f32)>,
{
    let mut offsets = vec![0u64; n_samples + 1];
    for (sample, _, _) in rows() {
        offsets[sample as usize + 1] += 1;
    }
    for s in 0..n_samples {
        offsets[s + 1] += offsets[s];
    }
    let total = offsets[n_samples] as usize;
    let mut models = vec![0u32; total];
    let mut values = vec![0f32; total];
    let mut cursor: Vec<u64> = offsets[..n_samples].to_vec();
    for (sample, model, value) in rows() {
        let at = cursor[sample as usize] as usize;
        models[at] = model;
        values[at] = value;
        cursor[sample as usize] += 1;
    }
    drop(cursor);
    let lengths = sort_and_merge_rows(&offsets, &mut models, &mut values, lower_is_better);
    compact_rows(offsets, lengths, models, values)
}

/// Sorts each sample's rows best first and averages repeated models in place; returns
/// the number of rows each sample keeps (a prefix of its range).
fn sort_and_merge_rows(
    offsets: &[u64],
    models: &mut [u32],
    values: &mut [f32],
    lower_is_better: &[bool],
) -> Vec<u64> {
    use rayon::prelude::*;
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
        .map(|(sample, models, values)| {
            let lower = lower_is_better.get(sample).copied().unwrap_or(false);
            merge_sample(models, values, lower) as u64
        })
        .collect()
}

fn merge_sample(models: &mut [u32], values: &mut [f32], lower_is_better: bool) -> usize {
    let mut pairs: Vec<(u32, f32)> = models.iter().copied().zip(values.iter().copied()).collect();
    pairs.sort_unstable_by_key(|pair| pair.0);
    // Average repeated measurements of one model on this sample.
    let mut merged: Vec<(u32, f32)> = Vec::with_capacity(pairs.len());
    let mut index = 0;
    while index < pairs.len() {
        let model = pairs[index].0;
        let (mut sum, mut count) = (0f64, 0usize);
        while index < pairs.len() && pairs[index].0 == model {
            sum += f64::from(pairs[index].1);
            count += 1;
            index += 1;
        }
        merged.push((model, (sum / count as f64) as f32));
    }
    if lower_is_better {
        merged.sort_by(|a, b| a.1.total_cmp(&b.1));
    } else {
        merged.sort_by(|a, b| b.1.total_cmp(&a.1));
    }
    for (slot, (model, value)) in merged.iter().enumerate() {
        models[slot] = *model;
        values[slot] = *value;
    }
    merged.len()
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

    #[test]
    fn build_cardinal_orders_best_first_and_averages_repeats() {
        let rows = [
            (1u32, 0u32, 0.0f32),
            (0, 1, 1.0),
            (0, 0, 0.0),
            (1, 1, 3.0),
            (1, 0, 1.0),
            (1, 2, 2.0),
        ];
        let csr = build_cardinal(3, || rows.iter().copied(), &[false, true, false]);
        assert_eq!(csr.offsets, vec![0, 2, 5, 5]);
        assert_eq!(&csr.models[0..2], &[1, 0]);
        // Sample 1 is lower-is-better: model 0 averages 0.5 and comes first.
        assert_eq!(&csr.models[2..5], &[0, 2, 1]);
        assert_eq!(&csr.values[2..5], &[0.5, 2.0, 3.0]);
    }
}
