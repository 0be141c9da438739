//! The data the form selection scores on: the selection's samples (or a seeded share of
//! them, [`BUDGET`] measurements), copied into a compact dataset, and its K folds over
//! measurements. A measurement's fold is a hash of its sample's position in the selection
//! and its place in the sample, so the folds are the same for every form, process and
//! run, and a subset folds as the same samples copied out into a dataset of their own.

use super::super::lists::Selection;
use crate::data::{CardinalCsr, Dataset, PairwiseCsr, RankingCsr};

/// Folds of the cross-validation.
pub(crate) const FOLDS: usize = 5;

/// Most measurements the selection is scored on: beyond, a share of the samples (whole)
/// is drawn, so that the selection costs about as much as a fit of this many
/// measurements whatever the pool's size.
pub(crate) const BUDGET: usize = 20_000;

/// A 64-bit mix (splitmix64's finaliser; Steele, Lea & Flood 2014).
fn mix(mut value: u64) -> u64 {
    value = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    value ^ (value >> 31)
}

/// The fold of the `place`-th measurement of a sample (cardinal entries first, then
/// rankings, then comparisons) at selection position `key`.
pub(crate) fn fold_of(key: u32, place: usize) -> usize {
    (mix(mix(u64::from(key)) ^ place as u64) % FOLDS as u64) as usize
}

/// The scored samples: dataset sample indexes and their selection positions (the keys
/// of their folds).
pub(crate) struct Scored {
    pub samples: Vec<u32>,
    pub keys: Vec<u32>,
}

/// The measurements of one dataset sample.
fn measurements_of(data: &Dataset, sample: usize) -> usize {
    let count = |offsets: &[u64]| -> usize {
        if sample + 1 < offsets.len() {
            (offsets[sample + 1] - offsets[sample]) as usize
        } else {
            0
        }
    };
    count(&data.cardinal.offsets) + count(&data.rankings.offsets) + count(&data.pairwise.offsets)
}

/// The samples the selection is scored on (all of `selection`'s when they hold at most
/// [`BUDGET`] measurements).
pub(crate) fn scored_samples(selection: &Selection) -> Scored {
    let data = selection.data;
    let measured: Vec<u32> = (0..selection.len() as u32)
        .filter(|&position| measurements_of(data, selection.sample(position as usize)) > 0)
        .collect();
    let total: usize = measured
        .iter()
        .map(|&position| measurements_of(data, selection.sample(position as usize)))
        .sum();
    let keys: Vec<u32> = if total <= BUDGET {
        measured
    } else {
        let threshold = (BUDGET as f64 / total as f64 * u64::MAX as f64) as u64;
        measured
            .into_iter()
            .filter(|&position| mix(u64::from(position) ^ 0x5EED) <= threshold)
            .collect()
    };
    Scored {
        samples: keys
            .iter()
            .map(|&position| selection.sample(position as usize) as u32)
            .collect(),
        keys,
    }
}

/// The scored samples copied into a compact dataset (sample i of it is
/// `scored.samples[i]`), keeping the measurements `keep(key, place)` accepts.
pub(crate) fn compact<K: Fn(u32, usize) -> bool>(
    data: &Dataset,
    scored: &Scored,
    keep: K,
) -> Dataset {
    let samples = &scored.samples;
    let n = samples.len();
    let mut cardinal = CardinalCsr {
        offsets: Vec::with_capacity(n + 1),
        ..Default::default()
    };
    let mut rankings = RankingCsr {
        offsets: Vec::with_capacity(n + 1),
        ranking_offsets: vec![0],
        ..Default::default()
    };
    let mut pairwise = PairwiseCsr {
        offsets: Vec::with_capacity(n + 1),
        ..Default::default()
    };
    cardinal.offsets.push(0);
    rankings.offsets.push(0);
    pairwise.offsets.push(0);
    for (&sample, &key) in samples.iter().zip(&scored.keys) {
        let index = sample as usize;
        let mut place = 0;
        if index + 1 < data.cardinal.offsets.len() {
            for entry in data.cardinal.range(index) {
                if keep(key, place) {
                    cardinal.models.push(data.cardinal.models[entry]);
                    cardinal.values.push(data.cardinal.values[entry]);
                }
                place += 1;
            }
        }
        if index + 1 < data.rankings.offsets.len() {
            for ranking in data.rankings.range(index) {
                if keep(key, place) {
                    let entries = data.rankings.entries(ranking);
                    rankings
                        .models
                        .extend_from_slice(&data.rankings.models[entries.clone()]);
                    rankings
                        .groups
                        .extend_from_slice(&data.rankings.groups[entries]);
                    rankings.ranking_offsets.push(rankings.models.len() as u64);
                }
                place += 1;
            }
        }
        if index + 1 < data.pairwise.offsets.len() {
            for comparison in data.pairwise.range(index) {
                if keep(key, place) {
                    pairwise.model_a.push(data.pairwise.model_a[comparison]);
                    pairwise.model_b.push(data.pairwise.model_b[comparison]);
                    pairwise.weight_a.push(data.pairwise.weight_a[comparison]);
                }
                place += 1;
            }
        }
        cardinal.offsets.push(cardinal.models.len() as u64);
        rankings
            .offsets
            .push(rankings.ranking_offsets.len() as u64 - 1);
        pairwise.offsets.push(pairwise.model_a.len() as u64);
    }
    let by_sample = |values: &[u32]| -> Vec<u32> {
        if values.is_empty() {
            Vec::new()
        } else {
            samples.iter().map(|&s| values[s as usize]).collect()
        }
    };
    Dataset {
        n_samples: n,
        n_models: data.n_models,
        cardinal,
        pairwise,
        rankings,
        sample_kinds: if data.sample_kinds.is_empty() {
            Vec::new()
        } else {
            samples
                .iter()
                .map(|&s| data.sample_kinds[s as usize])
                .collect()
        },
        benchmarks: by_sample(&data.benchmarks),
        strata: by_sample(&data.strata),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_split_every_measurement_once() {
        let mut data = Dataset::empty(3, 4);
        data.cardinal = CardinalCsr {
            offsets: vec![0, 4, 6, 9],
            models: vec![0, 1, 2, 3, 0, 2, 1, 2, 3],
            values: vec![1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0],
        };
        let samples = Scored {
            samples: vec![0, 2],
            keys: vec![0, 1],
        };
        let all = compact(&data, &samples, |_, _| true);
        assert_eq!(all.n_samples, 2);
        assert_eq!(all.cardinal.models, vec![0, 1, 2, 3, 1, 2, 3]);
        let mut total = 0;
        for fold in 0..FOLDS {
            let held = compact(&data, &samples, |s, p| fold_of(s, p) == fold);
            let kept = compact(&data, &samples, |s, p| fold_of(s, p) != fold);
            assert_eq!(held.n_measurements() + kept.n_measurements(), 7);
            total += held.n_measurements();
        }
        assert_eq!(total, 7);
    }
}
