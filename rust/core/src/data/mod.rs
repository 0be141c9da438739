//! The columnar, in-memory form of a pool's measurements that the solvers read.
//!
//! Every kind is held in CSR layout by sample, so that a subset of samples (a custom
//! benchmark) is ranked by walking its rows without copying, and a bootstrap replicate
//! is a weight per sample rather than a resampled copy.

mod cardinal;

pub use cardinal::{build_cardinal, CardinalSource};

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
