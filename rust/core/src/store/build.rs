//! From mapped segments to the columnar [`Dataset`] and to flat export rows.
//!
//! The segments are read in place through their memory maps, so building the dataset
//! costs only the CSR arrays it produces.

use super::manifest::Run;
use super::segment::{self, RankingView, Segment, CARDINAL_ROW, PAIRWISE_ROW};
use super::state::{Loaded, State};
use super::strata::sample_groups;
use super::{CardinalRows, Metric, PairwiseRows, RankingRows};
use crate::data::{build_cardinal, CardinalSource, Dataset, PairwiseCsr, RankingCsr, SampleKind};

/// The provenance of each row of a segment, expanded from its runs.
fn run_ranges(loaded: &Loaded) -> impl Iterator<Item = (std::ops::Range<usize>, &Run)> {
    let runs = &loaded.entry.runs;
    runs.iter().enumerate().map(move |(index, run)| {
        let end = runs
            .get(index + 1)
            .map_or(loaded.entry.rows, |next| next.start);
        (run.start as usize..end as usize, run)
    })
}

/// Rows read between releases of the pages behind them (12 MB of cardinal rows).
const RELEASE_ROWS: usize = 1 << 20;
const BLOCK_BYTES: usize = RELEASE_ROWS * CARDINAL_ROW;

/// The cardinal segments as blocks of [`RELEASE_ROWS`] rows in segment order. Each block's
/// pages are released once its rows are read, so a pass holds at most one block per reader
/// of the pool resident beside what it builds.
struct CardinalBlocks<'a> {
    blocks: Vec<(&'a Segment, usize)>,
    rows: usize,
}

impl<'a> CardinalBlocks<'a> {
    fn new(state: &'a State) -> Self {
        let mut blocks = Vec::new();
        let mut rows = 0;
        for loaded in &state.cardinal {
            let length = loaded.segment.payload().len();
            blocks.extend((0..length.div_ceil(BLOCK_BYTES)).map(|index| (&*loaded.segment, index)));
            rows += length / CARDINAL_ROW;
        }
        Self { blocks, rows }
    }
}

impl CardinalSource for CardinalBlocks<'_> {
    fn part_count(&self) -> usize {
        self.blocks.len()
    }

    fn row_count(&self) -> usize {
        self.rows
    }

    fn visit_part<V: FnMut(u32, u32, f32)>(&self, part: usize, mut visit: V) {
        let (segment, index) = self.blocks[part];
        let payload = segment.payload();
        let start = index * BLOCK_BYTES;
        let block = &payload[start..payload.len().min(start + BLOCK_BYTES)];
        for row in block.chunks_exact(CARDINAL_ROW) {
            let (sample, model, value) = segment::cardinal_row(row);
            visit(sample, model, value);
        }
        segment.release_payload(start, block.len());
    }
}

fn pairwise_iter(state: &State) -> impl Iterator<Item = (u32, u32, u32, u8, f32)> + '_ {
    state.pairwise.iter().flat_map(|loaded| {
        loaded
            .segment
            .payload()
            .chunks_exact(PAIRWISE_ROW)
            .map(segment::pairwise_row)
    })
}

/// Exclusive prefix sums of per-sample counts.
fn offsets_from_counts(counts: &[u64]) -> Vec<u64> {
    let mut offsets = Vec::with_capacity(counts.len() + 1);
    let mut total = 0u64;
    offsets.push(0);
    for count in counts {
        total += count;
        offsets.push(total);
    }
    offsets
}

pub fn dataset(state: &State) -> Dataset {
    let n_samples = state.samples.records.len();
    let n_models = state.models.records.len();
    let lower_is_better: Vec<bool> = state
        .metrics
        .iter()
        .map(|metric| *metric == Some(Metric::NumericLower))
        .collect();
    let cardinal = build_cardinal(n_samples, &CardinalBlocks::new(state), &lower_is_better);
    let (benchmarks, strata) = sample_groups(&state.samples.records);
    let dataset = Dataset {
        n_samples,
        n_models,
        cardinal,
        pairwise: pairwise_csr(state, n_samples),
        rankings: ranking_csr(state, n_samples),
        sample_kinds: (0..n_samples)
            .map(
                |sample| match state.metrics.get(sample).copied().flatten() {
                    Some(Metric::Binary) => SampleKind::Binary,
                    Some(Metric::NumericHigher) => SampleKind::NumericHigher,
                    Some(Metric::NumericLower) => SampleKind::NumericLower,
                    _ => SampleKind::Unknown,
                },
            )
            .collect(),
        benchmarks,
        strata,
    };
    // The dataset now holds every measurement; the segments' pages are not needed again.
    for loaded in state.measurement_segments() {
        loaded.segment.release_pages();
    }
    dataset
}

fn pairwise_csr(state: &State, n_samples: usize) -> PairwiseCsr {
    let mut counts = vec![0u64; n_samples];
    for (sample, ..) in pairwise_iter(state) {
        counts[sample as usize] += 1;
    }
    let offsets = offsets_from_counts(&counts);
    let total = offsets[n_samples] as usize;
    let mut cursor = offsets[..n_samples].to_vec();
    let (mut model_a, mut model_b, mut weight_a) =
        (vec![0u32; total], vec![0u32; total], vec![0f32; total]);
    for (sample, a, b, outcome, probability_b) in pairwise_iter(state) {
        let at = cursor[sample as usize] as usize;
        cursor[sample as usize] += 1;
        model_a[at] = a;
        model_b[at] = b;
        weight_a[at] = if probability_b.is_nan() {
            match outcome {
                0 => 1.0,
                1 => 0.0,
                _ => 0.5,
            }
        } else {
            1.0 - probability_b
        };
    }
    PairwiseCsr {
        offsets,
        model_a,
        model_b,
        weight_a,
    }
}

fn ranking_csr(state: &State, n_samples: usize) -> RankingCsr {
    let views: Vec<RankingView> = state
        .rankings
        .iter()
        .map(|loaded| RankingView::new(&loaded.segment))
        .collect();
    let mut counts = vec![0u64; n_samples];
    for view in &views {
        for ranking in 0..view.rows {
            counts[view.sample(ranking) as usize] += 1;
        }
    }
    let offsets = offsets_from_counts(&counts);
    let n_rankings = offsets[n_samples] as usize;
    // Slot of each ranking in sample order, then its length, then entry offsets.
    let mut cursor = offsets[..n_samples].to_vec();
    let mut lengths = vec![0u64; n_rankings];
    let mut placement = Vec::with_capacity(n_rankings);
    for (view_index, view) in views.iter().enumerate() {
        for ranking in 0..view.rows {
            let sample = view.sample(ranking) as usize;
            let slot = cursor[sample] as usize;
            cursor[sample] += 1;
            lengths[slot] = view.offset(ranking + 1) - view.offset(ranking);
            placement.push((slot, view_index, ranking));
        }
    }
    let ranking_offsets = offsets_from_counts(&lengths);
    let entries = ranking_offsets[n_rankings] as usize;
    let (mut models, mut groups) = (vec![0u32; entries], vec![0u32; entries]);
    for (slot, view_index, ranking) in placement {
        let view = &views[view_index];
        let source = view.offset(ranking) as usize..view.offset(ranking + 1) as usize;
        for (at, entry) in (ranking_offsets[slot] as usize..).zip(source) {
            models[at] = view.model(entry);
            groups[at] = view.position(entry);
        }
    }
    RankingCsr {
        offsets,
        ranking_offsets,
        models,
        groups,
    }
}

pub fn cardinal_rows(state: &State) -> CardinalRows {
    let total = state.n_cardinal() as usize;
    let mut rows = CardinalRows {
        samples: Vec::with_capacity(total),
        models: Vec::with_capacity(total),
        values: Vec::with_capacity(total),
        provenance: Vec::with_capacity(total),
    };
    for loaded in &state.cardinal {
        let payload = loaded.segment.payload();
        for (range, run) in run_ranges(loaded) {
            for row in payload[range.start * CARDINAL_ROW..range.end * CARDINAL_ROW]
                .chunks_exact(CARDINAL_ROW)
            {
                let (sample, model, value) = segment::cardinal_row(row);
                rows.samples.push(sample);
                rows.models.push(model);
                rows.values.push(value);
                rows.provenance.push(run.provenance);
            }
        }
    }
    rows
}

pub fn pairwise_rows(state: &State) -> PairwiseRows {
    let mut rows = PairwiseRows::default();
    for loaded in &state.pairwise {
        let payload = loaded.segment.payload();
        for (range, run) in run_ranges(loaded) {
            for row in payload[range.start * PAIRWISE_ROW..range.end * PAIRWISE_ROW]
                .chunks_exact(PAIRWISE_ROW)
            {
                let (sample, a, b, outcome, probability_b) = segment::pairwise_row(row);
                rows.samples.push(sample);
                rows.model_a.push(a);
                rows.model_b.push(b);
                rows.outcome.push(outcome);
                rows.probability_b.push(probability_b);
                rows.provenance.push(run.provenance);
            }
        }
    }
    rows
}

pub fn ranking_rows(state: &State) -> RankingRows {
    let mut rows = RankingRows {
        offsets: vec![0],
        ..Default::default()
    };
    for loaded in &state.rankings {
        let view = RankingView::new(&loaded.segment);
        for (range, run) in run_ranges(loaded) {
            for ranking in range {
                rows.samples.push(view.sample(ranking));
                rows.provenance.push(run.provenance);
                for entry in view.offset(ranking) as usize..view.offset(ranking + 1) as usize {
                    rows.models.push(view.model(entry));
                    rows.positions.push(view.position(entry));
                }
                rows.offsets.push(rows.models.len() as u64);
            }
        }
    }
    rows
}
